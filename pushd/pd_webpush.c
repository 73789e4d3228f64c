/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Web Push requests (RFC 8030 §5): POST to the subscription's push
 * resource, the call metadata JSON encrypted for the user agent
 * (pd_ece.c), "Authorization: vapid ..." for the origin (pd_vapid.c), TTL
 * the seconds left to the push's deadline, Urgency from what the push is
 * for, Topic so that a retried or repeated push for one call replaces the
 * one not yet delivered.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_webpush.h"
#include "pushd/pd_internal.h"

/* RFC 8030 §7.2: a push service must take 4096 bytes of payload. */
#define WEBPUSH_MAX 4096

int pd_webpush_body(struct pd_job *j, const char *json, size_t len, unsigned ttl_s)
{
	uint8_t p256dh[SW_WP_P256DH_LEN], auth[SW_WP_AUTH_LEN];
	const struct pd_request *r = &j->req;
	struct sw_wp_url u;
	const char *why;
	int n;

	if (sw_wp_url_split(r->token, strlen(r->token), &u, &why) != 0 ||
	    sw_wp_keys(r->param, strlen(r->param), p256dh, auth, &why) != 0)
		return -EINVAL;
	if (len + PD_ECE_OVERHEAD > WEBPUSH_MAX)
		return -EMSGSIZE;
	j->body = malloc(len + PD_ECE_OVERHEAD);
	if (!j->body)
		return -ENOMEM;
	n = pd_ece_encrypt(p256dh, auth, json, len, (uint8_t *)j->body, len + PD_ECE_OVERHEAD);
	if (n < 0)
		return n;
	j->body_len = (size_t)n;
	snprintf(j->apns_exp, sizeof(j->apns_exp), "%u", ttl_s);
	return 0;
}

/* RFC 8030 §5.4: Topic is at most 32 base64url characters: 24 bytes of
 * the call id's SHA-256, the same for every push of one call. */
static void topic_of(const char *call_id, char out[33])
{
	unsigned char md[32];
	unsigned n = 0;

	EVP_Digest(call_id, strlen(call_id), md, &n, EVP_sha256(), NULL);
	pd_b64url(md, 24, out, 33);
}

#define NV(n, v) PD_NV(nva, nnv, n, v)

/* nghttp2 copies names and values: @bufs may be on the stack. */
int pd_webpush_request(struct pd_job *j, nghttp2_nv *nva, size_t *nnv, char *bufs, size_t cap)
{
	const struct pd_request *r = &j->req;
	struct sw_wp_url u;
	const char *why, *auth;
	char *authority = bufs, *path, *topic;
	int n;

	if (!j->origin || sw_wp_url_split(r->token, strlen(r->token), &u, &why) != 0)
		return -EINVAL;
	auth = pd_vapid_auth(j->origin);
	if (!auth)
		return -EIO;
	/* :authority is the origin without its scheme (RFC 9113 §8.3.1). */
	n = snprintf(authority, cap, "%.*s", (int)(u.origin_len - 8), u.origin + 8);
	if (n < 0 || (size_t)n + u.path_len + 2 + 33 > cap)
		return -ENOSPC;
	path = authority + n + 1;
	memcpy(path, u.path, u.path_len);
	path[u.path_len] = '\0';
	topic = path + u.path_len + 1;
	*nnv = 0;
	NV(":method", "POST");
	NV(":scheme", "https");
	NV(":authority", authority);
	NV(":path", path);
	NV("content-type", "application/octet-stream");
	NV("content-encoding", "aes128gcm");
	NV("ttl", j->apns_exp);
	/* RFC 8030 §5.3: calls and missed calls now, refreshes when convenient. */
	NV("urgency", r->kind == PD_KIND_BACKGROUND ? "normal" : "high");
	NV("authorization", auth);
	if (r->call_id[0]) {
		topic_of(r->call_id, topic);
		NV("topic", topic);
	}
	return 0;
}
