/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server, Web Push: the push service (RFC 8030 §5, VAPID RFC 8292)
 * and the browser behind it in one. It mints subscriptions (a P-256 key
 * and an auth secret each, as a browser's PushManager.subscribe() does),
 * checks a push as a push service would (the JWT's signature by its own
 * "k", aud, exp within 24 h, sub), and decrypts it as the browser would
 * (RFC 8291 §3.4, RFC 8188 aes128gcm), written apart from pushd's
 * encryption so that one cannot hide a mistake of the other.
 */
#include "tests/pushd/ts.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SUBS 256

static struct sub {
	char id[128];
	EVP_PKEY *key;
	unsigned char pub[65], auth[16];
} subs[MAX_SUBS];
static unsigned n_subs;

/* Verified Authorization headers: a small round-robin cache, as ts_jwt.c
 * keeps for APNs, so the benchmark measures pushd, not ECDSA verification
 * (pushd signs once per origin: the same header comes back). */
#define VAPID_CACHE 16
static struct {
	char *h, *aud, *sub;
	long long exp;
} vcache[VAPID_CACHE];
static unsigned vcache_next;

static void vcache_put(const char *h, const char *aud, const char *sub, long long exp)
{
	free(vcache[vcache_next].h);
	free(vcache[vcache_next].aud);
	free(vcache[vcache_next].sub);
	vcache[vcache_next].h = strdup(h);
	vcache[vcache_next].aud = strdup(aud);
	vcache[vcache_next].sub = strdup(sub);
	vcache[vcache_next].exp = exp;
	vcache_next = (vcache_next + 1) % VAPID_CACHE;
}

static void b64u(const unsigned char *in, size_t len, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63];
		out[o++] = t[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);

		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = t[(v >> 6) & 63];
	}
	out[o] = '\0';
}

int ts_wp_mint(const char *id, char *keys, size_t cap)
{
	struct sub *s = NULL;
	char p[100], a[32];
	size_t n = 0;

	for (unsigned i = 0; i < n_subs; i++)
		if (!strcmp(subs[i].id, id))
			s = &subs[i];
	if (!s) {
		if (n_subs == MAX_SUBS || strlen(id) >= sizeof(s->id))
			return -1;
		s = &subs[n_subs++];
		snprintf(s->id, sizeof(s->id), "%s", id);
	}
	EVP_PKEY_free(s->key);
	s->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!s->key ||
	    EVP_PKEY_get_octet_string_param(s->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, s->pub,
					    sizeof(s->pub), &n) != 1 ||
	    n != 65 || RAND_bytes(s->auth, sizeof(s->auth)) != 1)
		return -1;
	b64u(s->pub, 65, p);
	b64u(s->auth, 16, a);
	return snprintf(keys, cap, "%s.%s", p, a) < (int)cap ? 0 : -1;
}

static const struct sub *sub_find(const char *id)
{
	for (unsigned i = 0; i < n_subs; i++)
		if (!strcmp(subs[i].id, id))
			return &subs[i];
	return NULL;
}

void ts_wp_free(void)
{
	for (unsigned i = 0; i < n_subs; i++)
		EVP_PKEY_free(subs[i].key);
	n_subs = 0;
	for (unsigned i = 0; i < VAPID_CACHE; i++) {
		free(vcache[i].h);
		free(vcache[i].aud);
		free(vcache[i].sub);
		vcache[i].h = vcache[i].aud = vcache[i].sub = NULL;
	}
}

static const char *vapid_verify(const char *h, const char *aud, char *sub, size_t subcap);

/* "vapid t=<JWT>, k=<key>" (RFC 8292 §3), parameters in either order. */
static const char *vapid_check(const char *h, const char *aud, char *sub, size_t subcap)
{
	long long now = (long long)time(NULL);

	for (unsigned i = 0; i < VAPID_CACHE; i++)
		if (vcache[i].h && !strcmp(vcache[i].h, h) && !strcmp(vcache[i].aud, aud) &&
		    vcache[i].exp > now) {
			snprintf(sub, subcap, "%s", vcache[i].sub);
			return NULL;
		}
	return vapid_verify(h, aud, sub, subcap);
}

static const char *vapid_verify(const char *h, const char *aud, char *sub, size_t subcap)
{
	char jwt[1024] = "", k[128] = "";
	const char *t = strstr(h, "t="), *kk = strstr(h, "k=");
	unsigned char pub[80];
	EVP_PKEY *key = NULL;
	json_t *cl;
	const char *err = NULL, *a, *s;
	long long exp, now = (long long)time(NULL);

	if (strncmp(h, "vapid ", 6) != 0 || !t || !kk)
		return "NoVapidAuthorization";
	sscanf(t + 2, "%1023[^, ]", jwt);
	sscanf(kk + 2, "%127[^, ]", k);
	if (ts_b64u_decode(k, strlen(k), pub, sizeof(pub)) != 65 || pub[0] != 4)
		return "BadVapidKey";
	key = EVP_PKEY_new();
	{
		EVP_PKEY *tmpl = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

		if (!tmpl || EVP_PKEY_copy_parameters(key, tmpl) != 1 ||
		    EVP_PKEY_set1_encoded_public_key(key, pub, 65) != 1)
			err = "BadVapidKey";
		EVP_PKEY_free(tmpl);
	}
	if (!err && !ts_jws_verify(key, 1, jwt))
		err = "BadVapidSignature";
	EVP_PKEY_free(key);
	if (err)
		return err;
	cl = ts_jws_claims(jwt);
	a = json_string_value(json_object_get(cl, "aud"));
	s = json_string_value(json_object_get(cl, "sub"));
	exp = json_integer_value(json_object_get(cl, "exp"));
	if (!a || strcmp(a, aud) != 0)
		err = "BadVapidAudience";
	else if (exp <= now || exp > now + 86400)
		err = "BadVapidExpiry";
	else if (!s || (strncmp(s, "mailto:", 7) != 0 && strncmp(s, "https://", 8) != 0))
		err = "BadVapidSubject";
	else {
		snprintf(sub, subcap, "%s", s);
		vcache_put(h, aud, s, exp);
	}
	json_decref(cl);
	return err;
}

