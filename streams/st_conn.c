/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A connection's life on the streams thread (docs/streams.md, "The streams
 * thread"): accept under the limits in total and per source, the TLS
 * handshake, framing what comes in into whole messages for the control
 * plane, what it sends back bounded by max_out, and every end counted by
 * reason with one ST_UP_CLOSED, the connection's last event.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include <rte_common.h>

#include "common/sw_clock.h"
#include "streams/st_internal.h"

/* st_close() with output still queued: written for at most this long. */
#define DRAIN_MS 5000

static struct st_up *up_new(const struct st_conn *c, uint8_t kind, size_t len)
{
	struct st_up *u = malloc(sizeof(*u) + len);

	if (!u)
		return NULL;
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->tp = c->tp;
	u->conn = c->id;
	u->peer = c->peer;
	u->local = c->local;
	u->peer_port = c->peer_port;
	u->local_port = c->local_port;
	u->len = (uint32_t)len;
	return u;
}

void st_conn_close(struct st_conn *c, enum st_close_why why)
{
	struct st *st = c->st;
	struct st_up *u;

	if (c->state == ST_CS_HANDSHAKE)
		ST_DEC(st, c->tp, handshaking);
	ST_DEC(st, c->tp, open);
	ST_INC(st, c->tp, closed[why], 1);
	u = up_new(c, ST_UP_CLOSED, 0);
	if (u) {
		u->why = (uint8_t)why;
		st_up_push(st, u);
	}
	st_tab_del(st, c);
	TAILQ_REMOVE(&st->conns, c, link);
	st_src_put(st, c->src);
	if (c->layer)
		c->layer->detach(c);
	event_free(c->tmo);
	/* BEV_OPT_CLOSE_ON_FREE: the socket and, for TLS, the SSL go with it. */
	bufferevent_free(c->bev);
	free(c);
}

void st_conn_close_all(struct st *st)
{
	struct st_conn *c;

	while ((c = TAILQ_FIRST(&st->conns)) != NULL)
		st_conn_close(c, ST_CLOSE_shutdown);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void st_conn_arm(struct st_conn *c)
{
	const struct st_config *cfg = &c->st->cfg;
	uint64_t now = sw_mono_ms(), at = c->in_ms + (uint64_t)cfg->idle_s * 1000;
	struct timeval tv;

	if (c->state == ST_CS_HANDSHAKE)
		at = min_u64(at, c->open_ms + (uint64_t)cfg->handshake_s * 1000);
	if (c->state == ST_CS_DRAIN)
		at = min_u64(at, c->drain_ms);
	if (c->msg_ms)
		at = min_u64(at, c->msg_ms + (uint64_t)cfg->header_s * 1000);
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / 1000);
	tv.tv_usec = (suseconds_t)(at % 1000) * 1000;
	evtimer_add(c->tmo, &tv);
}

static void tmo_cb(evutil_socket_t fd, short what, void *arg)
{
	struct st_conn *c = arg;
	const struct st_config *cfg = &c->st->cfg;
	uint64_t now = sw_mono_ms();

	(void)fd;
	(void)what;
	if (c->state == ST_CS_HANDSHAKE && now >= c->open_ms + (uint64_t)cfg->handshake_s * 1000)
		st_conn_close(c, ST_CLOSE_handshake_timeout);
	else if (c->state == ST_CS_DRAIN && now >= c->drain_ms)
		st_conn_close(c, (enum st_close_why)c->drain_why);
	else if (c->msg_ms && now >= c->msg_ms + (uint64_t)cfg->header_s * 1000)
		st_conn_close(c, ST_CLOSE_header_timeout);
	else if (now >= c->in_ms + (uint64_t)cfg->idle_s * 1000)
		st_conn_close(c, ST_CLOSE_idle);
	else
		st_conn_arm(c);
}

void st_conn_handshake_done(struct st_conn *c)
{
	if (c->state != ST_CS_HANDSHAKE)
		return;
	c->state = ST_CS_OPEN;
	ST_DEC(c->st, c->tp, handshaking);
	ST_INC(c->st, c->tp, handshakes, 1);
}

/* One message's token from the connection's bucket (streams.msg_rate /
 * msg_burst): what the workers' budgets do for datagrams, for a stream. */
static bool take_token(struct st_conn *c)
{
	const struct st_config *cfg = &c->st->cfg;
	uint64_t now = sw_mono_ms();

	if (c->tok_ms == 0) {
		c->tok_ms = now;
		c->tokens = cfg->msg_burst;
	} else if (now > c->tok_ms && cfg->msg_rate > 0) {
		uint64_t add = (now - c->tok_ms) * cfg->msg_rate / 1000;

		if (add > 0) {
			c->tokens = (uint32_t)RTE_MIN((uint64_t)cfg->msg_burst, c->tokens + add);
			c->tok_ms += add * 1000 / cfg->msg_rate;
		}
	}
	if (c->tokens == 0)
		return false;
	c->tokens--;
	return true;
}

