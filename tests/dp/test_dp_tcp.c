/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' TCP filter in front of the exception path (dataplane/dp_tcp.c,
 * docs/streams.md): a segment for one of our addresses and a stream port
 * goes whole onto the to-kernel ring; another port, a banned source, a
 * header that does not fit, and SYNs past their source's or the box's
 * budget are dropped, each counted by its reason. Segments of established
 * connections and the PBX's SYNs are not metered. Past the box's budget a
 * SYN is answered with a challenge (a SYN-ACK whose acknowledgment is a
 * cookie); the RST that carries the cookie back proves its source, whose
 * SYNs then get in for DP_SYN_PROVEN_S.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "tests/dp/dp_harness.h"

#define STREAM_PORT 5061

static struct dph h;
static uint64_t now;
/* The next segments' sender MAC, when not the harness's peer (NULL). */
static const struct rte_ether_addr *src_mac;
/* 32-bit words of IPv4 options (NOPs) in the next segments (0: none). */
static uint8_t ip_opt_words;

/* One TCP segment from @p src (IPv4 or IPv6) port @p sport to our address,
 * port @p dport, with @p flags and sequence number @p seq; @p tcp_len cut
 * short (< 20) makes a header that does not fit. */
static void tcp_seg(const char *src, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
		    uint16_t tcp_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h.ctx->pool);
	bool v6 = strchr(src, ':') != NULL;
	struct sw_ip s = dph_ip(src), d = dph_ip(v6 ? DPH_SW_IP6 : DPH_SW_IP4);
	uint16_t l3 =
		v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr) + 4 * ip_opt_words;
	uint16_t len = (uint16_t)(RTE_ETHER_HDR_LEN + l3 + tcp_len);
	struct rte_ether_hdr *eth;
	struct rte_tcp_hdr *tcp;
	uint8_t *b;

	assert_non_null(m);
	b = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_non_null(b);
	memset(b, 0, len);
	eth = (struct rte_ether_hdr *)b;
	eth->dst_addr = h.ctx->p.ports.ifaces[0].mac;
	eth->src_addr = src_mac != NULL ? *src_mac : h.peer_mac;
	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	tcp = (struct rte_tcp_hdr *)(b + RTE_ETHER_HDR_LEN + l3);
	if (tcp_len >= sizeof(*tcp)) {
		tcp->src_port = rte_cpu_to_be_16(sport);
		tcp->dst_port = rte_cpu_to_be_16(dport);
		tcp->sent_seq = rte_cpu_to_be_32(seq);
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = flags;
		tcp->rx_win = rte_cpu_to_be_16(65535);
	}
	if (!v6) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		*ip = (struct rte_ipv4_hdr){
			.version_ihl = (uint8_t)(RTE_IPV4_VHL_DEF + ip_opt_words),
			.total_length = rte_cpu_to_be_16((uint16_t)(l3 + tcp_len)),
			.time_to_live = 64,
			.next_proto_id = IPPROTO_TCP,
			.src_addr = sw_ip_v4(&s),
			.dst_addr = sw_ip_v4(&d),
		};
		memset(ip + 1, 1, 4u * ip_opt_words);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (tcp_len >= sizeof(*tcp))
			tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		*ip = (struct rte_ipv6_hdr){
			.vtc_flow = rte_cpu_to_be_32(6u << 28),
			.payload_len = rte_cpu_to_be_16(tcp_len),
			.proto = IPPROTO_TCP,
			.hop_limits = 64,
		};
		memcpy(ip->src_addr, s.a, 16);
		memcpy(ip->dst_addr, d.a, 16);
		tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
	}
	dph_rx(&h, &m, 1, now);
	urcu_qsbr_quiescent_state();
}

static void tcp_in(const char *src, uint16_t dport, uint8_t flags, uint16_t tcp_len)
{
	tcp_seg(src, 40000, dport, flags, 1000, tcp_len);
}

