/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd against pd_testsrv over real TLS + HTTP/2 on 127.0.0.1: every row
 * of the answer table (docs/pushd.md, "How it sends"), JWT reuse and renewal, FCM token
 * refresh, GOAWAY, reconnect after a server restart, certificate auth.
 * argv[1]: path of pd_testsrv.
 */
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

#include "tests/pushd/test_pushd.h"

static const char *srv_bin;
static struct ts_keys keys;
struct ts_srv srv;
struct pd *pd;
uint64_t next_id = 1;

static int group_setup(void **state)
{
	struct pd_config cfg;
	char err[256];

	(void)state;
	if (ts_keys_make(&keys) || ts_srv_start(&srv, srv_bin, &keys, 0, NULL))
		return -1;
	ts_pd_config(&cfg, &keys, srv.port);
	pd = pd_new(&cfg, err, sizeof(err));
	if (!pd) {
		fprintf(stderr, "pd_new: %s\n", err);
		return -1;
	}
	return pd_start(pd);
}

static int group_teardown(void **state)
{
	int rc;

	(void)state;

	pd_free(pd);
	rc = ts_srv_stop(&srv);
	ts_keys_remove(&keys);
	if (rc)
		fprintf(stderr, "pd_testsrv exited with %d\n", rc);
	return rc ? -1 : 0;
}

/* Sends one push and waits for its result (bounded). */
struct pd_result *push(enum pd_provider p, const char *token, enum pd_kind kind,
		       uint64_t deadline_in_ms)
{
	struct pd_request r;
	uint64_t id = next_id++;

	ts_request(&r, p, token, id);
	r.kind = kind;
	r.deadline_ms = sw_mono_ms() + deadline_in_ms;
	assert_int_equal(pd_submit(pd, &r), 0);
	return ts_wait_result(pd, id, (int)deadline_in_ms + 3000);
}

void expect(struct pd_result *r, enum pd_status st, const char *reason)
{
	assert_non_null(r);
	if (r->status != st)
		fprintf(stderr, "got %s (%s, HTTP %d, %s)\n", pd_status_name(r->status), r->reason,
			r->http_status, r->body);
	assert_int_equal(r->status, st);
	if (reason)
		assert_string_equal(r->reason, reason);
}

static void test_apns_call_delivered(void **state)
{
	struct pd_result *r;
	const char *l;

	(void)state;
	r = push(PD_APNS, "aa01", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->http_status, 200);
	assert_int_equal(r->attempts, 1);
	l = ts_srv_wait(&srv, "REQ apns aa01", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "status=200"));
	assert_non_null(strstr(l, "type=voip topic=" TS_BUNDLE ".voip prio=10"));
	assert_non_null(strstr(l, "collapse=call-"));
	/* apns-expiration: when the push's deadline (3 s) falls */
	assert_true(labs(atol(strstr(l, " exp=") + 5) - (long)time(NULL) - 3) <= 1);
	assert_non_null(strstr(l, r->apns_id));
	/* What CallKit needs to show the call at once. */
	assert_non_null(strstr(l, "\"call_id\":\"call-"));
	assert_non_null(strstr(l, "\"caller_number\":\"+15551230000\""));
	assert_non_null(strstr(l, "\"caller_name\":\"Alice\""));
	assert_non_null(strstr(l, "\"aor\":\"sip:bob@example.com\""));
	assert_non_null(strstr(l, "\"kind\":\"call\""));
	assert_non_null(strstr(l, "\"push_id\":\""));
	free(r);
}

