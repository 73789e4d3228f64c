/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sipwake configuration: one libconfig file (https://hyperrealm.github.io/libconfig/),
 * validated completely before anything starts. Every error names the key,
 * the file and line, what was expected and what was found; unknown keys are
 * errors too (a typo must not silently fall back to a default).
 *
 * Needs libconfig and libc only, so `sipwake --check-config` runs without
 * initialising DPDK. config/sipwake.conf is the commented example.
 */
#ifndef CP_CONFIG_H
#define CP_CONFIG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pushd/pd_config.h"
#include "cluster/cl.h"
#include "streams/st.h"

#define CP_MAX_IFACES	    8
#define CP_MAX_NAMES	    8
#define CP_NAME_LEN	    128
#define CP_DEVICE_LEN	    64
#define CP_MAX_PREFIXES	    32
#define CP_MAX_PATTERNS	    16
#define CP_PATTERN_LEN	    64
#define CP_MAX_SERVERS	    8
#define CP_MAX_PEERS	    8 /* cluster.peers (DP_MAX_PEERS) */
#define CP_PATH_LEN	    256
#define CP_MAX_STREAM_PORTS 8

/** Log levels, as DPDK numbers them (RTE_LOG_ERR .. RTE_LOG_DEBUG). */
enum cp_log_level {
	CP_LOG_ERR = 4,
	CP_LOG_WARNING = 5,
	CP_LOG_NOTICE = 6,
	CP_LOG_INFO = 7,
	CP_LOG_DEBUG = 8,
};

/** One DPDK port and the addresses sipwake owns on it. */
struct cp_iface_cfg {
	char device[CP_DEVICE_LEN]; /**< DPDK device name: "net_af_packet0", "0000:01:00.0" */
	uint8_t has_ipv4, has_gw4, has_ipv6, has_gw6;
	struct in_addr ipv4;	 /**< network byte order */
	uint8_t prefix4;	 /**< 0..32 */
	struct in_addr gateway4; /**< must lie inside ipv4/prefix4 */
	struct in6_addr ipv6;
	uint8_t prefix6;	  /**< 0..128 */
	struct in6_addr gateway6; /**< inside ipv6/prefix6, or link-local fe80::/10 */
	uint16_t vlan;		  /**< 802.1Q VID 1..4094 of every frame; 0: untagged */
};

/** A SIP server address: IPv4-mapped or IPv6, and a UDP port. */
struct cp_server {
	uint8_t addr[16];
	uint16_t port; /**< host byte order */
};

/** An address prefix of either family; IPv4 is kept IPv4-mapped (plen 96..128). */
struct cp_prefix {
	uint8_t addr[16]; /**< network address (host bits cleared) */
	uint8_t plen;	  /**< over the 128-bit mapped form */
};

struct cp_config {
	/* sip { } */
	uint16_t sip_port; /**< UDP port, default 5060 */
	unsigned n_names;  /**< sip.names: hostnames that mean "sipwake itself" */
	char names[CP_MAX_NAMES][CP_NAME_LEN];

	/* interfaces ( { } ... ): at least one, at least one address each */
	unsigned n_ifaces;
	struct cp_iface_cfg ifaces[CP_MAX_IFACES];

	/* dataplane { } */
	uint32_t mbufs;	  /**< mbufs in the packet pool, default 16383 */
	uint16_t rx_desc; /**< RX descriptors per queue, default 1024 */
	uint16_t tx_desc; /**< TX descriptors per queue, default 1024 */
	uint32_t
		ring_size; /**< per-worker rings to/from the control plane, power of 2, default 1024 */
	uint32_t
		idle_sleep_us; /**< worker sleep when a poll found nothing; 0 = busy poll (default) */

	uint32_t frag_flows;	  /**< reassembly_flows: datagrams reassembled at once, 4096 */
	uint32_t frag_timeout_ms; /**< reassembly_timeout_ms: then dropped, default 2000 */
	uint32_t frag_buffers;	  /**< reassembly_buffers: 16 KiB buffers, default 511 */

	/* neighbours { } (ARP / IPv6 ND) */
	uint32_t neigh_max;	   /**< entries in the neighbour table, default 4096 */
	uint32_t neigh_queue;	   /**< packets held per unresolved neighbour, default 4 */
	uint32_t neigh_retry_ms;   /**< between ARP/NS probes, default 1000 */
	uint32_t neigh_probes;	   /**< probes before giving up, default 3 */
	uint32_t neigh_lifetime_s; /**< learned entry lifetime before re-probing, default 300 */

	/* pbx { } */
	unsigned n_pbx_sources; /**< pbx.sources: addresses / prefixes the PBX sends from */
	struct cp_prefix pbx_sources[CP_MAX_PREFIXES];
	unsigned n_pbx_servers; /**< pbx.servers: registrar / proxy addresses, failover order */
	struct cp_server pbx_servers[CP_MAX_SERVERS];
	uint32_t pbx_timeout_ms;    /**< no answer to a relayed request: fail over, default 2000 */
	uint32_t pbx_check_s;	    /**< OPTIONS health check interval per server, default 10 */
	uint32_t auth_ban_failures; /**< failed authentications that ban a source, default 10 */
	uint32_t auth_ban_window_s; /**< ... counted within this window, default 60 */
	uint32_t auth_ban_s;	    /**< ban length, default 600 */

	/* filter { } */
	unsigned n_scanner_uas; /**< filter.scanner_user_agents: case-insensitive substrings */
	char scanner_uas[CP_MAX_PATTERNS][CP_PATTERN_LEN];
	uint32_t unknown_rate;	/**< requests/s per source IP from unknown sources, default 10 */
	uint32_t unknown_burst; /**< bucket depth per source IP, default 20 */
	uint32_t unknown_prefix_rate;  /**< newcomer REGISTERs/s per /24 or /48, default 200 */
	uint32_t unknown_prefix_burst; /**< default 400 */
	uint32_t unknown_global_rate;  /**< newcomer REGISTERs/s of the box, default 2000 */
	uint32_t unknown_global_burst; /**< default 4000 */
	uint32_t expected_rate;	 /**< REGISTERs/s per bound device from new addresses, default 10 */
	uint32_t expected_burst; /**< default 20 */
	uint32_t answer_rate;	 /**< answers/s to unknown sources, box, default 1000 */
	uint32_t answer_burst;	 /**< default 2000 */
	uint32_t rate_sources;	 /**< per-source buckets kept (oldest evicted), default 65536 */
	uint32_t rate_keys;	 /**< per-device / AOR / prefix buckets per worker, default 65536 */
	uint8_t reply_403;	 /**< answer refused requests with 403 (default: silent drop) */
	uint8_t reply_503;	 /**< answer rate-limited requests with 503 (default: silent) */

	/* bindings { } */
	uint32_t max_sources; /**< bound device source addresses, default 65536 */
	uint32_t max_devices; /**< bindings kept (devices over all AORs), default 65536 */
	char store
		[CP_PATH_LEN]; /**< bindings.store: SQLite file, default /var/lib/sipwake/bindings.db */
	uint8_t store_sync_full;  /**< store_sync = "full": fsync per commit (default "normal") */
	uint32_t ping_interval_s; /**< OPTIONS to each bound device, default 30; 0: no pings */
	uint32_t alive_window_s;  /**< heard from within this: alive, else asleep; default 75 */
	uint32_t max_pending;	  /**< REGISTER transactions in flight, default 4096 */

	/* wake { } : the wake path (held INVITEs, pushes, re-REGISTER) */
	uint8_t wake_policy; /**< enum dp_wake_policy: "ping" (default), "always-push", "parallel" */
	uint32_t wake_timeout_s; /**< no accepted REGISTER within this: 480, default 15 */
	/** A device's own pn-timeout (docs/push-addresses.md) is held within
	 *  these (defaults 5, 60); without one, wake_timeout_s. */
	uint32_t wake_device_timeout_min_s, wake_device_timeout_max_s;
	uint16_t wake_provisional; /**< also sent while holding: 0 none (default), 180, 110 */
	uint8_t wake_cancel_alert; /**< cancelled_call = "alert" (default "invite-cancel") */
	uint32_t max_held;	   /**< held INVITEs (wake-path calls) at once, default 4096 */
	/** A device pushed for a call that then ended (cancelled, answered
	 *  elsewhere, timed out) and registers within this many seconds gets
	 *  the INVITE and then CANCEL with a Reason; default 60, 0: never. */
	uint32_t wake_late_window_s;
	/** MESSAGE for asleep devices (docs/design.md §5, "Messages"): held
	 *  this long at most (default 30, 1..32: the sender's Timer F is
	 *  64 * T1), at most max_messages at once (default 1024) and
	 *  max_messages_per_aor for one AOR (default 16). */
	uint32_t wake_message_window_s, wake_max_messages, wake_max_messages_per_aor;
	uint32_t refresh_before_s; /**< background push this long before a binding expires,
				    *   default 120; 0: none */

	/* streams { } : TCP to the kernel through the exception path (docs/streams.md) */
	unsigned n_stream_ports; /**< streams.ports; 0 (default): no tap, TCP dropped */
	uint16_t stream_ports[CP_MAX_STREAM_PORTS];
	uint32_t syn_rate;	   /**< SYNs/s per source IP not the PBX, default 5 */
	uint32_t syn_burst;	   /**< default 10 */
	uint32_t syn_global_rate;  /**< SYNs/s of the box from such sources, default 2000 */
	uint32_t syn_global_burst; /**< default 4000 */
	/** Challenges a second past syn_global (docs/streams.md), default
	 *  1000000; 0: none, such SYNs are dropped as before */
	uint32_t syn_challenge_rate;
	uint32_t syn_challenge_burst; /**< default 100000 */
	/** streams.tcp / tls / ws / wss and the limits: the streams thread's
	 *  settings (streams/st.h); addrs are filled at start from interfaces.
	 *  A listener's port is added to stream_ports when not listed. */
	struct st_config streams;

	/* cluster { } : bindings shared with other edges through Redis
	 * (docs/cluster.md). Absent: the store is bindings.store alone. With
	 * it, bindings.store is the local journal of what Redis has not
	 * acknowledged. */
	uint8_t cluster; /**< the group is there */
	struct cl_config cl;
	/** cluster.peers: the other edges, by name and SIP address. A device
	 *  bound through one of them is reached through it (docs/cluster.md,
	 *  "Any edge routes any call"); their datagrams are a source class of
	 *  their own. */
	/** cluster.path: the host name put in Path instead of this edge's
	 *  address, a name the PBX resolves to every edge; one of sip.names.
	 *  "": the edge's address. */
	char cl_path[CP_NAME_LEN];
	unsigned n_peers;
	struct cp_peer_cfg {
		char edge[CL_NAME_MAX];
		struct cp_server addr;
	} peers[CP_MAX_PEERS];

	/* log { } */
	enum cp_log_level
		log_level; /**< "error" | "warning" | "notice" | "info" (default) | "debug" */

	/* push { } : validated by pushd/pd_config.c */
	struct pd_config push;
};

/** Fill @p cfg with the defaults above (no interfaces). */
void cp_config_defaults(struct cp_config *cfg);

/**
 * Load and validate a config file.
 *
 * @param path  file to read (borrowed).
 * @param cfg   filled on success; on failure its content is unspecified (caller-owned).
 * @param err   on failure, one line such as
 *              "sipwake.conf:12: interfaces.[0].ipv4: expected an IPv4 address with
 *              prefix like \"192.0.2.10/24\", got \"10.0.0.300/24\"" (caller-owned).
 * @return 0; -ENOENT / -EACCES if the file cannot be read; -EINVAL for a
 *         syntax error or an invalid, missing or unknown key.
 */
int cp_config_load(const char *path, struct cp_config *cfg, char *err, size_t errlen);

/** As cp_config_load(), from a string (tests). Errors name the line as "<string>:N". */
int cp_config_load_string(const char *text, struct cp_config *cfg, char *err, size_t errlen);

/** Name of a log level ("info", ...). */
const char *cp_log_level_name(enum cp_log_level l);

#endif /* CP_CONFIG_H */
