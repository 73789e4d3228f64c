/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwake's ports and addresses (common/sw_ports.h): routing and "is this
 * us" for both sides, so that a worker and the control plane can never
 * disagree on where a datagram goes or whether a Route is ours.
 */
#include <errno.h>
#include <strings.h>

#include "common/sw_ports.h"

bool sw_iface_on_link(const struct sw_iface *ifc, const struct sw_ip *dst)
{
	if (sw_ip_is_v4(dst))
		return ifc->has_v4 && ((sw_ip_v4(dst) ^ ifc->ip4) & ifc->mask4) == 0;
	return ifc->has_v6 &&
	       (sw_ip_is_link_local(dst) || sw_ip_prefix_eq(dst, &ifc->ip6, ifc->prefix6));
}

static bool has_gw(const struct sw_iface *ifc, bool v4)
{
	return v4 ? ifc->has_v4 && ifc->has_gw4 : ifc->has_v6 && ifc->has_gw6;
}

int sw_iface_nexthop(const struct sw_iface *ifc, const struct sw_ip *dst, struct sw_ip *nh)
{
	bool v4 = sw_ip_is_v4(dst);

	if (sw_iface_on_link(ifc, dst)) {
		*nh = *dst;
		return 0;
	}
	if (!(v4 ? ifc->has_gw4 : ifc->has_gw6))
		return -ENETUNREACH;
	*nh = v4 ? sw_ip_from_v4(ifc->gw4) : ifc->gw6;
	return 0;
}

int sw_ports_route(const struct sw_ports *p, const struct sw_ip *dst, int hint, unsigned *ifx,
		   struct sw_ip *src, struct sw_ip *nh)
{
	bool v4 = sw_ip_is_v4(dst);
	int out = -1, gw = -1;
	const struct sw_iface *ifc;

	for (unsigned i = 0; i < p->n_ifaces && out < 0; i++) {
		if (sw_iface_on_link(&p->ifaces[i], dst))
			out = (int)i;
		else if (has_gw(&p->ifaces[i], v4) && (gw < 0 || (int)i == hint))
			gw = (int)i;
	}
	if (out < 0)
		out = gw;
	if (out < 0)
		return -ENETUNREACH;
	ifc = &p->ifaces[out];
	if (ifx != NULL)
		*ifx = (unsigned)out;
	if (src != NULL)
		*src = v4			  ? sw_ip_from_v4(ifc->ip4)
		       : sw_ip_is_link_local(dst) ? ifc->ll6
						  : ifc->ip6;
	if (nh != NULL)
		sw_iface_nexthop(ifc, dst, nh);
	return 0;
}

int sw_ports_owner(const struct sw_ports *p, const struct sw_ip *ip)
{
	for (unsigned i = 0; i < p->n_ifaces; i++) {
		const struct sw_iface *ifc = &p->ifaces[i];

		if (sw_ip_is_v4(ip)) {
			if (ifc->has_v4 && sw_ip_v4(ip) == ifc->ip4)
				return (int)i;
		} else if (ifc->has_v6 && (sw_ip_eq(ip, &ifc->ip6) || sw_ip_eq(ip, &ifc->ll6))) {
			return (int)i;
		}
	}
	return -1;
}

bool sw_ports_is_us(const struct sw_ports *p, const char *host, size_t len, uint16_t port)
{
	struct sw_ip ip;

	if (port != 0 && port != p->sip_port)
		return false;
	if (sw_ip_parse(host, len, &ip) == 0)
		return sw_ports_owner(p, &ip) >= 0;
	for (unsigned i = 0; i < p->n_names; i++)
		if (strlen(p->names[i]) == len && strncasecmp(host, p->names[i], len) == 0)
			return true;
	return false;
}
