/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread's counters (st.h): written by the thread alone,
 * read by st_stats_get() on any thread with relaxed loads. The ages and
 * the memory estimate are recomputed once a second, not per event.
 */
#include <event2/buffer.h>

#include "common/sw_clock.h"
#include "streams/st_internal.h"

_Static_assert(sizeof(struct st_stats) % sizeof(uint64_t) == 0,
	       "st_stats is read as an array of uint64_t");

void st_stats_get(const struct st *st, struct st_stats *out)
{
	const uint64_t *src = (const uint64_t *)&st->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static size_t conn_mem(const struct st_conn *c)
{
	size_t m = c->tp == SW_TP_TLS || c->tp == SW_TP_WSS ? ST_CONN_MEM_TLS : ST_CONN_MEM_TCP;

	m += evbuffer_get_length(bufferevent_get_input(c->bev));
	m += evbuffer_get_length(bufferevent_get_output(c->bev));
	if (c->layer)
		m += c->layer->mem(c);
	return m;
}

/* Once a second: a walk over every connection (~2 ms per 100k), which
 * keeps the per-byte path free of any bookkeeping for these. */
void st_stats_tick(struct st *st)
{
	uint64_t now = sw_mono_ms(), idlest = 0, mem = 0;
	const struct st_conn *c = TAILQ_FIRST(&st->conns);

	/* Accepted in order: the first is the oldest. */
	ST_SET(st, oldest_s, c ? (now - c->open_ms) / 1000 : 0);
	TAILQ_FOREACH(c, &st->conns, link)
	{
		if (now - c->in_ms > idlest)
			idlest = now - c->in_ms;
		mem += conn_mem(c);
	}
	ST_SET(st, idlest_s, idlest / 1000);
	ST_SET(st, mem_bytes, mem);
}
