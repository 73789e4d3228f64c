/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker pipeline on built frames (tests/dp/dp_harness.h), as a fixture
 * table: {name, frame, expected outcome (dropped with reason / handed up with
 * fields / answered with status / consumed)}. For what is handed up, every
 * checked field is read through the ring message's own offsets from its own
 * mbuf, so a wrong offset shows as a wrong string.
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

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tests/dp/dp_harness.h"
#include "tests/dp/sip_msgs.h"

#define PEER   "198.18.0.2"
#define PEER6  "2001:db8:5e::2"
#define DEV_ID 77

#pragma GCC diagnostic ignored "-Wmissing-field-initializers" /* rows name what they check */

enum outcome { DROP, UP, SENT, CONSUMED };

struct fx {
	const char *name;
	struct dph_pkt pkt;
	bool bind; /* bind pkt.src:sport to DEV_ID first */
	enum outcome out;
	enum dp_drop reason; /* DROP */
	const char *status;  /* SENT: start of the first line */
	/* UP: the class and fields, read through the ring entry's offsets */
	uint8_t cls;
	const char *method, *call_id, *branch, *from_tag, *contact, *prid, *ua;
};

#define P(s, port, text)                                                                \
	{                                                                               \
		.src = (s), .sport = (port), .payload = (text), .len = sizeof(text) - 1 \
	}

static const char stun_req[] = "\x00\x01\x00\x00\x21\x12\xa4\x42"
			       "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";
/* Message length 8, but no attribute follows the header. */
static const char stun_badlen[] = "\x00\x01\x00\x08\x21\x12\xa4\x42"
				  "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";
/* A Binding success response (not a request) sent to us. */
static const char stun_resp[] = "\x01\x01\x00\x00\x21\x12\xa4\x42"
				"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";

#define OPTIONS_US                                                                            \
	"OPTIONS sip:198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.5;branch=z9hG4bK-o1\r\n" \
	"From: <sip:pbx@198.18.0.5>;tag=o1\r\nTo: <sip:198.18.0.1>\r\nCall-ID: o1\r\n"        \
	"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
/* To a request the control plane sent (its branch): handed up. */
#define RESPONSE_180                                                                            \
	"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK-swC1\r\n"            \
	"From: <sip:1002@pbx>;tag=a\r\nTo: <sip:alice@example.com>;tag=b\r\nCall-ID: c-180\r\n" \
	"CSeq: 9 INVITE\r\nContent-Length: 0\r\n\r\n"
/* To a request sipwake never sent: not ours to forward. */
#define RESPONSE_FOREIGN                                                                        \
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.9;branch=z9hG4bK-sw-x\r\n"                 \
	"From: <sip:1002@pbx>;tag=a\r\nTo: <sip:alice@example.com>;tag=b\r\nCall-ID: c-200\r\n" \
	"CSeq: 9 INVITE\r\nContent-Length: 0\r\n\r\n"

