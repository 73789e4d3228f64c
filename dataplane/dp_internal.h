/* SPDX-License-Identifier: BSD-3-Clause */
/* Dataplane internals shared by its .c files; not part of the contract. */
#ifndef DP_INTERNAL_H
#define DP_INTERNAL_H

#include <rte_mbuf.h>

#include "dataplane/dp.h"
#include "sip/sip_scan.h"

#define DP_BURST 32

struct dp_admit;
struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;
struct dp_frag_seen;

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
	struct dp_frag_seen *seen;	  /**< recent fragments, for exact duplicates */
	uint16_t ip_id;			  /**< IPv4 identification of the frames it builds */
	uint64_t tsc_hz;
	struct dp_counters ctr;
} __rte_cache_aligned;

/** The whole dataplane. */
struct dp_ctx {
	struct dp_params p;
	struct rte_mempool *pool;
	struct sw_neigh_table *neigh;
	struct sw_src_table *src;    /**< bound device sources (read-only here) */
	struct sw_bind_table *bind;  /**< bindings (read-only here) */
	struct sw_src_table *banned; /**< see dp_link; NULL: none */
	struct sw_callset *held;     /**< see dp_link; NULL: none */
	struct sw_callset *waking;   /**< see dp_link; NULL: none */
	uint32_t
		pbx_active; /**< index in p.servers now in use; the control plane writes it (relaxed) */
	uint32_t peer_up; /**< bit i: p.peers[i] is up; the control plane writes it (relaxed) */
	struct dp_policy *policy;  /**< RCU pointer: rcu_dereference() to read */
	uint32_t rate_sources;	   /**< per-source buckets over all workers */
	uint32_t rate_keys;	   /**< per-device / per-AOR / per-prefix buckets per worker */
	struct rte_mempool *jumbo; /**< buffers for reassembled datagrams (16 KiB) */
	uint32_t frag_flows;	   /**< datagrams in reassembly at once, over all workers */
	uint32_t frag_timeout_ms;  /**< an incomplete datagram is dropped after this */
	uint32_t frag_buffers;	   /**< jumbo buffers */
	/** Longest frame each port delivers whole (net_af_packet: framesz - 66,
	 *  dp_port.c); 0: the device does not cut frames it cannot hold. */
	uint16_t rx_cap[SW_MAX_IFACES];
	/** The exception path (dp_tap.c): TCP for a stream port to the control
	 *  plane, which writes it into the net_tap port of its interface. NULL:
	 *  streams.ports is empty, no tap. MP/SC. */
	struct rte_ring *to_kernel;
	uint16_t tap_port[SW_MAX_IFACES];
	bool tap_made[SW_MAX_IFACES];	 /**< its vdev exists (dp_tap_fini() removes it) */
	bool tap_started[SW_MAX_IFACES]; /**< its port is started */
	unsigned n_workers;
	bool stop;	     /**< read with __atomic_load_n by workers */
	struct dp_link link; /**< the control plane's handle (dp_init() fills it) */
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

/* dp_ctx.c: fill ctx->link from what dp_init() made (dp_create() calls it). */
void dp_link_fill(struct dp_ctx *ctx);

/** A worker's TX buffer for one port, flushed when full and once per loop. */
struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *m[DP_BURST];
};

/** A worker's private state while it runs (its own stack, never shared). */
struct dp_wstate {
	struct dp_worker *w;
	struct dp_ctx *ctx;
	struct dp_counters *ctr;
	struct dp_txbuf tx[SW_MAX_IFACES];
	const struct dp_policy *pol; /* rcu_dereference()d once per loop */
	struct sip_msg *sip;	     /* current packet's scan result, in its mbuf's private area */
	/* Our address and SIP port per iface and family as Via / Record-Route
	 * write them ("192.0.2.1:5060", "[2001:db8::1]:5060"), made on first
	 * use (dp_fwd.c). */
	uint8_t host_len[SW_MAX_IFACES][2];
	char host[SW_MAX_IFACES][2][56];
	/* The last received= address written and its text (dp_fwd_hdrs.c):
	 * most requests come from the PBX, one address. rcv_len 0: none yet. */
	struct sw_ip rcv_ip;
	uint8_t rcv_len;
	char rcv_txt[48];
};

