/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /sipwake/cluster: this edge's link to the other edges (docs/cluster.md,
 * "Telemetry"): the store's backend, the Redis link's state, master, last
 * error and counters, and the journal. On DPDK's telemetry thread: only
 * counters read with relaxed loads and strings copied under the link's lock.
 */
#include <rte_telemetry.h>

#include "cluster/cl.h"
#include "controlplane/cp_internal.h"
#include "controlplane/store/cp_store.h"
#include "controlplane/telemetry/cp_telemetry_cluster.h"

static struct cp_ctx *tel_cp;

static int tel_cluster(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cp_store *s = tel_cp->store;
	struct cl *cl = s != NULL ? cp_store_link(s) : NULL;
	struct cp_store_stats ss = {0};
	struct cl_stats cs = {0};
	char master[256] = "", err[256] = "";

	(void)cmd;
	(void)params;
	/* The same keys with or without a cluster: a dashboard needs no case. */
	if (cl != NULL) {
		cl_get_stats(cl, &cs);
		cl_master(cl, master, sizeof(master));
		cl_last_error(cl, err, sizeof(err));
		cp_store_get_stats(s, &ss);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "backend",
				     cl != NULL	 ? "redis"
				     : s != NULL ? "sqlite"
						 : "none");
	rte_tel_data_add_dict_string(d, "edge", cl != NULL ? tel_cp->cfg.cl.edge : "");
	rte_tel_data_add_dict_string(d, "redis_state",
				     cl != NULL ? cl_state_name((enum cl_state)cs.state) : "off");
	rte_tel_data_add_dict_string(d, "master", master);
	rte_tel_data_add_dict_string(d, "last_error", err);
#define CL_STAT_ADD(n, desc) rte_tel_data_add_dict_u64(d, #n, cs.n);
	CL_FOREACH_STAT(CL_STAT_ADD)
#undef CL_STAT_ADD
	rte_tel_data_add_dict_u64(d, "journal_depth", ss.journal_depth);
	rte_tel_data_add_dict_u64(d, "journaled", ss.journaled);
	rte_tel_data_add_dict_u64(d, "replayed", ss.replayed);
	rte_tel_data_add_dict_u64(d, "feed_applied", ss.feed_applied);
	rte_tel_data_add_dict_u64(d, "feed_bad", ss.feed_bad);
	rte_tel_data_add_dict_u64(d, "peers", tel_cp->cfg.n_peers);
	rte_tel_data_add_dict_u64(d, "peers_up",
				  (uint64_t)__builtin_popcount(
					  __atomic_load_n(tel_cp->dp->peer_up, __ATOMIC_RELAXED)));
	return 0;
}

int cp_telemetry_cluster_register(struct cp_ctx *cp)
{
	tel_cp = cp;
	return rte_telemetry_register_cmd(
		"/sipwake/cluster", tel_cluster,
		"Bindings shared with other edges: backend, Redis link state, master, feed, "
		"journal. No parameters");
}
