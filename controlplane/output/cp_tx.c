/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP datagrams the control plane sends (relayed REGISTERs, the answers to
 * them, pings), and any finished IP frame (the kernel's TCP segments from
 * the exception path): built here as whole frames and given to a worker's down
 * ring, which only queues them for TX. The next hop is resolved here (the
 * neighbour table, or held while ARP / ND runs, docs/design.md §7 "Outbound
 * path"); a datagram over the interface MTU leaves as IP fragments.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "controlplane/cp_internal.h"

#define TTL_OUT 64

int cp_route(const struct cp_ctx *cp, const struct sw_ip *dst, unsigned *ifx, struct sw_ip *src,
	     struct sw_ip *nexthop)
{
	return sw_ports_route(&cp->dp->ports, dst, -1, ifx, src, nexthop);
}

void cp_tx_frame(struct cp_ctx *cp, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *nh,
		 bool v6, bool stranger)
{
	const struct sw_iface *ifc = &cp->dp->ports.ifaces[ifx];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct dp_meta *meta = DP_META(m);

	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	meta->iface = (uint8_t)ifx;
	meta->worker = 0;
	meta->nexthop = *nh;
	meta->stranger = stranger;
	if (sw_neigh_lookup(cp->dp->neigh, ifc->port_id, nh, &eth->dst_addr) == 0)
		cp_send(cp, 0, ifx, m);
	else
		cp_neigh_hold(cp, m);
}

static uint16_t udp_cksum(const struct sw_ip *src, const struct sw_ip *dst,
			  const struct rte_udp_hdr *udp, const void *payload, uint16_t len)
{
	uint32_t sum;
	uint16_t ulen = (uint16_t)(sizeof(*udp) + len);

	/* Pseudo-header (RFC 768 / RFC 8200 §8.1), the UDP header, the payload. */
	if (sw_ip_is_v4(src)) {
		sum = rte_raw_cksum(&src->a[12], 4) + rte_raw_cksum(&dst->a[12], 4);
	} else {
		sum = rte_raw_cksum(src->a, 16) + rte_raw_cksum(dst->a, 16);
	}
	sum += rte_cpu_to_be_16(ulen) + rte_cpu_to_be_16(IPPROTO_UDP);
	sum += rte_raw_cksum(udp, sizeof(*udp));
	sum += rte_raw_cksum(payload, len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;

	return c == 0 ? 0xffff : c;
}

/*
 * One IP packet: headers, then @plen bytes of the UDP datagram from @off
 * (the UDP header is bytes 0..7 of the datagram). Fragment fields per
 * RFC 791 / RFC 8200 §4.5 when @frag.
 */
static struct rte_mbuf *ip_packet(struct cp_ctx *cp, const struct sw_ip *src,
				  const struct sw_ip *dst, const uint8_t *udp_dgram,
				  uint16_t dgram_len, uint16_t off, uint16_t plen, bool frag,
				  uint32_t frag_id)
{
	bool v6 = !sw_ip_is_v4(dst);
	uint16_t l3 = v6 ? (uint16_t)(sizeof(struct rte_ipv6_hdr) + (frag ? 8 : 0))
			 : (uint16_t)sizeof(struct rte_ipv4_hdr);
	struct rte_mbuf *m = rte_pktmbuf_alloc(cp->dp->pool);
	uint8_t *p;
	bool more = (uint32_t)off + plen < dgram_len;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + l3 + plen));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	p += RTE_ETHER_HDR_LEN;
	if (!v6) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		*ip = (struct rte_ipv4_hdr){
			.version_ihl = RTE_IPV4_VHL_DEF,
			.total_length = rte_cpu_to_be_16((uint16_t)(l3 + plen)),
			.packet_id = rte_cpu_to_be_16((uint16_t)frag_id),
			.fragment_offset = rte_cpu_to_be_16(
				(uint16_t)((off >> 3) | (more ? RTE_IPV4_HDR_MF_FLAG : 0))),
			.time_to_live = TTL_OUT,
			.next_proto_id = IPPROTO_UDP,
			.src_addr = sw_ip_v4(src),
			.dst_addr = sw_ip_v4(dst),
		};
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		*ip = (struct rte_ipv6_hdr){
			.vtc_flow = rte_cpu_to_be_32(6u << 28),
			.payload_len = rte_cpu_to_be_16((uint16_t)(l3 - sizeof(*ip) + plen)),
			.proto = frag ? 44 : IPPROTO_UDP,
			.hop_limits = TTL_OUT,
		};
		memcpy(ip->src_addr, src->a, 16);
		memcpy(ip->dst_addr, dst->a, 16);
		if (frag) {
			uint8_t *fh = (uint8_t *)(ip + 1);
			uint16_t fo = (uint16_t)(off | (more ? 1 : 0));
			rte_be32_t id = rte_cpu_to_be_32(frag_id);

			fh[0] = IPPROTO_UDP;
			fh[1] = 0;
			fh[2] = (uint8_t)(fo >> 8);
			fh[3] = (uint8_t)fo;
			memcpy(fh + 4, &id, 4);
		}
	}
	memcpy(p + l3, udp_dgram + off, plen);
	return m;
}

