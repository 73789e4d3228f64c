/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A connection's life: names resolved with libevent's evdns (resolv.conf
 * and /etc/hosts, non-blocking) so a slow resolver never stalls the pushd
 * loop, each address tried in turn; TLS over TCP with libevent's
 * bufferevent_openssl, the server's certificate checked and h2 negotiated
 * (ALPN); PING when idle; lost and reconnected with doubling backoff;
 * draining after GOAWAY while a fresh connection takes its place. The
 * HTTP/2 session on it, and its streams, are pd_h2.c's.
 */
#include <arpa/inet.h>
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

/* Writes what the session has queued (pd_h2.c's streams ask for it through
 * the flush event rather than writing from inside nghttp2's callbacks). */
static void flush(struct pd_conn *cn)
{
	const char *why = pd_h2_send(cn);

	if (why)
		conn_lost(cn, why);
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

void pd_conn_drain(struct pd_conn *cn)
{
	struct pd_cred *c = cn->cred;

	if (cn->state == PD_CONN_DRAINING)
		return;
	cn->state = PD_CONN_DRAINING;
	conn_count(cn, -1);
	LIST_INSERT_HEAD(&c->draining, cn, link);
	cn->listed = true;
	/* New streams go to a fresh connection from now on; a Web Push
	 * origin's is opened by the next push for it (pd_origin.c). */
	if (cn->origin) {
		if (cn->origin->conn == cn)
			cn->origin->conn = NULL;
		cn->origin = NULL;
		return;
	}
	if (cn->token_endpoint) {
		c->tconn = pd_conn_new(c, true);
		return;
	}
	for (unsigned i = 0; i < c->n_conns; i++)
		if (c->conns[i] == cn)
			c->conns[i] = pd_conn_new(c, false);
}

static void readcb(struct bufferevent *bev, void *arg)
{
	struct pd_conn *cn = arg;
	const char *why = pd_h2_recv(cn, bufferevent_get_input(bev));

	if (why) {
		conn_lost(cn, why);
		return;
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
	pd_h2_open(cn);
	cn->state = PD_CONN_UP;
	cn->backoff_ms = 0;
	cn->last_rx_ms = sw_mono_ms();
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
	/* A push service that is down shows while it is down, not only as
	 * connections_up 0 (docs/telemetry.md). */
	if (cn->state == PD_CONN_CONNECTING && !cn->closing)
		PD_STAT_ADD(pd, c->provider, connect_failures, 1);
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
			pd_h2_detach(cn, j);
			j->pd->up.failed(j, why, false);
		}
		if (!cn->closing)
			pd_conn_free(cn);
		return;
	}
	cn->state = PD_CONN_DOWN;
	while ((j = TAILQ_FIRST(&cn->streams)) != NULL) {
		pd_h2_detach(cn, j);
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

static struct pd_conn *conn_new(struct pd_cred *c, bool token_endpoint, struct pd_origin *o)
{
	struct pd_conn *cn = calloc(1, sizeof(*cn));
	struct event_base *base = c->pd->base;
	struct timeval tv = {c->pd->cfg.ping_interval_s, 0};

	if (!cn)
		return NULL;
	cn->cred = c;
	cn->token_endpoint = token_endpoint;
	if (o) {
		cn->origin = o;
		memcpy(cn->origin_host, o->host, sizeof(cn->origin_host));
		cn->host = cn->origin_host;
		cn->port = o->port;
	} else if (token_endpoint) {
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

struct pd_conn *pd_conn_new(struct pd_cred *c, bool token_endpoint)
{
	return conn_new(c, token_endpoint, NULL);
}

struct pd_conn *pd_conn_new_origin(struct pd_origin *o)
{
	return conn_new(o->cred, false, o);
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
