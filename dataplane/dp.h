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

#include "common/sw_bind.h"
#include "common/sw_callset.h"
#include "common/sw_neigh.h"
#include "common/sw_ports.h"
#include "common/sw_src.h"
#include "dataplane/dp_counters.h"
#include "sip/sip_scan.h"

#define DP_BURST	32
#define DP_MAX_PREFIXES 32
#define DP_MAX_PATTERNS 16
#define DP_PATTERN_LEN	64
#define DP_MAX_SERVERS	8

/*
 * sipwake's own Via branches (RFC 3261 §8.1.1.7 magic cookie first). The
 * character after DP_BRANCH_MAGIC says who owns the transaction, so a worker
 * reading a response's top Via knows from the branch alone what to do
 * (DESIGN.md §7 "Who forwards what"):
 *   DP_BRANCH_STATELESS  a worker forwarded the request (§16.11): the worker
 *                        removes the Via and forwards the response;
 *   DP_BRANCH_CP         the control plane sent it (REGISTER relay, pings,
 *                        the wake path): the response is handed up.
 */
#define DP_BRANCH_MAGIC	    "z9hG4bK-sw"
#define DP_BRANCH_MAGIC_LEN 10
#define DP_BRANCH_STATELESS 'S'
#define DP_BRANCH_CP	    'C'
/** Parameter of our Record-Route URI naming the dialog's device (hex id). */
#define DP_ROUTE_DEVICE_PARAM "swd"

/** Which calls from the PBX take the wake path (wake.policy). */
enum dp_wake_policy {
	DP_WAKE_PING = 0,    /**< only devices found asleep (alive ones: forwarded at once) */
	DP_WAKE_ALWAYS_PUSH, /**< every initial INVITE to a device with a push address */
	DP_WAKE_PARALLEL,    /**< as always-push, and the last contact gets it at once */
};

/** A PBX server (registrar / proxy) sipwake sends to. */
struct dp_server {
	struct sw_ip ip;
	uint16_t port; /**< host byte order */
};

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

/** What workers need to know; filled by main from the config before start. */
struct dp_params {
	struct sw_ports ports; /**< SIP port, names, interfaces: what is us */
	uint32_t idle_sleep_us;
	int8_t iface_of_port[RTE_MAX_ETHPORTS]; /**< -1: not a sipwake port */
	unsigned n_servers;			/**< pbx.servers, failover order (initial policy) */
	struct dp_server servers[DP_MAX_SERVERS];
	uint64_t alive_window_tsc; /**< a device heard from within this is alive */
	uint8_t wake_policy;	   /**< enum dp_wake_policy */
};

/** An address prefix over the IPv4-mapped 128-bit form (IPv4: plen 96..128). */
struct dp_prefix {
	uint64_t net[2];  /**< the address's two halves as loaded from memory, host bits clear */
	uint64_t mask[2]; /**< the prefix mask in the same layout */
};

/** A User-Agent substring that marks a scanner (lowercase). */
struct dp_pattern {
	uint8_t len;
	char s[DP_PATTERN_LEN];
};

/** One token bucket's setting: tokens per second and depth. */
struct dp_rate {
	uint32_t rate, burst;
};

/**
 * The budgets of the admission classes for sources that are neither the PBX
 * nor bound (docs/admission.md). Per worker: a box-wide rate is split
 * evenly over the workers; a per-key one (source, prefix, device) holds on
 * each worker, and RSS sends one source IP to one worker.
 */
struct dp_rates {
	struct dp_rate source;	 /**< per source IP: filter.unknown_rate / _burst */
	struct dp_rate prefix;	 /**< newcomers per /24 or /48: filter.unknown_prefix_* */
	struct dp_rate global;	 /**< all newcomers of the box: filter.unknown_global_* */
	struct dp_rate expected; /**< per bound device or waking AOR: filter.expected_* */
	struct dp_rate answer;	 /**< answers to unknown sources, box: filter.answer_* */
};

