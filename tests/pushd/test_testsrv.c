/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The test double itself: pd_testsrv must refuse what APNs, FCM and Google's
 * token endpoint refuse, or pushd's tests prove nothing. Requests are made
 * with curl (HTTP/2 over TLS) and hand-built JWTs (pushd's signer, with the
 * claims a test wants). argv[1]: pd_testsrv.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "common/sw_webpush.h"
#include "pushd/pd_internal.h"
#include "tests/pushd/ts_harness.h"

static const char *srv_bin;
static struct ts_keys keys;
static struct ts_srv srv;
static EVP_PKEY *p8, *rsa;

static int group_setup(void **state)
{
	char err[256];

	(void)state;
	if (ts_keys_make(&keys) || ts_srv_start(&srv, srv_bin, &keys, 0, NULL))
		return -1;
	p8 = pd_load_private_key(keys.path[K_P8], err, sizeof(err), "p8");
	rsa = pd_load_private_key(keys.path[K_RSA], err, sizeof(err), "sa");
	return p8 && rsa ? 0 : -1;
}

static int group_teardown(void **state)
{
	int rc;

	(void)state;
	EVP_PKEY_free(p8);
	EVP_PKEY_free(rsa);
	rc = ts_srv_stop(&srv);
	ts_keys_remove(&keys);
	return rc ? -1 : 0;
}

static char *apns_jwt(const char *kid, const char *team, long age_s)
{
	char hdr[128], claims[128];

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
	snprintf(claims, sizeof(claims), "{\"iss\":\"%s\",\"iat\":%ld}", team,
		 (long)time(NULL) - age_s);
	return pd_jwt_sign(p8, true, hdr, claims);
}

/* POSTs @len bytes of @body (a file is written for it) with extra curl
 * arguments; returns the HTTP status, the answer body in @out. */
