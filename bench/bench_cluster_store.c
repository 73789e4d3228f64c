/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_cluster: the shared store (cp_store_open_shared()) as the control
 * plane uses it.
 *
 * Wake across edges: A puts one binding and submits (a REGISTER's 200
 * taken, the round's batch to Redis); the loop polls both stores; B's
 * hook change() gets it decoded and puts it into a real binding table
 * (sw_bind_put(), as cp_bind_remote() does). Timed: A's cp_store_put()
 * to B's sw_bind_put() returned, and to A's done() (when A's 200 leaves).
 * Redis memory: N bindings written through A's store, INFO memory's
 * used_memory before and after, with the feed and after XTRIM MAXLEN 0;
 * again with hash-max-listpack-value 1024 (restored after): what the
 * hash's encoding costs (a ~500-byte value makes it a hashtable).
 * Restart: N bindings written straight into Redis in the link's layout
 * (pipelined), then a fresh shared store's cp_store_load() into a real
 * binding table, timed from cp_store_open_shared() until every binding is
 * in the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "bench/bench_cluster.h"
#include "common/sw_clock.h"

#define WAIT_NS	     (10ull * 1000000000u)
#define MEM_BATCH    64
#define MEM_INFLIGHT 32
#define LOAD_PIPE    1000

/* What the stores' hooks saw. */
struct ctx {
	struct sw_bind_table *t;
	uint64_t base, t0; /* the binding in flight, and when A put it */
	double *wake, *ack;
	unsigned nwake, nack, acked, loaded, bad;
	bool failed;
};

static void a_done(void *arg, uint64_t ticket, bool ok)
{
	struct ctx *c = arg;

	(void)ticket;
	if (c->ack != NULL)
		c->ack[c->nack++] = (double)(bc_ns() - c->t0) / 1e3;
	c->acked++;
	c->failed |= !ok;
}

/* As cp_bind_remote(): newest wins, bound through peer 1, no connection. */
static int apply(struct ctx *c, const struct sw_bind_rec *r)
{
	const struct sw_device *d = c->t != NULL ? sw_bind_match(c->t, r) : NULL;
	struct sw_bind_rec rec = *r;

	if (c->t == NULL)
		return 0;
	if (d != NULL && d->registered_at > r->registered_at)
		return 0;
	rec.peer = 1;
	rec.conn = 0;
	rec.conn_since = 0;
	if (sw_bind_put(c->t, &rec, 0, NULL) != 0) {
		c->bad++;
		return -1;
	}
	return 0;
}

static void b_change(void *arg, enum cp_store_change kind, const struct sw_bind_rec *r,
		     const char *edge, size_t edge_len)
{
	struct ctx *c = arg;

	(void)edge;
	(void)edge_len;
	if (kind != CP_STORE_PUT || apply(c, r) != 0)
		return;
	if (c->wake != NULL && bc_aor_id(r->aor, r->aor_len) == c->base)
		c->wake[c->nwake++] = (double)(bc_ns() - c->t0) / 1e3;
	c->loaded++;
}

static int load_one(const struct sw_bind_rec *r, void *arg)
{
	struct ctx *c = arg;

	if (apply(c, r) == 0)
		c->loaded++;
	return 0;
}

/* A shared store for @p edge at <dir>/<file>, hooks on @p c, loaded. */
static struct cp_store *store_new(const struct bc_opts *o, const char *edge, const char *file,
				  const char *prefix, struct ctx *c, bool is_a)
{
	struct cl_config cfg;
	struct cp_store *s;
	char path[128], err[256] = "";

	snprintf(path, sizeof(path), "%s/%s", o->dir, file);
	bc_cfg(o, &cfg, edge, prefix);
	s = cp_store_open_shared(path, false, &cfg, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "bench_cluster: %s\n", err);
		return NULL;
	}
	cp_store_set_hooks(s, &(struct cp_store_hooks){.arg = c,
						       .done = is_a ? a_done : NULL,
						       .change = is_a ? NULL : b_change});
	if (cp_store_load(s, sw_wall_s(), load_one, c) < 0) {
		fprintf(stderr, "bench_cluster: load: %s\n", cp_store_error(s));
		cp_store_close(s);
		return NULL;
	}
	return s;
}

static void store_rm(const struct bc_opts *o, const char *file)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	char path[160];

	for (unsigned i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", o->dir, file, ext[i]);
		unlink(path);
	}
}

