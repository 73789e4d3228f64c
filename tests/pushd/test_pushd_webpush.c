/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd's Web Push path: the encryption against RFC 8291 Appendix A, then
 * against pd_testsrv as push service and browser (tests/pushd/README.md):
 * the VAPID header verified by its own key, the payload decrypted, every
 * answer of the table (docs/pushd.md, "Web Push"), subscriptions refused
 * before sending, and the bound on origins (two servers, max_origins 1).
 * argv[1]: path of pd_testsrv.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/sw_webpush.h"
#include "common/sw_b64.h"
#include "pushd/pd_internal.h"
#include "tests/pushd/ts_harness.h"

static const char *srv_bin;
static struct ts_keys keys;
static struct ts_srv srv;
static struct pd *pd;
static uint64_t next_id = 1;

static void dec(const char *b64, uint8_t *out, size_t want)
{
	assert_int_equal(sw_b64url_decode(b64, strlen(b64), out, want, SW_B64_LENIENT), (int)want);
}

/* RFC 8291 Appendix A: fixed sender key and salt, the message byte for byte. */
static void test_ece_rfc8291(void **state)
{
	static const char pt[] = "When I grow up, I want to be a watermelon";
	static const char want[] =
		"DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vC"
		"YLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXL"
		"WyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";
	uint8_t as_priv[32], as_pub[65], ua_pub[65], auth[16], salt[16], out[256];
	char got[400];
	EVP_PKEY *as;
	int n;

	(void)state;
	dec("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw", as_priv, 32);
	dec("BP4z9KsN6nGRTbVYI_"
	    "c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
	    as_pub, 65);
	dec("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-"
	    "AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
	    ua_pub, 65);
	dec("BTBZMqHH6r4Tts7J_aSIgg", auth, 16);
	dec("DGv6ra1nlYgDCS1FRnbzlw", salt, 16);
	as = pd_ec_key(as_pub, as_priv);
	assert_non_null(as);
	n = pd_ece_encrypt_with(as, salt, ua_pub, auth, pt, strlen(pt), out, sizeof(out));
	assert_int_equal(n, (int)(strlen(pt) + PD_ECE_OVERHEAD));
	pd_b64url(out, (size_t)n, got, sizeof(got));
	assert_string_equal(got, want);
	/* Too small a buffer, a point not on the curve: errors, nothing written past. */
	assert_int_equal(pd_ece_encrypt_with(as, salt, ua_pub, auth, pt, strlen(pt), out, 100),
			 -EMSGSIZE);
	memset(ua_pub + 1, 0, 64);
	assert_int_equal(
		pd_ece_encrypt_with(as, salt, ua_pub, auth, pt, strlen(pt), out, sizeof(out)),
		-EINVAL);
	EVP_PKEY_free(as);
}

/* The endpoint URL's parts and the keys' checks (common/sw_webpush.c). */
static void test_subscription_parse(void **state)
{
	static const char url[] = "https://push.example.net:8443/wpush/v2/gAAAA";
	uint8_t p[65], a[16];
	struct sw_wp_url u;
	const char *why;

	(void)state;
	assert_int_equal(sw_wp_url_split(url, strlen(url), &u, &why), 0);
	assert_int_equal(u.port, 8443);
	assert_memory_equal(u.host, "push.example.net", u.host_len);
	assert_int_equal(u.origin_len, strlen("https://push.example.net:8443"));
	assert_string_equal(u.path, "/wpush/v2/gAAAA");
	assert_int_equal(sw_wp_url_split("https://[::1]/x", 15, &u, &why), 0);
	assert_int_equal(u.port, 443);
	assert_int_equal(u.origin_len, strlen("https://[::1]"));
	assert_int_equal(sw_wp_url_split("http://a/x", 10, &u, &why), -EINVAL);
	assert_string_equal(why, "Web Push endpoint not an https:// URL");
	assert_int_equal(sw_wp_url_split("https://a", 9, &u, &why), -EINVAL);
	assert_int_equal(sw_wp_url_split("https://a:0/x", 13, &u, &why), -EINVAL);
	assert_int_equal(sw_wp_url_split("https://a:99999/x", 17, &u, &why), -EINVAL);
	assert_int_equal(sw_wp_url_split("https://u@a/x", 13, &u, &why), -EINVAL);
	assert_int_equal(sw_wp_url_split("https:///x", 10, &u, &why), -EINVAL);
	assert_int_equal(
		sw_wp_keys(
			"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZ"
			"GH6SRpkNtoIAiw4.BTBZMqHH6r4Tts7J_aSIgg",
			110, p, a, &why),
		0);
	assert_int_equal(p[0], 4);
	assert_int_equal(sw_wp_keys("AAAA.BTBZMqHH6r4Tts7J_aSIgg", 27, p, a, &why), -EINVAL);
	assert_string_equal(why, "Web Push p256dh is not a 65-byte uncompressed P-256 point");
}