static void test_apns_alert_and_background(void **state)
{
	struct pd_result *r;
	const char *l;

	(void)state;
	r = push(PD_APNS, "aa02", PD_KIND_ALERT, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns aa02", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "type=alert topic=" TS_BUNDLE " prio=10"));
	r = push(PD_APNS, "aa03", PD_KIND_BACKGROUND, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns aa03", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "type=background topic=" TS_BUNDLE " prio=5"));
}

/* A held MESSAGE (docs/design.md §5): an alert naming the sender, kind
 * "message"; never to a VoIP token. */
static void test_apns_message(void **state)
{
	struct pd_request q;
	struct pd_result *r;
	const char *l;

	(void)state;
	r = push(PD_APNS, "aa04", PD_KIND_MESSAGE, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns aa04", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "type=alert topic=" TS_BUNDLE " prio=10"));
	assert_non_null(strstr(l, "\"title\":\"Message from Alice\""));
	assert_non_null(strstr(l, "\"kind\":\"message\""));
	assert_non_null(strstr(l, "\"caller_number\":\"+15551230000\""));
	ts_request(&q, PD_APNS, "aa05", next_id);
	q.kind = PD_KIND_MESSAGE;
	q.token_kind = PD_TOKEN_VOIP;
	q.deadline_ms = sw_mono_ms() + 3000;
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, next_id++, 6000);
	expect(r, PD_REFUSED, "a VoIP token takes only VoIP pushes");
	assert_int_equal(r->attempts, 0);
	free(r);
}

/* A PushKit token takes VoIP pushes only, a regular one the others; a call
 * to a device that gave only its regular token goes as an alert. */
static void test_apns_token_kinds(void **state)
{
	struct pd_request q;
	struct pd_result *r;
	const char *l;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "kind aa20 voip"), 0);
	assert_int_equal(ts_srv_cmd(&srv, "kind aa21 regular"), 0);
	/* The test server refuses what APNs refuses, to a caller that does not say. */
	r = push(PD_APNS, "aa20", PD_KIND_BACKGROUND, 3000);
	expect(r, PD_REJECTED, "DeviceTokenNotForTopic");
	free(r);
	r = push(PD_APNS, "aa21", PD_KIND_CALL, 3000);
	expect(r, PD_REJECTED, "DeviceTokenNotForTopic");
	free(r);
	/* Told the token is a VoIP one, pushd never sends it a background push. */
	ts_request(&q, PD_APNS, "aa20", next_id);
	q.kind = PD_KIND_BACKGROUND;
	q.token_kind = PD_TOKEN_VOIP;
	q.target = 1;
	q.deadline_ms = sw_mono_ms() + 3000;
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, next_id++, 6000);
	expect(r, PD_REFUSED, "a VoIP token takes only VoIP pushes");
	assert_int_equal(r->attempts, 0);
	assert_int_equal(r->target, 1); /* echoed: the caller marks that token */
	free(r);
	/* A call to a regular token: an alert on the bundle's topic. */
	ts_request(&q, PD_APNS, "aa21", next_id);
	q.kind = PD_KIND_CALL;
	q.token_kind = PD_TOKEN_REGULAR;
	q.deadline_ms = sw_mono_ms() + 3000;
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, next_id++, 6000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns aa21 status=200", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "type=alert topic=" TS_BUNDLE " prio=10"));
	assert_non_null(strstr(l, "Incoming call"));
	assert_int_equal(ts_srv_cmd(&srv, "clear"), 0);
}

static void test_apns_dead_token(void **state)
{
	struct pd_result *r;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "set aa10 410"), 0);
	r = push(PD_APNS, "aa10", PD_KIND_CALL, 3000);
	expect(r, PD_DEAD_TOKEN, "Unregistered");
	assert_true(r->provider_ts_ms > 1600000000000LL);
	free(r);
}

static void test_apns_rejected(void **state)
{
	struct pd_result *r;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "set aa11 400 BadDeviceToken"), 0);
	r = push(PD_APNS, "aa11", PD_KIND_CALL, 3000);
	expect(r, PD_REJECTED, "BadDeviceToken");
	free(r);
	assert_int_equal(ts_srv_cmd(&srv, "set aa12 400 DeviceTokenNotForTopic"), 0);
	r = push(PD_APNS, "aa12", PD_KIND_CALL, 3000);
	expect(r, PD_REJECTED, "DeviceTokenNotForTopic");
	free(r);
	/* A token that is not hex never leaves pushd (it would go in :path):
	 * refused by sipwake, not rejected by APNs. */
	r = push(PD_APNS, "aa/../../x", PD_KIND_CALL, 3000);
	expect(r, PD_REFUSED, "token not hex or longer than 200");
	assert_int_equal(r->attempts, 0);
	free(r);
}

static void test_apns_config_error(void **state)
{
	struct pd_result *r;
	struct pd_stats st;
	uint64_t before;

	(void)state;
	pd_stats_get(pd, PD_APNS, &st);
	before = st.config_error;
	assert_int_equal(ts_srv_cmd(&srv, "set aa13 403 InvalidProviderToken"), 0);
	r = push(PD_APNS, "aa13", PD_KIND_CALL, 3000);
	expect(r, PD_CONFIG_ERROR, "InvalidProviderToken");
	free(r);
	assert_int_equal(ts_srv_cmd(&srv, "set aa14 403 BadCertificate"), 0);
	r = push(PD_APNS, "aa14", PD_KIND_CALL, 3000);
	expect(r, PD_CONFIG_ERROR, "BadCertificate");
	free(r);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.config_error, before + 2);
	/* Alarmed: the last one is in the counters' snapshot (and telemetry). */
	assert_non_null(strstr(st.alarm, "apns.[0]: BadCertificate (HTTP 403)"));
	assert_true(st.alarm_ms > 0);
}

