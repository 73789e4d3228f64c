/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/2 client connections: libevent's bufferevent_openssl carries TLS,
 * nghttp2's client session the framing, as in nghttp2's
 * examples/libevent-client.c. Names are resolved with libevent's evdns
 * (resolv.conf and /etc/hosts, non-blocking) so a slow resolver never stalls
 * the pushd loop.
 *
 * Frames are not written from inside nghttp2 callbacks (nghttp2 forbids
 * re-entering nghttp2_session_send()): submitting a stream activates the
 * connection's flush event, which runs once per loop iteration and so
 * coalesces every stream submitted meanwhile into one write.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_log.h"
#include "pushd/pd_internal.h"

static void conn_lost(struct pd_conn *cn, const char *why);
static void connect_addr(struct pd_conn *cn);

/* Connections up, per provider and per credential (read by telemetry). */
static void conn_count(struct pd_conn *cn, int d)
{
	struct pd_cred *c = cn->cred;

	__atomic_fetch_add(&c->pd->st[c->provider].connections_up, (uint32_t)d, __ATOMIC_RELAXED);
	__atomic_fetch_add(cn->token_endpoint ? &c->token_up : &c->push_up, (uint32_t)d,
			   __ATOMIC_RELAXED);
}

static void schedule_flush(struct pd_conn *cn)
{
	event_active(cn->flush_ev, EV_WRITE, 0);
}

static void flush(struct pd_conn *cn)
{
	if (!cn->ng)
		return;
	if (nghttp2_session_send(cn->ng) != 0) {
		conn_lost(cn, "nghttp2 send failed");
		return;
	}
	if (!nghttp2_session_want_read(cn->ng) && !nghttp2_session_want_write(cn->ng) &&
	    evbuffer_get_length(bufferevent_get_output(cn->bev)) == 0)
		conn_lost(cn, "session finished");
}

/* A draining connection goes away with its last stream. Returns true when
 * @cn was freed. */
static bool reap_draining(struct pd_conn *cn)
{
	if (cn->state == PD_CONN_DRAINING && cn->n_streams == 0) {
		pd_conn_free(cn);
		return true;
	}
	return false;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_conn *cn = arg;

	(void)fd;
	(void)what;
	if (!reap_draining(cn))
		flush(cn);
}

static ssize_t send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct pd_conn *cn = ud;

	(void)ng;
	(void)flags;
	if (bufferevent_write(cn->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nl,
		     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	struct pd_job *j = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);

	(void)flags;
	(void)ud;
	if (!j || f->hd.type != NGHTTP2_HEADERS)
		return 0;
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
		j->status = 0;
		for (size_t i = 0; i < vl && i < 3; i++)
			j->status = j->status * 10 + (v[i] - '0');
	} else if (nl == 11 && !memcmp(name, "retry-after", 11)) {
		unsigned s = 0;

		/* delta-seconds only (RFC 9110 §10.2.3); an HTTP-date falls back to backoff */
		for (size_t i = 0; i < vl && i < 6 && v[i] >= '0' && v[i] <= '9'; i++)
			s = s * 10 + (unsigned)(v[i] - '0');
		j->retry_after_s = s;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct pd_job *j = nghttp2_session_get_stream_user_data(ng, id);
	size_t room;

	(void)flags;
	(void)ud;
	if (!j)
		return 0;
	room = sizeof(j->resp) - 1 - j->resp_len;
	if (len > room)
		len = room;
	memcpy(j->resp + j->resp_len, data, len);
	j->resp_len += len;
	j->resp[j->resp_len] = '\0';
	return 0;
}

