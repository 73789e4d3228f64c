/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread's side of its ring to the control plane (docs/
 * streams.md, "The streams thread"): an event onto the ring, the eventfd
 * written only when the ring was empty, and the connection ends a full
 * ring refused, offered again until taken: the control plane must learn
 * of every end. Below the connections, which hand their events here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ring.h>

#include "streams/st_internal.h"

/* A full up ring: the ST_UP_CLOSED it refused are offered again this often. */
#define RETRY_MS 10

void st_kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* counter saturated: the reader is awake anyway */
	}
}

static void retry_arm(struct st *st)
{
	struct timeval tv = {0, RETRY_MS * 1000};

	event_add(st->retry_ev, &tv);
}

/*
 * Hand @p u up (taken). An ST_UP_CLOSED the ring refuses waits in
 * closed_q: the control plane must learn every end, only later. Other
 * events are dropped (-ENOBUFS); the caller closes the connection.
 */
int st_up_push(struct st *st, struct st_up *u)
{
	/* CLOSED events keep their order behind those queued; a message may
	 * pass them: each queued one ends a connection that is gone already. */
	if (u->kind != ST_UP_CLOSED || !st->n_closed_q) {
		if (rte_ring_sp_enqueue(st->up, u) == 0) {
			if (rte_ring_count(st->up) == 1)
				st_kick(st->up_fd);
			return 0;
		}
		ST_SET(st, up_ring_full, st->stats.up_ring_full + 1);
		if (u->kind != ST_UP_CLOSED) {
			free(u);
			return -ENOBUFS;
		}
	}
	if (st->n_closed_q == st->cap_closed_q) {
		unsigned cap = st->cap_closed_q ? st->cap_closed_q * 2 : 64;
		struct st_up **q = realloc(st->closed_q, cap * sizeof(*q));

		if (!q) {
			free(u);
			return -ENOMEM;
		}
		st->closed_q = q;
		st->cap_closed_q = cap;
	}
	st->closed_q[st->n_closed_q++] = u;
	retry_arm(st);
	return -ENOBUFS;
}

void st_up_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct st *st = arg;
	unsigned done = 0;

	(void)fd;
	(void)what;
	while (done < st->n_closed_q && rte_ring_sp_enqueue(st->up, st->closed_q[done]) == 0)
		done++;
	if (done) {
		memmove(st->closed_q, st->closed_q + done,
			(st->n_closed_q - done) * sizeof(*st->closed_q));
		st->n_closed_q -= done;
		st_kick(st->up_fd);
	}
	if (st->n_closed_q)
		retry_arm(st);
}
