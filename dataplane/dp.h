/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The dataplane: DPDK ports and the worker lcores that poll them.
 *
 * Each worker owns RX queue i and TX queue i of every sipwake port. It
 * parses L2-L4, answers ICMP echo and OPTIONS to sipwake itself, hands ARP,
 * ND and packets whose next hop is not yet resolved to the control plane over
 * its `up` ring, and sends what the control plane puts on its `down` ring.
 * Workers never block, lock, log per packet or allocate (other than mbufs).
 */
#ifndef DP_H
#define DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_lcore.h>

#include "common/sw_neigh.h"
#include "dataplane/dp_counters.h"

#define DP_BURST      32
#define DP_MAX_IFACES 8
#define DP_MAX_NAMES  8
#define DP_NAME_LEN   128

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

/** A sipwake port and the addresses it owns. Read-only once workers run. */
struct dp_iface {
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
	bool started;
};

/** What workers need to know; filled by main from the config before start. */
struct dp_params {
	uint16_t sip_port; /**< host byte order */
	uint32_t idle_sleep_us;
	unsigned n_names; /**< hostnames that mean sipwake itself in a Request-URI */
	char names[DP_MAX_NAMES][DP_NAME_LEN];
	unsigned n_ifaces;
	struct dp_iface ifaces[DP_MAX_IFACES];
	int8_t iface_of_port[RTE_MAX_ETHPORTS]; /**< -1: not a sipwake port */
};

/** Why a packet went up to the control plane. */
enum dp_up_kind {
	DP_UP_ARP = 1,	  /**< ARP for one of our IPv4 addresses */
	DP_UP_ND,	  /**< IPv6 neighbour solicitation / advertisement for us */
	DP_UP_UNRESOLVED, /**< a frame ready to send whose next hop has no MAC yet */
};

/**
 * Per-packet metadata, in each mbuf's private area (rte_mbuf_to_priv()):
 * what goes up a ring is the mbuf pointer alone, nothing is allocated.
 */
struct dp_meta {
	uint64_t rx_tsc;
	uint8_t kind;	/**< enum dp_up_kind */
	uint8_t worker; /**< worker that handed it up; its down ring sends the answer */
	uint8_t iface;	/**< index in dp_params.ifaces */
	uint16_t l3_off;
	struct sw_ip nexthop; /**< DP_UP_UNRESOLVED: the address to resolve */
};

/** Metadata of @p m. */
#define DP_META(m) ((struct dp_meta *)rte_mbuf_to_priv(m))

struct dp_ctx;

/** One worker lcore. */
struct dp_worker {
	struct dp_ctx *ctx;
	unsigned id;
	unsigned lcore_id;
	struct rte_ring *up;   /**< to the control plane, SP/SC */
	struct rte_ring *down; /**< frames from the control plane to send, SP/SC */
	uint16_t ip_id;	       /**< IPv4 identification of the frames it builds */
	uint64_t tsc_hz;
	struct dp_counters ctr;
} __rte_cache_aligned;

/** The whole dataplane. */
struct dp_ctx {
	struct dp_params p;
	struct rte_mempool *pool;
	struct sw_neigh_table *neigh;
	unsigned n_workers;
	bool stop; /**< read with __atomic_load_n by workers */
	struct dp_worker workers[RTE_MAX_LCORE];
};

/**
 * Create the packet pool and the per-worker rings, configure and start every
 * port of ctx->p with ctx->n_workers RX and TX queues (RSS over the IP pair
 * when there are several and the device supports it) and fill each iface's MAC
 * and IPv6 link-local / solicited-node addresses.
 *
 * Workers' lcore ids must already be set. Errors are logged with the device
 * name.
 * @return 0, or a negative errno (port configuration or memory).
 */
int dp_init(struct dp_ctx *ctx, uint32_t n_mbufs, uint16_t rx_desc, uint16_t tx_desc,
	    uint32_t ring_size);

/** Stop and close every port, free rings and pool. Safe on a half-initialised ctx. */
void dp_fini(struct dp_ctx *ctx);

/** lcore entry point; @p arg is a struct dp_worker. Returns when ctx->stop is set. */
int dp_worker_main(void *arg);

/** Ask every worker to return. */
static inline void dp_stop(struct dp_ctx *ctx)
{
	__atomic_store_n(&ctx->stop, true, __ATOMIC_RELEASE);
}

/** Index of the iface that owns @p ip (ours), or -1. */
int dp_iface_of_addr(const struct dp_params *p, const struct sw_ip *ip);

#endif /* DP_H */
