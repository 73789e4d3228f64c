/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Neighbour table (ARP / IPv6 ND results): (port, IP) -> MAC.
 *
 * An RCU hash table (liburcu QSBR flavour, lock-free reads). Workers only
 * read it; the control plane is its only writer (docs/design.md §7) and frees
 * replaced entries after a grace period. IPv4 addresses are stored
 * IPv4-mapped (::ffff:a.b.c.d) so one key type serves both families.
 */
#ifndef SW_NEIGH_H
#define SW_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "common/sw_ip.h"

struct sw_neigh_table;

/** A snapshot of one entry, for telemetry and the control plane's aging. */
struct sw_neigh_info {
	uint16_t port;
	struct sw_ip ip;
	struct rte_ether_addr mac;
	uint64_t confirmed_tsc; /**< last time the neighbour proved its MAC (TSC) */
};

/**
 * Create a table that holds at most @p max entries.
 * Caller must have registered with liburcu QSBR (call_rcu frees entries).
 * @return the table, or NULL (out of memory).
 */
struct sw_neigh_table *sw_neigh_create(unsigned max);

/** Remove every entry and free the table. Writer only; no reader may be running. NULL is a no-op. */
void sw_neigh_free(struct sw_neigh_table *t);

/**
 * Read side: MAC of (port, ip).
 * The calling thread is a registered, online QSBR reader.
 * @return 0 and *mac filled, or -ENOENT.
 */
int sw_neigh_lookup(const struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip,
		    struct rte_ether_addr *mac);

/**
 * Writer: add or refresh (port, ip) -> mac, confirmed at @p now_tsc.
 * A changed MAC replaces the entry (readers see the old or the new one,
 * never a torn MAC); the same MAC only refreshes the confirmation time.
 * @return 0; -ENOSPC when the table is full (existing entries are kept);
 *         -ENOMEM.
 */
int sw_neigh_update(struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip,
		    const struct rte_ether_addr *mac, uint64_t now_tsc);

/** Writer: does (port, ip) exist? Fills *info when it does and info != NULL. */
bool sw_neigh_get(const struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip,
		  struct sw_neigh_info *info);

/** Writer: remove (port, ip). @return 0 or -ENOENT. */
int sw_neigh_remove(struct sw_neigh_table *t, uint16_t port, const struct sw_ip *ip);

/** Visit every entry (read side). Stops early when @p fn returns non-zero. */
void sw_neigh_foreach(const struct sw_neigh_table *t,
		      int (*fn)(const struct sw_neigh_info *e, void *arg), void *arg);

/** Number of entries. */
unsigned sw_neigh_count(const struct sw_neigh_table *t);

#endif /* SW_NEIGH_H */
