/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Redis backend of the binding store (docs/cluster.md): bindings shared
 * with the other edges. A batch becomes one transaction on the cluster link
 * (cluster/cl.h); its outcome comes back later, in ticket order, and the
 * caller relays the round's 2xx only then. While Redis is away, or while
 * the journal still holds older changes, a batch goes to the journal
 * instead (cp_store_journal.h, in the local SQLite file): durable at once,
 * replayed to Redis in order when the link is up again, then forgotten.
 * A batch Redis failed (timeout, lost connection) is journaled when its
 * failure is known: what the app was told is never lost.
 *
 * Other edges' changes arrive through the link's change() callback and go
 * up through the store's hooks, decoded (cp_store_codec.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cluster/cl.h"
#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "controlplane/store/cp_store_codec.h"
#include "controlplane/store/cp_store_internal.h"
#include "controlplane/store/cp_store_journal.h"

#define VAL_MAX	    4096 /* one encoded binding; fields are bounded well below */
#define REPLAY_OPS  512	 /* journal changes per replayed batch */
#define LOAD_WAIT_S 10	 /* at start, the longest wait for Redis to answer */
#define LOAD_MAX_S  300	 /* and for the first full load, once it answers */

/* One batch: its changes in journal form, strings in one arena. */
struct rd_batch {
	struct rd_batch *next;
	uint64_t cl_ticket;
	uint64_t ticket;  /* the store's; 0: a replay of the journal (durable here
			   * already: Redis's master is enough, no WAIT) */
	int64_t last_seq; /* a replay: the journal's last seq in it */
	unsigned n, cap;
	struct cp_journal_op *ops;
	char *arena;
	size_t used, room;
};

struct rd_store {
	struct cp_store s; /* first: the front's view */
	struct cp_store *local;
	struct cp_journal *j;
	struct cl *cl;
	struct rd_batch *open;
	struct rd_batch *head, *tail; /* in flight, in the link's ticket order */
	uint64_t next_ticket;
	bool replay_inflight;
	/* cp_store_load(): the rows of the first full load go to load_fn */
	int (*load_fn)(const struct sw_bind_rec *r, void *arg);
	void *load_arg;
	int64_t load_now;
	int load_n;		/* bindings handed up by the load */
	bool loading;		/* cp_store_load() runs */
	char edge[CL_NAME_MAX]; /* this edge's name: the journal's changes are its own */
	uint64_t *load_expired, *load_skipped;
	char val[VAL_MAX];
	char recbuf[CP_CODEC_BUF];
};

/* The local SQLite store holds only the journal's table: no batch is ever
 * open on it, so its backend closes it directly. */
static void local_close(struct cp_store *local)
{
	if (local != NULL)
		local->be->close(local);
}

static struct rd_store *rd(struct cp_store *s)
{
	return (struct rd_store *)s;
}

static void batch_free(struct rd_batch *b)
{
	if (b == NULL)
		return;
	free(b->ops);
	free(b->arena);
	free(b);
}

/* A copy of @p p in @p b's arena; rebased pointers are fixed by the caller
 * through offsets, so the arena only grows before any pointer is taken. */
static int arena_add(struct rd_batch *b, const char *p, size_t len, size_t *off)
{
	if (b->used + len > b->room) {
		size_t room = b->room ? b->room * 2 : 4096;
		char *a;

		while (room < b->used + len)
			room *= 2;
		a = realloc(b->arena, room);
		if (a == NULL)
			return -ENOMEM;
		b->arena = a;
		b->room = room;
	}
	if (len > 0)
		memcpy(b->arena + b->used, p, len);
	*off = b->used;
	b->used += len;
	return 0;
}

