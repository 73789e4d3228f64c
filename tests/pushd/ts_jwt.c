/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server, JWT verification: ES256 for APNs provider tokens, RS256 for
 * the service-account assertions the OAuth2 token endpoint takes, with a
 * small cache of verified tokens. Below the request checks and the token
 * endpoint, which both call it.
 */
#include "tests/pushd/ts.h"

#include "common/sw_b64.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* base64url without padding; returns decoded length or -1. */
int ts_b64u_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	return sw_b64url_decode(in, len, out, cap, SW_B64_LENIENT);
}

EVP_PKEY *ts_load_pubkey(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static json_t *decode_json_part(const char *p, size_t len)
{
	unsigned char buf[2048];
	int n = ts_b64u_decode(p, len, buf, sizeof(buf));

	if (n < 0)
		return NULL;
	return json_loadb((const char *)buf, (size_t)n, 0, NULL);
}

/* Signature check over "header.claims". ES256 signatures are raw r||s
 * (RFC 7518 §3.4) and must be turned into DER for OpenSSL. */
static int verify_sig(EVP_PKEY *key, int es256, const char *msg, size_t msglen,
		      const unsigned char *sig, size_t siglen)
{
	unsigned char der[160], *derp = der;
	const unsigned char *s = sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0, dlen;

	if (!md)
		return 0;
	if (es256) {
		ECDSA_SIG *es;

		if (siglen != 64)
			goto out;
		es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		dlen = i2d_ECDSA_SIG(es, &derp);
		ECDSA_SIG_free(es);
		if (dlen <= 0)
			goto out;
		s = der;
		siglen = (size_t)dlen;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(md, s, siglen, (const unsigned char *)msg, msglen) == 1)
		ok = 1;
out:
	EVP_MD_CTX_free(md);
	return ok;
}

/* Verified JWTs: a tiny round-robin cache so the benchmark measures the
 * client, not ECDSA verification on every request. */
#define JWT_CACHE 16
static struct {
	char *jwt;
	long iat;
} cache[JWT_CACHE];
static unsigned cache_next;

const char *ts_jwt_check(const struct ts_cfg *cfg, const char *jwt, int es256, long *iat_out,
			 json_t **claims_out)
{
	const char *d1, *d2;
	json_t *hdr = NULL, *cl = NULL;
	unsigned char sig[600];
	int siglen;
	const char *err = NULL;
	const char *alg, *kid;
	EVP_PKEY *key = es256 ? cfg->apns_key : cfg->fcm_key;

	if (es256 && !claims_out) {
		for (unsigned i = 0; i < JWT_CACHE; i++)
			if (cache[i].jwt && strcmp(cache[i].jwt, jwt) == 0) {
				*iat_out = cache[i].iat;
				return NULL;
			}
	}
	d1 = strchr(jwt, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || !key)
		return "InvalidProviderToken";
	hdr = decode_json_part(jwt, (size_t)(d1 - jwt));
	cl = decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1));
	siglen = ts_b64u_decode(d2 + 1, strlen(d2 + 1), sig, sizeof(sig));
	if (!hdr || !cl || siglen <= 0) {
		err = "InvalidProviderToken";
		goto out;
	}
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (!alg || strcmp(alg, es256 ? "ES256" : "RS256") != 0) {
		err = "InvalidProviderToken";
		goto out;
	}
	if (es256) {
		const char *iss = json_string_value(json_object_get(cl, "iss"));

		kid = json_string_value(json_object_get(hdr, "kid"));
		if (!kid || strcmp(kid, cfg->apns_kid) != 0 || !iss ||
		    strcmp(iss, cfg->apns_team) != 0) {
			err = "InvalidProviderToken";
			goto out;
		}
	}
	if (!json_is_integer(json_object_get(cl, "iat"))) {
		err = "InvalidProviderToken";
		goto out;
	}
	*iat_out = (long)json_integer_value(json_object_get(cl, "iat"));
	if (!verify_sig(key, es256, jwt, (size_t)(d2 - jwt), sig, (size_t)siglen)) {
		err = "InvalidProviderToken";
		goto out;
	}
	if (es256) {
		free(cache[cache_next].jwt);
		cache[cache_next].jwt = strdup(jwt);
		cache[cache_next].iat = *iat_out;
		cache_next = (cache_next + 1) % JWT_CACHE;
	}
	if (claims_out) {
		*claims_out = cl;
		cl = NULL;
	}
out:
	json_decref(hdr);
	json_decref(cl);
	return err;
}

int ts_jws_verify(EVP_PKEY *key, int es256, const char *jwt)
{
	const char *d2 = strrchr(jwt, '.');
	unsigned char sig[600];
	int n;

	if (!d2 || d2 == jwt)
		return 0;
	n = ts_b64u_decode(d2 + 1, strlen(d2 + 1), sig, sizeof(sig));
	return n > 0 && verify_sig(key, es256, jwt, (size_t)(d2 - jwt), sig, (size_t)n);
}

json_t *ts_jws_claims(const char *jwt)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	return d2 ? decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1)) : NULL;
}

void ts_jwt_cache_free(void)
{
	for (unsigned i = 0; i < JWT_CACHE; i++) {
		free(cache[i].jwt);
		cache[i].jwt = NULL;
	}
}