static void test_apns_expired_provider_token_retried_once(void **state)
{
	struct pd_result *r;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "once aa15 403 ExpiredProviderToken"), 0);
	r = push(PD_APNS, "aa15", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 2);
	free(r);
	/* Twice in a row: retried once only, then reported. */
	assert_int_equal(ts_srv_cmd(&srv, "set aa16 403 ExpiredProviderToken"), 0);
	r = push(PD_APNS, "aa16", PD_KIND_CALL, 3000);
	expect(r, PD_CONFIG_ERROR, "ExpiredProviderToken");
	assert_int_equal(r->attempts, 2);
	free(r);
}

static void test_retry_429_honours_retry_after(void **state)
{
	struct pd_result *r;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "once aa20 429 1"), 0);
	r = push(PD_APNS, "aa20", PD_KIND_CALL, 4000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 2);
	assert_true(r->latency_us >= 1000000);
	/* written_us is the first attempt's, before the Retry-After wait. */
	assert_true(r->written_us > 0 && r->written_us < 1000000);
	free(r);
	/* Retry-After beyond the deadline: timed out at once, not at the deadline. */
	assert_int_equal(ts_srv_cmd(&srv, "set aa21 429 10"), 0);
	r = push(PD_APNS, "aa21", PD_KIND_CALL, 2000);
	expect(r, PD_TIMED_OUT, NULL);
	assert_true(r->latency_us < 1500000);
	free(r);
}

static void test_retry_5xx_and_reset(void **state)
{
	struct pd_result *r;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "once aa22 500"), 0);
	assert_int_equal(ts_srv_cmd(&srv, "once aa22 503"), 0);
	r = push(PD_APNS, "aa22", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 3);
	free(r);
	assert_int_equal(ts_srv_cmd(&srv, "once aa23 reset"), 0);
	r = push(PD_APNS, "aa23", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 2);
	free(r);
	/* Always 503: retried until the deadline allows no more. */
	assert_int_equal(ts_srv_cmd(&srv, "set aa24 503"), 0);
	r = push(PD_APNS, "aa24", PD_KIND_CALL, 800);
	expect(r, PD_TIMED_OUT, NULL);
	assert_true(r->attempts >= 3);
	free(r);
}

static void test_stall_times_out(void **state)
{
	struct pd_result *r;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "set aa25 stall"), 0);
	r = push(PD_APNS, "aa25", PD_KIND_CALL, 500);
	expect(r, PD_TIMED_OUT, "deadline");
	assert_true(r->latency_us >= 490000 && r->latency_us < 1500000);
	free(r);
	/* The connection survives a cancelled stream. */
	r = push(PD_APNS, "aa26", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
}

static void test_goaway_retried_on_new_connection(void **state)
{
	struct pd_result *r;
	unsigned conns = ts_srv_count(&srv, "CONN ");

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "once aa27 goaway"), 0);
	r = push(PD_APNS, "aa27", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->attempts, 2);
	free(r);
	assert_int_equal(ts_srv_count(&srv, "CONN "), conns + 1);
}

/* A server-wide GOAWAY (graceful: every stream already processed): pushd
 * moves to a new connection and keeps delivering. */
static void test_server_goaway(void **state)
{
	struct pd_result *r;
	unsigned conns = ts_srv_count(&srv, "CONN ");

	(void)state;
	r = push(PD_APNS, "aa28", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	assert_int_equal(ts_srv_cmd(&srv, "goaway"), 0);
	/* apns.[0], apns.[1], fcm.[0] and its token endpoint all reconnect. */
	for (int i = 0; i < 300 && ts_srv_count(&srv, "CONN ") < conns + 4; i++)
		usleep(10 * 1000);
	assert_int_equal(ts_srv_count(&srv, "CONN "), conns + 4);
	r = push(PD_APNS, "aa29", PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
}

static void test_cert_auth(void **state)
{
	struct pd_request q;
	struct pd_result *r;
	const char *l;

	(void)state;
	ts_request(&q, PD_APNS, "aa30", next_id++);
	snprintf(q.param, sizeof(q.param), "CERTTEAM01." TS_BUNDLE);
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, q.id, 5000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns aa30", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "cert=1"));
	assert_non_null(strstr(l, "iat=0"));
}

/* A pn-param with the bundle id alone still finds the credential. */
static void test_bundle_only_param(void **state)
{
	struct pd_request q;
	struct pd_result *r;

	(void)state;
	ts_request(&q, PD_APNS, "aa32", next_id++);
	snprintf(q.param, sizeof(q.param), TS_BUNDLE ".voip");
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, q.id, 5000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	assert_non_null(strstr(ts_srv_wait(&srv, "REQ apns aa32", 2000), "cert=0"));
}

static void test_no_credential(void **state)
{
	struct pd_request q;
	struct pd_result *r;
	struct pd_stats st;

	(void)state;
	ts_request(&q, PD_APNS, "aa31", next_id++);
	snprintf(q.param, sizeof(q.param), "OTHERTEAM1.com.other.app");
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, q.id, 2000);
	expect(r, PD_NO_CREDENTIAL, NULL);
	free(r);
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.no_credential >= 1);
}

