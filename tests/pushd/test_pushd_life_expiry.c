/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A push's expiry follows its own deadline: APNs apns-expiration is the
 * wall-clock second at which the deadline falls, FCM android.ttl the
 * seconds left to it; a request without a deadline gets the wake window.
 * Read from pd_testsrv's REQ lines (exp= and the FCM body).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/pushd/pushd_life.h"

/* Sends one push for @token with a deadline @ms from now (0: none, the
 * wake window) and returns the server's REQ line for it. */
static const char *send_one(struct pd *pd, struct ts_srv *srv, enum pd_provider p,
			    const char *token, uint64_t id, unsigned ms)
{
	struct pd_request q;
	struct pd_result *r;
	char needle[64];

	ts_request(&q, p, token, id);
	q.deadline_ms = ms ? sw_mono_ms() + ms : 0;
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, id, 5000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	snprintf(needle, sizeof(needle), "REQ %s %s ", p == PD_APNS ? "apns" : "fcm", token);
	return ts_srv_wait(srv, needle, 2000);
}

/* apns-expiration of @line less the wall clock @t0 taken before the push. */
static long exp_after(const char *line, time_t t0)
{
	const char *e;

	assert_non_null(line);
	e = strstr(line, " exp=");
	assert_non_null(e);
	return atol(e + 5) - (long)t0;
}

/* android.ttl of @line, in seconds. */
static long ttl_of(const char *line)
{
	const char *t;

	assert_non_null(line);
	t = strstr(line, "\"ttl\":\"");
	assert_non_null(t);
	return atol(t + 7);
}

void test_expiry_follows_deadline(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	char err[256];
	time_t t0;
	long d;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_apns = 1;
	cfg.wake_window_s = 20;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);

	/* Deadline 7 s: apns-expiration now + 7 (rounded up), ttl "7s". */
	t0 = time(NULL);
	d = exp_after(send_one(pd, &srv, PD_APNS, "ae01", 1, 7000), t0);
	assert_true(d >= 7 && d <= 8);
	d = ttl_of(send_one(pd, &srv, PD_FCM, "fcm-exp-1", 2, 7000));
	assert_true(d == 7 || d == 6);

	/* No deadline: the wake window (20 s). */
	t0 = time(NULL);
	d = exp_after(send_one(pd, &srv, PD_APNS, "ae02", 3, 0), t0);
	assert_true(d >= 20 && d <= 21);
	d = ttl_of(send_one(pd, &srv, PD_FCM, "fcm-exp-2", 4, 0));
	assert_true(d == 20 || d == 19);

	/* Under a second left: ttl 1 s, never "0s" (FCM's now or never). */
	d = ttl_of(send_one(pd, &srv, PD_FCM, "fcm-exp-3", 5, 900));
	assert_int_equal(d, 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}
