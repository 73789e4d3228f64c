/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The border between the dataplane and the control plane: everything that
 * crosses it, and nothing else (docs/design.md §3). The control plane
 * includes this header and no other of dataplane/; the list of what workers
 * count (dp_counters.h), which it reports, comes with it.
 *
 *   up ring     a packet and its metadata (struct dp_meta): ARP / ND for us,
 *               a frame whose next hop has no MAC yet, or a scanned SIP
 *               message with the worker's decision on it (struct dp_call);
 *   down ring   frames the control plane built, for a worker to send;
 *   trace ring  what a worker did with a call (struct dp_trace_ev);
 *   policy      the filter's rules, published by the control plane (RCU);
 *   handle      tables, rings and port addresses (struct dp_link).
 * Also here: the Via branch and Record-Route conventions by which a worker
 * knows, from a response alone, whose transaction it belongs to.
 */
#ifndef DP_RING_H
#define DP_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "common/sw_bind.h"
#include "common/sw_callset.h"
#include "common/sw_neigh.h"
#include "common/sw_ports.h"
#include "common/sw_src.h"
#include "dataplane/dp_counters.h"
#include "sip/sip_scan.h"

#define DP_MAX_PREFIXES 32
#define DP_MAX_PATTERNS 16
#define DP_PATTERN_LEN	64
#define DP_MAX_SERVERS	8

struct rte_mempool;
struct rte_ring;

/*
 * sipwake's own Via branches (RFC 3261 §8.1.1.7 magic cookie first). The
 * character after DP_BRANCH_MAGIC says who owns the transaction, so a worker
 * reading a response's top Via knows from the branch alone what to do
 * (docs/design.md §7 "Who forwards what"):
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

/** An address prefix over the IPv4-mapped 128-bit form (IPv4: plen 96..128). */
struct dp_prefix {
	uint64_t net[2];  /**< the address's two halves as loaded from memory, host bits clear */
	uint64_t mask[2]; /**< the prefix mask in the same layout */
};

/** Fill @p p for @p addr (16 bytes, IPv4-mapped for IPv4) / @p plen (0..128). */
static inline void dp_prefix_set(struct dp_prefix *p, const uint8_t addr[16], uint8_t plen)
{
	uint8_t mask[16] = {0};

	for (unsigned bit = 0; bit < plen && bit < 128; bit++)
		mask[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	memcpy(p->mask, mask, 16);
	memcpy(p->net, addr, 16);
	p->net[0] &= p->mask[0];
	p->net[1] &= p->mask[1];
}

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
	struct dp_rate source;	   /**< per source IP: filter.unknown_rate / _burst */
	struct dp_rate prefix;	   /**< newcomers per /24 or /48: filter.unknown_prefix_* */
	struct dp_rate global;	   /**< all newcomers of the box: filter.unknown_global_* */
	struct dp_rate expected;   /**< per bound device or waking AOR: filter.expected_* */
	struct dp_rate answer;	   /**< answers to unknown sources, box: filter.answer_* */
	struct dp_rate syn;	   /**< TCP SYNs per source IP not the PBX: streams.syn_* */
	struct dp_rate syn_global; /**< all such SYNs of the box: streams.syn_global_* */
	/** challenges past syn_global, box: streams.syn_challenge_* (rate 0: none) */
	struct dp_rate syn_challenge;
};

/**
 * The filter's rules. The control plane builds one from the config and
 * publishes it (dp_link.policy, rcu_assign_pointer); workers read it under
 * RCU (rcu_dereference once per burst). A new policy replaces the old one
 * whole on a reload; it is never edited while workers run.
 */
struct dp_policy {
	unsigned n_pbx; /**< who may start calls toward apps */
	struct dp_prefix pbx[DP_MAX_PREFIXES];
	unsigned n_ua;
	struct dp_pattern ua[DP_MAX_PATTERNS];
	struct dp_rates rates;
	bool reply_403, reply_503;
	/** pbx.servers, failover order: where devices' requests go (workers;
	 *  the control plane keeps its own list for the REGISTER relay). */
	unsigned n_servers;
	struct dp_server servers[DP_MAX_SERVERS];
};

