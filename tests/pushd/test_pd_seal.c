/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sealed pushes (pushd/pd_seal.c, pd_push.c; docs/push-encryption.md): the
 * key id of a known key; base64url read strictly; a payload sealed by pushd
 * opens with OpenSSL alone, under the documented AAD, and not with another
 * kid, another key or a byte changed; the bodies pushd builds for a sealed
 * request carry the envelope and none of the call's metadata in clear, for
 * APNs (VoIP, alert, background) and FCM; the collapse id hides the Call-ID.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/sw_b64.h"
#include "pushd/pd_internal.h"
#include "pushd/pd_seal.h"

static const char CALL_ID[] = "a84b4c76e66710@pc33.example.com";
static const char NUMBER[] = "+4930123456";
static const char NAME[] = "Marie Curie";
static const char AOR[] = "sip:alice@example.com";

static void key_of(uint8_t key[32], uint8_t first)
{
	for (unsigned i = 0; i < 32; i++)
		key[i] = (uint8_t)(first + i);
}

/* base64url through OpenSSL's decoder (not pushd's): -_ to +/, padding. */
static int b64url_openssl(const char *in, uint8_t *out, size_t cap)
{
	size_t n = strlen(in), pad = (4 - n % 4) % 4;
	char *s = malloc(n + pad + 1);
	int m;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	memset(s + n, '=', pad);
	s[n + pad] = '\0';
	assert_true(cap >= (n + pad) / 4 * 3);
	m = EVP_DecodeBlock(out, (const unsigned char *)s, (int)(n + pad));
	free(s);
	return m < 0 ? m : m - (int)pad;
}

/* What an app does, with OpenSSL alone: 1 opened, 0 refused. */
static int open_gcm(const uint8_t key[32], const char *kid, const char *n, const char *ct, char *pt,
		    size_t cap)
{
	uint8_t nonce[16], raw[4096];
	char aad[64];
	int nl = b64url_openssl(n, nonce, sizeof(nonce)), m = b64url_openssl(ct, raw, sizeof(raw));
	int o = 0, f = 0, ok;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	assert_int_equal(nl, 12);
	assert_true(m >= 16 && (size_t)(m - 16) < cap);
	snprintf(aad, sizeof(aad), "sipwake-push-v1:%s", kid);
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &o, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
	     EVP_DecryptUpdate(c, (uint8_t *)pt, &o, raw, m - 16) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, raw + m - 16) == 1 &&
	     EVP_DecryptFinal_ex(c, (uint8_t *)pt + o, &f) == 1;
	EVP_CIPHER_CTX_free(c);
	if (ok)
		pt[o + f] = '\0';
	return ok;
}

static void test_kid(void **state)
{
	uint8_t key[32];
	char kid[17];

	(void)state;
	key_of(key, 0);
	pd_seal_kid(key, kid);
	/* python3: hashlib.sha256(bytes(range(32))).hexdigest()[:16] */
	assert_string_equal(kid, "630dcd2966c43366");
}

static void test_b64url(void **state)
{
	static const char good[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
	static const char *const bad[] = {
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", /* padding */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",	/* base64, not base64url */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",	/* bits past the last byte */
		"AAECAwQFBgcICQoLDA0O DxAREhMUFRYXGBkaGxwdHh8", /* a space */
		"A",
	};
	uint8_t out[40], key[32];

	(void)state;
	key_of(key, 0);
	assert_int_equal(sw_b64url_decode(good, strlen(good), out, sizeof(out), 0), 32);
	assert_memory_equal(out, key, 32);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sw_b64url_decode(bad[i], strlen(bad[i]), out, sizeof(out), 0),
				 -EINVAL);
	assert_int_equal(sw_b64url_decode(good, strlen(good), out, 31, 0), -ENOSPC);
	assert_int_equal(sw_b64url_decode("", 0, out, sizeof(out), 0), 0);
}

