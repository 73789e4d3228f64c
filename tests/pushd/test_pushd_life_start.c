/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How a token-auth APNs connection starts, as Apple asks: one request at a
 * time until an answer shows the provider token was accepted (a 200, or a
 * 400/410/413 about the device or the payload), then up to the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS; a 403 keeps it at one, and a request
 * that times out unanswered frees the one stream for the next. pd_testsrv's REQ
 * lines carry open=<request streams open on that connection>, counted when
 * the request arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/pushd/pushd_life.h"

/* open=<n> of the REQ line for @token (0 when there is none within 2 s:
 * pushd may have its answer before the harness has read the server's line). */
static unsigned open_of(struct ts_srv *srv, const char *token)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "REQ apns %s ", token);
	ts_srv_wait(srv, needle, 2000); /* reads what the server has written */
	for (size_t i = 0; i < srv->n_lines; i++)
		if (strstr(srv->lines[i], needle) && (p = strstr(srv->lines[i], " open=")))
			return (unsigned)atoi(p + 6);
	return 0;
}

/* A pushd with the token-auth APNs credential alone, connected. */
static struct pd *start_pd(struct ts_srv *srv)
{
	struct pd_config cfg;
	struct pd *pd;
	char err[256];

	ts_pd_config(&cfg, &keys, srv->port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_non_null(ts_srv_wait(srv, "CONN ", 3000));
	return pd;
}

/* Submits one push per token, in order, all at once. */
static void submit_all(struct pd *pd, const char *const *tokens, unsigned n, uint64_t id0)
{
	struct pd_request q;

	for (unsigned i = 0; i < n; i++) {
		ts_request(&q, PD_APNS, tokens[i], id0 + i);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
}

/* Eight pushes at once on a fresh connection: the first goes alone (no
 * other stream has begun when it is complete), the other seven together
 * once it was answered 200 (each sees the other six, not the first); no
 * second connection is opened meanwhile. The answers are delayed so that
 * streams sent together overlap at the server. (nghttp2 writes the HEADERS
 * of every stream it has queued before their DATA, so streams sent
 * together all count in each other's open=.) */
void test_apns_one_stream_until_accepted(void **state)
{
	static const char *const tok[] = {"fa01", "fa02", "fa03", "fa04",
					  "fa05", "fa06", "fa07", "fa08"};
	enum { N = 8 };
	struct ts_srv srv;
	struct pd *pd;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--delay-ms 100"), 0);
	pd = start_pd(&srv);
	submit_all(pd, tok, N, 1);
	assert_int_equal(ts_wait_n(pd, N, 5000), N);
	assert_int_equal(open_of(&srv, "fa01"), 1);
	for (unsigned i = 1; i < N; i++)
		assert_int_equal(open_of(&srv, tok[i]), N - 1);
	assert_int_equal(ts_srv_count(&srv, "CONN "), 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* A 403 proves nothing: the next request still goes alone. A 400 about the
 * device means the provider token passed: the connection opens up. */
void test_apns_start_after_403_and_400(void **state)
{
	static const char *const t403[] = {"fb01", "fb02", "fb03", "fb04"};
	static const char *const t400[] = {"fc01", "fc02", "fc03", "fc04"};
	struct ts_srv srv;
	struct pd_result *r;
	struct pd *pd;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--delay-ms 100"), 0);
	assert_int_equal(ts_srv_cmd(&srv, "set fb01 403 InvalidProviderToken"), 0);
	assert_int_equal(ts_srv_cmd(&srv, "set fc01 400 BadDeviceToken"), 0);

	pd = start_pd(&srv);
	submit_all(pd, t403, 4, 1);
	r = ts_wait_result(pd, 1, 5000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_CONFIG_ERROR);
	free(r);
	assert_int_equal(ts_wait_n(pd, 3, 5000), 3);
	assert_int_equal(open_of(&srv, "fb01"), 1);
	assert_int_equal(open_of(&srv, "fb02"), 1); /* still one at a time */
	assert_int_equal(open_of(&srv, "fb03"), 2); /* then both together */
	assert_int_equal(open_of(&srv, "fb04"), 2);
	pd_free(pd);

	/* A fresh pushd, a fresh connection. */
	pd = start_pd(&srv);
	submit_all(pd, t400, 4, 11);
	r = ts_wait_result(pd, 11, 5000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_REJECTED);
	free(r);
	assert_int_equal(ts_wait_n(pd, 3, 5000), 3);
	assert_int_equal(open_of(&srv, "fc01"), 1);
	for (unsigned i = 1; i < 4; i++) /* all three together once fc01 was answered */
		assert_int_equal(open_of(&srv, t400[i]), 3);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* The one request of a fresh connection gets no answer: when its deadline
 * cancels it, the next push goes (the freed stream wakes the queue). */
void test_apns_start_after_a_stall(void **state)
{
	static const char *const tok[] = {"fd01", "fd02"};
	struct ts_srv srv;
	struct pd_request q;
	struct pd_result *r;
	struct pd *pd;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	assert_int_equal(ts_srv_cmd(&srv, "set fd01 stall"), 0);
	pd = start_pd(&srv);
	for (unsigned i = 0; i < 2; i++) {
		ts_request(&q, PD_APNS, tok[i], 21 + i);
		q.deadline_ms = sw_mono_ms() + (i ? 4000 : 500);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
	r = ts_wait_result(pd, 21, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_TIMED_OUT);
	free(r);
	r = ts_wait_result(pd, 22, 5000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	assert_int_equal(open_of(&srv, "fd02"), 1); /* fd01's stream was reset */
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}