/** Source class of a datagram (docs/design.md §1: who may say what). */
enum dp_src_class {
	DP_SRC_UNKNOWN = 0, /**< neither the PBX nor a bound device */
	DP_SRC_PBX,	    /**< inside one of the policy's pbx prefixes */
	DP_SRC_BOUND,	    /**< ip:port of a device with a live binding */
	/** another edge of the cluster (cluster.peers): its requests are for
	 *  devices bound here, as the PBX's are; never relayed on to a peer */
	DP_SRC_PEER,
};

/** Why a packet went up to the control plane. */
enum dp_up_kind {
	DP_UP_ARP = 1,	  /**< ARP for one of our IPv4 addresses */
	DP_UP_ND,	  /**< IPv6 neighbour solicitation / advertisement for us */
	DP_UP_UNRESOLVED, /**< a frame ready to send whose next hop has no MAC yet */
	DP_UP_SIP,	  /**< a valid SIP message the control plane finishes (dp_meta.sip) */
};

/** Devices one call reaches at most (an AOR's, forked). */
#define DP_CALL_MAX_DEVICES 8

/** Why a worker handed a request from the PBX up instead of forwarding it. */
enum dp_call_why {
	DP_CALL_NONE = 0, /**< nothing decided (not such a request; or no binding tables) */
	DP_CALL_HELD,	  /**< INVITE retransmission, CANCEL or ACK of a call the control
			       plane holds (dp_link.held): its transaction, not a device's */
	DP_CALL_ASLEEP,	  /**< the one device it names is asleep */
	DP_CALL_FORK,	  /**< it names several devices */
	DP_CALL_POLICY,	  /**< a new call to an alive device with a push address, and
			       wake.policy is always-push or parallel */
	DP_CALL_STREAM,	  /**< the device is bound over a stream (TCP, TLS, WS): only
			       the control plane reaches its connection (docs/streams.md) */
};

/**
 * The worker's decision on a request from the PBX, with what it found: the
 * control plane acts on it and never looks the devices up again (docs/
 * design.md §7 "Decided once"). Devices are in the tables' visiting order.
 */
struct dp_call {
	uint8_t why;   /**< enum dp_call_why */
	uint8_t n;     /**< devices in @dev */
	uint8_t alive; /**< bit i: device i was alive when the worker looked */
	uint8_t pad[5];
	uint64_t dev[DP_CALL_MAX_DEVICES];
};

/**
 * Per-packet metadata, in each mbuf's private area (rte_mbuf_to_priv()):
 * what goes up a ring is the mbuf pointer alone, nothing is allocated.
 */
struct dp_meta {
	uint64_t rx_tsc;
	uint8_t kind;	/**< enum dp_up_kind */
	uint8_t worker; /**< worker that handed it up; its down ring sends the answer */
	uint8_t iface;	/**< index in dp_link.ports.ifaces */
	/** DP_UP_UNRESOLVED: an answer to a stranger (neither the PBX nor a
	 *  bound source): held only within the control plane's stranger quota. */
	uint8_t stranger;
	uint16_t l3_off;
	struct sw_ip nexthop; /**< DP_UP_UNRESOLVED: the address to resolve */

	/* DP_UP_SIP only. The SIP message is sip_len bytes at sip_off from the
	 * mbuf's data start, contiguous in the first segment; every slice of
	 * @sip is an offset from that first byte (docs/design.md §7 "Ring
	 * messages"). */
	uint16_t sip_off;
	uint16_t sip_len;  /**< the UDP payload (may hold surplus bytes past sip.msg_len) */
	uint8_t src_class; /**< enum dp_src_class */
	uint8_t v6;
	uint16_t sport;	    /**< source port, host byte order */
	struct sw_ip src;   /**< source address */
	struct sw_ip dst;   /**< our address it was sent to */
	uint64_t device_id; /**< DP_SRC_BOUND: the device, from the source table */
	/** The transport it came over (enum sw_tp): UDP from a worker; a
	 *  stream's from the streams thread, with its connection (the control
	 *  plane fills these in for what it reads from streams/st.h). */
	uint8_t tp;
	uint16_t local_port; /**< streams: our port the connection reached */
	uint64_t conn;	     /**< streams: the connection id; 0 for UDP */
	struct dp_call call; /**< a request from the PBX: what the worker decided */
	struct sip_msg sip;  /**< the scan result; hdrs[] valid up to sip.nhdrs */
};

