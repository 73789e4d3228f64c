/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's loop (docs/design.md §2, "A worker's round"): read the filter
 * policy once, poll each port for a burst and run it through the pipeline,
 * take what the control plane queued on the down ring, flush the TX
 * buffers, age the fragment table, then one QSBR quiescent state; an idle
 * worker may sleep (dataplane.idle_sleep_us), offline for RCU meanwhile.
 */
#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "common/sw_callset.h"
#include "common/sw_log.h"
#include "dataplane/dp_internal.h"

/* Frames the control plane built (ARP / ND answers, resolved packets). */
static unsigned drain_down(struct dp_wstate *s)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(s->w->down, (void **)pkts, DP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		unsigned ifx = DP_META(pkts[i])->iface;
		struct dp_txbuf *tb = &s->tx[ifx];

		tb->m[tb->n++] = pkts[i];
		if (tb->n == DP_BURST)
			dp_tx_flush(s, ifx);
	}
	return n;
}

/*
 * A burst, one frame after the other with the next frame's first line
 * prefetched (l3fwd). Two passes (stamp and prefetch the whole burst, then
 * the pipeline with the next frame's second line prefetched) measured
 * slower here: +7 cycles/pkt on bench_dp --mix junk-64B, +30 on
 * scanner-flood (hw-cksum), with the frames already in cache as the bench
 * feeds them. Frames are freed as each is done, not in bulk at the end: an
 * answer's mbuf then comes back hot from the mempool cache (a deferred
 * rte_pktmbuf_free_bulk() cost ~45 cycles/pkt more on scanner-flood).
 */
void dp_rx_burst(struct dp_wstate *s, unsigned ifx, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t now)
{
	if (n == 0)
		return;
	rte_prefetch0(rte_pktmbuf_mtod(pkts[0], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		DP_META(pkts[i])->rx_tsc = now;
		dp_rx_one(s, ifx, pkts[i]);
	}
}

static unsigned poll_port(struct dp_wstate *s, unsigned ifx, uint64_t now)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t n = rte_eth_rx_burst(s->ctx->p.ports.ifaces[ifx].port_id, (uint16_t)s->w->id, pkts,
				      DP_BURST);
	uint64_t bytes = 0;

	if (n == 0)
		return 0;
	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	dp_count(s->ctr, DP_C_RX_PACKETS, n);
	dp_count(s->ctr, DP_C_RX_BYTES, bytes);
	dp_rx_burst(s, ifx, pkts, n, now);
	return n;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_ctx *ctx = w->ctx;
	struct dp_wstate s = {.w = w, .ctx = ctx, .ctr = &w->ctr};
	const unsigned n_ifaces = ctx->p.ports.n_ifaces;
	const uint32_t idle_us = ctx->p.idle_sleep_us;

	/* QSBR: this thread reads the RCU tables; it reports one quiescent
	 * state per loop and goes offline whenever it sleeps. */
	urcu_qsbr_register_thread();
	DP_LOG(INFO, "worker %u on lcore %u: polling %u port(s), queue %u", w->id, w->lcore_id,
	       n_ifaces, w->id);

	while (!__atomic_load_n(&ctx->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = rte_rdtsc();
		unsigned work = 0;

		/* One policy for the whole round; a replaced one is freed only
		 * after this thread's next quiescent state (below). */
		s.pol = rcu_dereference(ctx->policy);
		for (unsigned i = 0; i < n_ifaces; i++)
			work += poll_port(&s, i, now);
		work += drain_down(&s);
		for (unsigned i = 0; i < n_ifaces; i++)
			dp_tx_flush(&s, i);
		/* Every round, not only after a burst: a datagram whose last
		 * fragment never comes times out on time (dp_frag.c). */
		dp_frag_tick(&s, now);
		urcu_qsbr_quiescent_state();

		if (work == 0 && idle_us != 0) {
			/* Optional, off by default: lets a shared or test
			 * machine keep its cores. Never on the packet path. */
			urcu_qsbr_thread_offline();
			rte_delay_us_sleep(idle_us);
			urcu_qsbr_thread_online();
		}
	}
	urcu_qsbr_unregister_thread();
	DP_LOG(INFO, "worker %u stopped", w->id);
	return 0;
}
