/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The feed reader: a second connection to the master, so that a blocking
 * XREAD never holds a batch back. Each connection begins with a resync:
 * XINFO STREAM gives the feed's last id and how many entries it has ever
 * had; then SCAN walks the bindings, each read with EXPIRETIME + HGETALL
 * (pipelined, one SCAN step of up to 1000 keys at a time) and handed up as
 * a CL_PUT; then XREAD BLOCK tails the feed from that last id. A change
 * made during the load is seen twice (load and feed): the control plane
 * keeps the newest stamp, so twice is harmless.
 *
 * A gap: the feed is trimmed (MAXLEN ~) past what was read when the reader
 * falls that far behind. Before each XREAD, XINFO STREAM says how many
 * entries were ever added and how many remain; entries added minus entries
 * remaining is how many were trimmed, and when that exceeds the entries
 * up to our last id, something not read is gone: a resync instead. (The
 * first entry's id alone cannot tell "the entry after ours was trimmed"
 * from "ours was the last one trimmed", nor handle an empty feed.)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cl_internal.h"
#include "common/sw_clock.h"

/* What XINFO STREAM says of the feed (RESP2: a flat name, value array). */
struct feed_info {
	bool exists;
	uint64_t length, added;
	char last[CL_ID_MAX];
};

/* One binding being read in a resync: its key, then its expiry. */
struct row {
	int64_t expires_at; /* -2: gone since SCAN saw it */
	size_t len;
	char key[];
};

static const redisReply *field(const redisReply *r, const char *name)
{
	if (r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING && !strcmp(r->element[i]->str, name))
			return r->element[i + 1];
	return NULL;
}

/* @return 0, or -1 (an answer that is not XINFO's). */
static int parse_info(const redisReply *r, struct feed_info *fi)
{
	const redisReply *len, *added, *last;

	memset(fi, 0, sizeof(*fi));
	snprintf(fi->last, sizeof(fi->last), "0-0");
	if (cl_reply_is_err(r))
		return strstr(r->str, "no such key") ? 0 : -1;
	len = field(r, "length");
	added = field(r, "entries-added");
	last = field(r, "last-generated-id");
	if (!len || !added || !last || len->type != REDIS_REPLY_INTEGER ||
	    added->type != REDIS_REPLY_INTEGER || last->type != REDIS_REPLY_STRING ||
	    last->len >= CL_ID_MAX)
		return -1;
	fi->exists = true;
	fi->length = (uint64_t)len->integer;
	fi->added = (uint64_t)added->integer;
	snprintf(fi->last, sizeof(fi->last), "%s", last->str);
	return 0;
}

static void scan_step(struct cl *cl, const char *cursor);
static void tail_step(struct cl *cl);

/* ------------------------------------------------------------------ */
/* The resync. */

static void resync_begin(struct cl *cl, const struct feed_info *fi)
{
	struct cl_reader *r = &cl->r;

	CL_INC(cl, resyncs, 1);
	r->tailing = false;
	cl_state_update(cl);
	snprintf(r->lastid, sizeof(r->lastid), "%s", fi->last);
	r->ord = fi->added;
	r->scan_done = false;
	r->rows_pending = 0;
	scan_step(cl, "0");
}

static void resync_maybe_done(struct cl *cl)
{
	struct cl_reader *r = &cl->r;

	if (!r->scan_done || r->rows_pending || !r->conn.ac)
		return;
	r->tailing = true;
	cl_state_update(cl);
	tail_step(cl);
}

static void on_resync_info(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *rep = reply;
	struct cl_conn *c = cl_conn_answered(ac, rep);
	struct feed_info fi;

	(void)priv;
	if (!c)
		return;
	if (parse_info(rep, &fi) < 0)
		cl_conn_fail(c, "XINFO STREAM: %s", cl_reply_what(rep));
	else
		resync_begin(c->cl, &fi);
}

static void on_row_ttl(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *rep = reply;
	struct row *row = priv;

	if (cl_conn_answered(ac, rep))
		row->expires_at = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -2;
}

