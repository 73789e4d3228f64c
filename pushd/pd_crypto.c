/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Credentials: APNs .p8 keys and client certificates, FCM service accounts,
 * the TLS context of each credential, and JWTs (RFC 7519) signed with
 * OpenSSL EVP: ES256 for APNs provider tokens, RS256 for Google's
 * JWT-bearer grant (RFC 7523).
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sw_log.h"
#include "pushd/pd_internal.h"

/* APNs: "Refresh your token no more than once every 20 minutes and no less
 * than once every 60 minutes." */
#define APNS_JWT_MIN_RENEW_S 1200

int pd_b64url(const unsigned char *in, size_t len, char *out, size_t cap)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = 0, i;

	if (cap < (len * 4 + 2) / 3 + 1)
		return -ENOSPC;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[n++] = tab[v >> 18];
		out[n++] = tab[(v >> 12) & 63];
		out[n++] = tab[(v >> 6) & 63];
		out[n++] = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);

		out[n++] = tab[v >> 18];
		out[n++] = tab[(v >> 12) & 63];
		if (i + 1 < len)
			out[n++] = tab[(v >> 6) & 63];
	}
	out[n] = '\0';
	return (int)n;
}

EVP_PKEY *pd_load_private_key(const char *path, char *err, size_t errlen, const char *what)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open %s: %s", what, path, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		snprintf(err, errlen, "%s: %s holds no PEM private key (%s)", what, path,
			 ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
	}
	return k;
}

/* Signature over "header.claims"; ES256 is converted from OpenSSL's DER to
 * the raw 32-byte r || s that JWS requires (RFC 7518 §3.4). */
char *pd_jwt_sign(EVP_PKEY *key, bool es256, const char *header_json, const char *claims_json)
{
	size_t hl = strlen(header_json), cl = strlen(claims_json), siglen = 0, cap;
	unsigned char *sig = NULL, raw[64];
	EVP_MD_CTX *md = NULL;
	char *out = NULL;
	int n;

	cap = (hl + cl) * 2 + 1024;
	out = malloc(cap);
	md = EVP_MD_CTX_new();
	if (!out || !md)
		goto fail;
	n = pd_b64url((const unsigned char *)header_json, hl, out, cap);
	out[n++] = '.';
	n += pd_b64url((const unsigned char *)claims_json, cl, out + n, cap - (size_t)n);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (unsigned char *)out, (size_t)n) != 1)
		goto fail;
	sig = malloc(siglen);
	if (!sig || EVP_DigestSign(md, sig, &siglen, (unsigned char *)out, (size_t)n) != 1)
		goto fail;
	out[n++] = '.';
	if (es256) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		const BIGNUM *r, *s;

		if (!es)
			goto fail;
		ECDSA_SIG_get0(es, &r, &s);
		n = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32
			    ? n + pd_b64url(raw, 64, out + n, cap - (size_t)n)
			    : -1;
		ECDSA_SIG_free(es);
		if (n < 0)
			goto fail;
	} else if (pd_b64url(sig, siglen, out + n, cap - (size_t)n) < 0) {
		goto fail;
	}
	free(sig);
	EVP_MD_CTX_free(md);
	return out;
fail:
	free(sig);
	free(out);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return NULL;
}

const char *pd_apns_jwt(struct pd_cred *c, bool force)
{
	const struct pd_config *cfg = &c->pd->cfg;
	uint64_t now = (uint64_t)time(NULL);
	uint64_t renew = cfg->test_jwt_renew_s ? cfg->test_jwt_renew_s : cfg->jwt_renew_s;
	uint64_t floor = cfg->test_jwt_renew_s ? cfg->test_jwt_renew_s : APNS_JWT_MIN_RENEW_S;
	char hdr[96], claims[96];
	char *jwt;

	if (c->jwt && now - c->jwt_iat < renew && !(force && now - c->jwt_iat >= floor))
		return c->jwt;
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", c->apns->key_id);
	snprintf(claims, sizeof(claims), "{\"iss\":\"%s\",\"iat\":%llu}", c->apns->team_id,
		 (unsigned long long)now);
	jwt = pd_jwt_sign(c->key, true, hdr, claims);
	if (!jwt) {
		PD_LOG(ERR, "%s: cannot sign the provider token", c->name);
		return c->jwt;
	}
	if (c->jwt)
		PD_STAT_ADD(c->pd, PD_APNS, token_renewals, 1);
	free(c->jwt);
	c->jwt = jwt;
	c->jwt_iat = now;
	snprintf(c->auth, sizeof(c->auth), "bearer %s", jwt);
	return jwt;
}

char *pd_fcm_token_request(struct pd_cred *c, size_t *len)
{
	static const char prefix[] =
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
	json_t *cl;
	char *claims, *jwt, *body = NULL;
	char aud[PD_PATH_LEN + PD_HOST_LEN + 16];
	time_t now = time(NULL);

	snprintf(aud, sizeof(aud), "https://%s%s", c->token_host, c->token_path);
	cl = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", c->client_email, "scope",
		       "https://www.googleapis.com/auth/firebase.messaging", "aud", aud, "iat",
		       (json_int_t)now, "exp", (json_int_t)now + 3600);
	claims = cl ? json_dumps(cl, JSON_COMPACT) : NULL;
	json_decref(cl);
	if (!claims)
		return NULL;
	jwt = pd_jwt_sign(c->key, false, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims);
	free(claims);
	if (jwt) {
		*len = sizeof(prefix) - 1 + strlen(jwt);
		body = malloc(*len + 1);
		if (body)
			snprintf(body, *len + 1, "%s%s", prefix, jwt);
	}
	free(jwt);
	return body;
}