static int post_n(const char *path, const char *curl_args, const void *body, size_t len, char *out,
		  size_t cap)
{
	char cmd[8192], bodyf[160], outf[160];
	FILE *f;
	int code = -1;
	size_t n;

	snprintf(bodyf, sizeof(bodyf), "%s/body", keys.dir);
	snprintf(outf, sizeof(outf), "%s/out", keys.dir);
	f = fopen(bodyf, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(body, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "curl -s --http2 --max-time 5 --cacert %s -o %s -w '%%{http_code}' "
		 "--data-binary @%s %s https://127.0.0.1:%u%s",
		 keys.path[K_TLS_CRT], outf, bodyf, curl_args, srv.port, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (fscanf(f, "%d", &code) != 1)
		code = -1;
	pclose(f);
	f = fopen(outf, "r");
	n = f ? fread(out, 1, cap - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	return code;
}

static int post(const char *path, const char *curl_args, const char *body, char *out, size_t cap)
{
	return post_n(path, curl_args, body, strlen(body), out, cap);
}

/* An APNs request with a valid token unless @jwt is given; @hdrs extra. */
static int apns(const char *token, const char *jwt, const char *hdrs, const char *body, char *out,
		size_t cap)
{
	char args[4096], path[300];
	char *own = jwt ? NULL : apns_jwt(TS_KID, TS_TEAM, 0);

	snprintf(args, sizeof(args), "-H 'authorization: bearer %s' %s", jwt ? jwt : own, hdrs);
	snprintf(path, sizeof(path), "/3/device/%s", token);
	free(own);
	return post(path, args, body, out, cap);
}

#define VOIP "-H 'apns-push-type: voip' -H 'apns-topic: " TS_BUNDLE ".voip' "

static void test_apns_accepts_a_good_request(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(apns("abcd", NULL, VOIP "-H 'apns-priority: 10'", "{}", out, sizeof(out)),
			 200);
}

static void test_apns_provider_token_checks(void **state)
{
	char out[512];
	char *jwt;

	(void)state;
	assert_int_equal(post("/3/device/abcd", VOIP, "{}", out, sizeof(out)), 403);
	assert_non_null(strstr(out, "MissingProviderToken"));
	jwt = apns_jwt(TS_KID, TS_TEAM, 3700); /* older than 1 h */
	assert_int_equal(apns("abcd", jwt, VOIP, "{}", out, sizeof(out)), 403);
	assert_non_null(strstr(out, "ExpiredProviderToken"));
	free(jwt);
	jwt = apns_jwt("OTHERKEY00", TS_TEAM, 0);
	assert_int_equal(apns("abcd", jwt, VOIP, "{}", out, sizeof(out)), 403);
	assert_non_null(strstr(out, "InvalidProviderToken"));
	free(jwt);
	jwt = apns_jwt(TS_KID, "OTHERTEAM0", 0);
	assert_int_equal(apns("abcd", jwt, VOIP, "{}", out, sizeof(out)), 403);
	free(jwt);
	/* Signed with another key: the FCM service account's RSA key. */
	jwt = pd_jwt_sign(rsa, false, "{\"alg\":\"ES256\",\"kid\":\"" TS_KID "\"}",
			  "{\"iss\":\"" TS_TEAM "\",\"iat\":1}");
	assert_int_equal(apns("abcd", jwt, VOIP, "{}", out, sizeof(out)), 403);
	assert_non_null(strstr(out, "InvalidProviderToken"));
	free(jwt);
}

/* Certificate auth: the chain must lead to the server's --client-ca
 * (403 BadCertificate), and the topic be the bundle id in the
 * certificate's subject UID (+ ".voip" / ".complication"): 400
 * TopicDisallowed. No provider token is needed then. */
static void test_apns_client_certificate_checks(void **state)
{
	char out[512], args[1024];

	(void)state;
	snprintf(args, sizeof(args), "--cert %s --key %s " VOIP, keys.path[K_CLI_CRT],
		 keys.path[K_CLI_KEY]);
	assert_int_equal(post("/3/device/abcd", args, "{}", out, sizeof(out)), 200);
	snprintf(args, sizeof(args), "--cert %s --key %s " VOIP, keys.path[K_CLI_CA2_CRT],
		 keys.path[K_CLI_KEY]);
	assert_int_equal(post("/3/device/abcd", args, "{}", out, sizeof(out)), 403);
	assert_non_null(strstr(out, "BadCertificate"));
	snprintf(args, sizeof(args), "--cert %s --key %s " VOIP, keys.path[K_CLI_TOPIC_CRT],
		 keys.path[K_CLI_KEY]);
	assert_int_equal(post("/3/device/abcd", args, "{}", out, sizeof(out)), 400);
	assert_non_null(strstr(out, "TopicDisallowed"));
	/* The certificate's own bundle, as a topic this server does not serve. */
	snprintf(args, sizeof(args),
		 "--cert %s --key %s -H 'apns-push-type: alert' -H 'apns-topic: com.other.app'",
		 keys.path[K_CLI_TOPIC_CRT], keys.path[K_CLI_KEY]);
	assert_int_equal(post("/3/device/abcd", args, "{}", out, sizeof(out)), 400);
	assert_non_null(strstr(out, "DeviceTokenNotForTopic"));
}

static void test_apns_header_and_body_checks(void **state)
{
	static char big[6000];
	char out[512];

	(void)state;
	assert_int_equal(
		apns("abcd", NULL, "-H 'apns-topic: " TS_BUNDLE ".voip'", "{}", out, sizeof(out)),
		400);
	assert_non_null(strstr(out, "InvalidPushType"));
	assert_int_equal(apns("abcd", NULL, "-H 'apns-push-type: voip'", "{}", out, sizeof(out)),
			 400);
	assert_non_null(strstr(out, "MissingTopic"));
	assert_int_equal(apns("abcd", NULL,
			      "-H 'apns-push-type: voip' -H 'apns-topic: " TS_BUNDLE "'", "{}", out,
			      sizeof(out)),
			 400);
	assert_non_null(strstr(out, "DeviceTokenNotForTopic"));
	assert_int_equal(apns("abcd", NULL,
			      "-H 'apns-push-type: background' -H 'apns-topic: " TS_BUNDLE
			      "' -H 'apns-priority: 10'",
			      "{}", out, sizeof(out)),
			 400);
	assert_non_null(strstr(out, "BadPriority"));
	assert_int_equal(
		apns("abcd", NULL,
		     VOIP "-H 'apns-collapse-id: "
			  "0123456789012345678901234567890123456789012345678901234567890123456789'",
		     "{}", out, sizeof(out)),
		400);
	assert_non_null(strstr(out, "BadCollapseId"));
	assert_int_equal(
		apns("abcd", NULL, VOIP "-H 'apns-id: not-a-uuid'", "{}", out, sizeof(out)), 400);
	assert_non_null(strstr(out, "BadMessageId"));
	assert_int_equal(apns("abcd", NULL, VOIP, "[1, 2", out, sizeof(out)), 400);
	assert_non_null(strstr(out, "BadPayload"));
	memset(big, ' ', sizeof(big) - 3);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	assert_int_equal(apns("abcd", NULL, VOIP, big, out, sizeof(out)), 413);
	assert_non_null(strstr(out, "PayloadTooLarge"));
	assert_int_equal(apns("xyz", NULL, VOIP, "{}", out, sizeof(out)), 400);
	assert_non_null(strstr(out, "BadDeviceToken"));
}

static void test_apns_scripted_answers(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "set abce 410"), 0);
	assert_int_equal(apns("abce", NULL, VOIP, "{}", out, sizeof(out)), 410);
	assert_non_null(strstr(out, "\"reason\":\"Unregistered\""));
	assert_non_null(strstr(out, "\"timestamp\":"));
	assert_int_equal(ts_srv_cmd(&srv, "once abcf 429 7"), 0);
	assert_int_equal(apns("abcf", NULL, VOIP, "{}", out, sizeof(out)), 429);
	assert_int_equal(apns("abcf", NULL, VOIP, "{}", out, sizeof(out)), 200);
}

/* GOAWAY as a push service sends it when it goes away (RFC 9113 §6.8):
 * "once TOKEN goaway" names a last stream below the request's, so the
 * request was not processed, gets no answer, and a client may send it
 * again on a new connection (curl, told to retry: it does not on its own);
 * "goaway" on an idle connection is harmless. */
static void test_goaway_refuses_the_stream_a_client_retries_it(void **state)
{
	char out[512], conn1[16] = "", conn2[16] = "";
	const char *l;

	(void)state;
	assert_int_equal(ts_srv_cmd(&srv, "once abd0 goaway"), 0);
	assert_int_equal(apns("abd0", NULL, VOIP "--retry 1 --retry-all-errors --retry-delay 0",
			      "{}", out, sizeof(out)),
			 200);
	l = ts_srv_wait(&srv, "REQ apns abd0 ", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, " beh=3/")); /* B_GOAWAY: not answered */
	assert_int_equal(sscanf(strstr(l, " conn="), " conn=%15s", conn1), 1);
	l = ts_srv_wait(&srv, "REQ apns abd0 ", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, " status=200 "));
	assert_int_equal(sscanf(strstr(l, " conn="), " conn=%15s", conn2), 1);
	assert_string_not_equal(conn1, conn2); /* sent again on a new connection */
	assert_int_equal(ts_srv_cmd(&srv, "goaway"), 0);
	assert_int_equal(apns("abd1", NULL, VOIP, "{}", out, sizeof(out)), 200);
}

