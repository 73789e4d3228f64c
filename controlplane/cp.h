/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control plane's face to app/main.c: one thread (the DPDK main
 * lcore), the sole writer of the shared tables, made from the config and
 * the dataplane's handle (struct dp_link, dataplane/dp_ring.h), then run
 * until stopped. It answers ARP / ND and resolves next hops, relays
 * REGISTERs and keeps the bindings and their store, holds the calls of
 * sleeping apps while pushd wakes them, and serves telemetry; its rooms
 * are in docs/design.md §2, "The code, room by room". Its counters are
 * declared here.
 */
#ifndef CP_H
#define CP_H

#include <stdbool.h>

#include "controlplane/config/cp_config.h"
#include "dataplane/dp_ring.h"

/** What the wake path did (cp_call.c, cp_bind.c): X(ENUM, name, description). */
#define CP_FOREACH_WAKE_COUNTER(X)                                                                \
	X(WAKE_CALLS, wake_calls, "INVITEs from the PBX taken on the wake path (held or forked)") \
	X(WAKE_PUSHES, wake_pushes, "VoIP pushes sent for held calls (once per device and call)") \
	X(WAKE_BRANCHES, wake_branches, "INVITEs sent to devices on the wake path")               \
	X(WAKE_WOKEN, wake_woken, "devices woken: an accepted REGISTER released a held INVITE")   \
	X(WAKE_ANSWERED, wake_answered, "wake-path calls a device answered (2xx forwarded)")      \
	X(WAKE_TIMED_OUT, wake_timed_out,                                                         \
	  "wake-path calls answered 480: no device registered within wake.timeout_s")             \
	X(WAKE_REJECTED, wake_rejected,                                                           \
	  "wake-path calls answered 480 at once: every push was refused or its token dead")       \
	X(WAKE_CANCELLED, wake_cancelled, "wake-path calls the PBX cancelled (487)")              \
	X(WAKE_FAILED, wake_failed, "wake-path calls every device refused (best answer relayed)") \
	X(WAKE_NO_DEVICE, wake_no_device,                                                         \
	  "wake-path calls answered 480 at once: no device to push or to call")                   \
	X(WAKE_RING_FULL, wake_ring_full,                                                         \
	  "wake-path calls answered 503: the ring to pushd was full")                             \
	X(WAKE_SHUTDOWN, wake_shutdown, "held calls answered 503 because sipwake stopped")        \
	X(WAKE_INTERRUPTED, wake_interrupted,                                                     \
	  "held calls a crash cut off, answered 480 from the journal at the next start")          \
	X(WAKE_RETRANSMISSIONS, wake_retransmissions,                                             \
	  "PBX INVITE and MESSAGE retransmissions absorbed (answered again, never pushed again)") \
	X(WAKE_DEAD_TOKENS, wake_dead_tokens,                                                     \
	  "tokens the push service said are dead (a device keeps its other token)")               \
	X(WAKE_LATE_CANCELS, wake_late_cancels,                                                   \
	  "devices woken after their call ended: given the INVITE, then CANCEL (every cause)")    \
	X(WAKE_LATE_EVICTED, wake_late_evicted,                                                   \
	  "ended calls kept for late devices, dropped to make room for a new call")               \
	X(WAKE_ALERTS, wake_alerts, "missed-call alert pushes for calls cancelled before wake")   \
	X(WAKE_MSG_HELD, wake_message_held,                                                       \
	  "MESSAGEs for asleep devices held while pushes wake them")                              \
	X(WAKE_MSG_PUSHES, wake_message_pushes,                                                   \
	  "alert pushes for held MESSAGEs (one per device while one of its MESSAGEs waits)")      \
	X(WAKE_MSG_DELIVERED, wake_message_delivered,                                             \
	  "held MESSAGEs a device accepted (its 2xx relayed to the PBX)")                         \
	X(WAKE_MSG_UNDELIVERED, wake_message_undelivered,                                         \
	  "held MESSAGEs answered an error: 480 (window over, no push) or the best refusal")      \
	X(WAKE_MSG_REFUSED, wake_message_refused,                                                 \
	  "MESSAGEs answered at once: 503 past wake.max_messages, 480 past max_messages_per_aor") \
	X(REFRESH_PUSHES, refresh_pushes, "background pushes sent before a binding expires")      \
	X(REFRESH_NO_TOKEN, refresh_no_token,                                                     \
	  "refresh pushes not sent: no live token takes a background push (a VoIP token alone)")  \
	X(CALLS_480, calls_480,                                                                   \
	  "other requests from the PBX for asleep devices or forks, answered 480")