/**
 * The filter's rules. Workers read it through dp_ctx.policy under RCU
 * (rcu_dereference once per burst); a new policy replaces the old one whole
 * (issue: config reload), it is never edited while workers run.
 */
struct dp_policy {
	unsigned n_pbx; /**< who may start calls toward apps */
	struct dp_prefix pbx[DP_MAX_PREFIXES];
	unsigned n_ua;
	struct dp_pattern ua[DP_MAX_PATTERNS];
	struct dp_rates rates;
	bool reply_403, reply_503;
	/** pbx.servers, failover order: where devices' requests go (workers);
	 *  dp_params.servers is the control plane's copy (REGISTER relay). */
	unsigned n_servers;
	struct dp_server servers[DP_MAX_SERVERS];
};

/** Copy @p p's servers into @p pol (for set-ups that fill dp_params). */
void dp_policy_servers_from(struct dp_policy *pol, const struct dp_params *p);

/** Fill @p p for @p addr (16 bytes, IPv4-mapped for IPv4) / @p plen (0..128). */
void dp_prefix_set(struct dp_prefix *p, const uint8_t addr[16], uint8_t plen);

/** Source class of a datagram (DESIGN.md §1: who may say what). */
enum dp_src_class {
	DP_SRC_UNKNOWN = 0, /**< neither the PBX nor a bound device */
	DP_SRC_PBX,	    /**< inside one of the policy's pbx prefixes */
	DP_SRC_BOUND,	    /**< ip:port of a device with a live binding */
};

/** Why a packet went up to the control plane. */
enum dp_up_kind {
	DP_UP_ARP = 1,	  /**< ARP for one of our IPv4 addresses */
	DP_UP_ND,	  /**< IPv6 neighbour solicitation / advertisement for us */
	DP_UP_UNRESOLVED, /**< a frame ready to send whose next hop has no MAC yet */
	DP_UP_SIP,	  /**< a valid SIP message the control plane finishes (dp_meta.sip) */
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
	/** DP_UP_UNRESOLVED: an answer to a stranger (neither the PBX nor a
	 *  bound source): held only within the control plane's stranger quota. */
	uint8_t stranger;
	uint16_t l3_off;
	struct sw_ip nexthop; /**< DP_UP_UNRESOLVED: the address to resolve */

	/* DP_UP_SIP only. The SIP message is sip_len bytes at sip_off from the
	 * mbuf's data start, contiguous in the first segment; every slice of
	 * @sip is an offset from that first byte (DESIGN.md §7). */
	uint16_t sip_off;
	uint16_t sip_len;  /**< the UDP payload (may hold surplus bytes past sip.msg_len) */
	uint8_t src_class; /**< enum dp_src_class */
	uint8_t v6;
	uint16_t sport;	    /**< source port, host byte order */
	struct sw_ip src;   /**< source address */
	struct sw_ip dst;   /**< our address it was sent to */
	uint64_t device_id; /**< DP_SRC_BOUND: the device, from the source table */
	struct sip_msg sip; /**< the scan result; hdrs[] valid up to sip.nhdrs */
};

/** Metadata of @p m. */
#define DP_META(m) ((struct dp_meta *)rte_mbuf_to_priv(m))

/**
 * What a worker did with one call, for /sipwake/trace (issue 7 §3): the
 * control plane turns these into trace lines. Only initial INVITEs from the
 * PBX and a device's answers to INVITEs make one: a Call-ID hash and a ring
 * write, never a string.
 */
enum dp_trace_kind {
	DP_TR_INVITE_FWD,	/**< forwarded to an alive device (device, ip, port) */
	DP_TR_INVITE_NO_DEVICE, /**< no device bound for it: answered 404 */
	DP_TR_ANSWER,		/**< a device's answer (status) relayed to ip:port */
};

