/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The listeners: one socket per configured listener and address
 * (docs/streams.md, "The streams thread"), and a TLS context per TLS / WSS
 * listener. The addresses live on the exception path's tap, which may come
 * up after us: IP_FREEBIND lets the bind succeed before they exist.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "streams/st_internal.h"

/* The kernel's backlog of accepted but not yet taken connections: capped
 * by net.core.somaxconn anyway; the per-source limits apply after accept. */
#define BACKLOG 1024

static void ssl_err(char *err, size_t errlen, const char *what, unsigned idx,
		    const struct st_listener *l, const char *file)
{
	char why[200];
	unsigned long e = ERR_peek_last_error();

	ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	snprintf(err, errlen, "streams: listener %u (%s port %u): cannot load %s %s: %s", idx,
		 sw_tp_name(l->tp), l->port, what, file, e ? why : "unknown error");
}

SSL_CTX *st_tls_ctx_new(const struct st_listener *l, unsigned idx, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, errlen, "streams: listener %u: out of memory", idx);
		return NULL;
	}
	/* RFC 8996: TLS 1.0 and 1.1 are deprecated; SIP over TLS needs 1.2. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* An idle connection keeps no read or write buffer (~34 KiB each
	 * otherwise): thousands of apps sit on idle flows. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* No session cache, so no state grows per client; TLS 1.3 tickets
	 * would point into that cache: none are sent. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (!l->cert[0] || !l->key[0]) {
		snprintf(err, errlen,
			 "streams: listener %u (%s port %u): cert and key are required", idx,
			 sw_tp_name(l->tp), l->port);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, l->cert) != 1) {
		ssl_err(err, errlen, "certificate", idx, l, l->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, l->key, SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, "key", idx, l, l->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "key (it does not match the certificate)", idx, l, l->key);
		goto fail;
	}
	if (l->ca[0]) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(l->ca);

		if (!names || SSL_CTX_load_verify_locations(ctx, l->ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			ssl_err(err, errlen, "client CA", idx, l, l->ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	(void)evl;
	(void)salen;
	st_conn_accept(arg, fd, sa);
}

/* The listening socket stays readable while accept() fails (EMFILE,
 * ENFILE, ENOMEM): without a pause the loop would spin on it. */
#define ACCEPT_PAUSE_MS 100

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct st_bound *b = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(b->evl);
}

static void accept_err_cb(struct evconnlistener *evl, void *arg)
{
	struct st_bound *b = arg;
	struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};

	ST_INC(b->lis->st, b->lis->cfg.tp, accept_failed, 1);
	evconnlistener_disable(evl);
	event_add(b->resume, &tv);
}

static socklen_t to_sockaddr(const struct sw_ip *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (sw_ip_is_v4(ip)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, &ip->a[12], 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, ip->a, 16);
	return sizeof(*s6);
}

static int bind_one(struct st_bound *b, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&b->addr, port, &ss);
	int one = 1, fd, e;
	char ip[64];

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail_close;
	if (ss.ss_family == AF_INET6) {
		/* Each address is bound on its own: no IPv4-mapped traffic here. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) < 0)
			goto fail_close;
	} else if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0) {
		goto fail_close;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, BACKLOG) < 0)
		goto fail_close;
	b->evl = evconnlistener_new(b->lis->st->base, accept_cb, b, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	b->resume = evtimer_new(b->lis->st->base, resume_cb, b);
	if (!b->evl || !b->resume) {
		if (b->evl)
			evconnlistener_free(b->evl);
		else
			close(fd);
		if (b->resume)
			event_free(b->resume);
		b->evl = NULL;
		b->resume = NULL;
		snprintf(err, errlen, "streams: %s port %u: out of memory",
			 sw_tp_name(b->lis->cfg.tp), port);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(b->evl, accept_err_cb);
	return 0;
fail_close:
	e = errno;
	close(fd);
	errno = e;
fail:
	e = errno;
	snprintf(err, errlen, "streams: %s listener on %s port %u: %s", sw_tp_name(b->lis->cfg.tp),
		 sw_ip_str(&b->addr, ip, sizeof(ip)), port, strerror(e));
	return -e;
}

int st_listen_open(struct st *st, char *err, size_t errlen)
{
	for (unsigned i = 0; i < st->n_lis; i++) {
		struct st_lis *l = &st->lis[i];

		/* RFC 7118: SIP in WebSocket messages, over TCP or TLS. */
		l->layer = l->cfg.tp == SW_TP_WS || l->cfg.tp == SW_TP_WSS ? &st_ws_layer : NULL;
		for (unsigned a = 0; a < st->cfg.n_addrs; a++) {
			struct st_bound *b = &l->bound[a];
			int rc;

			b->lis = l;
			b->addr = st->cfg.addrs[a];
			rc = bind_one(b, l->cfg.port, err, errlen);
			if (rc) {
				st_listen_close(st);
				return rc;
			}
			l->n_bound = a + 1;
		}
	}
	return 0;
}

void st_listen_close(struct st *st)
{
	for (unsigned i = 0; i < st->n_lis; i++) {
		struct st_lis *l = &st->lis[i];

		for (unsigned a = 0; a < l->n_bound; a++)
			if (l->bound[a].evl) {
				evconnlistener_free(l->bound[a].evl);
				event_free(l->bound[a].resume);
				l->bound[a].evl = NULL;
				l->bound[a].resume = NULL;
			}
		l->n_bound = 0;
	}
}
