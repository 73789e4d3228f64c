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
 *
 * Past the box's budget a SYN flood would shut out the app a push just
 * woke, whose SYN comes from an address nobody knows: such SYNs get a
 * challenge instead (dp_admit.c), a SYN-ACK built here in the SYN's own
 * mbuf and sent back to the MAC it came from (no neighbour lookup: the
 * source may be spoofed, and the resolver is not junk's to drive). The
 * RST that answers it with its cookie is taken here and never reaches the
 * kernel, which knows nothing of the challenge.
 */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
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

/*
 * Turn the SYN in @p m into its challenge, in place: addresses and ports
 * swapped, SYN-ACK with the cookie as the acknowledgment number, no
 * options, no payload. @return false when it cannot be (IPv4 options, a
 * cookie that happens to acknowledge the SYN: the client would take it, or
 * a sender MAC that is a group's or zero: an answer to it would go to
 * every host of the segment, or nowhere).
 */
static bool challenge(struct dp_wstate *s, struct rte_mbuf *m, struct rte_tcp_hdr *tcp,
		      const struct sw_ip *src, uint64_t now)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, RTE_ETHER_HDR_LEN);
	uint32_t cookie = dp_admit_cookie(s, src, tcp->src_port, tcp->dst_port, now);
	uint32_t isn = rte_be_to_cpu_32(tcp->sent_seq);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t port = tcp->src_port, l3_len;

	if (cookie == isn + 1 || !rte_is_unicast_ether_addr(&eth->src_addr) ||
	    rte_is_zero_ether_addr(&eth->src_addr) ||
	    ((l3[0] >> 4) == 4 && l3[0] != RTE_IPV4_VHL_DEF))
		return false;
	*tcp = (struct rte_tcp_hdr){
		.src_port = tcp->dst_port,
		.dst_port = port,
		.sent_seq = rte_cpu_to_be_32(cookie ^ 0x5a5a5a5au),
		.recv_ack = rte_cpu_to_be_32(cookie),
		.data_off = 5 << 4,
		.tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
		.rx_win = rte_cpu_to_be_16(1024),
	};
	if ((l3[0] >> 4) == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		rte_be32_t a = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*tcp));
		ip->time_to_live = 64;
		ip->fragment_offset = 0;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
		l3_len = sizeof(*ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
		uint8_t a[16];

		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*tcp));
		ip->hop_limits = 64;
		tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
		l3_len = sizeof(*ip);
	}
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - RTE_ETHER_HDR_LEN - l3_len - sizeof(*tcp)));
	m->ol_flags = 0;
	return true;
}

void dp_tcp_in(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, void *l4, uint32_t avail,
	       const struct sw_ip *src)
{
	struct rte_tcp_hdr *tcp = l4;
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

		if (why == DP_D_TCP_SYN_CHALLENGED && challenge(s, m, tcp, src, now)) {
			dp_count_drop(s->ctr, why);
			dp_tx_back(s, ifx, m);
			return;
		}
		if (why != DP_D_MAX) {
			dp_drop(s, m,
				why == DP_D_TCP_SYN_CHALLENGED ? DP_D_TCP_SYN_RATE_GLOBAL : why);
			return;
		}
	}
	/* The answer to a challenge (its RST alone, sequence number the
	 * cookie): the source is real; the kernel must not see it. */
	if ((tcp->tcp_flags & TCP_FLAGS_SYN_ACK_RST) == RTE_TCP_RST_FLAG &&
	    s->pol->rates.syn_challenge.rate != 0 &&
	    dp_admit_proof(s, src, tcp->src_port, tcp->dst_port, rte_be_to_cpu_32(tcp->sent_seq),
			   now)) {
		dp_count(s->ctr, DP_C_TCP_SYN_PROOFS, 1);
		rte_pktmbuf_free(m);
		return;
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