static const struct fx rows[] = {
	{"INVITE with SDP from the PBX", P(DPH_PBX_IP4, 5060, MSG_INVITE), .out = UP,
	 .cls = DP_SRC_PBX, .method = "INVITE", .call_id = "3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c",
	 .branch = "z9hG4bKPj4d1b2c3e-5f6a-7b8c", .from_tag = "a7c3e9f1-42b8",
	 .contact = "sip:pbx@198.18.0.5:5060", .ua = "Asterisk PBX 20.5.0"},
	{"INVITE from the PBX over IPv6", P(DPH_PBX_IP6, 5060, MSG_INVITE), .out = UP,
	 .cls = DP_SRC_PBX, .method = "INVITE", .call_id = "3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c"},
	{"REGISTER with push address from an unknown source", P(PEER, 5078, MSG_REGISTER),
	 .out = UP, .cls = DP_SRC_UNKNOWN, .method = "REGISTER", .call_id = "8c6XbDq5fK",
	 .branch = "z9hG4bK.Xy7sd2Qp", .from_tag = "tZz5kw~7m",
	 .prid = "6b1f0a4e2d7c9b3a5e8f1d2c4b6a8e0f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b",
	 .ua = "ExamplePhone/5.2.1 (iPhone15,2; iOS 17.4) belle-sip/5.2"},
	{"REGISTER refresh from a bound source", P(PEER, 5079, MSG_REGISTER), .bind = true,
	 .out = UP, .cls = DP_SRC_BOUND, .method = "REGISTER", .call_id = "8c6XbDq5fK"},
	{"response from the PBX", P(DPH_PBX_IP4, 5060, RESPONSE_180), .out = UP, .cls = DP_SRC_PBX,
	 .method = "INVITE", .call_id = "c-180", .branch = "z9hG4bK-swC1"},
	{"response from a bound device", P(PEER, 5080, RESPONSE_180), .bind = true, .out = UP,
	 .cls = DP_SRC_BOUND, .call_id = "c-180"},
	{"response from the PBX to a request sipwake never sent",
	 P(DPH_PBX_IP4, 5060, RESPONSE_FOREIGN), .out = DROP, .reason = DP_D_FWD_RESPONSE_NOT_OURS},
	{"response from an unknown source", P(PEER, 5081, RESPONSE_180), .out = DROP,
	 .reason = DP_D_FILTER_UNKNOWN_RESPONSE},
	{"INVITE from an unknown source", P(PEER, 5082, MSG_INVITE), .out = DROP,
	 .reason = DP_D_FILTER_UNKNOWN_REQUEST},
	{"scanner OPTIONS from an unknown source", P(PEER, 5083, MSG_SCANNER), .out = DROP,
	 .reason = DP_D_FILTER_SCANNER},
	{"OPTIONS for sipwake from the PBX", P(DPH_PBX_IP4, 5060, OPTIONS_US), .out = SENT,
	 .status = "SIP/2.0 200 OK\r\n"},
	{"CRLF keepalive from a bound device", P(PEER, 5084, "\r\n\r\n"), .bind = true,
	 .out = CONSUMED},
	{"CRLF keepalive from an unknown source", P(PEER, 5085, "\r\n\r\n"), .out = DROP,
	 .reason = DP_D_KEEPALIVE_UNBOUND},
	{"STUN binding request from a bound device", P(PEER, 5086, stun_req), .bind = true,
	 .out = SENT, .status = "\x01\x01"},
	{"STUN binding request from a bound IPv6 device", P(PEER6, 5086, stun_req), .bind = true,
	 .out = SENT, .status = "\x01\x01"},
	{"STUN with a length past the datagram", P(PEER, 5087, stun_badlen), .bind = true,
	 .out = DROP, .reason = DP_D_STUN_MALFORMED},
	{"STUN response instead of a request", P(PEER, 5088, stun_resp), .bind = true, .out = DROP,
	 .reason = DP_D_STUN_MALFORMED},
	{"bad UDP checksum",
	 {.src = DPH_PBX_IP4,
	  .sport = 5060,
	  .payload = OPTIONS_US,
	  .len = sizeof(OPTIONS_US) - 1,
	  .bad_cksum = true},
	 .out = DROP,
	 .reason = DP_D_UDP_CHECKSUM},
	{"truncated SIP from the PBX",
	 {.src = DPH_PBX_IP4, .sport = 5060, .payload = MSG_INVITE, .len = 300},
	 .out = DROP,
	 .reason = DP_D_TRUNCATED},
	{"body shorter than Content-Length",
	 {.src = DPH_PBX_IP4, .sport = 5060, .payload = MSG_INVITE, .len = sizeof(MSG_INVITE) - 11},
	 .out = DROP,
	 .reason = DP_D_BAD_CONTENT_LENGTH},
};

static struct dph h;

static void check_slice(const uint8_t *base, struct sip_slice sl, const char *want, const char *row,
			const char *what)
{
	if (want == NULL)
		return;
	if (sl.len != strlen(want) || memcmp(base + sl.off, want, sl.len) != 0) {
		print_error("%s: %s is \"%.*s\", expected \"%s\"\n", row, what, (int)sl.len,
			    (const char *)base + sl.off, want);
		fail();
	}
}

