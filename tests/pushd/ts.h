/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pd_testsrv internals: an HTTP/2 TLS server that behaves like APNs, FCM
 * HTTP v1 and Google's OAuth2 token endpoint. See tests/pushd/README.md
 * for the command line and the control protocol.
 */
#ifndef TS_H
#define TS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

struct ts_cfg {
	EVP_PKEY *apns_key; /* P-256 public key matching the .p8 */
	EVP_PKEY *fcm_key;  /* RSA public key of the service account */
	const char *apns_kid, *apns_team, *apns_bundle;
	const char *fcm_project, *fcm_email;
	/* --client-ca given: APNs client certificates must chain to it, and the
	 * topic must be the bundle id in their subject UID. */
	int check_client_cert;
};

/* One request as received (headers are truncated to their buffers). */
struct ts_req {
	char method[16];
	char path[512];
	char h_auth[2048];
	char h_push_type[32];
	char h_topic[256];
	char h_prio[16];
	char h_exp[32];
	char h_apns_id[64];
	char h_collapse[128];
	char h_ctype[128];
	char h_cenc[32];     /* Web Push: content-encoding */
	char h_ttl[32];	     /* Web Push: TTL */
	char h_urgency[32];  /* Web Push: Urgency */
	char h_wp_topic[64]; /* Web Push: Topic */
	char token[512];     /* device token (APNs path, FCM body) */
	long iat;
	int client_cert;    /* TLS client certificate presented */
	int cert_chain_ok;  /* ... and it chains to --client-ca */
	char cert_uid[256]; /* ... its subject UID (0.9.2342.19200300.100.1.1) */
	char *body;
	size_t body_len, body_cap;
};

enum beh_kind { B_ANSWER, B_STALL, B_RESET, B_GOAWAY };

struct beh {
	enum beh_kind kind;
	int code;
	char reason[64];
	int retry_after;
};

/* ts_beh.c: per-token behaviour. SPEC: "200", "400 Reason", "429 SECONDS",
 * "stall", "reset", "goaway"... @once: queued for the next request only. */
int ts_beh_set(const char *token, const char *spec, int once);
/* A token APNs issued for PushKit ("voip") or for regular notifications
 * ("regular"): APNs answers 400 DeviceTokenNotForTopic to a push of the
 * other type. 0 on success. */
int ts_beh_set_kind(const char *token, const char *kind);
/* 0 not said, 1 voip, 2 regular. */
int ts_beh_kind(const char *token);
void ts_beh_clear(void);
/* The behaviour for the next request to @token (unchanged if none set). */
void ts_beh_next(const char *token, struct beh *b);

EVP_PKEY *ts_load_pubkey(const char *path);
/* base64url (no padding) into @out; the length, or -1. */
int ts_b64u_decode(const char *in, size_t len, unsigned char *out, size_t cap);
/* ES256 / RS256 signature of a compact JWS's "header.claims" by @key: 1 if good. */
int ts_jws_verify(EVP_PKEY *key, int es256, const char *jwt);
/* The claims of a compact JWS (unverified), a new reference, or NULL. */
json_t *ts_jws_claims(const char *jwt);

/* ts_webpush.c: the Web Push push service and the browser behind it. */
/* Mint subscription @id: its P-256 key and auth secret; @keys gets
 * "<p256dh>.<auth>" (base64url), as pn-param carries it. 0 or -1. */
int ts_wp_mint(const char *id, char *keys, size_t cap);
/* Check a POST /wp/<id> as a push service does (VAPID JWT verified with
 * its k, aud = @aud, exp, sub; Content-Encoding, TTL, Urgency) and decrypt
 * it as the browser would into @plain (NUL-terminated). The status to
 * answer (201, or 400 / 401 / 403 / 404 with *reason), and the JWT's sub. */
int ts_wp_check(const struct ts_req *r, const char *aud, char *plain, size_t cap,
		const char **reason, char *sub, size_t subcap);
void ts_wp_free(void);

/* Verifies a compact JWS. Returns NULL when valid (sets *iat, and *claims to
 * a new reference when claims != NULL), else an APNs-style reason. */
const char *ts_jwt_check(const struct ts_cfg *cfg, const char *jwt, int es256, long *iat,
			 json_t **claims);
void ts_jwt_cache_free(void);

/* Status to answer before per-token behaviour; *reason set for errors. */
int ts_check_apns(const struct ts_cfg *cfg, struct ts_req *r, const char **reason);
int ts_check_fcm(const struct ts_cfg *cfg, struct ts_req *r, const char **reason);

/* ts_oauth.c: POST /token. Returns the status; *body a new JSON reference. */
int ts_token_endpoint(const struct ts_cfg *cfg, const struct ts_req *r, unsigned ttl, json_t **body,
		      long *iat);
/* Whether @tok was issued by ts_token_endpoint() and has not expired. */
int ts_access_token_valid(const char *tok);
/* Forget every issued access token. */
void ts_tokens_revoke(void);

#endif /* TS_H */
