/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's transmit steps, below everything that sends: an IP packet to
 * its next hop (or up to the control plane while the next hop has no MAC),
 * the UDP / IP headers of an answer, the TX buffer and its flush, the up
 * ring and the per-call trace ring. Everything here calls down only.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "common/sw_callset.h"
#include "dataplane/dp_internal.h"

#define TTL_OUT 64

void dp_hand_up(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, enum dp_up_kind kind)
{
	struct dp_meta *meta = DP_META(m);

	meta->kind = (uint8_t)kind;
	meta->worker = (uint8_t)s->w->id;
	meta->iface = (uint8_t)ifx;
	/* SP enqueue: this worker is the ring's only producer. A full ring
	 * is a counted drop, never a wait (docs/design.md §2). */
	if (rte_ring_sp_enqueue(s->w->up, m) != 0) {
		dp_drop(s, m, DP_D_UP_RING_FULL);
		return;
	}
	dp_count(s->ctr, DP_C_HANDED_UP, 1);
}

void dp_tx_ip_as(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *dst,
		 bool stranger)
{
	const struct sw_iface *ifc = &s->ctx->p.ports.ifaces[ifx];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct sw_ip nh;

	/* Next hop: on-link peers directly, everything else via the gateway. */
	if (sw_iface_nexthop(ifc, dst, &nh) != 0) {
		dp_drop(s, m, DP_D_NO_ROUTE);
		return;
	}
	eth->ether_type =
		rte_cpu_to_be_16(sw_ip_is_v4(dst) ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	if (sw_neigh_lookup(s->ctx->neigh, ifc->port_id, &nh, &eth->dst_addr) != 0) {
		/* Not resolved yet: the control plane holds it, resolves, sends. */
		DP_META(m)->nexthop = nh;
		DP_META(m)->stranger = stranger;
		dp_hand_up(s, ifx, m, DP_UP_UNRESOLVED);
		return;
	}
	struct dp_txbuf *tb = &s->tx[ifx];
	tb->m[tb->n++] = m;
	if (tb->n == DP_BURST)
		dp_tx_flush(s, ifx);
}

void dp_tx_back(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct dp_txbuf *tb = &s->tx[ifx];

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&s->ctx->p.ports.ifaces[ifx].mac, &eth->src_addr);
	tb->m[tb->n++] = m;
	if (tb->n == DP_BURST)
		dp_tx_flush(s, ifx);
}

void dp_tx_ip(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *dst)
{
	dp_tx_ip_as(s, ifx, m, dst, false);
}

void dp_tx_stranger(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *dst)
{
	dp_tx_ip_as(s, ifx, m, dst, true);
}

void dp_udp_finish(struct dp_wstate *s, struct rte_mbuf *m, const struct dp_l4info *to,
		   uint16_t dport, uint16_t payload_len)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, RTE_ETHER_HDR_LEN);
	uint16_t udp_len = (uint16_t)(sizeof(struct rte_udp_hdr) + payload_len);
	struct rte_udp_hdr *udp;

	if (!to->v6) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		*ip = (struct rte_ipv4_hdr){
			.version_ihl = RTE_IPV4_VHL_DEF,
			.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + udp_len)),
			.packet_id = rte_cpu_to_be_16(s->w->ip_id++),
			.time_to_live = TTL_OUT,
			.next_proto_id = IPPROTO_UDP,
			.src_addr = sw_ip_v4(&to->dst),
			.dst_addr = sw_ip_v4(&to->src),
		};
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
		*udp = (struct rte_udp_hdr){.src_port = rte_cpu_to_be_16(s->ctx->p.ports.sip_port),
					    .dst_port = rte_cpu_to_be_16(dport),
					    .dgram_len = rte_cpu_to_be_16(udp_len)};
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;

		*ip = (struct rte_ipv6_hdr){
			.vtc_flow = rte_cpu_to_be_32(6u << 28),
			.payload_len = rte_cpu_to_be_16(udp_len),
			.proto = IPPROTO_UDP,
			.hop_limits = TTL_OUT,
		};
		memcpy(ip->src_addr, to->dst.a, 16);
		memcpy(ip->dst_addr, to->src.a, 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
		*udp = (struct rte_udp_hdr){.src_port = rte_cpu_to_be_16(s->ctx->p.ports.sip_port),
					    .dst_port = rte_cpu_to_be_16(dport),
					    .dgram_len = rte_cpu_to_be_16(udp_len)};
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	}
	m->data_len = (uint16_t)(dp_udp_hdr_len(to->v6) + payload_len);
	m->pkt_len = m->data_len;
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
			} else if (tb->m[i]->ol_flags &
				   (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)) {
				/* The NIC finds L3 after the tag (dp_fwd_msg.c). */
				tb->m[i]->l2_len += sizeof(struct rte_vlan_hdr);
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
