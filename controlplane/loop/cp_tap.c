/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path on the control plane (docs/streams.md, "Where the
 * bytes go"). Inbound: the TCP segments the workers filtered and put on the
 * to-kernel ring are written into their interface's tap, addressed to the
 * kernel side's fixed MAC as if from its link-local gateway. Outbound: what
 * the kernel sends on a tap is checked (TCP from one of our addresses;
 * anything else is dropped and counted, the kernel never speaks for
 * sipwake), routed and given its Ethernet header from sipwake's own
 * neighbour table, exactly as the control plane's own frames
 * (cp_tx_frame(): resolved, or held while ARP / ND runs), then sent out of
 * the DPDK port by a worker. Bursts both ways; nothing blocks (the tap's
 * file descriptor is non-blocking, a full queue is a counted drop).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ring.h>

#include "controlplane/cp_internal.h"

/* Workers' segments into the taps, per interface in one tx_burst each. */
static unsigned to_kernel(struct cp_ctx *cp)
{
	const struct dp_link_tap *t = &cp->dp->tap;
	struct rte_mbuf *pkts[CP_BURST], *out[SW_MAX_IFACES][CP_BURST];
	uint16_t n_out[SW_MAX_IFACES] = {0};
	unsigned n = rte_ring_sc_dequeue_burst(t->to_kernel, (void **)pkts, CP_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
		unsigned ifx = DP_META(pkts[i])->iface;

		/* The worker checked the iface; the kernel takes only frames
		 * to its own MAC (anything else is PACKET_OTHERHOST to it). */
		eth->dst_addr = DP_TAP_KERNEL_MAC(ifx);
		eth->src_addr = DP_TAP_GW_MAC;
		out[ifx][n_out[ifx]++] = pkts[i];
	}
	for (unsigned ifx = 0; ifx < SW_MAX_IFACES; ifx++) {
		uint16_t sent;

		if (n_out[ifx] == 0)
			continue;
		sent = rte_eth_tx_burst(t->port[ifx], 0, out[ifx], n_out[ifx]);
		cp_count(cp, CP_C_TAP_TO_KERNEL, sent);
		if (sent < n_out[ifx]) {
			cp_count_drop(cp, CP_D_TAP_TX_FULL, n_out[ifx] - sent);
			rte_pktmbuf_free_bulk(&out[ifx][sent], n_out[ifx] - sent);
		}
	}
	return n;
}

/* Where a frame the kernel sent goes: its destination and family, when it
 * is TCP from one of our addresses in one whole segment. @return 0 or -1. */
static int kernel_frame(const struct cp_ctx *cp, const struct rte_mbuf *m, struct sw_ip *dst,
			bool *v6)
{
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct sw_ip src;

	if (m->nb_segs != 1 || len < RTE_ETHER_HDR_LEN)
		return -1;
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

		if (len < RTE_ETHER_HDR_LEN + sizeof(*ip) || ip->version_ihl >> 4 != 4 ||
		    ip->next_proto_id != IPPROTO_TCP)
			return -1;
		src = sw_ip_from_v4(ip->src_addr);
		*dst = sw_ip_from_v4(ip->dst_addr);
		*v6 = false;
	} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

		if (len < RTE_ETHER_HDR_LEN + sizeof(*ip) || ip->proto != IPPROTO_TCP)
			return -1;
		memcpy(src.a, ip->src_addr, 16);
		memcpy(dst->a, ip->dst_addr, 16);
		*v6 = true;
	} else {
		return -1; /* ARP, and whatever else a kernel might try */
	}
	return sw_ports_owner(&cp->dp->ports, &src) >= 0 ? 0 : -1;
}

/* The kernel's segments on tap @p ifx out of the DPDK ports. */
static unsigned from_kernel(struct cp_ctx *cp, unsigned tap)
{
	struct rte_mbuf *pkts[CP_BURST];
	uint16_t n = rte_eth_rx_burst(cp->dp->tap.port[tap], 0, pkts, CP_BURST);

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sw_ip dst, nh;
		unsigned ifx;
		bool v6;

		if (kernel_frame(cp, m, &dst, &v6) != 0) {
			cp_count_drop(cp, CP_D_TAP_NOT_TCP, 1);
			rte_pktmbuf_free(m);
			continue;
		}
		/* Routed by destination as every frame of ours, whichever tap
		 * the kernel chose. */
		if (cp_route(cp, &dst, &ifx, NULL, &nh) != 0) {
			cp_count_drop(cp, CP_D_CP_NO_ROUTE, 1);
			rte_pktmbuf_free(m);
			continue;
		}
		cp_count(cp, CP_C_TAP_FROM_KERNEL, 1);
		/* Its peers are apps, most of them strangers to the neighbour
		 * table: an unresolved next hop holds one segment (TCP resends). */
		cp_tx_frame(cp, ifx, m, &nh, v6, true);
	}
	return n;
}

unsigned cp_tap_poll(struct cp_ctx *cp)
{
	unsigned work;

	if (cp->dp->tap.to_kernel == NULL)
		return 0;
	work = to_kernel(cp);
	for (unsigned i = 0; i < cp->dp->ports.n_ifaces; i++)
		work += from_kernel(cp, i);
	return work;
}
