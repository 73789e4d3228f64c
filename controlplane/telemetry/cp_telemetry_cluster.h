/* SPDX-License-Identifier: BSD-3-Clause */
/* /sipwake/cluster (cp_telemetry_cluster.c). */
#ifndef CP_TELEMETRY_CLUSTER_H
#define CP_TELEMETRY_CLUSTER_H

struct cp_ctx;

/** Register /sipwake/cluster for @p cp. @return 0 or rte_telemetry's error. */
int cp_telemetry_cluster_register(struct cp_ctx *cp);

#endif /* CP_TELEMETRY_CLUSTER_H */