static int hmac(const unsigned char *k, size_t kl, const void *d, size_t dl, unsigned char *o)
{
	unsigned n = 32;

	return HMAC(EVP_sha256(), k, (int)kl, d, dl, o, &n) != NULL;
}

/* The browser's half of RFC 8291 §3.4. Length of the plaintext, or -1. */
static int decrypt(const struct sub *s, const unsigned char *b, size_t len, char *out, size_t cap)
{
	unsigned char secret[32], prk_key[32], ikm[32], prk[32], cek[32], nonce[32];
	unsigned char info[14 + 130 + 1], l[64];
	const unsigned char *as_pub = b + 21, *ct = b + 86;
	size_t sl = 32, ctl = len - 86 - 16;
	EVP_PKEY *peer = EVP_PKEY_new();
	EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(s->key, NULL);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = -1, m = 0;

	if (len < 86 + 16 + 1 || b[20] != 65 || ctl >= cap || !peer || !dc || !c ||
	    EVP_PKEY_copy_parameters(peer, s->key) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(peer, as_pub, 65) != 1 ||
	    EVP_PKEY_derive_init(dc) != 1 || EVP_PKEY_derive_set_peer(dc, peer) != 1 ||
	    EVP_PKEY_derive(dc, secret, &sl) != 1)
		goto out;
	memcpy(info, "WebPush: info", 14);
	memcpy(info + 14, s->pub, 65);
	memcpy(info + 79, as_pub, 65);
	info[144] = 1;
	if (!hmac(s->auth, 16, secret, 32, prk_key) || !hmac(prk_key, 32, info, 145, ikm) ||
	    !hmac(b, 16, ikm, 32, prk))
		goto out;
	memcpy(l, "Content-Encoding: aes128gcm\0\1", 29);
	if (!hmac(prk, 32, l, 29, cek))
		goto out;
	memcpy(l, "Content-Encoding: nonce\0\1", 25);
	if (!hmac(prk, 32, l, 25, nonce))
		goto out;
	if (EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, cek, nonce) != 1 ||
	    EVP_DecryptUpdate(c, (unsigned char *)out, &m, ct, (int)ctl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(ct + ctl)) != 1 ||
	    EVP_DecryptFinal_ex(c, (unsigned char *)out + m, &n) != 1) {
		n = -1;
		goto out;
	}
	/* RFC 8188 §2: padding is zeros after the delimiter; 0x02 ends the last record. */
	n = m + n;
	while (n > 0 && out[n - 1] == 0)
		n--;
	if (n == 0 || out[n - 1] != 2) {
		n = -1;
		goto out;
	}
	out[--n] = '\0';
out:
	EVP_PKEY_free(peer);
	EVP_PKEY_CTX_free(dc);
	EVP_CIPHER_CTX_free(c);
	return n;
}

int ts_wp_check(const struct ts_req *r, const char *aud, char *plain, size_t cap,
		const char **reason, char *sub, size_t subcap)
{
	const struct sub *s = sub_find(r->token);
	char *end;
	long ttl;

	*reason = NULL;
	plain[0] = '\0';
	if (strcmp(r->method, "POST") != 0)
		return *reason = "MethodNotAllowed", 405;
	if (!s)
		return *reason = "NoSuchSubscription", 404;
	*reason = vapid_check(r->h_auth, aud, sub, subcap);
	if (*reason)
		return 401;
	ttl = strtol(r->h_ttl, &end, 10);
	if (!r->h_ttl[0] || *end || ttl < 0)
		return *reason = "BadTTL", 400;
	if (r->h_urgency[0] && strcmp(r->h_urgency, "very-low") && strcmp(r->h_urgency, "low") &&
	    strcmp(r->h_urgency, "normal") && strcmp(r->h_urgency, "high"))
		return *reason = "BadUrgency", 400;
	if (strlen(r->h_wp_topic) > 32 ||
	    strspn(r->h_wp_topic,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
		    strlen(r->h_wp_topic))
		return *reason = "BadTopic", 400;
	if (strcmp(r->h_cenc, "aes128gcm") != 0)
		return *reason = "BadContentEncoding", 400;
	if (r->body_len > 4096)
		return *reason = "PayloadTooLarge", 413;
	if (decrypt(s, (const unsigned char *)r->body, r->body_len, plain, cap) < 0)
		return *reason = "DecryptionFailed", 400;
	return 201;
}
