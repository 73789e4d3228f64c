/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer: one connection to the master. Its handshake (AUTH, ROLE,
 * FUNCTION LOAD REPLACE) makes it ready; then each submitted batch goes as
 * one pipelined MULTI, FCALL per change, EXEC (and WAIT when replicas are
 * asked for). Redis answers a connection's commands in order, so batches
 * are answered in ticket order, and the slots in flight are a ring whose
 * head is the oldest. A slot finishes on its last answer; cl_write_deliver()
 * calls done() for the finished slots at the ring's head, at the end of
 * cl_run(), outside hiredis's callbacks (done() may submit again).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cl_internal.h"

#define CL_ARGV_MAX 13

/* A command's arguments, binary-safe. */
struct argv {
	int n;
	const char *a[CL_ARGV_MAX];
	size_t l[CL_ARGV_MAX];
};

static void arg(struct argv *v, const char *p, size_t len)
{
	v->a[v->n] = p;
	v->l[v->n++] = len;
}

static void args(struct argv *v, const char *s)
{
	arg(v, s, strlen(s));
}

int cl_write_init(struct cl *cl)
{
	cl->w.conn.cl = cl;
	cl->w.conn.name = "writer";
	cl->w.ring = calloc(cl->cfg.max_inflight, sizeof(*cl->w.ring));
	return cl->w.ring ? 0 : -ENOMEM;
}

void cl_write_fini(struct cl *cl)
{
	free(cl->w.ring);
	free(cl->w.keys);
}

static struct cl_slot *slot_at(const struct cl_writer *w, uint32_t i, uint32_t cap)
{
	return &w->ring[(w->head + i) % cap];
}

/* ------------------------------------------------------------------ */
/* The handshake. */

static void on_role(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);

	(void)priv;
	if (!c)
		return;
	if (r->type != REDIS_REPLY_ARRAY || !r->elements ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		cl_conn_fail(c, "ROLE: %s", cl_reply_what(r));
	else if (strcmp(r->element[0]->str, "master"))
		cl_conn_fail(c, "not a master (ROLE: %s)", r->element[0]->str);
}

static void on_load(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);
	struct cl *cl = priv;

	if (!c)
		return;
	if (cl_reply_is_err(r)) {
		cl_conn_fail(c, "FUNCTION LOAD: %s", r->str);
		return;
	}
	cl->w.ready = true;
	CL_INC(cl, connects, 1);
	cl_set_master(cl, c->addr);
	cl_state_update(cl);
}

/* Connect to cl->host:port; ready (state RESYNCING) after the handshake.
 * @return 0 or -1 (nothing open; the last error says why). */
int cl_write_open(struct cl *cl)
{
	struct cl_conn *c = &cl->w.conn;

	if (cl_conn_open(c, cl->host, cl->port) < 0)
		return -1;
	if (cl_conn_cmd(c, on_role, cl, 0, "ROLE", NULL) < 0 ||
	    cl_conn_cmd(c, on_load, cl, 0, "FUNCTION", "LOAD", "REPLACE", cl_lua_src, NULL) < 0) {
		cl_conn_close(c);
		c->lost = false;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* A batch's answers. */

static void finish(struct cl_slot *s)
{
	s->finished = true;
	s->ok = !s->failed;
}

/* An error reply for a batch: the batch fails; a fatal one drops the
 * writer (the link finds the master again, every batch in flight fails). */
static void batch_error(struct cl_conn *c, struct cl_slot *s, const char *what, const char *msg)
{
	s->failed = true;
	if (cl_err_is_fatal(msg))
		cl_conn_fail(c, "%s: %s", what, msg);
	else
		cl_set_error(c->cl, "writer %s: batch %" PRIu64 ": %s: %s", c->addr, s->ticket,
			     what, msg);
}

/* MULTI's OK and each FCALL's QUEUED. */
static void on_queued(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);

	if (c && cl_reply_is_err(r))
		batch_error(c, priv, "queued", r->str);
}

static void on_exec(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);
	struct cl_slot *s = priv;
	unsigned stale = 0;

	if (!c)
		return;
	if (cl_reply_is_err(r)) {
		batch_error(c, s, "EXEC", r->str);
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != s->n) {
		s->failed = true; /* nil: the transaction was discarded */
		cl_set_error(c->cl, "writer %s: batch %" PRIu64 ": EXEC: not %u results", c->addr,
			     s->ticket, s->n);
	} else {
		for (size_t i = 0; i < r->elements && c->ac; i++) {
			const redisReply *e = r->element[i];

			if (e->type == REDIS_REPLY_INTEGER && e->integer == 1)
				s->written++;
			else if (e->type == REDIS_REPLY_INTEGER && e->integer == 0)
				stale++;
			else if (e->type == REDIS_REPLY_ERROR)
				batch_error(c, s, "FCALL", e->str);
			else
				s->failed = true;
		}
		CL_INC(c->cl, changes_stale, stale);
	}
	if (c->ac && (!c->cl->cfg.wait_replicas || s->no_wait))
		finish(s);
}