/* Segments on the to-kernel ring since the last call (freed). */
static unsigned to_kernel(void)
{
	void *m;
	unsigned n = 0;

	while (rte_ring_dequeue(h.ctx->to_kernel, &m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (dph_init(&h, "test_dp_tcp") != 0)
		return -1;
	h.ctx->p.n_stream_ports = 1;
	h.ctx->p.stream_ports[0] = STREAM_PORT;
	h.ctx->to_kernel = rte_ring_create("t_to_kernel", 256, 0, RING_F_SC_DEQ);
	if (h.ctx->to_kernel == NULL)
		return -1;
	/* 2 SYNs per source (burst 2, refilled at 2/s), 6 for the box. */
	h.ctx->policy->rates.syn = (struct dp_rate){2, 2};
	h.ctx->policy->rates.syn_global = (struct dp_rate){6, 6};
	now = rte_rdtsc();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	to_kernel();
	rte_ring_free(h.ctx->to_kernel);
	h.ctx->to_kernel = NULL;
	dph_fini(&h);
	return 0;
}

static void test_stream_port_goes_to_the_kernel(void **state)
{
	uint64_t in = dph_count(&h, DP_C_TCP_TO_KERNEL);

	(void)state;
	tcp_in("198.51.100.7", STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	assert_int_equal(to_kernel(), 1);
	assert_int_equal(dph_count(&h, DP_C_TCP_TO_KERNEL), in + 1);
}

static void test_other_port_and_bad_header_dropped(void **state)
{
	uint64_t port = dph_drop(&h, DP_D_TCP_PORT), bad = dph_drop(&h, DP_D_TCP_MALFORMED);

	(void)state;
	tcp_in("198.51.100.8", 22, RTE_TCP_SYN_FLAG, 20);
	tcp_in("198.51.100.8", STREAM_PORT, RTE_TCP_SYN_FLAG, 12);
	assert_int_equal(to_kernel(), 0);
	assert_int_equal(dph_drop(&h, DP_D_TCP_PORT), port + 1);
	assert_int_equal(dph_drop(&h, DP_D_TCP_MALFORMED), bad + 1);
}

static void test_syns_metered_per_source_and_box(void **state)
{
	uint64_t src = dph_drop(&h, DP_D_TCP_SYN_RATE_SOURCE);
	uint64_t box = dph_drop(&h, DP_D_TCP_SYN_RATE_GLOBAL);

	(void)state;
	now += rte_get_tsc_hz() * 10; /* every bucket full again */
	for (unsigned i = 0; i < 5; i++)
		tcp_in("198.51.100.9", STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	/* Its burst of 2; the other 3 dropped for the source. */
	assert_int_equal(to_kernel(), 2);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_RATE_SOURCE), src + 3);
	/* Its connection's segments are not metered. */
	for (unsigned i = 0; i < 5; i++)
		tcp_in("198.51.100.9", STREAM_PORT, RTE_TCP_ACK_FLAG, 20);
	assert_int_equal(to_kernel(), 5);
	/* The box's 6: 4 more sources take 2 each, the last 4 SYNs fail the
	 * box's budget, not their source's. */
	for (unsigned i = 0; i < 4; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%u", 20 + i);
		tcp_in(ip, STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
		tcp_in(ip, STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	}
	assert_int_equal(to_kernel(), 4);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_RATE_GLOBAL), box + 4);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_RATE_SOURCE), src + 3);
	/* The PBX's SYNs spend nothing. */
	for (unsigned i = 0; i < 5; i++)
		tcp_in(DPH_PBX_IP4, STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	assert_int_equal(to_kernel(), 5);
}

static void test_banned_source_dropped(void **state)
{
	struct sw_ip b = dph_ip("198.51.100.66");
	uint64_t banned = dph_drop(&h, DP_D_TCP_BANNED);

	(void)state;
	now += rte_get_tsc_hz() * 10;
	assert_int_equal(sw_src_bind(h.ctx->banned, &b, 0, 0, now + rte_get_tsc_hz() * 60), 0);
	urcu_qsbr_quiescent_state();
	tcp_in("198.51.100.66", STREAM_PORT, RTE_TCP_ACK_FLAG, 20);
	assert_int_equal(to_kernel(), 0);
	assert_int_equal(dph_drop(&h, DP_D_TCP_BANNED), banned + 1);
	tcp_in("198.51.100.67", STREAM_PORT, RTE_TCP_ACK_FLAG, 20);
	assert_int_equal(to_kernel(), 1);
	sw_src_unbind(h.ctx->banned, &b, 0);
}

/* The SYN-ACK a challenge sent for a SYN from @p src:@p sport (freed): its
 * acknowledgment number, after checking every field a client's stack reads. */
static uint32_t challenge_sent(const char *src, uint16_t sport, uint32_t isn)
{
	struct rte_mbuf *m = dph_sent(&h);
	bool v6 = strchr(src, ':') != NULL;
	struct sw_ip peer = dph_ip(src), us = dph_ip(v6 ? DPH_SW_IP6 : DPH_SW_IP4);
	const struct rte_ether_hdr *eth;
	const struct rte_tcp_hdr *tcp;
	uint32_t ack;

	assert_non_null(m);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* Back to the MAC the SYN came from, from ours. */
	assert_memory_equal(&eth->dst_addr, &h.peer_mac, 6);
	assert_memory_equal(&eth->src_addr, &h.ctx->p.ports.ifaces[0].mac, 6);
	if (!v6) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

		assert_int_equal(rte_be_to_cpu_16(eth->ether_type), RTE_ETHER_TYPE_IPV4);
		assert_int_equal(ip->src_addr, sw_ip_v4(&us));
		assert_int_equal(ip->dst_addr, sw_ip_v4(&peer));
		assert_int_equal(rte_be_to_cpu_16(ip->total_length), 40);
		assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
		tcp = (const struct rte_tcp_hdr *)(ip + 1);
		assert_int_equal(rte_ipv4_udptcp_cksum(ip, tcp),
				 0); /* ~sum over a right checksum */
		assert_int_equal(m->pkt_len, RTE_ETHER_HDR_LEN + 40);
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

		assert_memory_equal(ip->src_addr, us.a, 16);
		assert_memory_equal(ip->dst_addr, peer.a, 16);
		assert_int_equal(rte_be_to_cpu_16(ip->payload_len), 20);
		tcp = (const struct rte_tcp_hdr *)(ip + 1);
		assert_int_equal(rte_ipv6_udptcp_cksum(ip, tcp), 0);
		assert_int_equal(m->pkt_len, RTE_ETHER_HDR_LEN + 60);
	}
	assert_int_equal(rte_be_to_cpu_16(tcp->src_port), STREAM_PORT);
	assert_int_equal(rte_be_to_cpu_16(tcp->dst_port), sport);
	assert_int_equal(tcp->tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(tcp->data_off, 5 << 4);
	ack = rte_be_to_cpu_32(tcp->recv_ack);
	/* Not an acknowledgment the client could take: it must refuse it. */
	assert_int_not_equal(ack, isn + 1);
	rte_pktmbuf_free(m);
	return ack;
}

/* Spend the box's SYN budget (6 sources, one SYN each). */
static void spend_box(void)
{
	for (unsigned i = 0; i < 6; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%u", 100 + i);
		tcp_in(ip, STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	}
	assert_int_equal(to_kernel(), 6);
}

static void challenge_case(const char *src)
{
	uint64_t chal = dph_drop(&h, DP_D_TCP_SYN_CHALLENGED);
	uint64_t proofs = dph_count(&h, DP_C_TCP_SYN_PROOFS);
	uint64_t proven = dph_count(&h, DP_C_TCP_SYN_PROVEN);
	uint32_t ack;

	now += rte_get_tsc_hz() * 10;
	spend_box();
	/* Past the box's budget: not to the kernel, a challenge back. */
	tcp_seg(src, 41000, STREAM_PORT, RTE_TCP_SYN_FLAG, 7777, 20);
	assert_int_equal(to_kernel(), 0);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_CHALLENGED), chal + 1);
	ack = challenge_sent(src, 41000, 7777);
	assert_null(dph_sent(&h));
	/* An RST with another number is the kernel's business, and proves nothing. */
	tcp_seg(src, 41000, STREAM_PORT, RTE_TCP_RST_FLAG, ack + 1, 20);
	assert_int_equal(to_kernel(), 1);
	assert_int_equal(dph_count(&h, DP_C_TCP_SYN_PROOFS), proofs);
	/* From another port, the cookie is not this one's. */
	tcp_seg(src, 41001, STREAM_PORT, RTE_TCP_RST_FLAG, ack, 20);
	assert_int_equal(to_kernel(), 1);
	assert_int_equal(dph_count(&h, DP_C_TCP_SYN_PROOFS), proofs);
	/* The client's stack refuses the SYN-ACK: RST, its number the cookie.
	 * Taken, not passed on. */
	tcp_seg(src, 41000, STREAM_PORT, RTE_TCP_RST_FLAG, ack, 20);
	assert_int_equal(to_kernel(), 0);
	assert_int_equal(dph_count(&h, DP_C_TCP_SYN_PROOFS), proofs + 1);
	/* Its SYN again (the box's budget still spent): let in. */
	tcp_seg(src, 41000, STREAM_PORT, RTE_TCP_SYN_FLAG, 7777, 20);
	assert_int_equal(to_kernel(), 1);
	assert_int_equal(dph_count(&h, DP_C_TCP_SYN_PROVEN), proven + 1);
	assert_null(dph_sent(&h));
	/* Another source that never answered: challenged again. */
	tcp_seg(strchr(src, ':') ? "2001:db8:77::9" : "198.51.100.199", 41000, STREAM_PORT,
		RTE_TCP_SYN_FLAG, 1, 20);
	assert_int_equal(to_kernel(), 0);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_CHALLENGED), chal + 2);
	rte_pktmbuf_free(dph_sent(&h));
	/* A minute on, the proof has lapsed: challenged again. */
	now += rte_get_tsc_hz() * (DP_SYN_PROVEN_S + 1);
	spend_box();
	tcp_seg(src, 41002, STREAM_PORT, RTE_TCP_SYN_FLAG, 9, 20);
	assert_int_equal(to_kernel(), 0);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_CHALLENGED), chal + 3);
	rte_pktmbuf_free(dph_sent(&h));
}

