/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd's queues: pushes submitted before the connection is up and past the
 * server's stream cap wait their turn; at most max_pending are in flight;
 * a server killed mid-write costs no SIGPIPE; a full request ring is a
 * counted refusal, never a wait.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "tests/pushd/pushd_life.h"

/* Pushes submitted before the connection is up, and more than the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS: a second connection opens past the cap
 * (never more than max_connections), the rest wait their turn. */
void test_queue_before_connect_and_past_stream_cap(void **state)
{
	enum { N = 60 };
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--max-streams 4 --delay-ms 20"), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.max_connections = 2;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	for (unsigned i = 0; i < N; i++) {
		ts_request(&q, PD_APNS, "ee01", i);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
	assert_int_equal(pd_start(pd), 0);
	assert_int_equal(ts_wait_n(pd, N, 5000), N);
	assert_int_equal(ts_srv_count(&srv, "CONN "), 2);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* pushd holds at most max_pending pushes; the rest wait in the ring and
 * are taken as earlier ones finish. */
void test_max_pending(void **state)
{
	enum { N = 200 };
	struct pd_result *r;
	uint64_t deadline;
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	assert_int_equal(ts_srv_cmd(&srv, "set ac01 stall"), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.max_pending = 64;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	/* One push delivered first: until then a fresh token-auth connection
	 * carries one stream (docs/pushd.md, "How it sends"). */
	r = push_one(pd, "ac00", N + 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	deadline = sw_mono_ms();
	for (unsigned i = 0; i < N; i++) {
		ts_request(&q, PD_APNS, "ac01", i);
		/* The first 64 (taken first: the ring is FIFO) outlive the others. */
		q.deadline_ms = deadline + (i < 64 ? 1500 : 1000);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
	/* The first 64 are sent and stall; the rest wait in the ring until
	 * those time out, by which time their own deadline has long passed: they
	 * time out without being sent. All answered, exactly 64 requests made. */
	assert_int_equal(ts_wait_n(pd, N, 10000), 0);
	assert_int_equal(ts_srv_count(&srv, "REQ apns ac01"), 64);
	r = push_one(pd, "ac02", N, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* The server dies while pushd is writing to it: EPIPE, not a SIGPIPE that
 * kills the process; the pushes time out and pushd carries on. */
void test_server_killed_mid_write(void **state)
{
	enum { N = 3000 };
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	struct pd_result *r;
	struct pd_stats st;
	char err[256];

	(void)state;
	signal(SIGPIPE, SIG_DFL); /* as in a process that did not ignore it */
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--delay-ms 200"), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.ring_size = 4096;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	/* Delivered first, so the connection takes every stream it may. */
	r = push_one(pd, "ad00", N + 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	for (unsigned i = 0; i < N; i++) {
		ts_request(&q, PD_APNS, "ad01", i);
		q.deadline_ms = sw_mono_ms() + 1500;
		assert_int_equal(pd_submit(pd, &q), 0);
		if (i == N / 3)
			kill(srv.pid, SIGKILL);
	}
	assert_int_equal(ts_wait_n(pd, N, 10000) >= 0, 1);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.submitted, N + 1);
	pd_free(pd);
	ts_srv_stop(&srv);
}

/* A full request ring is a counted refusal, never a wait. */
void test_ring_full(void **state)
{
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	struct pd_stats st;
	char err[256];
	unsigned ok = 0;
	int rc = 0;

	(void)state;
	ts_pd_config(&cfg, &keys, 1);
	cfg.ring_size = 64;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	ts_request(&q, PD_APNS, "aa", 1);
	while (ok < 100 && (rc = pd_submit(pd, &q)) == 0)
		ok++;
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(ok, 63); /* rte_ring keeps one slot free */
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.ring_full, 1);
	assert_int_equal(st.submitted, 63);
	pd_free(pd); /* never started: queued requests are freed */
}