static void drop(const struct bc_opts *o, const char *prefix)
{
	redisContext *c = bench_redis_cli(&o->rd);

	if (c != NULL) {
		bench_redis_drop(c, prefix);
		redisFree(c);
	}
}

static void table_free(struct sw_bind_table *t, struct sw_src_table *src)
{
	sw_bind_free(t);
	sw_src_free(src);
}

int bc_run_wake(struct bc_opts *o, struct bc_wake *out)
{
	unsigned n = o->wakes;
	struct ctx a = {0}, b = {0};
	struct cp_store *s[2] = {NULL, NULL};
	struct sw_src_table *src = sw_src_create(n + 16);
	struct bc_item *it = malloc(sizeof(*it));
	char prefix[32];
	int rc = -1;

	bench_redis_prefix(prefix, sizeof(prefix), "wake");
	b.wake = calloc(n, sizeof(double));
	a.ack = calloc(n, sizeof(double));
	b.t = src != NULL ? sw_bind_create(n + 16, src) : NULL;
	if (b.t == NULL || it == NULL || b.wake == NULL || a.ack == NULL)
		goto out;
	s[0] = store_new(o, "a", "wake_a.db", prefix, &a, true);
	s[1] = s[0] != NULL ? store_new(o, "b", "wake_b.db", prefix, &b, false) : NULL;
	if (s[1] == NULL)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		uint64_t ticket, end;

		if (bc_item(o->next_id + i, it) != 0)
			goto out;
		a.base = b.base = o->next_id + i;
		a.t0 = b.t0 = bc_ns();
		if (cp_store_put(s[0], &it->g.r) != 0 || cp_store_submit(s[0], &ticket) != 1) {
			fprintf(stderr, "bench_cluster: A's batch not sent to Redis: %s\n",
				cp_store_error(s[0]));
			goto out;
		}
		for (end = a.t0 + WAIT_NS; b.nwake <= i || a.nack <= i;)
			if (bc_pump_stores(o, s, 2) == 0 && bc_ns() > end)
				break;
		if (b.nwake <= i || a.nack <= i || a.failed) {
			fprintf(stderr, "bench_cluster: wake %u: not at B within 10 s\n", i);
			goto out;
		}
		urcu_qsbr_quiescent_state();
	}
	out->p50 = bc_pct(b.wake, n, 50);
	out->p99 = bc_pct(b.wake, n, 99);
	out->ack_p50 = bc_pct(a.ack, n, 50);
	out->ack_p99 = bc_pct(a.ack, n, 99);
	rc = 0;
out:
	o->next_id += n;
	cp_store_close(s[1]);
	cp_store_close(s[0]);
	store_rm(o, "wake_a.db");
	store_rm(o, "wake_b.db");
	drop(o, prefix);
	if (b.t != NULL)
		sw_bind_free(b.t);
	sw_src_free(src);
	free(b.wake);
	free(a.ack);
	free(it);
	return rc;
}

/* N bindings through A's store under @p tag: used_memory grown per
 * binding with the feed (@p with) and without (@p without). */