/** Where a datagram came from, for the answer. */
struct dp_l4info {
	struct sw_ip src, dst; /* dst: our address it was sent to */
	uint16_t sport;	       /* host byte order */
	bool v6;
};

/* dp_net.c: one received frame (L2-L4), to its end. */
void dp_rx_one(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m);
/* dp_worker.c: a received burst, every frame to its end. */
void dp_rx_burst(struct dp_wstate *s, unsigned ifx, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t now);

/* dp_tx.c: the transmit steps */
void dp_tx_ip(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *dst);
/** dp_tx_ip() for an answer to a stranger (neither the PBX nor a bound
 *  source): an unresolved next hop is held only within the control plane's
 *  quota for strangers (dp_meta.stranger), so junk cannot fill the hold queue. */
void dp_tx_stranger(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *dst);
/** dp_tx_ip() or dp_tx_stranger(), as @p stranger says. */
void dp_tx_ip_as(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *dst,
		 bool stranger);
void dp_tx_flush(struct dp_wstate *s, unsigned ifx);
/** Send @p m (an IP packet after an Ethernet header) back to the MAC it came
 *  from: an answer that must not touch the neighbour table (a challenge to
 *  a source that may be spoofed). */
void dp_tx_back(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m);
void dp_hand_up(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, enum dp_up_kind kind);
/* One per-call trace event of the current message (dp.h, dp_trace_ev) to the
 * control plane; a full ring counts trace_lost. */
void dp_trace(struct dp_wstate *s, const uint8_t *msg, enum dp_trace_kind kind, uint64_t dev,
	      const struct sw_ip *ip, uint16_t port, uint16_t status);
/** Build an IP + UDP header in front of a payload already at offset
 *  dp_udp_hdr_len(v6) of @p m (data_len = headers + payload). */
void dp_udp_finish(struct dp_wstate *s, struct rte_mbuf *m, const struct dp_l4info *to,
		   uint16_t dport, uint16_t payload_len);

static inline uint16_t dp_udp_hdr_len(bool v6)
{
	return (uint16_t)(RTE_ETHER_HDR_LEN + (v6 ? 40 : 20) + 8);
}

static inline void dp_drop(struct dp_wstate *s, struct rte_mbuf *m, enum dp_drop why)
{
	dp_count_drop(s->ctr, why);
	rte_pktmbuf_free(m);
}

/* dp_sip.c: a UDP datagram to the SIP port; takes @p m. */
void dp_sip_input(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
		  const struct dp_l4info *from, const uint8_t *payload, uint16_t len);

/* dp_sip_reply.c */
/**
 * Is the Request-URI of the scanned request sipwake itself: its host one of
 * our addresses or names, and no user part unless @p any_user (monitoring
 * probes send "sip:ping@edge"; a bound device's "sip:bob@edge" is for bob).
 */
bool dp_ruri_is_us(const struct dp_params *p, const uint8_t *msg, const struct sip_msg *sm,
		   bool any_user);
/**
 * Send a stateless response with @p status to the request scanned in s->sip
 * (RFC 3261 §8.2.6): Vias copied with rport/received, To-tag added. The
 * request mbuf is borrowed, not freed. @return 0, -ENOMEM (no mbuf) or
 * -EMSGSIZE (the answer would not fit one frame). @p stranger: the source
 * is neither the PBX nor bound (dp_tx_stranger()).
 */
int dp_sip_respond(struct dp_wstate *s, unsigned ifx, const struct dp_l4info *from,
		   const uint8_t *msg, uint16_t status, bool stranger);