/** What the control plane did: X(ENUM, name, description). */
#define CP_FOREACH_COUNTER(X)                                                                    \
	X(ARP_ANSWERED, arp_answered, "ARP requests for our addresses answered")                 \
	X(ND_ANSWERED, nd_answered, "IPv6 neighbour solicitations for our addresses answered")   \
	X(NEIGH_LEARNED, neigh_learned, "neighbours learned or changed MAC")                     \
	X(NEIGH_PROBES, neigh_probes, "ARP requests and neighbour solicitations sent")           \
	X(NEIGH_HELD_SENT, neigh_held_sent, "held packets sent once their next hop resolved")    \
	X(SIP_UP_REQUESTS, sip_up_requests, "SIP requests handed up by the workers")             \
	X(CONFIG_RELOADS, config_reloads, "config reloads applied (SIGHUP or /sipwake/reload)")  \
	X(CONFIG_RELOAD_REFUSED, config_reload_refused,                                          \
	  "config reloads refused: the new file did not load, the running config stays")         \
	X(SIP_UP_RESPONSES, sip_up_responses, "SIP responses handed up by the workers")          \
	X(TX_FRAGMENTED, tx_fragmented_cp, "datagrams the control plane sent as IP fragments")   \
	X(REG_RELAYED, reg_relayed, "REGISTER requests relayed to the PBX")                      \
	X(REG_PUSH_UNKNOWN, reg_push_unknown,                                                    \
	  "REGISTERs relayed with a push provider sipwake cannot push to (never woken)")         \
	X(PUSH_KEY_RELAYED, push_key_relayed,                                                    \
	  "REGISTERs relayed carrying a push key over TLS / WSS (the key kept, not relayed)")    \
	X(PUSH_KEY_REFUSED, push_key_refused,                                                    \
	  "REGISTERs refused (403 Push Key Needs TLS): a push key over UDP, TCP or WS")          \
	X(PUSH_KEY_BAD, push_key_bad,                                                            \
	  "REGISTERs refused (400 Bad Push Key): not base64url of 32 bytes, or given twice")     \
	X(REG_PUSH_WEBPUSH_BAD, reg_push_webpush_bad,                                            \
	  "REGISTERs relayed with a Web Push subscription sipwake cannot use (bad endpoint URL " \
	  "or keys; never woken)")                                                               \
	X(REG_RETRANSMITTED, reg_retransmitted,                                                  \
	  "REGISTER retransmissions from apps resent on their pending transaction, or held")     \
	X(REG_ANSWER_REPEATED, reg_answer_repeated,                                              \
	  "REGISTER retransmissions answered again with their final answer (Timer J)")           \
	X(REG_2XX, reg_2xx, "2xx answers to relayed REGISTERs")                                  \
	X(REG_ANSWER_UNBOUND, reg_answer_unbound,                                                \
	  "2xx relayed to apps without a binding: sipwake could not read what they grant")       \
	X(REG_CHALLENGED, reg_challenged, "401 / 407 challenges relayed to apps")                \
	X(REG_REJECTED, reg_rejected, "other final non-2xx answers relayed to apps")             \
	X(REG_TIMEOUTS, reg_timeouts, "relayed REGISTERs the PBX never answered (408 to app)")   \
	X(PBX_FAILOVERS, pbx_failovers, "moves to the next pbx.servers entry")                   \
	X(PBX_CHECKS_ANSWERED, pbx_checks_answered, "PBX health-check OPTIONS answered")         \
	X(PBX_DOWN, pbx_down, "times a pbx.servers entry left its health check unanswered")      \
	X(PEER_CHECKS_ANSWERED, peer_checks_answered,                                            \
	  "health-check OPTIONS answered by other edges (cluster.peers)")                        \
	X(PEER_DOWN, peer_down, "times another edge stopped answering: its devices wake here")   \
	X(WAKE_VIA_PEER, wake_via_peer,                                                          \
	  "held INVITEs sent to a device through the edge it is bound through")                  \
	X(BINDINGS_CREATED, bindings_created, "devices bound (PBX accepted a new registration)") \
	X(BINDINGS_REFRESHED, bindings_refreshed, "bindings refreshed or moved to a new source") \
	X(BINDINGS_REMOVED, bindings_removed, "bindings removed by de-registration")             \
	X(BINDINGS_EXPIRED, bindings_expired, "bindings removed because they expired")           \
	X(BINDINGS_LOADED, bindings_loaded, "bindings loaded from the store at start")           \
	X(BINDINGS_REMOTE, bindings_remote,                                                      \
	  "other edges' binding changes applied to the tables (cluster)")                        \
	X(BINDINGS_REMOTE_UNKNOWN_EDGE, bindings_remote_unknown_edge,                            \
	  "other edges' changes from an edge not in cluster.peers (reached from here)")          \
	X(BINDINGS_REMOTE_STALE, bindings_remote_stale,                                          \
	  "other edges' changes older than the binding here (newest wins; skipped)")             \
	X(PINGS_SENT, pings_sent, "OPTIONS pings sent to bound devices")                         \
	X(PONGS, pongs, "answers to our OPTIONS pings")                                          \
	X(PONGS_UNKNOWN_CONTACT, pongs_unknown_contact,                                          \
	  "ping answers (404, 410, 481) saying the contact is unknown there: device asleep")     \
	CP_FOREACH_WAKE_COUNTER(X)                                                               \
	X(AUTH_BANS, auth_bans, "sources banned for failing authentication")                     \
	X(TAP_TO_KERNEL, tap_to_kernel,                                                          \
	  "TCP segments the workers passed, written into a tap to the kernel (exception path)")  \
	X(TAP_FROM_KERNEL, tap_from_kernel,                                                      \
	  "TCP segments the kernel sent on a tap, sent out of the DPDK port")                    \
	X(STREAM_MSGS_IN, stream_msgs_in, "SIP messages taken from stream connections")          \
	X(STREAM_MSGS_OUT, stream_msgs_out, "SIP messages queued down stream connections")       \
	X(STREAM_TO_PBX, stream_to_pbx,                                                          \
	  "requests and answers of stream devices relayed to the PBX (statelessly)")             \
	X(STREAM_TO_DEVICE, stream_to_device,                                                    \
	  "in-dialog requests and answers of the PBX relayed down a device's connection")        \
	X(STREAM_CLOSED_ASLEEP, stream_closed_asleep,                                            \
	  "devices made asleep at once because their connection closed")                         \
	X(STREAM_KEEPALIVE_PONGS, stream_keepalive_pongs,                                        \
	  "OPTIONS to sipwake over a stream answered 200")