static void test_seal_open(void **state)
{
	static const char msg[] = "{\"caller_number\":\"+4930123456\"}";
	uint8_t key[32], other[32];
	char kid[17], pt[256], *got;
	struct pd_sealed s, s2;
	size_t len;

	(void)state;
	key_of(key, 7);
	key_of(other, 8);
	pd_seal_kid(key, kid);
	assert_int_equal(pd_seal(key, kid, msg, strlen(msg), &s), 0);
	assert_int_equal(strlen(s.n), 16);
	assert_int_equal(strlen(s.ct), PD_B64URL_LEN(strlen(msg) + 16));
	assert_null(strstr(s.ct, "4930123456"));
	/* OpenSSL alone, with the documented AAD. */
	assert_int_equal(open_gcm(key, kid, s.n, s.ct, pt, sizeof(pt)), 1);
	assert_string_equal(pt, msg);
	/* Another kid (the AAD), another key: refused. */
	assert_int_equal(open_gcm(key, "0000000000000000", s.n, s.ct, pt, sizeof(pt)), 0);
	assert_int_equal(open_gcm(other, kid, s.n, s.ct, pt, sizeof(pt)), 0);
	assert_int_equal(pd_unseal(key, kid, s.n, s.ct, &got, &len), 0);
	assert_int_equal(len, strlen(msg));
	assert_string_equal(got, msg);
	free(got);
	assert_int_equal(pd_unseal(key, "0000000000000000", s.n, s.ct, &got, &len), -EBADMSG);
	assert_null(got);
	assert_int_equal(pd_unseal(other, kid, s.n, s.ct, &got, &len), -EBADMSG);
	/* One character changed: in the ciphertext, in the tag (its end), in
	 * the nonce. */
	for (int where = 0; where < 3; where++) {
		char *ct = strdup(s.ct), n[sizeof(s.n)];
		char *c = where == 0 ? ct + 2 : where == 1 ? ct + strlen(ct) - 3 : n + 4;

		memcpy(n, s.n, sizeof(n));
		*c = *c == 'A' ? 'B' : 'A';
		assert_int_equal(pd_unseal(key, kid, n, ct, &got, &len), -EBADMSG);
		assert_int_equal(open_gcm(key, kid, n, ct, pt, sizeof(pt)), 0);
		free(ct);
	}
	/* Not base64url, or a tag cut short: not a sealed payload at all. */
	assert_int_equal(pd_unseal(key, kid, "!!", s.ct, &got, &len), -EINVAL);
	assert_int_equal(pd_unseal(key, kid, s.n, "AAAA", &got, &len), -EINVAL);
	/* A fresh nonce each time. */
	assert_int_equal(pd_seal(key, kid, msg, strlen(msg), &s2), 0);
	assert_string_not_equal(s.n, s2.n);
	assert_string_not_equal(s.ct, s2.ct);
	free(s.ct);
	free(s2.ct);
}

static void test_collapse_id(void **state)
{
	uint8_t key[32], other[32];
	char a[65], b[65], c[65];

	(void)state;
	key_of(key, 1);
	key_of(other, 2);
	pd_seal_collapse_id(key, CALL_ID, a);
	pd_seal_collapse_id(key, CALL_ID, b);
	pd_seal_collapse_id(other, CALL_ID, c);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);     /* every push of a call, every retry */
	assert_string_not_equal(a, c); /* another key: unlinkable */
	assert_null(strstr(a, "a84b4c76"));
}

static struct pd pd0;

/* pd_build_body() of a sealed request: the body as JSON. */
static json_t *build(enum pd_provider prov, enum pd_kind kind, uint8_t token_kind,
		     const uint8_t key[32], char **raw)
{
	struct pd_job *j = calloc(1, sizeof(*j));
	json_t *body;

	assert_non_null(j);
	j->pd = &pd0;
	j->op = PD_OP_PUSH;
	j->deadline_ms = sw_mono_ms() + 30000;
	snprintf(j->apns_id, sizeof(j->apns_id), "0e6a6e4b-6b8a-4d8e-9d1f-6a3c9e1b2f40");
	j->req.provider = prov;
	j->req.kind = kind;
	j->req.token_kind = token_kind;
	snprintf(j->req.token, sizeof(j->req.token), "%s", "00fc13adff78512");
	snprintf(j->req.call_id, sizeof(j->req.call_id), "%s", CALL_ID);
	snprintf(j->req.caller_number, sizeof(j->req.caller_number), "%s", NUMBER);
	snprintf(j->req.caller_name, sizeof(j->req.caller_name), "%s", NAME);
	snprintf(j->req.aor, sizeof(j->req.aor), "%s", AOR);
	if (key != NULL) {
		memcpy(j->req.seal_key, key, 32);
		pd_seal_kid(key, j->req.seal_kid);
	}
	assert_int_equal(pd_build_body(j), 0);
	body = json_loadb(j->body, j->body_len, 0, NULL);
	assert_non_null(body);
	*raw = j->body;
	free(j);
	return body;
}

/* Nothing of the call in the raw bytes. */
static void assert_no_metadata(const char *raw)
{
	assert_null(strstr(raw, "a84b4c76"));
	assert_null(strstr(raw, "4930123456"));
	assert_null(strstr(raw, "Curie"));
	assert_null(strstr(raw, "alice"));
	assert_null(strstr(raw, "0e6a6e4b"));
}