static void run_row(const struct fx *r)
{
	uint64_t before = r->out == DROP ? dph_drop(&h, r->reason) : 0;
	struct rte_mbuf *m[8], *got;
	int n;

	if (r->bind) {
		struct sw_ip ip = dph_ip(r->pkt.src);

		assert_int_equal(sw_src_bind(h.ctx->src, &ip, r->pkt.sport, DEV_ID, 1), 0);
	}
	n = dph_build(&h, &r->pkt, m, 8);
	assert_true(n > 0);
	dph_rx(&h, m, (unsigned)n, rte_rdtsc());

	switch (r->out) {
	case DROP:
		if (dph_drop(&h, r->reason) != before + 1) {
			print_error("%s: drop %s not counted\n", r->name, dp_drop_name(r->reason));
			fail();
		}
		assert_null(dph_up(&h));
		break;
	case UP: {
		const struct dp_meta *meta;
		const uint8_t *base;

		got = dph_up(&h);
		if (got == NULL) {
			print_error("%s: nothing handed up\n", r->name);
			fail();
		}
		meta = DP_META(got);
		assert_int_equal(meta->kind, DP_UP_SIP);
		assert_int_equal(meta->src_class, r->cls);
		assert_int_equal(meta->sport, r->pkt.sport);
		assert_int_equal(meta->device_id, r->cls == DP_SRC_BOUND ? DEV_ID : 0);
		assert_true((uint32_t)meta->sip_off + meta->sip_len <= rte_pktmbuf_data_len(got));
		assert_int_equal(meta->sip_len, r->pkt.len);
		base = rte_pktmbuf_mtod(got, const uint8_t *) + meta->sip_off;
		/* The ring entry's message is the datagram's payload, byte for byte. */
		assert_memory_equal(base, r->pkt.payload, r->pkt.len);
		check_slice(base, meta->sip.method_name, r->method, r->name, "method");
		check_slice(base, meta->sip.call_id, r->call_id, r->name, "Call-ID");
		check_slice(base, meta->sip.via.branch, r->branch, r->name, "branch");
		check_slice(base, meta->sip.from.tag, r->from_tag, r->name, "From tag");
		check_slice(base, meta->sip.contact.uri.whole, r->contact, r->name, "Contact");
		check_slice(base, meta->sip.contact.pn.prid, r->prid, r->name, "pn-prid");
		check_slice(base, meta->sip.user_agent, r->ua, r->name, "User-Agent");
		for (unsigned i = 0; i < meta->sip.nhdrs; i++)
			assert_true((uint32_t)meta->sip.hdrs[i].value.off +
					    meta->sip.hdrs[i].value.len <=
				    meta->sip.msg_len);
		rte_pktmbuf_free(got);
		break;
	}
	case SENT: {
		const uint8_t *l4;
		bool v6;

		got = dph_sent(&h);
		if (got == NULL) {
			print_error("%s: nothing sent\n", r->name);
			fail();
		}
		v6 = rte_pktmbuf_mtod(got, struct rte_ether_hdr *)->ether_type ==
		     rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		l4 = rte_pktmbuf_mtod_offset(got, const uint8_t *, dp_udp_hdr_len(v6));
		if (memcmp(l4, r->status, strlen(r->status) ? strlen(r->status) : 2) != 0) {
			print_error("%s: sent \"%.20s\"\n", r->name, (const char *)l4);
			fail();
		}
		if (r->status[0] == '\x01') {
			/* STUN: XOR-MAPPED-ADDRESS carries the source port ^ 0x2112. */
			uint16_t xport = (uint16_t)(l4[26] << 8 | l4[27]);

			assert_memory_equal(l4 + 4, stun_req + 4, 16);
			assert_int_equal(xport ^ 0x2112, r->pkt.sport);
		}
		rte_pktmbuf_free(got);
		break;
	}
	case CONSUMED:
		assert_null(dph_up(&h));
		assert_null(dph_sent(&h));
		break;
	}
	assert_null(dph_sent(&h));
	assert_null(dph_up(&h));
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

static void check_invite_up(const char *name, uint32_t len)
{
	struct rte_mbuf *got = dph_up(&h);
	const struct dp_meta *meta;
	const uint8_t *base;

	if (got == NULL) {
		print_error("%s: nothing handed up\n", name);
		fail();
	}
	meta = DP_META(got);
	assert_int_equal(meta->sip_len, len);
	assert_int_equal(got->nb_segs, 1); /* linearised */
	base = rte_pktmbuf_mtod(got, const uint8_t *) + meta->sip_off;
	assert_memory_equal(base, MSG_INVITE, len);
	check_slice(base, meta->sip.call_id, "3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c", name,
		    "Call-ID");
	check_slice(base, meta->sip.body, strstr(MSG_INVITE, "v=0\r\n"), name, "body");
	rte_pktmbuf_free(got);
}

/* SIP INVITEs with SDP exceed the MTU: fragments in order, reversed, over IPv6. */
static void test_fragments_reassembled(void **state)
{
	static const char *const srcs[] = {DPH_PBX_IP4, DPH_PBX_IP6};
	uint64_t done = dph_count(&h, DP_C_IP_REASSEMBLED);
	struct rte_mbuf *m[16], *t;

	(void)state;
	for (unsigned v = 0; v < 2; v++) {
		struct dph_pkt p = P(srcs[v], 5060, MSG_INVITE);
		int n;

		p.frag = 256;
		n = dph_build(&h, &p, m, 16);
		assert_int_equal(n, 5); /* 1028 bytes of UDP in 256-byte pieces */
		dph_rx(&h, m, (unsigned)n, rte_rdtsc());
		check_invite_up("in order", sizeof(MSG_INVITE) - 1);
		n = dph_build(&h, &p, m, 16);
		for (int i = 0; i < n / 2; i++) {
			t = m[i];
			m[i] = m[n - 1 - i];
			m[n - 1 - i] = t;
		}
		dph_rx(&h, m, (unsigned)n, rte_rdtsc());
		check_invite_up("reversed", sizeof(MSG_INVITE) - 1);
	}
	assert_int_equal(dph_count(&h, DP_C_IP_REASSEMBLED), done + 4);
	assert_null(dph_up(&h));
}

static void test_fragments_overlapping_and_too_many(void **state)
{
	struct dph_pkt p = P(DPH_PBX_IP4, 5060, MSG_INVITE);
	uint64_t rejected = dph_drop(&h, DP_D_IP_FRAG_REJECTED);
	struct rte_mbuf *m[32];
	int n;

	(void)state;
	/* The second fragment twice, with other bytes: an overlap, the whole
	 * datagram goes (an exact duplicate is dropped alone: test_dp_frag.c). */
	p.frag = 256;
	n = dph_build(&h, &p, m, 16);
	m[n] = rte_pktmbuf_copy(m[1], h.ctx->pool, 0, UINT32_MAX);
	assert_non_null(m[n]);
	rte_pktmbuf_mtod_offset(m[n], uint8_t *, RTE_ETHER_HDR_LEN + 20)[8] ^= 0x20;
	{
		struct rte_mbuf *t = m[n];

		m[n] = m[2];
		m[2] = t;
	}
	dph_rx(&h, m, (unsigned)n + 1, rte_rdtsc());
	assert_null(dph_up(&h));
	assert_true(dph_drop(&h, DP_D_IP_FRAG_REJECTED) > rejected);

	/* More than RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) pieces: refused. */
	rejected = dph_drop(&h, DP_D_IP_FRAG_REJECTED);
	p.frag = 64;
	n = dph_build(&h, &p, m, 32);
	assert_int_equal(n, 17);
	dph_rx(&h, m, (unsigned)n, rte_rdtsc());
	assert_null(dph_up(&h));
	assert_true(dph_drop(&h, DP_D_IP_FRAG_REJECTED) > rejected);
}

static void test_fragments_time_out(void **state)
{
	struct dph_pkt p = P(DPH_PBX_IP4, 5060, MSG_INVITE);
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc() + 10 * hz, before;
	struct rte_mbuf *m[16];
	int n;

	(void)state;
	/* Ten seconds on: what earlier tests left half-assembled expires first. */
	dph_rx(&h, NULL, 0, t0);
	before = dph_drop(&h, DP_D_IP_FRAG_TIMEOUT);
	p.frag = 512;
	n = dph_build(&h, &p, m, 16);
	assert_int_equal(n, 3);
	dph_rx(&h, m, 2, t0); /* the last one never comes in time */
	dph_rx(&h, NULL, 0, t0 + hz / 10);
	assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_TIMEOUT), before);
	dph_rx(&h, NULL, 0, t0 + hz); /* timeout is 500 ms in the harness */
	assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_TIMEOUT), before + 2);
	dph_rx(&h, &m[2], 1, t0 + hz); /* a late last fragment starts over, alone */
	assert_null(dph_up(&h));
	dph_rx(&h, NULL, 0, t0 + 3 * hz);
	assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_TIMEOUT), before + 3);
}

