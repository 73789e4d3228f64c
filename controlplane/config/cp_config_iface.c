/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config keys of interfaces ( { ... } ): the DPDK device, IPv4 / IPv6
 * address and prefix, gateways (checked last, against the address whatever
 * the order), VLAN. Same error contract as cp_config_load.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controlplane/config/cp_config_internal.h"

int cp_cfg_parse_device(struct sw_cfg *c, const config_setting_t *s, const char *path,
			const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	const char *dev = config_setting_get_string(s);
	size_t len = dev ? strlen(dev) : 0, i;
	unsigned j;

	(void)k;
	/* A stray space would only surface later as "no such device". */
	for (i = 0; i < len && (unsigned char)dev[i] > ' ' && dev[i] != 0x7f; i++)
		;
	if (!len || len >= CP_DEVICE_LEN || i < len)
		return sw_cfg_fail(&ld->c, s, path,
				   CP_EXPECT_DEVICE " of 1..%d characters without spaces, got %s",
				   CP_DEVICE_LEN - 1, sw_cfg_found(&ld->c, s, NULL));
	for (j = 0; j < ld->idx; j++)
		if (!strcmp(ld->cfg->ifaces[j].device, dev))
			return sw_cfg_fail(
				&ld->c, s, path,
				"expected a device no other interface uses, got \"%s\" again "
				"(also interfaces.[%u].device)",
				dev, j);
	memcpy(ld->cfg->ifaces[ld->idx].device, dev, len + 1);
	return 0;
}

/* "addr/len" into @addr and @plen. NULL when valid, else why not. */
static const char *parse_cidr(int af, const char *text, void *addr, uint8_t *plen)
{
	const char *slash = strchr(text, '/'), *d;
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max = af == AF_INET ? 32 : 128, len = 0;
	char buf[INET6_ADDRSTRLEN];

	if (alen >= sizeof(buf))
		return "";
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		return "";
	if (!slash)
		return " (no prefix length)";
	for (d = slash + 1; *d >= '0' && *d <= '9' && len <= max; d++)
		len = len * 10 + (unsigned)(*d - '0');
	if (d == slash + 1 || *d || len > max)
		return af == AF_INET ? " (prefix length not in 0..32)"
				     : " (prefix length not in 0..128)";
	*plen = (uint8_t)len;
	return NULL;
}

static uint32_t mask4(unsigned plen)
{
	return plen ? ~0u << (32 - plen) : 0; /* a shift by 32 is undefined */
}

/* Why @a (host order) cannot be a host on @a/@plen, or NULL. */
static const char *ipv4_host_problem(uint32_t a, unsigned plen)
{
	uint32_t host = a & ~mask4(plen);

	if (a >> 24 == 0)
		return " (0.0.0.0/8 means \"this network\", RFC 1122 3.2.1.3)";
	if (a >> 24 == 127)
		return " (loopback)";
	if (a >> 28 == 0xe)
		return " (multicast)";
	if (a == 0xffffffff)
		return " (broadcast)";
	/* /31 (RFC 3021) and /32 have no network or broadcast address. */
	if (plen <= 30 && host == 0)
		return " (the subnet's network address, not a host)";
	if (plen <= 30 && host == ~mask4(plen))
		return " (the subnet's broadcast address)";
	return NULL;
}

static const char *ipv6_host_problem(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_MULTICAST(a))
		return " (multicast)";
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return " (the unspecified address)";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return " (loopback)";
	return NULL;
}

static struct in6_addr net6(const struct in6_addr *a, unsigned plen)
{
	struct in6_addr n = *a;
	unsigned i;

	for (i = 0; i<16; i++, plen = plen> 8 ? plen - 8 : 0)
		n.s6_addr[i] &= (uint8_t)(0xff00 >> (plen > 8 ? 8 : plen));
	return n;
}

static bool in_prefix6(const struct in6_addr *a, const struct in6_addr *net, unsigned plen)
{
	struct in6_addr x = net6(a, plen), y = net6(net, plen);

	return IN6_ARE_ADDR_EQUAL(&x, &y);
}

int cp_cfg_parse_address(struct sw_cfg *c, const config_setting_t *s, const char *path,
			 const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[ld->idx];
	const char *text = config_setting_get_string(s), *why = "";
	bool v4 = k->af == AF_INET;

	if (text && v4) {
		why = parse_cidr(AF_INET, text, &ifc->ipv4, &ifc->prefix4);
		if (!why)
			why = ipv4_host_problem(ntohl(ifc->ipv4.s_addr), ifc->prefix4);
		ifc->has_ipv4 = !why;
	} else if (text) {
		why = parse_cidr(AF_INET6, text, &ifc->ipv6, &ifc->prefix6);
		if (!why)
			why = ipv6_host_problem(&ifc->ipv6);
		ifc->has_ipv6 = !why;
	}
	if (!why)
		return 0;
	return sw_cfg_fail(&ld->c, s, path,
			   "expected an %s address with prefix length like \"%s\", got %s",
			   v4 ? "IPv4" : "IPv6", v4 ? "192.0.2.10/24" : "2001:db8::10/64",
			   sw_cfg_found(&ld->c, s, why));
}

int cp_cfg_defer_gateway(struct sw_cfg *c, const config_setting_t *s, const char *path,
			 const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	(void)path;
	ld->gw[k->af == AF_INET6] = s;
	return 0;
}