/* Hand one message up without closing on failure. @return 0, -ENOBUFS
 * (ring full, or out of memory), -EBUSY (over its message rate). */
int st_conn_up_try(struct st_conn *c, const uint8_t *data, size_t len)
{
	struct st_up *u;

	if (!take_token(c))
		return -EBUSY;
	u = up_new(c, ST_UP_SIP, len);
	if (!u)
		return -ENOBUFS;
	memcpy(u->data, data, len);
	if (st_up_push(c->st, u) != 0)
		return -ENOBUFS;
	ST_INC(c->st, c->tp, msgs_in, 1);
	return 0;
}

/* @return 0, or -1 when the connection is closed (and freed). */
int st_conn_up_msg(struct st_conn *c, const uint8_t *data, size_t len)
{
	/* A message the control plane never sees would leave the app waiting
	 * for an answer on a live connection: better to close it. */
	int rc = st_conn_up_try(c, data, len);

	if (rc != 0) {
		st_conn_close(c, rc == -EBUSY ? ST_CLOSE_msg_rate : ST_CLOSE_ring_full);
		return -1;
	}
	return 0;
}

/* Queue @p len bytes toward the peer. @return 0, or -1 when the
 * connection was closed (slow_reader) and freed. */
int st_conn_write(struct st_conn *c, const void *data, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (bufferevent_write(c->bev, data, len) != 0 ||
	    evbuffer_get_length(out) > c->st->cfg.max_out) {
		st_conn_close(c, ST_CLOSE_slow_reader);
		return -1;
	}
	ST_INC(c->st, c->tp, bytes_out, len);
	return 0;
}

/* Frame what has come in: hand each whole message up, answer pings.
 * @return 0, or -1 when the connection is closed (and freed). */
static int frame_input(struct st_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint32_t max = c->st->cfg.max_message;
	size_t len;

	while ((len = evbuffer_get_length(in)) != 0) {
		size_t look = len < max ? len : max;
		const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)look);
		struct st_frame f;

		if (!p) {
			st_conn_close(c, ST_CLOSE_too_large);
			return -1;
		}
		st_frame(p, look, max, &f);
		switch (f.kind) {
		case ST_FRAME_MORE:
			if (f.started && !c->msg_ms)
				c->msg_ms = sw_mono_ms();
			st_conn_arm(c);
			return 0;
		case ST_FRAME_MSG:
			c->msg_ms = 0;
			if (st_conn_up_msg(c, p, f.len) != 0)
				return -1;
			break;
		case ST_FRAME_PING:
			/* RFC 5626 §4.4.1: the pong is one CRLF. */
			ST_INC(c->st, c->tp, keepalives, 1);
			if (st_conn_write(c, "\r\n", 2) != 0)
				return -1;
			break;
		case ST_FRAME_SKIP:
			break;
		default:
			st_conn_close(c, (enum st_close_why)f.why);
			return -1;
		}
		evbuffer_drain(in, f.len);
	}
	st_conn_arm(c);
	return 0;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct st_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->in_ms = sw_mono_ms();
	ST_INC(c->st, c->tp, bytes_in, evbuffer_get_length(in) - c->in_kept);
	if ((c->layer ? c->layer->read(c) : frame_input(c)) != 0)
		return;
	/* Bytes left for the next read (a partial message): not new then. */
	c->in_kept = evbuffer_get_length(in);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct st_conn *c = arg;

	if (c->state == ST_CS_DRAIN && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		st_conn_close(c, (enum st_close_why)c->drain_why);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct st_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* TLS is up. WSS: the WebSocket upgrade is still to come. */
		c->tls_up = 1;
		if (c->tp == SW_TP_TLS)
			st_conn_handshake_done(c);
		st_conn_arm(c);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	/* Before TLS is up every error is the handshake's: garbage, no shared
	 * version or cipher, a client certificate missing or refused. */
	if ((c->tp == SW_TP_TLS || c->tp == SW_TP_WSS) && !c->tls_up && (what & BEV_EVENT_ERROR))
		st_conn_close(c, ST_CLOSE_tls_failed);
	else
		st_conn_close(c, ST_CLOSE_peer);
}

static void peer_of(const struct sockaddr *sa, struct sw_ip *ip, uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		*ip = sw_ip_from_v4(s4->sin_addr.s_addr);
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		memcpy(ip->a, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
	}
}

static struct bufferevent *bev_new(struct st_conn *c, evutil_socket_t fd)
{
	struct event_base *base = c->st->base;
	SSL *ssl;

