/* SPDX-License-Identifier: BSD-3-Clause */
/* Control-plane internals shared by its .c files; not part of the contract. */
#ifndef CP_INTERNAL_H
#define CP_INTERNAL_H

#include <string.h>

#include <rte_mbuf.h>

#include "controlplane/cp.h"

#define CP_HOLD_MAX 64	 /* upper bound of neighbours.queue */
#define CP_MSG_MAX  8192 /* largest SIP message the control plane builds or relays */
#define CP_BURST    32	 /* ring entries taken at once */

struct cp_reg;
struct cp_call;
struct cp_refresh;
struct cp_flows;
struct cp_store;
struct pd;
struct pd_request;
struct pd_result;
struct sw_device;

/** A next hop being resolved, with the frames waiting for it. */
struct cp_pending {
	bool used;
	bool refresh;  /* re-probing a known but stale entry; nothing held */
	bool stranger; /* opened by an answer to a stranger (dp_meta.stranger) */
	uint8_t iface;
	uint8_t worker; /* whose down ring sends the held frames */
	uint8_t probes; /* sent so far */
	uint8_t n;
	struct sw_ip ip;
	struct rte_ether_addr known_mac; /* refresh: probe unicast to it */
	uint64_t next_probe_tsc;
	struct rte_mbuf *held[CP_HOLD_MAX];
};

struct cp_ctx {
	struct dp_link *dp; /* the dataplane's handle: tables, rings, ports */
	/* pbx.servers, failover order: where REGISTERs and health checks go
	 * (the workers have their copy in the policy). */
	unsigned n_servers;
	struct dp_server servers[DP_MAX_SERVERS];
	struct cp_config cfg;
	uint64_t hz;
	uint64_t retry_tsc, lifetime_tsc;
	unsigned n_pending_max;
	unsigned n_pending_stranger; /* entries opened by strangers: at most a quarter */
	struct cp_pending *pending;
	char cfg_path[4096];	 /* config file, for reloads */
	uint64_t cfg_generation; /* reloads applied; telemetry reads it relaxed */
	uint32_t ip_id;		 /* IPv4 id / IPv6 fragment id of what we send */
	struct cp_reg *reg;	 /* REGISTER relay (cp_reg.c) */
	struct cp_store *store;	 /* binding store; NULL: not persisted (tests) */
	struct pd *pd;		 /* pushd; NULL: no pushes (asleep devices get no call) */
	struct cp_call *call;	 /* the wake path (cp_call.c) */
	struct cp_trace *trace;	 /* per-call trace ring (cp_trace.c) */
	uint64_t c[CP_C_MAX];	 /* single writer: this thread */
	uint64_t drop[CP_D_MAX];

	struct cp_refresh *refresh; /* refresh pushes sent (cp_bind.c); NULL: none */
	struct st *st;		    /* the streams thread (streams/st.h); NULL: none */
	struct cp_flows *flows;	    /* its connections open now (bindings/cp_flow.c) */
	/* The other edges (cfg.peers): when each last answered its health
	 * check (bindings/cp_peer.c); up or not is dp->peer_up. */
	uint64_t peer_heard_tsc[CP_MAX_PEERS];
	uint64_t peer_next_tsc;
	uint32_t peer_seq;
	/* pbx.servers' health (relay/cp_reg_health.c): bit i of pbx_known once
	 * servers[i] was judged, of pbx_up while it answers; written here,
	 * read relaxed by the telemetry thread. */
	uint32_t pbx_known, pbx_up;
};

/*
 * Where a message to an app goes: a datagram to ip:port, or down a
 * connection of the streams thread (tp not UDP). Every answer and request
 * the control plane sends an app or a device names its destination so.
 */
struct cp_dest {
	struct sw_ip ip;
	uint16_t port;
	uint8_t tp;    /* enum sw_tp */
	uint64_t conn; /* tp not UDP: the connection; 0: closed, nothing is sent */
	/* UDP: an answer driven by a stranger (cp_tx_frame()): held for its
	 * next hop only within the strangers' quota (docs/admission.md). */
	bool stranger;
};

/* The sender of a handed-up message, as the destination of what answers it. */
static inline struct cp_dest cp_dest_of(const struct dp_meta *meta)
{
	return (struct cp_dest){meta->src, meta->sport, meta->tp, meta->conn, false};
}

