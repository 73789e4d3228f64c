/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * IP addresses of either family in one type, and the small questions asked
 * of them everywhere (family, link-local, prefix, text form).
 */
#ifndef SW_IP_H
#define SW_IP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>

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

/** Do @p a and @p b share their first @p bits bits (0..128)? The IPv6 form
 *  of both is compared: an IPv4 prefix length is 96 + its IPv4 length. */
static inline bool sw_ip_prefix_eq(const struct sw_ip *a, const struct sw_ip *b, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;

	if (bits > 128)
		return false;
	if (memcmp(a->a, b->a, bytes) != 0)
		return false;
	return rem == 0 || ((a->a[bytes] ^ b->a[bytes]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

/** Text form of @p ip into @p buf (at least 46 bytes). Returns buf. */
const char *sw_ip_str(const struct sw_ip *ip, char *buf, unsigned len);

/** Room for sw_ip_port_str(): "[" 45 "]:" 5 digits and the NUL. */
#define SW_IP_PORT_STRLEN 56

/**
 * Text form of an address and port as logs and traces name a peer:
 * "192.0.2.1:5060", or "[2001:db8::1]:5060" (the brackets of RFC 3986
 * §3.2.2, without which the port reads as the address's last group), into
 * @p buf of @p len bytes (SW_IP_PORT_STRLEN is enough; a shorter buffer
 * gets a cut, NUL-terminated text). Returns buf.
 */
const char *sw_ip_port_str(const struct sw_ip *ip, uint16_t port, char *buf, unsigned len);

/**
 * The IP literal of a URI host or a received= value: dotted IPv4, or IPv6
 * with or without its [ ]. @p text is borrowed, @p len bytes (no NUL
 * needed). @return 0, or -EINVAL when it is a name or malformed.
 */
int sw_ip_parse(const char *text, size_t len, struct sw_ip *ip);

#endif /* SW_IP_H */