static void go_draining(struct pd_conn *cn)
{
	struct pd_cred *c = cn->cred;

	if (cn->state == PD_CONN_DRAINING)
		return;
	cn->state = PD_CONN_DRAINING;
	conn_count(cn, -1);
	LIST_INSERT_HEAD(&c->draining, cn, link);
	cn->listed = true;
	/* New streams go to a fresh connection from now on. */
	if (cn->token_endpoint) {
		c->tconn = pd_conn_new(c, true);
		return;
	}
	for (unsigned i = 0; i < c->n_conns; i++)
		if (c->conns[i] == cn)
			c->conns[i] = pd_conn_new(c, false);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct pd_conn *cn = ud;
	struct pd_job *j;

	cn->last_rx_ms = sw_mono_ms();
	switch (f->hd.type) {
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
			break;
		j = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
		if (j)
			j->end_stream = true;
		break;
	case NGHTTP2_PING:
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			cn->ping_outstanding = false;
		break;
	case NGHTTP2_SETTINGS:
		cn->max_streams = nghttp2_session_get_remote_settings(
			ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
		cn->cred->pd->up.kick(cn->cred);
		break;
	case NGHTTP2_GOAWAY:
		/* Streams above last-stream-id are closed by nghttp2 with
		 * REFUSED_STREAM: the core's failed() retries them elsewhere. */
		PD_LOG(INFO, "%s: GOAWAY (last stream %d, error %u)", cn->cred->name,
		       f->goaway.last_stream_id, f->goaway.error_code);
		go_draining(cn);
		break;
	default:
		break;
	}
	return 0;
}

/* A request is written when its last frame (END_STREAM) has gone to TLS:
 * the first time is what pd_result.written_us reports (bench/bench_wake.c). */
static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct pd_job *j;

	(void)ud;
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	j = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (j && j->written_us == 0)
		j->written_us = sw_mono_us();
	return 0;
}

static void detach(struct pd_conn *cn, struct pd_job *j)
{
	TAILQ_REMOVE(&cn->streams, j, link);
	j->on_list = false;
	j->conn = NULL;
	cn->n_streams--;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t err, void *ud)
{
	struct pd_conn *cn = ud;
	struct pd_job *j = nghttp2_session_get_stream_user_data(ng, id);

	if (!j)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	detach(cn, j);
	if (j->end_stream && j->status)
		j->pd->up.answered(j);
	else
		j->pd->up.failed(j,
				 err == NGHTTP2_REFUSED_STREAM ? "refused stream" : "stream reset",
				 err == NGHTTP2_REFUSED_STREAM);
	if (cn->state == PD_CONN_DRAINING)
		schedule_flush(cn); /* reaps it once empty */
	else
		cn->cred->pd->up.kick(cn->cred); /* a stream is free */
	return 0;
}

