/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP over WebSocket (RFC 7118) on a connection: the HTTP/1.1 upgrade
 * (RFC 6455 §4.2), read by hand since it is one request per connection,
 * then wslay's event API for frames (masking, control frames, close). Each
 * text or binary message is one SIP message (RFC 7118 §5.1); what the
 * control plane sends goes back as one text frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "streams/st_internal.h"

/* The upgrade request: a browser's is under 1 KiB; its cookies may add some. */
#define WS_REQ_MAX 8192
/* wslay's context, measured (tests/streams/test_st_mem.c's way): its
 * receive and send buffers. */
#define WS_CTX_MEM 9440u

struct st_ws {
	wslay_event_context_ptr ctx; /* NULL until the upgrade is done */
	struct st_conn *c;
	uint8_t why; /* set by a callback: the close reason, wslay has to return first */
};

struct slice {
	const char *p;
	size_t n;
};

static int st_ws_new(struct st_conn *c)
{
	c->ws = calloc(1, sizeof(*c->ws));
	if (!c->ws)
		return -ENOMEM;
	c->ws->c = c;
	return 0;
}

static void st_ws_free(struct st_conn *c)
{
	if (!c->ws)
		return;
	if (c->ws->ctx)
		wslay_event_context_free(c->ws->ctx);
	free(c->ws);
	c->ws = NULL;
}

static size_t st_ws_mem(const struct st_conn *c)
{
	if (!c->ws || !c->ws->ctx)
		return sizeof(*c->ws);
	return sizeof(*c->ws) + WS_CTX_MEM + wslay_event_get_queued_msg_length(c->ws->ctx);
}

/* The value of header @p name in request @p req (first occurrence, trimmed). */
static int header(struct slice req, const char *name, struct slice *v)
{
	size_t nl = strlen(name);
	const char *p = req.p, *end = req.p + req.n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q;

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0) {
			q = p + nl;
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (q < eol && *q == ':') {
				q++;
				while (q < eol && (*q == ' ' || *q == '\t'))
					q++;
				v->p = q;
				v->n = (size_t)(eol - q);
				while (v->n && (v->p[v->n - 1] == '\r' || v->p[v->n - 1] == ' ' ||
						v->p[v->n - 1] == '\t'))
					v->n--;
				return 1;
			}
		}
		p = eol + 1;
	}
	return 0;
}

/* Does the comma-separated list @p v hold @p tok (case-insensitively if @p ci)? */
static int has_token(struct slice v, const char *tok, int ci)
{
	size_t tl = strlen(tok);
	const char *p = v.p, *end = v.p + v.n;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p)), *e;

		e = comma ? comma : end;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == tl &&
		    (ci ? strncasecmp(p, tok, tl) : strncmp(p, tok, tl)) == 0)
			return 1;
		p = comma ? comma + 1 : end;
	}
	return 0;
}

static int header_has(struct slice req, const char *name, const char *tok, int ci)
{
	struct slice v;

	return header(req, name, &v) && has_token(v, tok, ci);
}

/* RFC 6455 §4.2.2: base64(SHA-1(key + GUID)). */
static int accept_key(struct slice key, char out[64])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok;

	ok = m && EVP_DigestInit_ex(m, EVP_sha1(), NULL) == 1 &&
	     EVP_DigestUpdate(m, key.p, key.n) == 1 &&
	     EVP_DigestUpdate(m, guid, sizeof(guid) - 1) == 1 &&
	     EVP_DigestFinal_ex(m, md, &mdlen) == 1;
	EVP_MD_CTX_free(m);
	if (!ok)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	return 0;
}

