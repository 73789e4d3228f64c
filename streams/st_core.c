/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread: its two rings with their eventfds, one libevent
 * loop, start and stop, the certificate swap (docs/streams.md, "The
 * streams thread"). Built as pushd's (pushd/pd_core.c): rings on plain
 * memory, a wake-up only when a ring was empty.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_ring.h>

#include "common/sw_clock.h"
#include "common/sw_ring.h"
#include "streams/st_internal.h"

#define BURST 32

const char *st_close_name(enum st_close_why w)
{
	static const char *const n[ST_CLOSE_N] = {
#define ST_CW_NAME(n, d) #n,
		ST_FOREACH_CLOSE(ST_CW_NAME)
#undef ST_CW_NAME
	};
	return (unsigned)w < ST_CLOSE_N ? n[w] : "unknown";
}

void st_reload_apply(struct st *st)
{
	pthread_mutex_lock(&st->reload_lock);
	for (unsigned i = 0; i < st->n_lis; i++) {
		if (!st->pending_ctx[i])
			continue;
		/* Connections hold their SSL, and each SSL its SSL_CTX: the old
		 * context lives on until the last of them ends. */
		SSL_CTX_free(st->lis[i].ctx);
		st->lis[i].ctx = st->pending_ctx[i];
		st->pending_ctx[i] = NULL;
	}
	st->reload_pending = 0;
	pthread_mutex_unlock(&st->reload_lock);
	ST_SET(st, cert_reloads, st->stats.cert_reloads + 1);
}

static void down_cb(evutil_socket_t fd, short what, void *arg)
{
	struct st *st = arg;
	void *burst[BURST];
	uint64_t v;
	unsigned n;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a spurious wake-up */
	}
	if (st->stop) {
		event_base_loopbreak(st->base);
		return;
	}
	if (__atomic_load_n(&st->reload_pending, __ATOMIC_ACQUIRE))
		st_reload_apply(st);
	/* Drained to empty: st_send() wakes the loop only on an empty ring. */
	while ((n = rte_ring_sc_dequeue_burst(st->down, burst, BURST, NULL)) != 0)
		for (unsigned i = 0; i < n; i++) {
			struct st_down *d = burst[i];

			if (d->kind == ST_DOWN_SEND)
				st_conn_send(st, d->conn, d->data, d->len);
			else
				st_conn_local_close(st, d->conn);
			free(d);
		}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	st_stats_tick(arg);
}

static void *loop(void *arg)
{
	struct st *st = arg;
	struct timeval sec = {1, 0};
	sigset_t block;

	/* OpenSSL writes with write(): a peer gone first would raise SIGPIPE
	 * and kill the process. Blocked on this thread only, as pushd does. */
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	event_add(st->tick_ev, &sec);
	event_base_dispatch(st->base);
	st_conn_close_all(st);
	st_listen_close(st);
	/* bufferevent_free() finalizes deferred bufferevents in the loop: let
	 * that run, or their SSL objects leak. */
	event_base_loop(st->base, EVLOOP_NONBLOCK);
	return NULL;
}

static int check_config(const struct st_config *cfg, char *err, size_t errlen)
{
	if (cfg->n_listeners > ST_MAX_LISTENERS || cfg->n_addrs > ST_MAX_ADDRS) {
		snprintf(err, errlen, "streams: at most %d listeners and %d addresses",
			 ST_MAX_LISTENERS, ST_MAX_ADDRS);
		return -EINVAL;
	}
	if (cfg->ring_size < 2 || (cfg->ring_size & (cfg->ring_size - 1))) {
		snprintf(err, errlen, "streams: ring_size %u is not a power of two",
			 cfg->ring_size);
		return -EINVAL;
	}
	if (cfg->max_message < 16) {
		snprintf(err, errlen, "streams: max_message %u is too small", cfg->max_message);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_listeners; i++)
		if (!sw_tp_is_stream(cfg->listeners[i].tp)) {
			snprintf(err, errlen,
				 "streams: listener %u (port %u): not a stream transport", i,
				 cfg->listeners[i].port);
			return -EINVAL;
		}
	return 0;
}

struct st *st_new(const struct st_config *cfg, char *err, size_t errlen)
{
	struct st *st;
	char dummy[8];

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (check_config(cfg, err, errlen))
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "streams: out of memory");
		return NULL;
	}
	st->cfg = *cfg;
	st->down_fd = st->up_fd = -1;
	st->next_id = 1;
	TAILQ_INIT(&st->conns);
	pthread_mutex_init(&st->reload_lock, NULL);
	st->n_lis = cfg->n_listeners;
	for (unsigned i = 0; i < st->n_lis; i++) {
		struct st_lis *l = &st->lis[i];

		l->st = st;
		l->cfg = cfg->listeners[i];
		l->cfg.cert[ST_PATH_MAX - 1] = l->cfg.key[ST_PATH_MAX - 1] = '\0';
		l->cfg.ca[ST_PATH_MAX - 1] = l->cfg.ws_path[ST_WS_PATH_MAX - 1] = '\0';
		if (!l->cfg.ws_path[0])
			strcpy(l->cfg.ws_path, "/");
		if (l->cfg.tp == SW_TP_TLS || l->cfg.tp == SW_TP_WSS) {
			l->ctx = st_tls_ctx_new(&l->cfg, i, err, errlen);
			if (!l->ctx)
				goto fail;
		}
	}
	st->up = sw_ring_plain(cfg->ring_size, "st_up", &st->up_mem);
	st->down = sw_ring_plain(cfg->ring_size, "st_down", &st->down_mem);
	st->down_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	st->up_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!st->up || !st->down || st->down_fd < 0 || st->up_fd < 0 || st_tab_init(st))
		goto fail_oom;
	st->base = event_base_new();
	if (!st->base)
		goto fail_oom;
	st->down_ev = event_new(st->base, st->down_fd, EV_READ | EV_PERSIST, down_cb, st);
	st->tick_ev = event_new(st->base, -1, EV_PERSIST, tick_cb, st);
	st->retry_ev = event_new(st->base, -1, 0, st_up_retry_cb, st);
	if (!st->down_ev || !st->tick_ev || !st->retry_ev || event_add(st->down_ev, NULL) != 0)
		goto fail_oom;
	return st;
