/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP on the worker: the filter in front of the exception path
 * (docs/streams.md, "Where the bytes go"). Segments for one of our
 * addresses and a streams.ports port, from a source that is not banned,
 * go whole onto the to-kernel ring, which the control plane writes into
 * the interface's net_tap port; SYNs from sources that are not the PBX
 * spend their source's and the box's budgets first (dp_admit.c). The
 * kernel's TCP checks checksums and sequence numbers; this stage reads
 * only the ports and the flags. Everything else is dropped and counted.
 */
#include <rte_byteorder.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "dataplane/dp_internal.h"

#define TCP_FLAGS_SYN_ACK_RST (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)

static inline bool stream_port(const struct dp_params *p, uint16_t port)
{
	for (unsigned i = 0; i < p->n_stream_ports; i++)
		if (p->stream_ports[i] == port)
			return true;
	return false;
}

void dp_tcp_in(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, const void *l4,
	       uint32_t avail, const struct sw_ip *src)
{
	const struct rte_tcp_hdr *tcp = l4;
	struct dp_ctx *ctx = s->ctx;
	uint64_t now = DP_META(m)->rx_tsc;
	uint32_t hlen;

	if (avail < sizeof(*tcp)) {
		dp_drop(s, m, DP_D_TCP_MALFORMED);
		return;
	}
	if (ctx->to_kernel == NULL || !stream_port(&ctx->p, rte_be_to_cpu_16(tcp->dst_port))) {
		dp_drop(s, m, DP_D_TCP_PORT);
		return;
	}
	hlen = (uint32_t)(tcp->data_off >> 4) * 4;
	/* A reassembled datagram (the jumbo pool): TCP never needs IP
	 * fragments (it sizes segments to the path), an attack does. */
	if (hlen < sizeof(*tcp) || hlen > avail || m->pool != ctx->pool) {
		dp_drop(s, m, DP_D_TCP_MALFORMED);
		return;
	}
	/* As for UDP (dp_sip.c): one load when nobody is banned. */
	if (ctx->banned != NULL && sw_src_count(ctx->banned) != 0) {
		const struct sw_src *b = sw_src_lookup(ctx->banned, src, 0);

		if (b != NULL && sw_src_last_alive(b) > now) {
			dp_drop(s, m, DP_D_TCP_BANNED);
			return;
		}
	}
	/* A connection attempt (SYN alone) is what a flood sends: metered.
	 * Segments of established connections are not; the kernel drops
	 * those of connections it does not know (with a RST, which the
	 * control plane sends as any segment of the kernel's). */
	if ((tcp->tcp_flags & TCP_FLAGS_SYN_ACK_RST) == RTE_TCP_SYN_FLAG &&
	    !dp_is_pbx_addr(s, src)) {
		enum dp_drop why = dp_admit_syn(s, src, now);

		if (why != DP_D_MAX) {
			dp_drop(s, m, why);
			return;
		}
	}
	DP_META(m)->iface = (uint8_t)ifx;
	DP_META(m)->worker = (uint8_t)s->w->id;
	/* MP: every worker produces; the control plane alone consumes. */
	if (rte_ring_mp_enqueue(ctx->to_kernel, m) != 0) {
		dp_drop(s, m, DP_D_TCP_KERNEL_RING_FULL);
		return;
	}
	dp_count(s->ctr, DP_C_TCP_TO_KERNEL, 1);
}
