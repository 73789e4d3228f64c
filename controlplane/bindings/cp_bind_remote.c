/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Another edge's change to the bindings, applied to this edge's tables
 * (docs/cluster.md, "The change feed"). It is in Redis already: nothing
 * here goes to the store. Newest wins, by registration time (ties: by the
 * writing edge's name), as in Redis:
 * a change older than what this edge holds is skipped, so changes that
 * arrive twice (a resync overlapping the feed) or late change nothing.
 */
#include <string.h>

#include <rte_cycles.h>

#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"

static bool same(const struct sw_device *d, const struct sw_bind_rec *r)
{
	return d->registered_at == r->registered_at && d->expires_at == r->expires_at &&
	       sw_ip_eq(&d->src, &r->src) && d->sport == r->sport && d->pn_dead == r->pn_dead &&
	       d->contact_len == r->contact_len && d->push_key_set == r->push_key_set &&
	       (!d->push_key_set || memcmp(d->push_key, r->push_key, SW_PUSH_KEY_LEN) == 0) &&
	       memcmp(d->contact, r->contact, r->contact_len) == 0;
}

/* The name of the edge @p peer is (0: this one), as the feed carries it. */
static const char *edge_name(const struct cp_ctx *cp, uint8_t peer)
{
	return peer != 0 && peer <= cp->cfg.n_peers ? cp->cfg.peers[peer - 1].edge
						    : cp->cfg.cl.edge;
}

/* Is what this edge holds (@p d) newer than a change stamped @p stamp by
 * edge @p peer? By (stamp, edge name), as the Redis functions order them
 * (cluster/cl_lua.c): every edge and Redis pick the same winner. */
static bool holds_newer(const struct cp_ctx *cp, const struct sw_device *d, int64_t stamp,
			uint8_t peer)
{
	return d->registered_at > stamp ||
	       (d->registered_at == stamp &&
		strcmp(edge_name(cp, d->peer), edge_name(cp, peer)) > 0);
}

int cp_bind_remote(struct cp_ctx *cp, enum cp_store_change kind, const struct sw_bind_rec *r,
		   uint8_t peer, uint64_t *id)
{
	struct sw_bind_table *t = cp->dp->bind;
	const struct sw_device *d;
	struct sw_bind_rec rec;
	int rc;

	*id = 0;
	if (kind == CP_STORE_DEL_AOR) {
		cp_count(cp, CP_C_BINDINGS_REMOVED, sw_bind_del_aor(t, r->aor, r->aor_len));
		cp_count(cp, CP_C_BINDINGS_REMOTE, 1);
		return 0;
	}
	d = sw_bind_match(t, r);
	if (kind == CP_STORE_DEL) {
		/* A delete stamped before this edge's own registration of the
		 * device is older than it. */
		if (d == NULL)
			return 0;
		if (holds_newer(cp, d, r->registered_at, peer)) {
			cp_count(cp, CP_C_BINDINGS_REMOTE_STALE, 1);
			return 0;
		}
		sw_bind_del(t, d->id);
		cp_count(cp, CP_C_BINDINGS_REMOVED, 1);
		cp_count(cp, CP_C_BINDINGS_REMOTE, 1);
		return 0;
	}
	if (r->expires_at <= sw_wall_s())
		return 0;
	if (d != NULL &&
	    (holds_newer(cp, d, r->registered_at, peer) || (same(d, r) && d->peer == peer))) {
		/* Older, or this edge's own change read back: nothing new. */
		if (!same(d, r) || d->peer != peer)
			cp_count(cp, CP_C_BINDINGS_REMOTE_STALE, 1);
		return 0;
	}
	if (d == NULL && sw_bind_count(t) >= sw_bind_max(t)) {
		CP_LOG(WARNING, "binding %.*s from another edge not kept: bindings.max_devices",
		       r->aor_len, r->aor);
		return -ENOSPC;
	}
	rec = *r;
	/* Its connection, if any, is on the edge that wrote it, which reaches
	 * it; a change of this edge's own read back keeps its connection. */
	rec.peer = peer;
	rec.conn = peer == 0 && d != NULL ? d->conn : 0;
	rec.conn_since = peer == 0 && d != NULL ? d->conn_since : 0;
	/* Bound through another edge: not heard from here (asleep here, which
	 * matters only once that edge stops answering). */
	rc = sw_bind_put(t, &rec, peer != 0 ? 0 : rte_rdtsc(), id);
	if (rc != 0) {
		CP_LOG(WARNING, "binding %.*s from another edge not kept: %s", r->aor_len, r->aor,
		       strerror(-rc));
		return rc;
	}
	cp_count(cp, d != NULL ? CP_C_BINDINGS_REFRESHED : CP_C_BINDINGS_CREATED, 1);
	cp_count(cp, CP_C_BINDINGS_REMOTE, 1);
	return 0;
}
