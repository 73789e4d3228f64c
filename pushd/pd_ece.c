/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Web Push message encryption (RFC 8291 §3.4 over RFC 8188 "aes128gcm"):
 * an ephemeral P-256 key agreed with the subscription's p256dh, the
 * subscription's auth secret mixed in, one record. OpenSSL 3 EVP only:
 * EVP_PKEY_derive for ECDH, HMAC-SHA-256 for the HKDF steps (each output
 * here is at most one hash long, so HKDF-Expand is one HMAC: RFC 5869 §2.3
 * with N = 1), EVP AES-128-GCM. Measured cost: bench/pd_bench.c --webpush.
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#include "pushd/pd_internal.h"

#define RS 4096 /* record size: one record holds any payload under 4 KiB */

static int hmac(const uint8_t *key, size_t klen, const uint8_t *a, size_t alen, const uint8_t *b,
		size_t blen, uint8_t out[32])
{
	uint8_t buf[256];
	unsigned n = 32;

	if (alen + blen > sizeof(buf))
		return -EINVAL;
	memcpy(buf, a, alen);
	if (blen)
		memcpy(buf + alen, b, blen);
	return HMAC(EVP_sha256(), key, (int)klen, buf, alen + blen, out, &n) ? 0 : -EIO;
}

EVP_PKEY *pd_ec_key(const uint8_t pub[PD_EC_PUB_LEN], const uint8_t *priv)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *d = priv ? BN_bin2bn(priv, 32, NULL) : NULL;

	if (!b || !ctx || (priv && !d) ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, PD_EC_PUB_LEN) ||
	    (d && !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d)))
		goto out;
	params = OSSL_PARAM_BLD_to_param(b);
	/* fromdata checks the point is on the curve: a bad p256dh ends here. */
	if (!params || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(d);
	ERR_clear_error();
	return k;
}

