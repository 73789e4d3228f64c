/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pd_testsrv: an APNs / FCM HTTP v1 / Google OAuth2-like HTTP/2 TLS server
 * for tests and benchmarks. Structure follows nghttp2's
 * examples/libevent-server.c (libevent bufferevent_openssl + nghttp2's
 * server session). Control protocol on stdin/stdout: tests/pushd/README.md.
 */
#include "tests/pushd/ts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (64 * 1024)

struct sess;
struct stream {
	int32_t id;
	struct sess *s;
	struct ts_req req;
	struct event *timer;
	int status;
	char hdr_extra[2][2][64]; /* name, value pairs: apns-id, retry-after */
	int n_extra;
	char *resp;
	size_t resp_len, resp_off;
	struct stream *next, *prev;
};

struct sess {
	struct bufferevent *bev;
	nghttp2_session *ng;
	struct event *flush_ev; /* delayed answers: one write per loop iteration */
	struct stream streams;	/* list head */
	struct sess *next, *prev;
};

static struct ts_cfg cfg;
static struct event_base *base;
static SSL_CTX *ssl_ctx;
static struct sess sessions = {.next = &sessions, .prev = &sessions};
static unsigned delay_ms, max_streams = 1000, fcm_ttl = 3600;
static int events_on = 1;
static unsigned long n_requests, n_conns;

/* Event lines are queued on a non-blocking stdout, so a test that reads
 * them late never stalls the server. */
static struct bufferevent *out_bev;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	struct evbuffer *o = bufferevent_get_output(out_bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(o, fmt, ap);
	va_end(ap);
	evbuffer_add(o, "\n", 1);
}

/* ---- HTTP/2 plumbing ---- */

static void sess_free(struct sess *s)
{
	while (s->streams.next != &s->streams) {
		struct stream *st = s->streams.next;

		st->next->prev = st->prev;
		st->prev->next = st->next;
		if (st->timer)
			event_free(st->timer);
		free(st->req.body);
		free(st->resp);
		free(st);
	}
	s->next->prev = s->prev;
	s->prev->next = s->next;
	if (s->flush_ev)
		event_free(s->flush_ev);
	nghttp2_session_del(s->ng);
	bufferevent_free(s->bev);
	free(s);
	if (events_on)
		emit("CLOSED");
}

static int sess_send(struct sess *s)
{
	if (nghttp2_session_send(s->ng) != 0)
		return -1;
	if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng) &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		return -1;
	return 0;
}

static ssize_t send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct sess *s = ud;

	(void)ng;
	(void)flags;
	bufferevent_write(s->bev, data, len);
	return (ssize_t)len;
}

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

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess *s = arg;

	(void)fd;
	(void)what;
	if (sess_send(s) != 0)
		sess_free(s);
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
	json_t *body = NULL;
	long iat = 0;

	st->status = ts_token_endpoint(&cfg, &st->req, fcm_ttl, &body, &iat);
	set_body(st, body);
	if (events_on)
		emit("REQ token status=%d iat=%ld", st->status, iat);
}

