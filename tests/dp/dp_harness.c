/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker pipeline harness (tests/dp, bench/): a dataplane on net_ring
 * virtual ports with no NIC and no hugepages, frames built from a short
 * description (addresses, ports, payload, VLAN, fragments), fed to a
 * worker's pipeline, and what it sent, handed up or dropped read back.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "tests/dp/dp_harness.h"

static bool eal_up;
static char eal_prefix[64];

struct sw_ip dph_ip(const char *text)
{
	struct sw_ip ip = {{0}};
	uint32_t v4;

	if (inet_pton(AF_INET, text, &v4) == 1)
		return sw_ip_from_v4(v4);
	if (inet_pton(AF_INET6, text, ip.a) != 1)
		abort();
	return ip;
}

static void default_policy(struct dp_policy *pol)
{
	static const char *const uas[] = {"friendly-scanner", "sipvicious", "sipcli"};
	struct sw_ip a = dph_ip(DPH_PBX_IP4), b = dph_ip(DPH_PBX_IP6);

	memset(pol, 0, sizeof(*pol));
	dp_prefix_set(&pol->pbx[0], a.a, 128);
	dp_prefix_set(&pol->pbx[1], b.a, 128);
	pol->n_pbx = 2;
	for (unsigned i = 0; i < RTE_DIM(uas); i++) {
		pol->ua[i].len = (uint8_t)strlen(uas[i]);
		memcpy(pol->ua[i].s, uas[i], pol->ua[i].len);
	}
	pol->n_ua = RTE_DIM(uas);
	/* The config defaults (cp_config_filter.c). */
	pol->rates = (struct dp_rates){.source = {10, 20},
				       .prefix = {200, 400},
				       .global = {2000, 4000},
				       .expected = {10, 20},
				       .answer = {1000, 2000}};
}

