/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour resolution (RFC 826 ARP, RFC 4861 ND) on the control plane.
 *
 * Workers hand up ARP / ND addressed to us and frames whose next hop has no
 * MAC yet. Here we answer for our addresses, learn peers into the RCU table
 * workers read, hold frames (bounded per next hop and in total) while we
 * probe, and re-probe entries older than neighbours.lifetime_s, removing
 * those that stop answering.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "common/sw_log.h"
#include "controlplane/cp_internal.h"

#define ND_NS		  135
#define ND_NA		  136
#define ND_OPT_SLLA	  1
#define ND_OPT_TLLA	  2
#define NA_FLAG_SOLICITED 0x40
#define NA_FLAG_OVERRIDE  0x20
#define IPPROTO_ICMPV6_	  58

/* NS / NA body after the 4-byte ICMPv6 header (RFC 4861 §4.3, §4.4). */
struct nd_msg {
	uint8_t type, code;
	rte_be16_t cksum;
	uint8_t flags, reserved[3];
	uint8_t target[16];
} __rte_packed;

struct nd_lla_opt {
	uint8_t type, len; /* len in units of 8 bytes: 1 for Ethernet */
	uint8_t mac[RTE_ETHER_ADDR_LEN];
} __rte_packed;

static const struct sw_ip all_nodes = {{0xff, 0x02, [15] = 0x01}};

int cp_neigh_init(struct cp_ctx *cp)
{
	/* Pending next hops are bounded: a scan of many unresolvable
	 * destinations must not pin the pool. */
	cp->n_pending_max = RTE_MIN(cp->cfg.neigh_max, 1024u);
	cp->pending = calloc(cp->n_pending_max, sizeof(*cp->pending));
	return cp->pending != NULL ? 0 : -ENOMEM;
}

static void pending_release(struct cp_ctx *cp, struct cp_pending *p, bool unresolved)
{
	for (unsigned i = 0; i < p->n; i++)
		rte_pktmbuf_free(p->held[i]);
	if (unresolved)
		cp_count_drop(cp, CP_D_NEIGH_UNRESOLVED, p->n);
	if (p->stranger)
		cp->n_pending_stranger--;
	memset(p, 0, sizeof(*p));
}

void cp_neigh_fini(struct cp_ctx *cp)
{
	if (cp->pending == NULL)
		return;
	for (unsigned i = 0; i < cp->n_pending_max; i++)
		if (cp->pending[i].used)
			pending_release(cp, &cp->pending[i], false);
	free(cp->pending);
	cp->pending = NULL;
}

static struct cp_pending *pending_find(struct cp_ctx *cp, unsigned ifx, const struct sw_ip *ip)
{
	for (unsigned i = 0; i < cp->n_pending_max; i++) {
		struct cp_pending *p = &cp->pending[i];

		if (p->used && p->iface == ifx && memcmp(&p->ip, ip, sizeof(*ip)) == 0)
			return p;
	}
	return NULL;
}

static struct cp_pending *pending_new(struct cp_ctx *cp, unsigned ifx, const struct sw_ip *ip)
{
	for (unsigned i = 0; i < cp->n_pending_max; i++) {
		struct cp_pending *p = &cp->pending[i];

		if (!p->used) {
			*p = (struct cp_pending){.used = true, .iface = (uint8_t)ifx, .ip = *ip};
			return p;
		}
	}
	return NULL;
}

/* Write a neighbour solicitation or advertisement into @p m (reused). */
static void nd_build(struct rte_mbuf *m, const struct sw_iface *ifc, uint8_t type, uint8_t flags,
		     const struct sw_ip *src, const struct sw_ip *dst,
		     const struct rte_ether_addr *dst_mac, const struct sw_ip *target)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	struct nd_msg *nd = (struct nd_msg *)(ip + 1);
	struct nd_lla_opt *opt = (struct nd_lla_opt *)(nd + 1);
	uint16_t plen = sizeof(*nd) + sizeof(*opt);

	eth->dst_addr = *dst_mac;
	eth->src_addr = ifc->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	*ip = (struct rte_ipv6_hdr){.vtc_flow = rte_cpu_to_be_32(6u << 28),
				    .payload_len = rte_cpu_to_be_16(plen),
				    .proto = IPPROTO_ICMPV6_,
				    .hop_limits = 255};
	memcpy(ip->src_addr, src->a, 16);
	memcpy(ip->dst_addr, dst->a, 16);
	*nd = (struct nd_msg){.type = type, .flags = flags};
	memcpy(nd->target, target->a, 16);
	*opt = (struct nd_lla_opt){.type = type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA, .len = 1};
	memcpy(opt->mac, ifc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	nd->cksum = rte_ipv6_udptcp_cksum(ip, nd);
	m->data_len = m->pkt_len = (uint32_t)(sizeof(*eth) + sizeof(*ip) + plen);
}