static void process(struct stream *st)
{
	struct ts_req *r = &st->req;
	int apns = !strncmp(r->path, "/3/device/", 10);
	int fcm = !strncmp(r->path, "/v1/projects/", 13);
	const char *reason = NULL;
	struct beh b = {.kind = B_ANSWER, .code = 200};

	n_requests++;
	if (!strcmp(r->path, "/token")) {
		answer_token_endpoint(st);
		goto answer;
	}
	if (apns)
		st->status = ts_check_apns(&cfg, r, &reason);
	else if (fcm)
		st->status = ts_check_fcm(&cfg, r, &reason);
	else {
		st->status = 404;
		reason = "BadPath";
	}
	if (st->status == 200)
		ts_beh_next(r->token, &b);
	if (events_on) {
		/* The body goes last on the line, control characters masked. */
		char body[2048];
		size_t bl = r->body_len < sizeof(body) - 1 ? r->body_len : sizeof(body) - 1;

		for (size_t i = 0; i < bl; i++)
			body[i] = (unsigned char)r->body[i] < 0x20 ? '?' : r->body[i];
		body[bl] = '\0';
		emit("REQ %s %s status=%d beh=%d/%d reason=%s type=%s topic=%s prio=%s exp=%s "
		     "collapse=%s id=%s iat=%ld cert=%d bytes=%zu body=%s",
		     apns ? "apns" : "fcm", r->token[0] ? r->token : "-",
		     b.kind == B_ANSWER && st->status == 200 ? b.code : st->status, b.kind, b.code,
		     reason ? reason : (b.reason[0] ? b.reason : "-"),
		     r->h_push_type[0] ? r->h_push_type : "-", r->h_topic[0] ? r->h_topic : "-",
		     r->h_prio[0] ? r->h_prio : "-", r->h_exp[0] ? r->h_exp : "-",
		     r->h_collapse[0] ? r->h_collapse : "-", r->h_apns_id[0] ? r->h_apns_id : "-",
		     r->iat, r->client_cert, r->body_len, body);
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

		snprintf(name, sizeof(name), "projects/%s/messages/%lu", cfg.fcm_project,
			 n_requests);
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
	if (delay_ms) {
		struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};

		st->timer = evtimer_new(base, delay_cb, st);
		evtimer_add(st->timer, &tv);
		return;
	}
	respond_now(st);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct sess *s = ud;
	struct stream *st;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->id = f->hd.stream_id;
	st->s = s;
	st->req.client_cert =
		SSL_get0_peer_certificate(bufferevent_openssl_get_ssl(s->bev)) != NULL;
	st->next = s->streams.next;
	st->prev = &s->streams;
	s->streams.next->prev = st;
	s->streams.next = st;
	nghttp2_session_set_stream_user_data(ng, st->id, st);
	return 0;
}

static void hcopy(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, v, len);
	dst[len] = 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nl,
		     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	struct stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	static const struct {
		const char *name;
		size_t off, cap;
	} map[] = {
#define H(n, m) {n, offsetof(struct ts_req, m), sizeof(((struct ts_req *)0)->m)}
		H(":method", method),
		H(":path", path),
		H("authorization", h_auth),
		H("apns-push-type", h_push_type),
		H("apns-topic", h_topic),
		H("apns-priority", h_prio),
		H("apns-expiration", h_exp),
		H("apns-id", h_apns_id),
		H("apns-collapse-id", h_collapse),
		H("content-type", h_ctype),
#undef H
	};

	(void)flags;
	(void)ud;
	if (!st)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].name) == nl && !memcmp(map[i].name, name, nl))
			hcopy((char *)&st->req + map[i].off, map[i].cap, v, vl);
	return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct stream *st = nghttp2_session_get_stream_user_data(ng, id);
	struct ts_req *r;

	(void)flags;
	(void)ud;
	if (!st)
		return 0;
	r = &st->req;
	if (r->body_len + len > MAX_BODY)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (r->body_len + len > r->body_cap) {
		size_t cap = (r->body_len + len) * 2;
		char *b = realloc(r->body, cap);

		if (!b)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		r->body = b;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct stream *st;

	(void)ud;
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (st)
		process(st);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t err, void *ud)
{
	struct stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)err;
	(void)ud;
	if (!st)
		return 0;
	st->next->prev = st->prev;
	st->prev->next = st->next;
	if (st->timer)
		event_free(st->timer);
	free(st->req.body);
	free(st->resp);
	free(st);
	return 0;
}

static void readcb(struct bufferevent *bev, void *arg)
{
	struct sess *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v[16];
	int nv;

	/* Chunk by chunk: evbuffer_pullup() would copy everything buffered. */
	while ((nv = evbuffer_peek(in, -1, NULL, v, 16)) > 0) {
		size_t used = 0;

		for (int i = 0; i < nv && i < 16; i++) {
			ssize_t n = nghttp2_session_mem_recv(s->ng, v[i].iov_base, v[i].iov_len);

			if (n < 0) {
				sess_free(s);
				return;
			}
			used += (size_t)n;
		}
		evbuffer_drain(in, used);
		if (nv <= 16)
			break;
	}
	if (sess_send(s) != 0)
		sess_free(s);
}

