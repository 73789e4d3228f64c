/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Sealed pushes (docs/push-encryption.md): the call metadata of a push
 * encrypted with a key the app handed over TLS, so that APNs and FCM carry
 * it without reading it. AES-256-GCM, a random 96-bit nonce per push, AAD
 * "sipwake-push-v1:" followed by the key id; base64url (RFC 4648 §5)
 * without padding for everything that travels.
 *
 * Plain functions of their arguments (no pushd instance): the control
 * plane uses the codec and the key id, pushd and the tests the rest.
 */
#ifndef PD_SEAL_H
#define PD_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define PD_SEAL_KEY_LEN	  32 /**< AES-256 key bytes */
#define PD_SEAL_NONCE_LEN 12 /**< GCM nonce bytes */
#define PD_SEAL_TAG_LEN	  16 /**< GCM tag bytes, after the ciphertext */
#define PD_SEAL_KID_LEN	  16 /**< hex characters of a key id (NUL not counted) */
#define PD_SEAL_AAD	  "sipwake-push-v1:"

/** base64url characters of @p n bytes, without padding (no NUL). */
#define PD_B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/**
 * Key id: the first 8 bytes of SHA-256(@p key) as 16 lower-case hex
 * characters and a NUL. The app computes it too, to pick the key a push
 * was sealed with after a rotation.
 */
void pd_seal_kid(const uint8_t key[PD_SEAL_KEY_LEN], char kid[PD_SEAL_KID_LEN + 1]);

/** One sealed payload: what travels, as text. */
struct pd_sealed {
	char n[PD_B64URL_LEN(PD_SEAL_NONCE_LEN) + 1]; /**< nonce, base64url */
	char *ct; /**< ciphertext || tag, base64url; the caller frees it with free() */
};

/**
 * Seal @p pt (@p len bytes) under @p key: AES-256-GCM, a fresh random
 * nonce (RAND_bytes), AAD PD_SEAL_AAD @p kid.
 * @param key, kid, pt  borrowed.
 * @return 0, -EIO (no randomness, or OpenSSL failed), -ENOMEM.
 */
int pd_seal(const uint8_t key[PD_SEAL_KEY_LEN], const char *kid, const void *pt, size_t len,
	    struct pd_sealed *out);

/**
 * What an app does: open @p n / @p ct (base64url, as pd_seal() wrote them)
 * under @p key with AAD PD_SEAL_AAD @p kid. The tests and the benchmark
 * use it; sipwake itself never opens a push.
 * @param pt  set to the plaintext, NUL-terminated; the caller frees it.
 * @return 0 and the length in @p len, -EINVAL (not base64url, or a nonce
 *         or tag of the wrong size), -EBADMSG (wrong key, kid or a
 *         tampered byte: the tag does not verify), -ENOMEM.
 */
int pd_unseal(const uint8_t key[PD_SEAL_KEY_LEN], const char *kid, const char *n, const char *ct,
	      char **pt, size_t *len);

/**
 * apns-collapse-id of a sealed push: HMAC-SHA256(@p key, @p call_id) as 64
 * hex characters. Stable across retries and for every push of one call,
 * but it says nothing of the Call-ID to whoever lacks the key.
 */
void pd_seal_collapse_id(const uint8_t key[PD_SEAL_KEY_LEN], const char *call_id, char out[65]);

#endif /* PD_SEAL_H */