/* The plaintext: the metadata call_data() would put in clear. */
static void assert_opens(const uint8_t key[32], const char *kid, const char *n, const char *ct,
			 const char *kind)
{
	char pt[1024];
	json_t *m;

	assert_int_equal(open_gcm(key, kid, n, ct, pt, sizeof(pt)), 1);
	m = json_loads(pt, 0, NULL);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "kind")), kind);
	assert_string_equal(json_string_value(json_object_get(m, "call_id")), CALL_ID);
	assert_string_equal(json_string_value(json_object_get(m, "caller_number")), NUMBER);
	assert_string_equal(json_string_value(json_object_get(m, "caller_name")), NAME);
	assert_string_equal(json_string_value(json_object_get(m, "aor")), AOR);
	json_decref(m);
}

/* An envelope (APNs "sw" or FCM's sw_* fields, named by @pre) under @kid
 * that opens to the call; nothing of the call in @raw. */
static void assert_envelope(const char *raw, json_t *env, const char *pre, const uint8_t key[32],
			    const char *kid, const char *kind)
{
	const char *n;
	char name[8];

	assert_int_equal(json_object_size(env), 4);
	snprintf(name, sizeof(name), "%skid", pre);
	assert_string_equal(json_string_value(json_object_get(env, name)), kid);
	assert_no_metadata(raw);
	snprintf(name, sizeof(name), "%sn", pre);
	n = json_string_value(json_object_get(env, name));
	snprintf(name, sizeof(name), "%sct", pre);
	assert_opens(key, kid, n, json_string_value(json_object_get(env, name)), kind);
}

static void test_apns_bodies(void **state)
{
	uint8_t key[32];
	char kid[17], *raw;
	json_t *b, *sw, *aps;

	(void)state;
	key_of(key, 40);
	pd_seal_kid(key, kid);
	/* VoIP: "sw" and an empty aps, nothing else. */
	b = build(PD_APNS, PD_KIND_CALL, PD_TOKEN_VOIP, key, &raw);
	assert_int_equal(json_object_size(b), 2);
	sw = json_object_get(b, "sw");
	aps = json_object_get(b, "aps");
	assert_int_equal(json_object_size(aps), 0);
	assert_int_equal(json_integer_value(json_object_get(sw, "v")), 1);
	assert_envelope(raw, sw, "", key, kid, "call");
	json_decref(b);
	free(raw);
	/* A call to a regular token, and a missed call: a generic alert the
	 * Notification Service Extension rewrites. */
	for (int k = 0; k < 2; k++) {
		b = build(PD_APNS, k ? PD_KIND_ALERT : PD_KIND_CALL, PD_TOKEN_REGULAR, key, &raw);
		aps = json_object_get(b, "aps");
		assert_int_equal(json_integer_value(json_object_get(aps, "mutable-content")), 1);
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(aps, "alert"), "title")),
			k ? "Missed call" : "Incoming call");
		assert_null(json_object_get(json_object_get(aps, "alert"), "body"));
		assert_envelope(raw, json_object_get(b, "sw"), "", key, kid, k ? "alert" : "call");
		json_decref(b);
		free(raw);
	}
	b = build(PD_APNS, PD_KIND_BACKGROUND, PD_TOKEN_REGULAR, key, &raw);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(b, "aps"), "content-available")),
		1);
	assert_no_metadata(raw);
	json_decref(b);
	free(raw);
	/* Without a key: in clear, as before. */
	b = build(PD_APNS, PD_KIND_CALL, PD_TOKEN_VOIP, NULL, &raw);
	assert_null(json_object_get(b, "sw"));
	assert_string_equal(json_string_value(json_object_get(b, "caller_number")), NUMBER);
	json_decref(b);
	free(raw);
	assert_true(pd0.st[PD_APNS].sealed >= 4);
}

static void test_fcm_body(void **state)
{
	uint8_t key[32];
	char kid[17], *raw;
	json_t *b, *data;
	const char *k;
	json_t *v;

	(void)state;
	key_of(key, 90);
	pd_seal_kid(key, kid);
	b = build(PD_FCM, PD_KIND_CALL, PD_TOKEN_ANY, key, &raw);
	data = json_object_get(json_object_get(b, "message"), "data");
	json_object_foreach(data, k, v) assert_true(json_is_string(v)); /* FCM: strings only */
	assert_string_equal(json_string_value(json_object_get(data, "sw_v")), "1");
	assert_envelope(raw, data, "sw_", key, kid, "call");
	json_decref(b);
	free(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kid),	    cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_seal_open),   cmocka_unit_test(test_collapse_id),
		cmocka_unit_test(test_apns_bodies), cmocka_unit_test(test_fcm_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
