/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_cluster: the change feed between edges, on cluster links (cl.h)
 * driven from one thread as the control plane drives its own.
 *
 * Feed lag: edge A submits a batch (1, 8 or 64 changes), then the loop
 * runs until edge B's change() has seen each of them; lag = B's change()
 * (monotonic) - A's cl_submit(), per change. One batch at a time: the lag
 * of a quiet cluster.
 * Write throughput: A keeps up to 32 batches of 64 in flight, as fast as
 * Redis takes them, while @readers edges tail the feed (A itself, reading
 * its own changes back and skipping them, and readers - 1 others);
 * changes/s acknowledged, the feed lag at B under that load, and Redis's
 * CPU time per change (INFO cpu, user + sys).
 * The codec: what encoding a binding as a record (the writer, per change) and
 * decoding it (every other edge, per change) costs, one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_cluster.h"
#include "controlplane/store/cp_store_codec.h"

#define TPUT_BATCH    64
#define TPUT_INFLIGHT 32
#define WAIT_NS	      (10ull * 1000000000u)

/* What one link's callbacks saw. */
struct peer {
	uint64_t base; /* binding numbers base .. base + n - 1 are this phase's */
	unsigned n;
	uint64_t *sub;	/* shared: submit time (ns) of each, 0 once arrived at B */
	double *lag;	/* B only: lag of each arrival, us */
	unsigned got;	/* this phase's changes seen in the feed */
	unsigned acked; /* A: batches done() */
	bool failed;	/* A: a batch done(false) */
	uint64_t last_ack;
};

static void on_done(void *arg, uint64_t ticket, bool ok)
{
	struct peer *p = arg;

	(void)ticket;
	p->acked++;
	p->failed |= !ok;
	p->last_ack = bc_ns();
}

static void on_change(void *arg, enum cl_change kind, const struct cl_binding *b)
{
	struct peer *p = arg;
	uint64_t now = bc_ns(), id = bc_aor_id(b->aor, b->aor_len);

	if (kind != CL_PUT || id < p->base || id - p->base >= p->n || p->got >= p->n)
		return;
	if (p->lag != NULL && p->sub[id - p->base] != 0)
		p->lag[p->got] = (double)(now - p->sub[id - p->base]) / 1e3;
	p->got++;
}

static void links_free(struct cl **l, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		cl_free(l[i]);
}

/* @p n links, edges "a", "b", "r3", ... under @p prefix, all up. */
static int links_new(struct bc_opts *o, const char *prefix, struct cl **l, struct peer *p,
		     unsigned n)
{
	struct cl_ops ops = {.done = on_done, .change = on_change};
	uint64_t end = bc_ns() + WAIT_NS;
	char err[256] = "";
	unsigned up = 0;

	for (unsigned i = 0; i < n; i++) {
		struct cl_config c;
		char edge[16];

		snprintf(edge, sizeof(edge), i == 0 ? "a" : i == 1 ? "b" : "r%u", i + 1);
		bc_cfg(o, &c, edge, prefix);
		ops.arg = &p[i];
		l[i] = cl_new(&c, &ops, err, sizeof(err));
		if (l[i] == NULL) {
			fprintf(stderr, "bench_cluster: cl_new: %s\n", err);
			links_free(l, i);
			return -1;
		}
	}
	while (up < n && bc_ns() < end) {
		bc_pump(o, l, n);
		for (up = 0; up < n && cl_state(l[up]) == CL_UP; up++)
			;
	}
	if (up == n)
		return 0;
	fprintf(stderr, "bench_cluster: links not up in 10 s\n");
	links_free(l, n);
	return -1;
}

/* Changes base .. base + m - 1 as one batch. */
static struct cl_batch *make_batch(uint64_t base, unsigned m, struct bc_item *it)
{
	struct cl_batch *b = cl_batch_new();

	for (unsigned k = 0; b != NULL && k < m; k++) {
		struct cl_binding x;

		if (bc_item(base + k, it) != 0)
			break;
		x = bc_binding(it);
		if (cl_batch_put(b, &x) != 0)
			break;
	}
	if (b != NULL && cl_batch_len(b) != m) {
		cl_batch_free(b);
		b = NULL;
	}
	return b;
}

