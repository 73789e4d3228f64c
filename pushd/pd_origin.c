/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Web Push connections. A subscription's endpoint may be on any push
 * service (FCM, Mozilla autopush, Apple, Microsoft, a self-hosted one), so
 * the Web Push credential keeps one HTTP/2 connection per origin
 * (host:port, RFC 6454) rather than one per credential, and bounds them:
 * at most webpush.max_origins origins at once; a new one takes the place of
 * the least-recently-used origin that no push holds (its connection
 * closed); an origin unused for webpush.origin_idle_s is closed by a sweep.
 * When every origin is held, a push for a new one waits for a stream to
 * close (or its deadline). The connection itself is pd_conn.c's: TLS
 * verified against ca_file or the system store, reconnects, GOAWAY.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_log.h"
#include "common/sw_webpush.h"
#include "pushd/pd_internal.h"

static void origin_free(struct pd_origin *o)
{
	struct pd_cred *c = o->cred;
	struct pd_conn *cn = o->conn;

	LIST_REMOVE(o, link);
	c->n_origins--;
	o->conn = NULL;
	if (cn)
		cn->origin = NULL;
	pd_conn_free(cn);
	free(o->auth);
	free(o);
}

/* The least recently used origin no push holds, or NULL. */
static struct pd_origin *evictable(struct pd_cred *c)
{
	struct pd_origin *o, *last = NULL;

	LIST_FOREACH(o, &c->origins, link)
	if (o->refs == 0 && (!o->conn || o->conn->n_streams == 0))
		last = o;
	return last;
}

static struct pd_origin *origin_get(struct pd_cred *c, const struct sw_wp_url *u)
{
	struct pd_origin *o, *victim;

	LIST_FOREACH(o, &c->origins, link)
	if (o->port == u->port && strlen(o->host) == u->host_len &&
	    !memcmp(o->host, u->host, u->host_len)) {
		if (o != LIST_FIRST(&c->origins)) { /* most recently used first */
			LIST_REMOVE(o, link);
			LIST_INSERT_HEAD(&c->origins, o, link);
		}
		return o;
	}
	if (c->n_origins >= c->wp->max_origins) {
		victim = evictable(c);
		if (!victim)
			return NULL;
		PD_LOG(INFO, "%s: %u origins open, closing %s for %.*s", c->name, c->n_origins,
		       victim->aud, (int)u->origin_len, u->origin);
		PD_STAT_ADD(c->pd, PD_WEBPUSH, origins_closed, 1);
		origin_free(victim);
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->cred = c;
	memcpy(o->host, u->host, u->host_len);
	o->port = u->port;
	memcpy(o->aud, u->origin, u->origin_len);
	LIST_INSERT_HEAD(&c->origins, o, link);
	c->n_origins++;
	return o;
}

struct pd_conn *pd_origin_pick_conn(struct pd_job *j)
{
	struct pd_cred *c = j->cred;
	struct pd_origin *o = j->origin;
	struct sw_wp_url u;
	const char *why;

	if (!o) {
		/* pd_job_start() refused an endpoint that does not split. */
		if (sw_wp_url_split(j->req.token, strlen(j->req.token), &u, &why) != 0)
			return NULL;
		o = origin_get(c, &u);
		if (!o)
			return NULL; /* every origin held: wait for one to free */
		j->origin = o;
		o->refs++;
		o->last_used_ms = sw_mono_ms();
	}
	if (!o->conn) {
		o->last_used_ms = sw_mono_ms();
		o->conn = pd_conn_new_origin(o);
		return NULL;
	}
	if (!pd_conn_can_send(o->conn))
		return NULL; /* a waiting push holds it (refs): no need to mark it used */
	o->last_used_ms = sw_mono_ms();
	return o->conn;
}

/* A connection came up or a stream closed: send what waits for a free
 * stream on its own origin; a push held up on one origin never holds up
 * another's. */
void pd_origin_kick(struct pd_cred *c)
{
	struct pd_jobq todo;
	struct pd_job *j;

	TAILQ_INIT(&todo);
	TAILQ_CONCAT(&todo, &c->waiting, link);
	while ((j = TAILQ_FIRST(&todo)) != NULL) {
		TAILQ_REMOVE(&todo, j, link);
		j->on_list = false;
		if (pd_origin_pick_conn(j))
			c->pd->up.dispatch(j, false);
		else {
			TAILQ_INSERT_TAIL(&c->waiting, j, link);
			j->on_list = true;
		}
	}
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_cred *c = arg;
	uint64_t now = sw_mono_ms(), idle_ms = (uint64_t)c->wp->origin_idle_s * 1000;
	struct pd_origin *o, *next;

	(void)fd;
	(void)what;
	for (o = LIST_FIRST(&c->origins); o; o = next) {
		next = LIST_NEXT(o, link);
		if (o->refs || (o->conn && o->conn->n_streams) || now - o->last_used_ms < idle_ms)
			continue;
		PD_LOG(INFO, "%s: %s idle for %u s, closed", c->name, o->aud, c->wp->origin_idle_s);
		PD_STAT_ADD(c->pd, PD_WEBPUSH, origins_closed, 1);
		origin_free(o);
	}
}

void pd_origins_open(struct pd_cred *c)
{
	struct timeval tv;

	c->origin_sweep = event_new(c->pd->base, -1, EV_PERSIST, sweep_cb, c);
	/* Swept at a fifth of the idle time: closed within 1.2x of it. */
	pd_ms_to_tv((uint64_t)c->wp->origin_idle_s * 200, &tv);
	if (c->origin_sweep)
		evtimer_add(c->origin_sweep, &tv);
}

void pd_origins_close(struct pd_cred *c)
{
	while (!LIST_EMPTY(&c->origins))
		origin_free(LIST_FIRST(&c->origins));
	if (c->origin_sweep)
		event_free(c->origin_sweep);
	c->origin_sweep = NULL;
}
