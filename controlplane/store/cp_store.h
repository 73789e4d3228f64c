/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The persistent binding store (docs/design.md §4, §7 "Durability"): every
 * binding the binding tables hold (common/sw_bind.h) is also in a file, so a
 * restart loses no push address.
 *
 * Writes are grouped: cp_store_put(), cp_store_del() and cp_store_del_aor()
 * join the open batch (begun by the first of them); cp_store_commit() makes
 * the batch durable. The control plane commits once per loop round and only
 * after it returns 0 relays that round's 2xx answers to REGISTER, so a
 * binding an app was told about is in the file.
 *
 * Two backends: SQLite (a local file in WAL mode), and Redis shared with
 * the other edges (cp_store_open_shared(), docs/cluster.md), whose batches
 * become durable later (cp_store_submit(), the hooks' done()). The
 * functions here dispatch over a backend table (cp_store_internal.h).
 * Single-threaded: the control-plane thread owns a store.
 *
 * Rows are keyed by (AOR, device key), the device key saying which device
 * of the AOR a binding is with the identity rules of sw_bind_match():
 * cp_store_device_key().
 */
#ifndef CP_STORE_H
#define CP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sw_bind.h"

/** Longest device key, NUL included: "c:" + the longest contact. */
#define CP_STORE_KEY_MAX (2 + SW_CONTACT_MAX)

/**
 * Counters, one X-macro list so telemetry and code cannot drift apart:
 * X(name, description).
 */
#define CP_STORE_STATS(X)                                                                 \
	X(puts, "bindings written (upserts) into a batch")                                \
	X(deletes, "bindings deleted (cp_store_del, each row of cp_store_del_aor)")       \
	X(commits, "batches committed")                                                   \
	X(commit_errors, "batches that failed and were rolled back")                      \
	X(last_commit_us, "duration of the last commit, microseconds")                    \
	X(max_commit_us, "longest commit since open, microseconds")                       \
	X(loaded, "bindings handed out by cp_store_load")                                 \
	X(load_expired, "expired bindings cp_store_load deleted")                         \
	X(load_skipped, "rows cp_store_load could not read back (bad address or length)") \
	X(journaled, "shared store: changes written to the local journal (Redis away)")   \
	X(journal_depth, "shared store: changes in the journal now (gauge)")              \
	X(replayed, "shared store: journal changes Redis has taken since")                \
	X(feed_applied, "shared store: other edges' changes handed to the tables")        \
	X(feed_bad, "shared store: values from Redis that did not read back (skipped)")

/** Counters of one store, since cp_store_open(). */
struct cp_store_stats {
#define CP_STORE_STAT_FIELD_(name, desc) uint64_t name;
	CP_STORE_STATS(CP_STORE_STAT_FIELD_)
#undef CP_STORE_STAT_FIELD_
};

struct cp_store;

/**
 * Open the store at @p path, creating the file (and its missing parent
 * directories, mode 0750) and the schema if needed. The file is SQLite in
 * WAL mode; a commit survives the process being killed, and with
 * @p sync_full (bindings.store_sync = "full") also a power loss (an fsync
 * per commit; otherwise SQLite's synchronous=NORMAL).
 * @param path  borrowed (copied for messages).
 * @param err   on failure, one line naming the path and the cause, e.g.
 *              "bindings.store /x/y.db: unable to open database file"
 *              (borrowed buffer of @p errlen bytes; may be NULL).
 * @return the store (the caller owns it: cp_store_close()), or NULL.
 */
struct cp_store *cp_store_open(const char *path, bool sync_full, char *err, size_t errlen);

struct cl;
struct cl_config;

/**
 * A store shared with other edges through Redis (docs/cluster.md): every
 * batch goes to Redis as one transaction, and the local SQLite file at
 * @p path (as cp_store_open()) keeps a journal of what Redis has not
 * acknowledged. @p cl is copied. Nothing connects before the first
 * cp_store_load() or cp_store_poll().
 * @return the store, or NULL (@p err says why).
 */
struct cp_store *cp_store_open_shared(const char *path, bool sync_full, const struct cl_config *cl,
				      char *err, size_t errlen);

/** The link to Redis of a shared store (telemetry reads its counters); NULL
 *  for a local one. */
struct cl *cp_store_link(const struct cp_store *s);

/** What other edges changed (cp_store_set_hooks()). */
enum cp_store_change {
	CP_STORE_PUT = 1, /**< a binding made or refreshed: every field of r */
	CP_STORE_DEL,	  /**< a device removed: r has its AOR and identity */
	CP_STORE_DEL_AOR, /**< every device of r's AOR removed */
};

/** Callbacks of a shared store, run inside cp_store_poll() (and
 *  cp_store_load() for changes). */
struct cp_store_hooks {
	void *arg;
	/** The batch of @p ticket (cp_store_submit() returned 1) is durable
	 *  (@p ok: in Redis, or in the journal) or lost (!@p ok). In order. */
	void (*done)(void *arg, uint64_t ticket, bool ok);
	/** Another edge's change, made through edge @p edge (its
	 *  cluster.edge); a full load after a reconnection hands every binding
	 *  (own ones too) as CP_STORE_PUT. The record and the strings are
	 *  borrowed for the call. */
	void (*change)(void *arg, enum cp_store_change kind, const struct sw_bind_rec *r,
		       const char *edge, size_t edge_len);
};

/** Set @p s's hooks (copied). A local store never calls them. */
void cp_store_set_hooks(struct cp_store *s, const struct cp_store_hooks *h);

/**
 * End the open batch: as cp_store_commit() on a local store; a shared store
 * sends it to Redis, or writes it to its journal while Redis is away.
 * @param ticket  set when 1 is returned.
 * @return 0 (durable now, or no batch open); 1 (sent: the hooks' done()
 *         says how it ended, in a later cp_store_poll()); -EIO (lost, as
 *         cp_store_commit()).
 */
int cp_store_submit(struct cp_store *s, uint64_t *ticket);

/** Move a shared store's traffic (never blocks); a local one: nothing.
 *  @return work done (0: none). */
unsigned cp_store_poll(struct cp_store *s);

/** Roll back an open batch, close the file, free @p s. NULL is a no-op. */
void cp_store_close(struct cp_store *s);

/**
 * The device key of @p r: "i:" + instance when it has one, else "p:" +
 * provider 0x1f prid 0x1f param (the sw_pn_key() layout; the fields of a
 * sw_bind_rec are already canonical, so they are not unescaped again) when
 * it has a push address, else "c:" + contact. Two records are the same
 * device of an AOR for sw_bind_match() exactly when their keys are equal.
 * @param out  NUL-terminated key (caller's buffer of @p cap bytes;
 *             CP_STORE_KEY_MAX is always enough).
 * @return the key length, -E2BIG (@p cap too small) or -EINVAL (no contact).
 */
int cp_store_device_key(const struct sw_bind_rec *r, char *out, size_t cap);

/**
 * Insert or replace (same AOR and device key) the binding @p r in the open
 * batch. @p r and its strings are borrowed (copied into the batch).
 * @return 0; -EINVAL or -E2BIG (@p r is not a valid binding, as
 *         sw_bind_put(); the batch is untouched); -EIO (the backend failed:
 *         the batch is lost, cp_store_commit() will roll it back and return
 *         -EIO; cp_store_error() says why).
 */
int cp_store_put(struct cp_store *s, const struct sw_bind_rec *r);

/**
 * Delete the binding of the device @p r identifies (its AOR and device key)
 * in the open batch. Deleting what is not there is not an error.
 * @return 0, -EINVAL, -E2BIG or -EIO as cp_store_put().
 */
int cp_store_del(struct cp_store *s, const struct sw_bind_rec *r);

/**
 * Delete every binding of @p aor ("Contact: *") in the open batch.
 * @param aor  borrowed, @p len bytes, not NUL-terminated.
 * @return the number of rows deleted (as seen inside the batch), -EINVAL
 *         (empty) or -EIO as cp_store_put().
 */
int cp_store_del_aor(struct cp_store *s, const char *aor, size_t len);

/**
 * Commit the open batch: when it returns 0 every write before it is in the
 * file. No open batch: 0 at once. A shared store: -EOPNOTSUPP (its
 * batches end with cp_store_submit()).
 * @return 0; -EIO: nothing of the batch is in the file (rolled back), the
 *         cause is in cp_store_error(); the next write opens a new batch.
 */
int cp_store_commit(struct cp_store *s);

/**
 * One held INVITE in the journal of held calls (docs/design.md §7, "Held
 * calls and a crash"): what a restarted sipwake needs to answer it.
 * Pointers borrowed.
 */
struct cp_store_held {
	const char *key; /**< Call-ID, 0x1f, the top Via's branch */
	size_t key_len;
	struct sw_ip src; /**< where it came from (the PBX, or an edge) */
	uint16_t sport;
	int64_t deadline_ms; /**< wall clock, ms: its wake.timeout_s ends */
	uint32_t tag;	     /**< our To-tag (every answer of ours but 100 has it) */
	const uint8_t *inv;  /**< the INVITE as it came: a response copies its
			      *   Vias, From, To, Call-ID and CSeq */
	size_t inv_len;
};

/**
 * Journal the held call @p h (insert, or replace the same key) in the open
 * batch: durable with the round's commit (a shared store: in its local
 * SQLite file, committed when the batch is submitted; never in Redis).
 * @return 0; -EINVAL (no key, no INVITE); -EIO as cp_store_put().
 */
int cp_store_held_put(struct cp_store *s, const struct cp_store_held *h);

/**
 * Delete the held call keyed @p key (it got its final answer) in the open
 * batch. Deleting what is not there is not an error.
 * @return 0, -EINVAL (empty key) or -EIO as cp_store_put().
 */
int cp_store_held_del(struct cp_store *s, const char *key, size_t len);

/**
 * Hand every journaled held call to @p fn (at start-up, after
 * cp_store_load(), before new calls are held). @p fn may call
 * cp_store_held_del() (the rows were read before the first call); it
 * returns 0 to go on or a negative errno, which stops the load. Rows that
 * do not read back are deleted and counted in load_skipped.
 * @return the number handed to @p fn; -EBUSY (a batch is open); -EIO;
 *         -ENOMEM; or @p fn's error.
 */
int cp_store_held_load(struct cp_store *s, int (*fn)(const struct cp_store_held *h, void *arg),
		       void *arg);

/**
 * Read the store back (at start-up, before the first write): delete the
 * bindings with expires_at <= @p now_s, then call @p fn once for each of the
 * others. The record and its strings are borrowed, valid during the call
 * only. @p fn returns 0 to go on; a negative errno stops the load, and
 * cp_store_load() returns it.
 * @return the number of bindings handed to @p fn; -EBUSY (a batch is open);
 *         -EIO (cp_store_error() says why); or @p fn's error.
 */
int cp_store_load(struct cp_store *s, int64_t now_s,
		  int (*fn)(const struct sw_bind_rec *r, void *arg), void *arg);

/**
 * The last error, one line naming the store, e.g.
 * "bindings.store /var/lib/sipwake/bindings.db: commit: disk I/O error";
 * "" if none. Borrowed, valid until the next call on @p s.
 */
const char *cp_store_error(const struct cp_store *s);

/** Copy the counters of @p s into @p out (relaxed loads: the shared
 *  store's counters, written with CP_STORE_SET, may be read from another
 *  thread, e.g. telemetry; the others only on the owner's). */
void cp_store_get_stats(const struct cp_store *s, struct cp_store_stats *out);

#endif /* CP_STORE_H */