static void test_apns_long_call_id(void **state)
{
	struct pd_request q;
	struct pd_result *r;
	const char *l, *c;

	(void)state;
	ts_request(&q, PD_APNS, "aa40", next_id++);
	memset(q.call_id, 'x', 100);
	q.call_id[100] = '\0';
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, q.id, 5000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns aa40", 2000);
	assert_non_null(l);
	c = strstr(l, "collapse=");
	assert_non_null(c);
	assert_int_equal(strcspn(c + 9, " "), 64);
}

/* Hostile or sloppy input from SIP: a Latin-1 display name still wakes the
 * phone; a call id with spaces is hashed into the collapse id; strings that
 * fill their arrays are cut, not read past. */
static void test_request_strings_sanitised(void **state)
{
	struct pd_request q;
	struct pd_result *r;
	const char *l, *c;

	(void)state;
	ts_request(&q, PD_APNS, "aa41", next_id++);
	snprintf(q.caller_name, sizeof(q.caller_name), "Ren\xe9"); /* Latin-1 e-acute */
	snprintf(q.call_id, sizeof(q.call_id), "a b\tc@pbx");
	memset(q.aor, 'a', sizeof(q.aor)); /* no terminator */
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, q.id, 5000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ apns aa41", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "\"caller_name\":\"Ren?\""));
	c = strstr(l, "collapse=");
	assert_non_null(c);
	assert_int_equal(strcspn(c + 9, " "), 64);
}

static void test_many_streams_one_connection(void **state)
{
	enum { N = 300 };
	unsigned conns = ts_srv_count(&srv, "CONN ");
	struct pd_request q;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		ts_request(&q, PD_APNS, "ab01", next_id++);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
	assert_int_equal(ts_wait_n(pd, N, 5000), N);
	assert_int_equal(ts_srv_count(&srv, "CONN "), conns);
}

static void test_stats_json(void **state)
{
	char *j = pd_stats_json(pd);

	(void)state;
	assert_non_null(j);
	assert_non_null(strstr(j, "\"apns\""));
	assert_non_null(strstr(j, "\"delivered\""));
	assert_non_null(strstr(j, "\"latency_p99_us\""));
	assert_non_null(strstr(j, "{\"name\":\"apns.[0]\",\"match\":\"" TS_TEAM "." TS_BUNDLE
				  "\",\"connections_up\":1}"));
	assert_non_null(strstr(j, "\"token_endpoint_up\":1"));
	free(j);
	/* Registration only (answering needs EAL's telemetry socket). */
	assert_int_equal(pd_telemetry_register(pd), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apns_call_delivered),
		cmocka_unit_test(test_apns_alert_and_background),
		cmocka_unit_test(test_apns_message),
		cmocka_unit_test(test_apns_token_kinds),
		cmocka_unit_test(test_apns_dead_token),
		cmocka_unit_test(test_apns_rejected),
		cmocka_unit_test(test_apns_config_error),
		cmocka_unit_test(test_apns_expired_provider_token_retried_once),
		cmocka_unit_test(test_retry_429_honours_retry_after),
		cmocka_unit_test(test_retry_5xx_and_reset),
		cmocka_unit_test(test_stall_times_out),
		cmocka_unit_test(test_goaway_retried_on_new_connection),
		cmocka_unit_test(test_server_goaway),
		cmocka_unit_test(test_cert_auth),
		cmocka_unit_test(test_bundle_only_param),
		cmocka_unit_test(test_no_credential),
		cmocka_unit_test(test_fcm),
		cmocka_unit_test(test_apns_long_call_id),
		cmocka_unit_test(test_request_strings_sanitised),
		cmocka_unit_test(test_fcm_401_refetches_token),
		cmocka_unit_test(test_fcm_token_refresh_before_expiry),
		cmocka_unit_test(test_many_streams_one_connection),
		cmocka_unit_test(test_stats_json),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PD_TESTSRV\n", argv[0]);
		return 2;
	}
	srv_bin = argv[1];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
