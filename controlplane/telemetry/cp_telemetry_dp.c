/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's resources as /sipwake/info shows them (docs/telemetry.md):
 * the rings between the workers and the control plane, and the packet
 * pools. What a soak watches for a leak (scripts/soak.py) and an operator
 * for a drain: a pool whose mbufs in use keep growing runs out, and then
 * drop_no_mbuf counts.
 */
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "controlplane/telemetry/cp_telemetry_dp.h"
#include "dataplane/dp.h"

/* Each worker's rings to and from the control plane: entries now and size
 * (rte_ring_count() is safe from any thread). A full up ring drops
 * (drop_up_ring_full); a full down ring drops the control plane's frames. */
void cp_telemetry_add_rings(struct rte_tel_data *d, const struct dp_link *dp)
{
	struct rte_tel_data *r = rte_tel_data_alloc();
	char key[32];

	if (r == NULL)
		return;
	rte_tel_data_start_dict(r);
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct dp_link_worker *w = &dp->workers[i];

		snprintf(key, sizeof(key), "w%u_up", i);
		rte_tel_data_add_dict_u64(r, key, rte_ring_count(w->up));
		snprintf(key, sizeof(key), "w%u_down", i);
		rte_tel_data_add_dict_u64(r, key, rte_ring_count(w->down));
	}
	if (dp->n_workers > 0)
		rte_tel_data_add_dict_u64(r, "size", rte_ring_get_capacity(dp->workers[0].up));
	if (rte_tel_data_add_dict_container(d, "rings", r, 0) != 0)
		rte_tel_data_free(r);
}

/* Each pool's size and mbufs in use now (rte_mempool_in_use_count(): the
 * per-lcore caches count as free; safe from any thread, a snapshot). */
void cp_telemetry_add_pools(struct rte_tel_data *d)
{
	static const char *const names[] = {DP_POOL_NAME, DP_JUMBO_POOL_NAME};
	struct rte_tel_data *r = rte_tel_data_alloc();
	char key[48];

	if (r == NULL)
		return;
	rte_tel_data_start_dict(r);
	for (unsigned i = 0; i < RTE_DIM(names); i++) {
		struct rte_mempool *mp = rte_mempool_lookup(names[i]);

		if (mp == NULL)
			continue;
		snprintf(key, sizeof(key), "%s_size", names[i]);
		rte_tel_data_add_dict_u64(r, key, mp->size);
		snprintf(key, sizeof(key), "%s_in_use", names[i]);
		rte_tel_data_add_dict_u64(r, key, rte_mempool_in_use_count(mp));
	}
	if (rte_tel_data_add_dict_container(d, "pools", r, 0) != 0)
		rte_tel_data_free(r);
}
