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
	struct cp_store_stats ss;
	struct cl_stats cs;
	char buf[256];

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (cl == NULL) {
		rte_tel_data_add_dict_string(d, "backend", s != NULL ? "sqlite" : "none");
		return 0;
	}
	rte_tel_data_add_dict_string(d, "backend", "redis");
	rte_tel_data_add_dict_string(d, "edge", tel_cp->cfg.cl.edge);
	cl_get_stats(cl, &cs);
	rte_tel_data_add_dict_string(d, "redis_state", cl_state_name((enum cl_state)cs.state));
	cl_master(cl, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, "master", buf);
	cl_last_error(cl, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, "last_error", buf);
#define CL_STAT_ADD(n, desc) rte_tel_data_add_dict_u64(d, #n, cs.n);
	CL_FOREACH_STAT(CL_STAT_ADD)
#undef CL_STAT_ADD
	cp_store_get_stats(s, &ss);
	rte_tel_data_add_dict_u64(d, "journal_depth", ss.journal_depth);
	rte_tel_data_add_dict_u64(d, "journaled", ss.journaled);
	rte_tel_data_add_dict_u64(d, "replayed", ss.replayed);
	rte_tel_data_add_dict_u64(d, "feed_applied", ss.feed_applied);
	rte_tel_data_add_dict_u64(d, "feed_bad", ss.feed_bad);
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