/** Why the control plane dropped something: X(ENUM, name, description). */
#define CP_FOREACH_DROP(X)                                                                      \
	X(NEIGH_UNRESOLVED, neigh_unresolved, "held packets dropped: next hop never answered")  \
	X(NEIGH_HOLD_FULL, neigh_hold_full,                                                     \
	  "packets dropped: too many held for one next hop, or too many next hops pending")     \
	X(NEIGH_STRANGER_UNHELD, neigh_stranger_unheld,                                         \
	  "answers to unknown sources not held while their next hop resolves (they ask again)") \
	X(NEIGH_TABLE_FULL, neigh_table_full, "neighbours not learned: table full")             \
	X(NEIGH_INVALID, neigh_invalid,                                                         \
	  "ARP / ND ignored: malformed options, foreign subnet, or unsolicited")                \
	X(DOWN_RING_FULL, down_ring_full, "frames dropped: ring to a worker full")              \
	X(CP_NO_MBUF, cp_no_mbuf, "packet pool empty when building a probe")                    \
	X(SIP_UNROUTED, sip_unrouted,                                                           \
	  "SIP handed up that no control-plane path takes (e.g. responses to nothing of ours)") \
	X(SIP_BAD_HANDOFF, sip_bad_handoff,                                                     \
	  "SIP ring entry whose offsets do not fit its mbuf (a worker bug; never expected)")    \
	X(CP_NO_ROUTE, cp_no_route,                                                             \
	  "control-plane datagrams with no interface toward the destination")                   \
	X(REG_NO_PBX, reg_no_pbx, "REGISTERs refused (503): no pbx.servers configured")         \
	X(REG_PENDING_FULL, reg_pending_full,                                                   \
	  "REGISTERs refused (503): bindings.max_pending transactions already in flight")       \
	X(REG_TABLE_FULL, reg_table_full,                                                       \
	  "REGISTERs of new devices refused (503): bindings.max_devices reached")               \
	X(REG_BAD, reg_bad,                                                                     \
	  "REGISTERs refused (400): no AOR, a push address or contact sipwake cannot keep")     \
	X(REG_PUSH_BAD, reg_push_bad,                                                           \
	  "REGISTERs refused (400): a push address that reads more than one way or not at all") \
	X(REG_TOO_LARGE, reg_too_large, "REGISTERs refused (513): too large to relay")          \
	X(REG_LOOP, reg_loop, "REGISTERs refused (483): Max-Forwards reached 0")                \
	X(REG_STRAY_RESPONSE, reg_stray_response,                                               \
	  "answers to REGISTERs no longer pending (late, duplicate or forged)")                 \
	X(REG_BANNED, reg_banned, "REGISTERs from banned sources dropped")                      \
	X(STORE_ERRORS, store_errors, "binding store writes that failed (500 sent to the app)") \
	X(WAKE_HELD_FULL, wake_held_full,                                                       \
	  "INVITEs refused (503): wake.max_held calls already held")                            \
	X(WAKE_STRAY, wake_stray,                                                               \
	  "answers, CANCELs or ACKs for no call held (late, duplicate or forged)")              \
	X(TAP_TX_FULL, tap_tx_full,                                                             \
	  "TCP segments for the kernel a tap did not take (its queue full); freed")             \
	X(TAP_NOT_TCP, tap_not_tcp,                                                             \
	  "frames the kernel sent on a tap that are not TCP from our addresses (never sent)")   \
	X(STREAM_BAD_SIP, stream_bad_sip,                                                       \
	  "messages from a stream the scanner refused (connection closed)")                     \
	X(STREAM_NOT_BOUND, stream_not_bound,                                                   \
	  "requests over a stream from no bound device, not REGISTER (403)")                    \
	X(STREAM_NO_CONN, stream_no_conn,                                                       \
	  "messages for a device or app whose connection has closed (or no streams)")           \
	X(STREAM_RING_FULL, stream_ring_full,                                                   \
	  "messages not queued: the ring to the streams thread was full")                       \
	X(STREAM_NOT_OURS, stream_not_ours,                                                     \
	  "answers with no branch of ours, or requests a stream device may not send")

