/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread's insides, shared by its files (docs/streams.md, "The
 * streams thread"): st_core.c (thread, rings), st_listen.c (sockets, TLS
 * contexts), st_conn.c (a connection's life), st_tab.c (lookups by id and
 * by source), st_frame.c (SIP framing), st_ws.c (WebSocket), st_stats.c.
 * Everything here is touched only by the streams thread, except where a
 * field says otherwise.
 */
#ifndef ST_INTERNAL_H
#define ST_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "streams/st.h"
#include "streams/st_frame.h"

struct rte_ring;
struct st;
struct st_conn;

/* Counters: written by the streams thread only (one writer), read by
 * st_stats_get() on any thread; relaxed atomics keep both sides defined. */
#define ST_INC(st, t, f, n)                                                         \
	__atomic_store_n(&(st)->stats.tp[t].f, (st)->stats.tp[t].f + (uint64_t)(n), \
			 __ATOMIC_RELAXED)
#define ST_DEC(st, t, f) \
	__atomic_store_n(&(st)->stats.tp[t].f, (st)->stats.tp[t].f - 1, __ATOMIC_RELAXED)
#define ST_SET(st, f, v) __atomic_store_n(&(st)->stats.f, (uint64_t)(v), __ATOMIC_RELAXED)

/* What st_send() and st_close() put on the down ring. */
enum st_down_kind { ST_DOWN_SEND = 1, ST_DOWN_CLOSE };

struct st_down {
	uint8_t kind;
	uint64_t conn;
	uint32_t len;
	uint8_t data[];
};

/* One bound socket: a listener on one address. */
struct st_bound {
	struct st_lis *lis;
	struct evconnlistener *evl;
	struct event *resume; /* after an accept() error */
	struct sw_ip addr;
};

/* One configured listener, on every address. */
struct st_lis {
	struct st *st;
	struct st_listener cfg;
	SSL_CTX *ctx;		      /* TLS / WSS; replaced by st_reload_apply() */
	const struct st_layer *layer; /* WS / WSS: &st_ws_layer (st_listen.c) */
	unsigned n_bound;
	struct st_bound bound[ST_MAX_ADDRS];
};

/* Open connections counted per source IP (max_conns_per_source). */
struct st_src {
	struct st_src *next;
	struct sw_ip ip;
	uint32_t n;
};

enum st_conn_state {
	ST_CS_HANDSHAKE, /* TLS, or the WebSocket upgrade, not done */
	ST_CS_OPEN,
	ST_CS_DRAIN, /* writing what is queued, then closing (st_conn_drain()) */
};

struct st_ws;
struct st_conn;

/*
 * A layer over a connection's bytes: WebSocket (streams/st_ws.c, the
 * st_ws_layer). The listener names it (st_listen.c); the connection calls
 * it only through this table, never by name, so that the connection
 * stands below the layer that works on it.
 */
struct st_layer {
	int (*attach)(struct st_conn *c);			    /* at accept: 0 or -errno */
	int (*read)(struct st_conn *c);				    /* 0, or -1: closed, freed */
	int (*send)(struct st_conn *c, const uint8_t *d, size_t n); /* 0, or -1: closed */
	void (*detach)(struct st_conn *c);			    /* at close */
	size_t (*mem)(const struct st_conn *c);			    /* bytes it holds */
};

struct st_conn {
	uint64_t id;
	struct st *st;
	struct st_lis *lis;
	struct st_conn *hnext; /* st_tab.c's chain by id */
	TAILQ_ENTRY(st_conn) link;
	struct st_src *src;
	struct bufferevent *bev;
	struct event *tmo;	      /* the nearest of the deadlines below */
	struct st_ws *ws;	      /* WS / WSS: the upgrade, then wslay */
	const struct st_layer *layer; /* its listener's; NULL: SIP straight on the stream */
	uint8_t tp;
	uint8_t state;	   /* enum st_conn_state */
	uint8_t tls_up;	   /* WSS: TLS done, the upgrade still to come */
	uint8_t drain_why; /* ST_CS_DRAIN: the close reason once written */
	uint16_t peer_port, local_port;
	struct sw_ip peer, local;
	uint64_t open_ms;  /* accepted */
	uint64_t in_ms;	   /* last byte in */
	uint64_t msg_ms;   /* first byte of the message not yet whole; 0: none */
	uint64_t drain_ms; /* ST_CS_DRAIN: closed by then even if unwritten */
	size_t in_kept;	   /* input left after the last read: counted in bytes_in already */
	uint64_t tok_ms;   /* msg_rate's bucket: when it was last filled */
	uint32_t tokens;   /* ... and what it holds (starts at msg_burst) */
};