/* Add a change; its strings' pointers hold offsets until batch_fix(). */
static int batch_add(struct rd_store *q, enum cl_change kind, const struct cl_binding *in)
{
	struct rd_batch *b = q->open;
	struct cp_journal_op *op;
	size_t a, k, v;

	if (b == NULL) {
		b = q->open = calloc(1, sizeof(*b));
		if (b == NULL)
			return -ENOMEM;
	}
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 16;
		struct cp_journal_op *ops = realloc(b->ops, cap * sizeof(*ops));

		if (ops == NULL)
			return -ENOMEM;
		b->ops = ops;
		b->cap = cap;
	}
	if (arena_add(b, in->aor, in->aor_len, &a) != 0 ||
	    arena_add(b, in->key, in->key_len, &k) != 0 ||
	    arena_add(b, in->val, in->val_len, &v) != 0)
		return -ENOMEM;
	op = &b->ops[b->n++];
	*op = (struct cp_journal_op){.kind = kind, .b = *in};
	op->b.aor = (const char *)(uintptr_t)a;
	op->b.key = (const char *)(uintptr_t)k;
	op->b.val = (const char *)(uintptr_t)v;
	op->b.edge = NULL;
	op->b.edge_len = 0;
	return 0;
}

/* Offsets into pointers, once the arena no longer moves. */
static void batch_fix(struct rd_batch *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		struct cl_binding *x = &b->ops[i].b;

		x->aor = b->arena + (uintptr_t)x->aor;
		x->key = b->arena + (uintptr_t)x->key;
		x->val = b->arena + (uintptr_t)x->val;
	}
}

static int fail_oom(struct rd_store *q)
{
	cp_store_set_error(&q->s, "out of memory for a batch");
	return -EIO;
}

static int rd_put(struct cp_store *s, const struct sw_bind_rec *r, const char *key, size_t klen)
{
	struct rd_store *q = rd(s);
	int n = cp_codec_encode(r, q->val, sizeof(q->val));
	struct cl_binding b = {.aor = r->aor,
			       .aor_len = r->aor_len,
			       .key = key,
			       .key_len = klen,
			       .stamp = r->registered_at,
			       .expires_at = r->expires_at};

	if (n < 0) {
		cp_store_set_error(s, "binding of %.*s does not encode", (int)r->aor_len, r->aor);
		return -EIO;
	}
	b.val = q->val;
	b.val_len = (size_t)n;
	return batch_add(q, CL_PUT, &b) == 0 ? 0 : fail_oom(q);
}

static int rd_del(struct cp_store *s, const char *aor, size_t alen, const char *key, size_t klen)
{
	struct cl_binding b = {
		.aor = aor, .aor_len = alen, .key = key, .key_len = klen, .stamp = sw_wall_s()};

	return batch_add(rd(s), CL_DEL, &b) == 0 ? 1 : fail_oom(rd(s));
}

static int rd_del_aor(struct cp_store *s, const char *aor, size_t alen)
{
	struct cl_binding b = {.aor = aor, .aor_len = alen, .stamp = sw_wall_s()};

	/* How many rows go is known only to Redis: none counted here. */
	return batch_add(rd(s), CL_DEL_AOR, &b) == 0 ? 0 : fail_oom(rd(s));
}

/* ---- the journal of held calls ------------------------------------------
 * Local to this edge (a held call is this edge's transaction with the PBX:
 * no other edge can answer it), never sent to Redis: its writes open a
 * transaction on the local SQLite file, ended with the round's batch
 * (rd_submit()), or earlier when the binding journal needs the file for a
 * transaction of its own (before cp_journal_append(), cp_journal_trim()). */

static int rd_held_put(struct cp_store *s, const struct cp_store_held *h)
{
	struct cp_store *l = rd(s)->local;
	int rc = l->be->held_put(l, h);

	if (rc < 0)
		cp_store_set_error(s, "%s", l->err);
	return rc;
}

static int rd_held_del(struct cp_store *s, const char *key, size_t len)
{
	struct cp_store *l = rd(s)->local;
	int rc = l->be->held_del(l, key, len);

	if (rc < 0)
		cp_store_set_error(s, "%s", l->err);
	return rc;
}

static int rd_held_load(struct cp_store *s, int (*fn)(const struct cp_store_held *h, void *arg),
			void *arg, uint64_t *skipped)
{
	struct cp_store *l = rd(s)->local;
	int rc = l->be->held_load(l, fn, arg, skipped);

	if (rc == -EIO)
		cp_store_set_error(s, "%s", l->err);
	return rc;
}