static ssize_t body_read_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct pd_job *j = src->ptr;
	size_t n = j->body_len - j->body_off;

	(void)ng;
	(void)id;
	(void)ud;
	if (n > len)
		n = len;
	memcpy(buf, j->body + j->body_off, n);
	j->body_off += n;
	if (j->body_off == j->body_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Feeds nghttp2 chunk by chunk: evbuffer_pullup() would copy everything
 * buffered into one block on every read. */
static void readcb(struct bufferevent *bev, void *arg)
{
	struct pd_conn *cn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v[16];
	int nv;

	while ((nv = evbuffer_peek(in, -1, NULL, v, 16)) > 0) {
		size_t used = 0;

		for (int i = 0; i < nv && i < 16; i++) {
			ssize_t n = nghttp2_session_mem_recv(cn->ng, v[i].iov_base, v[i].iov_len);

			if (n < 0) {
				conn_lost(cn, nghttp2_strerror((int)n));
				return;
			}
			used += (size_t)n;
		}
		evbuffer_drain(in, used);
		if (nv <= 16)
			break;
	}
	if (!reap_draining(cn))
		flush(cn);
}

static void writecb(struct bufferevent *bev, void *arg)
{
	struct pd_conn *cn = arg;

	(void)bev;
	if (cn->ng && !reap_draining(cn))
		flush(cn);
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct pd_conn *cn = arg;
	struct pd_cred *c = cn->cred;
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
				       {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;
	char why[160];
	int one = 1;

	if (!(what & BEV_EVENT_CONNECTED)) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		int serr = EVUTIL_SOCKET_ERROR();
		char ebuf[120] = "";

		if (cn->state == PD_CONN_CONNECTING && cn->addr_idx + 1 < cn->n_addrs) {
			/* This address failed before TLS was up: try the next one now. */
			bufferevent_free(cn->bev);
			cn->bev = NULL;
			cn->addr_idx++;
			connect_addr(cn);
			return;
		}
		cn->n_addrs = 0; /* resolve again on the next attempt */

		if (e && ERR_GET_LIB(e) != ERR_LIB_SYS && ERR_GET_LIB(e) != 0)
			ERR_error_string_n(e, ebuf, sizeof(ebuf));
		else if ((what & BEV_EVENT_ERROR) && serr)
			snprintf(ebuf, sizeof(ebuf), "%s", evutil_socket_error_to_string(serr));
		snprintf(why, sizeof(why), "%s%s%s",
			 what & BEV_EVENT_EOF ? "closed by peer" : "connection error",
			 ebuf[0] ? ": " : "", ebuf);
		conn_lost(cn, why);
		return;
	}
	SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(bev), &alpn, &alpnlen);
	if (alpnlen != 2 || memcmp(alpn, "h2", 2) != 0) {
		conn_lost(cn, "server did not negotiate h2 (ALPN)");
		return;
	}
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, send_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_client_new(&cn->ng, cb, cn);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(cn->ng, NGHTTP2_FLAG_NONE, iv, 2);
	cn->state = PD_CONN_UP;
	cn->backoff_ms = 0;
	cn->last_rx_ms = sw_mono_ms();
	/* Until the server's SETTINGS arrive, assume the RFC 9113 minimum
	 * recommendation rather than unlimited. */
	cn->max_streams = 100;
	PD_STAT_ADD(c->pd, c->provider, connects, 1);
	conn_count(cn, 1);
	PD_LOG(INFO, "%s: connected to %s:%u%s", c->name, cn->host, cn->port,
	       cn->token_endpoint ? " (token endpoint)" : "");
	flush(cn);
	c->pd->up.kick(c);
}

/* TLS + TCP to cn->addrs[cn->addr_idx]. */
static void connect_addr(struct pd_conn *cn)
{
	struct pd_cred *c = cn->cred;
	SSL *ssl = SSL_new(c->ssl);
	unsigned char tmp[16];
	bool literal =
		inet_pton(AF_INET, cn->host, tmp) == 1 || inet_pton(AF_INET6, cn->host, tmp) == 1;

	if (!ssl) {
		conn_lost(cn, "SSL_new failed");
		return;
	}
	/* Verify the name (or address) in the certificate, RFC 9110 §4.3.4. */
	if (literal) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), cn->host);
	} else {
		SSL_set_tlsext_host_name(ssl, cn->host);
		SSL_set1_host(ssl, cn->host);
	}
	cn->bev = bufferevent_openssl_socket_new(c->pd->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						 BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!cn->bev) {
		SSL_free(ssl);
		conn_lost(cn, "bufferevent_openssl_socket_new failed");
		return;
	}
	bufferevent_setcb(cn->bev, readcb, writecb, eventcb, cn);
	bufferevent_enable(cn->bev, EV_READ | EV_WRITE);
	cn->state = PD_CONN_CONNECTING;
	if (bufferevent_socket_connect(cn->bev, (struct sockaddr *)&cn->addrs[cn->addr_idx],
				       (int)cn->addrlens[cn->addr_idx]) != 0)
		conn_lost(cn, "cannot start connecting");
}

static void dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct pd_conn *cn = arg;
	char why[160];

	if (result == EVUTIL_EAI_CANCEL)
		return; /* the connection is being freed */
	cn->dns_req = NULL;
	cn->resolving = false;
	cn->n_addrs = 0;
	for (struct evutil_addrinfo *ai = res; ai && cn->n_addrs < 8; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(cn->addrs[0]))
			continue;
		memcpy(&cn->addrs[cn->n_addrs], ai->ai_addr, ai->ai_addrlen);
		cn->addrlens[cn->n_addrs++] = (socklen_t)ai->ai_addrlen;
	}
	if (res)
		evutil_freeaddrinfo(res);
	if (!cn->n_addrs) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", cn->host,
			 result ? evutil_gai_strerror(result) : "no address");
		conn_lost(cn, why);
		return;
	}
	cn->addr_idx = 0;
	connect_addr(cn);
}