static int group_setup(void **state)
{
	struct pd_config cfg;
	char err[256];

	(void)state;
	if (ts_keys_make(&keys) || ts_srv_start(&srv, srv_bin, &keys, 0, NULL))
		return -1;
	pd_config_defaults(&cfg);
	cfg.retry_base_ms = 50;
	cfg.retry_max_ms = 400;
	ts_pd_webpush(&cfg, &keys);
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
	return rc ? -1 : 0;
}

static struct pd_result *wpush(struct pd *p, const char *endpoint, const char *keys_,
			       enum pd_kind kind, uint64_t deadline_in_ms)
{
	struct pd_request r;
	uint64_t id = next_id++;

	ts_request(&r, PD_WEBPUSH, endpoint, id);
	snprintf(r.param, sizeof(r.param), "%s", keys_);
	r.kind = kind;
	r.deadline_ms = sw_mono_ms() + deadline_in_ms;
	assert_int_equal(pd_submit(p, &r), 0);
	return ts_wait_result(p, id, (int)deadline_in_ms + 3000);
}

static void expect(struct pd_result *r, enum pd_status st, const char *reason)
{
	assert_non_null(r);
	if (r->status != st)
		fail_msg("status %s, want %s (HTTP %d, %s)", pd_status_name(r->status),
			 pd_status_name(st), r->http_status, r->reason);
	if (reason)
		assert_string_equal(r->reason, reason);
}

/* Delivered: the push service checked the VAPID JWT by its k (aud, exp,
 * sub), the browser decrypted the call's JSON. */
static void test_webpush_delivered(void **state)
{
	char ep[512], k[200], want[600];
	struct pd_result *r;
	struct pd_stats st;
	const char *l;

	(void)state;
	assert_int_equal(ts_srv_wpsub(&srv, "sub-ok", ep, sizeof(ep), k, sizeof(k)), 0);
	r = wpush(pd, ep, k, PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	assert_int_equal(r->http_status, 201);
	snprintf(want, sizeof(want), "\"push_id\":\"%s\"", r->apns_id);
	l = ts_srv_wait(&srv, "REQ webpush sub-ok status=201", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "urgency=high"));
	assert_true(strstr(l, "ttl=3 ") || strstr(l, "ttl=2 "));
	assert_non_null(strstr(l, "sub=mailto:ops@example.com"));
	assert_null(strstr(l, "topic=- "));
	assert_non_null(strstr(l, "\"kind\":\"call\""));
	assert_non_null(strstr(l, "\"caller_number\":\"+15551230000\""));
	snprintf(want + 300, 300, "\"call_id\":\"call-%llu@pbx\"",
		 (unsigned long long)(next_id - 1));
	assert_non_null(strstr(l, want + 300));
	free(r);
	/* A background push: Urgency normal; the same JWT (signed once per origin). */
	r = wpush(pd, ep, k, PD_KIND_BACKGROUND, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "REQ webpush sub-ok status=201", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "urgency=normal"));
	assert_non_null(strstr(l, "\"kind\":\"background\""));
	assert_int_equal(pd_stats_get(pd, PD_WEBPUSH, &st), 0);
	assert_int_equal(st.token_renewals, 0);
	assert_int_equal(st.delivered, 2);
	assert_int_equal(st.connections_up, 1);
}