/* The request line and headers an RFC 7118 upgrade needs. */
static int upgrade_ok(const struct st_conn *c, struct slice req, struct slice *key)
{
	const char *path = c->lis->cfg.ws_path, *sp;
	size_t pl = strlen(path), rest;

	if (req.n < 4 || memcmp(req.p, "GET ", 4) != 0)
		return 0;
	/* The path, up to a query string, must be ws_path exactly. */
	rest = req.n - 4;
	if (rest < pl || memcmp(req.p + 4, path, pl) != 0)
		return 0;
	sp = req.p + 4 + pl;
	if (*sp == '?')
		sp = memchr(sp, ' ', req.n - (size_t)(sp - req.p));
	if (!sp || strncmp(sp, " HTTP/1.1\r\n", 11) != 0)
		return 0;
	if (!header_has(req, "Upgrade", "websocket", 1) ||
	    !header_has(req, "Connection", "upgrade", 1) ||
	    !header_has(req, "Sec-WebSocket-Version", "13", 0) ||
	    /* RFC 7118 §4.1: the client offers "sip", subprotocol tokens are case-sensitive. */
	    !header_has(req, "Sec-WebSocket-Protocol", "sip", 0))
		return 0;
	/* 16 random bytes in base64 (RFC 6455 §4.1). */
	return header(req, "Sec-WebSocket-Key", key) && key->n == 24;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	struct st_ws *ws = user;
	int n;

	(void)flags;
	if (ws->why) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	n = evbuffer_remove(bufferevent_get_input(ws->c->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

/* The bufferevent takes everything; max_out is checked after. */
static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
		       void *user)
{
	struct st_ws *ws = user;

	(void)flags;
	if (bufferevent_write(ws->c->bev, data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	ST_INC(ws->c->st, ws->c->tp, bytes_out, len);
	return (ssize_t)len;
}

/*
 * The close code for a message refused (RFC 6455 §7.4.1): over
 * max_message 1009; not a SIP message by RFC 7118 §5 (no header end, a
 * Content-Length that does not match) 1002, a violation of the negotiated
 * subprotocol; over msg_rate 1008 (policy); the ring to the control plane
 * full 1011 (the server's trouble, not the app's).
 */
static uint16_t close_code(int why)
{
	switch (why) {
	case ST_CLOSE_too_large:
		return 1009;
	case ST_CLOSE_msg_rate:
		return 1008;
	case ST_CLOSE_ring_full:
		return 1011;
	default:
		return 1002;
	}
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		   void *user)
{
	struct st_ws *ws = user;
	struct st_conn *c = ws->c;
	int why;

	(void)ctx;
	if (ws->why)
		return;
	if (arg->opcode == WSLAY_PING) {
		/* wslay queues the pong itself. */
		ST_INC(c->st, c->tp, ws_pings, 1);
		return;
	}
	if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
		return;
	why = st_frame_ws(arg->msg, arg->msg_length, c->st->cfg.max_message);
	if (!why && (why = st_conn_up_try(c, arg->msg, arg->msg_length)) != 0)
		why = why == -EBUSY ? ST_CLOSE_msg_rate : ST_CLOSE_ring_full;
	if (why) {
		/* Nothing after it is read, even what this read brought (the
		 * close must not depend on where reads end); the close frame
		 * says why (RFC 6455 §7.4.1), settle() sends it. */
		ws->why = (uint8_t)why;
		wslay_event_shutdown_read(ctx);
		wslay_event_queue_close(ctx, close_code(why), NULL, 0);
	}
}

static int ctx_new(struct st_conn *c)
{
	static const struct wslay_event_callbacks cbs = {
		.recv_callback = recv_cb,
		.send_callback = send_cb,
		.on_msg_recv_callback = msg_cb,
	};

	if (wslay_event_context_server_init(&c->ws->ctx, &cbs, c->ws) != 0) {
		c->ws->ctx = NULL;
		return -ENOMEM;
	}
	/* Over it: wslay stops reading and queues close 1009; counted bad_frame. */
	wslay_event_config_set_max_recv_msg_length(c->ws->ctx, c->st->cfg.max_message);
	return 0;
}

static int refuse(struct st_conn *c)
{
	static const char r[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
				"Content-Length: 0\r\n\r\n";

	if (bufferevent_write(c->bev, r, sizeof(r) - 1) != 0) {
		st_conn_close(c, ST_CLOSE_ws_failed);
		return -1;
	}
	st_conn_drain(c, ST_CLOSE_ws_failed);
	return -1;
}

/* The upgrade: 0 (done, or the request is not whole yet), -1 closed or closing. */
static int upgrade(struct st_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in), look = len < WS_REQ_MAX ? len : WS_REQ_MAX;
	struct evbuffer_ptr end;
	struct slice req, key;
	char acc[64], resp[256];
	int n;

	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0 || (size_t)end.pos + 4 > look) {
		if (len >= WS_REQ_MAX)
			return refuse(c);
		return 0;
	}
	req.n = (size_t)end.pos + 4;
	req.p = (const char *)evbuffer_pullup(in, (ev_ssize_t)req.n);
	if (!req.p || !upgrade_ok(c, req, &key) || accept_key(key, acc) != 0)
		return refuse(c);
	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		     "Sec-WebSocket-Protocol: sip\r\n\r\n",
		     acc);
	evbuffer_drain(in, req.n);
	if (ctx_new(c) != 0 || bufferevent_write(c->bev, resp, (size_t)n) != 0) {
		st_conn_close(c, ST_CLOSE_ws_failed);
		return -1;
	}
	st_conn_handshake_done(c);
	return 0;
}

/* After wslay has read and written: how the connection goes on. */
static int settle(struct st_conn *c, int rc)
{
	struct st_ws *ws = c->ws;

	if (rc == WSLAY_ERR_CALLBACK_FAILURE && !ws->why) {
		/* wslay_event_recv() could not read a frame on (a control frame
		 * fragmented or over 125 bytes, a length not in its shortest
		 * form): it queued a close without a code and gave up. The
		 * frames sent so far are whole (send_cb() takes all), so the
		 * close goes as ours, with the code RFC 6455 §7.4.1 asks. */
		static const uint8_t proto_err[4] = {0x88, 2, 1002 >> 8, 1002 & 0xff};

		if (st_conn_write(c, proto_err, sizeof(proto_err)) != 0)
			return -1;
		st_conn_drain(c, ST_CLOSE_bad_frame);
		return -1;
	}
	if (rc == 0)
		rc = wslay_event_send(ws->ctx);
	if (rc != 0) {
		st_conn_close(c, ws->why ? (enum st_close_why)ws->why : ST_CLOSE_bad_frame);
		return -1;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > c->st->cfg.max_out) {
		st_conn_close(c, ST_CLOSE_slow_reader);
		return -1;
	}
	if (ws->why) {
		/* A message refused: its close frame is queued (msg_cb()). */
		st_conn_drain(c, (enum st_close_why)ws->why);
		return -1;
	}
	/* wslay answered a close frame, or refused a frame (unmasked, too
	 * large, bad opcode) and queued its own close: send it, then close. */
	if (wslay_event_get_close_received(ws->ctx)) {
		st_conn_drain(c, ST_CLOSE_peer);
		return -1;
	}
	if (!wslay_event_get_read_enabled(ws->ctx)) {
		st_conn_drain(c, ST_CLOSE_bad_frame);
		return -1;
	}
	return 0;
}

static int st_ws_read(struct st_conn *c)
{
	struct st_ws *ws = c->ws;

	/* WSS: nothing comes before TLS is up; the upgrade comes first. */
	if (!ws->ctx) {
		if (upgrade(c) != 0)
			return -1;
		if (!ws->ctx)
			return 0;
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
			st_conn_arm(c);
			return 0;
		}
	}
	if (settle(c, wslay_event_recv(ws->ctx)) != 0)
		return -1;
	st_conn_arm(c);
	return 0;
}

static int st_ws_send(struct st_conn *c, const uint8_t *data, size_t len)
{
	struct wslay_event_msg m = {WSLAY_TEXT_FRAME, data, len};

	if (wslay_event_queue_msg(c->ws->ctx, &m) != 0) {
		st_conn_close(c, ST_CLOSE_slow_reader);
		return -1;
	}
	return settle(c, 0);
}

const struct st_layer st_ws_layer = {
	.attach = st_ws_new,
	.read = st_ws_read,
	.send = st_ws_send,
	.detach = st_ws_free,
	.mem = st_ws_mem,
};