/* One 802.1Q tag on a VLAN interface: in stripped, out tagged; others dropped. */
static void test_vlan(void **state)
{
	struct dph_pkt p = P(DPH_PBX_IP4, 5060, OPTIONS_US);
	uint64_t vdrop = dph_drop(&h, DP_D_L2_VLAN);
	const struct rte_vlan_hdr *vh;
	struct rte_mbuf *m[1], *got;

	(void)state;
	/* Untagged interface: a tagged frame is dropped. */
	p.vlan = 42;
	assert_int_equal(dph_build(&h, &p, m, 1), 1);
	dph_rx(&h, m, 1, rte_rdtsc());
	assert_int_equal(dph_drop(&h, DP_D_L2_VLAN), vdrop + 1);

	h.ctx->p.ports.ifaces[0].vlan = 42;
	assert_int_equal(dph_build(&h, &p, m, 1), 1);
	dph_rx(&h, m, 1, rte_rdtsc());
	got = dph_sent(&h);
	assert_non_null(got);
	assert_int_equal(rte_pktmbuf_mtod(got, struct rte_ether_hdr *)->ether_type,
			 rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN));
	vh = rte_pktmbuf_mtod_offset(got, const struct rte_vlan_hdr *, RTE_ETHER_HDR_LEN);
	assert_int_equal(rte_be_to_cpu_16(vh->vlan_tci) & 0xfff, 42);
	assert_memory_equal(
		rte_pktmbuf_mtod_offset(got, const char *, RTE_ETHER_HDR_LEN + 4 + 20 + 8),
		"SIP/2.0 200 OK\r\n", 16);
	rte_pktmbuf_free(got);

	/* Another VID, and no tag at all, on a VLAN interface: dropped. */
	p.vlan = 43;
	assert_int_equal(dph_build(&h, &p, m, 1), 1);
	dph_rx(&h, m, 1, rte_rdtsc());
	p.vlan = 0;
	assert_int_equal(dph_build(&h, &p, m, 1), 1);
	dph_rx(&h, m, 1, rte_rdtsc());
	assert_int_equal(dph_drop(&h, DP_D_L2_VLAN), vdrop + 3);
	assert_null(dph_sent(&h));
	h.ctx->p.ports.ifaces[0].vlan = 0;
}