static void writecb(struct bufferevent *bev, void *arg)
{
	struct sess *s = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng)) {
		sess_free(s);
		return;
	}
	if (sess_send(s) != 0)
		sess_free(s);
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct sess *s = arg;
	nghttp2_settings_entry iv[1] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams}};
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;

	if (!(what & BEV_EVENT_CONNECTED)) {
		sess_free(s);
		return;
	}
	SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(bev), &alpn, &alpnlen);
	if (alpnlen != 2 || memcmp(alpn, "h2", 2) != 0) {
		sess_free(s);
		return;
	}
	nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 1);
	if (sess_send(s) != 0)
		sess_free(s);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct sess *s = calloc(1, sizeof(*s));
	nghttp2_session_callbacks *cb;
	SSL *ssl = SSL_new(ssl_ctx);
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	s->streams.next = s->streams.prev = &s->streams;
	s->flush_ev = event_new(base, -1, 0, flush_cb, s);
	s->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, send_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_server_new(&s->ng, cb, s);
	nghttp2_session_callbacks_del(cb);
	s->next = sessions.next;
	s->prev = &sessions;
	sessions.next->prev = s;
	sessions.next = s;
	bufferevent_setcb(s->bev, readcb, writecb, eventcb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	n_conns++;
	if (events_on)
		emit("CONN %lu", n_conns);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (nghttp2_select_next_protocol((unsigned char **)out, outlen, in, inlen) != 1)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

/* Any client certificate is accepted: the test only checks that one was
 * presented (certificate-based APNs auth). */
static int verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* ---- control protocol (stdin) ---- */

static void control_line(char *line)
{
	char cmd[32] = "", a1[256] = "";
	int off = 0;

	if (sscanf(line, "%31s %255s %n", cmd, a1, &off) < 1) {
		emit("ERR empty");
		return;
	}
	if (!strcmp(cmd, "set") || !strcmp(cmd, "once")) {
		if (!off || ts_beh_set(a1, line + off, cmd[0] == 'o') != 0) {
			emit("ERR bad behaviour or too many tokens");
			return;
		}
	} else if (!strcmp(cmd, "clear")) {
		ts_beh_clear();
	} else if (!strcmp(cmd, "delay")) {
		delay_ms = (unsigned)atoi(a1);
	} else if (!strcmp(cmd, "fcm-ttl")) {
		fcm_ttl = (unsigned)atoi(a1);
	} else if (!strcmp(cmd, "revoke")) {
		ts_tokens_revoke();
	} else if (!strcmp(cmd, "events")) {
		events_on = !strcmp(a1, "on");
	} else if (!strcmp(cmd, "goaway")) {
		for (struct sess *s = sessions.next, *n; s != &sessions; s = n) {
			n = s->next;
			nghttp2_session_terminate_session2(
				s->ng, nghttp2_session_get_last_proc_stream_id(s->ng),
				NGHTTP2_NO_ERROR);
			if (sess_send(s) != 0)
				sess_free(s);
		}
	} else if (!strcmp(cmd, "freeze")) {
		/* Stop (or resume) reading on the open connections: PINGs go unanswered. */
		for (struct sess *s = sessions.next; s != &sessions; s = s->next)
			if (!strcmp(a1, "on"))
				bufferevent_disable(s->bev, EV_READ);
			else
				bufferevent_enable(s->bev, EV_READ);
	} else if (!strcmp(cmd, "stats")) {
		emit("STATS requests=%lu conns=%lu", n_requests, n_conns);
		return;
	} else if (!strcmp(cmd, "quit")) {
		event_base_loopbreak(base);
	} else {
		emit("ERR unknown command %s", cmd);
		return;
	}
	emit("OK %s", cmd);
}

static void control_cb(struct bufferevent *bev, void *arg)
{
	char *line;

	(void)arg;
	while ((line = evbuffer_readln(bufferevent_get_input(bev), NULL, EVBUFFER_EOL_LF)) !=
	       NULL) {
		control_line(line);
		free(line);
	}
}

static void control_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	(void)arg;
	event_base_loopbreak(base); /* stdin closed: the test is gone */
}

