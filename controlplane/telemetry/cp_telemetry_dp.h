/* SPDX-License-Identifier: BSD-3-Clause */
/* The dataplane's rings and pools in /sipwake/info (cp_telemetry_dp.c). */
#ifndef CP_TELEMETRY_DP_H
#define CP_TELEMETRY_DP_H

struct rte_tel_data;
struct dp_link;

/** "rings": each worker's up and down ring, entries now, and their size. */
void cp_telemetry_add_rings(struct rte_tel_data *d, const struct dp_link *dp);

/** "pools": the packet pool's and the reassembly pool's size and mbufs in use. */
void cp_telemetry_add_pools(struct rte_tel_data *d);

#endif /* CP_TELEMETRY_DP_H */
