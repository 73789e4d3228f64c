/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly on the worker (dataplane/dp_frag.c): exact duplicate fragments
 * are dropped and the datagram still completes (RFC 791 §3.2, RFC 8200
 * §4.5), a fragment at the same offset with other bytes or another length
 * still refuses it; an incomplete datagram times out on time, counted as a
 * timeout, both when the next fragment comes late and when nothing more
 * comes at all (the worker's own loop, dataplane/dp_worker.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "tests/dp/dp_harness.h"
#include "tests/dp/sip_msgs.h"

static struct dph h;

static struct dph_pkt invite(const char *src, uint16_t frag)
{
	return (struct dph_pkt){.src = src,
				.sport = 5060,
				.payload = MSG_INVITE,
				.len = sizeof(MSG_INVITE) - 1,
				.frag = frag};
}

/* The INVITE handed up whole, once; nothing else. */
static void expect_invite_up(void)
{
	struct rte_mbuf *got = dph_up(&h);
	const struct dp_meta *meta;

	assert_non_null(got);
	meta = DP_META(got);
	assert_int_equal(meta->sip_len, sizeof(MSG_INVITE) - 1);
	assert_memory_equal(rte_pktmbuf_mtod(got, const uint8_t *) + meta->sip_off, MSG_INVITE,
			    sizeof(MSG_INVITE) - 1);
	rte_pktmbuf_free(got);
	assert_null(dph_up(&h));
}

static struct rte_mbuf *copy(struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, h.ctx->pool, 0, UINT32_MAX);

	assert_non_null(c);
	return c;
}

/* Each fragment of the train, and the first, a middle and the last one
 * again: every duplicate dropped and counted, the datagram complete. */
static void test_exact_duplicates_complete(void **state)
{
	static const char *const srcs[] = {DPH_PBX_IP4, DPH_PBX_IP6};

	(void)state;
	for (unsigned v = 0; v < 2; v++) {
		uint64_t dup = dph_drop(&h, DP_D_IP_FRAG_DUPLICATE),
			 rej = dph_drop(&h, DP_D_IP_FRAG_REJECTED),
			 done = dph_count(&h, DP_C_IP_REASSEMBLED);
		struct dph_pkt p = invite(srcs[v], 256);
		struct rte_mbuf *m[16], *in[24];
		unsigned k = 0;
		int n = dph_build(&h, &p, m, 16);

		assert_int_equal(n, 5);
		/* 0 0' 1 2 1' 3 4' ... : duplicates before and after the original's
		 * neighbours, the last one twice before the first is complete. */
		in[k++] = m[0];
		in[k++] = copy(m[0]);
		in[k++] = m[1];
		in[k++] = m[2];
		in[k++] = copy(m[1]);
		in[k++] = copy(m[4]);
		in[k++] = m[4];
		in[k++] = m[3];
		dph_rx(&h, in, k, rte_rdtsc());
		expect_invite_up();
		assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_DUPLICATE), dup + 3);
		assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_REJECTED), rej);
		assert_int_equal(dph_count(&h, DP_C_IP_REASSEMBLED), done + 1);
	}
}

/* A duplicate after the datagram completed is dropped too, not left
 * half-assembled until it times out. */
static void test_duplicate_after_completion(void **state)
{
	struct dph_pkt p = invite(DPH_PBX_IP4, 512);
	uint64_t dup = dph_drop(&h, DP_D_IP_FRAG_DUPLICATE), hz = rte_get_tsc_hz(),
		 t0 = rte_rdtsc(), timeout;
	struct rte_mbuf *m[8], *late;
	int n = dph_build(&h, &p, m, 8);

	(void)state;
	assert_int_equal(n, 3);
	late = copy(m[1]);
	dph_rx(&h, m, 3, t0);
	expect_invite_up();
	dph_rx(&h, &late, 1, t0 + hz / 10);
	assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_DUPLICATE), dup + 1);
	timeout = dph_drop(&h, DP_D_IP_FRAG_TIMEOUT);
	dph_rx(&h, NULL, 0, t0 + 2 * hz);
	assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_TIMEOUT), timeout);
}

