/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel side of the exception path's tap interfaces, set up over
 * rtnetlink (libmnl) in sipwake's own network namespace (docs/streams.md,
 * "Where the bytes go"): our addresses as /32 and /128, a fixed MAC, the
 * port's MTU, the link up, and routes that never make the kernel resolve
 * anything on the tap: a table of its own holds one default route per
 * family via a link-local gateway whose neighbour entry is permanent, and a
 * rule sends what leaves from our addresses (the kernel's TCP answers) to
 * that table. The namespace's main table is not touched, so pushd's
 * connections keep the host's routes. Start-up only: the socket blocks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "dataplane/dp_internal.h"

/* A table and rule priority of each tap's own: far from the numbers
 * distributions and operators use (main 254, local 255, rules 0 / 32766). */
#define TAP_TABLE(ifx)	   (21367u + (ifx))
#define TAP_RULE_PRIO(ifx) (1000u + (ifx))

struct nl {
	struct mnl_socket *s;
	uint32_t seq, portid;
	char *err;
	size_t errlen;
};

/* Send @p h and wait for its ACK. @return 0 or the kernel's -errno; @p what
 * names the step in the error. */
static int talk(struct nl *nl, struct nlmsghdr *h, const char *what)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int rc;

	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->s, h, h->nlmsg_len) < 0)
		goto fail;
	n = mnl_socket_recvfrom(nl->s, buf, sizeof(buf));
	if (n < 0)
		goto fail;
	rc = mnl_cb_run(buf, (size_t)n, h->nlmsg_seq, nl->portid, NULL, NULL);
	if (rc >= 0 || errno == EEXIST)
		return 0; /* EEXIST: a rule left by an earlier run, the same */
fail:
	rc = -errno;
	snprintf(nl->err, nl->errlen, "%s: %s", what, strerror(errno));
	return rc;
}

static struct nlmsghdr *msg(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	return h;
}

static int link_set(struct nl *nl, int ifindex, unsigned ifx, uint16_t mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = msg(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	struct rte_ether_addr mac = DP_TAP_KERNEL_MAC(ifx);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put(h, IFLA_ADDRESS, RTE_ETHER_ADDR_LEN, mac.addr_bytes);
	mnl_attr_put_u32(h, IFLA_MTU, mtu);
	return talk(nl, h, "set MAC, MTU and link up");
}

static int addr_add(struct nl *nl, int ifindex, int af, const void *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	size_t len = af == AF_INET ? 4 : 16;

	ifa->ifa_family = (uint8_t)af;
	ifa->ifa_prefixlen = (uint8_t)(len * 8);
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* No duplicate address detection: a tentative address cannot be
	 * bound, and nothing else is on this link. */
	ifa->ifa_flags = af == AF_INET6 ? IFA_F_NODAD : 0;
	mnl_attr_put(h, IFA_LOCAL, len, a);
	mnl_attr_put(h, IFA_ADDRESS, len, a);
	return talk(nl, h, af == AF_INET ? "add the IPv4 address" : "add the IPv6 address");
}

static int neigh_add(struct nl *nl, int ifindex, int af, const void *gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(h, sizeof(*nd));
	struct rte_ether_addr mac = DP_TAP_GW_MAC;

	nd->ndm_family = (uint8_t)af;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(h, NDA_DST, af == AF_INET ? 4 : 16, gw);
	mnl_attr_put(h, NDA_LLADDR, RTE_ETHER_ADDR_LEN, mac.addr_bytes);
	return talk(nl, h,
		    af == AF_INET ? "add the gateway's permanent ARP entry"
				  : "add the gateway's permanent ND entry");
}

static int route_add(struct nl *nl, int ifindex, unsigned ifx, int af, const void *gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));

	rt->rtm_family = (uint8_t)af;
	rt->rtm_table = RT_TABLE_UNSPEC; /* RTA_TABLE says which */
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	/* 169.254.0.1 is on no subnet of ours (our address is a /32). */
	rt->rtm_flags = af == AF_INET ? RTNH_F_ONLINK : 0;
	mnl_attr_put_u32(h, RTA_TABLE, TAP_TABLE(ifx));
	mnl_attr_put(h, RTA_GATEWAY, af == AF_INET ? 4 : 16, gw);
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)ifindex);
	return talk(nl, h,
		    af == AF_INET ? "add the IPv4 default route" : "add the IPv6 default route");
}