/* One batch size: n changes in batches of @p bs, one at a time. */
static int lag_one(struct bc_opts *o, unsigned bs, unsigned n, struct bc_item *it, double *p50,
		   double *p99, double *bytes)
{
	struct cl *l[2];
	struct peer p[2];
	char prefix[32], tag[16];
	uint64_t *sub = calloc(n, sizeof(*sub));
	double *lag = calloc(n, sizeof(*lag)), vbytes = 0;
	unsigned batches = 0;
	int rc = -1;

	snprintf(tag, sizeof(tag), "lag%u", bs);
	bench_redis_prefix(prefix, sizeof(prefix), tag);
	memset(p, 0, sizeof(p));
	for (unsigned i = 0; i < 2; i++)
		p[i] = (struct peer){.base = o->next_id, .n = n, .sub = sub};
	p[1].lag = lag;
	if (sub == NULL || lag == NULL || links_new(o, prefix, l, p, 2) != 0)
		goto out;
	for (unsigned done = 0; done < n; done += bs) {
		unsigned m = n - done < bs ? n - done : bs;
		struct cl_batch *b = make_batch(o->next_id + done, m, it);
		uint64_t t, end;

		if (b == NULL)
			goto out_links;
		vbytes += (double)it->val_len; /* the batch's last, as a sample */
		t = bc_ns();
		for (unsigned k = 0; k < m; k++)
			sub[done + k] = t;
		if (cl_submit(l[0], b, NULL) != 0) {
			fprintf(stderr, "bench_cluster: cl_submit refused a batch\n");
			goto out_links;
		}
		batches++;
		for (end = t + WAIT_NS; p[1].got < done + m || p[0].acked < batches;)
			if (bc_pump(o, l, 2) == 0 && bc_ns() > end)
				break;
		if (p[1].got < done + m || p[0].failed) {
			fprintf(stderr, "bench_cluster: batch of %u: %u of %u changes arrived%s\n",
				bs, p[1].got, done + m, p[0].failed ? ", a batch failed" : "");
			goto out_links;
		}
	}
	*p50 = bc_pct(lag, n, 50);
	*p99 = bc_pct(lag, n, 99);
	*bytes = vbytes / batches;
	rc = 0;
out_links:
	links_free(l, 2);
	o->next_id += n;
	{
		redisContext *c = bench_redis_cli(&o->rd);

		if (c != NULL) {
			bench_redis_drop(c, prefix);
			redisFree(c);
		}
	}
out:
	free(sub);
	free(lag);
	return rc;
}

int bc_run_lag(struct bc_opts *o, struct bc_lag *out)
{
	static const unsigned sizes[3] = {1, 8, 64};
	struct bc_item *it = malloc(sizeof(*it));
	double bytes = 0;

	if (it == NULL)
		return -1;
	for (unsigned i = 0; i < 3; i++) {
		if (lag_one(o, sizes[i], o->changes, it, &out->p50[i], &out->p99[i], &bytes) != 0) {
			free(it);
			return -1;
		}
	}
	out->val_bytes = bytes;
	free(it);
	return 0;
}

double bc_redis_cpu(const struct bc_opts *o)
{
	redisContext *c = bench_redis_cli(&o->rd);
	double s;

	if (c == NULL)
		return -1;
	s = bench_redis_info(c, "cpu", "used_cpu_user") +
	    bench_redis_info(c, "cpu", "used_cpu_sys");
	redisFree(c);
	return s;
}