/* The device's flow: its source, or its connection (docs/streams.md, "Flows"). */
static inline struct cp_dest cp_dest_dev(const struct sw_device *d)
{
	return (struct cp_dest){d->src, d->sport, d->tp, d->conn, false};
}

static inline void cp_count(struct cp_ctx *cp, enum cp_counter c, uint64_t n)
{
	__atomic_store_n(&cp->c[c], cp->c[c] + n, __ATOMIC_RELAXED);
}

static inline void cp_count_drop(struct cp_ctx *cp, enum cp_drop d, uint64_t n)
{
	__atomic_store_n(&cp->drop[d], cp->drop[d] + n, __ATOMIC_RELAXED);
}

/* cp_send.c: @p m onto worker @p worker's down ring, out of iface @p ifx
 * (taken: freed and counted down_ring_full when the ring is full). */
void cp_send(struct cp_ctx *cp, unsigned worker, unsigned ifx, struct rte_mbuf *m);

/* cp_tx.c */
/** Interface, our source address and next hop toward @p dst. @return 0 or -ENETUNREACH. */
int cp_route(const struct cp_ctx *cp, const struct sw_ip *dst, unsigned *ifx, struct sw_ip *src,
	     struct sw_ip *nexthop);
/**
 * A finished IP frame out of iface @p ifx to next hop @p nh: our MAC, the
 * ethertype of @p v6, the next hop's MAC from the neighbour table, then
 * worker 0's down ring; held while ARP / ND resolves it. @p stranger: held
 * only within the strangers' quota (cp_neigh_hold()). Takes @p m.
 */
void cp_tx_frame(struct cp_ctx *cp, unsigned ifx, struct rte_mbuf *m, const struct sw_ip *nh,
		 bool v6, bool stranger);
/** Send @p len bytes as one UDP datagram from our SIP port (fragmented past
 *  the MTU), marked @p stranger when it goes whole (cp_tx_frame()).
 *  @p payload is copied. @return 0, -EMSGSIZE, -ENETUNREACH, -ENOMEM. */
int cp_udp_send_as(struct cp_ctx *cp, const struct sw_ip *dst, uint16_t dport, const void *payload,
		   uint16_t len, bool stranger);
/** cp_udp_send_as(), not a stranger's. */
int cp_udp_send(struct cp_ctx *cp, const struct sw_ip *dst, uint16_t dport, const void *payload,
		uint16_t len);

/** Send @p len bytes to @p to: cp_udp_send(), or st_send() down its
 *  connection. @return 0, -ENOTCONN (closed, or no streams thread; counted
 *  stream_no_conn), -ENOBUFS (ring full, counted), or cp_udp_send()'s. */
int cp_dest_send(struct cp_ctx *cp, const struct cp_dest *to, const void *payload, uint16_t len);
/** Our port for transport @p tp: the first listener's (streams { }), sip_port for UDP. */
uint16_t cp_tp_port(const struct cp_ctx *cp, uint8_t tp);

/* cp_reg.c: the REGISTER relay */
/** A stateless answer of ours to a handed-up request (RFC 3261 §8.2.6). */
void cp_sip_reply(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		  unsigned status);
/** cp_sip_reply() with reason phrase @p reason (static; NULL: the usual one). */
void cp_sip_reply_why(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		      unsigned status, const char *reason);
/** cp_sip_reply() with Retry-After: @p retry_after (0: as cp_sip_reply()). */
void cp_sip_reply_retry(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
			unsigned status, uint16_t retry_after);
