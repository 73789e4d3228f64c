/* SPDX-License-Identifier: BSD-3-Clause */
#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "common/sw_callset.h"
#include "common/sw_log.h"
#include "dataplane/dp_internal.h"

/* One event for /sipwake/trace (dp.h): the control plane writes the line. */
void dp_trace(struct dp_wstate *s, const uint8_t *msg, enum dp_trace_kind kind, uint64_t dev,
	      const struct sw_ip *ip, uint16_t port, uint16_t status)
{
	const struct sip_msg *sm = s->sip;
	struct dp_trace_ev ev = {
		.device = dev, .port = port, .status = status, .kind = (uint8_t)kind};

	if (s->w == NULL || s->w->trace == NULL)
		return;
	ev.key = sw_callset_key(msg + sm->call_id.off, sm->call_id.len);
	if (ip != NULL)
		ev.ip = *ip;
	if (rte_ring_sp_enqueue_elem(s->w->trace, &ev, sizeof(ev)) != 0)
		dp_count(s->ctr, DP_C_TRACE_LOST, 1);
}

void dp_tx_flush(struct dp_wstate *s, unsigned ifx)
{
	struct dp_txbuf *tb = &s->tx[ifx];
	uint64_t bytes = 0, unsent_bytes = 0;
	uint16_t sent;

	if (tb->n == 0)
		return;
	if (s->ctx->p.ports.ifaces[ifx].vlan != 0) {
		/* Every frame leaves tagged, whoever built it (worker or control
		 * plane). In software: the 4 bytes go into the headroom. */
		for (uint16_t i = 0; i < tb->n; i++) {
			tb->m[i]->vlan_tci = s->ctx->p.ports.ifaces[ifx].vlan;
			if (rte_vlan_insert(&tb->m[i]) != 0) {
				/* Shared or headroom-less: cannot be tagged, cannot go out. */
				rte_pktmbuf_free(tb->m[i]);
				tb->m[i] = tb->m[--tb->n];
				i--;
				dp_count(s->ctr, DP_C_TX_FAILED, 1);
			}
		}
	}
	for (uint16_t i = 0; i < tb->n; i++)
		bytes += tb->m[i]->pkt_len;
	sent = rte_eth_tx_burst(s->ctx->p.ports.ifaces[ifx].port_id, (uint16_t)s->w->id, tb->m,
				tb->n);
	for (uint16_t i = sent; i < tb->n; i++) {
		/* A full TX queue is a counted drop, never a wait. */
		unsent_bytes += tb->m[i]->pkt_len;
		rte_pktmbuf_free(tb->m[i]);
	}
	dp_count(s->ctr, DP_C_TX_PACKETS, sent);
	dp_count(s->ctr, DP_C_TX_BYTES, bytes - unsent_bytes);
	dp_count(s->ctr, DP_C_TX_FAILED, (uint64_t)(tb->n - sent));
	tb->n = 0;
}

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
	rte_prefetch0(rte_pktmbuf_mtod(pkts[0], void *));
	for (uint16_t i = 0; i < n; i++) {
		/* Prefetch one ahead (l3fwd): the next header is in cache by
		 * the time this packet is done. */
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		DP_META(pkts[i])->rx_tsc = now;
		dp_rx_one(s, ifx, pkts[i]);
	}
	dp_frag_tick(s, now);
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