int bc_run_tput(struct bc_opts *o, unsigned readers, struct bc_tput *out)
{
	unsigned n = o->tput, nb = (n + TPUT_BATCH - 1) / TPUT_BATCH, next = 0, all = 0;
	struct cl *l[BC_MAX_READERS];
	struct peer p[BC_MAX_READERS];
	struct cl_batch **b = calloc(nb, sizeof(*b));
	uint64_t *sub = calloc(n, sizeof(*sub));
	double *lag = calloc(n, sizeof(*lag)), cpu0;
	struct bc_item *it = malloc(sizeof(*it));
	char prefix[32], tag[16];
	uint64_t t0, end;
	int rc = -1;

	snprintf(tag, sizeof(tag), "tput%u", readers);
	bench_redis_prefix(prefix, sizeof(prefix), tag);
	if (b == NULL || sub == NULL || lag == NULL || it == NULL)
		goto out;
	/* Every batch made before the clock starts: only the link is timed. */
	for (unsigned i = 0; i < nb; i++) {
		unsigned m = n - i * TPUT_BATCH < TPUT_BATCH ? n - i * TPUT_BATCH : TPUT_BATCH;

		b[i] = make_batch(o->next_id + (uint64_t)i * TPUT_BATCH, m, it);
		if (b[i] == NULL)
			goto out;
	}
	for (unsigned i = 0; i < readers; i++)
		p[i] = (struct peer){.base = o->next_id, .n = n, .sub = sub};
	p[1].lag = lag;
	if (links_new(o, prefix, l, p, readers) != 0)
		goto out;
	cpu0 = bc_redis_cpu(o);
	t0 = bc_ns();
	end = t0 + 6 * WAIT_NS;
	while (all < readers || p[0].acked < nb) {
		while (next < nb && next - p[0].acked < TPUT_INFLIGHT) {
			uint64_t t = bc_ns();
			unsigned first = next * TPUT_BATCH, m = cl_batch_len(b[next]);

			for (unsigned k = 0; k < m; k++)
				sub[first + k] = t;
			if (cl_submit(l[0], b[next], NULL) != 0) {
				b[next] = NULL;
				fprintf(stderr, "bench_cluster: cl_submit refused a batch\n");
				goto out_links;
			}
			b[next++] = NULL;
		}
		bc_pump(o, l, readers);
		for (all = 1; all < readers && p[all].got == n; all++)
			;
		if (bc_ns() > end || p[0].failed) {
			fprintf(stderr,
				"bench_cluster: throughput: %u of %u batches acked, %u of %u "
				"changes at B%s\n",
				p[0].acked, nb, p[1].got, n, p[0].failed ? ", a batch failed" : "");
			goto out_links;
		}
	}
	out->changes_s = (double)n * 1e9 / (double)(p[0].last_ack - t0);
	out->redis_us = (bc_redis_cpu(o) - cpu0) * 1e6 / n;
	out->lag_p50 = bc_pct(lag, n, 50);
	out->lag_p99 = bc_pct(lag, n, 99);
	rc = 0;
out_links:
	links_free(l, readers);
	{
		redisContext *c = bench_redis_cli(&o->rd);

		if (c != NULL) {
			bench_redis_drop(c, prefix);
			redisFree(c);
		}
	}
out:
	o->next_id += n;
	for (unsigned i = 0; b != NULL && i < nb; i++)
		cl_batch_free(b[i]);
	free(b);
	free(sub);
	free(lag);
	free(it);
	return rc;
}

int bc_run_codec(struct bc_opts *o, struct bc_codec *out)
{
	enum { N = 20000 };
	struct bc_item *it = malloc(sizeof(*it));
	struct sw_bind_rec r;
	char val[BC_VAL_MAX], buf[CP_CODEC_BUF];
	uint64_t t, enc = 0, dec = 0;
	int rc = -1;

	if (it == NULL)
		return -1;
	for (unsigned i = 0; i < N; i++) {
		if (bc_item(o->next_id + i, it) != 0)
			goto out;
		t = bc_ns();
		if (cp_codec_encode(&it->g.r, val, sizeof(val)) < 0)
			goto out;
		enc += bc_ns() - t;
		t = bc_ns();
		if (cp_codec_decode(it->val, it->val_len, &r, buf) != 0)
			goto out;
		dec += bc_ns() - t;
	}
	out->encode_us = (double)enc / N / 1e3;
	out->decode_us = (double)dec / N / 1e3;
	rc = 0;
out:
	o->next_id += N;
	free(it);
	return rc;
}