/* A Web Push request to /wp/<id> as pushd makes it: "vapid t=<JWT signed
 * by @signer>, k=<the test .p8's public key>" with claims @claims (NULL:
 * good ones), @plain encrypted for the subscription's @keys, @hdrs extra. */
static int webpush(const char *id, const char *keys_, EVP_PKEY *signer, const char *claims,
		   const char *hdrs, const char *plain, char *out, size_t cap)
{
	uint8_t p256dh[65], auth[16], pub[65], body[512];
	char good[256], k[100], args[2048], path[160];
	const char *why;
	char *jwt;
	int n;

	assert_int_equal(sw_wp_keys(keys_, strlen(keys_), p256dh, auth, &why), 0);
	n = pd_ece_encrypt(p256dh, auth, plain, strlen(plain), body, sizeof(body));
	assert_true(n > 0);
	snprintf(good, sizeof(good),
		 "{\"aud\":\"https://127.0.0.1:%u\",\"exp\":%ld,\"sub\":\"mailto:a@b.c\"}",
		 srv.port, (long)time(NULL) + 3600);
	jwt = pd_jwt_sign(signer, true, "{\"typ\":\"JWT\",\"alg\":\"ES256\"}",
			  claims ? claims : good);
	assert_non_null(jwt);
	assert_int_equal(pd_ec_pub(p8, pub), 0);
	pd_b64url(pub, 65, k, sizeof(k));
	snprintf(args, sizeof(args), "-H 'authorization: vapid t=%s, k=%s' %s", jwt, k, hdrs);
	free(jwt);
	snprintf(path, sizeof(path), "/wp/%s", id);
	return post_n(path, args, body, (size_t)n, out, cap);
}

