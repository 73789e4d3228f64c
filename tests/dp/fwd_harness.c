/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the forwarding tests (test_dp_fwd*.c) share, on top of the dataplane
 * harness (dp_harness.h): a harness with real binding tables holding the
 * devices below, frames fed from a source, and what the port sent parsed
 * back (IP / UDP headers and checksums checked, fragments reassembled) and
 * compared with what it must be.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "tests/dp/fwd_harness.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers" /* rows name what they set */

struct dph h;
unsigned nic_cksum_frames;
uint64_t T0;

struct dev_row {
	const char *aor, *contact, *ip;
	uint16_t port;
	const char *pn_provider, *pn_prid, *pn_param;
	bool asleep;
};

static const struct dev_row devs[] = {
	/* Registered with its push parameters in another order than the PBX's
	 * Request-URI has them: only the push key finds it. */
	{"alice@example.com",
	 "sip:alice@198.18.0.2:5078;pn-provider=apns;pn-param=ABCDE12345.com.example.phone.voip;"
	 "pn-prid=6b1f0a4e2d",
	 ALICE, 5078, "apns", "6b1f0a4e2d", "ABCDE12345.com.example.phone.voip"},
	{"bob@example.com", "sip:bob@198.18.0.3:5080;transport=udp", BOB, 5080},
	{"carol@example.com", "sip:carol@10.0.0.7:5090", CAROL, 40000},
	{"dave@example.com", "sip:dave@198.18.0.6:5070", DAVE, 5070, .asleep = true},
	{"eve@example.com", "sip:eve@198.18.0.10:5060", EVE1, 5060},
	{"eve@example.com", "sip:eve@198.18.0.11:5060", EVE2, 5060},
	{"gina@example.com", "sip:gina@[2001:db8:5e::7]:5078", GINA6, 5078},
};

/* ---- frames in ---- */

void feed(const char *src, uint16_t sport, const char *msg, size_t len, uint16_t frag)
{
	struct dph_pkt p = {
		.src = src, .sport = sport, .payload = msg, .len = (uint32_t)len, .frag = frag};
	struct rte_mbuf *m[16];
	int n = dph_build(&h, &p, m, 16);

	assert_true(n > 0);
	dph_rx(&h, m, (unsigned)n, T0);
	urcu_qsbr_quiescent_state(); /* the worker's once-per-loop quiescent state */
}

void feed_str(const char *src, uint16_t sport, const char *msg)
{
	feed(src, sport, msg, strlen(msg), 0);
}

/* ---- frames out ---- */

static bool is_v6(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
	       rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
}

/* The UDP header + payload @p udp of @p ulen bytes: checksum and payload out. */
static void udp_out(struct out *o, const struct rte_udp_hdr *udp, uint32_t ulen)
{
	assert_int_equal(rte_be_to_cpu_16(udp->dgram_len), ulen);
	assert_int_not_equal(udp->dgram_cksum, 0);
	o->sport = rte_be_to_cpu_16(udp->src_port);
	o->dport = rte_be_to_cpu_16(udp->dst_port);
	o->len = ulen - 8;
	o->msg = malloc(o->len + 1);
	memcpy(o->msg, udp + 1, o->len);
	o->msg[o->len] = '\0';
}

/* Every frame the pipeline sent for one datagram: one, or its IP fragments,
 * checked piece by piece (offsets in order, MF / M on all but the last, 8-byte
 * multiples, one identification, no frame above the MTU) and reassembled. */
/*
 * What a NIC with TX checksum offload does to a frame the worker left to it
 * (dataplane/dp_fwd_msg.c): checked against DPDK's contract (IPv4 header
 * checksum 0, the UDP field seeded with the pseudo header's sum), then
 * completed, so that what follows checks the frame as it leaves the port.
 */
static void nic_cksum(struct out *o, struct rte_mbuf *m)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, RTE_ETHER_HDR_LEN);

	if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == 0)
		return;
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
	assert_int_equal(m->l2_len, RTE_ETHER_HDR_LEN);
	o->nic_cksum = true;
	nic_cksum_frames++;
	if (!o->v6) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		assert_true(m->ol_flags & RTE_MBUF_F_TX_IPV4);
		assert_true(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
		assert_int_equal(m->l3_len, 20);
		assert_int_equal(ip->hdr_checksum, 0);
		assert_int_equal(udp->dgram_cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags));
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		assert_true(m->ol_flags & RTE_MBUF_F_TX_IPV6);
		assert_int_equal(m->l3_len, 40);
		assert_int_equal(ip->proto, IPPROTO_UDP);
		assert_int_equal(udp->dgram_cksum, rte_ipv6_phdr_cksum(ip, m->ol_flags));
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	}
}

