/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request building: HTTP/2 headers and JSON bodies for APNs
 * ("Sending notification requests to APNs") and FCM HTTP v1
 * (projects.messages.send), and the OAuth2 token request. Web Push sends
 * the same call metadata, encrypted: pd_webpush.c.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pushd/pd_internal.h"
#include "pushd/pd_seal.h"

#define APNS_MAX_VOIP  5120 /* bytes, VoIP pushes */
#define APNS_MAX_OTHER 4096
#define FCM_MAX	       4096 /* data payload */

static const char *const kind_name[] = {"call", "alert", "background", "message"};

/* apns-collapse-id is at most 64 bytes: a longer call id, or one with bytes
 * that are not visible ASCII, is replaced by its SHA-256 in hex (64
 * characters), stable across retries. */
static void collapse_id(const char *call_id, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned mdlen = 0;
	size_t len = strlen(call_id), n;

	for (n = 0; n < len && call_id[n] > 0x20 && call_id[n] < 0x7f; n++)
		;
	if (len <= 64 && n == len) {
		memcpy(out, call_id, len + 1);
		return;
	}
	EVP_Digest(call_id, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned k = 0; k < mdlen && k < 32; k++) {
		out[2 * k] = hex[md[k] >> 4];
		out[2 * k + 1] = hex[md[k] & 15];
	}
	out[64] = '\0';
}

/* JSON strings must be UTF-8; a PBX may still send Latin-1 display names.
 * Rather than lose the call, bytes above ASCII become '?'. */
static void ascii_only(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			*s = '?';
}

static json_t *call_data(struct pd_job *j)
{
	struct pd_request *r = &j->req;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", kind_name[r->kind], "call_id",
			 r->call_id, "caller_number", r->caller_number, "caller_name",
			 r->caller_name, "aor", r->aor, "push_id", j->apns_id);
}

/* A call goes as a VoIP push, unless the device gave only its regular
 * token: then as an alert (an app without PushKit shows a notification). */
static bool apns_voip(const struct pd_request *r)
{
	return r->kind == PD_KIND_CALL && r->token_kind != PD_TOKEN_REGULAR;
}

bool pd_apns_token_ok(const char *t)
{
	size_t n = strlen(t);

	/* Device tokens are hex (64 characters today; Apple allows for longer). */
	return n > 0 && n <= 200 && strspn(t, "0123456789abcdefABCDEF") == n;
}

/*
 * A push is worth delivering until its deadline and not after (a wake push
 * for a call that is gone only wakes the phone for nothing), so both
 * services are told when that is: apns-expiration is the wall-clock second
 * at which the deadline falls, rounded up; FCM's android.ttl the seconds
 * left to it, rounded up, at least 1 ("0s" would mean now or never). Taken
 * when the body is built (the job's start): a job that waits or retries
 * keeps them, overstating the time left by at most that wait.
 * apns_expire_now keeps apns-expiration 0 (deliver now or never).
 */
static unsigned set_expiry(struct pd_job *j)
{
	uint64_t now = sw_mono_ms();
	uint64_t left = j->deadline_ms > now ? j->deadline_ms - now : 0;
	struct timespec ts;
	uint64_t wall_ms;

	if (j->pd->cfg.apns_expire_now) {
		snprintf(j->apns_exp, sizeof(j->apns_exp), "0");
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + left;
		snprintf(j->apns_exp, sizeof(j->apns_exp), "%llu",
			 (unsigned long long)((wall_ms + 999) / 1000));
	}
	return left > 1000 ? (unsigned)((left + 999) / 1000) : 1;
}

/*
 * A sealed push (docs/push-encryption.md): @p data, the metadata that would
 * go in clear, becomes the plaintext of @p s. Takes @p data. -EIO: out of
 * memory or no randomness; the push is then refused, never sent in clear.
 */
static int seal_data(const struct pd_request *r, json_t *data, struct pd_sealed *s)
{
	char *pt = json_dumps(data, JSON_COMPACT);
	int rc;

	json_decref(data);
	if (pt == NULL)
		return -EIO;
	rc = pd_seal(r->seal_key, r->seal_kid, pt, strlen(pt), s);
	free(pt);
	return rc != 0 ? -EIO : 0;
}

