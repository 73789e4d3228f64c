/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer: one connection to the master. Its handshake (AUTH, ROLE,
 * FUNCTION LOAD REPLACE) makes it ready; then each submitted batch goes as
 * one FCALL sipwake_batch (cl_lua.c: every change of the batch, atomic,
 * one reply; pipelined behind the batches in flight), and WAIT when
 * replicas are asked for. Redis answers a connection's commands in order, so batches
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

/* The batch's one reply: 1 (written) or 0 (stale) per change. */
static void on_batch(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct cl_conn *c = cl_conn_answered(ac, r);
	struct cl_slot *s = priv;
	unsigned stale = 0;

	if (!c)
		return;
	if (cl_reply_is_err(r)) {
		batch_error(c, s, "FCALL", r->str);
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != s->n) {
		s->failed = true;
		cl_set_error(c->cl, "writer %s: batch %" PRIu64 ": FCALL: not %u results", c->addr,
			     s->ticket, s->n);
	} else {
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i];

			if (e->type == REDIS_REPLY_INTEGER && e->integer == 1)
				s->written++;
			else if (e->type == REDIS_REPLY_INTEGER && e->integer == 0)
				stale++;
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

/* A send that fails has failed the connection: the link fails every
 * batch in flight, this one with them. */
static void send_batch(struct cl *cl, struct cl_slot *s, const struct cl_batch *b)
{
	struct cl_conn *c = &cl->w.conn;
	int argc = 7 + 6 * (int)b->n;
	const char **a = malloc((size_t)argc * sizeof(*a));
	size_t *l = malloc((size_t)argc * sizeof(*l));
	char(*num)[24] = malloc(2 * b->n * sizeof(*num));
	char maxlen[16], n[16], ms[16];
	int k = 0;

	if (!a || !l || !num) {
		free(a);
		free(l);
		free(num);
		s->failed = true;
		finish(s);
		cl_set_error(cl, "writer: batch %" PRIu64 ": out of memory", s->ticket);
		return;
	}
#define ARG(p, len) (a[k] = (p), l[k++] = (len))
#define STR(p)	    ARG(p, strlen(p))
	snprintf(maxlen, sizeof(maxlen), "%u", cl->cfg.feed_maxlen);
	STR("FCALL");
	STR("sipwake_batch");
	STR("0");
	STR(cl->feed);
	STR(cl->cfg.edge);
	STR(maxlen);
	STR(cl->cfg.prefix);
	for (unsigned i = 0; i < b->n; i++) {
		const struct cl_chg *ch = b->v[i];
		const char *aor = ch->data, *key = aor + ch->aor_len, *val = key + ch->key_len;

		STR(ch->kind == CL_PUT ? "p" : ch->kind == CL_DEL ? "d" : "D");
		ARG(aor, ch->aor_len);
		ARG(key, ch->key_len);
		ARG(val, ch->val_len);
		snprintf(num[2 * i], sizeof(num[0]), "%" PRId64, ch->stamp);
		snprintf(num[2 * i + 1], sizeof(num[0]), "%" PRId64, ch->expires_at);
		STR(num[2 * i]);
		STR(num[2 * i + 1]);
	}
#undef STR
#undef ARG
	/* hiredis formats the command at once: the arrays may go. */
	int rc = cl_conn_send(c, on_batch, s, argc, a, l, 0);

	free(a);
	free(l);
	free(num);
	if (rc < 0 || !cl->cfg.wait_replicas || b->no_wait)
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