/* A bound device's datagrams move its last-alive time (the worker's one write). */
/* The software UDP checksum (dp_net.c, 8 bytes a step): right for every
 * payload length and both families, and a wrong checksum is caught.
 * Payloads are junk (not SIP): a good checksum ends in sip_bad_start_line. */
static void test_udp_checksum_every_length(void **state)
{
	static const char *const srcs[] = {"198.18.0.2", PEER6};
	uint8_t payload[80];

	(void)state;
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0x80 | (i * 37 + 11));
	for (unsigned f = 0; f < 2; f++)
		for (uint32_t len = 1; len <= sizeof(payload); len++)
			for (int bad = 0; bad < 2; bad++) {
				struct dph_pkt p = {.src = srcs[f],
						    .sport = (uint16_t)(6000 + len),
						    .payload = payload,
						    .len = len,
						    .bad_cksum = bad};
				enum dp_drop want = bad ? DP_D_UDP_CHECKSUM : DP_D_BAD_START_LINE;
				uint64_t before = dph_drop(&h, want);
				struct rte_mbuf *m;

				assert_int_equal(dph_build(&h, &p, &m, 1), 1);
				dph_rx(&h, &m, 1, rte_rdtsc());
				if (dph_drop(&h, want) != before + 1) {
					print_error("%s, %u bytes, %s checksum: not %s\n", srcs[f],
						    len, bad ? "bad" : "good", dp_drop_name(want));
					fail();
				}
			}
}

