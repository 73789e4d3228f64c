/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Another edge's binding change (docs/cluster.md, "Wake across edges"): into
 * the tables, and when it binds a device a call is held for here (the app
 * woke and registered through another edge), the call goes on to it, as
 * after a REGISTER relayed here (cp_reg_flush()).
 */
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/relay/cp_reg_internal.h"

void cp_reg_feed_change(struct cp_ctx *cp, int kind, const struct sw_bind_rec *r, const char *edge,
			size_t edge_len)
{
	int peer = cp_peer_index(cp, edge, edge_len);
	uint64_t id;

	/* An edge not in cluster.peers: its devices are reached from here
	 * directly, as if bound here (counted: the peer list is incomplete). */
	if (peer < 0) {
		cp_count(cp, CP_C_BINDINGS_REMOTE_UNKNOWN_EDGE, 1);
		peer = 0;
	}
	if (cp_bind_remote(cp, (enum cp_store_change)kind, r, (uint8_t)peer, &id) == 0 && id != 0)
		cp_call_registered(cp, id);
}