#define WP_HDRS "-H 'content-encoding: aes128gcm' -H 'ttl: 30' -H 'urgency: high' "

/* As a push service (RFC 8030, VAPID RFC 8292) and the browser behind it:
 * a good push is decrypted and answered 201; a JWT with a wrong aud, an
 * exp over 24 h away, a sub that is no contact, a signature by another key
 * than k, no VAPID at all, an unknown subscription, no TTL, another
 * content coding, a body that does not decrypt: each refused. */
static void test_webpush_push_service_checks(void **state)
{
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char ep[300], wk[200], out[512], claims[256];
	const char *l;

	(void)state;
	assert_non_null(other);
	assert_int_equal(ts_srv_wpsub(&srv, "s1", ep, sizeof(ep), wk, sizeof(wk)), 0);
	snprintf(out, sizeof(out), "https://127.0.0.1:%u/wp/s1", srv.port);
	assert_string_equal(ep, out);
	assert_int_equal(
		webpush("s1", wk, p8, NULL, WP_HDRS, "{\"kind\":\"call\"}", out, sizeof(out)), 201);
	l = ts_srv_wait(&srv, "REQ webpush s1 status=201", 2000);
	assert_non_null(l);
	assert_non_null(strstr(l, "sub=mailto:a@b.c"));
	assert_non_null(strstr(l, "body={\"kind\":\"call\"}"));
	snprintf(claims, sizeof(claims),
		 "{\"aud\":\"https://push.example\",\"exp\":%ld,\"sub\":\"mailto:a@b.c\"}",
		 (long)time(NULL) + 3600);
	assert_int_equal(webpush("s1", wk, p8, claims, WP_HDRS, "{}", out, sizeof(out)), 401);
	assert_non_null(strstr(out, "BadVapidAudience"));
	snprintf(claims, sizeof(claims),
		 "{\"aud\":\"https://127.0.0.1:%u\",\"exp\":%ld,\"sub\":\"mailto:a@b.c\"}",
		 srv.port, (long)time(NULL) + 90000);
	assert_int_equal(webpush("s1", wk, p8, claims, WP_HDRS, "{}", out, sizeof(out)), 401);
	assert_non_null(strstr(out, "BadVapidExpiry"));
	snprintf(claims, sizeof(claims),
		 "{\"aud\":\"https://127.0.0.1:%u\",\"exp\":%ld,\"sub\":\"ops\"}", srv.port,
		 (long)time(NULL) + 3600);
	assert_int_equal(webpush("s1", wk, p8, claims, WP_HDRS, "{}", out, sizeof(out)), 401);
	assert_non_null(strstr(out, "BadVapidSubject"));
	assert_int_equal(webpush("s1", wk, other, NULL, WP_HDRS, "{}", out, sizeof(out)), 401);
	assert_non_null(strstr(out, "BadVapidSignature"));
	assert_int_equal(post("/wp/s1", WP_HDRS, "x", out, sizeof(out)), 401);
	assert_non_null(strstr(out, "NoVapidAuthorization"));
	assert_int_equal(webpush("nobody", wk, p8, NULL, WP_HDRS, "{}", out, sizeof(out)), 404);
	assert_int_equal(webpush("s1", wk, p8, NULL, "-H 'content-encoding: aes128gcm'", "{}", out,
				 sizeof(out)),
			 400);
	assert_non_null(strstr(out, "BadTTL"));
	assert_int_equal(webpush("s1", wk, p8, NULL, "-H 'content-encoding: aesgcm' -H 'ttl: 30'",
				 "{}", out, sizeof(out)),
			 400);
	assert_non_null(strstr(out, "BadContentEncoding"));
	/* Keys of another subscription: the browser cannot decrypt it. */
	assert_int_equal(ts_srv_wpsub(&srv, "s2", ep, sizeof(ep), claims, sizeof(claims)), 0);
	assert_int_equal(webpush("s1", claims, p8, NULL, WP_HDRS, "{}", out, sizeof(out)), 400);
	assert_non_null(strstr(out, "DecryptionFailed"));
	/* Scripted answers, per subscription. */
	assert_int_equal(ts_srv_cmd(&srv, "set s2 410"), 0);
	assert_int_equal(webpush("s2", claims, p8, NULL, WP_HDRS, "{}", out, sizeof(out)), 410);
	EVP_PKEY_free(other);
}

