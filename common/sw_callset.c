/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The held-call set: a QSBR cds_lfht of 64-bit keys (common/sw_rcu.h: fixed
 * size, no resize threads), as common/sw_src.c keeps sources. The key is
 * already a hash, so it is its own bucket hash, and the entry holds nothing
 * a reader could see half-written: a reader only asks whether a node with
 * that key is linked. References and the count are the writer's; the count
 * is stored relaxed so that a worker's sw_callset_has() on an empty set is
 * that one load (the set is empty almost always: it holds calls to sleeping
 * apps for the few seconds a push takes).
 */
#include <errno.h>
#include <stdlib.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "common/sw_callset.h"
#include "common/sw_hash.h"
#include "common/sw_rcu.h"

struct callset_entry {
	struct sw_rcu_entry head; /* first: freed through it */
	uint64_t key;
	unsigned refs; /* writer-only: transactions of the call (sw_callset_add) */
};

/* Its count (distinct keys) is written by the writer only, read by anyone (relaxed). */
struct sw_callset {
	struct sw_rcu_table rt; /* first: sw_rcu_table_new() */
};

uint64_t sw_callset_key(const void *call_id, size_t len)
{
	/* sw_hash64(), not two FNV-1a passes: ~36 cycles instead of ~118 on a
	 * 36-byte Call-ID, and 64 bits that all depend on every byte (an
	 * FNV-1a's low bits depend on the bytes' low bits only, in both
	 * halves). Words are read with memcpy: no unaligned loads on packet
	 * bytes. */
	uint64_t k = sw_hash64(call_id, len, 0x63616c6c2d6964ull /* "call-id" */);

	return k != 0 ? k : 1;
}

static int key_match(struct cds_lfht_node *node, const void *key)
{
	return caa_container_of(node, struct callset_entry, head.node)->key ==
	       *(const uint64_t *)key;
}

static struct callset_entry *find(const struct sw_callset *s, uint64_t key)
{
	struct cds_lfht_node *node = sw_lfht_find(s->rt.ht, (unsigned long)key, key_match, &key);

	return node != NULL ? caa_container_of(node, struct callset_entry, head.node) : NULL;
}

struct sw_callset *sw_callset_create(unsigned max)
{
	return sw_rcu_table_new(sizeof(struct sw_callset), max);
}

void sw_callset_free(struct sw_callset *s)
{
	sw_rcu_table_free(s);
}

int sw_callset_add(struct sw_callset *s, uint64_t key)
{
	struct callset_entry *e = find(s, key);

	if (e != NULL) {
		e->refs++;
		return 0;
	}
	if (s->rt.count >= s->rt.max)
		return -ENOSPC;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->key = key;
	e->refs = 1;
	cds_lfht_node_init(&e->head.node);
	/* One writer: nobody else adds this key between find() and here. */
	cds_lfht_add(s->rt.ht, (unsigned long)key, &e->head.node);
	__atomic_store_n(&s->rt.count, s->rt.count + 1, __ATOMIC_RELAXED);
	return 0;
}

int sw_callset_del(struct sw_callset *s, uint64_t key)
{
	struct callset_entry *e = find(s, key);

	if (e == NULL)
		return -ENOENT;
	if (e->refs > 1) {
		e->refs--;
		return 0;
	}
	if (cds_lfht_del(s->rt.ht, &e->head.node) != 0)
		return -ENOENT;
	__atomic_store_n(&s->rt.count, s->rt.count - 1, __ATOMIC_RELAXED);
	sw_rcu_free_later(&e->head);
	return 0;
}

bool sw_callset_has(const struct sw_callset *s, uint64_t key)
{
	/* Empty: this load and nothing else (~1 cycle; the line is shared
	 * read-only by every worker and written only when a call is held or
	 * let go). A key added or removed just now may be seen either way: the
	 * set says what the control plane holds, not when it started to. No
	 * read-side lock: the node is not kept past this call, and QSBR frees
	 * it only after this thread's next quiescent state. */
	if (__atomic_load_n(&s->rt.count, __ATOMIC_RELAXED) == 0)
		return false;
	return find(s, key) != NULL;
}

unsigned sw_callset_count(const struct sw_callset *s)
{
	return __atomic_load_n(&s->rt.count, __ATOMIC_RELAXED);
}