int dph_init(struct dph *h, const char *prefix)
{
	char pfx[96];
	char *argv[] = {"dph", "--no-huge", "-m",	   "256",	"--no-pci",
			"-l",  "0",	    "--log-level", "*:warning", "--no-telemetry",
			pfx};
	struct dp_ctx *ctx;
	struct sw_iface *ifc;
	struct sw_ip ip6;
	int rc;

	memset(h, 0, sizeof(*h));
	if (!eal_up) {
		snprintf(pfx, sizeof(pfx), "--file-prefix=%s", prefix);
		snprintf(eal_prefix, sizeof(eal_prefix), "%s", prefix);
		if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
			return -EIO;
		eal_up = true;
		urcu_qsbr_register_thread();
	}
	h->rx = rte_ring_create("dph_rx", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	h->tx = rte_ring_create("dph_tx", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (h->rx == NULL || h->tx == NULL)
		return -ENOMEM;
	rc = rte_eth_from_rings("net_ring_dph", &h->rx, 1, &h->tx, 1, 0);
	if (rc < 0)
		return -ENODEV;
	h->port = (uint16_t)rc;

	ctx = rte_zmalloc("dph_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
	if (ctx == NULL)
		return -ENOMEM;
	h->ctx = ctx;
	memset(ctx->p.iface_of_port, -1, sizeof(ctx->p.iface_of_port));
	ctx->p.ports.sip_port = 5060;
	ctx->p.ports.n_names = 1;
	snprintf(ctx->p.ports.names[0], SW_NAME_LEN, "edge.sipwake.test");
	ctx->p.ports.n_ifaces = 1;
	ctx->p.iface_of_port[h->port] = 0;
	ifc = &ctx->p.ports.ifaces[0];
	ifc->port_id = h->port;
	ifc->has_v4 = ifc->has_gw4 = ifc->has_v6 = true;
	ip6 = dph_ip(DPH_SW_IP4);
	ifc->ip4 = sw_ip_v4(&ip6);
	ifc->mask4 = rte_cpu_to_be_32(0xffffff00u);
	ip6 = dph_ip("198.18.0.254");
	ifc->gw4 = sw_ip_v4(&ip6);
	ip6 = dph_ip(DPH_SW_IP6);
	ifc->ip6 = ip6;
	ifc->prefix6 = 64;
	ctx->n_workers = 1;
	ctx->workers[0].lcore_id = rte_lcore_id();
	ctx->rate_sources = 4096;
	ctx->rate_keys = 8192;
	ctx->frag_flows = 256;
	ctx->frag_timeout_ms = 500;
	ctx->frag_buffers = 255;
	ctx->policy = rte_zmalloc("dph_pol", sizeof(*ctx->policy), 0);
	ctx->neigh = sw_neigh_create(4096);
	ctx->src = sw_src_create(65536);
	/* As sipwake runs: unknown sources pay the ban lookup (empty here). */
	ctx->banned = sw_src_create(4096);
	/* And the held-call set, empty: PBX INVITEs pay its check (one load). */
	ctx->held = sw_callset_create(4096);
	/* And the devices held calls wait for, empty: REGISTERs from unknown
	 * sources pay its check (one load). */
	ctx->waking = sw_callset_create(4096);
	if (ctx->policy == NULL || ctx->neigh == NULL || ctx->src == NULL || ctx->banned == NULL ||
	    ctx->held == NULL || ctx->waking == NULL)
		return -ENOMEM;
	default_policy(ctx->policy);
	rc = dp_init(ctx, 8191, 512, 512, 4096);
	if (rc != 0)
		return rc;
	dp_link_fill(ctx);
	h->s.w = &ctx->workers[0];
	h->s.ctx = ctx;
	h->s.ctr = &ctx->workers[0].ctr;
	h->s.pol = ctx->policy;
	h->peer_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x02}};
	return 0;
}

static void rm_runtime_dir(void)
{
	char dir[256], path[512];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", eal_prefix);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void dph_fini(struct dph *h)
{
	struct rte_mbuf *m;

	if (h->ctx == NULL)
		return;
	while ((m = dph_sent(h)) != NULL)
		rte_pktmbuf_free(m);
	dp_fini(h->ctx);
	sw_bind_free(h->ctx->bind); /* a test or benchmark may have made one */
	sw_src_free(h->ctx->banned);
	sw_callset_free(h->ctx->held);
	sw_callset_free(h->ctx->waking);
	sw_src_free(h->ctx->src);
	sw_neigh_free(h->ctx->neigh);
	rte_free(h->ctx->policy);
	rte_free(h->ctx);
	rte_ring_free(h->rx);
	rte_ring_free(h->tx);
	h->ctx = NULL;
	urcu_qsbr_unregister_thread();
	rte_eal_cleanup();
	rm_runtime_dir();
}

/* The whole IP packet of @p p (no fragmentation yet) into @p buf. Returns its length. */
static uint32_t ip_packet(const struct dph_pkt *p, const struct sw_ip *src, const struct sw_ip *dst,
			  bool v6, uint16_t ip_id, uint8_t *buf)
{
	uint16_t udp_len = (uint16_t)(sizeof(struct rte_udp_hdr) + p->len);
	struct rte_udp_hdr *udp;

	if (!v6) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

		*ip = (struct rte_ipv4_hdr){
			.version_ihl = RTE_IPV4_VHL_DEF,
			.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + udp_len)),
			.packet_id = rte_cpu_to_be_16(ip_id),
			.time_to_live = 64,
			.next_proto_id = IPPROTO_UDP,
			.src_addr = sw_ip_v4(src),
			.dst_addr = sw_ip_v4(dst),
		};
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
		*udp = (struct rte_udp_hdr){.src_port = rte_cpu_to_be_16(p->sport),
					    .dst_port =
						    rte_cpu_to_be_16(p->dport ? p->dport : 5060),
					    .dgram_len = rte_cpu_to_be_16(udp_len)};
		memcpy(udp + 1, p->payload, p->len);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		if (p->bad_cksum)
			udp->dgram_cksum ^= 0x5555;
		return (uint32_t)sizeof(*ip) + udp_len;
	}
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)buf;

	*ip = (struct rte_ipv6_hdr){.vtc_flow = rte_cpu_to_be_32(6u << 28),
				    .payload_len = rte_cpu_to_be_16(udp_len),
				    .proto = IPPROTO_UDP,
				    .hop_limits = 64};
	memcpy(ip->src_addr, src->a, 16);
	memcpy(ip->dst_addr, dst->a, 16);
	udp = (struct rte_udp_hdr *)(ip + 1);
	*udp = (struct rte_udp_hdr){.src_port = rte_cpu_to_be_16(p->sport),
				    .dst_port = rte_cpu_to_be_16(p->dport ? p->dport : 5060),
				    .dgram_len = rte_cpu_to_be_16(udp_len)};
	memcpy(udp + 1, p->payload, p->len);
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	if (p->bad_cksum)
		udp->dgram_cksum ^= 0x5555;
	return (uint32_t)sizeof(*ip) + udp_len;
}

