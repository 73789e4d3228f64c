/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwake's DPDK log types (sipwake.dataplane, .controlplane, .pushd,
 * .main) and the config's log.level, which never lowers a level the
 * operator set on the command line.
 */
#include <stdbool.h>

#include "common/sw_log.h"

RTE_LOG_REGISTER(sw_logtype_dp, sipwake.dataplane, INFO);
RTE_LOG_REGISTER(sw_logtype_cp, sipwake.controlplane, INFO);
RTE_LOG_REGISTER(sw_logtype_pd, sipwake.pushd, INFO);
RTE_LOG_REGISTER(sw_logtype_main, sipwake.main, INFO);

/* log.level must not undo the operator's `--log-level=sipwake.controlplane:debug`
 * (EAL applies it at rte_eal_init(), before the config's level is set): a
 * type EAL left at its registered level (INFO) follows log.level, one it
 * changed keeps that level, at start and on reload. Called from the main
 * lcore only. */
void sw_log_set_level(int level)
{
	static int *const types[] = {&sw_logtype_dp, &sw_logtype_cp, &sw_logtype_pd,
				     &sw_logtype_main};
	static bool pinned[RTE_DIM(types)], seen;

	for (unsigned i = 0; i < RTE_DIM(types); i++) {
		if (!seen)
			pinned[i] = rte_log_get_level((uint32_t)*types[i]) != RTE_LOG_INFO;
		if (!pinned[i])
			rte_log_set_level((uint32_t)*types[i], (uint32_t)level);
	}
	seen = true;
}
