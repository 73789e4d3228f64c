/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test server, connections: TLS (ALPN h2, a client certificate asked for,
 * its chain and subject UID noted for ts_check.c) through
 * libevent's bufferevent_openssl, one nghttp2 server session each, as in
 * nghttp2's examples/libevent-server.c. Headers and body are collected into
 * the stream's struct ts_req; a whole request goes to ts_answer().
 */
#include "tests/pushd/ts_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (64 * 1024)

static void stream_free(struct stream *st)
{
	st->s->n_open--;
	st->next->prev = st->prev;
	st->prev->next = st->next;
	if (st->timer)
		event_free(st->timer);
	free(st->req.body);
	free(st->resp);
	free(st);
}

void ts_sess_free(struct sess *s)
{
	struct ts_server *srv = s->srv;

	while (s->streams.next != &s->streams)
		stream_free(s->streams.next);
	s->next->prev = s->prev;
	s->prev->next = s->next;
	if (s->flush_ev)
		event_free(s->flush_ev);
	nghttp2_session_del(s->ng);
	bufferevent_free(s->bev);
	free(s);
	if (srv->events_on)
		ts_emit(srv, "CLOSED");
}

int ts_sess_send(struct sess *s)
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

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess *s = arg;

	(void)fd;
	(void)what;
	if (ts_sess_send(s) != 0)
		ts_sess_free(s);
}

/* What APNs looks at in a client certificate: whether it chains to the CA
 * (the handshake let any through: verify_any()) and the bundle id in the
 * subject's UID. */
static void client_cert(SSL *ssl, struct ts_req *r)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	X509_NAME *subj = peer ? X509_get_subject_name(peer) : NULL;
	int i = subj ? X509_NAME_get_index_by_NID(subj, NID_userId, -1) : -1;
	ASN1_STRING *uid = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)) : NULL;

	r->client_cert = peer != NULL;
	r->cert_chain_ok = peer && SSL_get_verify_result(ssl) == X509_V_OK;
	r->cert_uid[0] = '\0';
	if (uid) {
		int n = ASN1_STRING_length(uid);

		if (n > 0 && (size_t)n < sizeof(r->cert_uid)) {
			memcpy(r->cert_uid, ASN1_STRING_get0_data(uid), (size_t)n);
			r->cert_uid[n] = '\0';
		}
	}
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
	client_cert(bufferevent_openssl_get_ssl(s->bev), &st->req);
	s->n_open++;
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
		H("content-encoding", h_cenc),
		H("ttl", h_ttl),
		H("urgency", h_urgency),
		H("topic", h_wp_topic),
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
		ts_answer(st);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t err, void *ud)
{
	struct stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)err;
	(void)ud;
	if (!st)
		return 0;
	stream_free(st);
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
				ts_sess_free(s);
				return;
			}
			used += (size_t)n;
		}
		evbuffer_drain(in, used);
		if (nv <= 16)
			break;
	}
	if (ts_sess_send(s) != 0)
		ts_sess_free(s);
}

static void writecb(struct bufferevent *bev, void *arg)
{
	struct sess *s = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng)) {
		ts_sess_free(s);
		return;
	}
	if (ts_sess_send(s) != 0)
		ts_sess_free(s);
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct sess *s = arg;
	nghttp2_settings_entry iv[1] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->srv->max_streams}};
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;

	if (!(what & BEV_EVENT_CONNECTED)) {
		ts_sess_free(s);
		return;
	}
	SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(bev), &alpn, &alpnlen);
	if (alpnlen != 2 || memcmp(alpn, "h2", 2) != 0) {
		ts_sess_free(s);
		return;
	}
	nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 1);
	if (ts_sess_send(s) != 0)
		ts_sess_free(s);
}

void ts_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
	       void *arg)
{
	struct ts_server *srv = arg;
	struct sess *s = calloc(1, sizeof(*s));
	nghttp2_session_callbacks *cb;
	SSL *ssl = SSL_new(srv->ssl_ctx);
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	s->srv = srv;
	s->streams.next = s->streams.prev = &s->streams;
	s->flush_ev = event_new(srv->base, -1, 0, flush_cb, s);
	s->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
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
	s->next = srv->sessions.next;
	s->prev = &srv->sessions;
	srv->sessions.next->prev = s;
	srv->sessions.next = s;
	bufferevent_setcb(s->bev, readcb, writecb, eventcb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->id = ++srv->n_conns;
	if (srv->events_on)
		ts_emit(srv, "CONN %lu", srv->n_conns);
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

/* Any client certificate gets through the handshake: its chain is judged
 * per request (SSL_get_verify_result(), ts_check.c), as APNs answers a bad
 * one with 403 BadCertificate rather than a TLS alert. */
static int verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

SSL_CTX *ts_tls_new(const char *cert, const char *key, const char *client_ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (client_ca && SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_any);
	return ctx;
}