/* The row's memory goes here, whatever the answer (NULL on a drop too). */
static void on_row(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *rep = reply;
	struct cl_conn *c = cl_conn_answered(ac, rep);
	struct row *row = priv;
	struct cl *cl;
	const redisReply *v, *s, *e;
	size_t plen;
	const char *aor, *sep;

	if (!c) {
		free(row);
		return;
	}
	cl = c->cl;
	plen = strlen(cl->cfg.prefix) + 2;
	v = field(rep, "v");
	s = field(rep, "s");
	e = field(rep, "e");
	aor = row->key + plen;
	sep = memchr(aor, CL_KEY_SEP, row->len - plen);
	/* Gone since SCAN (or expired), or not one of ours: skipped. */
	if (v && s && v->type == REDIS_REPLY_STRING && s->type == REDIS_REPLY_STRING && sep &&
	    row->expires_at != -2) {
		struct cl_binding b = {
			.aor = aor,
			.aor_len = (size_t)(sep - aor),
			.key = sep + 1,
			.key_len = row->len - plen - (size_t)(sep - aor) - 1,
			.val = v->str,
			.val_len = v->len,
			.edge = e && e->type == REDIS_REPLY_STRING ? e->str : "",
			.edge_len = e && e->type == REDIS_REPLY_STRING ? e->len : 0,
			.stamp = strtoll(s->str, NULL, 10),
			.expires_at = row->expires_at > 0 ? row->expires_at : 0,
		};

		CL_INC(cl, resync_rows, 1);
		if (cl->ops.change) {
			cl->ncb++;
			cl->ops.change(cl->ops.arg, CL_PUT, &b);
		}
	}
	free(row);
	cl->r.rows_pending--;
	resync_maybe_done(cl);
}

static int ask_row(struct cl *cl, const redisReply *k)
{
	const char *argv[2];
	size_t lens[2];
	struct row *row = malloc(sizeof(*row) + k->len);

	if (!row) {
		cl_conn_fail(&cl->r.conn, "out of memory");
		return -1;
	}
	row->expires_at = -1;
	row->len = k->len;
	memcpy(row->key, k->str, k->len);
	argv[1] = row->key;
	lens[1] = row->len;
	argv[0] = "EXPIRETIME";
	lens[0] = 10;
	if (cl_conn_send(&cl->r.conn, on_row_ttl, row, 2, argv, lens, 0) < 0) {
		free(row);
		return -1;
	}
	argv[0] = "HGETALL";
	lens[0] = 7;
	/* A command not queued has no callback: the row is still ours. */
	if (cl_conn_send(&cl->r.conn, on_row, row, 2, argv, lens, 0) < 0) {
		free(row);
		return -1;
	}
	cl->r.rows_pending++;
	return 0;
}

static void on_scan(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *rep = reply, *keys;
	struct cl_conn *c = cl_conn_answered(ac, rep);
	struct cl *cl;
	size_t plen;

	(void)priv;
	if (!c)
		return;
	cl = c->cl;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_ARRAY) {
		cl_conn_fail(c, "SCAN: %s", cl_reply_what(rep));
		return;
	}
	keys = rep->element[1];
	plen = strlen(cl->cfg.prefix) + 2;
	for (size_t i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if (k->type == REDIS_REPLY_STRING && k->len > plen && ask_row(cl, k) < 0)
			return;
	}
	/* Answered after this step's rows: one step in flight at a time. */
	if (strcmp(rep->element[0]->str, "0"))
		scan_step(cl, rep->element[0]->str);
	else
		cl->r.scan_done = true;
	resync_maybe_done(cl);
}

static void scan_step(struct cl *cl, const char *cursor)
{
	char match[sizeof(cl->cfg.prefix) + 4];

	snprintf(match, sizeof(match), "%sb:*", cl->cfg.prefix);
	cl_conn_cmd(&cl->r.conn, on_scan, NULL, 0, "SCAN", cursor, "MATCH", match, "COUNT",
		    CL_SCAN_COUNT, NULL);
}

/* ------------------------------------------------------------------ */
/* The feed tailed. */

