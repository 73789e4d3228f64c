/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd's FCM HTTP v1 path against pd_testsrv (the group of test_pushd.c):
 * the message it sends, dead tokens, configuration errors, retries, the
 * access token fetched again on 401 and refreshed before it expires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/pushd/test_pushd.h"

void test_fcm(void **state)
{
	struct pd_result *r;
	const char *l;

	(void)state;
	r = push(PD_FCM, "fcm-tok-1", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ fcm fcm-tok-1", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "type=call"));
	assert_non_null(strstr(l, "prio=high"));
	/* the seconds left to the push's deadline (3 s) */
	assert_true(strstr(l, "\"ttl\":\"3s\"") || strstr(l, "\"ttl\":\"2s\""));
	assert_non_null(strstr(l, "\"caller_name\":\"Alice\""));
	assert_null(strstr(l, "notification"));
	assert_int_equal(ts_srv_cmd(&srv, "set fcm-dead 404"), 0);
	r = push(PD_FCM, "fcm-dead", PD_KIND_CALL, 3000);
	expect(r, PD_DEAD_TOKEN, "UNREGISTERED");
	assert_true(r->provider_ts_ms > 0);
	free(r);
	/* A 404 that is not UNREGISTERED (no such project) is not a dead token. */
	assert_int_equal(ts_srv_cmd(&srv, "set fcm-nf 404 NOT_FOUND"), 0);
	r = push(PD_FCM, "fcm-nf", PD_KIND_CALL, 3000);
	expect(r, PD_CONFIG_ERROR, "NOT_FOUND");
	free(r);
	assert_int_equal(ts_srv_cmd(&srv, "set fcm-mismatch 403 SENDER_ID_MISMATCH"), 0);
	r = push(PD_FCM, "fcm-mismatch", PD_KIND_CALL, 3000);
	expect(r, PD_CONFIG_ERROR, "SENDER_ID_MISMATCH");
	free(r);
	assert_int_equal(ts_srv_cmd(&srv, "once fcm-busy 503"), 0);
	r = push(PD_FCM, "fcm-busy", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 2);
	free(r);
}

/* A long call id becomes a 64-character collapse id (SHA-256 in hex). */

void test_fcm_401_refetches_token(void **state)
{
	struct pd_result *r;
	unsigned tokens;

	(void)state;
	r = push(PD_FCM, "fcm-a", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	tokens = ts_srv_count(&srv, "REQ token status=200");
	assert_int_equal(ts_srv_cmd(&srv, "revoke"), 0);
	r = push(PD_FCM, "fcm-b", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 2);
	free(r);
	assert_int_equal(ts_srv_count(&srv, "REQ token status=200"), tokens + 1);
	/* Many 401s at once (all sent with the revoked token): one new token. */
	assert_int_equal(ts_srv_cmd(&srv, "revoke"), 0);
	for (unsigned i = 0; i < 8; i++) {
		struct pd_request q;

		ts_request(&q, PD_FCM, "fcm-many", next_id++);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
	assert_int_equal(ts_wait_n(pd, 8, 5000), 8);
	assert_int_equal(ts_srv_count(&srv, "REQ token status=200"), tokens + 2);
}

void test_fcm_token_refresh_before_expiry(void **state)
{
	struct pd_result *r;
	unsigned tokens;

	(void)state;
	/* Tokens that live 2 s are refreshed after 1 s. */
	assert_int_equal(ts_srv_cmd(&srv, "fcm-ttl 2"), 0);
	assert_int_equal(ts_srv_cmd(&srv, "revoke"), 0);
	r = push(PD_FCM, "fcm-c", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	tokens = ts_srv_count(&srv, "REQ token status=200");
	usleep(1300 * 1000);
	r = push(PD_FCM, "fcm-d", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 1);
	free(r);
	assert_int_equal(ts_srv_count(&srv, "REQ token status=200"), tokens + 1);
	assert_int_equal(ts_srv_cmd(&srv, "fcm-ttl 3600"), 0);
}