/* Resolve (evdns: resolv.conf and /etc/hosts, never blocking the loop),
 * then connect to each address in turn. */
static void start_connect(struct pd_conn *cn)
{
	struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct evdns_getaddrinfo_request *req;
	char port[8];

	snprintf(port, sizeof(port), "%u", cn->port);
	cn->state = PD_CONN_CONNECTING;
	cn->resolving = true;
	/* The callback may run before this returns (literal or /etc/hosts). */
	req = evdns_getaddrinfo(cn->cred->pd->dns, cn->host, port, &hints, dns_cb, cn);
	if (cn->resolving)
		cn->dns_req = req;
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_connect(arg);
}

static void ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_conn *cn = arg;
	uint64_t idle_ms = (uint64_t)cn->cred->pd->cfg.ping_interval_s * 1000;

	(void)fd;
	(void)what;
	if (cn->state != PD_CONN_UP)
		return;
	if (cn->ping_outstanding) {
		PD_STAT_ADD(cn->cred->pd, cn->cred->provider, ping_timeouts, 1);
		conn_lost(cn, "PING not answered");
		return;
	}
	if (sw_mono_ms() - cn->last_rx_ms + 50 >= idle_ms) {
		nghttp2_submit_ping(cn->ng, NGHTTP2_FLAG_NONE, NULL);
		PD_STAT_ADD(cn->cred->pd, cn->cred->provider, pings, 1);
		cn->ping_outstanding = true;
		flush(cn);
	}
}

/* Drops the transport; the streams on it are retried (or time out), and a
 * connection that is still the credential's own reconnects with backoff. */
static void conn_lost(struct pd_conn *cn, const char *why)
{
	struct pd_cred *c = cn->cred;
	struct pd *pd = c->pd;
	struct pd_job *j;
	struct timeval tv;
	bool was_up = cn->state == PD_CONN_UP;

	if (was_up && !cn->closing)
		PD_LOG(WARNING, "%s: connection to %s:%u lost: %s", c->name, cn->host, cn->port,
		       why);
	else if (cn->state == PD_CONN_CONNECTING)
		PD_LOG(INFO, "%s: cannot connect to %s:%u: %s", c->name, cn->host, cn->port, why);
	if (was_up) {
		PD_STAT_ADD(pd, c->provider, disconnects, 1);
		conn_count(cn, -1);
	}
	if (cn->ng) {
		nghttp2_session_del(cn->ng);
		cn->ng = NULL;
	}
	if (cn->bev) {
		bufferevent_free(cn->bev);
		cn->bev = NULL;
	}
	cn->ping_outstanding = false;
	if (cn->state == PD_CONN_DRAINING) {
		cn->state = PD_CONN_DOWN;
		while ((j = TAILQ_FIRST(&cn->streams)) != NULL) {
			detach(cn, j);
			j->pd->up.failed(j, why, false);
		}
		if (!cn->closing)
			pd_conn_free(cn);
		return;
	}
	cn->state = PD_CONN_DOWN;
	while ((j = TAILQ_FIRST(&cn->streams)) != NULL) {
		detach(cn, j);
		j->pd->up.failed(j, why, false);
	}
	if (cn->closing)
		return;
	cn->backoff_ms = cn->backoff_ms ? cn->backoff_ms * 2 : pd->cfg.retry_base_ms;
	if (cn->backoff_ms > pd->cfg.retry_max_ms)
		cn->backoff_ms = pd->cfg.retry_max_ms;
	tv.tv_sec = cn->backoff_ms / 1000;
	tv.tv_usec = (cn->backoff_ms % 1000) * 1000;
	evtimer_add(cn->reconnect_timer, &tv);
}