/* The answer table: 404 / 410 dead, 413 / 400 rejected, 401 / 403 the
 * credential's (a 401 first gets a new JWT and one more try), 429 / 5xx
 * retried. */
static void test_webpush_answers(void **state)
{
	static const struct {
		const char *verb, *spec;
		enum pd_status st;
		const char *reason;
		unsigned attempts;
	} rows[] = {
		{"set", "410", PD_DEAD_TOKEN, "HTTP 410", 1},
		{"set", "404", PD_DEAD_TOKEN, "HTTP 404", 1},
		{"set", "413", PD_REJECTED, "PayloadTooLarge", 1},
		{"set", "400", PD_REJECTED, "HTTP 400", 1},
		{"set", "403", PD_CONFIG_ERROR, "VAPID refused", 1},
		{"set", "401", PD_CONFIG_ERROR, "VAPID refused", 2}, /* re-signed once */
		{"once", "401", PD_DELIVERED, NULL, 2},
		{"once", "429 0", PD_DELIVERED, NULL, 2},
		{"once", "503", PD_DELIVERED, NULL, 2},
	};
	char ep[512], k[200], id[32];
	struct pd_stats st0, st;

	(void)state;
	pd_stats_get(pd, PD_WEBPUSH, &st0);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pd_result *r;

		snprintf(id, sizeof(id), "sub-ans-%u", i);
		assert_int_equal(ts_srv_wpsub(&srv, id, ep, sizeof(ep), k, sizeof(k)), 0);
		assert_int_equal(ts_srv_cmd(&srv, "%s %s %s", rows[i].verb, id, rows[i].spec), 0);
		r = wpush(pd, ep, k, PD_KIND_CALL, 3000);
		expect(r, rows[i].st, rows[i].reason);
		assert_int_equal(r->attempts, rows[i].attempts);
		if (rows[i].st == PD_DEAD_TOKEN)
			assert_true(r->provider_ts_ms > 0);
		free(r);
	}
	pd_stats_get(pd, PD_WEBPUSH, &st);
	assert_int_equal(st.token_renewals - st0.token_renewals, 2); /* one per first 401 */
}

/* Subscriptions pushd cannot use: refused, counted, never sent. */
static void test_webpush_refused(void **state)
{
	char ep[512], k[200], bad[200];
	struct pd_stats st0, st;
	unsigned before;
	struct pd_result *r;

	(void)state;
	assert_int_equal(ts_srv_wpsub(&srv, "sub-ref", ep, sizeof(ep), k, sizeof(k)), 0);
	/* Counted after the OK: the server's lines before it have all arrived. */
	before = ts_srv_count(&srv, "REQ webpush");
	pd_stats_get(pd, PD_WEBPUSH, &st0);
	r = wpush(pd, "http://127.0.0.1/wp/sub-ref", k, PD_KIND_CALL, 2000);
	expect(r, PD_REFUSED, "Web Push endpoint not an https:// URL");
	free(r);
	r = wpush(pd, ep, "AAAA.BTBZMqHH6r4Tts7J_aSIgg", PD_KIND_CALL, 2000);
	expect(r, PD_REFUSED, "Web Push p256dh is not a 65-byte uncompressed P-256 point");
	free(r);
	snprintf(bad, sizeof(bad), "%.*s.AAAA", (int)(strchr(k, '.') - k), k);
	r = wpush(pd, ep, bad, PD_KIND_CALL, 2000);
	expect(r, PD_REFUSED, "Web Push auth secret is not 16 bytes");
	free(r);
	/* 65 bytes, 0x04 first, but not a point on P-256. */
	snprintf(bad, sizeof(bad),
		 "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		 "AAAAAAAAAAAAAAAAAA%s",
		 strchr(k, '.'));
	r = wpush(pd, ep, bad, PD_KIND_CALL, 2000);
	expect(r, PD_REFUSED, "Web Push p256dh not a point on P-256");
	free(r);
	pd_stats_get(pd, PD_WEBPUSH, &st);
	assert_int_equal(st.refused - st0.refused, 4);
	assert_int_equal(st.sent, st0.sent);
	assert_int_equal(ts_srv_count(&srv, "REQ webpush"), before);
}