static int mem_pass(struct bc_opts *o, redisContext *c, const char *tag, double *with,
		    double *without, unsigned *feed_len)
{
	unsigned n = o->mem, sent = 0, batches = 0;
	struct ctx a = {0};
	struct cp_store *s = NULL;
	struct bc_item *it = malloc(sizeof(*it));
	double u0, u1, u2;
	char prefix[32];
	redisReply *r;
	uint64_t end = bc_ns() + 6 * WAIT_NS;
	int rc = -1;

	bench_redis_prefix(prefix, sizeof(prefix), tag);
	u0 = bench_redis_info(c, "memory", "used_memory");
	s = it != NULL ? store_new(o, "a", "mem_a.db", prefix, &a, true) : NULL;
	if (s == NULL)
		goto out;
	while (a.acked < batches || sent < n) {
		while (sent < n && batches - a.acked < MEM_INFLIGHT) {
			uint64_t ticket;

			for (unsigned k = 0; k < MEM_BATCH && sent < n; k++, sent++)
				if (bc_item(o->next_id + sent, it) != 0 ||
				    cp_store_put(s, &it->g.r) != 0)
					goto out;
			if (cp_store_submit(s, &ticket) != 1) {
				fprintf(stderr, "bench_cluster: batch not sent to Redis\n");
				goto out;
			}
			batches++;
		}
		bc_pump_stores(o, &s, 1);
		if (bc_ns() > end || a.failed) {
			fprintf(stderr, "bench_cluster: memory: %u of %u batches acked\n", a.acked,
				batches);
			goto out;
		}
	}
	cp_store_close(s); /* its connections' buffers are not bindings */
	s = NULL;
	u1 = bench_redis_info(c, "memory", "used_memory");
	r = redisCommand(c, "XLEN %sfeed", prefix);
	*feed_len = r != NULL && r->type == REDIS_REPLY_INTEGER ? (unsigned)r->integer : 0;
	if (r != NULL)
		freeReplyObject(r);
	r = redisCommand(c, "XTRIM %sfeed MAXLEN 0", prefix);
	if (r != NULL)
		freeReplyObject(r);
	u2 = bench_redis_info(c, "memory", "used_memory");
	*with = (u1 - u0) / n;
	*without = (u2 - u0) / n;
	rc = 0;
out:
	o->next_id += n;
	cp_store_close(s);
	store_rm(o, "mem_a.db");
	bench_redis_drop(c, prefix);
	free(it);
	return rc;
}

/* CONFIG GET @p name into @p out ("" when unknown). */
static void config_get(redisContext *c, const char *name, char *out, size_t cap)
{
	redisReply *r = redisCommand(c, "CONFIG GET %s", name);

	out[0] = '\0';
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		snprintf(out, cap, "%s", r->element[1]->str);
	if (r != NULL)
		freeReplyObject(r);
}

static void config_set(redisContext *c, const char *name, const char *v)
{
	redisReply *r = redisCommand(c, "CONFIG SET %s %s", name, v);

	if (r != NULL)
		freeReplyObject(r);
}

int bc_run_mem(struct bc_opts *o, struct bc_mem *out)
{
	static const char *const knob = "hash-max-listpack-value";
	redisContext *c = bench_redis_cli(&o->rd);
	char was[32];
	unsigned len2;
	double with2;
	int rc;

	if (c == NULL)
		return -1;
	rc = mem_pass(o, c, "mem", &out->with_feed, &out->without_feed, &out->feed_len);
	/* A binding's hash holds a ~500-byte value: past the default 64 bytes
	 * a hash is a hashtable, not a listpack. What raising it would save: */
	config_get(c, knob, was, sizeof(was));
	if (rc == 0 && was[0] != '\0') {
		config_set(c, knob, "1024");
		rc = mem_pass(o, c, "meml", &with2, &out->listpack, &len2);
		config_set(c, knob, was);
	}
	if (rc == 0)
		out->feed_entry = out->feed_len ? (out->with_feed - out->without_feed) * o->mem /
							  out->feed_len
						: 0;
	redisFree(c);
	return rc;
}