/* One feed entry (fields e o a k v s x, written by cl_lua.c's functions). */
static void entry(struct cl *cl, const redisReply *id, const redisReply *f)
{
	const redisReply *e = field(f, "e"), *o = field(f, "o"), *a = field(f, "a");
	const redisReply *k = field(f, "k"), *v = field(f, "v"), *s = field(f, "s");
	const redisReply *x = field(f, "x");
	enum cl_change kind;
	int64_t lag = sw_wall_ms() - strtoll(id->str, NULL, 10); /* an id is "<ms>-<seq>" */

	CL_SET(cl, feed_lag_ms, lag > 0 ? lag : 0);
	if (!e || !o || !a || !k || !v || !s || !x || o->type != REDIS_REPLY_STRING ||
	    o->len != 1 || a->type != REDIS_REPLY_STRING || !a->len ||
	    e->type != REDIS_REPLY_STRING || k->type != REDIS_REPLY_STRING ||
	    v->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING ||
	    x->type != REDIS_REPLY_STRING)
		goto bad;
	switch (o->str[0]) {
	case 'p':
		kind = CL_PUT;
		break;
	case 'd':
		kind = CL_DEL;
		break;
	case 'D':
		kind = CL_DEL_AOR;
		break;
	default:
		goto bad;
	}
	if (kind != CL_DEL_AOR && !k->len)
		goto bad;
	if (e->len == strlen(cl->cfg.edge) && !memcmp(e->str, cl->cfg.edge, e->len)) {
		CL_INC(cl, feed_own, 1);
		return;
	}
	CL_INC(cl, feed_changes, 1);
	if (cl->ops.change) {
		struct cl_binding b = {
			.aor = a->str,
			.aor_len = a->len,
			.key = k->str,
			.key_len = k->len,
			.val = v->str,
			.val_len = v->len,
			.edge = e->str,
			.edge_len = e->len,
			.stamp = strtoll(s->str, NULL, 10),
			.expires_at = strtoll(x->str, NULL, 10),
		};

		cl->ncb++;
		cl->ops.change(cl->ops.arg, kind, &b);
	}
	return;
bad:
	cl_set_error(cl, "reader %s: feed entry %s malformed: skipped", cl->r.conn.addr, id->str);
}

static void on_xread(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *rep = reply, *ents;
	struct cl_conn *c = cl_conn_answered(ac, rep);
	struct cl *cl;

	(void)priv;
	if (!c)
		return;
	cl = c->cl;
	if (rep->type == REDIS_REPLY_NIL) { /* BLOCK ran out */
		tail_step(cl);
		return;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1 ||
	    rep->element[0]->type != REDIS_REPLY_ARRAY || rep->element[0]->elements != 2 ||
	    rep->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		cl_conn_fail(c, "XREAD: %s", cl_reply_what(rep));
		return;
	}
	ents = rep->element[0]->element[1];
	for (size_t i = 0; i < ents->elements && c->ac == ac; i++) {
		const redisReply *en = ents->element[i];

		if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
		    en->element[0]->type != REDIS_REPLY_STRING || en->element[0]->len >= CL_ID_MAX)
			continue;
		snprintf(cl->r.lastid, sizeof(cl->r.lastid), "%s", en->element[0]->str);
		cl->r.ord++;
		entry(cl, en->element[0], en->element[1]);
	}
	if (c->ac == ac)
		tail_step(cl);
}

static void on_tail_info(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *rep = reply;
	struct cl_conn *c = cl_conn_answered(ac, rep);
	struct cl_reader *r;
	struct feed_info fi;
	char block[16];

	(void)priv;
	if (!c)
		return;
	r = &c->cl->r;
	if (parse_info(rep, &fi) < 0) {
		cl_conn_fail(c, "XINFO STREAM: %s", cl_reply_what(rep));
		return;
	}
	/* Trimmed past our last id, or the feed deleted (or made anew). */
	if ((!fi.exists && r->ord) || fi.added < r->ord || fi.added - fi.length > r->ord) {
		CL_INC(c->cl, feed_gaps, 1);
		resync_begin(c->cl, &fi);
		return;
	}
	snprintf(block, sizeof(block), "%u", CL_FEED_BLOCK_MS);
	cl_conn_cmd(c, on_xread, NULL, CL_FEED_BLOCK_MS, "XREAD", "COUNT", CL_FEED_COUNT, "BLOCK",
		    block, "STREAMS", c->cl->feed, r->lastid, NULL);
}

static void send_info(struct cl *cl, redisCallbackFn *fn)
{
	cl_conn_cmd(&cl->r.conn, fn, NULL, 0, "XINFO", "STREAM", cl->feed, NULL);
}

static void tail_step(struct cl *cl)
{
	send_info(cl, on_tail_info);
}

/* ------------------------------------------------------------------ */
/* The link's side. */

/* Connect to cl->host:port and start with a resync.
 * @return 0 or -1 (nothing open; the last error says why). */
int cl_feed_open(struct cl *cl)
{
	struct cl_reader *r = &cl->r;

	r->conn.cl = cl;
	r->conn.name = "reader";
	r->tailing = false;
	if (cl_conn_open(&r->conn, cl->host, cl->port) < 0)
		return -1;
	send_info(cl, on_resync_info);
	return 0;
}

/* The reader is gone (or being dropped): the state falls to RESYNCING
 * (DOWN if the writer went too), the next connection resyncs. */
void cl_feed_lost(struct cl *cl)
{
	cl_conn_close(&cl->r.conn);
	cl->r.conn.lost = false;
	cl->r.tailing = false;
	cl_state_update(cl);
}
