/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Neighbour table (ARP / IPv6 ND results): (port, IP) -> MAC.
 *
 * An RCU hash table (liburcu QSBR flavour, lock-free reads). Workers only
 * read it; the control plane is its only writer (DESIGN.md §7) and frees
 * replaced entries after a grace period. IPv4 addresses are stored
 * IPv4-mapped (::ffff:a.b.c.d) so one key type serves both families.
 */
#ifndef SW_NEIGH_H
#define SW_NEIGH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>

struct sw_neigh_table;

/** An IP address of either family, IPv4 mapped into IPv6 (RFC 4291 §2.5.5.2). */
struct sw_ip {
	uint8_t a[16];
} __attribute__((aligned(4))); /* rte_jhash reads it as 32-bit words */

/** IPv4 (network byte order) -> struct sw_ip. */
static inline struct sw_ip sw_ip_from_v4(uint32_t be_addr)
{
	struct sw_ip ip = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}};
	__builtin_memcpy(&ip.a[12], &be_addr, 4);
	return ip;
}

static inline bool sw_ip_eq(const struct sw_ip *a, const struct sw_ip *b)
{
	return memcmp(a->a, b->a, sizeof(a->a)) == 0;
}

static inline bool sw_ip_is_v4(const struct sw_ip *ip)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return __builtin_memcmp(ip->a, pfx, sizeof(pfx)) == 0;
}

/** IPv4 part of a mapped address, network byte order. */
static inline uint32_t sw_ip_v4(const struct sw_ip *ip)
{
	uint32_t v;
	__builtin_memcpy(&v, &ip->a[12], 4);
	return v;
}

/** Is @p ip IPv6 link-local, fe80::/10 (RFC 4291 §2.5.6)? */
static inline bool sw_ip_is_link_local(const struct sw_ip *ip)
{
	return ip->a[0] == 0xfe && (ip->a[1] & 0xc0) == 0x80;
}

/** Solicited-node multicast group of @p ip: ff02::1:ffXX:XXXX (RFC 4291 §2.7.1). */
static inline struct sw_ip sw_ip_solicited_node(const struct sw_ip *ip)
{
	struct sw_ip snm = {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, ip->a[13],
			     ip->a[14], ip->a[15]}};

	return snm;
}

/** Ethernet address of IPv6 multicast group @p group: 33:33 + its low 32 bits (RFC 2464 §7). */
static inline struct rte_ether_addr sw_ip_mcast_mac(const struct sw_ip *group)
{
	struct rte_ether_addr mac = {
		{0x33, 0x33, group->a[12], group->a[13], group->a[14], group->a[15]}};

	return mac;
}

/** Text form of @p ip into @p buf (at least 46 bytes). Returns buf. */
const char *sw_ip_str(const struct sw_ip *ip, char *buf, unsigned len);

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