/** The IP literal a host (or received=) slice holds; false for a name. */
static inline bool dp_host_ip(const uint8_t *msg, struct sip_slice h, struct sw_ip *ip)
{
	return sw_ip_parse(sip_ptr(msg, h), h.len, ip) == 0;
}

/** Index of the first header field @p id of @p sm from @p from on, or -1. */
static inline int dp_first_hdr(const struct sip_msg *sm, enum sip_hdr_id id, unsigned from)
{
	for (unsigned i = from; i < sm->nhdrs; i++)
		if (sm->hdrs[i].id == id)
			return (int)i;
	return -1;
}

/* dp_fwd.c: stateless forwarding (RFC 3261 §16.11) of the scanned message in s->sip. */
enum dp_fwd_verdict {
	DP_FWD_DONE,	/* sent, answered or dropped: @p m is gone */
	DP_FWD_HAND_UP, /* the control plane's: the caller hands @p m up */
};
/** A response from the PBX or a bound device: by its top Via's branch. */
enum dp_fwd_verdict dp_fwd_response(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
				    const struct dp_l4info *from, const uint8_t *msg,
				    enum dp_src_class cls);
/** A request (not REGISTER, not OPTIONS for us) from the PBX or a bound device. */
enum dp_fwd_verdict dp_fwd_request(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
				   const struct dp_l4info *from, const uint8_t *msg,
				   enum dp_src_class cls);

/* dp_fwd_msg.c: the forwarded message as edits on the received one. */
#define DP_FWD_MAX_EDITS 24
#define DP_FWD_SCRATCH	 512
/* Slices of a device's contact a retargeted Request-URI is (sip_uri_without_pn()). */
#define DP_FWD_URI_PIECES 16

/** Input bytes [off, end) replaced by @rep (rep_len 0: removed; off == end: inserted). */
struct dp_fwd_edit {
	uint16_t off, end, rep_len;
	const char *rep;
};

/** What goes out: msg[start, end) with the edits applied, their new bytes in scratch. */
struct dp_fwd_msg {
	const uint8_t *msg;
	uint16_t start, end;
	uint8_t n;
	bool overflow; /* edits or scratch ran out: the message is not sent */
	uint16_t used;
	struct dp_fwd_edit e[DP_FWD_MAX_EDITS];
	char scratch[DP_FWD_SCRATCH];
};

void dp_fwd_msg_init(struct dp_fwd_msg *fm, const uint8_t *msg, const struct sip_msg *sm);

static inline void dp_fwd_edit(struct dp_fwd_msg *fm, uint32_t off, uint32_t end, const char *rep,
			       uint32_t rep_len)
{
	if (fm->n == DP_FWD_MAX_EDITS) {
		fm->overflow = true;
		return;
	}
	fm->e[fm->n++] = (struct dp_fwd_edit){.off = (uint16_t)off,
					      .end = (uint16_t)end,
					      .rep_len = (uint16_t)rep_len,
					      .rep = rep};
}

/** @p n bytes of scratch for an edit's new bytes; NULL (and overflow set) when out. */
static inline char *dp_fwd_scratch(struct dp_fwd_msg *fm, uint32_t n)
{
	char *p;

	if (n > (uint32_t)DP_FWD_SCRATCH - fm->used) {
		fm->overflow = true;
		return NULL;
	}
	p = fm->scratch + fm->used;
	fm->used = (uint16_t)(fm->used + n);
	return p;
}
/* dp_fwd_hdrs.c: our lines in a forwarded request. */
/**
 * Our Via (its branch the same for a request, its retransmissions, its
 * CANCEL and its non-2xx ACK, §16.11), Record-Route on dialog-creating
 * requests when @p rr (naming device @p dev when not 0), Max-Forwards
 * added or decremented, rport / received on the sender's Via (@p from):
 * edits of @p fm. Our address is @p out's of the family @p v6 says; a
 * request that came in (on @p in) in the other family gets a second
 * Record-Route, ours facing the sender (RFC 5658 §3.1).
 */
