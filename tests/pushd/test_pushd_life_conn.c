/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd's connections to the push services: the APNs provider token
 * reused, then renewed; a reconnect after the server restarts, with a push
 * waiting for it; names resolved and checked against the certificate; a
 * service account the token endpoint refuses; idle connections PINGed and
 * dead ones replaced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/pushd/pushd_life.h"

static long iat_of(const char *line)
{
	const char *p = line ? strstr(line, "iat=") : NULL;

	assert_non_null(p);
	return atol(p + 4);
}

void test_jwt_reused_then_renewed(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_stats st;
	char err[256];
	long iat1, iat2, iat3;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.test_jwt_renew_s = 4;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	r = push_one(pd, "bb01", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	iat1 = iat_of(ts_srv_wait(&srv, "REQ apns bb01", 2000));
	r = push_one(pd, "bb02", 2, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	iat2 = iat_of(ts_srv_wait(&srv, "REQ apns bb02", 2000));
	assert_int_equal(iat1, iat2); /* reused */
	sleep(5);
	r = push_one(pd, "bb03", 3, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	iat3 = iat_of(ts_srv_wait(&srv, "REQ apns bb03", 2000));
	assert_true(iat3 >= iat1 + 4); /* renewed */
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.token_renewals, 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

void test_reconnect_after_server_restart(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_request q;
	struct pd_stats st;
	unsigned port;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	port = srv.port;
	ts_pd_config(&cfg, &keys, port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	r = push_one(pd, "cc01", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.connect_failures, 0);
	assert_int_equal(ts_srv_stop(&srv), 0);
	/* Submitted while the server is down: waits for the reconnect. */
	ts_request(&q, PD_APNS, "cc02", 2);
	q.deadline_ms = sw_mono_ms() + 6000;
	assert_int_equal(pd_submit(pd, &q), 0);
	usleep(600 * 1000);
	/* The attempts against a port nobody listens on show while it lasts. */
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.connect_failures >= 1);
	assert_int_equal(st.connections_up, 0);
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, port, NULL), 0);
	r = ts_wait_result(pd, 2, 8000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.connects >= 2);
	assert_true(st.disconnects >= 1);
	assert_int_equal(st.connections_up, 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* Names are resolved (evdns, /etc/hosts) and checked against the server's
 * certificate: "localhost" is in its subjectAltName, "vm" (also 127.0.0.1
 * here, when /etc/hosts has it) is not, so that connection never comes up. */
void test_hostname_and_certificate_check(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_stats st;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	snprintf(cfg.apns[0].host, sizeof(cfg.apns[0].host), "localhost");
	cfg.apns_expire_now = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	r = push_one(pd, "ab02", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	assert_non_null(strstr(ts_srv_wait(&srv, "REQ apns ab02", 2000), " exp=0 "));
	pd_free(pd);

	if (system("getent hosts vm | grep -q '^127\\.0\\.0\\.1'") == 0) {
		snprintf(cfg.apns[0].host, sizeof(cfg.apns[0].host), "vm");
		pd = pd_new(&cfg, err, sizeof(err));
		assert_non_null(pd);
		assert_int_equal(pd_start(pd), 0);
		r = push_one(pd, "ab03", 2, 800);
		assert_non_null(r);
		assert_int_equal(r->status, PD_TIMED_OUT);
		free(r);
		pd_stats_get(pd, PD_APNS, &st);
		assert_int_equal(st.connects, 0);
		pd_free(pd);
	}
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* A service account the token endpoint refuses: FCM pushes are configuration
 * errors, reported at once rather than at their deadline. */
void test_fcm_token_refused(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_request q;
	struct pd_stats st;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--fcm-email someone@else.example"),
			 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_apns = 0;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_non_null(ts_srv_wait(&srv, "REQ token status=400", 3000));
	/* The alarm is up before any push, with the endpoint's status. */
	for (int i = 0; i < 100; i++) {
		pd_stats_get(pd, PD_FCM, &st);
		if (st.alarm_ms > 0)
			break;
		usleep(10 * 1000);
	}
	assert_non_null(
		strstr(st.alarm, "fcm.[0]: token endpoint refused the service account (HTTP 400)"));
	assert_int_equal(st.config_error, 0);
	ts_request(&q, PD_FCM, "fcm-x", 1);
	q.deadline_ms = sw_mono_ms() + 5000;
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_CONFIG_ERROR);
	assert_true(r->latency_us < 2000000);
	free(r);
	pd_stats_get(pd, PD_FCM, &st);
	assert_int_equal(st.config_error, 1);
	assert_non_null(strstr(st.alarm, "(HTTP 400)"));
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* An idle connection is PINGed; one whose PING goes unanswered is dropped
 * and replaced. */
void test_ping_idle_and_dead_connection(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_stats st;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.ping_interval_s = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_non_null(ts_srv_wait(&srv, "CONN 1", 3000));
	usleep(2500 * 1000);
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.pings >= 1);
	assert_int_equal(st.ping_timeouts, 0);
	assert_int_equal(st.connections_up, 1);
	assert_int_equal(ts_srv_cmd(&srv, "freeze on"), 0);
	assert_non_null(ts_srv_wait(&srv, "CONN 2", 5000));
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.ping_timeouts >= 1);
	r = push_one(pd, "ff01", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}