/* max_origins 1: a push to a second push service closes the first origin's
 * connection (no push holds it), and both are delivered. */
static void test_webpush_origins_bounded(void **state)
{
	struct ts_srv srv2;
	struct pd_config cfg;
	struct pd *p2;
	char ep1[512], k1[200], ep2[512], k2[200], err[256];
	struct pd_result *r;
	struct pd_stats st;

	(void)state;
	assert_int_equal(ts_srv_start(&srv2, srv_bin, &keys, 0, NULL), 0);
	pd_config_defaults(&cfg);
	ts_pd_webpush(&cfg, &keys);
	cfg.webpush[0].max_origins = 1;
	p2 = pd_new(&cfg, err, sizeof(err));
	assert_non_null(p2);
	assert_int_equal(pd_start(p2), 0);
	assert_int_equal(ts_srv_wpsub(&srv, "sub-o1", ep1, sizeof(ep1), k1, sizeof(k1)), 0);
	assert_int_equal(ts_srv_wpsub(&srv2, "sub-o2", ep2, sizeof(ep2), k2, sizeof(k2)), 0);
	r = wpush(p2, ep1, k1, PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	r = wpush(p2, ep2, k2, PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	assert_non_null(ts_srv_wait(&srv2, "REQ webpush sub-o2 status=201", 2000));
	assert_non_null(ts_srv_wait(&srv, "CLOSED", 2000));
	pd_stats_get(p2, PD_WEBPUSH, &st);
	assert_int_equal(st.origins_closed, 1);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.connections_up, 1);
	pd_free(p2);
	assert_int_equal(ts_srv_stop(&srv2), 0);
}

static int load_text(const char *text, struct pd_config *cfg, char *err, size_t errlen)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/wp.conf", keys.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	pd_config_defaults(cfg);
	return pd_config_load_file(path, cfg, err, errlen);
}

