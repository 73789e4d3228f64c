/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The dataplane: DPDK ports and the worker lcores that poll them.
 *
 * Each worker owns RX queue i and TX queue i of every sipwake port. It
 * parses L2-L4, answers ICMP echo and OPTIONS to sipwake itself, filters,
 * forwards what it can statelessly, hands what needs state or time to the
 * control plane over its `up` ring, and sends what the control plane puts
 * on its `down` ring (dataplane/dp_ring.h: the border). Workers never block,
 * lock, log per packet or allocate (other than mbufs).
 *
 * This is the contract for whoever starts it (app/main.c): a dataplane is
 * created from its parameters and the shared tables, gives the control
 * plane its handle (dp_link()), runs its workers, and stops.
 */
#ifndef DP_H
#define DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>

#include "dataplane/dp_ring.h"

#define DP_MAX_STREAM_PORTS 8
#define DP_MAX_PEERS	    8

/* Names of the packet pool and the reassembly pool (rte_mempool_lookup()). */
#define DP_POOL_NAME	   "sw_pkt"
#define DP_JUMBO_POOL_NAME "sw_jumbo"

/** What workers need to know; filled by main from the config before start. */
struct dp_params {
	struct sw_ports ports; /**< SIP port, names, interfaces: what is us */
	uint32_t idle_sleep_us;
	int8_t iface_of_port[RTE_MAX_ETHPORTS]; /**< -1: not a sipwake port */
	unsigned n_servers;			/**< pbx.servers, failover order (initial policy) */
	struct dp_server servers[DP_MAX_SERVERS];
	/** cluster.peers: the other edges (docs/cluster.md). Their datagrams
	 *  are DP_SRC_PEER; a device bound through peer i (sw_device.peer = i
	 *  + 1) is reached through it while it is up (dp_link.peer_up). */
	unsigned n_peers;
	struct dp_server peers[DP_MAX_PEERS];
	uint64_t alive_window_tsc; /**< a device heard from within this is alive */
	uint8_t wake_policy;	   /**< enum dp_wake_policy */
	/** streams.ports: TCP ports whose segments for our addresses go to the
	 *  kernel through a net_tap port per interface; 0 ports: no tap. */
	unsigned n_stream_ports;
	uint16_t stream_ports[DP_MAX_STREAM_PORTS];
};

/** The shared tables a dataplane reads (they stand below both planes: the
 *  caller creates them, they must outlive the dataplane). */
struct dp_tables {
	struct sw_neigh_table *neigh;
	struct sw_src_table *src;
	struct sw_bind_table *bind;
	struct sw_src_table *banned; /**< may be NULL: nobody is banned */
	struct sw_callset *held;     /**< may be NULL: no call is held */
	struct sw_callset *waking;   /**< may be NULL: no device is waited for */
};

/** What a dataplane is made of (dp_create() copies it). */
struct dp_config {
	struct dp_params p;
	struct dp_tables t;
	/** The first policy (taken: the control plane replaces it on reloads,
	 *  dp_destroy() frees the last one). */
	struct dp_policy *policy;
	uint32_t rate_sources;	  /**< per-source buckets over all workers */
	uint32_t rate_keys;	  /**< per-device / per-AOR / per-prefix buckets per worker */
	uint32_t frag_flows;	  /**< datagrams in reassembly at once, over all workers */
	uint32_t frag_timeout_ms; /**< an incomplete datagram is dropped after this */
	uint32_t frag_buffers;	  /**< jumbo buffers for reassembled datagrams */
	uint32_t n_mbufs;	  /**< the packet pool */
	uint16_t rx_desc, tx_desc;
	uint32_t ring_size; /**< slots of each ring to and from the control plane */
	unsigned n_workers; /**< at least one */
	unsigned lcore[RTE_MAX_LCORE];
};

struct dp_ctx;

/**
 * Create the dataplane: the packet pool, each worker's rings and budgets,
 * every port configured and started with one RX / TX queue per worker (RSS
 * over the IP pair when there are several) and each interface's MAC and
 * IPv6 link-local / solicited-node addresses filled in. Errors are logged
 * with the device name.
 * @return the dataplane, or NULL (port configuration or memory).
 */
struct dp_ctx *dp_create(const struct dp_config *c);

/** Stop and close every port, free rings, pools and the policy. No worker may
 *  run (dp_stop() and wait first). NULL is a no-op. */
void dp_destroy(struct dp_ctx *ctx);

/** The control plane's handle. Borrowed: valid until dp_destroy(). */
struct dp_link *dp_link(struct dp_ctx *ctx);

/** Launch every worker on its lcore. @return 0 or -errno (a lcore is busy). */
int dp_launch(struct dp_ctx *ctx);

/** Ask every worker to return (rte_eal_mp_wait_lcore() waits for them). */
void dp_stop(struct dp_ctx *ctx);

/** Copy @p p's servers into @p pol (for set-ups that fill dp_params: tests). */
void dp_policy_servers_from(struct dp_policy *pol, const struct dp_params *p);

#endif /* DP_H */