	if (c->tp != SW_TP_TLS && c->tp != SW_TP_WSS)
		return bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	ssl = SSL_new(c->lis->ctx);
	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

void st_conn_accept(struct st_bound *b, evutil_socket_t fd, const struct sockaddr *sa)
{
	struct st *st = b->lis->st;
	uint8_t tp = b->lis->cfg.tp;
	struct st_conn *c;
	struct st_src *src;
	struct sw_ip peer;
	uint16_t port;

	peer_of(sa, &peer, &port);
	/* Refused at once, before any buffer or TLS state is spent on it. */
	if (st->n_conns >= st->cfg.max_conns) {
		ST_INC(st, tp, refused_total, 1);
		close(fd);
		return;
	}
	src = st_src_get(st, &peer, true);
	if (!src) {
		ST_INC(st, tp, refused_total, 1);
		close(fd);
		return;
	}
	if (st->cfg.max_conns_per_source && src->n >= st->cfg.max_conns_per_source) {
		ST_INC(st, tp, refused_source, 1);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->st = st;
	c->lis = b->lis;
	c->tp = tp;
	c->peer = peer;
	c->peer_port = port;
	c->local = b->addr;
	c->local_port = b->lis->cfg.port;
	c->tmo = evtimer_new(st->base, tmo_cb, c);
	if (!c->tmo)
		goto fail_c;
	c->bev = bev_new(c, fd);
	if (!c->bev)
		goto fail_tmo;
	c->layer = b->lis->layer;
	if (c->layer && c->layer->attach(c) != 0)
		goto fail_bev;
	c->id = st->next_id++;
	c->src = src;
	src->n++;
	c->state = tp == SW_TP_TCP ? ST_CS_OPEN : ST_CS_HANDSHAKE;
	c->open_ms = c->in_ms = sw_mono_ms();
	st_tab_add(st, c);
	TAILQ_INSERT_TAIL(&st->conns, c, link);
	ST_INC(st, tp, accepted, 1);
	ST_INC(st, tp, open, 1);
	if (c->state == ST_CS_HANDSHAKE)
		ST_INC(st, tp, handshaking, 1);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	st_conn_arm(c);
	return;
fail_bev:
	/* BEV_OPT_CLOSE_ON_FREE: the socket goes with it. */
	bufferevent_free(c->bev);
	fd = -1;
fail_tmo:
	event_free(c->tmo);
fail_c:
	free(c);
fail:
	if (fd >= 0)
		close(fd);
	ST_INC(st, tp, refused_total, 1);
	/* A source entry made for this connection alone goes again. */
	if (!src->n) {
		src->n = 1;
		st_src_put(st, src);
	}
}

void st_conn_send(struct st *st, uint64_t id, const uint8_t *data, uint32_t len)
{
	struct st_conn *c = st_tab_get(st, id);

	if (!c) {
		ST_SET(st, send_no_conn, st->stats.send_no_conn + 1);
		return;
	}
	/* Closing, or not yet open: the control plane answers only what came
	 * up, so this is a connection on its way out. */
	if (c->state != ST_CS_OPEN) {
		ST_INC(st, c->tp, send_no_conn, 1);
		return;
	}
	if (c->layer) {
		if (c->layer->send(c, data, len) != 0)
			return;
	} else if (st_conn_write(c, data, len) != 0) {
		return;
	}
	ST_INC(st, c->tp, msgs_out, 1);
}

/*
 * Close @p c for @p why once what is queued toward it is written (a final
 * answer, a WebSocket close frame, an HTTP refusal), within DRAIN_MS;
 * nothing more is read. @return 0, or -1 when closed (and freed) at once.
 */
int st_conn_drain(struct st_conn *c, enum st_close_why why)
{
	if (c->state == ST_CS_DRAIN)
		return 0;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		st_conn_close(c, why);
		return -1;
	}
	if (c->state == ST_CS_HANDSHAKE)
		ST_DEC(c->st, c->tp, handshaking);
	c->state = ST_CS_DRAIN;
	c->drain_why = (uint8_t)why;
	c->drain_ms = sw_mono_ms() + DRAIN_MS;
	c->msg_ms = 0;
	bufferevent_disable(c->bev, EV_READ);
	st_conn_arm(c);
	return 0;
}

void st_conn_local_close(struct st *st, uint64_t id)
{
	struct st_conn *c = st_tab_get(st, id);

	if (!c || c->state == ST_CS_DRAIN)
		return;
	/* A TLS or WebSocket handshake still going: nothing of ours is queued. */
	if (c->state == ST_CS_HANDSHAKE)
		st_conn_close(c, ST_CLOSE_local);
	else
		st_conn_drain(c, ST_CLOSE_local);
}