void take(struct out *o)
{
	uint8_t *dg = calloc(1, 70000); /* [IP header][UDP datagram] reassembled */
	struct rte_mbuf *m;
	uint32_t next_off = 0, id = 0, mtu = h.ctx->p.ports.ifaces[0].mtu;
	bool more = true;

	memset(o, 0, sizeof(*o));
	while (more && (m = dph_sent(&h)) != NULL) {
		const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);
		uint32_t l3_len = rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN, off, n;

		assert_int_equal(m->nb_segs, 1);
		assert_true(l3_len <= mtu);
		o->v6 = is_v6(m);
		nic_cksum(o, m);
		if (!o->v6) {
			const struct rte_ipv4_hdr *ip = (const void *)l3;
			uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);

			assert_int_equal(ip->version_ihl, RTE_IPV4_VHL_DEF);
			assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
			assert_int_equal(rte_be_to_cpu_16(ip->total_length), l3_len);
			assert_int_equal(ip->next_proto_id, IPPROTO_UDP);
			off = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8;
			more = (fo & RTE_IPV4_HDR_MF_FLAG) != 0;
			if (o->frames == 0) {
				id = ip->packet_id;
				memcpy(dg, ip, 20);
			}
			assert_int_equal(ip->packet_id, id);
			o->src = sw_ip_from_v4(ip->src_addr);
			o->dst = sw_ip_from_v4(ip->dst_addr);
			n = l3_len - 20;
			memcpy(dg + 20 + off, l3 + 20, n);
		} else {
			const struct rte_ipv6_hdr *ip = (const void *)l3;
			uint32_t hl = 40;

			assert_int_equal(rte_be_to_cpu_16(ip->payload_len), l3_len - 40);
			if (o->frames == 0)
				memcpy(dg, ip, 40);
			if (ip->proto == IPPROTO_FRAGMENT) {
				const struct rte_ipv6_fragment_ext *fx = (const void *)(ip + 1);
				uint16_t fd = rte_be_to_cpu_16(fx->frag_data);

				assert_int_equal(fx->next_header, IPPROTO_UDP);
				off = fd & 0xfff8u;
				more = (fd & 1) != 0;
				if (o->frames == 0)
					id = fx->id;
				assert_int_equal(fx->id, id);
				hl += 8;
			} else {
				assert_int_equal(ip->proto, IPPROTO_UDP);
				off = 0;
				more = false;
			}
			memcpy(o->src.a, ip->src_addr, 16);
			memcpy(o->dst.a, ip->dst_addr, 16);
			n = l3_len - hl;
			memcpy(dg + 40 + off, l3 + hl, n);
		}
		assert_int_equal(off, next_off);
		if (more)
			assert_int_equal(n % 8, 0);
		next_off = off + n;
		o->frames++;
		rte_pktmbuf_free(m);
	}
	assert_true(o->frames > 0);
	assert_false(more);
	/* The reassembled datagram's UDP checksum, as the receiver checks it. */
	if (!o->v6) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)dg;

		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + next_off));
		ip->fragment_offset = 0;
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, dg + 20), 0);
		udp_out(o, (const struct rte_udp_hdr *)(dg + 20), next_off);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)dg;

		ip->proto = IPPROTO_UDP;
		ip->payload_len = rte_cpu_to_be_16((uint16_t)next_off);
		assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, dg + 40), 0);
		udp_out(o, (const struct rte_udp_hdr *)(dg + 40), next_off);
	}
	free(dg);
}

void expect_to(const struct out *o, const char *ip, uint16_t port)
{
	struct sw_ip want = dph_ip(ip), from = dph_ip(sw_ip_is_v4(&want) ? SW : DPH_SW_IP6);

	assert_memory_equal(o->dst.a, want.a, 16);
	assert_memory_equal(o->src.a, from.a, 16);
	assert_int_equal(o->dport, port);
	assert_int_equal(o->sport, 5060);
}

/* The branch we put in the message's top Via (16 hex digits). */
void fwd_branch_of(const struct out *o, char br[BR_LEN + 1])
{
	const char *p = strstr(o->msg, "branch=z9hG4bK-swS");

	assert_non_null(p);
	p += strlen("branch=z9hG4bK-swS");
	for (int i = 0; i < BR_LEN; i++) {
		assert_non_null(strchr("0123456789abcdef", p[i]));
		br[i] = p[i];
	}
	br[BR_LEN] = '\0';
	assert_true(p[BR_LEN] == '\r');
}