/* End the local transaction the held calls opened: commit (or roll back). */
static int held_end(struct rd_store *q, bool rollback)
{
	int rc;

	if (sqlite3_get_autocommit(cp_store_sqlite_db(q->local)))
		return 0;
	rc = q->local->be->end_batch(q->local, rollback);
	if (rc != 0) {
		cp_store_set_error(&q->s, "%s", q->local->err);
		CP_LOG(ERR, "%s: held calls not journaled", q->s.err);
	}
	return rc;
}

static int rd_end_batch(struct cp_store *s, bool rollback)
{
	struct rd_store *q = rd(s);

	(void)rollback; /* only ever called to throw the open batch away */
	held_end(q, true);
	batch_free(q->open);
	q->open = NULL;
	return 0;
}

static int journal(struct rd_store *q, struct rd_batch *b)
{
	held_end(q, false);
	if (cp_journal_append(q->j, b->ops, b->n) != 0) {
		cp_store_set_error(&q->s, "%s", cp_journal_error(q->j));
		CP_LOG(ERR, "%s", q->s.err);
		return -EIO;
	}
	CP_STORE_ADD(&q->s, journaled, b->n);
	CP_STORE_SET(&q->s, journal_depth, cp_journal_depth(q->j));
	return 0;
}

static struct cl_batch *to_link(const struct rd_batch *b)
{
	struct cl_batch *cb = cl_batch_new();

	for (unsigned i = 0; cb != NULL && i < b->n; i++) {
		const struct cp_journal_op *op = &b->ops[i];
		int rc = op->kind == CL_PUT   ? cl_batch_put(cb, &op->b)
			 : op->kind == CL_DEL ? cl_batch_del(cb, &op->b)
					      : cl_batch_del_aor(cb, &op->b);

		if (rc != 0) {
			cl_batch_free(cb);
			cb = NULL;
		}
	}
	return cb;
}

/* Hand @p b to the link; 0 (in flight, queued) or -errno (not sent). */
static int send_batch(struct rd_store *q, struct rd_batch *b)
{
	struct cl_batch *cb = to_link(b);
	int rc;

	if (cb == NULL)
		return -ENOMEM;
	if (b->ticket == 0)
		cl_batch_no_wait(cb);
	rc = cl_submit(q->cl, cb, &b->cl_ticket);
	if (rc != 0)
		return rc;
	if (q->tail != NULL)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	return 0;
}

static int rd_submit(struct cp_store *s, uint64_t *ticket)
{
	struct rd_store *q = rd(s);
	struct rd_batch *b = q->open;
	int rc;

	q->open = NULL;
	/* A held call's journal write never costs the round's 2xx: logged. */
	held_end(q, false);
	if (b == NULL)
		return 0;
	batch_fix(b);
	b->ticket = q->next_ticket + 1; /* not 0: not a replay (send_batch()) */
	/* In order: while older changes wait in the journal, newer ones join
	 * them there (a delete must not reach Redis before an older put). */
	if (cl_state(q->cl) == CL_DOWN || cp_journal_depth(q->j) > 0 || send_batch(q, b) != 0) {
		rc = journal(q, b);
		batch_free(b);
		return rc;
	}
	q->next_ticket = b->ticket;
	*ticket = b->ticket;
	return 1;
}

/* ---- the link's callbacks ---------------------------------------------- */

static void on_done(void *arg, uint64_t cl_ticket, bool ok)
{
	struct rd_store *q = arg;
	struct rd_batch *b = q->head;

	if (b == NULL || b->cl_ticket != cl_ticket) {
		CP_LOG(ERR, "cluster link answered batch %lu, not the one in flight",
		       (unsigned long)cl_ticket);
		return;
	}
	q->head = b->next;
	if (q->head == NULL)
		q->tail = NULL;
	if (b->ticket == 0) { /* a replay */
		q->replay_inflight = false;
		held_end(q, false);
		if (ok && cp_journal_trim(q->j, b->last_seq) == 0) {
			CP_STORE_ADD(&q->s, replayed, b->n);
			CP_STORE_SET(&q->s, journal_depth, cp_journal_depth(q->j));
			if (q->s.stats.journal_depth == 0)
				CP_LOG(NOTICE, "cluster: journal replayed to Redis");
		}
	} else {
		/* Not in Redis (or not known to be): the journal keeps it. */
		bool durable = ok || journal(q, b) == 0;

		if (q->s.hooks.done != NULL)
			q->s.hooks.done(q->s.hooks.arg, b->ticket, durable);
	}
	batch_free(b);
}