/* "https://host[:port]/path" */
static int split_url(const char *url, struct pd_cred *c)
{
	const char *h, *p, *colon;
	long port = 443;

	if (strncmp(url, "https://", 8) != 0)
		return -EINVAL;
	h = url + 8;
	p = strchr(h, '/');
	if (!p)
		p = h + strlen(h);
	colon = memchr(h, ':', (size_t)(p - h));
	if (colon) {
		port = strtol(colon + 1, NULL, 10);
		if (port < 1 || port > 65535)
			return -EINVAL;
	}
	if ((colon ? colon : p) == h || (size_t)((colon ? colon : p) - h) >= sizeof(c->token_host))
		return -EINVAL;
	memcpy(c->token_host, h, (size_t)((colon ? colon : p) - h));
	c->token_host[(colon ? colon : p) - h] = '\0';
	snprintf(c->token_path, sizeof(c->token_path), "%s", *p ? p : "/");
	c->token_port = (uint16_t)port;
	return 0;
}

static int load_service_account(struct pd_cred *c, char *err, size_t errlen)
{
	const struct pd_fcm_cfg *f = c->fcm;
	json_error_t je;
	json_t *sa = json_load_file(f->service_account_file, 0, &je);
	const char *email, *pem, *uri;
	BIO *bio;
	int rc = -EINVAL;

	if (!sa) {
		snprintf(err, errlen, "push.%s.service_account_file: %s: %s (line %d)", c->name,
			 f->service_account_file, je.text, je.line);
		return -EINVAL;
	}
	email = json_string_value(json_object_get(sa, "client_email"));
	pem = json_string_value(json_object_get(sa, "private_key"));
	uri = f->token_url[0] ? f->token_url : json_string_value(json_object_get(sa, "token_uri"));
	if (!email || !pem) {
		snprintf(err, errlen,
			 "push.%s.service_account_file: %s: expected client_email and private_key",
			 c->name, f->service_account_file);
		goto out;
	}
	snprintf(c->client_email, sizeof(c->client_email), "%s", email);
	if (split_url(uri ? uri : "https://oauth2.googleapis.com/token", c) != 0) {
		snprintf(err, errlen,
			 "push.%s.token_url: expected https://host[:port]/path, got %s", c->name,
			 uri);
		goto out;
	}
	bio = BIO_new_mem_buf(pem, -1);
	c->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!c->key || EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA) {
		snprintf(err, errlen,
			 "push.%s.service_account_file: %s: private_key is not an RSA PEM key",
			 c->name, f->service_account_file);
		ERR_clear_error();
		goto out;
	}
	rc = 0;
out:
	json_decref(sa);
	return rc;
}

int pd_cred_load(struct pd_cred *c, char *err, size_t errlen)
{
	const char *ca = c->apns ? c->apns->ca_file : c->fcm ? c->fcm->ca_file : c->wp->ca_file;
	char what[128];
	static const unsigned char alpn[] = "\x02h2";

	c->ssl = SSL_CTX_new(TLS_client_method());
	if (!c->ssl) {
		snprintf(err, errlen, "push.%s: cannot create a TLS context", c->name);
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
	SSL_CTX_set_alpn_protos(c->ssl, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
	if (ca[0] ? SSL_CTX_load_verify_locations(c->ssl, ca, NULL) != 1
		  : SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
		snprintf(err, errlen, "push.%s.ca_file: cannot load %s", c->name,
			 ca[0] ? ca : "the system CA store");
		return -EINVAL;
	}
	if (c->fcm)
		return load_service_account(c, err, errlen);
	if (c->wp)
		return 0; /* its VAPID key: pd_vapid_load(), by pd_cred.c */
	if (c->apns->key_file[0]) {
		snprintf(c->topic[0], sizeof(c->topic[0]), "%s", c->apns->bundle_id);
		snprintf(c->topic[1], sizeof(c->topic[1]), "%s.voip", c->apns->bundle_id);
		snprintf(what, sizeof(what), "push.%s.key_file", c->name);
		c->key = pd_load_private_key(c->apns->key_file, err, errlen, what);
		if (!c->key)
			return -EINVAL;
		if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_EC ||
		    EVP_PKEY_get_bits(c->key) != 256) {
			snprintf(err, errlen, "%s: %s is not a P-256 (.p8) key", what,
				 c->apns->key_file);
			return -EINVAL;
		}
		return pd_apns_jwt(c, false) ? 0 : -EINVAL;
	}
	snprintf(c->topic[0], sizeof(c->topic[0]), "%s", c->apns->bundle_id);
	snprintf(c->topic[1], sizeof(c->topic[1]), "%s.voip", c->apns->bundle_id);
	if (SSL_CTX_use_certificate_chain_file(c->ssl, c->apns->cert_file) != 1) {
		snprintf(err, errlen, "push.%s.cert_file: cannot load certificate %s (%s)", c->name,
			 c->apns->cert_file, ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ssl, c->apns->cert_key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c->ssl) != 1) {
		snprintf(
			err, errlen,
			"push.%s.cert_key_file: cannot load %s or it does not match cert_file (%s)",
			c->name, c->apns->cert_key_file, ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}