static void on_wait(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);
	struct cl_slot *s = priv;
	const struct cl_config *cfg;

	if (!c)
		return;
	cfg = &c->cl->cfg;
	if (cl_reply_is_err(r)) {
		batch_error(c, s, "WAIT", r->str);
	} else if (r->type != REDIS_REPLY_INTEGER || r->integer < (long long)cfg->wait_replicas) {
		/* Written on the master, not known to be on enough replicas:
		 * the batch fails, the connection stays. */
		s->failed = true;
		cl_set_error(c->cl,
			     "writer %s: batch %" PRIu64 ": WAIT: %lld of %u replicas in %u ms",
			     c->addr, s->ticket, r->type == REDIS_REPLY_INTEGER ? r->integer : -1,
			     cfg->wait_replicas, cfg->wait_ms);
	}
	if (c->ac)
		finish(s);
}

/* ------------------------------------------------------------------ */
/* Sending a batch. */

static int ensure_keys(struct cl_writer *w, size_t need)
{
	char *k;

	if (need <= w->keys_cap)
		return 0;
	k = realloc(w->keys, need);
	if (!k)
		return -ENOMEM;
	w->keys = k;
	w->keys_cap = need;
	return 0;
}

/* Room for a change's two key names: "<P>b:<aor>\x1f<key>", "<P>a:<aor>". */
static size_t keys_len(const struct cl *cl, const struct cl_chg *c)
{
	return 2 * (strlen(cl->cfg.prefix) + 2 + c->aor_len) + 1 + c->key_len;
}

static int send_change(struct cl *cl, struct cl_slot *s, const struct cl_chg *c)
{
	const char *prefix = cl->cfg.prefix, *edge = cl->cfg.edge;
	const char *aor = c->data, *key = c->data + c->aor_len, *val = key + c->key_len;
	size_t plen = strlen(prefix), blen = plen + 2 + c->aor_len + 1 + c->key_len;
	char *bkey = cl->w.keys, *akey = bkey + blen;
	char stamp[24], exp[24], maxlen[16];
	struct argv v = {0};

	/* del_aor has no device key: its bkey is every binding's prefix. */
	memcpy(bkey, prefix, plen);
	memcpy(bkey + plen, "b:", 2);
	memcpy(bkey + plen + 2, aor, c->aor_len);
	bkey[plen + 2 + c->aor_len] = CL_KEY_SEP;
	memcpy(bkey + plen + 3 + c->aor_len, key, c->key_len);
	memcpy(akey, prefix, plen);
	memcpy(akey + plen, "a:", 2);
	memcpy(akey + plen + 2, aor, c->aor_len);
	snprintf(stamp, sizeof(stamp), "%" PRId64, c->stamp);
	snprintf(exp, sizeof(exp), "%" PRId64, c->expires_at);
	snprintf(maxlen, sizeof(maxlen), "%u", cl->cfg.feed_maxlen);

	args(&v, "FCALL");
	switch (c->kind) {
	case CL_PUT:
		args(&v, "sipwake_put");
		args(&v, "3");
		arg(&v, bkey, blen);
		break;
	case CL_DEL:
		args(&v, "sipwake_del");
		args(&v, "3");
		arg(&v, bkey, blen);
		break;
	case CL_DEL_AOR:
		args(&v, "sipwake_del_aor");
		args(&v, "2");
		break;
	}
	arg(&v, akey, plen + 2 + c->aor_len);
	args(&v, cl->feed);
	args(&v, edge);
	arg(&v, aor, c->aor_len);
	if (c->kind != CL_DEL_AOR)
		arg(&v, key, c->key_len);
	if (c->kind == CL_PUT)
		arg(&v, val, c->val_len);
	args(&v, stamp);
	if (c->kind == CL_PUT)
		args(&v, exp);
	args(&v, maxlen);
	if (c->kind == CL_DEL_AOR)
		arg(&v, bkey, blen);
	return cl_conn_send(&cl->w.conn, on_queued, s, v.n, v.a, v.l, 0);
}

/* A send that fails has failed the connection: the link fails every
 * batch in flight, this one with them. */
