/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's loop, on the main lcore: made and freed here, its
 * counters named here, and its round (docs/design.md §2): drain every
 * worker's up and trace rings and the exception path (cp_tap.c), run the
 * timers, take pushd's results and a pending reload, commit the round's store changes, then a quiescent
 * state; at stop, held calls are answered while the workers still send.
 */
#include <stdlib.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/cp_internal.h"
#include "controlplane/store/cp_store.h"
#include "controlplane/calls/cp_trace.h"

/* When a round found nothing to do. Bounds the latency of ARP / ND answers
 * and keeps the main lcore from spinning (it is not a dedicated core). */
#define CP_IDLE_US 50

#define CP_X_NAME(e, name, desc) #name,
#define CP_X_DESC(e, name, desc) desc,
const char *const cp_counter_names[CP_C_MAX] = {CP_FOREACH_COUNTER(CP_X_NAME)};
const char *const cp_counter_descs[CP_C_MAX] = {CP_FOREACH_COUNTER(CP_X_DESC)};
const char *const cp_drop_names[CP_D_MAX] = {CP_FOREACH_DROP(CP_X_NAME)};
const char *const cp_drop_descs[CP_D_MAX] = {CP_FOREACH_DROP(CP_X_DESC)};

struct cp_ctx *cp_create(struct dp_link *dp, const struct cp_config *cfg)
{
	struct cp_ctx *cp = calloc(1, sizeof(*cp));

	if (cp == NULL)
		goto fail;
	cp->dp = dp;
	cp->cfg = *cfg;
	cp->n_servers = cp_servers_from_config(cfg, cp->servers);
	cp->hz = rte_get_tsc_hz();
	cp->retry_tsc = cp->hz * cfg->neigh_retry_ms / 1000;
	cp->lifetime_tsc = cp->hz * cfg->neigh_lifetime_s;
	if (cp_neigh_init(cp) != 0)
		goto fail_cp;
	if (cp_reg_init(cp) != 0)
		goto fail_neigh;
	if (cp_call_init(cp) != 0)
		goto fail_reg;
	if (cp_bind_init(cp) != 0)
		goto fail_call;
	cp->trace = cp_trace_new(); /* NULL: calls are not traced */
	return cp;

fail_call:
	cp_call_fini(cp);
fail_reg:
	cp_reg_fini(cp);
fail_neigh:
	cp_neigh_fini(cp);
fail_cp:
	free(cp);
fail:
	CP_LOG(ERR, "out of memory creating the control plane");
	return NULL;
}

void cp_free(struct cp_ctx *cp)
{
	if (cp == NULL)
		return;
	cp_reg_flush(cp);
	/* Batches still in flight end in the journal, with no one to tell. */
	if (cp->store != NULL)
		cp_store_set_hooks(cp->store, &(struct cp_store_hooks){0});
	cp_bind_fini(cp);
	cp_call_fini(cp);
	cp_trace_free(cp->trace);
	cp_reg_fini(cp);
	cp_store_close(cp->store);
	cp_neigh_fini(cp);
	free(cp);
}

void cp_set_streams(struct cp_ctx *cp, struct st *st)
{
	cp->st = st;
}

void cp_set_pushd(struct cp_ctx *cp, struct pd *pd)
{
	cp->pd = pd;
	cp_reg_fcaps(cp); /* +sip.vapid: the key pushd loaded */
}

static void store_done(void *arg, uint64_t ticket, bool ok)
{
	cp_reg_store_done(arg, ticket, ok);
}

static void store_change(void *arg, enum cp_store_change kind, const struct sw_bind_rec *r,
			 const char *edge, size_t edge_len)
{
	cp_reg_feed_change(arg, (int)kind, r, edge, edge_len);
}

int cp_set_store(struct cp_ctx *cp, struct cp_store *store)
{
	int n;

	cp->store = store;
	cp_store_set_hooks(store, &(struct cp_store_hooks){
					  .arg = cp, .done = store_done, .change = store_change});
	n = cp_reg_load(cp);
	if (n >= 0)
		CP_LOG(INFO, "%d binding(s) loaded from %s", n, cp->cfg.store);
	return n;
}

uint64_t cp_counter(const struct cp_ctx *cp, enum cp_counter c)
{
	return __atomic_load_n(&cp->c[c], __ATOMIC_RELAXED);
}

uint64_t cp_drop_count(const struct cp_ctx *cp, enum cp_drop d)
{
	return __atomic_load_n(&cp->drop[d], __ATOMIC_RELAXED);
}

static unsigned poll_worker(struct cp_ctx *cp, struct dp_link_worker *w)
{
	struct rte_mbuf *pkts[CP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->up, (void **)pkts, CP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		switch (DP_META(pkts[i])->kind) {
		case DP_UP_ARP:
			cp_neigh_arp_in(cp, pkts[i]);
			break;
		case DP_UP_ND:
			cp_neigh_nd_in(cp, pkts[i]);
			break;
		case DP_UP_UNRESOLVED:
			cp_neigh_hold(cp, pkts[i]);
			break;
		case DP_UP_SIP:
			cp_sip_in(cp, pkts[i]);
			break;
		default:
			/* A kind we do not know is a bug in the worker. */
			CP_LOG(ERR, "unknown hand-up kind %u from worker %u",
			       DP_META(pkts[i])->kind, DP_META(pkts[i])->worker);
			rte_pktmbuf_free(pkts[i]);
		}
	}
	return n;
}

void cp_run(struct cp_ctx *cp, const bool *stop)
{
	uint64_t tick = cp->hz / 10, next_tick = rte_rdtsc() + tick;
	uint64_t next_age = rte_rdtsc() + cp->hz;

	CP_LOG(INFO, "control plane running, %u worker(s)", cp->dp->n_workers);
	/* The workers send now: the calls a crash cut off hear 480 (their
	 * neighbour resolves through the loop, Timer G repeats). */
	cp_call_journal_replay(cp);
	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
		unsigned work = 0;
		uint64_t now;

		for (unsigned i = 0; i < cp->dp->n_workers; i++) {
			work += poll_worker(cp, &cp->dp->workers[i]);
			work += cp_trace_poll_worker(cp, i);
		}
		work += cp_tap_poll(cp);
		work += cp_stream_poll(cp);
		if (cp->store != NULL)
			work += cp_store_poll(cp->store); /* a shared store's traffic */
		now = rte_rdtsc();
		if (now >= next_tick) {
			cp_neigh_tick(cp, now);
			cp_reg_tick(cp, now);
			cp_peer_tick(cp, now);
			cp_call_tick(cp, now);
			next_tick = now + tick;
		}
		cp_call_poll_push(cp);
		cp_reload_poll(cp);
		/* Durable, then relayed: the round's 2xx go out after one commit. */
		cp_reg_flush(cp);
		if (now >= next_age) {
			cp_neigh_age(cp, now);
			cp_bind_tick(cp, now);
			next_age = now + cp->hz;
		}
		urcu_qsbr_quiescent_state();
		if (work == 0) {
			urcu_qsbr_thread_offline();
			rte_delay_us_sleep(CP_IDLE_US);
			urcu_qsbr_thread_online();
		}
	}
	CP_LOG(INFO, "control plane stopping");
	/* Held calls hear 503 while the workers still send (docs/design.md §2, "Stop"). */
	cp_call_shutdown(cp);
}
