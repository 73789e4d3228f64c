/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server, answers: a whole request is checked as APNs, FCM HTTP v1 or
 * the OAuth2 token endpoint would (ts_check.c, ts_oauth.c), then given the
 * behaviour set for its token (ts_beh.c), reported as a REQ event line, and
 * answered with the status, headers and JSON body the real service sends:
 * at once, after the configured delay, or never.
 */
#include "tests/pushd/ts_server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ssize_t body_read_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct stream *st = src->ptr;
	size_t n = st->resp_len - st->resp_off;

	(void)ng;
	(void)id;
	(void)ud;
	if (n > len)
		n = len;
	memcpy(buf, st->resp + st->resp_off, n);
	st->resp_off += n;
	if (st->resp_off == st->resp_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define NV(n, v)                                                                           \
	{                                                                                  \
		(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE \
	}

static void respond_now(struct stream *st)
{
	char status[8];
	nghttp2_nv nva[4];
	size_t n = 0;
	nghttp2_data_provider prd = {.source.ptr = st, .read_callback = body_read_cb};

	snprintf(status, sizeof(status), "%d", st->status);
	nva[n++] = (nghttp2_nv)NV(":status", status);
	for (int i = 0; i < st->n_extra; i++)
		nva[n++] = (nghttp2_nv)NV(st->hdr_extra[i][0], st->hdr_extra[i][1]);
	if (st->resp_len)
		nva[n++] = (nghttp2_nv)NV("content-type", "application/json");
	nghttp2_submit_response(st->s->ng, st->id, nva, n, st->resp_len ? &prd : NULL);
}

/* Answers whose delay ends together leave in one write, as from a real
 * server, not one TLS record each. */
static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *st = arg;

	(void)fd;
	(void)what;
	respond_now(st);
	event_active(st->s->flush_ev, EV_WRITE, 0);
}

static void set_body(struct stream *st, json_t *j)
{
	st->resp = json_dumps(j, JSON_COMPACT);
	st->resp_len = st->resp ? strlen(st->resp) : 0;
	json_decref(j);
}

static const char *fcm_status(int code)
{
	switch (code) {
	case 400:
		return "INVALID_ARGUMENT";
	case 401:
		return "UNAUTHENTICATED";
	case 403:
		return "PERMISSION_DENIED";
	case 404:
		return "NOT_FOUND";
	case 429:
		return "RESOURCE_EXHAUSTED";
	case 503:
		return "UNAVAILABLE";
	default:
		return "INTERNAL";
	}
}

static const char *apns_reason(int code)
{
	switch (code) {
	case 410:
		return "Unregistered";
	case 429:
		return "TooManyRequests";
	case 503:
		return "ServiceUnavailable";
	case 404:
		return "BadPath";
	default:
		return "InternalServerError";
	}
}

static void answer_token_endpoint(struct stream *st)
{
	struct ts_server *srv = st->s->srv;
	json_t *body = NULL;
	long iat = 0;

	st->status = ts_token_endpoint(&srv->cfg, &st->req, srv->fcm_ttl, &body, &iat);
	set_body(st, body);
	if (srv->events_on)
		ts_emit(srv, "REQ token status=%d iat=%ld", st->status, iat);
}

/* POST /wp/<id>: a Web Push push service, and the browser that decrypts.
 * 0 when an answer is due (now or after the delay), -1 when none is
 * (stall, reset, GOAWAY). */
static int answer_webpush(struct stream *st)
{
	struct ts_server *srv = st->s->srv;
	struct ts_req *r = &st->req;
	struct beh b = {.kind = B_ANSWER, .code = 201};
	const char *reason;
	char plain[4096], sub[256] = "-";

	/* The subscription id: the path after /wp/, up to a query. */
	snprintf(r->token, sizeof(r->token), "%.*s", (int)strcspn(r->path + 4, "?"), r->path + 4);
	st->status = ts_wp_check(r, srv->origin, plain, sizeof(plain), &reason, sub, sizeof(sub));
	if (st->status == 201)
		ts_beh_next(r->token, &b);
	if (srv->events_on) {
		for (char *p = plain; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = '?';
		ts_emit(srv,
			"REQ webpush %s status=%d beh=%d/%d reason=%s ttl=%s urgency=%s topic=%s "
			"sub=%s conn=%lu open=%u bytes=%zu body=%s",
			r->token, b.kind == B_ANSWER && st->status == 201 ? b.code : st->status,
			b.kind, b.code, reason ? reason : (b.reason[0] ? b.reason : "-"),
			r->h_ttl[0] ? r->h_ttl : "-", r->h_urgency[0] ? r->h_urgency : "-",
			r->h_wp_topic[0] ? r->h_wp_topic : "-", sub, st->s->id, st->s->n_open,
			r->body_len, plain[0] ? plain : "-");
	}
	if (st->status == 201) {
		if (b.kind == B_STALL)
			return -1;
		if (b.kind == B_RESET) {
			nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
						  NGHTTP2_INTERNAL_ERROR);
			return -1;
		}
		if (b.kind == B_GOAWAY) {
			nghttp2_session_terminate_session2(st->s->ng, st->id > 2 ? st->id - 2 : 0,
							   NGHTTP2_NO_ERROR);
			return -1;
		}
		st->status = b.code;
		reason = b.reason[0] ? b.reason : NULL;
	}
	if (st->status == 429 && b.retry_after) {
		snprintf(st->hdr_extra[0][0], 64, "retry-after");
		snprintf(st->hdr_extra[0][1], 64, "%d", b.retry_after);
		st->n_extra = 1;
	}
	if (st->status >= 300)
		set_body(st, json_pack("{s:i, s:s}", "code", st->status, "reason",
				       reason ? reason : "error"));
	return 0;
}

void ts_answer(struct stream *st)
{
	struct ts_server *srv = st->s->srv;
	struct ts_req *r = &st->req;
	int apns = !strncmp(r->path, "/3/device/", 10);
	int fcm = !strncmp(r->path, "/v1/projects/", 13);
	const char *reason = NULL;
	struct beh b = {.kind = B_ANSWER, .code = 200};

	srv->n_requests++;
	if (!strcmp(r->path, "/token")) {
		answer_token_endpoint(st);
		goto answer;
	}
	if (!strncmp(r->path, "/wp/", 4)) {
		if (answer_webpush(st) != 0)
			return;
		goto answer;
	}
	if (apns) {
		st->status = ts_check_apns(&srv->cfg, r, &reason);
		/* A PushKit token takes only VoIP pushes, a regular one none. */
		int k = st->status == 200 ? ts_beh_kind(r->token) : 0;

		if ((k == 1 && strcmp(r->h_push_type, "voip") != 0) ||
		    (k == 2 && strcmp(r->h_push_type, "voip") == 0)) {
			st->status = 400;
			reason = "DeviceTokenNotForTopic";
		}
	} else if (fcm)
		st->status = ts_check_fcm(&srv->cfg, r, &reason);
	else {
		st->status = 404;
		reason = "BadPath";
	}
	if (st->status == 200)
		ts_beh_next(r->token, &b);
	if (srv->events_on) {
		/* The body goes last on the line, control characters masked. */
		char body[2048];
		size_t bl = r->body_len < sizeof(body) - 1 ? r->body_len : sizeof(body) - 1;

		for (size_t i = 0; i < bl; i++)
			body[i] = (unsigned char)r->body[i] < 0x20 ? '?' : r->body[i];
		body[bl] = '\0';
		ts_emit(srv,
			"REQ %s %s status=%d beh=%d/%d reason=%s type=%s topic=%s prio=%s exp=%s "
			"collapse=%s id=%s iat=%ld cert=%d conn=%lu open=%u bytes=%zu body=%s",
			apns ? "apns" : "fcm", r->token[0] ? r->token : "-",
			b.kind == B_ANSWER && st->status == 200 ? b.code : st->status, b.kind,
			b.code, reason ? reason : (b.reason[0] ? b.reason : "-"),
			r->h_push_type[0] ? r->h_push_type : "-", r->h_topic[0] ? r->h_topic : "-",
			r->h_prio[0] ? r->h_prio : "-", r->h_exp[0] ? r->h_exp : "-",
			r->h_collapse[0] ? r->h_collapse : "-",
			r->h_apns_id[0] ? r->h_apns_id : "-", r->iat, r->client_cert, st->s->id,
			st->s->n_open, r->body_len, body);
	}
	if (st->status == 200) {
		if (b.kind == B_STALL)
			return;
		if (b.kind == B_RESET) {
			nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
						  NGHTTP2_INTERNAL_ERROR);
			return;
		}
		if (b.kind == B_GOAWAY) {
			/* This stream counts as not processed: the client must retry it. */
			nghttp2_session_terminate_session2(st->s->ng, st->id > 2 ? st->id - 2 : 0,
							   NGHTTP2_NO_ERROR);
			return;
		}
		st->status = b.code;
		reason = b.reason[0] ? b.reason : NULL;
	}
	if (apns) {
		snprintf(st->hdr_extra[0][0], 64, "apns-id");
		snprintf(st->hdr_extra[0][1], 64, "%s",
			 r->h_apns_id[0] ? r->h_apns_id : "00000000-0000-0000-0000-000000000000");
		st->n_extra = 1;
	}
	if (st->status == 429 && b.retry_after) {
		snprintf(st->hdr_extra[st->n_extra][0], 64, "retry-after");
		snprintf(st->hdr_extra[st->n_extra][1], 64, "%d", b.retry_after);
		st->n_extra++;
	}
	if (st->status == 200 && fcm) {
		char name[128];

		snprintf(name, sizeof(name), "projects/%s/messages/%lu", srv->cfg.fcm_project,
			 srv->n_requests);
		set_body(st, json_pack("{s:s}", "name", name));
	} else if (st->status != 200 && apns) {
		if (!reason)
			reason = apns_reason(st->status);
		if (st->status == 410)
			set_body(st, json_pack("{s:s, s:I}", "reason", reason, "timestamp",
					       (json_int_t)time(NULL) * 1000));
		else
			set_body(st, json_pack("{s:s}", "reason", reason));
	} else if (st->status != 200 && fcm) {
		const char *code = reason;

		if (!code)
			code = st->status == 404 ? "UNREGISTERED" : fcm_status(st->status);
		set_body(st, json_pack("{s:{s:i, s:s, s:s, s:[{s:s, s:s}]}}", "error", "code",
				       st->status, "message", code, "status",
				       fcm_status(st->status), "details", "@type",
				       "type.googleapis.com/google.firebase.fcm.v1.FcmError",
				       "errorCode", code));
	} else if (st->status != 200)
		set_body(st, json_pack("{s:s}", "reason", reason ? reason : "BadPath"));
answer:
	if (srv->delay_ms) {
		struct timeval tv = {srv->delay_ms / 1000, (srv->delay_ms % 1000) * 1000};

		st->timer = evtimer_new(srv->base, delay_cb, st);
		evtimer_add(st->timer, &tv);
		return;
	}
	respond_now(st);
}