int bc_load_write(struct bc_opts *o, double *write_s, double *bytes_per_binding)
{
	struct bc_item *it = malloc(sizeof(*it));
	redisContext *c = bench_redis_cli(&o->rd);
	char prefix[32];
	double u0, t0;
	int rc = -1;

	bench_redis_prefix(prefix, sizeof(prefix), "load");
	if (it == NULL || c == NULL)
		goto out;
	u0 = bench_redis_info(c, "memory", "used_memory");
	t0 = (double)bc_ns();
	for (unsigned i = 0; i < o->load; i += LOAD_PIPE) {
		unsigned m = o->load - i < LOAD_PIPE ? o->load - i : LOAD_PIPE;

		for (unsigned k = 0; k < m; k++) {
			const struct sw_bind_rec *r = &it->g.r;
			char b[512], a[300];
			int bl, al;

			if (bc_item(i + k, it) != 0)
				goto out;
			bl = snprintf(b, sizeof(b), "%sb:%.*s\x1f%s", prefix, (int)r->aor_len,
				      r->aor, it->key);
			al = snprintf(a, sizeof(a), "%sa:%.*s", prefix, (int)r->aor_len, r->aor);
			redisAppendCommand(c, "HSET %b v %b s %lld e a", b, (size_t)bl, it->val,
					   it->val_len, (long long)r->registered_at);
			redisAppendCommand(c, "EXPIREAT %b %lld", b, (size_t)bl,
					   (long long)r->expires_at);
			redisAppendCommand(c, "SADD %b %b", a, (size_t)al, it->key, it->key_len);
			redisAppendCommand(c, "EXPIREAT %b %lld", a, (size_t)al,
					   (long long)r->expires_at);
		}
		for (unsigned k = 0; k < 4 * m; k++) {
			redisReply *rep = NULL;

			if (redisGetReply(c, (void **)&rep) != REDIS_OK ||
			    rep->type == REDIS_REPLY_ERROR) {
				fprintf(stderr, "bench_cluster: writing the bindings: %s\n",
					rep != NULL ? rep->str : c->errstr);
				goto out;
			}
			freeReplyObject(rep);
		}
	}
	*write_s = ((double)bc_ns() - t0) / 1e9;
	*bytes_per_binding = (bench_redis_info(c, "memory", "used_memory") - u0) / o->load;
	rc = 0;
out:
	if (c != NULL)
		redisFree(c);
	free(it);
	return rc;
}

int bc_run_load(struct bc_opts *o, struct bc_load *out)
{
	struct ctx c = {0};
	struct cp_store *s = NULL;
	struct sw_src_table *src = sw_src_create(o->load);
	char prefix[32];
	uint64_t t0, end;
	double cpu0 = bc_redis_cpu(o);
	int rc = -1;

	bench_redis_prefix(prefix, sizeof(prefix), "load");
	c.t = src != NULL ? sw_bind_create(o->load, src) : NULL;
	if (c.t == NULL) {
		fprintf(stderr, "bench_cluster: no memory for %u bindings\n", o->load);
		goto out;
	}
	t0 = bc_ns();
	s = store_new(o, "b", "load_b.db", prefix, &c, false);
	if (s == NULL)
		goto out;
	/* cp_store_load() waits 10 s at most; the rest come through change(). */
	out->waited_out = c.loaded < o->load;
	out->at_return = c.loaded;
	out->return_s = (double)(bc_ns() - t0) / 1e9;
	for (end = t0 + 12 * WAIT_NS; c.loaded < o->load && bc_ns() < end;)
		bc_pump_stores(o, &s, 1);
	out->loaded = c.loaded;
	out->seconds = (double)(bc_ns() - t0) / 1e9;
	out->per_s = c.loaded / out->seconds;
	out->redis_us = (bc_redis_cpu(o) - cpu0) * 1e6 / o->load;
	if (c.loaded != o->load || c.bad != 0)
		fprintf(stderr,
			"bench_cluster: load: %u of %u bindings in the table (%u refused)\n",
			c.loaded, o->load, c.bad);
	else
		rc = 0;
out:
	cp_store_close(s);
	store_rm(o, "load_b.db");
	if (c.t != NULL)
		table_free(c.t, src);
	else
		sw_src_free(src);
	urcu_qsbr_quiescent_state();
	return rc;
}

void bc_load_drop(struct bc_opts *o)
{
	char prefix[32];

	bench_redis_prefix(prefix, sizeof(prefix), "load");
	drop(o, prefix);
}