static int rule_add(struct nl *nl, unsigned ifx, int af, const void *src)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = msg(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
	struct fib_rule_hdr *fr = mnl_nlmsg_put_extra_header(h, sizeof(*fr));
	size_t len = af == AF_INET ? 4 : 16;

	fr->family = (uint8_t)af;
	fr->src_len = (uint8_t)(len * 8);
	fr->action = FR_ACT_TO_TBL;
	mnl_attr_put(h, FRA_SRC, len, src);
	mnl_attr_put_u32(h, FRA_TABLE, TAP_TABLE(ifx));
	mnl_attr_put_u32(h, FRA_PRIORITY, TAP_RULE_PRIO(ifx));
	return talk(nl, h, af == AF_INET ? "add the IPv4 rule" : "add the IPv6 rule");
}

/* One sysctl of the tap; @p fam "ipv4" or "ipv6". */
static int sysctl_set(struct nl *nl, const char *fam, const char *ifname, const char *key,
		      const char *val)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", fam, ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
		rc = -errno;
		snprintf(nl->err, nl->errlen, "write %s: %s", path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int dp_tap_kernel_setup(const char *ifname, unsigned ifx, const struct sw_iface *ifc, char *err,
			size_t errlen)
{
	struct nl nl = {.err = err, .errlen = errlen};
	int ifindex = (int)if_nametoindex(ifname);
	uint8_t gw4[4], gw6[16];
	int rc = 0;

	if (ifindex == 0) {
		snprintf(err, errlen, "no such interface: %s", strerror(errno));
		return -ENODEV;
	}
	inet_pton(AF_INET, DP_TAP_GW4, gw4);
	inet_pton(AF_INET6, DP_TAP_GW6, gw6);
	nl.s = mnl_socket_open(NETLINK_ROUTE);
	if (nl.s == NULL || mnl_socket_bind(nl.s, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		snprintf(err, errlen, "rtnetlink socket: %s", strerror(errno));
		goto out;
	}
	nl.portid = mnl_socket_get_portid(nl.s);
	/* IPv6 on the tap: no router solicitations, no link-local address (so
	 * no DAD or ND of its own), nothing learned from the wire. */
	if (ifc->has_v6 &&
	    ((rc = sysctl_set(&nl, "ipv6", ifname, "addr_gen_mode", "1")) != 0 ||
	     (rc = sysctl_set(&nl, "ipv6", ifname, "accept_ra", "0")) != 0 ||
	     (rc = sysctl_set(&nl, "ipv6", ifname, "router_solicitations", "0")) != 0))
		goto out;
	if ((rc = link_set(&nl, ifindex, ifx, ifc->mtu)) != 0)
		goto out;
	if (ifc->has_v4 && ((rc = addr_add(&nl, ifindex, AF_INET, &ifc->ip4)) != 0 ||
			    (rc = neigh_add(&nl, ifindex, AF_INET, gw4)) != 0 ||
			    (rc = route_add(&nl, ifindex, ifx, AF_INET, gw4)) != 0 ||
			    (rc = rule_add(&nl, ifx, AF_INET, &ifc->ip4)) != 0))
		goto out;
	if (ifc->has_v6 && ((rc = addr_add(&nl, ifindex, AF_INET6, ifc->ip6.a)) != 0 ||
			    (rc = neigh_add(&nl, ifindex, AF_INET6, gw6)) != 0 ||
			    (rc = route_add(&nl, ifindex, ifx, AF_INET6, gw6)) != 0 ||
			    (rc = rule_add(&nl, ifx, AF_INET6, ifc->ip6.a)) != 0))
		goto out;
out:
	if (nl.s != NULL)
		mnl_socket_close(nl.s);
	return rc;
}