fail_oom:
	snprintf(err, errlen, "streams: out of memory");
fail:
	st_free(st);
	return NULL;
}

int st_start(struct st *st, char *err, size_t errlen)
{
	char dummy[8];
	int rc;

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (st->started) {
		snprintf(err, errlen, "streams: already started");
		return -EALREADY;
	}
	rc = st_listen_open(st, err, errlen);
	if (rc)
		return rc;
	rc = pthread_create(&st->thread, NULL, loop, st);
	if (rc) {
		st_listen_close(st);
		snprintf(err, errlen, "streams: cannot start the thread: %s", strerror(rc));
		return -rc;
	}
	pthread_setname_np(st->thread, "streams");
	st->started = true;
	return 0;
}

void st_free(struct st *st)
{
	void *p;

	if (!st)
		return;
	if (st->started) {
		st->stop = true;
		st_kick(st->down_fd);
		pthread_join(st->thread, NULL);
	} else {
		st_listen_close(st);
	}
	if (st->down)
		while (rte_ring_sc_dequeue(st->down, &p) == 0)
			free(p);
	if (st->up)
		while (rte_ring_sc_dequeue(st->up, &p) == 0)
			free(p);
	for (unsigned i = 0; i < st->n_closed_q; i++)
		free(st->closed_q[i]);
	free(st->closed_q);
	for (unsigned i = 0; i < st->n_lis; i++) {
		SSL_CTX_free(st->lis[i].ctx);
		SSL_CTX_free(st->pending_ctx[i]);
	}
	if (st->down_ev)
		event_free(st->down_ev);
	if (st->tick_ev)
		event_free(st->tick_ev);
	if (st->retry_ev)
		event_free(st->retry_ev);
	if (st->base)
		event_base_free(st->base);
	st_tab_free(st);
	if (st->down_fd >= 0)
		close(st->down_fd);
	if (st->up_fd >= 0)
		close(st->up_fd);
	free(st->down_mem);
	free(st->up_mem);
	pthread_mutex_destroy(&st->reload_lock);
	free(st);
}

int st_reload_certs(struct st *st, char *err, size_t errlen)
{
	SSL_CTX *fresh[ST_MAX_LISTENERS] = {NULL};
	char dummy[8];

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	for (unsigned i = 0; i < st->n_lis; i++) {
		/* By transport, not by lis[i].ctx: the thread may be swapping that. */
		if (st->lis[i].cfg.tp != SW_TP_TLS && st->lis[i].cfg.tp != SW_TP_WSS)
			continue;
		fresh[i] = st_tls_ctx_new(&st->lis[i].cfg, i, err, errlen);
		if (!fresh[i]) {
			for (unsigned j = 0; j < i; j++)
				SSL_CTX_free(fresh[j]);
			return -EINVAL;
		}
	}
	pthread_mutex_lock(&st->reload_lock);
	for (unsigned i = 0; i < st->n_lis; i++) {
		/* A reload not yet applied is overtaken by this one. */
		SSL_CTX_free(st->pending_ctx[i]);
		st->pending_ctx[i] = fresh[i];
	}
	__atomic_store_n(&st->reload_pending, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&st->reload_lock);
	if (st->started)
		st_kick(st->down_fd);
	else
		st_reload_apply(st);
	return 0;
}

static int down_push(struct st *st, struct st_down *d)
{
	if (rte_ring_sp_enqueue(st->down, d) != 0) {
		__atomic_store_n(&st->stats.down_ring_full, st->stats.down_ring_full + 1,
				 __ATOMIC_RELAXED);
		free(d);
		return -ENOBUFS;
	}
	/* Wake the loop only when the ring was empty: it drains it to empty. */
	if (rte_ring_count(st->down) == 1)
		st_kick(st->down_fd);
	return 0;
}

int st_send(struct st *st, uint64_t conn, const void *data, size_t len)
{
	struct st_down *d;

	if (!conn || !len || len > st->cfg.max_message)
		return -EINVAL;
	d = malloc(sizeof(*d) + len);
	if (!d)
		return -ENOMEM;
	d->kind = ST_DOWN_SEND;
	d->conn = conn;
	d->len = (uint32_t)len;
	memcpy(d->data, data, len);
	return down_push(st, d);
}

int st_close(struct st *st, uint64_t conn)
{
	struct st_down *d;

	if (!conn)
		return -EINVAL;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->kind = ST_DOWN_CLOSE;
	d->conn = conn;
	d->len = 0;
	return down_push(st, d);
}

unsigned st_poll(struct st *st, struct st_up **out, unsigned n)
{
	return rte_ring_sc_dequeue_burst(st->up, (void **)out, n, NULL);
}

int st_up_fd(const struct st *st)
{
	return st->up_fd;
}
