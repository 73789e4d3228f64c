/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/sw_log.h"

RTE_LOG_REGISTER(sw_logtype_dp, sipwake.dataplane, INFO);
RTE_LOG_REGISTER(sw_logtype_cp, sipwake.controlplane, INFO);
RTE_LOG_REGISTER(sw_logtype_pd, sipwake.pushd, INFO);
RTE_LOG_REGISTER(sw_logtype_main, sipwake.main, INFO);

void sw_log_set_level(int level)
{
	rte_log_set_level_pattern("sipwake.*", (uint32_t)level);
}
