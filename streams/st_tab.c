/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread's two lookups: a connection by its id (st_send(),
 * st_close()) and the count of open connections per source IP
 * (max_conns_per_source). Chained hash tables that double as they fill:
 * O(1) on the thread, no EAL (rte_hash allocates from hugepages).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "streams/st_internal.h"

#define TAB_MIN 1024u

static uint32_t id_hash(uint64_t id)
{
	/* Ids are consecutive: a multiplicative hash spreads them anyway. */
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32);
}

static uint32_t ip_hash(const struct sw_ip *ip)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < sizeof(ip->a); i++)
		h = (h ^ ip->a[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

int st_tab_init(struct st *st)
{
	st->by_id = calloc(TAB_MIN, sizeof(*st->by_id));
	st->by_src = calloc(TAB_MIN, sizeof(*st->by_src));
	if (!st->by_id || !st->by_src)
		return -ENOMEM;
	st->by_id_mask = st->by_src_mask = TAB_MIN - 1;
	return 0;
}

void st_tab_free(struct st *st)
{
	if (st->by_src)
		for (uint32_t i = 0; i <= st->by_src_mask; i++)
			while (st->by_src[i]) {
				struct st_src *s = st->by_src[i];

				st->by_src[i] = s->next;
				free(s);
			}
	free(st->by_id);
	free(st->by_src);
	st->by_id = NULL;
	st->by_src = NULL;
}

struct st_conn *st_tab_get(struct st *st, uint64_t id)
{
	struct st_conn *c = st->by_id[id_hash(id) & st->by_id_mask];

	while (c && c->id != id)
		c = c->hnext;
	return c;
}

/* Doubling keeps chains short; a failed doubling only lengthens them. */
static void id_grow(struct st *st)
{
	uint32_t nmask = st->by_id_mask * 2 + 1;
	struct st_conn **n = calloc((size_t)nmask + 1, sizeof(*n));

	if (!n)
		return;
	for (uint32_t i = 0; i <= st->by_id_mask; i++)
		while (st->by_id[i]) {
			struct st_conn *c = st->by_id[i];
			uint32_t b = id_hash(c->id) & nmask;

			st->by_id[i] = c->hnext;
			c->hnext = n[b];
			n[b] = c;
		}
	free(st->by_id);
	st->by_id = n;
	st->by_id_mask = nmask;
}

int st_tab_add(struct st *st, struct st_conn *c)
{
	uint32_t b;

	if (st->n_conns > st->by_id_mask)
		id_grow(st);
	b = id_hash(c->id) & st->by_id_mask;
	c->hnext = st->by_id[b];
	st->by_id[b] = c;
	st->n_conns++;
	return 0;
}

void st_tab_del(struct st *st, struct st_conn *c)
{
	struct st_conn **pp = &st->by_id[id_hash(c->id) & st->by_id_mask];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = c->hnext;
		st->n_conns--;
	}
}

static void src_grow(struct st *st)
{
	uint32_t nmask = st->by_src_mask * 2 + 1;
	struct st_src **n = calloc((size_t)nmask + 1, sizeof(*n));

	if (!n)
		return;
	for (uint32_t i = 0; i <= st->by_src_mask; i++)
		while (st->by_src[i]) {
			struct st_src *s = st->by_src[i];
			uint32_t b = ip_hash(&s->ip) & nmask;

			st->by_src[i] = s->next;
			s->next = n[b];
			n[b] = s;
		}
	free(st->by_src);
	st->by_src = n;
	st->by_src_mask = nmask;
}

/* Sources are counted while they hold a connection: entries never outnumber connections. */
struct st_src *st_src_get(struct st *st, const struct sw_ip *ip, bool create)
{
	struct st_src **pp = &st->by_src[ip_hash(ip) & st->by_src_mask], *s;

	for (s = *pp; s; s = s->next)
		if (sw_ip_eq(&s->ip, ip))
			return s;
	if (!create)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ip = *ip;
	s->next = *pp;
	*pp = s;
	if (st->n_conns > st->by_src_mask)
		src_grow(st);
	return s;
}

void st_src_put(struct st *st, struct st_src *s)
{
	struct st_src **pp;

	if (--s->n)
		return;
	pp = &st->by_src[ip_hash(&s->ip) & st->by_src_mask];
	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	free(s);
}
