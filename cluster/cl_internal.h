/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster link's insides, shared by its files (docs/cluster.md, "The
 * link to Redis"). From the top down (each calls only the ones below it):
 *   cl_link.c      cl_new / cl_free / cl_run: which master, when to
 *                  (re)connect, timeouts, what a lost connection undoes
 *   cl_sentinel.c  asking Sentinel for the master's address
 *   cl_write.c     the writer: handshake, batches as one FCALL each
 *                  (and WAIT), tickets and done() in order
 *   cl_feed.c      the reader: the resync, then the feed tailed
 *   cl_batch.c     a batch's changes (no Redis in it)
 *   cl_lua.c       the Redis function library's source
 *   cl_conn.c      one hiredis async connection and the event adapter
 *                  under it (poll with a zero timeout)
 *   cl_state.c     what the link shows: state, counters, master, error
 * Everything runs on the control plane's thread, inside cl_run() or a
 * cl_* call, except cl_get_stats(), cl_master() and cl_last_error().
 */
#ifndef CL_INTERNAL_H
#define CL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <hiredis/async.h>

#include "cluster/cl.h"

/* Counters: written by the control plane's thread only (one writer), read
 * by cl_get_stats() on any thread; relaxed atomics keep both sides defined. */
#define CL_INC(cl, f, n) \
	__atomic_store_n(&(cl)->stats.f, (cl)->stats.f + (uint64_t)(n), __ATOMIC_RELAXED)
#define CL_SET(cl, f, v) __atomic_store_n(&(cl)->stats.f, (uint64_t)(v), __ATOMIC_RELAXED)

#define CL_FEED_BLOCK_MS 1000	/* XREAD BLOCK: the reader's wait for a change */
#define CL_FEED_COUNT	 "512"	/* entries per XREAD */
#define CL_SCAN_COUNT	 "1000" /* keys per SCAN step of a resync */
#define CL_KEY_SEP	 '\x1f' /* between AOR and device key in a binding's key */
#define CL_ID_MAX	 48	/* a stream id, "<ms>-<seq>" */
#define CL_CMD_MAX	 16	/* arguments of a cl_conn_cmd() */

/* One async connection. hiredis's event hooks only record what it waits
 * for (want_rd / want_wr); cl_conn_poll() polls the socket with a zero
 * timeout and calls redisAsyncHandleRead / Write. A connection is opened
 * only outside hiredis's callbacks (cl_link.c's steps), so a free hiredis
 * defers to the end of a callback is over before the next open. */
struct cl_conn {
	struct cl *cl;
	redisAsyncContext *ac; /* NULL: closed */
	const char *name;      /* "writer", "reader", "sentinel": for errors */
	char addr[CL_HOST_MAX + 8];
	bool want_rd, want_wr;
	bool lost;	   /* closed by an error (or by hiredis): its owner's turn */
	unsigned pending;  /* commands (and the connect) not answered yet */
	uint64_t since_ms; /* the wait's start: first send when idle, or last answer */
	uint32_t extra_ms; /* allowed beyond timeout_ms for the last command (XREAD BLOCK) */
};

/* A batch's change, as cl_batch_*() copied it: aor, key, val in data[]. */
struct cl_chg {
	enum cl_change kind;
	int64_t stamp, expires_at;
	size_t aor_len, key_len, val_len;
	char data[];
};

struct cl_batch {
	bool no_wait; /* cl_batch_no_wait(): no WAIT after its FCALL */
	unsigned n, cap;
	struct cl_chg **v;
};

/* A submitted batch, from cl_submit() until its done(). */
struct cl_slot {
	uint64_t ticket;
	uint64_t sent_ms;
	unsigned n;	   /* changes */
	unsigned written;  /* FCALLs that returned 1 */
	bool failed;	   /* an error reply, or WAIT short of replicas */
	bool no_wait;	   /* done at its FCALL, whatever cfg.wait_replicas says */
	bool finished, ok; /* answered (or given up): done() is due */
};

struct cl_writer {
	struct cl_conn conn;
	bool ready;	      /* ROLE master and the library loaded: batches go */
	struct cl_slot *ring; /* max_inflight slots, oldest at head */
	uint32_t head, count; /* count: submitted, done() not called yet */
	uint64_t next_ticket;
};

struct cl_reader {
	struct cl_conn conn;
	bool tailing;		/* resync over, the feed tailed */
	bool scan_done;		/* the resync's SCAN came back to cursor 0 */
	unsigned rows_pending;	/* bindings asked for, not answered */
	uint64_t next_ms;	/* not reopened before */
	char lastid[CL_ID_MAX]; /* the last feed id read (or the resync's start) */
	uint64_t ord;		/* entries added to the feed up to lastid */
};

struct cl_sentinel {
	struct cl_conn conn;
	unsigned idx;	/* the sentinel asked now, or next */
	unsigned tried; /* sentinels that failed in this round */
	bool answered;	/* cl->host / port hold its answer */
};

/* Where the master is in the link's life (cl_link.c). */
enum cl_phase {
	CL_PHASE_IDLE,	 /* nothing open; the next attempt at next_ms */
	CL_PHASE_ASKING, /* a sentinel asked for the master */
	CL_PHASE_MASTER, /* the writer open (ready or in its handshake) */
};

struct cl {
	struct cl_config cfg;
	struct cl_ops ops;
	uint64_t now; /* cl_run()'s now_ms */
	unsigned ncb; /* callbacks made, ever */
	enum cl_state state;
	enum cl_phase phase;
	uint64_t next_ms;
	char host[CL_HOST_MAX]; /* the master tried or in use */
	uint16_t port;
	char feed[sizeof(((struct cl_config *)0)->prefix) + 8]; /* P feed */
	struct cl_writer w;
	struct cl_reader r;
	struct cl_sentinel s;
	struct cl_stats stats;
	pthread_mutex_t mu; /* master_str and error, read from other threads */
	char master_str[CL_HOST_MAX + 8];
	char error[256];
};

/* cl_state.c */
void cl_state_update(struct cl *cl);
void cl_set_error(struct cl *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cl_set_master(struct cl *cl, const char *s);

/* cl_conn.c */
int cl_conn_open(struct cl_conn *c, const char *host, uint16_t port);
void cl_conn_close(struct cl_conn *c);
void cl_conn_fail(struct cl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cl_conn_send(struct cl_conn *c, redisCallbackFn *fn, void *priv, int argc, const char **argv,
		 const size_t *lens, uint32_t extra_ms);
int cl_conn_cmd(struct cl_conn *c, redisCallbackFn *fn, void *priv, uint32_t extra_ms, ...)
	__attribute__((sentinel));
struct cl_conn *cl_conn_answered(redisAsyncContext *ac, const redisReply *r);
bool cl_conn_timed_out(const struct cl_conn *c);
void cl_conn_poll(struct cl *cl);
bool cl_reply_is_err(const redisReply *r);
const char *cl_reply_what(const redisReply *r);
bool cl_err_is_fatal(const char *msg);

/* cl_lua.c */
extern const char cl_lua_src[];

/* cl_write.c */
int cl_write_init(struct cl *cl);
void cl_write_fini(struct cl *cl);
int cl_write_open(struct cl *cl);
void cl_write_lost(struct cl *cl);
bool cl_write_timed_out(struct cl *cl);
void cl_write_deliver(struct cl *cl);

/* cl_feed.c */
int cl_feed_open(struct cl *cl);
void cl_feed_lost(struct cl *cl);

/* cl_sentinel.c */
int cl_sentinel_ask(struct cl *cl);

#endif /* CL_INTERNAL_H */
