/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * One DPDK log type per component ("sipwake.dataplane", "sipwake.controlplane",
 * "sipwake.pushd", "sipwake.main"), so an operator can raise one component's
 * level with `--log-level=sipwake.controlplane:debug` without drowning in the rest.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <rte_log.h>

extern int sw_logtype_dp;
extern int sw_logtype_cp;
extern int sw_logtype_pd;
extern int sw_logtype_main;

/**
 * Set the level (RTE_LOG_ERR .. RTE_LOG_DEBUG) of every sipwake.* log type
 * but those EAL's --log-level set: the first call, after rte_eal_init(),
 * takes a type not at its registered level (INFO) as set there, and that
 * type keeps its level on every call. Main lcore only.
 */
void sw_log_set_level(int level);

#define SW_LOG_(type, prefix, lvl, fmt, ...) \
	rte_log(RTE_LOG_##lvl, type, prefix ": " fmt "\n", ##__VA_ARGS__)
#define DP_LOG(lvl, fmt, ...) SW_LOG_(sw_logtype_dp, "dataplane", lvl, fmt, ##__VA_ARGS__)
#define CP_LOG(lvl, fmt, ...) SW_LOG_(sw_logtype_cp, "controlplane", lvl, fmt, ##__VA_ARGS__)
#define PD_LOG(lvl, fmt, ...) SW_LOG_(sw_logtype_pd, "pushd", lvl, fmt, ##__VA_ARGS__)
#define SW_LOG(lvl, fmt, ...) SW_LOG_(sw_logtype_main, "sipwake", lvl, fmt, ##__VA_ARGS__)

#endif /* SW_LOG_H */
