/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From the loaded config to the dataplane's start-up parameters
 * (struct dp_params): ports by DPDK device name, their addresses and
 * gateways, ring and pool sizes, the first filter policy. Errors name the
 * config key, and list the ports DPDK found when a device is unknown.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "app/params.h"
#include "common/sw_log.h"
#include "controlplane/cp.h"

static void list_ports(char *buf, size_t len)
{
	uint16_t port;
	size_t off = 0;

	buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(port)
	{
		char name[RTE_ETH_NAME_MAX_LEN];

		if (rte_eth_dev_get_name_by_port(port, name) == 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s\"%s\"", off ? ", " : "",
						name);
	}
	if (off == 0)
		snprintf(buf, len, "none (add --vdev=... or bind a NIC with dpdk-devbind.py)");
}

int sw_params_from_config(const struct cp_config *cfg, struct dp_params *p, char *err,
			  size_t errlen)
{
	uint16_t port;

	memset(p, 0, sizeof(*p));
	memset(p->iface_of_port, -1, sizeof(p->iface_of_port));
	p->ports.sip_port = cfg->sip_port;
	p->idle_sleep_us = cfg->idle_sleep_us;
	p->ports.n_names = RTE_MIN(cfg->n_names, (unsigned)SW_MAX_NAMES);
	for (unsigned i = 0; i < p->ports.n_names; i++)
		snprintf(p->ports.names[i], sizeof(p->ports.names[i]), "%s", cfg->names[i]);

	p->ports.n_ifaces = RTE_MIN(cfg->n_ifaces, (unsigned)SW_MAX_IFACES);
	for (unsigned i = 0; i < p->ports.n_ifaces; i++) {
		const struct cp_iface_cfg *c = &cfg->ifaces[i];
		struct sw_iface *ifc = &p->ports.ifaces[i];

		if (rte_eth_dev_get_port_by_name(c->device, &port) != 0) {
			char ports[256];

			list_ports(ports, sizeof(ports));
			snprintf(err, errlen,
				 "interfaces.[%u].device: expected the name of a DPDK port, got "
				 "\"%s\", which EAL does not know (ports: %s)",
				 i, c->device, ports);
			return -ENODEV;
		}
		ifc->port_id = port;
		p->iface_of_port[port] = (int8_t)i;
		ifc->has_v4 = c->has_ipv4;
		ifc->ip4 = c->ipv4.s_addr;
		ifc->mask4 = c->prefix4 == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - c->prefix4));
		ifc->has_gw4 = c->has_gw4;
		ifc->gw4 = c->gateway4.s_addr;
		ifc->has_v6 = c->has_ipv6;
		memcpy(ifc->ip6.a, &c->ipv6, 16);
		ifc->prefix6 = c->prefix6;
		ifc->has_gw6 = c->has_gw6;
		ifc->vlan = c->vlan;
		memcpy(ifc->gw6.a, &c->gateway6, 16);
	}
	p->n_servers = cp_servers_from_config(cfg, p->servers);
	p->n_peers = RTE_MIN(cfg->n_peers, (unsigned)DP_MAX_PEERS);
	for (unsigned i = 0; i < p->n_peers; i++) {
		memcpy(p->peers[i].ip.a, cfg->peers[i].addr.addr, 16);
		p->peers[i].port = cfg->peers[i].addr.port;
	}
	p->alive_window_tsc = rte_get_tsc_hz() * (uint64_t)cfg->alive_window_s;
	p->wake_policy = cfg->wake_policy;
	p->n_stream_ports = RTE_MIN(cfg->n_stream_ports, (unsigned)DP_MAX_STREAM_PORTS);
	memcpy(p->stream_ports, cfg->stream_ports, p->n_stream_ports * sizeof(p->stream_ports[0]));
	RTE_ETH_FOREACH_DEV(port)
	{
		char name[RTE_ETH_NAME_MAX_LEN] = "?";

		if (p->iface_of_port[port] >= 0)
			continue;
		rte_eth_dev_get_name_by_port(port, name);
		SW_LOG(WARNING, "DPDK port %u (%s) is not in interfaces: left unused", port, name);
	}
	return 0;
}