static int check_gateway4(struct cp_loader *ld, const config_setting_t *s, const char *path)
{
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[ld->idx];
	const char *text = config_setting_get_string(s), *why = "";
	uint32_t ip = ntohl(ifc->ipv4.s_addr), m = mask4(ifc->prefix4), gw;
	struct in_addr n = {htonl(ip & m)};
	char net[INET_ADDRSTRLEN];

	if (!ifc->has_ipv4)
		return sw_cfg_fail(
			&ld->c, s, path,
			"expected ipv4 = \"a.b.c.d/len\" as well (the gateway must lie in its "
			"subnet), got gateway4 alone");
	if (text && inet_pton(AF_INET, text, &ifc->gateway4) == 1) {
		gw = ntohl(ifc->gateway4.s_addr);
		why = ipv4_host_problem(gw, ifc->prefix4);
		if (!why && (gw & m) != (ip & m))
			why = " (outside it)";
		else if (!why && gw == ip)
			why = " (the interface's own address)";
	}
	ifc->has_gw4 = !why;
	if (!why)
		return 0;
	inet_ntop(AF_INET, &n, net, sizeof(net));
	return sw_cfg_fail(&ld->c, s, path,
			   "expected a router's IPv4 address inside ipv4's subnet %s/%u, got %s",
			   net, ifc->prefix4, sw_cfg_found(&ld->c, s, why));
}

static int check_gateway6(struct cp_loader *ld, const config_setting_t *s, const char *path)
{
	static const struct in6_addr link_local = {{{0xfe, 0x80}}};
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[ld->idx];
	const char *text = config_setting_get_string(s), *why = "";
	struct in6_addr n = net6(&ifc->ipv6, ifc->prefix6);
	char net[INET6_ADDRSTRLEN];

	if (!ifc->has_ipv6)
		return sw_cfg_fail(
			&ld->c, s, path,
			"expected ipv6 = \"addr/len\" as well (the gateway must lie in its "
			"prefix or fe80::/10), got gateway6 alone");
	if (text && inet_pton(AF_INET6, text, &ifc->gateway6) == 1) {
		why = ipv6_host_problem(&ifc->gateway6);
		/* Routers usually advertise themselves from their link-local address. */
		if (!why && !in_prefix6(&ifc->gateway6, &ifc->ipv6, ifc->prefix6) &&
		    !in_prefix6(&ifc->gateway6, &link_local, 10))
			why = " (outside both)";
		else if (!why && IN6_ARE_ADDR_EQUAL(&ifc->gateway6, &ifc->ipv6))
			why = " (the interface's own address)";
	}
	ifc->has_gw6 = !why;
	if (!why)
		return 0;
	inet_ntop(AF_INET6, &n, net, sizeof(net));
	return sw_cfg_fail(
		&ld->c, s, path,
		"expected a router's IPv6 address inside ipv6's prefix %s/%u or fe80::/10, "
		"got %s",
		net, ifc->prefix6, sw_cfg_found(&ld->c, s, why));
}

static int iface(struct cp_loader *ld, const config_setting_t *g, unsigned idx)
{
	struct cp_iface_cfg *ifc = &ld->cfg->ifaces[idx];
	char path[32], kpath[48];
	int rc;

	snprintf(path, sizeof(path), "interfaces.[%u]", idx);
	if (!config_setting_is_group(g))
		return sw_cfg_fail(
			&ld->c, g, path,
			"expected an interface group { device = \"...\"; ipv4 = \"...\"; }, "
			"got %s",
			sw_cfg_type_name(g));
	memset(ifc, 0, sizeof(*ifc));
	ld->idx = idx;
	ld->gw[0] = ld->gw[1] = NULL;
	rc = sw_cfg_members(&ld->c, g, "interface", path);
	if (rc)
		return rc;
	snprintf(kpath, sizeof(kpath), "%s.device", path);
	if (!ifc->device[0])
		return sw_cfg_fail(&ld->c, g, kpath,
				   CP_EXPECT_DEVICE ", got nothing (key missing)");
	if (!ifc->has_ipv4 && !ifc->has_ipv6)
		return sw_cfg_fail(
			&ld->c, g, path,
			"expected ipv4 = \"a.b.c.d/len\" or ipv6 = \"addr/len\" (or both), got "
			"neither");
	/* Gateways last: each is checked against its address wherever either is written. */
	snprintf(kpath, sizeof(kpath), "%s.gateway4", path);
	if (ld->gw[0] && (rc = check_gateway4(ld, ld->gw[0], kpath)))
		return rc;
	snprintf(kpath, sizeof(kpath), "%s.gateway6", path);
	if (ld->gw[1] && (rc = check_gateway6(ld, ld->gw[1], kpath)))
		return rc;
	return 0;
}

int cp_cfg_parse_interfaces(struct sw_cfg *c, const config_setting_t *s, const char *path,
			    const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	int i, rc, n = config_setting_length(s);

	(void)k;
	if (!config_setting_is_list(s))
		return sw_cfg_fail(&ld->c, s, path, CP_EXPECT_IFACES "%s", CP_MAX_IFACES,
				   sw_cfg_type_name(s));
	if (n < 1 || n > CP_MAX_IFACES)
		return sw_cfg_fail(&ld->c, s, path, CP_EXPECT_IFACES "%d", CP_MAX_IFACES, n);
	for (i = 0; i < n; i++) {
		rc = iface(ld, config_setting_get_elem(s, (unsigned)i), (unsigned)i);
		if (rc)
			return rc;
	}
	ld->cfg->n_ifaces = (unsigned)n;
	return 0;
}

/* ---- entry points ------------------------------------------------------ */