/* Calls and missed calls go as alerts to a regular token; messages and
 * missed calls are alerts whatever the token. */
static bool apns_alert(const struct pd_request *r)
{
	return r->kind == PD_KIND_ALERT || r->kind == PD_KIND_MESSAGE ||
	       (r->kind == PD_KIND_CALL && !apns_voip(r));
}

/* The aps dictionary of a push in clear. */
static json_t *apns_aps(const struct pd_request *r)
{
	const char *who = r->caller_name[0] ? r->caller_name : r->caller_number;

	if (r->kind == PD_KIND_MESSAGE) {
		/* A held MESSAGE (docs/design.md §5): who wrote, not what. */
		char title[160];

		snprintf(title, sizeof(title), "Message from %s", who);
		return json_pack("{s:{s:s, s:s}, s:s}", "alert", "title", title, "body",
				 "New message", "sound", "default");
	}
	if (apns_alert(r))
		return json_pack("{s:{s:s, s:s}, s:s}", "alert", "title",
				 r->kind == PD_KIND_CALL ? "Incoming call" : "Missed call", "body",
				 who, "sound", "default");
	if (r->kind == PD_KIND_BACKGROUND)
		return json_pack("{s:i}", "content-available", 1);
	return json_object();
}

/*
 * A sealed APNs body: {"sw": {"v", "kid", "n", "ct"}, "aps": ...}. A sealed
 * alert names no caller: a generic title and mutable-content, so that the
 * app's Notification Service Extension opens "sw" and writes the caller in.
 * Written out, not built with jansson: every value is hex or base64url
 * (nothing to escape), and a second jansson pass cost more than the sealing
 * itself (pd_bench: 0.6x the plain rate with it).
 */
static int sealed_apns(struct pd_job *j, const struct pd_sealed *s)
{
	const struct pd_request *r = &j->req;
	const char *aps =
		r->kind == PD_KIND_BACKGROUND ? "{\"content-available\":1}"
		: !apns_alert(r)	      ? "{}"
		: r->kind == PD_KIND_CALL
			? "{\"alert\":{\"title\":\"Incoming call\"},\"sound\":\"default\","
			  "\"mutable-content\":1}"
		: r->kind == PD_KIND_MESSAGE
			? "{\"alert\":{\"title\":\"New message\"},\"sound\":\"default\","
			  "\"mutable-content\":1}"
			: "{\"alert\":{\"title\":\"Missed call\"},\"sound\":\"default\","
			  "\"mutable-content\":1}";
	size_t cap = strlen(s->ct) + strlen(aps) + 128;
	int n;

	j->body = malloc(cap);
	if (j->body == NULL)
		return -ENOMEM;
	n = snprintf(j->body, cap,
		     "{\"sw\":{\"v\":1,\"kid\":\"%s\",\"n\":\"%s\",\"ct\":\"%s\"},\"aps\":%s}",
		     r->seal_kid, s->n, s->ct, aps);
	j->body_len = (size_t)n;
	return 0;
}