static void arp_build(struct rte_mbuf *m, const struct sw_iface *ifc, uint16_t op,
		      const struct rte_ether_addr *dst_mac, const struct rte_ether_addr *tha,
		      rte_be32_t tip)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	eth->dst_addr = *dst_mac;
	eth->src_addr = ifc->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	*arp = (struct rte_arp_hdr){
		.arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER),
		.arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4),
		.arp_hlen = RTE_ETHER_ADDR_LEN,
		.arp_plen = 4,
		.arp_opcode = rte_cpu_to_be_16(op),
		.arp_data = {.arp_sha = ifc->mac,
			     .arp_sip = ifc->ip4,
			     .arp_tha = *tha,
			     .arp_tip = tip},
	};
	m->data_len = m->pkt_len = (uint32_t)(sizeof(*eth) + sizeof(*arp));
}

static void probe(struct cp_ctx *cp, struct cp_pending *p)
{
	const struct sw_iface *ifc = &cp->dp->ports.ifaces[p->iface];
	struct rte_mbuf *m = rte_pktmbuf_alloc(cp->dp->pool);
	static const struct rte_ether_addr zero_mac;

	if (m == NULL) {
		cp_count_drop(cp, CP_D_CP_NO_MBUF, 1);
		return;
	}
	if (sw_ip_is_v4(&p->ip)) {
		struct rte_ether_addr bcast;

		memset(&bcast, 0xff, sizeof(bcast));
		arp_build(m, ifc, RTE_ARP_OP_REQUEST, p->refresh ? &p->known_mac : &bcast,
			  &zero_mac, sw_ip_v4(&p->ip));
	} else {
		/* RFC 4861 §7.2.2: to the solicited-node group, or unicast
		 * when re-checking a known neighbour. */
		struct sw_ip dst = p->ip;
		struct rte_ether_addr mac = p->known_mac;

		if (!p->refresh) {
			dst = sw_ip_solicited_node(&p->ip);
			mac = sw_ip_mcast_mac(&dst);
		}
		nd_build(m, ifc, ND_NS, 0, sw_ip_is_link_local(&p->ip) ? &ifc->ll6 : &ifc->ip6,
			 &dst, &mac, &p->ip);
	}
	p->probes++;
	p->next_probe_tsc = rte_rdtsc() + cp->retry_tsc;
	cp_count(cp, CP_C_NEIGH_PROBES, 1);
	cp_send(cp, p->worker, p->iface, m);
}

/* A neighbour proved its MAC: record it and send what waited for it. */
static void learned(struct cp_ctx *cp, unsigned ifx, const struct sw_ip *ip,
		    const struct rte_ether_addr *mac)
{
	const struct sw_iface *ifc = &cp->dp->ports.ifaces[ifx];
	struct sw_neigh_info old;
	bool existed = sw_neigh_get(cp->dp->neigh, ifc->port_id, ip, &old);
	struct cp_pending *p;
	int rc;

	rc = sw_neigh_update(cp->dp->neigh, ifc->port_id, ip, mac, rte_rdtsc());
	if (rc == -ENOSPC || rc == -ENOMEM) {
		cp_count_drop(cp, CP_D_NEIGH_TABLE_FULL, 1);
	} else if (!existed || !rte_is_same_ether_addr(&old.mac, mac)) {
		char buf[INET6_ADDRSTRLEN];

		cp_count(cp, CP_C_NEIGH_LEARNED, 1);
		CP_LOG(DEBUG, "neighbour %s is " RTE_ETHER_ADDR_PRT_FMT,
		       sw_ip_str(ip, buf, sizeof(buf)), RTE_ETHER_ADDR_BYTES(mac));
	}
	p = pending_find(cp, ifx, ip);
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(p->held[i], struct rte_ether_hdr *);

		eth->dst_addr = *mac;
		cp_send(cp, p->worker, ifx, p->held[i]);
	}
	cp_count(cp, CP_C_NEIGH_HELD_SENT, p->n);
	p->n = 0;
	pending_release(cp, p, false);
}