struct pd_conn *pd_conn_new(struct pd_cred *c, bool token_endpoint)
{
	struct pd_conn *cn = calloc(1, sizeof(*cn));
	struct event_base *base = c->pd->base;
	struct timeval tv = {c->pd->cfg.ping_interval_s, 0};

	if (!cn)
		return NULL;
	cn->cred = c;
	cn->token_endpoint = token_endpoint;
	if (token_endpoint) {
		cn->host = c->token_host;
		cn->port = c->token_port;
	} else if (c->apns) {
		cn->host = c->apns->host;
		cn->port = c->apns->port;
	} else {
		cn->host = c->fcm->host;
		cn->port = c->fcm->port;
	}
	TAILQ_INIT(&cn->streams);
	cn->ping_timer = event_new(base, -1, EV_PERSIST, ping_cb, cn);
	cn->reconnect_timer = evtimer_new(base, reconnect_cb, cn);
	cn->flush_ev = event_new(base, -1, 0, flush_cb, cn);
	if (!cn->ping_timer || !cn->reconnect_timer || !cn->flush_ev) {
		pd_conn_free(cn);
		return NULL;
	}
	evtimer_add(cn->ping_timer, &tv);
	start_connect(cn);
	return cn;
}

void pd_conn_free(struct pd_conn *cn)
{
	if (!cn)
		return;
	cn->closing = true;
	if (cn->dns_req)
		evdns_getaddrinfo_cancel(cn->dns_req);
	cn->dns_req = NULL;
	if (cn->listed)
		LIST_REMOVE(cn, link);
	cn->listed = false;
	if (cn->bev || cn->ng || !TAILQ_EMPTY(&cn->streams))
		conn_lost(cn, "closed");
	if (cn->ping_timer)
		event_free(cn->ping_timer);
	if (cn->reconnect_timer)
		event_free(cn->reconnect_timer);
	if (cn->flush_ev)
		event_free(cn->flush_ev);
	free(cn);
}

bool pd_conn_can_send(const struct pd_conn *cn)
{
	return cn && cn->state == PD_CONN_UP && cn->n_streams < cn->max_streams;
}

int pd_conn_submit(struct pd_conn *cn, struct pd_job *j)
{
	nghttp2_nv nva[16];
	char bufs[1024];
	size_t n = 0;
	nghttp2_data_provider prd = {.source.ptr = j, .read_callback = body_read_cb};
	int32_t id;
	int rc;

	rc = pd_build_request(j, nva, &n, bufs, sizeof(bufs));
	if (rc)
		return rc;
	j->body_off = 0;
	j->status = 0;
	j->retry_after_s = 0;
	j->resp_len = 0;
	j->resp[0] = '\0';
	j->hdrs_len = 0;
	j->hdrs[0] = '\0';
	j->end_stream = false;
	id = nghttp2_submit_request(cn->ng, NULL, nva, n, &prd, j);
	if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
		/* 2^30 client streams used up (about 6 h at 50k pushes/s): this
		 * connection drains and a fresh one takes over (RFC 9113 §5.1.1). */
		go_draining(cn);
		return -EAGAIN;
	}
	if (id < 0)
		return -EIO;
	j->conn = cn;
	j->stream_id = id;
	j->on_list = true;
	TAILQ_INSERT_TAIL(&cn->streams, j, link);
	cn->n_streams++;
	schedule_flush(cn);
	return 0;
}

void pd_conn_cancel(struct pd_job *j)
{
	struct pd_conn *cn = j->conn;

	if (!cn)
		return;
	if (cn->ng) {
		nghttp2_session_set_stream_user_data(cn->ng, j->stream_id, NULL);
		nghttp2_submit_rst_stream(cn->ng, NGHTTP2_FLAG_NONE, j->stream_id, NGHTTP2_CANCEL);
		schedule_flush(cn);
	}
	detach(cn, j);
}