int pd_build_body(struct pd_job *j)
{
	struct pd_request *r = &j->req;
	bool seal = r->seal_kid[0] != '\0';
	struct pd_sealed s = {.ct = NULL};
	json_t *root, *data;
	unsigned ttl_s;
	size_t max = r->provider == PD_FCM ? FCM_MAX + 512
		     : apns_voip(r)	   ? APNS_MAX_VOIP
					   : APNS_MAX_OTHER;
	int rc;

	if (j->op == PD_OP_FCM_TOKEN)
		return 0;
	ttl_s = set_expiry(j);
	data = call_data(j);
	if (!data) {
		ascii_only(r->call_id);
		ascii_only(r->caller_number);
		ascii_only(r->caller_name);
		ascii_only(r->aor);
		data = call_data(j);
	}
	if (!data)
		return -EINVAL;
	if (seal) {
		rc = seal_data(r, data, &s);
		if (rc != 0)
			return rc;
		PD_STAT_ADD(j->pd, r->provider, sealed, 1);
		if (r->provider == PD_APNS) {
			rc = sealed_apns(j, &s);
			free(s.ct);
			if (rc != 0)
				return rc;
			return j->body_len > max ? -EMSGSIZE : 0;
		}
		/* FCM data values are strings; a Web Push carries the same
		 * fields, encrypted again for the browser (RFC 8291). */
		data = json_pack("{s:s, s:s, s:s, s:s}", "sw_v", "1", "sw_kid", r->seal_kid, "sw_n",
				 s.n, "sw_ct", s.ct);
		free(s.ct);
		if (!data)
			return -ENOMEM;
	}
	if (r->provider == PD_WEBPUSH) {
		char *json = json_dumps(data, JSON_COMPACT);

		rc = json ? pd_webpush_body(j, json, strlen(json), ttl_s) : -ENOMEM;
		free(json);
		json_decref(data);
		return rc;
	}
	if (r->provider == PD_APNS) {
		json_object_set_new(data, "aps", apns_aps(r));
		root = data;
	} else {
		char ttl[16];

		snprintf(ttl, sizeof(ttl), "%us", ttl_s);
		/* Data-only: ConnectionService apps show the call themselves. */
		root = json_pack("{s:{s:s, s:o, s:{s:s, s:s}}}", "message", "token", r->token,
				 "data", data, "android", "priority", "high", "ttl", ttl);
	}
	if (!root)
		return -EINVAL;
	j->body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!j->body)
		return -ENOMEM;
	j->body_len = strlen(j->body);
	return j->body_len > max ? -EMSGSIZE : 0;
}

#define NV(n, v) PD_NV(nva, nnv, n, v)

/* nghttp2 copies names and values (no NO_COPY flags): @bufs may be on the stack. */
int pd_build_request(struct pd_job *j, nghttp2_nv *nva, size_t *nnv, char *bufs, size_t cap)
{
	struct pd_cred *c = j->cred;
	const struct pd_request *r = &j->req;
	bool auth = false;
	char *path = bufs;

	*nnv = 0;
	if (r->provider == PD_WEBPUSH && j->op == PD_OP_PUSH)
		return pd_webpush_request(j, nva, nnv, bufs, cap);
	NV(":method", "POST");
	NV(":scheme", "https");
	if (j->op == PD_OP_FCM_TOKEN) {
		NV(":authority", c->token_host);
		NV(":path", c->token_path);
		NV("content-type", "application/x-www-form-urlencoded");
		return 0;
	}
	NV(":authority", c->apns ? c->apns->host : c->fcm->host);
	if (r->provider == PD_FCM) {
		snprintf(path, cap, "/v1/projects/%s/messages:send", c->fcm->project);
		auth = c->access_token != NULL;
		j->token_gen = c->token_gen;
	} else {
		size_t tl = strlen(r->token);

		if (tl + 11 > cap)
			return -ENOSPC;
		memcpy(path, "/3/device/", 10);
		memcpy(path + 10, r->token, tl + 1);
		if (c->apns->key_file[0])
			auth = pd_apns_jwt(c, false) != NULL; /* renews c->auth when due */
	}
	NV(":path", path);
	NV("content-type", "application/json");
	if (auth)
		NV("authorization", c->auth);
	if (r->provider == PD_FCM)
		return 0;
	NV("apns-push-type", apns_voip(r)		     ? "voip"
			     : r->kind == PD_KIND_BACKGROUND ? "background"
							     : "alert");
	NV("apns-topic", c->topic[apns_voip(r)]);
	/* Background pushes must use priority 5 (APNs rejects 10). */
	NV("apns-priority", r->kind == PD_KIND_BACKGROUND ? "5" : "10");
	NV("apns-expiration", j->apns_exp);
	NV("apns-id", j->apns_id);
	if (r->call_id[0]) {
		char *coll = bufs + strlen(path) + 1;

		if (cap - strlen(path) - 1 < 65)
			return -ENOSPC;
		/* Sealed: the Call-ID is metadata too; its HMAC under the
		 * device's key still collapses a call's pushes. */
		if (r->seal_kid[0] != '\0')
			pd_seal_collapse_id(r->seal_key, r->call_id, coll);
		else
			collapse_id(r->call_id, coll);
		NV("apns-collapse-id", coll);
	}
	return 0;
}