static void on_change(void *arg, enum cl_change kind, const struct cl_binding *b)
{
	struct rd_store *q = arg;
	struct sw_bind_rec r;
	int rc;

	if (kind == CL_PUT)
		rc = cp_codec_decode(b->val, b->val_len, &r, q->recbuf);
	else if (kind == CL_DEL)
		rc = cp_codec_key_rec(b->aor, b->aor_len, b->key, b->key_len, &r);
	else
		rc = cp_codec_key_rec(b->aor, b->aor_len, "c:-", 3, &r);
	if (kind != CL_PUT)
		r.registered_at = b->stamp; /* when it was deleted: newest wins */
	if (rc != 0 || (kind == CL_PUT &&
			(r.aor_len != b->aor_len || memcmp(r.aor, b->aor, b->aor_len) != 0))) {
		CP_STORE_ADD(&q->s, feed_bad, 1);
		return;
	}
	if (q->loading) { /* the first full load, at start */
		if (kind != CL_PUT)
			return;
		if (r.expires_at <= q->load_now) {
			(*q->load_expired)++;
			return;
		}
		/* With the edge that wrote it, when the control plane takes
		 * that (its hooks): a device bound through another edge is
		 * reached through it from the first call on. */
		if (q->s.hooks.change != NULL)
			q->s.hooks.change(q->s.hooks.arg, CP_STORE_PUT, &r, b->edge, b->edge_len);
		else if (q->load_fn != NULL && q->load_fn(&r, q->load_arg) < 0)
			(*q->load_skipped)++;
		q->load_n++;
		return;
	}
	CP_STORE_ADD(&q->s, feed_applied, 1);
	if (q->s.hooks.change != NULL)
		q->s.hooks.change(q->s.hooks.arg, (enum cp_store_change)kind, &r, b->edge,
				  b->edge_len);
}

static void on_state(void *arg, enum cl_state st)
{
	struct rd_store *q = arg;

	(void)q;
	if (st == CL_DOWN)
		CP_LOG(WARNING,
		       "cluster: Redis link down: changes are journaled in %s until it "
		       "is back",
		       q->s.path);
	else
		CP_LOG(NOTICE, "cluster: Redis link %s", cl_state_name(st));
}

struct replay_arg {
	struct rd_store *q;
	int64_t last_seq;
	bool failed;
};

static void replay_one(const struct cp_journal_op *op, void *arg)
{
	struct replay_arg *a = arg;

	a->failed |= batch_add(a->q, op->kind, &op->b) != 0;
	a->last_seq = op->seq;
}

/* One batch of the journal to Redis at a time, once the link is up; the
 * journal forgets it when Redis has it (on_done()). */
static unsigned replay(struct rd_store *q)
{
	struct replay_arg a = {.q = q};
	struct rd_batch *b;
	int n;

	if (q->replay_inflight || cl_state(q->cl) != CL_UP || cp_journal_depth(q->j) == 0)
		return 0;
	n = cp_journal_read(q->j, 0, REPLAY_OPS, replay_one, &a);
	b = q->open;
	q->open = NULL;
	if (n <= 0 || a.failed || b == NULL) {
		batch_free(b);
		return 0;
	}
	batch_fix(b);
	b->last_seq = a.last_seq;
	if (send_batch(q, b) != 0) {
		batch_free(b);
		return 0;
	}
	q->replay_inflight = true;
	return 1;
}

/* At start, what the journal holds is newer than Redis: its bindings go
 * to the tables too. A delete there cannot take a row back out of the
 * load (the table is filling): such a device stays until it expires. */
static void load_journal_one(const struct cp_journal_op *op, void *arg)
{
	struct replay_arg *a = arg;
	struct cl_binding b = op->b;

	a->last_seq = op->seq;
	b.edge = a->q->edge;
	b.edge_len = strlen(a->q->edge);
	if (op->kind == CL_PUT)
		on_change(a->q, CL_PUT, &b);
}

