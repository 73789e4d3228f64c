/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table (sw_neigh.h): (port, IP) -> MAC in a QSBR cds_lfht
 * (common/sw_rcu.h), written by the control plane, read by the workers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <rte_common.h>
#include <rte_jhash.h>

#include "common/sw_neigh.h"
#include "common/sw_rcu.h"

struct neigh_key {
	struct sw_ip ip;
	uint16_t port;
};

struct neigh_entry {
	struct sw_rcu_entry head; /* first: freed through it */
	struct neigh_key key;
	struct rte_ether_addr mac;
	/* Written by the control plane only; readers never look at it. */
	uint64_t confirmed_tsc;
};

/* Its count is the writer's. */
struct sw_neigh_table {
	struct sw_rcu_table rt; /* first: sw_rcu_table_new() */
};

static unsigned long neigh_hash(const struct neigh_key *k)
{
	return rte_jhash(k->ip.a, sizeof(k->ip.a), k->port);
}

static int neigh_match(struct cds_lfht_node *node, const void *key)
{
	const struct neigh_entry *e = caa_container_of(node, struct neigh_entry, head.node);
	const struct neigh_key *k = key;

	return e->key.port == k->port && memcmp(e->key.ip.a, k->ip.a, sizeof(k->ip.a)) == 0;
}

static struct neigh_entry *neigh_find(const struct sw_neigh_table *t, const struct neigh_key *k)
{
	struct cds_lfht_node *node = sw_lfht_find(t->rt.ht, neigh_hash(k), neigh_match, k);

	return node ? caa_container_of(node, struct neigh_entry, head.node) : NULL;
}

struct sw_neigh_table *sw_neigh_create(unsigned max)
{
	return sw_rcu_table_new(sizeof(struct sw_neigh_table), max);
}

void sw_neigh_free(struct sw_neigh_table *t)
{
	sw_rcu_table_free(t);
}

int sw_neigh_lookup(const struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip,
		    struct rte_ether_addr *mac)
{
	struct neigh_key k = {.ip = *ip, .port = port};
	const struct neigh_entry *e;

	urcu_qsbr_read_lock();
	e = neigh_find(t, &k);
	if (e != NULL)
		*mac = e->mac;
	urcu_qsbr_read_unlock();
	return e != NULL ? 0 : -ENOENT;
}

int sw_neigh_update(struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip,
		    const struct rte_ether_addr *mac, uint64_t now_tsc)
{
	struct neigh_key k = {.ip = *ip, .port = port};
	struct neigh_entry *old, *e;

	old = neigh_find(t, &k);
	if (old != NULL && rte_is_same_ether_addr(&old->mac, mac)) {
		old->confirmed_tsc = now_tsc;
		return 0;
	}
	if (old == NULL && t->rt.count >= t->rt.max)
		return -ENOSPC;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->key = k;
	e->mac = *mac;
	e->confirmed_tsc = now_tsc;
	cds_lfht_node_init(&e->head.node);
	if (old != NULL) {
		/* Replace, never edit: a reader must not see half of a MAC. */
		cds_lfht_replace(t->rt.ht, &(struct cds_lfht_iter){.node = &old->head.node},
				 neigh_hash(&k), neigh_match, &k, &e->head.node);
		sw_rcu_free_later(&old->head);
	} else {
		cds_lfht_add(t->rt.ht, neigh_hash(&k), &e->head.node);
		t->rt.count++;
	}
	return 0;
}

bool sw_neigh_get(const struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip,
		  struct sw_neigh_info *info)
{
	struct neigh_key k = {.ip = *ip, .port = port};
	const struct neigh_entry *e = neigh_find(t, &k);

	if (e != NULL && info != NULL)
		*info = (struct sw_neigh_info){
			.port = port, .ip = *ip, .mac = e->mac, .confirmed_tsc = e->confirmed_tsc};
	return e != NULL;
}

int sw_neigh_remove(struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip)
{
	struct neigh_key k = {.ip = *ip, .port = port};
	struct neigh_entry *e = neigh_find(t, &k);

	if (e == NULL || cds_lfht_del(t->rt.ht, &e->head.node) != 0)
		return -ENOENT;
	t->rt.count--;
	sw_rcu_free_later(&e->head);
	return 0;
}

void sw_neigh_foreach(const struct sw_neigh_table *t,
		      int (*fn)(const struct sw_neigh_info *e, void *arg), void *arg)
{
	struct cds_lfht_iter it;
	struct neigh_entry *e;

	urcu_qsbr_read_lock();
	sw_lfht_for_each_entry(t->rt.ht, &it, e, head.node)
	{
		struct sw_neigh_info info = {.port = e->key.port,
					     .ip = e->key.ip,
					     .mac = e->mac,
					     .confirmed_tsc = e->confirmed_tsc};
		if (fn(&info, arg) != 0)
			break;
	}
	urcu_qsbr_read_unlock();
}

unsigned sw_neigh_count(const struct sw_neigh_table *t)
{
	return t->rt.count;
}