int cp_reg_init(struct cp_ctx *cp);
/* Feature-Caps of REGISTERs and their 2xx: +sip.pns, +sip.vapid (cp_reg_tx.c). */
void cp_reg_fcaps(struct cp_ctx *cp);
void cp_reg_fini(struct cp_ctx *cp);
/** A REGISTER handed up; @p msg is its first byte (in @p m, which the caller frees). */
void cp_reg_request(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** A response whose top Via is a DP_BRANCH_CP 'r' branch of ours. */
void cp_reg_response(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** An answer to a PBX health check (a DP_BRANCH_CP 'h' branch). */
void cp_reg_health_answer(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** Timers (transaction timeouts, failover), binding expiry, pings; every tick. */
void cp_reg_tick(struct cp_ctx *cp, uint64_t now);
/** End of a loop round: commit the store, then send the 2xx it made durable. */
void cp_reg_flush(struct cp_ctx *cp);
/** A shared store's batch @p ticket ended (cp_store.h hooks): its 2xx go,
 *  or become 500 when it was lost. */
void cp_reg_store_done(struct cp_ctx *cp, uint64_t ticket, bool ok);
/** Another edge's change to the bindings (cp_store.h hooks), applied to
 *  the tables; a call held for the device goes on (relay/cp_reg_feed.c). */
void cp_reg_feed_change(struct cp_ctx *cp, int kind, const struct sw_bind_rec *r, const char *edge,
			size_t edge_len);
/* pbx.servers changed (reload): REGISTERs go to the first server again;
 * pending ones go on to the new list on their next retransmission, or get
 * 503 when the list is now empty. */
void cp_reg_servers_changed(struct cp_ctx *cp);
/** Load the store into the tables at start. @return bindings loaded or -errno. */
int cp_reg_load(struct cp_ctx *cp);

/* cp_call.c: the wake path, a transaction-stateful proxy (RFC 3261 §16) */
int cp_call_init(struct cp_ctx *cp);
void cp_call_fini(struct cp_ctx *cp);
/** An INVITE, CANCEL or ACK from the PBX handed up (asleep device, fork,
 *  push policy, or a call already held). */
void cp_call_request(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** A device's answer on one of our branches (a DP_BRANCH_CP 'i' branch). */
void cp_call_response(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** The PBX accepted a REGISTER of device @p id and it is durable: calls
 *  waiting for it go to its (new) contact now. */
void cp_call_registered(struct cp_ctx *cp, uint64_t id);
/* The device @rec names, when a held call waits for it to register; else 0.
 * Cheap when nothing is held (the REGISTER path asks for every REGISTER). */
uint64_t cp_call_waited_for(struct cp_ctx *cp, const struct sw_bind_rec *rec);
/* One line in the trace of every call waiting for device @id ("device <id>"
 * is prepended): its REGISTERs and the PBX's answers (docs/design.md §5, "Per-call trace"). */
void cp_call_note(struct cp_ctx *cp, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Push results from pushd (refresh results go to cp_bind_push_result()). */
void cp_call_poll_push(struct cp_ctx *cp);
/** Timers: retransmissions, wake timeouts, lingering transactions. */
void cp_call_tick(struct cp_ctx *cp, uint64_t now);
/** Shutting down: every held INVITE is answered 503, forwarded branches get CANCEL. */
void cp_call_shutdown(struct cp_ctx *cp);
/** At start, before the loop: every call the journal of held calls kept
 *  (a crash cut it off) is answered 480 (calls/cp_call_replay.c).
 *  @return how many, or -errno from the store. */
int cp_call_journal_replay(struct cp_ctx *cp);

/** /sipwake/held: calls held now and the wake path's latencies. */
struct cp_call_held {
	uint32_t held;		     /**< INVITEs without a final answer (as of the last tick) */
	uint32_t transactions;	     /**< calls kept, lingering ones included (<= max) */
	uint32_t max;		     /**< wake.max_held */
	uint64_t oldest_age_ms;	     /**< the oldest call not answered yet */
	uint64_t n_push_to_reg;	     /**< samples: push sent -> accepted REGISTER */
	uint64_t push_to_reg_us[3];  /**< p50, p90, p99 */
	uint64_t n_invite_to_branch; /**< samples: INVITE in -> INVITE out to a woken device */
	uint64_t invite_to_branch_us[3];
};
/** Any thread (relaxed reads). */
void cp_call_held(const struct cp_ctx *cp, struct cp_call_held *h);

/** pd_request.id of a pre-expiry refresh push has this bit (else it is a call's). */
#define CP_PUSH_REFRESH (UINT64_C(1) << 63)

/* cp_bind.c: push addresses (the token a push goes to: bindings/cp_push_addr.h) */
/**
 * The push service said token @p target (pd_result.target) of @p id is dead
 * since @p dead_since_ms (ms since the epoch; 0: unknown): when the device
 * has another live token, mark that one dead and keep the rest; else
 * remove its push address, keeping the binding,
 * unless it registered after that time (RFC 8599 §1; docs/design.md §1 step 7).
 * A device that would then be indistinguishable from another of its AOR
 * (same contact, neither an instance nor a push address) is removed instead.
 * Tables and store; counts wake_dead_tokens.
 * @return 0 removed, -ENOENT (no such device or no push address),
 *         -EALREADY (registered after the token died, or in the same
 *         second: kept), -ENOMEM.
 */
int cp_bind_drop_push(struct cp_ctx *cp, uint64_t id, int64_t dead_since_ms, unsigned target);
/** A refresh push's result (CP_PUSH_REFRESH ids). */
void cp_bind_push_result(struct cp_ctx *cp, const struct pd_result *r);

/* cp_ping.c: pings to bound devices (bindings/cp_ping.h) */
/**
 * An answer to one of our pings (a DP_BRANCH_CP 'p' branch): counts pongs;
 * one that says the pinged contact is unknown at the device's source (404,
 * 410, 481) makes that device asleep at once (pongs_unknown_contact).
 */
void cp_ping_answer(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);

/* cp_neigh.c */
int cp_neigh_init(struct cp_ctx *cp);
void cp_neigh_fini(struct cp_ctx *cp);
void cp_neigh_arp_in(struct cp_ctx *cp, struct rte_mbuf *m);
void cp_neigh_nd_in(struct cp_ctx *cp, struct rte_mbuf *m);
void cp_neigh_hold(struct cp_ctx *cp, struct rte_mbuf *m);

/* cp_reload.c: run a requested reload, if any (control-plane thread). */
void cp_reload_poll(struct cp_ctx *cp);

/* cp_tap.c: the exception path (docs/streams.md): the workers' TCP into the
 * taps, the kernel's segments out of the DPDK ports. Never blocks.
 * @return frames moved (0: nothing to do, or no tap). */
unsigned cp_tap_poll(struct cp_ctx *cp);

/* The kind letter of one of our DP_BRANCH_CP branches in the top Via of
 * @p sm ('r' REGISTER relay, 'h' health check, 'i' wake path, 'p' ping,
 * 'f' / 'o' the stream relay), or 0. */
static inline char cp_branch_kind(const uint8_t *msg, const struct sip_msg *sm)
{
	const char *b = sip_ptr(msg, sm->via.branch);

	if (sm->via.branch.len < DP_BRANCH_MAGIC_LEN + 2 ||
	    memcmp(b, DP_BRANCH_MAGIC, DP_BRANCH_MAGIC_LEN) != 0 ||
	    b[DP_BRANCH_MAGIC_LEN] != DP_BRANCH_CP)
		return 0;
	return b[DP_BRANCH_MAGIC_LEN + 1];
}

/* cp_stream.c: what the streams thread hands up (streams/st.h): SIP from
 * stream connections, and their ends. @return events taken. */
unsigned cp_stream_poll(struct cp_ctx *cp);

/* cp_stream_fwd.c: the stream relay, stateless (docs/streams.md, "Flows") */
#define CP_BRANCH_TO_DEVICE 'f' /* a PBX request we sent down a device's connection */
#define CP_BRANCH_TO_PBX    'o' /* a stream device's request we sent to the PBX */
/** A PBX request in a dialog with a stream device (DP_CALL_STREAM, not an
 *  initial INVITE): down the device's connection. */
void cp_stream_to_device(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** A stream device's request (not REGISTER): to the PBX, over UDP. */
void cp_stream_to_pbx(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);
/** An answer on a CP_BRANCH_TO_DEVICE branch (from the device): to the PBX. */
void cp_stream_answer_from_device(struct cp_ctx *cp, const struct dp_meta *meta,
				  const uint8_t *msg);
/** An answer on a CP_BRANCH_TO_PBX branch (from the PBX): down the connection it names. */
void cp_stream_answer_from_pbx(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg);

/* cp_sip.c: a DP_UP_SIP entry from a worker; takes @p m. */
void cp_sip_in(struct cp_ctx *cp, struct rte_mbuf *m);
void cp_neigh_tick(struct cp_ctx *cp, uint64_t now);
void cp_neigh_age(struct cp_ctx *cp, uint64_t now);

#endif /* CP_INTERNAL_H */
