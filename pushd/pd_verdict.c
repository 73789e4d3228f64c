/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An answer as it arrives (its headers and body, from pd_h2.c), what it
 * means (pd_answer_judge(), for pd_answer.c to act on), and the result a
 * finished job makes (pd_result_fill(), for pd_sched.c). Nothing here does
 * I/O or touches the pd: tests/fuzz/fuzz_pd_answer.c drives these with
 * arbitrary answers, and checks what they promise (pd_internal.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "pushd/pd_internal.h"

/* Retry-After longer than this many digits reads as this many nines: a wait
 * far past any deadline (push.wake_window_s is at most 3600). */
#define RETRY_AFTER_DIGITS 6
#define RETRY_AFTER_MAX	   999999u

void pd_answer_header(struct pd_job *j, const uint8_t *name, size_t nl, const uint8_t *v, size_t vl)
{
	if (j->hdrs_len + nl + vl + 3 < sizeof(j->hdrs)) {
		memcpy(j->hdrs + j->hdrs_len, name, nl);
		j->hdrs_len += nl;
		memcpy(j->hdrs + j->hdrs_len, ": ", 2);
		memcpy(j->hdrs + j->hdrs_len + 2, v, vl);
		j->hdrs_len += 2 + vl;
		j->hdrs[j->hdrs_len++] = '\n';
		j->hdrs[j->hdrs_len] = '\0';
	}
	if (nl == 7 && !memcmp(name, ":status", 7)) {
		/* Three digits (RFC 9113 §8.3.2; nghttp2 checks too): anything
		 * else is no status, and the stream ends as failed, not answered. */
		j->status = 0;
		if (vl == 3 && v[0] >= '0' && v[0] <= '9' && v[1] >= '0' && v[1] <= '9' &&
		    v[2] >= '0' && v[2] <= '9')
			j->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
	} else if (nl == 11 && !memcmp(name, "retry-after", 11)) {
		unsigned s = 0;
		size_t i;

		/* delta-seconds only (RFC 9110 §10.2.3); an HTTP-date falls back to backoff */
		for (i = 0; i < vl && v[i] >= '0' && v[i] <= '9'; i++)
			s = i < RETRY_AFTER_DIGITS ? s * 10 + (unsigned)(v[i] - '0')
						   : RETRY_AFTER_MAX;
		j->retry_after_s = s;
	}
}

void pd_answer_data(struct pd_job *j, const uint8_t *data, size_t len)
{
	size_t room = sizeof(j->resp) - 1 - j->resp_len;

	if (len > room)
		len = room;
	memcpy(j->resp + j->resp_len, data, len);
	j->resp_len += len;
	j->resp[j->resp_len] = '\0';
}

/* The provider's reason goes to logs, the alarm and telemetry: printable
 * ASCII only, cut to the field. */
static void set_reason(struct pd_verdict *v, const char *reason)
{
	size_t i;

	for (i = 0; reason[i] && i < sizeof(v->reason) - 1; i++)
		v->reason[i] = (unsigned char)reason[i] < 0x20 || (unsigned char)reason[i] > 0x7e
				       ? '?'
				       : reason[i];
	v->reason[i] = '\0';
}

static void finish(struct pd_verdict *v, enum pd_status st, int64_t ts_ms)
{
	v->next = PD_NEXT_FINISH;
	v->status = st;
	v->ts_ms = ts_ms;
}

static const char *fcm_error_code(json_t *root)
{
	json_t *err = json_object_get(root, "error"), *d;
	size_t i;

	json_array_foreach(json_object_get(err, "details"), i, d)
	{
		const char *c = json_string_value(json_object_get(d, "errorCode"));

		if (c)
			return c;
	}
	return json_string_value(json_object_get(err, "status"));
}

/*
 * RFC 8030 §5: 201 Created (some services answer 200 or 202); 404 / 410:
 * the subscription is gone (§7.3: expired or unsubscribed), drop it as an
 * APNs 410; 400 and 413 (payload too large): this push; 401 / 403: the
 * VAPID JWT refused (RFC 8292 §4: a key the subscription was not made
 * with, or a bad JWT), the credential's, except that a first 401 gets a
 * freshly signed JWT and one more try (an expired one, a clock that
 * jumped); 429 and 5xx: later; a status past 599 is none of HTTP's (RFC
 * 9110 §15): this push rejected.
 */
static void webpush_judge(int s, bool can_renew, int64_t now_ms, struct pd_verdict *v)
{
	char rbuf[32];

	snprintf(rbuf, sizeof(rbuf), "HTTP %d", s);
	set_reason(v, rbuf);
	if (s == 200 || s == 201 || s == 202) {
		v->reason[0] = '\0';
		finish(v, PD_DELIVERED, 0);
	} else if (s == 404 || s == 410) {
		finish(v, PD_DEAD_TOKEN, now_ms);
	} else if (s == 401 && can_renew) {
		v->next = PD_NEXT_RENEW;
	} else if (s == 401 || s == 403) {
		set_reason(v, "VAPID refused");
		finish(v, PD_CONFIG_ERROR, 0);
	} else if (s == 429 || (s >= 500 && s <= 599)) {
		v->next = PD_NEXT_LATER;
	} else {
		if (s == 413)
			set_reason(v, "PayloadTooLarge");
		finish(v, PD_REJECTED, 0);
	}
}

void pd_answer_judge(const struct pd_job *j, bool can_renew, int64_t now_ms, struct pd_verdict *v)
{
	bool apns = j->req.provider == PD_APNS;
	int s = j->status;
	const char *reason;
	json_t *root;

	memset(v, 0, sizeof(*v));
	if (j->req.provider == PD_WEBPUSH) {
		webpush_judge(s, can_renew, now_ms, v);
		return;
	}
	if (s == 200) {
		finish(v, PD_DELIVERED, 0);
		return;
	}
	root = json_loads(j->resp, 0, NULL);
	reason = apns ? json_string_value(json_object_get(root, "reason")) : fcm_error_code(root);
	if (reason != NULL && reason[0] != '\0') {
		set_reason(v, reason);
	} else {
		char rbuf[32];

		snprintf(rbuf, sizeof(rbuf), "HTTP %d", s);
		set_reason(v, rbuf);
	}
	if (apns && s == 410) {
		json_int_t ts = json_integer_value(json_object_get(root, "timestamp"));

		/* A time not after the answer: one in the future (a skewed
		 * clock) would outlive a registration made after this answer
		 * (cp_bind_push_result()), so the answer's moment stands in. */
		finish(v, PD_DEAD_TOKEN, ts > 0 && ts <= now_ms ? (int64_t)ts : now_ms);
	} else if (!apns && s == 404 && !strcmp(v->reason, "UNREGISTERED")) {
		/* Only a 404 UNREGISTERED says the token is dead: another 404
		 * (a project that does not exist) is the credential's fault, and
		 * taking it for a dead token would drop every Android device's
		 * push address; an UNREGISTERED with a 5xx or a 2xx is not FCM's
		 * documented answer, and is treated by its status. FCM gives no
		 * time: the answer's moment stands in. */
		finish(v, PD_DEAD_TOKEN, now_ms);
	} else if (((apns && s == 403 && !strcmp(v->reason, "ExpiredProviderToken")) ||
		    (!apns && s == 401)) &&
		   can_renew) {
		v->next = PD_NEXT_RENEW;
	} else if (s == 429 || s == 500 || s == 503) {
		v->next = PD_NEXT_LATER;
	} else if (s == 403 || s == 401 || s == 404 || s == 405 ||
		   (apns &&
		    (!strcmp(v->reason, "TopicDisallowed") || !strcmp(v->reason, "MissingTopic") ||
		     !strcmp(v->reason, "BadTopic")))) {
		/* A 400 about the topic is the credential's (its bundle or its
		 * certificate), never one device's: alarmed, as a 403 is. */
		finish(v, PD_CONFIG_ERROR, 0);
	} else {
		finish(v, PD_REJECTED, 0);
	}
	json_decref(root);
}

void pd_result_fill(struct pd_result *r, const struct pd_job *j, enum pd_status st,
		    const char *reason, int64_t ts_ms)
{
	r->id = j->req.id;
	r->target = j->req.target;
	memcpy(r->device_key, j->req.device_key, sizeof(r->device_key));
	r->status = st;
	r->provider_ts_ms = ts_ms;
	if (reason) {
		size_t rl = strnlen(reason, sizeof(r->reason) - 1);

		memcpy(r->reason, reason, rl);
		r->reason[rl] = '\0';
	}
	r->http_status = j->status;
	memcpy(r->apns_id, j->apns_id, sizeof(r->apns_id));
	if (j->resp_len) {
		size_t bl = j->resp_len < sizeof(r->body) ? j->resp_len : sizeof(r->body) - 1;

		memcpy(r->body, j->resp, bl);
		r->body[bl] = '\0';
	}
	memcpy(r->headers, j->hdrs, j->hdrs_len + 1);
	r->attempts = j->attempts;
}
