/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What every RCU table of common/ does the same way: a liburcu QSBR hash
 * table of fixed size, entries that start with the same head and are freed
 * whole after a grace period, and a table torn down in one call.
 */
#ifndef SW_RCU_H
#define SW_RCU_H

#include <stddef.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

/**
 * The head every table entry starts with (first member: the entry is one
 * malloc() block, and sw_rcu_free_later() frees it through this head).
 */
struct sw_rcu_entry {
	struct cds_lfht_node node; /**< in the table (sw_bind: its id index) */
	struct rcu_head rcu;
};

/**
 * A table with one index: its hash table, the entries it may hold and the
 * entries it holds. The count is the writer's; a table whose readers look at
 * it (an empty table is one load) stores it relaxed.
 */
struct sw_rcu_table {
	struct cds_lfht *ht;
	unsigned max;
	unsigned count;
};

/**
 * cds_lfht_for_each_entry() without its caa_container_of() of the NULL
 * that ends the walk: arithmetic on a null pointer is undefined (clang's
 * UBSan reports it; tests/fuzz/fuzz_cp_register.c found it). The same
 * walk otherwise: the body may delete the node it stands on.
 */
#define sw_lfht_for_each_entry(ht, iter, pos, member)                                             \
	for (cds_lfht_first(ht, iter);                                                            \
	     cds_lfht_iter_get_node(iter) != NULL &&                                              \
	     ((pos) = caa_container_of(cds_lfht_iter_get_node(iter), __typeof__(*(pos)), member), \
	     1);                                                                                  \
	     cds_lfht_next(ht, iter))

/**
 * A QSBR cds_lfht with a fixed bucket count for @p max entries (a power of
 * 2, at least 16): no resize threads, memory bounded and known at start-up.
 * @return the table, or NULL (out of memory).
 */
struct cds_lfht *sw_lfht_new(unsigned max);

/** The first node of @p ht that @p match says is @p key, or NULL. Read side. */
static inline struct cds_lfht_node *sw_lfht_find(struct cds_lfht *ht, unsigned long hash,
						 cds_lfht_match_fct match, const void *key)
{
	struct cds_lfht_iter it;

	cds_lfht_lookup(ht, hash, match, key, &it);
	return cds_lfht_iter_get_node(&it);
}

/**
 * Free @p e (taken) once every reader that may hold it has passed a
 * quiescent state. It must be unlinked from every table already.
 */
void sw_rcu_free_later(struct sw_rcu_entry *e);

/**
 * Tear down @p ht: every entry (linked by its head's node) unlinked, handed
 * to @p gone (may be NULL; e.g. to unlink it from other indexes), freed
 * after a grace period; those frees waited for (sw_rcu_barrier()), then the
 * hash table destroyed. No reader may still use it. NULL: no-op.
 */
void sw_lfht_free(struct cds_lfht *ht, void (*gone)(struct sw_rcu_entry *e, void *arg), void *arg);

/**
 * A zeroed table of @p size bytes, which starts with a struct sw_rcu_table,
 * with its hash table for @p max entries.
 * @return it, or NULL (out of memory).
 */
void *sw_rcu_table_new(size_t size, unsigned max);

/** sw_lfht_free() of a table sw_rcu_table_new() made, then the table. NULL: no-op. */
void sw_rcu_table_free(void *table);

/**
 * Wait for every pending RCU free (urcu_qsbr_barrier()). Callable from an
 * online QSBR thread: it goes offline meanwhile, since an online reader
 * would hold up the very grace period the barrier waits for.
 */
void sw_rcu_barrier(void);

#endif /* SW_RCU_H */
