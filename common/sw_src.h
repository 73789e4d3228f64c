/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Source table: the address a bound device sends from (ip, port) -> device.
 *
 * Part of the shared tables (docs/design.md §7): workers read it to know whether
 * a datagram comes from a device with a live binding, and mark the device
 * alive; the control plane is its only writer (it binds a source when the
 * PBX accepts a REGISTER, unbinds it when the binding goes) and frees
 * replaced entries after a QSBR grace period. Lock-free reads (liburcu
 * QSBR cds_lfht); the table's size is fixed at creation, so memory is
 * bounded and known at start-up.
 */
#ifndef SW_SRC_H
#define SW_SRC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sw_neigh.h" /* struct sw_ip */

struct sw_src_table;

/**
 * One bound source as readers see it. Every field but last_alive_tsc is
 * immutable once published: a change replaces the whole entry.
 */
struct sw_src {
	struct sw_ip ip;
	uint16_t port;	    /**< host byte order */
	uint64_t device_id; /**< the device's key in the binding tables */
	/**
	 * Last time (TSC) the device was heard from. The one field readers
	 * write (docs/design.md §2): a single-word relaxed store, see sw_src_touch().
	 */
	uint64_t last_alive_tsc;
};

/**
 * Create a table for at most @p max sources.
 * @return the table, or NULL (out of memory).
 */
struct sw_src_table *sw_src_create(unsigned max);

/** Free the table and every entry. No reader may be running. NULL is a no-op. */
void sw_src_free(struct sw_src_table *t);

/**
 * Read side: the entry for (@p ip, @p port), or NULL.
 * The caller is a registered, online QSBR thread; the entry stays valid
 * until the caller's next quiescent state. Borrowed: never freed by the caller.
 */
struct sw_src *sw_src_lookup(const struct sw_src_table *t, const struct sw_ip *ip, uint16_t port);

/** Read side: record that the device behind @p e was heard from at @p now_tsc. */
static inline void sw_src_touch(struct sw_src *e, uint64_t now_tsc)
{
	__atomic_store_n(&e->last_alive_tsc, now_tsc, __ATOMIC_RELAXED);
}

/** Last-alive time of @p e (relaxed load; either side). */
static inline uint64_t sw_src_last_alive(const struct sw_src *e)
{
	return __atomic_load_n(&e->last_alive_tsc, __ATOMIC_RELAXED);
}

/**
 * Writer: what was heard from @p e up to @p heard_tsc proved nothing (its
 * answer said our ping's contact is unknown there): unless a worker has
 * stored a later time since, the source counts as never heard from (0)
 * until its next datagram. A compare-and-swap, so that a proof of life a
 * worker stores after @p heard_tsc is never lost to this store.
 */
static inline void sw_src_forget(struct sw_src *e, uint64_t heard_tsc)
{
	uint64_t t = sw_src_last_alive(e);

	while (t <= heard_tsc && t != 0 &&
	       !__atomic_compare_exchange_n(&e->last_alive_tsc, &t, 0, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

/**
 * Writer: bind (@p ip, @p port) to @p device_id, alive at @p now_tsc.
 * Rebinding a source to another device replaces the entry (readers see the
 * old or the new one, never a mix).
 * @return 0; -ENOSPC when the table is full (existing entries are kept);
 *         -ENOMEM.
 */
int sw_src_bind(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port, uint64_t device_id,
		uint64_t now_tsc);

/** Writer: remove (@p ip, @p port). @return 0 or -ENOENT. */
int sw_src_unbind(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port);

/**
 * Writer: take a reference on (@p ip, @p port) for a device (binding it to
 * @p device_id if it is not bound yet). Several devices may share one
 * socket; the source stays bound until each has released it.
 * @return 0, -ENOSPC or -ENOMEM as sw_src_bind().
 */
int sw_src_ref(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port, uint64_t device_id,
	       uint64_t now_tsc);

/** Writer: release one reference; the last one unbinds. @return 0 or -ENOENT. */
int sw_src_unref(struct sw_src_table *t, const struct sw_ip *ip, uint16_t port);

/** Visit every entry (read side). Stops early when @p fn returns non-zero. */
void sw_src_foreach(const struct sw_src_table *t, int (*fn)(const struct sw_src *e, void *arg),
		    void *arg);

/** Number of entries (either side: a relaxed load of the writer's count). */
unsigned sw_src_count(const struct sw_src_table *t);

/** Capacity given at creation. */
unsigned sw_src_max(const struct sw_src_table *t);

#endif /* SW_SRC_H */
