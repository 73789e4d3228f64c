/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The source table (sw_src.h): bound devices' ip:port -> device id and
 * last-alive time, and the ban list, in a QSBR cds_lfht (common/sw_rcu.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <rte_common.h>
#include <rte_jhash.h>

#include "common/sw_rcu.h"
#include "common/sw_src.h"

struct src_entry {
	struct sw_rcu_entry head; /* first: freed through it */
	struct sw_src pub;
	unsigned refs; /* writer-only: devices using this source (sw_src_ref) */
};

/* Its count is written by the writer only and read by anyone (relaxed). */
struct sw_src_table {
	struct sw_rcu_table rt; /* first: sw_rcu_table_new() */
};

struct src_key {
	const struct sw_ip *ip;
	uint16_t port;
};

static unsigned long src_hash(const struct sw_ip *ip, uint16_t port)
{
	/* ~20 cycles: 16 bytes of address, the port as the seed. */
	return rte_jhash(ip->a, sizeof(ip->a), port);
}

static int src_match(struct cds_lfht_node *node, const void *key)
{
	const struct src_entry *e = caa_container_of(node, struct src_entry, head.node);
	const struct src_key *k = key;

	return e->pub.port == k->port && memcmp(e->pub.ip.a, k->ip->a, sizeof(k->ip->a)) == 0;
}

static struct src_entry *src_find(const struct sw_src_table *t, const struct sw_ip *ip,
				  uint16_t port)
{
	struct src_key k = {.ip = ip, .port = port};
	struct cds_lfht_node *node = sw_lfht_find(t->rt.ht, src_hash(ip, port), src_match, &k);

	return node ? caa_container_of(node, struct src_entry, head.node) : NULL;
}

struct sw_src_table *sw_src_create(unsigned max)
{
	return sw_rcu_table_new(sizeof(struct sw_src_table), max);
}

void sw_src_free(struct sw_src_table *t)
{
	sw_rcu_table_free(t);
}

struct sw_src *sw_src_lookup(const struct sw_src_table *t, const struct sw_ip *ip, uint16_t port)
{
	/* QSBR read-side lock/unlock compile to nothing; the caller's next
	 * quiescent state ends the entry's lifetime, as documented. */
	struct src_entry *e = src_find(t, ip, port);

	return e != NULL ? &e->pub : NULL;
}

int sw_src_bind(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port, uint64_t device_id,
		uint64_t now_tsc)
{
	struct src_entry *old = src_find(t, ip, port), *e;
	struct src_key k = {.ip = ip, .port = port};

	if (old != NULL && old->pub.device_id == device_id) {
		sw_src_touch(&old->pub, now_tsc);
		return 0;
	}
	if (old == NULL && t->rt.count >= t->rt.max)
		return -ENOSPC;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->pub = (struct sw_src){
		.ip = *ip, .port = port, .device_id = device_id, .last_alive_tsc = now_tsc};
	e->refs = old != NULL ? old->refs : 1;
	cds_lfht_node_init(&e->head.node);
	if (old != NULL) {
		/* Replace, never edit in place: readers see one device or the other. */
		/* The iterator as a lookup leaves it: the node and its successor. */
		cds_lfht_replace(
			t->rt.ht,
			&(struct cds_lfht_iter){.node = &old->head.node,
						.next = CMM_LOAD_SHARED(old->head.node.next)},
			src_hash(ip, port), src_match, &k, &e->head.node);
		sw_rcu_free_later(&old->head);
	} else {
		cds_lfht_add(t->rt.ht, src_hash(ip, port), &e->head.node);
		/* Relaxed store: readers may ask whether the table is empty. */
		__atomic_store_n(&t->rt.count, t->rt.count + 1, __ATOMIC_RELAXED);
	}
	return 0;
}

int sw_src_unbind(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port)
{
	struct src_entry *e = src_find(t, ip, port);

	if (e == NULL || cds_lfht_del(t->rt.ht, &e->head.node) != 0)
		return -ENOENT;
	__atomic_store_n(&t->rt.count, t->rt.count - 1, __ATOMIC_RELAXED);
	sw_rcu_free_later(&e->head);
	return 0;
}

int sw_src_ref(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port, uint64_t device_id,
	       uint64_t now_tsc)
{
	struct src_entry *old = src_find(t, ip, port);

	if (old != NULL) {
		/* Another device on the same socket (two accounts in one app):
		 * one entry, counted; it stays the first device's
		 * (sw_bind hands it on when that device goes). */
		old->refs++;
		sw_src_touch(&old->pub, now_tsc);
		return 0;
	}
	return sw_src_bind(t, ip, port, device_id, now_tsc);
}

int sw_src_unref(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port)
{
	struct src_entry *e = src_find(t, ip, port);

	if (e == NULL)
		return -ENOENT;
	if (e->refs > 1) {
		e->refs--;
		return 0;
	}
	return sw_src_unbind(t, ip, port);
}

void sw_src_foreach(const struct sw_src_table *t, int (*fn)(const struct sw_src *e, void *arg),
		    void *arg)
{
	struct cds_lfht_iter it;
	struct src_entry *e;

	urcu_qsbr_read_lock();
	sw_lfht_for_each_entry(t->rt.ht, &it, e, head.node)
	{
		if (fn(&e->pub, arg) != 0)
			break;
	}
	urcu_qsbr_read_unlock();
}

unsigned sw_src_count(const struct sw_src_table *t)
{
	return __atomic_load_n(&t->rt.count, __ATOMIC_RELAXED);
}

unsigned sw_src_max(const struct sw_src_table *t)
{
	return t->rt.max;
}
