/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The cluster link: bindings shared with the other edges through Redis
 * (docs/cluster.md). A library with no thread of its own: the control plane
 * drives it once per round with cl_run(), which never blocks (hiredis's
 * async API over non-blocking sockets, polled with a zero timeout), so a
 * slow or dead Redis never stalls the control plane.
 *
 * Two connections to the Redis master (found directly, or through Redis
 * Sentinel): the writer, which runs each submitted batch as one pipelined
 * one FCALL of a Redis function (and WAIT for replicas when asked), and the
 * feed reader, which tails the change feed (a Redis Stream that each batch
 * appends to inside the same transaction) and hands every other edge's
 * change up. On every (re)connection the reader first loads every binding
 * in Redis (a resync), then tails the feed from the id it saw before the
 * load began, so no change is missed: a change made during the load comes
 * twice, and the control plane applies changes newest-first (by stamp), so
 * twice is harmless.
 *
 * What a binding is, cl does not know: the control plane hands it an AOR,
 * a device key, an opaque value (its own encoding) and two numbers. In
 * Redis (prefix P, default "sipwake:"):
 *   P b:<aor> 0x1f <key>   hash {v: value, s: stamp, e: edge}, EXPIREAT expires_at
 *   P a:<aor>              set of the AOR's device keys, expiring with the last
 *   P feed                 stream of changes, XADD MAXLEN ~ feed_maxlen
 * and one Redis function library ("sipwake"), loaded at each connection,
 * whose functions write a binding only when its stamp is not older than
 * the stored one (newest wins on every edge and in Redis alike).
 *
 * Single-threaded: every function here is called on the control plane's
 * thread, and every callback runs inside cl_run() (or cl_free()).
 */
#ifndef CL_H
#define CL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CL_NAME_MAX	 64
#define CL_HOST_MAX	 256
#define CL_MAX_SENTINELS 8

/** host:port of a Redis server or sentinel. */
struct cl_addr {
	char host[CL_HOST_MAX]; /**< IPv4 / IPv6 literal or a name */
	uint16_t port;
};

/** The cluster { } group of the config. */
struct cl_config {
	char edge[CL_NAME_MAX]; /**< this edge's name, unique among the edges */
	struct cl_addr redis;	/**< the Redis master; host "" when sentinels are used */
	unsigned n_sentinels;	/**< > 0: the master is asked of these, in turn */
	struct cl_addr sentinels[CL_MAX_SENTINELS];
	char master[CL_NAME_MAX]; /**< Sentinel's name of the master, default "sipwake" */
	char password[128];	  /**< AUTH, "" none (also sent to sentinels) */
	char prefix[32];	  /**< key prefix, default "sipwake:"; [A-Za-z0-9:_.-] only */
	uint32_t timeout_ms;	  /**< connect, and a batch's answer; default 1000 */
	uint32_t retry_ms;	  /**< between reconnection attempts, default 500 */
	uint32_t wait_replicas;	  /**< > 0: WAIT for this many replicas after each batch */
	uint32_t wait_ms;	  /**< WAIT's timeout, default 100 */
	uint32_t feed_maxlen;	  /**< the feed keeps about this many changes, default 100000 */
	uint32_t max_inflight;	  /**< batches submitted, not yet answered; default 1024 */
};

/** Fill @p c with the defaults above (no server, no edge name). Inline:
 *  the config loader fills it without linking the link. */
static inline void cl_config_defaults(struct cl_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->master, sizeof(c->master), "sipwake");
	snprintf(c->prefix, sizeof(c->prefix), "sipwake:");
	c->timeout_ms = 1000;
	c->retry_ms = 500;
	c->wait_ms = 100;
	c->feed_maxlen = 100000;
	c->max_inflight = 1024;
}

/** The link's state, as telemetry shows it. */
enum cl_state {
	CL_DOWN = 0,  /**< not connected (never, or lost): cl_submit() refuses */
	CL_RESYNCING, /**< connected, loading every binding: writes go, feed waits */
	CL_UP,	      /**< connected, tailing the feed */
};

/** Short name of a state ("down", "resyncing", "up"), never NULL. */
const char *cl_state_name(enum cl_state s);

/** What a change does. */
enum cl_change {
	CL_PUT = 1, /**< insert or replace (aor, key) with value */
	CL_DEL,	    /**< delete (aor, key) */
	CL_DEL_AOR, /**< delete every binding of aor not newer than it (key empty) */
};

/** A binding change, as it travels (strings borrowed, not NUL-terminated).
 *  In a batch, edge is not read: the link's own edge is written. */
struct cl_binding {
	const char *aor, *key, *val, *edge;
	size_t aor_len, key_len, val_len, edge_len;
	int64_t stamp;	    /**< put: its registration time; delete: when (wall s) */
	int64_t expires_at; /**< put: wall s; 0 for deletes */
};

/** The control plane's callbacks; every one runs inside cl_run() (done()
 *  in cl_free() too). They may call cl_batch_*() and cl_submit(), never
 *  cl_free(). */
