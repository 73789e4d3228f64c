/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sipwake's own ports and addresses, and the questions both the workers and
 * the control plane ask of them: is this address or host us, and by which
 * port and next hop does a datagram reach an address (docs/design.md,
 * "Outbound path"). One answer for both sides: what a worker forwards and
 * what the control plane sends go the same way.
 */
#ifndef SW_PORTS_H
#define SW_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "common/sw_ip.h"

#define SW_MAX_IFACES 8
#define SW_MAX_NAMES  8
#define SW_NAME_LEN   128

/** A sipwake port and the addresses it owns. Read-only once workers run. */
struct sw_iface {
	uint16_t port_id;
	struct rte_ether_addr mac;
	bool has_v4, has_gw4, has_v6, has_gw6;
	rte_be32_t ip4;	  /**< network byte order */
	rte_be32_t mask4; /**< network byte order */
	rte_be32_t gw4;
	uint8_t prefix6;
	struct sw_ip ip6; /**< configured global address */
	struct sw_ip ll6; /**< our link-local, fe80::EUI-64 of the port MAC */
	struct sw_ip gw6;
	struct sw_ip snm6[2]; /**< solicited-node multicast of ip6 and ll6 (RFC 4291 §2.7.1) */
	uint16_t mtu;	      /**< largest IP packet the port sends */
	uint16_t vlan;	      /**< 802.1Q VID of every frame in and out; 0: untagged */
	bool started;
	/** RTE_ETH_TX_OFFLOAD_* bits enabled on the port: with IPV4_CKSUM and
	 *  UDP_CKSUM the forward path leaves the checksums to the NIC
	 *  (dataplane/dp_fwd_msg.c); 0: every checksum in software. */
	uint64_t tx_offload;
};

/** What means "sipwake" on the wire: its SIP port, names and interfaces. */
struct sw_ports {
	uint16_t sip_port; /**< host byte order */
	unsigned n_names;  /**< hostnames that mean sipwake itself in a URI */
	char names[SW_MAX_NAMES][SW_NAME_LEN];
	unsigned n_ifaces;
	struct sw_iface ifaces[SW_MAX_IFACES];
};

/** Is @p dst on the link of @p ifc (its IPv4 subnet, its IPv6 prefix, or
 *  IPv6 link-local)? */
bool sw_iface_on_link(const struct sw_iface *ifc, const struct sw_ip *dst);

/**
 * The next hop toward @p dst out of @p ifc: @p dst itself on-link, else the
 * iface's gateway of that family.
 * @return 0, or -ENETUNREACH (off-link and no gateway).
 */
int sw_iface_nexthop(const struct sw_iface *ifc, const struct sw_ip *dst, struct sw_ip *nh);

/**
 * How a datagram to @p dst leaves: the iface it is on-link to, else @p hint
 * (an iface index, -1 for none) if that one has a gateway of the family,
 * else the first that has one. Any out-parameter may be NULL.
 * @param ifx  the iface.
 * @param src  our address on it (the link-local one toward a link-local @p dst).
 * @param nh   the next hop (see sw_iface_nexthop()).
 * @return 0, or -ENETUNREACH (no iface reaches @p dst).
 */
int sw_ports_route(const struct sw_ports *p, const struct sw_ip *dst, int hint, unsigned *ifx,
		   struct sw_ip *src, struct sw_ip *nh);

/** Index of the iface that owns @p ip (one of our addresses), or -1. */
int sw_ports_owner(const struct sw_ports *p, const struct sw_ip *ip);

/**
 * Is the URI host @p host (@p len bytes, an IPv6 reference with or without
 * its [ ]) and @p port (0: none given) sipwake itself: one of our addresses
 * or names (any case), and our SIP port or none?
 */
bool sw_ports_is_us(const struct sw_ports *p, const char *host, size_t len, uint16_t port);

#endif /* SW_PORTS_H */