struct dp_trace_ev {
	uint64_t key;	 /**< sw_callset_key() of the Call-ID: the trace's key */
	uint64_t device; /**< the device, 0 if none */
	struct sw_ip ip; /**< where the message went */
	uint16_t port;
	uint16_t status; /**< DP_TR_ANSWER: the status; DP_TR_INVITE_NO_DEVICE: ours */
	uint8_t kind;	 /**< enum dp_trace_kind */
	uint8_t pad[3];
};

#define DP_TRACE_RING 4096 /* events per worker not yet taken by the control plane */

struct dp_ctx;
struct dp_admit;
struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

/** One worker lcore. */
struct dp_worker {
	struct dp_ctx *ctx;
	unsigned id;
	unsigned lcore_id;
	struct rte_ring *up;		  /**< to the control plane, SP/SC */
	struct rte_ring *down;		  /**< frames from the control plane to send, SP/SC */
	struct rte_ring *trace;		  /**< struct dp_trace_ev to the control plane, SP/SC */
	struct dp_admit *admit;		  /**< this worker's budgets for unknown sources */
	struct rte_ip_frag_tbl *frag;	  /**< this worker's reassembly table */
	struct rte_ip_frag_death_row *dr; /**< fragments to free after each burst */
	uint16_t ip_id;			  /**< IPv4 identification of the frames it builds */
	uint64_t tsc_hz;
	struct dp_counters ctr;
} __rte_cache_aligned;

/** The whole dataplane. */
struct dp_ctx {
	struct dp_params p;
	struct rte_mempool *pool;
	struct sw_neigh_table *neigh;
	struct sw_src_table *src;   /**< bound device sources (read-only here) */
	struct sw_bind_table *bind; /**< bindings (read-only here) */
	/** Banned source IPs (port 0); the entry's last-alive is the ban's end
	 *  (TSC). The control plane writes it (pbx.auth_ban_*). NULL: none. */
	struct sw_src_table *banned;
	/** Call-IDs of the calls the control plane proxies statefully (the
	 *  wake path): their PBX INVITEs, CANCELs and ACKs go up. NULL: none. */
	struct sw_callset *held;
	/** Devices (sw_wake_key_device()) and their AORs (sw_wake_key_aor())
	 *  a held call has pushed and waits to hear REGISTER: their REGISTERs
	 *  from new addresses are expected (docs/admission.md). The control
	 *  plane writes it. NULL: none. */
	struct sw_callset *waking;
	uint32_t
		pbx_active; /**< index in p.servers now in use; the control plane writes it (relaxed) */
	struct dp_policy *policy;  /**< RCU pointer: rcu_dereference() to read */
	uint32_t rate_sources;	   /**< per-source buckets over all workers */
	uint32_t rate_keys;	   /**< per-device / per-AOR / per-prefix buckets per worker */
	struct rte_mempool *jumbo; /**< buffers for reassembled datagrams (16 KiB) */
	uint32_t frag_flows;	   /**< datagrams in reassembly at once, over all workers */
	uint32_t frag_timeout_ms;  /**< an incomplete datagram is dropped after this */
	uint32_t frag_buffers;	   /**< jumbo buffers */
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
 * Workers' lcore ids, ctx->policy, ctx->rate_sources, ctx->rate_keys and
 * ctx->frag_* must already be set; each worker gets its share of
 * rate_sources source buckets and rate_keys device / prefix buckets. Errors are
 * logged with the device name.
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

/**
 * The devices a request's Request-URI names, as the workers find them
 * (DESIGN.md §7 "Device key"): the one registered with that contact, else
 * the one with that push address, else every device of the AOR. Calls @p fn
 * for each until it returns non-zero. Read side (an online QSBR thread).
 * @return the number of devices visited.
 */
unsigned dp_devices_of(const struct sw_bind_table *t, const uint8_t *msg, const struct sip_msg *sm,
		       int (*fn)(const struct sw_device *d, void *arg), void *arg);

#endif /* DP_H */