int pd_ec_pub(EVP_PKEY *k, uint8_t pub[PD_EC_PUB_LEN])
{
	size_t n = 0;

	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
					    PD_EC_PUB_LEN, &n) != 1 ||
	    n != PD_EC_PUB_LEN) {
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

/* P-256 domain parameters, made once and only read after (any thread):
 * keys copied from them skip building the group from its name, which
 * costs as much as the AES-GCM and HMACs of a push together. */
static EVP_PKEY *p256;
static pthread_once_t p256_once = PTHREAD_ONCE_INIT;

static void p256_init(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

	if (c && EVP_PKEY_paramgen_init(c) == 1 && EVP_PKEY_CTX_set_group_name(c, "P-256") == 1 &&
	    EVP_PKEY_paramgen(c, &p256) != 1)
		p256 = NULL;
	EVP_PKEY_CTX_free(c);
}

/* A public P-256 key from its uncompressed point, or NULL (not on the
 * curve: EC_POINT_oct2point() checks). */
static EVP_PKEY *peer_key(const uint8_t pub[PD_EC_PUB_LEN])
{
	EVP_PKEY *k;

	pthread_once(&p256_once, p256_init);
	k = p256 ? EVP_PKEY_new() : NULL;
	if (k && (EVP_PKEY_copy_parameters(k, p256) != 1 ||
		  EVP_PKEY_set1_encoded_public_key(k, pub, PD_EC_PUB_LEN) != 1)) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

/* ECDH(as_key, ua_pub): the x coordinate, 32 bytes. */
static int ecdh(EVP_PKEY *as_key, const uint8_t ua_pub[PD_EC_PUB_LEN], uint8_t secret[32])
{
	EVP_PKEY *peer = peer_key(ua_pub);
	EVP_PKEY_CTX *ctx = peer ? EVP_PKEY_CTX_new(as_key, NULL) : NULL;
	size_t n = 32;
	int rc = -EINVAL;

	/* peer_key() took only a point on the curve, which is all P-256 needs
	 * (cofactor 1: SP 800-56A §5.6.2.3.4 partial validation); the full
	 * check OpenSSL makes by default multiplies it by the group order,
	 * as costly as the ECDH itself. */
	if (ctx && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
	    EVP_PKEY_derive(ctx, secret, &n) == 1 && n == 32)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	ERR_clear_error();
	return rc;
}

/* RFC 8291 §3.3, §3.4: the content-encryption key and nonce. */
static int derive(EVP_PKEY *as_key, const uint8_t as_pub[PD_EC_PUB_LEN],
		  const uint8_t ua_pub[PD_EC_PUB_LEN], const uint8_t auth[16],
		  const uint8_t salt[16], uint8_t cek[16], uint8_t nonce[12])
{
	static const uint8_t one = 1;
	static const char key_label[] = "WebPush: info"; /* NUL included below */
	static const char cek_label[] = "Content-Encoding: aes128gcm";
	static const char nonce_label[] = "Content-Encoding: nonce";
	uint8_t secret[32], prk_key[32], ikm[32], prk[32], t[32];
	uint8_t info[sizeof(key_label) + 2 * PD_EC_PUB_LEN];
	int rc;

	rc = ecdh(as_key, ua_pub, secret);
	if (rc)
		return rc;
	/* IKM = HKDF(salt = auth, ikm = ecdh_secret, info = key_info, L = 32) */
	memcpy(info, key_label, sizeof(key_label));
	memcpy(info + sizeof(key_label), ua_pub, PD_EC_PUB_LEN);
	memcpy(info + sizeof(key_label) + PD_EC_PUB_LEN, as_pub, PD_EC_PUB_LEN);
	rc = hmac(auth, 16, secret, 32, NULL, 0, prk_key);
	rc = rc ?: hmac(prk_key, 32, info, sizeof(info), &one, 1, ikm);
	/* CEK and NONCE: HKDF(salt, IKM) with the RFC 8188 §2.2 / §2.3 labels */
	rc = rc ?: hmac(salt, 16, ikm, 32, NULL, 0, prk);
	rc = rc ?: hmac(prk, 32, (const uint8_t *)cek_label, sizeof(cek_label), &one, 1, t);
	if (!rc)
		memcpy(cek, t, 16);
	rc = rc ?: hmac(prk, 32, (const uint8_t *)nonce_label, sizeof(nonce_label), &one, 1, t);
	if (!rc)
		memcpy(nonce, t, 12);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(ikm, sizeof(ikm));
	OPENSSL_cleanse(prk, sizeof(prk));
	return rc;
}

int pd_ece_encrypt_with(EVP_PKEY *as_key, const uint8_t salt[16],
			const uint8_t ua_pub[PD_EC_PUB_LEN], const uint8_t auth[16], const void *pt,
			size_t len, uint8_t *out, size_t cap)
{
	uint8_t cek[16], nonce[12], as_pub[PD_EC_PUB_LEN], pad = 2; /* last record: 0x02 */
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *o = out + PD_ECE_HEADER;
	int n1 = 0, n2 = 0, n3 = 0, rc;

	/* One record: payload, delimiter and tag within rs (RFC 8188 §2). */
	if (cap < len + PD_ECE_OVERHEAD || len + 1 + 16 > RS)
		return -EMSGSIZE;
	rc = pd_ec_pub(as_key, as_pub);
	rc = rc ?: derive(as_key, as_pub, ua_pub, auth, salt, cek, nonce);
	if (rc)
		return rc;
	/* Header (RFC 8188 §2.1): salt || rs (uint32 BE) || idlen || keyid. */
	memcpy(out, salt, 16);
	out[16] = (uint8_t)(RS >> 24);
	out[17] = (uint8_t)(RS >> 16);
	out[18] = (uint8_t)(RS >> 8);
	out[19] = (uint8_t)RS;
	out[20] = PD_EC_PUB_LEN;
	memcpy(out + 21, as_pub, PD_EC_PUB_LEN);
	c = EVP_CIPHER_CTX_new();
	rc = -EIO;
	if (c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, cek, nonce) == 1 &&
	    EVP_EncryptUpdate(c, o, &n1, pt, (int)len) == 1 &&
	    EVP_EncryptUpdate(c, o + n1, &n2, &pad, 1) == 1 &&
	    EVP_EncryptFinal_ex(c, o + n1 + n2, &n3) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, o + n1 + n2 + n3) == 1)
		rc = PD_ECE_HEADER + n1 + n2 + n3 + 16;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(cek, sizeof(cek));
	ERR_clear_error();
	return rc;
}

int pd_ece_encrypt(const uint8_t ua_pub[PD_EC_PUB_LEN], const uint8_t auth[16], const void *pt,
		   size_t len, uint8_t *out, size_t cap)
{
	EVP_PKEY_CTX *kg;
	EVP_PKEY *as_key = NULL;
	uint8_t salt[16];
	int rc;

	/* A new key pair (and salt) for every message, as RFC 8291 has it. */
	pthread_once(&p256_once, p256_init);
	kg = p256 ? EVP_PKEY_CTX_new(p256, NULL) : NULL;
	if (!kg || EVP_PKEY_keygen_init(kg) != 1 || EVP_PKEY_keygen(kg, &as_key) != 1)
		as_key = NULL;
	EVP_PKEY_CTX_free(kg);
	if (!as_key) {
		ERR_clear_error();
		return -ENOMEM;
	}
	rc = RAND_bytes(salt, sizeof(salt)) == 1
		     ? pd_ece_encrypt_with(as_key, salt, ua_pub, auth, pt, len, out, cap)
		     : -EIO;
	EVP_PKEY_free(as_key);
	return rc;
}