static void usage(void)
{
	fprintf(stderr, "usage: pd_testsrv --cert PEM --key PEM [--port N] [--delay-ms N]\n"
			"  [--max-streams N] [--apns-key PUB --apns-kid KID --apns-team TEAM\n"
			"  --apns-bundle ID] [--fcm-key PUB --fcm-email EMAIL --fcm-project P]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cert", 1, NULL, 'c'},
		{"key", 1, NULL, 'k'},
		{"port", 1, NULL, 'p'},
		{"delay-ms", 1, NULL, 'd'},
		{"max-streams", 1, NULL, 'm'},
		{"apns-key", 1, NULL, 'A'},
		{"apns-kid", 1, NULL, 'K'},
		{"apns-team", 1, NULL, 'T'},
		{"apns-bundle", 1, NULL, 'B'},
		{"fcm-key", 1, NULL, 'F'},
		{"fcm-email", 1, NULL, 'E'},
		{"fcm-project", 1, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	const char *cert = NULL, *key = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct evconnlistener *lis;
	struct bufferevent *ctl;
	socklen_t sl = sizeof(sin);
	int c;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg.apns_kid = cfg.apns_team = cfg.apns_bundle = "";
	cfg.fcm_email = cfg.fcm_project = "";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'p':
			sin.sin_port = htons((uint16_t)atoi(optarg));
			break;
		case 'd':
			delay_ms = (unsigned)atoi(optarg);
			break;
		case 'm':
			max_streams = (unsigned)atoi(optarg);
			break;
		case 'A':
			cfg.apns_key = ts_load_pubkey(optarg);
			if (!cfg.apns_key)
				usage();
			break;
		case 'K':
			cfg.apns_kid = optarg;
			break;
		case 'T':
			cfg.apns_team = optarg;
			break;
		case 'B':
			cfg.apns_bundle = optarg;
			break;
		case 'F':
			cfg.fcm_key = ts_load_pubkey(optarg);
			if (!cfg.fcm_key)
				usage();
			break;
		case 'E':
			cfg.fcm_email = optarg;
			break;
		case 'P':
			cfg.fcm_project = optarg;
			break;
		default:
			usage();
		}
	}
	if (!cert || !key)
		usage();
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	ssl_ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "pd_testsrv: cannot load %s / %s\n", cert, key);
		return 1;
	}
	SSL_CTX_set_alpn_select_cb(ssl_ctx, alpn_select, NULL);
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, verify_any);
	base = event_base_new();
	lis = evconnlistener_new_bind(base, accept_cb, NULL,
				      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
				      (struct sockaddr *)&sin, sizeof(sin));
	if (!lis) {
		fprintf(stderr, "pd_testsrv: bind: %s\n", strerror(errno));
		return 1;
	}
	getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&sin, &sl);
	evutil_make_socket_nonblocking(1);
	out_bev = bufferevent_socket_new(base, 1, 0);
	bufferevent_enable(out_bev, EV_WRITE);
	emit("PORT %u", ntohs(sin.sin_port));
	ctl = bufferevent_socket_new(base, 0, 0);
	bufferevent_setcb(ctl, control_cb, NULL, control_event, NULL);
	bufferevent_enable(ctl, EV_READ);
	event_base_dispatch(base);
	while (sessions.next != &sessions)
		sess_free(sessions.next);
	bufferevent_free(ctl);
	evconnlistener_free(lis);
	while (evbuffer_get_length(bufferevent_get_output(out_bev)) &&
	       evbuffer_write(bufferevent_get_output(out_bev), 1) >= 0)
		;
	bufferevent_free(out_bev);
	/* bufferevent_free() finalizes in the loop: let it run before freeing the base. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	SSL_CTX_free(ssl_ctx);
	EVP_PKEY_free(cfg.apns_key);
	EVP_PKEY_free(cfg.fcm_key);
	ts_jwt_cache_free();
	return 0;
}