static unsigned rd_poll(struct cp_store *s)
{
	struct rd_store *q = rd(s);

	return cl_run(q->cl, sw_mono_us() / 1000) + replay(q);
}

static struct cl *rd_link(const struct cp_store *s)
{
	return ((const struct rd_store *)s)->cl;
}

static int rd_load(struct cp_store *s, int64_t now_s,
		   int (*fn)(const struct sw_bind_rec *r, void *arg), void *arg, uint64_t *expired,
		   uint64_t *skipped)
{
	struct rd_store *q = rd(s);
	uint64_t t0 = sw_mono_us(), end = t0 + (uint64_t)LOAD_WAIT_S * 1000000;
	uint64_t end_load = t0 + (uint64_t)LOAD_MAX_S * 1000000;

	q->loading = true;
	q->load_fn = fn;
	q->load_arg = arg;
	q->load_now = now_s;
	q->load_expired = expired;
	q->load_skipped = skipped;
	/* Redis that does not answer: not waited for long. A load under way
	 * is waited for: an edge that took traffic with part of its bindings
	 * would answer 404 for the rest. */
	while (cl_state(q->cl) != CL_UP &&
	       sw_mono_us() < (cl_state(q->cl) == CL_RESYNCING ? end_load : end))
		if (cl_run(q->cl, sw_mono_us() / 1000) == 0)
			usleep(1000);
	for (struct replay_arg a = {.q = q};;)
		if (cp_journal_read(q->j, a.last_seq, REPLAY_OPS, load_journal_one, &a) <= 0)
			break;
	q->loading = false;
	q->load_fn = NULL;
	CP_STORE_ADD(&q->s, loaded, (uint64_t)q->load_n);
	if (cl_state(q->cl) != CL_UP)
		CP_LOG(WARNING,
		       "cluster: no full load from Redis (%s after %d s): starting with the "
		       "journal only; the bindings come when Redis does",
		       cl_state_name(cl_state(q->cl)),
		       cl_state(q->cl) == CL_RESYNCING ? LOAD_MAX_S : LOAD_WAIT_S);
	return q->load_n;
}

static void rd_close(struct cp_store *s)
{
	struct rd_store *q = rd(s);

	cl_free(q->cl); /* in-flight batches end done(false): journaled */
	batch_free(q->open);
	cp_journal_close(q->j);
	local_close(q->local);
	free(q);
}

static const struct cp_store_backend redis_backend = {
	.name = "redis",
	.put = rd_put,
	.del = rd_del,
	.del_aor = rd_del_aor,
	.end_batch = rd_end_batch,
	.load = rd_load,
	.close = rd_close,
	.submit = rd_submit,
	.poll = rd_poll,
	.link = rd_link,
	.held_put = rd_held_put,
	.held_del = rd_held_del,
	.held_load = rd_held_load,
};

struct cp_store *cp_store_redis_open(const char *path, bool sync_full, const struct cl_config *cl,
				     char *err, size_t errlen)
{
	struct rd_store *q = calloc(1, sizeof(*q));
	struct cl_ops ops;

	if (q == NULL) {
		snprintf(err, errlen, "bindings.store %s: out of memory", path);
		return NULL;
	}
	cp_store_init(&q->s, &redis_backend, path);
	q->local = cp_store_sqlite_open(path, sync_full, err, errlen);
	if (q->local == NULL)
		goto fail;
	q->j = cp_journal_open(cp_store_sqlite_db(q->local), err, errlen);
	if (q->j == NULL)
		goto fail;
	CP_STORE_SET(&q->s, journal_depth, cp_journal_depth(q->j));
	snprintf(q->edge, sizeof(q->edge), "%s", cl->edge);
	ops = (struct cl_ops){.arg = q, .done = on_done, .change = on_change, .state = on_state};
	q->cl = cl_new(cl, &ops, err, errlen);
	if (q->cl == NULL)
		goto fail;
	return &q->s;
fail:
	cp_journal_close(q->j);
	local_close(q->local);
	free(q);
	return NULL;
}