static void register_from(const char *src)
{
	struct dph_pkt p = P(src, 5060, MSG_REGISTER);
	struct rte_mbuf *m;

	assert_int_equal(dph_build(&h, &p, &m, 1), 1);
	dph_rx(&h, &m, 1, rte_rdtsc());
}

/* IPv4 sources that end in .255 are hosts elsewhere; only our own subnet's
 * broadcast address is a martian. */
static void test_broadcast_only_ours_is_martian(void **state)
{
	uint64_t martian = dph_drop(&h, DP_D_IP_MARTIAN);
	struct rte_mbuf *m;

	(void)state;
	register_from("203.0.113.255");
	m = dph_up(&h);
	assert_non_null(m);
	rte_pktmbuf_free(m);
	register_from("198.18.0.255");
	assert_int_equal(dph_drop(&h, DP_D_IP_MARTIAN), martian + 1);
	assert_null(dph_up(&h));
}

static void test_bound_source_marked_alive(void **state)
{
	struct dph_pkt p = P(PEER, 5100, "\r\n\r\n");
	struct sw_ip ip = dph_ip(PEER);
	struct rte_mbuf *m[1];

	(void)state;
	assert_int_equal(sw_src_bind(h.ctx->src, &ip, 5100, DEV_ID, 5), 0);
	assert_int_equal(dph_build(&h, &p, m, 1), 1);
	dph_rx(&h, m, 1, 123456789);
	assert_int_equal(sw_src_last_alive(sw_src_lookup(h.ctx->src, &ip, 5100)), 123456789);
	assert_int_equal(dph_count(&h, DP_C_KEEPALIVE_CRLF) >= 1, 1);
}

/* A full up ring is a counted drop, never a wait. */
static void test_up_ring_full_is_a_drop(void **state)
{
	struct rte_ring *up = h.ctx->workers[0].up;
	unsigned cap = rte_ring_get_capacity(up), fill = 0;
	struct dph_pkt p = P(DPH_PBX_IP4, 5060, MSG_INVITE);
	uint64_t before = dph_drop(&h, DP_D_UP_RING_FULL);
	struct rte_mbuf *m[1];

	(void)state;
	while (fill < cap) {
		assert_int_equal(dph_build(&h, &p, m, 1), 1);
		dph_rx(&h, m, 1, rte_rdtsc());
		fill++;
	}
	assert_int_equal(rte_ring_count(up), cap);
	assert_int_equal(dph_build(&h, &p, m, 1), 1);
	dph_rx(&h, m, 1, rte_rdtsc());
	assert_int_equal(dph_drop(&h, DP_D_UP_RING_FULL), before + 1);
	while ((m[0] = dph_up(&h)) != NULL)
		rte_pktmbuf_free(m[0]);
}

static int setup(void **state)
{
	char prefix[64];

	(void)state;
	snprintf(prefix, sizeof(prefix), "dptest%d", (int)getpid());
	return dph_init(&h, prefix);
}

static int teardown(void **state)
{
	(void)state;
	dph_fini(&h);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_udp_checksum_every_length),
		cmocka_unit_test(test_broadcast_only_ours_is_martian),
		cmocka_unit_test(test_bound_source_marked_alive),
		cmocka_unit_test(test_up_ring_full_is_a_drop),
		cmocka_unit_test(test_fragments_reassembled),
		cmocka_unit_test(test_fragments_overlapping_and_too_many),
		cmocka_unit_test(test_fragments_time_out),
		cmocka_unit_test(test_vlan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
