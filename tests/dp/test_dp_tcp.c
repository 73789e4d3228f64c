/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' TCP filter in front of the exception path (dataplane/dp_tcp.c,
 * docs/streams.md): a segment for one of our addresses and a stream port
 * goes whole onto the to-kernel ring; another port, a banned source, a
 * header that does not fit, and SYNs past their source's or the box's
 * budget are dropped, each counted by its reason. Segments of established
 * connections and the PBX's SYNs are not metered.
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

/* One IPv4 TCP segment from @p src to our address, port @p dport, with
 * @p flags; @p tcp_len cut short (< 20) makes a header that does not fit. */
static void tcp_in(const char *src, uint16_t dport, uint8_t flags, uint16_t tcp_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h.ctx->pool);
	struct sw_ip s = dph_ip(src), d = dph_ip(DPH_SW_IP4);
	uint16_t len = (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + tcp_len);
	uint8_t *b;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *tcp;

	assert_non_null(m);
	b = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_non_null(b);
	memset(b, 0, len);
	eth = (struct rte_ether_hdr *)b;
	eth->dst_addr = h.ctx->p.ports.ifaces[0].mac;
	eth->src_addr = h.peer_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + tcp_len)),
		.time_to_live = 64,
		.next_proto_id = IPPROTO_TCP,
		.src_addr = sw_ip_v4(&s),
		.dst_addr = sw_ip_v4(&d),
	};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (tcp_len >= sizeof(*tcp)) {
		tcp = (struct rte_tcp_hdr *)(ip + 1);
		tcp->src_port = rte_cpu_to_be_16(40000);
		tcp->dst_port = rte_cpu_to_be_16(dport);
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = flags;
		tcp->rx_win = rte_cpu_to_be_16(65535);
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	}
	dph_rx(&h, &m, 1, now);
	urcu_qsbr_quiescent_state();
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_port_goes_to_the_kernel),
		cmocka_unit_test(test_other_port_and_bad_header_dropped),
		cmocka_unit_test(test_syns_metered_per_source_and_box),
		cmocka_unit_test(test_banned_source_dropped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