static void test_syn_flood_challenge_proves_a_real_source(void **state)
{
	(void)state;
	h.ctx->policy->rates.syn_challenge = (struct dp_rate){1000, 1000};
	challenge_case("203.0.113.50");
	challenge_case("2001:db8:77::50");
	h.ctx->policy->rates.syn_challenge = (struct dp_rate){0, 0};
}

static void test_no_challenge_when_off_or_spent(void **state)
{
	uint64_t box = dph_drop(&h, DP_D_TCP_SYN_RATE_GLOBAL);
	uint64_t chal = dph_drop(&h, DP_D_TCP_SYN_CHALLENGED);

	(void)state;
	/* Off (rate 0): dropped for the box's budget, as before, nothing sent. */
	now += rte_get_tsc_hz() * 10;
	spend_box();
	tcp_in("203.0.113.60", STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	assert_int_equal(to_kernel(), 0);
	assert_null(dph_sent(&h));
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_RATE_GLOBAL), box + 1);
	/* Two challenges of budget: the third SYN is dropped for the box. An
	 * RST from a source with no challenge goes to the kernel. */
	h.ctx->policy->rates.syn_challenge = (struct dp_rate){2, 2};
	now += rte_get_tsc_hz() * 10;
	spend_box();
	for (unsigned i = 0; i < 3; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "203.0.113.%u", 70 + i);
		tcp_in(ip, STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	}
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_CHALLENGED), chal + 2);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_RATE_GLOBAL), box + 2);
	rte_pktmbuf_free(dph_sent(&h));
	rte_pktmbuf_free(dph_sent(&h));
	assert_null(dph_sent(&h));
	/* A sender MAC of a group (broadcast here) or zero is never answered:
	 * the challenge would go to the whole segment. */
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
					   zero = {{0}};
	h.ctx->policy->rates.syn_challenge = (struct dp_rate){1000, 1000};
	now += rte_get_tsc_hz() * 10;
	spend_box();
	src_mac = &bcast;
	tcp_in("203.0.113.90", STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	src_mac = &zero;
	tcp_in("203.0.113.91", STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	src_mac = NULL;
	assert_null(dph_sent(&h));
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_CHALLENGED), chal + 2);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_RATE_GLOBAL), box + 4);
	tcp_in("203.0.113.80", STREAM_PORT, RTE_TCP_RST_FLAG, 20);
	assert_int_equal(to_kernel(), 1);
	/* An IPv4 SYN with options (NOPs here) is not rebuilt into a
	 * challenge: dropped for the box's budget, nothing sent. */
	ip_opt_words = 1;
	tcp_in("203.0.113.92", STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	ip_opt_words = 0;
	assert_int_equal(to_kernel(), 0);
	assert_null(dph_sent(&h));
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_CHALLENGED), chal + 2);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_RATE_GLOBAL), box + 5);
	/* The same SYN without options: challenged (the budget was there). */
	tcp_in("203.0.113.92", STREAM_PORT, RTE_TCP_SYN_FLAG, 20);
	assert_int_equal(dph_drop(&h, DP_D_TCP_SYN_CHALLENGED), chal + 3);
	rte_pktmbuf_free(dph_sent(&h));
	h.ctx->policy->rates.syn_challenge = (struct dp_rate){0, 0};
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_port_goes_to_the_kernel),
		cmocka_unit_test(test_other_port_and_bad_header_dropped),
		cmocka_unit_test(test_syns_metered_per_source_and_box),
		cmocka_unit_test(test_banned_source_dropped),
		cmocka_unit_test(test_syn_flood_challenge_proves_a_real_source),
		cmocka_unit_test(test_no_challenge_when_off_or_spent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