int cp_udp_send(struct cp_ctx *cp, const struct sw_ip *dst, uint16_t dport, const void *payload,
		uint16_t len)
{
	return cp_udp_send_as(cp, dst, dport, payload, len, false);
}

int cp_udp_send_as(struct cp_ctx *cp, const struct sw_ip *dst, uint16_t dport, const void *payload,
		   uint16_t len, bool stranger)
{
	static uint8_t dgram[sizeof(struct rte_udp_hdr) + CP_MSG_MAX];
	struct sw_ip src, nh;
	unsigned ifx;
	bool v6 = !sw_ip_is_v4(dst);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)dgram;
	uint16_t dlen = (uint16_t)(sizeof(*udp) + len), mtu, l3, room;

	if (len > CP_MSG_MAX)
		return -EMSGSIZE;
	if (cp_route(cp, dst, &ifx, &src, &nh) != 0) {
		cp_count_drop(cp, CP_D_CP_NO_ROUTE, 1);
		return -ENETUNREACH;
	}
	*udp = (struct rte_udp_hdr){.src_port = rte_cpu_to_be_16(cp->dp->ports.sip_port),
				    .dst_port = rte_cpu_to_be_16(dport),
				    .dgram_len = rte_cpu_to_be_16(dlen)};
	memcpy(dgram + sizeof(*udp), payload, len);
	udp->dgram_cksum = udp_cksum(&src, dst, udp, payload, len);

	mtu = cp->dp->ports.ifaces[ifx].mtu != 0 ? cp->dp->ports.ifaces[ifx].mtu : 1500;
	l3 = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	if ((uint32_t)l3 + dlen <= mtu) {
		struct rte_mbuf *m =
			ip_packet(cp, &src, dst, dgram, dlen, 0, dlen, false, cp->ip_id++);

		if (m == NULL)
			goto no_mbuf;
		cp_tx_frame(cp, ifx, m, &nh, v6, stranger);
		return 0;
	}
	/* Fragments carry multiples of 8 bytes but the last (RFC 791, RFC 8200 §4.5).
	 * Never held as a stranger's: its quota holds one frame per next hop. */
	room = (uint16_t)((mtu - l3 - (v6 ? 8 : 0)) & ~7u);
	{
		uint32_t id = cp->ip_id++;
		struct rte_mbuf *frags[64];
		unsigned n = 0;

		for (uint16_t off = 0; off < dlen; off = (uint16_t)(off + room)) {
			uint16_t plen = (uint16_t)RTE_MIN((uint32_t)room, (uint32_t)dlen - off);

			frags[n] = ip_packet(cp, &src, dst, dgram, dlen, off, plen, true, id);
			if (frags[n] == NULL) {
				rte_pktmbuf_free_bulk(frags, n);
				goto no_mbuf;
			}
			n++;
		}
		for (unsigned i = 0; i < n; i++)
			cp_tx_frame(cp, ifx, frags[i], &nh, v6, false);
		cp_count(cp, CP_C_TX_FRAGMENTED, 1);
	}
	return 0;

no_mbuf:
	cp_count_drop(cp, CP_D_CP_NO_MBUF, 1);
	return -ENOMEM;
}