void dp_fwd_our_lines(struct dp_wstate *s, unsigned out, bool v6, unsigned in,
		      struct dp_fwd_msg *fm, const uint8_t *msg, const struct sip_msg *sm,
		      const struct dp_l4info *from, uint64_t dev, bool rr);
/** The device id our Record-Route carried in route @p r (";swd=<hex>"), or 0. */
uint64_t dp_fwd_route_device(const uint8_t *msg, const struct sip_uri *r);

/** Offset after the LWS at @p pos (SP, HT, folds), at most @p end. */
uint32_t dp_fwd_skip_lws(const uint8_t *msg, uint32_t pos, uint32_t end);
/**
 * Remove the first value of header field @p i, the next one starting at
 * @p next (sip_via_first() / sip_route_first()): that value alone when
 * others follow, else the whole field line.
 */
void dp_fwd_cut_first(struct dp_fwd_msg *fm, const struct sip_msg *sm, unsigned i, uint32_t next);
/** Remove the push parameters (pn-*, legacy app-id) of the ";" list [off, end),
 *  which starts right after a ";". */
void dp_fwd_strip_pn(struct dp_fwd_msg *fm, uint32_t off, uint32_t end);
/**
 * Build the datagram of @p fm from our SIP port to @p dst : @p dport, as one
 * frame or as IP fragments when it exceeds the interface MTU, and send it
 * out of @p ifx (dp_tx_ip()).
 * @return 0, -ENOMEM (pool empty), -EMSGSIZE (over 64 KiB), -E2BIG (fm
 *         overflowed), -EINVAL (overlapping edits) or -ENETUNREACH (no
 *         address of that family on @p ifx).
 */
int dp_fwd_tx(struct dp_wstate *s, unsigned ifx, struct dp_fwd_msg *fm, const struct sw_ip *dst,
	      uint16_t dport);

/* dp_filter.c */
/** Is @p ip the PBX: inside a pbx.sources prefix of the policy, or one of pbx.servers? */
bool dp_is_pbx_addr(const struct dp_wstate *s, const struct sw_ip *ip);
/** Is @p ip another edge's (cluster.peers)? */
bool dp_is_peer_addr(const struct dp_params *p, const struct sw_ip *ip);
enum dp_src_class dp_src_classify(const struct dp_wstate *s, const struct dp_l4info *from,
				  struct sw_src **bound);
bool dp_ua_is_scanner(const struct dp_policy *pol, const uint8_t *msg, struct sip_slice ua);
/** The same on the raw message, before any scan (a quick "User-Agent:" find). */
bool dp_ua_is_scanner_raw(const struct dp_policy *pol, const uint8_t *msg, uint16_t len);

/* dp_admit.c: the budgets of unknown sources (docs/admission.md) */
struct dp_admit *dp_admit_create(uint32_t source_entries, uint32_t key_entries, unsigned n_workers,
				 int socket);
void dp_admit_free(struct dp_admit *a);
/** Charge @p ip's own bucket. @return DP_D_MAX (allowed) or DP_D_FILTER_RATE_SOURCE. */
enum dp_drop dp_admit_source(struct dp_wstate *s, const struct sw_ip *ip, uint64_t now);
/** How long a source that answered a challenge stays proven, and the time
 *  slot of a challenge's cookie (the current and the last slot are good). */
#define DP_SYN_PROVEN_S 60
#define DP_SYN_SLOT_S	64
/**
 * A TCP SYN from @p ip (not the PBX): its source's bucket, then the box's
 * (streams.syn_*); past the box's, a proven source gets in anyway
 * (tcp_syn_proven) and any other is to be challenged, within
 * streams.syn_challenge_rate. @return DP_D_MAX (allowed),
 * DP_D_TCP_SYN_CHALLENGED (drop it and send dp_admit_cookie()'s challenge)
 * or DP_D_TCP_SYN_RATE_*.
 */