/* Same offset, other bytes; same offset, shorter: an overlap, refused. */
static void test_overlaps_still_rejected(void **state)
{
	(void)state;
	for (unsigned shorter = 0; shorter < 2; shorter++) {
		struct dph_pkt p = invite(DPH_PBX_IP4, 256);
		uint64_t dup = dph_drop(&h, DP_D_IP_FRAG_DUPLICATE),
			 rej = dph_drop(&h, DP_D_IP_FRAG_REJECTED);
		struct rte_mbuf *m[16], *in[16];
		struct rte_ipv4_hdr *ip;
		int n = dph_build(&h, &p, m, 16);

		assert_int_equal(n, 5);
		in[0] = m[0];
		in[1] = m[1];
		in[2] = copy(m[1]);
		ip = rte_pktmbuf_mtod_offset(in[2], struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		if (shorter) {
			ip->total_length = rte_cpu_to_be_16(
				(uint16_t)(rte_be_to_cpu_16(ip->total_length) - 8));
			rte_pktmbuf_trim(in[2], 8);
		} else {
			rte_pktmbuf_mtod_offset(in[2], uint8_t *, RTE_ETHER_HDR_LEN + 20)[100] ^= 1;
		}
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		in[3] = m[2];
		in[4] = m[3];
		in[5] = m[4];
		dph_rx(&h, in, 6, rte_rdtsc());
		assert_null(dph_up(&h));
		assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_DUPLICATE), dup);
		assert_true(dph_drop(&h, DP_D_IP_FRAG_REJECTED) > rej);
	}
}

/* The next fragment (of another datagram) comes after the timeout, before
 * any tick: the stale datagram is counted as timed out, not rejected. */
static void test_stale_counted_as_timeout(void **state)
{
	struct dph_pkt p = invite(DPH_PBX_IP4, 512);
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc() + 20 * hz, tmo, rej;
	struct rte_mbuf *a[8], *b[8];

	(void)state;
	dph_rx(&h, NULL, 0, t0); /* what earlier tests left is gone */
	assert_int_equal(dph_build(&h, &p, a, 8), 3);
	assert_int_equal(dph_build(&h, &p, b, 8), 3);
	dph_rx(&h, a, 2, t0);
	tmo = dph_drop(&h, DP_D_IP_FRAG_TIMEOUT);
	rej = dph_drop(&h, DP_D_IP_FRAG_REJECTED);
	DP_META(b[0])->rx_tsc = t0 + hz; /* harness timeout: 500 ms */
	dp_rx_one(&h.s, 0, b[0]);
	assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_TIMEOUT), tmo + 2);
	assert_int_equal(dph_drop(&h, DP_D_IP_FRAG_REJECTED), rej);
	dph_rx(&h, &b[1], 2, t0 + hz);
	expect_invite_up();
	rte_pktmbuf_free(a[2]);
}

static void *worker(void *arg)
{
	(void)arg;
	dp_worker_main(&h.ctx->workers[0]);
	return NULL;
}

static uint64_t load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* The worker's own loop, fed through its port: two fragments of three, then
 * nothing. The timeout is counted within 500 ms + 200 ms of slack. */
static void test_timeout_without_traffic(void **state)
{
	struct dph_pkt p = invite(DPH_PBX_IP4, 512);
	const uint64_t *tmo = &h.ctx->workers[0].ctr.drop[DP_D_IP_FRAG_TIMEOUT];
	uint64_t before = load(tmo), got;
	struct timespec t0, t1;
	struct rte_mbuf *m[8];
	pthread_t th;
	long ms;

	(void)state;
	dph_rx(&h, NULL, 0, rte_rdtsc() + 30 * rte_get_tsc_hz());
	before = load(tmo);
	assert_int_equal(dph_build(&h, &p, m, 8), 3);
	h.ctx->p.idle_sleep_us = 100;
	__atomic_store_n(&h.ctx->stop, false, __ATOMIC_RELEASE);
	assert_int_equal(pthread_create(&th, NULL, worker, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(rte_ring_enqueue_burst(h.rx, (void **)m, 2, NULL), 2);
	do {
		usleep(5000);
		got = load(tmo);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	} while (got == before && ms < 3000);
	__atomic_store_n(&h.ctx->stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	__atomic_store_n(&h.ctx->stop, false, __ATOMIC_RELEASE);
	print_message("timeout counted after %ld ms\n", ms);
	assert_int_equal(got, before + 2);
	assert_true(ms >= 450);
	assert_true(ms <= 700);
	rte_pktmbuf_free(m[2]);
}

static int setup(void **state)
{
	char prefix[64];

	(void)state;
	snprintf(prefix, sizeof(prefix), "dpfrag%d", (int)getpid());
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
		cmocka_unit_test(test_exact_duplicates_complete),
		cmocka_unit_test(test_duplicate_after_completion),
		cmocka_unit_test(test_overlaps_still_rejected),
		cmocka_unit_test(test_stale_counted_as_timeout),
		cmocka_unit_test(test_timeout_without_traffic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