static void test_token_endpoint_and_fcm(void **state)
{
	char out[1024], body[4096], auth[256], claims[512];
	char *jwt;
	const char *tok;
	long now = (long)time(NULL);

	(void)state;
	/* A bad signature (the APNs key, not the service account's). */
	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"%s\",\"scope\":\"https://www.googleapis.com/auth/firebase.messaging\","
		 "\"aud\":\"https://oauth2.googleapis.com/token\",\"iat\":%ld,\"exp\":%ld}",
		 TS_EMAIL, now, now + 3600);
	jwt = pd_jwt_sign(p8, true, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims);
	snprintf(body, sizeof(body),
		 "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&"
		 "assertion=%s",
		 jwt);
	free(jwt);
	assert_int_equal(post("/token", "", body, out, sizeof(out)), 400);
	assert_non_null(strstr(out, "invalid_grant"));
	/* The right key. */
	jwt = pd_jwt_sign(rsa, false, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims);
	snprintf(body, sizeof(body),
		 "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&"
		 "assertion=%s",
		 jwt);
	free(jwt);
	assert_int_equal(post("/token", "", body, out, sizeof(out)), 200);
	tok = strstr(out, "\"access_token\":\"");
	assert_non_null(tok);
	snprintf(auth, sizeof(auth), "-H 'authorization: Bearer %.*s'",
		 (int)strcspn(tok + 16, "\""), tok + 16);
	/* FCM: data-only, string values, a ttl, the issued token, the project. */
	assert_int_equal(post("/v1/projects/" TS_PROJECT "/messages:send", auth,
			      "{\"message\":{\"token\":\"t1\",\"data\":{\"kind\":\"call\"},"
			      "\"android\":{\"priority\":\"high\",\"ttl\":\"30s\"}}}",
			      out, sizeof(out)),
			 200);
	assert_non_null(strstr(out, "\"name\":\"projects/" TS_PROJECT "/messages/"));
	assert_int_equal(post("/v1/projects/" TS_PROJECT "/messages:send", auth,
			      "{\"message\":{\"token\":\"t1\",\"data\":{\"n\":1},"
			      "\"android\":{\"ttl\":\"30s\"}}}",
			      out, sizeof(out)),
			 400);
	assert_int_equal(post("/v1/projects/" TS_PROJECT "/messages:send", auth,
			      "{\"message\":{\"token\":\"t1\",\"notification\":{},\"data\":{},"
			      "\"android\":{\"ttl\":\"30s\"}}}",
			      out, sizeof(out)),
			 400);
	assert_int_equal(post("/v1/projects/other/messages:send", auth,
			      "{\"message\":{\"token\":\"t1\",\"data\":{},"
			      "\"android\":{\"ttl\":\"30s\"}}}",
			      out, sizeof(out)),
			 403);
	assert_int_equal(post("/v1/projects/" TS_PROJECT "/messages:send",
			      "-H 'authorization: Bearer ya29.forged'",
			      "{\"message\":{\"token\":\"t1\",\"data\":{},"
			      "\"android\":{\"ttl\":\"30s\"}}}",
			      out, sizeof(out)),
			 401);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apns_accepts_a_good_request),
		cmocka_unit_test(test_apns_provider_token_checks),
		cmocka_unit_test(test_apns_client_certificate_checks),
		cmocka_unit_test(test_apns_header_and_body_checks),
		cmocka_unit_test(test_apns_scripted_answers),
		cmocka_unit_test(test_goaway_refuses_the_stream_a_client_retries_it),
		cmocka_unit_test(test_token_endpoint_and_fcm),
		cmocka_unit_test(test_webpush_push_service_checks),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PD_TESTSRV\n", argv[0]);
		return 2;
	}
	srv_bin = argv[1];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