void cp_neigh_arp_in(struct cp_ctx *cp, struct rte_mbuf *m)
{
	const struct dp_meta *meta = DP_META(m);
	unsigned ifx = meta->iface;
	const struct sw_iface *ifc = &cp->dp->ports.ifaces[ifx];
	struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, meta->l3_off);
	uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
	rte_be32_t sip = arp->arp_data.arp_sip;
	struct rte_ether_addr sha = arp->arp_data.arp_sha;
	struct sw_ip peer = sw_ip_from_v4(sip);

	/* The worker checked lengths and that the target is ours. */
	if (rte_is_multicast_ether_addr(&sha) ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
		cp_count_drop(cp, CP_D_NEIGH_INVALID, 1);
		rte_pktmbuf_free(m);
		return;
	}
	/* RFC 826: a request for us teaches us its sender. A reply is only
	 * believed when we asked, or to refresh what we know (no unsolicited
	 * poisoning of the table). Only on-link senders are neighbours; a
	 * request from a host's secondary, off-subnet address is still
	 * answered (at L2, as Linux does) but not learned. sip 0 is an
	 * RFC 5227 probe: answered, not learned. */
	if (sip != 0 && sw_iface_on_link(ifc, &peer) &&
	    (op == RTE_ARP_OP_REQUEST || pending_find(cp, ifx, &peer) != NULL ||
	     sw_neigh_get(cp->dp->neigh, ifc->port_id, &peer, NULL)))
		learned(cp, ifx, &peer, &sha);
	else if (op == RTE_ARP_OP_REPLY)
		cp_count_drop(cp, CP_D_NEIGH_INVALID, 1);

	if (op != RTE_ARP_OP_REQUEST) {
		rte_pktmbuf_free(m);
		return;
	}
	arp_build(m, ifc, RTE_ARP_OP_REPLY, &sha, &sha, sip);
	cp_count(cp, CP_C_ARP_ANSWERED, 1);
	cp_send(cp, meta->worker, ifx, m);
}

/* Link-layer address option of type @p want among ND options; NULL if
 * absent. Options with length 0 make the whole message invalid (RFC 4861 §4.6). */
static int nd_find_lla(const uint8_t *opt, uint32_t len, uint8_t want, struct rte_ether_addr *mac)
{
	int found = 0;

	while (len > 0) {
		uint32_t olen;

		if (len < 2 || opt[1] == 0)
			return -EINVAL;
		olen = (uint32_t)opt[1] * 8;
		if (olen > len)
			return -EINVAL;
		if (opt[0] == want && olen >= 8) {
			memcpy(mac, opt + 2, RTE_ETHER_ADDR_LEN);
			found = 1;
		}
		opt += olen;
		len -= olen;
	}
	return found;
}

void cp_neigh_nd_in(struct cp_ctx *cp, struct rte_mbuf *m)
{
	const struct dp_meta *meta = DP_META(m);
	unsigned ifx = meta->iface;
	const struct sw_iface *ifc = &cp->dp->ports.ifaces[ifx];
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, meta->l3_off);
	uint32_t plen = rte_be_to_cpu_16(ip->payload_len);
	const struct nd_msg *nd = (const struct nd_msg *)(ip + 1);
	struct sw_ip src, target;
	struct rte_ether_addr lla;
	int has_lla;

	if (plen < sizeof(*nd)) {
		cp_count_drop(cp, CP_D_NEIGH_INVALID, 1);
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(src.a, ip->src_addr, 16);
	memcpy(target.a, nd->target, 16);
	has_lla = nd_find_lla((const uint8_t *)(nd + 1), plen - (uint32_t)sizeof(*nd),
			      nd->type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA, &lla);
	if (has_lla < 0 || (has_lla == 1 && rte_is_multicast_ether_addr(&lla))) {
		cp_count_drop(cp, CP_D_NEIGH_INVALID, 1);
		rte_pktmbuf_free(m);
		return;
	}

	if (nd->type == ND_NA) {
		/* Believed only when we asked or already know it (as ARP). */
		if (has_lla == 1 && (pending_find(cp, ifx, &target) != NULL ||
				     sw_neigh_get(cp->dp->neigh, ifc->port_id, &target, NULL)))
			learned(cp, ifx, &target, &lla);
		else
			cp_count_drop(cp, CP_D_NEIGH_INVALID, 1);
		rte_pktmbuf_free(m);
		return;
	}

	/* NS: answer only for our own addresses. */
	if (memcmp(&target, &ifc->ip6, sizeof(target)) != 0 &&
	    memcmp(&target, &ifc->ll6, sizeof(target)) != 0) {
		cp_count_drop(cp, CP_D_NEIGH_INVALID, 1);
		rte_pktmbuf_free(m);
		return;
	}
	bool dad = memcmp(&src, &(struct sw_ip){0}, sizeof(src)) == 0;
	struct rte_ether_addr to_mac = rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr;
	struct sw_ip to = src;
	uint8_t flags = NA_FLAG_OVERRIDE;

	if (dad) {
		/* RFC 4861 §7.2.4: a DAD probe for our address is answered
		 * to all-nodes, unsolicited; it must carry no SLLA. */
		if (has_lla == 1) {
			cp_count_drop(cp, CP_D_NEIGH_INVALID, 1);
			rte_pktmbuf_free(m);
			return;
		}
		to = all_nodes;
		to_mac = (struct rte_ether_addr){{0x33, 0x33, 0, 0, 0, 1}};
	} else {
		flags |= NA_FLAG_SOLICITED;
		if (has_lla == 1) {
			learned(cp, ifx, &src, &lla);
			to_mac = lla;
		}
	}
	nd_build(m, ifc, ND_NA, flags, &target, &to, &to_mac, &target);
	cp_count(cp, CP_C_ND_ANSWERED, 1);
	cp_send(cp, meta->worker, ifx, m);
}