/** Metadata of @p m. */
#define DP_META(m) ((struct dp_meta *)rte_mbuf_to_priv(m))

/**
 * What a worker did with one call, for /sipwake/trace: the
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

/**
 * The exception path (docs/streams.md, "Where the bytes go"): one net_tap
 * port per sipwake interface, whose kernel side holds our addresses. The
 * kernel side's MAC and its one neighbour (the link-local gateway of its
 * default routes) are fixed, so that neither side ever resolves the other.
 */
#define DP_TAP_KERNEL_MAC(ifx) \
	((struct rte_ether_addr){{0x02, 0x73, 0x77, 0x00, 0x01, (uint8_t)(ifx)}})
#define DP_TAP_GW_MAC ((struct rte_ether_addr){{0x02, 0x73, 0x77, 0x00, 0x00, 0x01}})
#define DP_TAP_GW4    "169.254.0.1"
#define DP_TAP_GW6    "fe80::1"

struct dp_link_tap {
	/** TCP segments for our addresses and a stream port, whole frames with
	 *  dp_meta.iface set: workers -> control plane (MP/SC). NULL: no exception
	 *  path (streams.ports empty). */
	struct rte_ring *to_kernel;
	uint16_t port[SW_MAX_IFACES]; /**< the net_tap port of each interface */
};

/** One worker as the control plane sees it: its rings and its counters. */
struct dp_link_worker {
	struct rte_ring
		*up; /**< struct rte_mbuf * with a struct dp_meta: worker -> control plane */
	struct rte_ring *down;	/**< frames to send (dp_meta.iface set): control plane -> worker */
	struct rte_ring *trace; /**< struct dp_trace_ev: worker -> control plane */
	unsigned lcore_id;
	const struct dp_counters *ctr; /**< written by the worker only; read relaxed */
};

/**
 * What the control plane gets of the dataplane (docs/design.md §3): the
 * shared tables, the rings, the port addresses and the two words it
 * publishes. Filled by the dataplane at start (dp_link()); the fields do not
 * change while it runs.
 */
struct dp_link {
	struct sw_ports ports;	   /**< what is us: SIP port, names, interfaces */
	uint64_t alive_window_tsc; /**< a device heard from within this is alive */
	uint8_t wake_policy;	   /**< enum dp_wake_policy */
	struct rte_mempool *pool;  /**< packets the control plane builds */
	struct sw_neigh_table *neigh;
	struct sw_src_table *src;
	struct sw_bind_table *bind;
	/** Banned source IPs (port 0); the entry's last-alive is the ban's end
	 *  (TSC). The control plane writes it (pbx.auth_ban_*). */
	struct sw_src_table *banned;
	/** Call-IDs of the calls the control plane proxies statefully (the
	 *  wake path): their PBX INVITEs, CANCELs and ACKs go up. */
	struct sw_callset *held;
	/** Devices (sw_wake_key_device()) and their AORs (sw_wake_key_aor())
	 *  a held call has pushed and waits to hear REGISTER: their REGISTERs
	 *  from new addresses are expected (docs/admission.md). */
	struct sw_callset *waking;
	/** The policy workers read: rcu_assign_pointer() a new one, free the
	 *  old after a grace period. */
	struct dp_policy **policy;
	/** Index in the policy's servers now in use (failover): a relaxed store. */
	uint32_t *pbx_active;
	/** Bit i: cluster.peers.[i] answers its health checks; a relaxed store. */
	uint32_t *peer_up;
	struct dp_link_tap tap; /**< the exception path to the kernel's TCP */
	unsigned n_workers;
	struct dp_link_worker workers[RTE_MAX_LCORE];
};

#endif /* DP_RING_H */