/* push.webpush: its keys, defaults and errors (file:line: key: expected, got). */
static void test_webpush_config(void **state)
{
	struct pd_config cfg;
	char err[300];

	(void)state;
	assert_int_equal(load_text("push: {\n webpush = ( { vapid_key = \"v.pem\";\n"
				   " subject = \"mailto:ops@example.com\"; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.n_webpush, 1);
	assert_string_equal(cfg.webpush[0].vapid_key, "v.pem");
	assert_int_equal(cfg.webpush[0].max_origins, 64);
	assert_int_equal(cfg.webpush[0].origin_idle_s, 120);
	assert_int_equal(load_text("push: {\n webpush = ( { vapid_key = \"v.pem\";\n"
				   " subject = \"https://example.com/ops\"; max_origins = 2;\n"
				   " origin_idle_s = 30; ca_file = \"ca.pem\"; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.webpush[0].max_origins, 2);
	assert_int_equal(cfg.webpush[0].origin_idle_s, 30);
	assert_string_equal(cfg.webpush[0].ca_file, "ca.pem");
	assert_int_equal(load_text("push: {\n webpush = ( {\n subject = \"mailto:a@b\"; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "push.webpush.[0]: expected vapid_key"));
	assert_int_equal(load_text("push: {\n webpush = ( {\n vapid_key = \"v.pem\";\n"
				   " subject = \"ops\"; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "push.webpush.[0]: expected subject = \"mailto:...\""));
	assert_int_equal(load_text("push: {\n webpush = ( { vapid_key = \"v.pem\";\n"
				   " max_origins = 0; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(
		strstr(err, ":3: push.webpush.[0].max_origins: expected an integer 1..1024"));
	assert_int_equal(load_text("push: {\n webpush = ( { vapid_key = \"v.pem\";\n"
				   " colour = 1; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, ":3: push.webpush.[0].colour: unknown key"));
}

/* pd_reload() and wait (bounded) until the pushd thread has applied it. */
static void reload(const struct pd_config *cfg)
{
	unsigned applied = pd_reloads_applied(pd);
	char err[256];

	assert_int_equal(pd_reload(pd, cfg, err, sizeof(err)), 0);
	for (int i = 0; i < 200 && pd_reloads_applied(pd) == applied; i++)
		usleep(10000);
	assert_int_equal(pd_reloads_applied(pd), applied + 1);
}

/* pd_reload(): the same credential is kept with its origin's connection;
 * a changed subject is a new credential whose pushes carry it, the old one
 * closed with its origins once idle. */
static void test_webpush_reload(void **state)
{
	struct pd_config cfg;
	struct pd_result *r;
	struct pd_stats st0, st;
	char ep[512], k[200];
	unsigned closed;
	const char *l;

	(void)state;
	assert_int_equal(ts_srv_wpsub(&srv, "sub-rl", ep, sizeof(ep), k, sizeof(k)), 0);
	r = wpush(pd, ep, k, PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	pd_stats_get(pd, PD_WEBPUSH, &st0);
	pd_config_defaults(&cfg);
	cfg.retry_base_ms = 50;
	cfg.retry_max_ms = 400;
	ts_pd_webpush(&cfg, &keys);
	reload(&cfg);
	r = wpush(pd, ep, k, PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	pd_stats_get(pd, PD_WEBPUSH, &st);
	assert_int_equal(st.connects, st0.connects); /* kept: no new connection */
	snprintf(cfg.webpush[0].subject, sizeof(cfg.webpush[0].subject), "mailto:new@example.com");
	closed = ts_srv_count(&srv, "CLOSED");
	reload(&cfg);
	r = wpush(pd, ep, k, PD_KIND_CALL, 3000);
	expect(r, PD_DELIVERED, NULL);
	free(r);
	l = ts_srv_wait(&srv, "sub=mailto:new@example.com", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "REQ webpush sub-rl status=201"));
	pd_stats_get(pd, PD_WEBPUSH, &st);
	assert_int_equal(st.connects, st0.connects + 1);
	assert_int_equal(st.connections_cfg, 1);
	/* The old credential's connection is closed: it had no push left. */
	for (int i = 0; i < 200 && ts_srv_count(&srv, "CLOSED") == closed; i++)
		usleep(10000);
	assert_int_equal(ts_srv_count(&srv, "CLOSED"), closed + 1);
}

/* A bad VAPID key stops start-up, naming the key. */
static void test_webpush_bad_key(void **state)
{
	struct pd_config cfg;
	char err[256];

	(void)state;
	pd_config_defaults(&cfg);
	ts_pd_webpush(&cfg, &keys);
	snprintf(cfg.webpush[0].vapid_key, sizeof(cfg.webpush[0].vapid_key), "%s",
		 keys.path[K_RSA]);
	assert_null(pd_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "push.webpush.[0].vapid_key"));
	assert_non_null(strstr(err, "not a P-256 key"));
	snprintf(cfg.webpush[0].vapid_key, sizeof(cfg.webpush[0].vapid_key), "/nonexistent.pem");
	assert_null(pd_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "push.webpush.[0].vapid_key: cannot open"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ece_rfc8291),
		cmocka_unit_test(test_subscription_parse),
		cmocka_unit_test(test_webpush_delivered),
		cmocka_unit_test(test_webpush_answers),
		cmocka_unit_test(test_webpush_refused),
		cmocka_unit_test(test_webpush_origins_bounded),
		cmocka_unit_test(test_webpush_reload),
		cmocka_unit_test(test_webpush_bad_key),
		cmocka_unit_test(test_webpush_config),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PD_TESTSRV\n", argv[0]);
		return 2;
	}
	srv_bin = argv[1];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