enum cp_counter {
#define CP_X_ENUM(e, name, desc) CP_C_##e,
	CP_FOREACH_COUNTER(CP_X_ENUM)
#undef CP_X_ENUM
		CP_C_MAX
};

enum cp_drop {
#define CP_X_ENUM(e, name, desc) CP_D_##e,
	CP_FOREACH_DROP(CP_X_ENUM)
#undef CP_X_ENUM
		CP_D_MAX
};

extern const char *const cp_counter_names[CP_C_MAX];
extern const char *const cp_counter_descs[CP_C_MAX];
extern const char *const cp_drop_names[CP_D_MAX];
extern const char *const cp_drop_descs[CP_D_MAX];

struct cp_ctx;

/**
 * Create the control plane for a started dataplane.
 * @param dp   borrowed; must outlive the result.
 * @param cfg  copied.
 * @return the context, or NULL (out of memory; logged).
 */
struct cp_ctx *cp_create(struct dp_link *dp, const struct cp_config *cfg);

struct st;
/**
 * The streams thread whose connections the control plane reads and writes
 * (docs/streams.md); NULL (the default): none, stream devices cannot be
 * reached. Before the loop runs; @p st outlives the control plane.
 */
void cp_set_streams(struct cp_ctx *cp, struct st *st);

/** Free the context and every packet it still holds. NULL is a no-op. */
void cp_free(struct cp_ctx *cp);