TAILQ_HEAD(st_conn_list, st_conn);

struct st {
	struct st_config cfg;
	unsigned n_lis;
	struct st_lis lis[ST_MAX_LISTENERS];
	struct event_base *base;
	pthread_t thread;
	bool started;
	volatile bool stop; /* set by st_free(), read by the thread */
	struct rte_ring *up, *down;
	void *up_mem, *down_mem;
	int down_fd, up_fd; /* eventfds: wake the thread / the control plane */
	struct event *down_ev, *tick_ev, *retry_ev;

	/* st_reload_certs() -> the thread, under reload_lock. */
	pthread_mutex_t reload_lock;
	SSL_CTX *pending_ctx[ST_MAX_LISTENERS];
	int reload_pending;

	/* Connections: by id (st_tab.c), all in age order, per source. */
	uint64_t next_id;
	struct st_conn **by_id;
	uint32_t by_id_mask;
	uint32_t n_conns;
	struct st_conn_list conns;
	struct st_src **by_src;
	uint32_t by_src_mask;

	/* ST_UP_CLOSED events the full up ring refused, pushed again later. */
	struct st_up **closed_q;
	unsigned n_closed_q, cap_closed_q;

	struct st_stats stats;
};

/* st_core.c */
void st_reload_apply(struct st *st);

/* st_up.c: the up ring's producer side */
int st_up_push(struct st *st, struct st_up *u);
void st_up_retry_cb(evutil_socket_t fd, short what, void *arg);
/** Wake the reader of eventfd @p fd. */
void st_kick(int fd);

/* st_listen.c */
SSL_CTX *st_tls_ctx_new(const struct st_listener *l, unsigned idx, char *err, size_t errlen);
int st_listen_open(struct st *st, char *err, size_t errlen);
void st_listen_close(struct st *st);

/* st_conn.c */
void st_conn_accept(struct st_bound *b, evutil_socket_t fd, const struct sockaddr *sa);
void st_conn_close(struct st_conn *c, enum st_close_why why);
void st_conn_send(struct st *st, uint64_t id, const uint8_t *data, uint32_t len);
void st_conn_local_close(struct st *st, uint64_t id);
void st_conn_arm(struct st_conn *c);
int st_conn_write(struct st_conn *c, const void *data, size_t len);
int st_conn_up_msg(struct st_conn *c, const uint8_t *data, size_t len);
int st_conn_up_try(struct st_conn *c, const uint8_t *data, size_t len);
int st_conn_drain(struct st_conn *c, enum st_close_why why);
void st_conn_handshake_done(struct st_conn *c);
void st_conn_close_all(struct st *st);

/* st_tab.c */
int st_tab_init(struct st *st);
void st_tab_free(struct st *st);
struct st_conn *st_tab_get(struct st *st, uint64_t id);
int st_tab_add(struct st *st, struct st_conn *c);
void st_tab_del(struct st *st, struct st_conn *c);
struct st_src *st_src_get(struct st *st, const struct sw_ip *ip, bool create);
void st_src_put(struct st *st, struct st_src *s);

/* st_stats.c */
void st_stats_tick(struct st *st);

/* st_ws.c: WebSocket, a layer over the connection */
extern const struct st_layer st_ws_layer;

/* Bytes a connection holds beyond its buffers, measured by
 * tests/streams/test_st_mem.c (OpenSSL 3.0, libevent 2.1, glibc): struct
 * st_conn, its bufferevent, evbuffers and events ~1.4 KiB; for TLS the SSL
 * object adds ~14 KiB with its buffers released (8.4 KiB of it from
 * SSL_new(), before any handshake). */
#define ST_CONN_MEM_TCP 1400u
#define ST_CONN_MEM_TLS 16100u

#endif /* ST_INTERNAL_H */
