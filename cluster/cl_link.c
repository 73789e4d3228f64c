/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The link's life (cl.h): which master (configured, or asked of Sentinel
 * in turn), when to connect and reconnect (retry_ms apart), what waited
 * too long (timeout_ms), and what a lost connection undoes. Losing the
 * writer loses the master: the reader goes with it and the master is
 * found again, since a failover is the usual reason. Losing the reader
 * alone only reopens the reader, which resyncs.
 *
 * cl_run() looks at the connections before and after polling them, so an
 * answer is acted on in the round it arrives (a sentinel's answer opens
 * the writer, the writer's handshake opens the reader), then calls done()
 * for the batches answered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cl_internal.h"

/* A config's strings are NUL-terminated here, whatever the caller left. */
#define TERMINATE(s) ((s)[sizeof(s) - 1] = '\0')

static const char *check(struct cl_config *c)
{
	TERMINATE(c->edge);
	TERMINATE(c->redis.host);
	TERMINATE(c->master);
	TERMINATE(c->password);
	TERMINATE(c->prefix);
	for (unsigned i = 0; i < CL_MAX_SENTINELS; i++)
		TERMINATE(c->sentinels[i].host);
	if (!c->edge[0])
		return "no edge name";
	if (strspn(c->prefix,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.-") !=
	    strlen(c->prefix))
		return "prefix: only A-Z a-z 0-9 : _ . - allowed";
	if (c->n_sentinels > CL_MAX_SENTINELS)
		return "too many sentinels";
	for (unsigned i = 0; i < c->n_sentinels; i++)
		if (!c->sentinels[i].host[0] || !c->sentinels[i].port)
			return "a sentinel without host or port";
	if (c->n_sentinels && !c->master[0])
		return "sentinels but no master name";
	if (!c->n_sentinels && (!c->redis.host[0] || !c->redis.port))
		return "no Redis host and port, and no sentinels";
	if (!c->timeout_ms || !c->max_inflight || !c->feed_maxlen)
		return "timeout_ms, max_inflight and feed_maxlen must be > 0";
	return NULL;
}

struct cl *cl_new(const struct cl_config *cfg, const struct cl_ops *ops, char *err, size_t errlen)
{
	struct cl *cl;
	const char *why = "out of memory";

	if (!cfg || !ops) {
		why = "no config";
		goto fail;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		goto fail;
	cl->cfg = *cfg;
	cl->ops = *ops;
	why = check(&cl->cfg);
	if (why)
		goto fail_cl;
	why = "out of memory";
	snprintf(cl->feed, sizeof(cl->feed), "%sfeed", cl->cfg.prefix);
	if (cl_write_init(cl) < 0)
		goto fail_write;
	cl->r.conn.cl = cl;
	cl->s.conn.cl = cl;
	pthread_mutex_init(&cl->mu, NULL);
	return cl;

fail_write:
	cl_write_fini(cl);
fail_cl:
	free(cl);
fail:
	if (err && errlen)
		snprintf(err, errlen, "cluster: %s", why);
	return NULL;
}

void cl_free(struct cl *cl)
{
	if (!cl)
		return;
	cl->ops.state = NULL; /* going away is not a state to announce */
	cl_conn_close(&cl->s.conn);
	cl_feed_lost(cl);
	cl_write_lost(cl);
	cl_write_deliver(cl);
	cl_write_fini(cl);
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

static void retry_later(struct cl *cl)
{
	cl->phase = CL_PHASE_IDLE;
	cl->next_ms = cl->now + cl->cfg.retry_ms;
}

static void open_master(struct cl *cl)
{
	cl->phase = CL_PHASE_MASTER;
	cl->r.next_ms = 0;
	if (cl_write_open(cl) < 0)
		retry_later(cl);
}

/* This sentinel did not answer: the next one at once, or all of them
 * again after retry_ms once each has failed in turn. */
static void sentinel_failed(struct cl *cl)
{
	struct cl_sentinel *s = &cl->s;

	cl_conn_close(&s->conn);
	s->conn.lost = false;
	s->idx = (s->idx + 1) % cl->cfg.n_sentinels;
	if (++s->tried < cl->cfg.n_sentinels) {
		cl->phase = CL_PHASE_IDLE;
		cl->next_ms = cl->now;
	} else {
		s->tried = 0;
		retry_later(cl);
	}
}

static void start(struct cl *cl)
{
	if (!cl->cfg.n_sentinels) {
		snprintf(cl->host, sizeof(cl->host), "%s", cl->cfg.redis.host);
		cl->port = cl->cfg.redis.port;
		open_master(cl);
		return;
	}
	cl->phase = CL_PHASE_ASKING;
	if (cl_sentinel_ask(cl) < 0)
		sentinel_failed(cl);
}

/* The writer is gone: batches in flight fail, the reader closes, the
 * master is found again after retry_ms. */
static void master_lost(struct cl *cl)
{
	if (cl->w.ready)
		CL_INC(cl, disconnects, 1);
	cl_write_lost(cl); /* first: DOWN at once, not UP, RESYNCING, DOWN */
	cl_feed_lost(cl);
	retry_later(cl);
}

static void reader_lost(struct cl *cl)
{
	CL_INC(cl, disconnects, 1);
	cl_feed_lost(cl);
	cl->r.next_ms = cl->now + cl->cfg.retry_ms;
}

static void advance(struct cl *cl)
{
	struct cl_reader *r = &cl->r;

	switch (cl->phase) {
	case CL_PHASE_IDLE:
		if (cl->now >= cl->next_ms)
			start(cl);
		break;
	case CL_PHASE_ASKING:
		if (cl->s.answered) {
			cl->s.tried = 0;
			open_master(cl);
		} else if (cl->s.conn.lost || !cl->s.conn.ac || cl_conn_timed_out(&cl->s.conn)) {
			sentinel_failed(cl);
		}
		break;
	case CL_PHASE_MASTER:
		if (!cl->w.conn.lost)
			cl_write_timed_out(cl);
		if (cl->w.conn.lost || !cl->w.conn.ac) {
			master_lost(cl);
			break;
		}
		if (!cl->w.ready)
			break;
		if (!r->conn.lost && cl_conn_timed_out(&r->conn))
			cl_conn_fail(&r->conn, "no answer within %u ms", cl->cfg.timeout_ms);
		if (r->conn.lost)
			reader_lost(cl);
		if (!r->conn.ac && cl->now >= r->next_ms && cl_feed_open(cl) < 0)
			r->next_ms = cl->now + cl->cfg.retry_ms;
		break;
	}
}

unsigned cl_run(struct cl *cl, uint64_t now_ms)
{
	unsigned before = cl->ncb;

	cl->now = now_ms;
	advance(cl);
	cl_conn_poll(cl);
	advance(cl);
	cl_write_deliver(cl);
	return cl->ncb - before;
}