enum dp_drop dp_admit_syn(struct dp_wstate *s, const struct sw_ip *ip, uint64_t now);
/** The challenge's cookie for a SYN from @p src:@p sport to our @p dport
 *  (ports in network order): the SYN-ACK's acknowledgment number. */
uint32_t dp_admit_cookie(struct dp_wstate *s, const struct sw_ip *src, uint16_t sport,
			 uint16_t dport, uint64_t now);
/** Is an RST's @p seq the cookie of a challenge sent to @p src:@p sport from
 *  our @p dport within the last slot or two? If so @p src is proven. */
bool dp_admit_proof(struct dp_wstate *s, const struct sw_ip *src, uint16_t sport, uint16_t dport,
		    uint32_t seq, uint64_t now);
/** One answer to an unknown source (filter.answer_rate): may it be sent? */
bool dp_admit_answer(struct dp_wstate *s, uint64_t now);
/**
 * The REGISTER scanned in s->sip, from unknown source @p ip: expected (it
 * names a bound device, or an AOR a held call waits on) and charged to that
 * device's or AOR's bucket, else a newcomer charged to its source's, its
 * prefix's and the box's. Counts the class it was admitted as.
 * @return DP_D_MAX (admitted) or the drop reason (a DP_D_FILTER_RATE_*).
 */
enum dp_drop dp_admit_register(struct dp_wstate *s, const struct sw_ip *ip, const uint8_t *msg,
			       uint64_t now);

/* dp_tcp.c: a TCP segment for one of our addresses (@p src its source); takes @p m. */
void dp_tcp_in(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m, void *tcp, uint32_t avail,
	       const struct sw_ip *src);

/* dp_tap.c: the exception path's net_tap ports and their kernel side, made
 * after the DPDK ports (their MTU) when streams.ports is not empty.
 * @return 0 or a negative errno; errors are logged, naming what failed. */
int dp_tap_init(struct dp_ctx *ctx, uint32_t ring_size);
/** Stop and remove the tap ports and free the ring. Safe when none was made. */
void dp_tap_fini(struct dp_ctx *ctx);
/* dp_tap_nl.c: the kernel side of tap @p ifname (rtnetlink): @p ifc's
 * addresses as /32 and /128, MAC DP_TAP_KERNEL_MAC(@p ifx), MTU, link up,
 * default routes via the link-local gateway with a permanent neighbour entry.
 * @return 0 or a negative errno; @p err says which step failed. */
int dp_tap_kernel_setup(const char *ifname, unsigned ifx, const struct sw_iface *ifc, char *err,
			size_t errlen);

/* dp_frag.c */
int dp_frag_init(struct dp_ctx *ctx);
void dp_frag_fini(struct dp_ctx *ctx);
/** A fragment in; the whole datagram, linearised, when it completes, else NULL (held or dropped). */
struct rte_mbuf *dp_frag_ipv4(struct dp_wstate *s, struct rte_mbuf *m, uint32_t ihl);
struct rte_mbuf *dp_frag_ipv6(struct dp_wstate *s, struct rte_mbuf *m, uint32_t plen);
/** Expire old fragments and free the death row: once per worker round,
 *  with or without packets, so timeouts are counted when they fall due. */
void dp_frag_tick(struct dp_wstate *s, uint64_t now);

/* dp_stun.c */
bool dp_is_stun(const uint8_t *p, uint16_t len);
/** Answer a STUN Binding request. @return 0, -EINVAL (not a valid request) or -ENOMEM. */
int dp_stun_answer(struct dp_wstate *s, unsigned ifx, const struct dp_l4info *from,
		   const uint8_t *req, uint16_t len);

#endif /* DP_INTERNAL_H */
