/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane as a whole (dataplane/dp.h): made from its config, its
 * handle for the control plane filled in (dataplane/dp_ring.h), its workers
 * launched and stopped, taken down.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_malloc.h>

#include "common/sw_log.h"
#include "dataplane/dp_internal.h"

void dp_link_fill(struct dp_ctx *ctx)
{
	struct dp_link *l = &ctx->link;

	l->ports = ctx->p.ports;
	l->alive_window_tsc = ctx->p.alive_window_tsc;
	l->wake_policy = ctx->p.wake_policy;
	l->pool = ctx->pool;
	l->neigh = ctx->neigh;
	l->src = ctx->src;
	l->bind = ctx->bind;
	l->banned = ctx->banned;
	l->held = ctx->held;
	l->waking = ctx->waking;
	l->policy = &ctx->policy;
	l->pbx_active = &ctx->pbx_active;
	l->peer_up = &ctx->peer_up;
	l->tap.to_kernel = ctx->to_kernel;
	memcpy(l->tap.port, ctx->tap_port, sizeof(l->tap.port));
	l->n_workers = ctx->n_workers;
	for (unsigned i = 0; i < ctx->n_workers; i++) {
		const struct dp_worker *w = &ctx->workers[i];

		l->workers[i] = (struct dp_link_worker){.up = w->up,
							.down = w->down,
							.trace = w->trace,
							.lcore_id = w->lcore_id,
							.ctr = &w->ctr};
	}
}

struct dp_ctx *dp_create(const struct dp_config *c)
{
	struct dp_ctx *ctx;

	if (c->n_workers == 0 || c->n_workers > RTE_MAX_LCORE) {
		free(c->policy);
		return NULL;
	}
	ctx = rte_zmalloc("sw_dp", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
	if (ctx == NULL) {
		DP_LOG(ERR, "out of memory (raise -m)");
		free(c->policy);
		return NULL;
	}
	ctx->p = c->p;
	ctx->neigh = c->t.neigh;
	ctx->src = c->t.src;
	ctx->bind = c->t.bind;
	ctx->banned = c->t.banned;
	ctx->held = c->t.held;
	ctx->waking = c->t.waking;
	ctx->policy = c->policy;
	ctx->rate_sources = c->rate_sources;
	ctx->rate_keys = c->rate_keys;
	ctx->frag_flows = c->frag_flows;
	ctx->frag_timeout_ms = c->frag_timeout_ms;
	ctx->frag_buffers = c->frag_buffers;
	ctx->n_workers = c->n_workers;
	for (unsigned i = 0; i < c->n_workers; i++)
		ctx->workers[i].lcore_id = c->lcore[i];
	if (dp_init(ctx, c->n_mbufs, c->rx_desc, c->tx_desc, c->ring_size) != 0) {
		dp_destroy(ctx);
		return NULL;
	}
	dp_link_fill(ctx);
	return ctx;
}

void dp_destroy(struct dp_ctx *ctx)
{
	if (ctx == NULL)
		return;
	dp_fini(ctx);
	free(ctx->policy);
	rte_free(ctx);
}

struct dp_link *dp_link(struct dp_ctx *ctx)
{
	return &ctx->link;
}

int dp_launch(struct dp_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->n_workers; i++) {
		int rc = rte_eal_remote_launch(dp_worker_main, &ctx->workers[i],
					       ctx->workers[i].lcore_id);

		if (rc != 0) {
			DP_LOG(ERR, "cannot launch worker %u on lcore %u: %s", i,
			       ctx->workers[i].lcore_id, rte_strerror(-rc));
			dp_stop(ctx);
			return rc;
		}
	}
	return 0;
}

void dp_stop(struct dp_ctx *ctx)
{
	__atomic_store_n(&ctx->stop, true, __ATOMIC_RELEASE);
}