/* The message must be exactly @p fmt with our branch in place of its one "%s". */
void expect_msg(const struct out *o, const char *fmt, char br[BR_LEN + 1])
{
	const char *at = strstr(fmt, "%s");
	size_t pre;
	char *want;

	char *swd = strstr(o->msg, ";" DP_ROUTE_DEVICE_PARAM "=");

	assert_non_null(at);
	if (swd != NULL) {
		/* Our Record-Route names a device that exists (the callee, or the
		 * caller for a device's own call); checked here, then taken out so
		 * the rest compares byte for byte. */
		uint64_t id = strtoull(swd + 5, NULL, 16);

		assert_int_equal(strspn(swd + 5, "0123456789abcdef"), 16);
		assert_non_null(sw_bind_by_id(h.ctx->bind, id));
		memmove(swd, swd + 21, strlen(swd + 21) + 1);
	}
	pre = (size_t)(at - fmt);
	want = malloc(strlen(fmt) + BR_LEN + 1);
	fwd_branch_of(o, br);
	memcpy(want, fmt, pre);
	memcpy(want + pre, br, BR_LEN);
	strcpy(want + pre + BR_LEN, at + 2);
	if (strcmp(o->msg, want) != 0) {
		size_t i = 0;

		while (o->msg[i] == want[i])
			i++;
		print_error("forwarded (%u bytes) and expected (%zu) differ at byte %zu: "
			    "\"%.40s\" / \"%.40s\"\n%.1500s\n",
			    o->len, strlen(want), i, o->msg + i, want + i, o->msg);
		fail();
	}
	free(want);
}

void nothing_else(void)
{
	assert_null(dph_sent(&h));
	assert_null(dph_up(&h));
}

void expect_up(const char *what, enum dp_counter c, uint64_t before)
{
	struct rte_mbuf *m = dph_up(&h);

	if (m == NULL) {
		print_error("%s: not handed up\n", what);
		fail();
	}
	assert_int_equal(DP_META(m)->kind, DP_UP_SIP);
	assert_int_equal(DP_META(m)->src_class, DP_SRC_PBX);
	rte_pktmbuf_free(m);
	assert_int_equal(dph_count(&h, c), before + 1);
	nothing_else();
}

/* A stateless answer from sipwake to the PBX, starting with @p status_line. */
void expect_answer(const char *status_line, enum dp_counter c, uint64_t before)
{
	struct out o;

	take(&o);
	expect_to(&o, PBX, 5060);
	if (strncmp(o.msg, status_line, strlen(status_line)) != 0) {
		print_error("answered \"%.40s\", expected \"%s\"\n", o.msg, status_line);
		fail();
	}
	assert_int_equal(dph_count(&h, c), before + 1);
	free(o.msg);
	nothing_else();
}

/* ---- set-up ---- */

int fwd_setup(void **state)
{
	static const struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 0x07}};
	const char *neigh[] = {PBX, PBX2, ALICE, BOB, CAROL, DAVE, EVE1, EVE2, GINA6};
	struct dp_ctx *ctx;
	char prefix[64];
	uint64_t hz;

	(void)state;
	/* One EAL file prefix per process: test binaries may run in parallel. */
	snprintf(prefix, sizeof(prefix), "dpfwd%d", (int)getpid());
	if (dph_init(&h, prefix) != 0)
		return -1;
	ctx = h.ctx;
	hz = rte_get_tsc_hz();
	T0 = rte_rdtsc() + 1000 * hz;
	ctx->p.ports.ifaces[0].mtu = 1500;
	ctx->p.alive_window_tsc = 75 * hz;
	ctx->p.n_servers = 2;
	ctx->p.servers[0] = (struct dp_server){.ip = dph_ip(PBX), .port = 5060};
	ctx->p.servers[1] = (struct dp_server){.ip = dph_ip(PBX2), .port = 5070};
	dp_policy_servers_from(ctx->policy, &ctx->p);
	ctx->bind = sw_bind_create(64, ctx->src);
	if (ctx->bind == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		const struct dev_row *d = &devs[i];
		struct sw_bind_rec r = {
			.aor = d->aor,
			.aor_len = (uint16_t)strlen(d->aor),
			.contact = d->contact,
			.contact_len = (uint16_t)strlen(d->contact),
			.src = dph_ip(d->ip),
			.sport = d->port,
			.expires_at = INT64_MAX,
		};

		if (d->pn_provider != NULL) {
			r.pn_form = SW_PN_RFC8599;
			r.pn_provider = d->pn_provider;
			r.pn_provider_len = (uint16_t)strlen(d->pn_provider);
			r.pn_prid = d->pn_prid;
			r.pn_prid_len = (uint16_t)strlen(d->pn_prid);
			r.pn_param = d->pn_param;
			r.pn_param_len = (uint16_t)strlen(d->pn_param);
		}
		/* Alive: heard from just now; asleep: 100 s ago (window 75 s). */
		if (sw_bind_put(ctx->bind, &r, d->asleep ? T0 - 100 * hz : T0, NULL) != 0)
			return -1;
	}
	/* Their MACs are known (the control plane resolves them otherwise). */
	for (size_t i = 0; i < sizeof(neigh) / sizeof(neigh[0]); i++) {
		struct sw_ip ip = dph_ip(neigh[i]);

		if (sw_neigh_update(ctx->neigh, h.port, &ip, &mac, T0) != 0)
			return -1;
	}
	urcu_qsbr_quiescent_state();
	return 0;
}

int fwd_teardown(void **state)
{
	(void)state;
	dph_fini(&h);
	return 0;
}
