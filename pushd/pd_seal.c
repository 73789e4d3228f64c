/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sealed pushes (pd_seal.h, docs/push-encryption.md): AES-256-GCM through
 * OpenSSL's EVP interface, base64url (RFC 4648 §5) without padding.
 *
 * Why a random nonce: a key lives for one registration (an hour or so, a
 * few hundred pushes at most), far below the 2^32 messages NIST SP 800-38D
 * §8.3 allows one key with random 96-bit nonces; a counter would have to
 * survive restarts and be shared by every edge of a cluster.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/sw_b64.h"
#include "pushd/pd_internal.h" /* pd_b64url() */
#include "pushd/pd_seal.h"

static const char hex[] = "0123456789abcdef";

/*
 * The algorithms, fetched once (OpenSSL 3 "Algorithm fetching"), and each
 * thread's cipher and MAC contexts, made once and re-keyed for each push:
 * the implicit fetch behind EVP_aes_256_gcm(), EVP_sha256() and HMAC(), and
 * a context made and freed per push, cost more than AES-GCM itself
 * (pd_bench: sealed pushes at 0.6x the plain rate with them). Fetched
 * objects may be shared by threads; contexts may not, hence one per thread
 * (freed when it ends: pthread key destructor).
 */
struct seal_ctx {
	EVP_CIPHER_CTX *enc;
	EVP_MAC_CTX *mac;
};

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_gcm;
static EVP_MD *sha256;
static EVP_MAC *hmac;
static pthread_key_t ctx_key;
static bool ctx_key_ok;

static void ctx_free(void *p)
{
	struct seal_ctx *t = p;

	if (t == NULL)
		return;
	EVP_CIPHER_CTX_free(t->enc);
	EVP_MAC_CTX_free(t->mac);
	free(t);
}

static void algs_fetch(void)
{
	aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

static bool algs(void)
{
	pthread_once(&algs_once, algs_fetch);
	return aes_gcm != NULL && sha256 != NULL && hmac != NULL && ctx_key_ok;
}

/* This thread's contexts, or NULL (out of memory, OpenSSL failed). */
static struct seal_ctx *thread_ctx(void)
{
	static char digest[] = "SHA256";
	const OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	struct seal_ctx *t;

	if (!algs())
		return NULL;
	t = pthread_getspecific(ctx_key);
	if (t != NULL)
		return t;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->enc = EVP_CIPHER_CTX_new();
	t->mac = EVP_MAC_CTX_new(hmac);
	if (t->enc == NULL || t->mac == NULL || EVP_MAC_CTX_set_params(t->mac, params) != 1 ||
	    EVP_EncryptInit_ex(t->enc, aes_gcm, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->enc, EVP_CTRL_GCM_SET_IVLEN, PD_SEAL_NONCE_LEN, NULL) != 1 ||
	    pthread_setspecific(ctx_key, t) != 0) {
		ctx_free(t);
		return NULL;
	}
	return t;
}

/* After a failure a context may be half-way: the next call makes new ones. */
static void thread_ctx_drop(struct seal_ctx *t)
{
	pthread_setspecific(ctx_key, NULL);
	ctx_free(t);
}

void pd_seal_kid(const uint8_t key[PD_SEAL_KEY_LEN], char kid[PD_SEAL_KID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE] = {0};
	unsigned mdlen = 0;

	EVP_Digest(key, PD_SEAL_KEY_LEN, md, &mdlen, algs() ? sha256 : EVP_sha256(), NULL);
	for (unsigned k = 0; k < PD_SEAL_KID_LEN / 2; k++) {
		kid[2 * k] = hex[md[k] >> 4];
		kid[2 * k + 1] = hex[md[k] & 15];
	}
	kid[PD_SEAL_KID_LEN] = '\0';
}

/* The AAD: PD_SEAL_AAD and the kid, as ASCII. */
static size_t aad_of(const char *kid, char *buf, size_t cap)
{
	size_t a = sizeof(PD_SEAL_AAD) - 1, k = strnlen(kid, cap - a - 1);

	memcpy(buf, PD_SEAL_AAD, a);
	memcpy(buf + a, kid, k);
	return a + k;
}

int pd_seal(const uint8_t key[PD_SEAL_KEY_LEN], const char *kid, const void *pt, size_t len,
	    struct pd_sealed *out)
{
	uint8_t nonce[PD_SEAL_NONCE_LEN], *ct;
	char aad[64];
	size_t alen = aad_of(kid, aad, sizeof(aad));
	struct seal_ctx *t = thread_ctx();
	EVP_CIPHER_CTX *c;
	int n = 0, f = 0, rc = -EIO;

	out->ct = NULL;
	if (len > INT32_MAX - PD_SEAL_TAG_LEN || t == NULL)
		return -EIO;
	c = t->enc;
	ct = malloc(len + PD_SEAL_TAG_LEN);
	out->ct = malloc(PD_B64URL_LEN(len + PD_SEAL_TAG_LEN) + 1);
	if (ct == NULL || out->ct == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	/* The cipher and nonce length stay from thread_ctx(): a new key and
	 * nonce restart the context. */
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)alen) != 1 ||
	    EVP_EncryptUpdate(c, ct, &n, pt, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(c, ct + n, &f) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, PD_SEAL_TAG_LEN, ct + n + f) != 1) {
		thread_ctx_drop(t);
		goto fail;
	}
	pd_b64url(nonce, sizeof(nonce), out->n, sizeof(out->n));
	pd_b64url(ct, (size_t)(n + f) + PD_SEAL_TAG_LEN, out->ct,
		  PD_B64URL_LEN(len + PD_SEAL_TAG_LEN) + 1);
	free(ct);
	return 0;