/* Ethernet (+ 802.1Q) header then @p l3 into a fresh mbuf. */
static struct rte_mbuf *frame(struct dph *h, const struct dph_pkt *p, bool v6, const void *l3,
			      uint32_t l3_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h->ctx->pool);
	uint32_t l2 = RTE_ETHER_HDR_LEN + (p->vlan ? 4 : 0);
	uint8_t *d;

	if (m == NULL || l2 + l3_len > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(l2 + l3_len));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;

	eth->dst_addr = h->ctx->p.ports.ifaces[0].mac;
	eth->src_addr = h->peer_mac;
	if (p->vlan) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(p->vlan);
		vh->eth_proto = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	} else {
		eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	}
	memcpy(d + l2, l3, l3_len);
	return m;
}

int dph_build(struct dph *h, const struct dph_pkt *p, struct rte_mbuf **out, unsigned max)
{
	static uint16_t ip_id = 1;
	struct sw_ip src = dph_ip(p->src);
	bool v6 = !sw_ip_is_v4(&src);
	struct sw_ip dst = dph_ip(v6 ? DPH_SW_IP6 : DPH_SW_IP4);
	uint8_t *pkt = malloc(65536 + 64), *fr = malloc(2048);
	uint32_t len, hlen = v6 ? 40 : 20, off = 0;
	unsigned n = 0;
	int rc = 0;

	if (pkt == NULL || fr == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* As if the peer had been resolved already (its ARP / NS learned). */
	sw_neigh_update(h->ctx->neigh, h->port, &src, &h->peer_mac, rte_rdtsc());
	len = ip_packet(p, &src, &dst, v6, ip_id, pkt);
	if (p->frag == 0) {
		if (max < 1 || (out[0] = frame(h, p, v6, pkt, len)) == NULL)
			rc = -ENOMEM;
		else
			n = 1;
		goto out;
	}
	/* RFC 791 / RFC 8200 §4.5: the IP payload in 8-byte-aligned pieces. */
	while (off < len - hlen) {
		uint32_t chunk = RTE_MIN((uint32_t)p->frag, len - hlen - off);
		bool more = off + chunk < len - hlen;
		uint32_t flen;

		if (n == max) {
			rc = -ENOSPC;
			goto out;
		}
		if (!v6) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)fr;

			memcpy(fr, pkt, 20);
			memcpy(fr + 20, pkt + 20 + off, chunk);
			ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + chunk));
			ip->fragment_offset = rte_cpu_to_be_16(
				(uint16_t)((off / 8) | (more ? RTE_IPV4_HDR_MF_FLAG : 0)));
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
			flen = 20 + chunk;
		} else {
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)fr;
			uint8_t *fh = fr + 40;
			uint32_t id = rte_cpu_to_be_32(0x1000u + ip_id);

			memcpy(fr, pkt, 40);
			ip->proto = IPPROTO_FRAGMENT;
			ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + chunk));
			fh[0] = IPPROTO_UDP;
			fh[1] = 0;
			fh[2] = (uint8_t)((off >> 8) & 0xff);
			fh[3] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
			memcpy(fh + 4, &id, 4);
			memcpy(fr + 48, pkt + 40 + off, chunk);
			flen = 48 + chunk;
		}
		out[n] = frame(h, p, v6, fr, flen);
		if (out[n] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
		off += chunk;
	}
out:
	ip_id++;
	free(pkt);
	free(fr);
	if (rc != 0) {
		for (unsigned i = 0; i < n; i++)
			rte_pktmbuf_free(out[i]);
		return rc;
	}
	return (int)n;
}

void dph_rx(struct dph *h, struct rte_mbuf **m, unsigned n, uint64_t tsc)
{
	/* The worker's own burst step (dataplane/dp_worker.c): its passes, its
	 * freeing at the end. */
	for (unsigned i = 0; i < n; i += DP_BURST)
		dp_rx_burst(&h->s, 0, m + i, (uint16_t)RTE_MIN(n - i, (unsigned)DP_BURST), tsc);
	dp_frag_tick(&h->s, tsc);
	dp_tx_flush(&h->s, 0);
}

struct rte_mbuf *dph_sent(struct dph *h)
{
	void *m = NULL;

	return rte_ring_dequeue(h->tx, &m) == 0 ? m : NULL;
}

struct rte_mbuf *dph_up(struct dph *h)
{
	void *m = NULL;

	return rte_ring_dequeue(h->ctx->workers[0].up, &m) == 0 ? m : NULL;
}

uint64_t dph_drop(const struct dph *h, enum dp_drop d)
{
	return h->ctx->workers[0].ctr.drop[d];
}

uint64_t dph_count(const struct dph *h, enum dp_counter c)
{
	return h->ctx->workers[0].ctr.c[c];
}

struct dp_link *dph_link(struct dph *h)
{
	dp_link_fill(h->ctx);
	return dp_link(h->ctx);
}