/**
 * Run the control-plane loop on the calling thread until *stop is true
 * (read atomically; a signal handler may set it). The caller is a
 * registered liburcu QSBR thread.
 */
void cp_run(struct cp_ctx *cp, const bool *stop);

struct cp_store;

/** Devices one held call reaches at most (an AOR's); dp_link.waking holds
 *  each of them and its AOR for every held call (wake.max_held). */
#define CP_CALL_MAX_DEVICES 8

/** Sources banned at once (dp_link.banned is created this large). */
#define CP_MAX_BANS 4096

/**
 * Persist bindings in @p store (taken: closed by cp_free()) and load what it
 * holds into the tables now. @return bindings loaded, or -errno.
 */
int cp_set_store(struct cp_ctx *cp, struct cp_store *store);

struct pd;

/**
 * Push through @p pd (borrowed; it must outlive the control plane): the wake
 * path's VoIP pushes, missed-call alerts and pre-expiry refreshes. Without it
 * a call for an asleep device is answered 480 at once.
 */
void cp_set_pushd(struct cp_ctx *cp, struct pd *pd);

/** Fill the workers' filter policy from a validated config (all of @p pol is written). */
void cp_policy_from_config(const struct cp_config *cfg, struct dp_policy *pol);

/** pbx.servers of @p cfg as dp_servers into @p out (DP_MAX_SERVERS slots). @return how many. */
unsigned cp_servers_from_config(const struct cp_config *cfg, struct dp_server *out);

/**
 * Where the config came from, for reloads (copied). Without it a reload
 * request is refused.
 */
void cp_set_config_file(struct cp_ctx *cp, const char *path);

/**
 * Ask the control plane to re-read its config file: async-signal-safe (a
 * SIGHUP handler calls it), the reload itself runs on the control-plane
 * thread at its next round. What can change live: pbx.sources, pbx.servers
 * and PBX timers, filter.* (but rate_sources), neighbours timers, log.level, the
 * wake timers, push credentials (pd_reload()); the rest needs a restart and
 * is reported as such. A file that does not load (a push key included) is
 * refused with its error and the running config stays in force.
 */
void cp_request_reload(void);

/** Register the /sipwake/... telemetry commands for @p cp. @return 0 or -errno. */
int cp_telemetry_register(struct cp_ctx *cp);

/** Current value of a control-plane counter / drop (relaxed read; telemetry). */
uint64_t cp_counter(const struct cp_ctx *cp, enum cp_counter c);
uint64_t cp_drop_count(const struct cp_ctx *cp, enum cp_drop d);

#endif /* CP_H */