struct cl_ops {
	void *arg;
	/** Batch @p ticket is answered: @p ok = in Redis (and WAITed for);
	 *  otherwise it is not known to be (timeout, error, lost connection).
	 *  Called exactly once per ticket, in ticket order. */
	void (*done)(void *arg, uint64_t ticket, bool ok);
	/** Another edge's change from the feed; during a resync, every
	 *  binding in Redis as a CL_PUT (own ones included: edge says whose). */
	void (*change)(void *arg, enum cl_change kind, const struct cl_binding *b);
	/** The state changed (after the change is made). */
	void (*state)(void *arg, enum cl_state s);
};

struct cl;
struct cl_batch;

/**
 * A link for @p cfg (copied). Connects on the first cl_run().
 * @return the link, or NULL (out of memory, or @p cfg is not usable:
 *         @p err says which, when not NULL).
 */
struct cl *cl_new(const struct cl_config *cfg, const struct cl_ops *ops, char *err, size_t errlen);

/** Fail every batch in flight (done(ok = false)), disconnect, free. NULL: no-op. */
void cl_free(struct cl *cl);

/**
 * Do what can be done now without waiting: connect or reconnect (after
 * retry_ms), read and write both connections, time out a batch not
 * answered within timeout_ms (the writer is then dropped and every batch
 * in flight is done(ok = false)). @p now_ms: a monotonic clock.
 * @return callbacks made (0: nothing happened).
 */
unsigned cl_run(struct cl *cl, uint64_t now_ms);

/** The state now. */
enum cl_state cl_state(const struct cl *cl);

/** A new, empty batch (NULL: out of memory). */
struct cl_batch *cl_batch_new(void);
/** Add a change to @p b (strings copied). 0 or -ENOMEM / -EINVAL. */
int cl_batch_put(struct cl_batch *b, const struct cl_binding *r);
int cl_batch_del(struct cl_batch *b, const struct cl_binding *r);
int cl_batch_del_aor(struct cl_batch *b, const struct cl_binding *r);
/** @p b is done when the master has it, without WAIT (cl_config.wait_replicas):
 *  for changes already durable elsewhere (a replayed journal), which must
 *  reach Redis even while no replica answers. */
void cl_batch_no_wait(struct cl_batch *b);
/** Changes in @p b. */
unsigned cl_batch_len(const struct cl_batch *b);
/** Free a batch not submitted. NULL: no-op. */
void cl_batch_free(struct cl_batch *b);

/**
 * Send @p b (taken, even on error) as one transaction; its done() follows
 * in a later cl_run(). @p ticket: set to its ticket (tickets grow by one
 * from 1).
 * @return 0; -ENOTCONN (state is CL_DOWN, or the writer was lost earlier
 *         in this round: nothing sent, no done() will come, the caller
 *         keeps the changes elsewhere); -ENOBUFS
 *         (max_inflight batches in flight, likewise); -EINVAL (empty).
 */
int cl_submit(struct cl *cl, struct cl_batch *b, uint64_t *ticket);

/** Counters and gauges (X-macro: name, description). */
#define CL_FOREACH_STAT(_)                                                             \
	_(connects, "writer connections made (after a Sentinel lookup if configured)") \
	_(disconnects, "connections lost or dropped (error, timeout, failover)")       \
	_(sentinel_lookups, "masters asked of Sentinel")                               \
	_(batches_ok, "batches answered OK")                                           \
	_(batches_failed, "batches done(ok = false)")                                  \
	_(batch_timeouts, "batches not answered within timeout_ms")                    \
	_(changes_written, "changes written by batches answered OK (stale ones not)")  \
	_(changes_stale, "changes Redis kept out: a newer stamp was there")            \
	_(feed_changes, "changes of other edges read from the feed")                   \
	_(feed_own, "own changes read back from the feed (skipped)")                   \
	_(resyncs, "full loads of the bindings (each connection of the reader)")       \
	_(resync_rows, "bindings handed up by full loads")                             \
	_(feed_gaps, "feed trimmed past the last id read: a resync instead")           \
	_(inflight, "batches in flight now (gauge)")                                   \
	_(feed_lag_ms, "age of the last feed entry read, ms (gauge)")                  \
	_(state, "enum cl_state now (gauge: 0 down, 1 resyncing, 2 up)")

struct cl_stats {
#define CL_STAT_FIELD(n, d) uint64_t n;
	CL_FOREACH_STAT(CL_STAT_FIELD)
#undef CL_STAT_FIELD
};

/** Copy the counters (relaxed loads: safe from another thread, e.g. telemetry). */
void cl_get_stats(const struct cl *cl, struct cl_stats *out);

/** The master in use ("host:port", "" when none), and the last error
 *  ("" none): copied into @p buf (@p len bytes). Safe from another thread. */
void cl_master(const struct cl *cl, char *buf, size_t len);
void cl_last_error(const struct cl *cl, char *buf, size_t len);

#endif /* CL_H */