static void send_batch(struct cl *cl, struct cl_slot *s, const struct cl_batch *b)
{
	struct cl_conn *c = &cl->w.conn;
	char n[16], ms[16];
	size_t need = 0;

	for (unsigned i = 0; i < b->n; i++)
		if (keys_len(cl, b->v[i]) > need)
			need = keys_len(cl, b->v[i]);
	if (ensure_keys(&cl->w, need) < 0) {
		s->failed = true;
		finish(s);
		cl_set_error(cl, "writer: batch %" PRIu64 ": out of memory", s->ticket);
		return;
	}
	if (cl_conn_cmd(c, on_queued, s, 0, "MULTI", NULL) < 0)
		return;
	for (unsigned i = 0; i < b->n; i++)
		if (send_change(cl, s, b->v[i]) < 0)
			return;
	if (cl_conn_cmd(c, on_exec, s, 0, "EXEC", NULL) < 0 || !cl->cfg.wait_replicas || b->no_wait)
		return;
	snprintf(n, sizeof(n), "%u", cl->cfg.wait_replicas);
	snprintf(ms, sizeof(ms), "%u", cl->cfg.wait_ms);
	cl_conn_cmd(c, on_wait, s, 0, "WAIT", n, ms, NULL);
}

int cl_submit(struct cl *cl, struct cl_batch *b, uint64_t *ticket)
{
	struct cl_writer *w = &cl->w;
	struct cl_slot *s;
	int rc = 0;

	if (!b || !b->n)
		rc = -EINVAL;
	else if (!w->ready || !w->conn.ac)
		rc = -ENOTCONN;
	else if (w->count >= cl->cfg.max_inflight)
		rc = -ENOBUFS;
	if (rc) {
		cl_batch_free(b);
		return rc;
	}
	s = slot_at(w, w->count++, cl->cfg.max_inflight);
	*s = (struct cl_slot){
		.ticket = ++w->next_ticket, .sent_ms = cl->now, .n = b->n, .no_wait = b->no_wait};
	CL_SET(cl, inflight, w->count);
	send_batch(cl, s, b);
	cl_batch_free(b);
	if (ticket)
		*ticket = s->ticket;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The link's side. */

/* The writer is gone (or being dropped): every batch in flight fails. */
void cl_write_lost(struct cl *cl)
{
	struct cl_writer *w = &cl->w;

	cl_conn_close(&w->conn);
	w->conn.lost = false;
	for (uint32_t i = 0; i < w->count; i++) {
		struct cl_slot *s = slot_at(w, i, cl->cfg.max_inflight);

		if (!s->finished) {
			s->failed = true;
			finish(s);
		}
	}
	w->ready = false;
	cl_set_master(cl, "");
	cl_state_update(cl);
}

/* The handshake, or the oldest batch, waited on too long: the writer is
 * failed (lost) and true returned. Every batch past its time counts. */
bool cl_write_timed_out(struct cl *cl)
{
	struct cl_writer *w = &cl->w;
	uint64_t limit = cl->cfg.timeout_ms + (cl->cfg.wait_replicas ? cl->cfg.wait_ms : 0);
	unsigned late = 0;
	uint64_t first = 0;

	if (!w->conn.ac)
		return false;
	if (!w->ready) {
		if (!cl_conn_timed_out(&w->conn))
			return false;
		cl_conn_fail(&w->conn, "no answer within %u ms", cl->cfg.timeout_ms);
		return true;
	}
	for (uint32_t i = 0; i < w->count; i++) {
		const struct cl_slot *s = slot_at(w, i, cl->cfg.max_inflight);

		if (s->finished)
			continue;
		if (cl->now - s->sent_ms <= limit)
			break;
		if (!late++)
			first = s->ticket;
	}
	if (!late)
		return false;
	CL_INC(cl, batch_timeouts, late);
	cl_conn_fail(&w->conn, "batch %" PRIu64 " not answered within %" PRIu64 " ms", first,
		     limit);
	return true;
}

/* done() for each finished batch at the head, in ticket order. */
void cl_write_deliver(struct cl *cl)
{
	struct cl_writer *w = &cl->w;

	while (w->count && w->ring[w->head].finished) {
		struct cl_slot s = w->ring[w->head];

		w->head = (w->head + 1) % cl->cfg.max_inflight;
		w->count--;
		CL_SET(cl, inflight, w->count);
		if (s.ok) {
			CL_INC(cl, batches_ok, 1);
			CL_INC(cl, changes_written, s.written);
		} else {
			CL_INC(cl, batches_failed, 1);
		}
		if (cl->ops.done) {
			cl->ncb++;
			cl->ops.done(cl->ops.arg, s.ticket, s.ok);
		}
	}
}
