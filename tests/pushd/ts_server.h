/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pd_testsrv's running state, shared by its parts: ts_main.c (command line,
 * event lines, the loop), ts_sess.c (TLS connections and their HTTP/2
 * sessions), ts_answer.c (what a request is answered) and ts_control.c
 * (the control protocol on stdin). One struct ts_server lives in main() and
 * is the user_data of every callback that needs it. (ts_harness.h's struct
 * ts_srv is something else: a test's handle on the pd_testsrv process.)
 */
#ifndef TS_SERVER_H
#define TS_SERVER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "tests/pushd/ts.h"

struct ts_server;
struct sess;

/* One request stream and the answer it gets. */
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

/* One TLS connection with its HTTP/2 server session. */
struct sess {
	struct ts_server *srv;
	struct bufferevent *bev;
	nghttp2_session *ng;
	struct event *flush_ev; /* delayed answers: one write per loop iteration */
	struct stream streams;	/* list head */
	unsigned long id;	/* n-th connection accepted (its CONN line) */
	unsigned n_open;	/* request streams begun and not yet closed */
	struct sess *next, *prev;
};

struct ts_server {
	struct ts_cfg cfg;
	struct event_base *base;
	SSL_CTX *ssl_ctx;
	struct sess sessions; /* list head */
	unsigned delay_ms, max_streams, fcm_ttl;
	int events_on;
	unsigned long n_requests, n_conns;
	char origin[64]; /* "https://127.0.0.1:<port>": Web Push endpoints' origin, VAPID aud */
	/* Event lines are queued on a non-blocking stdout, so a test that
	 * reads them late never stalls the server. */
	struct bufferevent *out_bev;
};

/* ts_main.c: one event line on stdout (a newline added). */
void ts_emit(struct ts_server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ts_sess.c: a TLS context that serves @p cert / @p key with ALPN h2 and
 * asks for a client certificate; any is let through the handshake (APNs
 * answers a bad one with 403 BadCertificate), checked against @p client_ca
 * (NULL: none) when a request comes. NULL if the files do not load. */
SSL_CTX *ts_tls_new(const char *cert, const char *key, const char *client_ca);
/* ts_sess.c: evconnlistener callback, @p arg the struct ts_server. */
void ts_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
	       void *arg);
/* ts_sess.c: sends what the session has queued; -1 when it is done. */
int ts_sess_send(struct sess *s);
/* ts_sess.c: closes the connection and frees the session and its streams. */
void ts_sess_free(struct sess *s);

/* ts_answer.c: a whole request arrived on @p st: check it and answer it
 * (now, after the configured delay, or never for a stall). */
void ts_answer(struct stream *st);

/* ts_control.c: bufferevent callbacks of stdin, @p arg the struct ts_server. */
void ts_control_cb(struct bufferevent *bev, void *arg);
void ts_control_event(struct bufferevent *bev, short what, void *arg);

#endif /* TS_SERVER_H */
