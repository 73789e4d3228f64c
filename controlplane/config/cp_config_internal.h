/* SPDX-License-Identifier: BSD-3-Clause */
/* Config loader internals shared by its .c files; not part of the contract. */
#ifndef CP_CONFIG_INTERNAL_H
#define CP_CONFIG_INTERNAL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/sw_config.h"
#include "controlplane/config/cp_config.h"

/* The control plane's loader state: the common one (common/sw_config.h)
 * first, so that a row's parser reaches it from the struct sw_cfg it gets. */
struct cp_loader {
	struct sw_cfg c;
	struct cp_config *cfg;
	unsigned idx;		       /* interfaces.[idx] being parsed */
	const config_setting_t *gw[2]; /* its gateway4, gateway6: checked last */
};

#define CP_LOADER(c) ((struct cp_loader *)(c))

#define CP_EXPECT_DEVICE \
	"expected a DPDK device name string (e.g. \"net_af_packet0\" or \"0000:01:00.0\")"
#define CP_EXPECT_IFACES                                                                          \
	"expected a list of 1..%d interface groups like ( { device = \"net_af_packet0\"; ipv4 = " \
	"\"198.18.0.1/24\"; } ), got "

/* cp_config_iface.c */
sw_cfg_parser cp_cfg_parse_interfaces, cp_cfg_parse_device, cp_cfg_parse_address,
	cp_cfg_defer_gateway;

/* cp_config_filter.c */
sw_cfg_parser cp_cfg_parse_prefixes, cp_cfg_parse_patterns, cp_cfg_parse_vlan;
void cp_config_filter_defaults(struct cp_config *cfg);

/* cp_config_proxy.c */
sw_cfg_parser cp_cfg_parse_servers, cp_cfg_parse_path, cp_cfg_parse_choice;
/* "192.0.2.5:5060" or "[2001:db8::5]:5060" (port 5060 when none) into @p sv:
 * NULL when good, else why not (appended to the quoted text). */
const char *cp_cfg_server_of(const char *text, struct cp_server *sv);
void cp_config_proxy_defaults(struct cp_config *cfg);

/* cp_config_streams.c */
sw_cfg_parser cp_cfg_parse_stream_ports, cp_cfg_parse_listener, cp_cfg_parse_listener_key;
/** After the walk: listeners' ports added to streams.ports. @return 0 or -EINVAL (@p why). */
int cp_config_streams_finish(struct cp_config *cfg, char *why, size_t cap);
void cp_config_streams_defaults(struct cp_config *cfg);
/* cp_config_cluster.c */
/* Names in cluster { } (edge, master, prefix): safe in a Redis key and a log line. */
#define CP_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
sw_cfg_parser cp_cfg_parse_cluster, cp_cfg_parse_redis_addr, cp_cfg_parse_sentinels,
	cp_cfg_parse_peers;
int cp_config_cluster_finish(struct cp_config *cfg, char *why, size_t cap);

#endif /* CP_CONFIG_INTERNAL_H */