void cp_neigh_hold(struct cp_ctx *cp, struct rte_mbuf *m)
{
	const struct dp_meta *meta = DP_META(m);
	unsigned ifx = meta->iface;
	const struct sw_iface *ifc = &cp->dp->ports.ifaces[ifx];
	struct rte_ether_addr mac;
	struct cp_pending *p;

	/* Resolved between the worker's lookup and now: just send. */
	if (sw_neigh_lookup(cp->dp->neigh, ifc->port_id, &meta->nexthop, &mac) == 0) {
		rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = mac;
		cp_send(cp, meta->worker, ifx, m);
		return;
	}
	p = pending_find(cp, ifx, &meta->nexthop);
	if (meta->stranger) {
		/* An answer to a stranger (a spoofed source, most of them under
		 * a flood) never takes room that the PBX, bound devices and our
		 * own transactions need: it waits only in a next hop of its own,
		 * one answer each, and strangers open at most a quarter of the
		 * table. Anything more is dropped; the source asks again
		 * (docs/admission.md). */
		if (p == NULL && cp->n_pending_stranger < RTE_MAX(cp->n_pending_max / 4, 1u) &&
		    (p = pending_new(cp, ifx, &meta->nexthop)) != NULL) {
			p->worker = meta->worker;
			p->stranger = true;
			cp->n_pending_stranger++;
			probe(cp, p);
		}
		if (p == NULL || !p->stranger || p->n != 0) {
			cp_count_drop(cp, CP_D_NEIGH_STRANGER_UNHELD, 1);
			rte_pktmbuf_free(m);
			return;
		}
		p->held[p->n++] = m;
		return;
	}
	if (p == NULL) {
		p = pending_new(cp, ifx, &meta->nexthop);
		if (p == NULL) {
			cp_count_drop(cp, CP_D_NEIGH_HOLD_FULL, 1);
			rte_pktmbuf_free(m);
			return;
		}
		p->worker = meta->worker;
		probe(cp, p);
	}
	p->refresh = false;
	if (p->n >= cp->cfg.neigh_queue) {
		cp_count_drop(cp, CP_D_NEIGH_HOLD_FULL, 1);
		rte_pktmbuf_free(m);
		return;
	}
	p->held[p->n++] = m;
}

void cp_neigh_tick(struct cp_ctx *cp, uint64_t now)
{
	for (unsigned i = 0; i < cp->n_pending_max; i++) {
		struct cp_pending *p = &cp->pending[i];

		if (!p->used || now < p->next_probe_tsc)
			continue;
		if (p->probes < cp->cfg.neigh_probes) {
			probe(cp, p);
			continue;
		}
		/* No answer to any probe: the peer is gone. */
		if (p->refresh)
			sw_neigh_remove(cp->dp->neigh, cp->dp->ports.ifaces[p->iface].port_id,
					&p->ip);
		pending_release(cp, p, true);
	}
}

struct age_arg {
	struct cp_ctx *cp;
	uint64_t now;
};

static int age_one(const struct sw_neigh_info *e, void *arg)
{
	struct age_arg *a = arg;
	struct cp_ctx *cp = a->cp;
	struct cp_pending *p;
	int ifx = -1;

	if (a->now - e->confirmed_tsc < cp->lifetime_tsc)
		return 0;
	for (unsigned i = 0; i < cp->dp->ports.n_ifaces; i++)
		if (cp->dp->ports.ifaces[i].port_id == e->port)
			ifx = (int)i;
	if (ifx < 0 || pending_find(cp, (unsigned)ifx, &e->ip) != NULL)
		return 0;
	p = pending_new(cp, (unsigned)ifx, &e->ip);
	if (p == NULL)
		return 1; /* full: try the rest next round */
	p->refresh = true;
	p->known_mac = e->mac;
	probe(cp, p);
	return 0;
}

void cp_neigh_age(struct cp_ctx *cp, uint64_t now)
{
	struct age_arg a = {.cp = cp, .now = now};

	sw_neigh_foreach(cp->dp->neigh, age_one, &a);
}
