/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RCU table plumbing common/'s tables share (sw_rcu.h): making a table,
 * freeing entries after a grace period, tearing a table down.
 */
#include <stdbool.h>
#include <stdlib.h>

#include <rte_common.h>

#include "common/sw_rcu.h"

struct cds_lfht *sw_lfht_new(unsigned max)
{
	unsigned long buckets = rte_align32pow2(max < 16 ? 16 : max);

	return cds_lfht_new_flavor(buckets, buckets, buckets, 0, &urcu_qsbr_flavor, NULL);
}

static void entry_free(struct rcu_head *head)
{
	free(caa_container_of(head, struct sw_rcu_entry, rcu));
}

void sw_rcu_free_later(struct sw_rcu_entry *e)
{
	urcu_qsbr_call_rcu(&e->rcu, entry_free);
}

void sw_lfht_free(struct cds_lfht *ht, void (*gone)(struct sw_rcu_entry *e, void *arg), void *arg)
{
	struct cds_lfht_iter it;
	struct sw_rcu_entry *e;

	if (ht == NULL)
		return;
	sw_lfht_for_each_entry(ht, &it, e, node)
	{
		cds_lfht_del(ht, &e->node);
		if (gone != NULL)
			gone(e, arg);
		sw_rcu_free_later(e);
	}
	/* Run the frees queued above (and any queued before) before the table
	 * goes: nothing of it is left to a callback after this returns. */
	sw_rcu_barrier();
	cds_lfht_destroy(ht, NULL);
}

void *sw_rcu_table_new(size_t size, unsigned max)
{
	struct sw_rcu_table *t = calloc(1, size);

	if (t == NULL)
		return NULL;
	t->ht = sw_lfht_new(max);
	if (t->ht == NULL) {
		free(t);
		return NULL;
	}
	t->max = max;
	return t;
}

void sw_rcu_table_free(void *table)
{
	struct sw_rcu_table *t = table;

	if (t == NULL)
		return;
	sw_lfht_free(t->ht, NULL, NULL);
	free(t);
}

void sw_rcu_barrier(void)
{
	bool online = urcu_qsbr_read_ongoing();

	if (online)
		urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	if (online)
		urcu_qsbr_thread_online();
}