fail:
	free(ct);
	free(out->ct);
	out->ct = NULL;
	return rc;
}

int pd_unseal(const uint8_t key[PD_SEAL_KEY_LEN], const char *kid, const char *n, const char *ct,
	      char **pt, size_t *len)
{
	uint8_t nonce[PD_SEAL_NONCE_LEN + 1], *raw = NULL;
	size_t ctlen = strlen(ct), cap = ctlen / 4 * 3 + 3;
	char aad[64];
	size_t alen = aad_of(kid, aad, sizeof(aad));
	EVP_CIPHER_CTX *c = NULL;
	int nl, m, body, o = 0, f = 0, rc = -EINVAL;

	*pt = NULL;
	if (!algs())
		return -ENOMEM;
	nl = sw_b64url_decode(n, strlen(n), nonce, sizeof(nonce), 0);
	raw = malloc(cap);
	if (raw == NULL)
		return -ENOMEM;
	m = sw_b64url_decode(ct, ctlen, raw, cap, 0);
	if (nl != PD_SEAL_NONCE_LEN || m < PD_SEAL_TAG_LEN)
		goto out;
	body = m - PD_SEAL_TAG_LEN;
	rc = -ENOMEM;
	*pt = malloc((size_t)body + 1);
	c = EVP_CIPHER_CTX_new();
	if (*pt == NULL || c == NULL)
		goto out;
	rc = -EBADMSG;
	if (EVP_DecryptInit_ex(c, aes_gcm, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, PD_SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &o, (const uint8_t *)aad, (int)alen) != 1 ||
	    EVP_DecryptUpdate(c, (uint8_t *)*pt, &o, raw, body) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, PD_SEAL_TAG_LEN, raw + body) != 1 ||
	    EVP_DecryptFinal_ex(c, (uint8_t *)*pt + o, &f) != 1)
		goto out;
	(*pt)[o + f] = '\0';
	*len = (size_t)(o + f);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	free(raw);
	if (rc != 0) {
		free(*pt);
		*pt = NULL;
	}
	return rc;
}

void pd_seal_collapse_id(const uint8_t key[PD_SEAL_KEY_LEN], const char *call_id, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE] = {0};
	struct seal_ctx *t = thread_ctx();
	size_t mdlen = 0;

	/* A failure leaves md zero: one collapse id for every call of that
	 * device, which leaks nothing (APNs may then collapse two calls). */
	if (t == NULL || EVP_MAC_init(t->mac, key, PD_SEAL_KEY_LEN, NULL) != 1 ||
	    EVP_MAC_update(t->mac, (const unsigned char *)call_id, strlen(call_id)) != 1 ||
	    EVP_MAC_final(t->mac, md, &mdlen, sizeof(md)) != 1) {
		memset(md, 0, sizeof(md));
		if (t != NULL)
			thread_ctx_drop(t);
	}
	for (unsigned k = 0; k < 32; k++) {
		out[2 * k] = hex[md[k] >> 4];
		out[2 * k + 1] = hex[md[k] & 15];
	}
	out[64] = '\0';
}
