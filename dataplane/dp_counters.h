/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Worker counters: one list, one struct per worker lcore.
 *
 * Each worker writes only its own cache-aligned block (no shared written
 * line, no atomics beyond relaxed single-writer stores); telemetry sums the
 * blocks with relaxed loads. Names come from the X-macro lists below, so the
 * code, `/sipwake/stats` and the docs cannot drift apart (VPP's
 * foreach_*_error).
 */
#ifndef DP_COUNTERS_H
#define DP_COUNTERS_H

#include <stdint.h>

#include <rte_common.h>

#include "sip/sip_scan.h"

/** What workers did: X(ENUM, name, description). */
#define DP_FOREACH_COUNTER(X)                                                                     \
	X(RX_PACKETS, rx_packets, "frames received from the ports")                               \
	X(RX_BYTES, rx_bytes, "bytes received from the ports")                                    \
	X(TX_PACKETS, tx_packets, "frames the ports accepted for transmission")                   \
	X(TX_BYTES, tx_bytes, "bytes the ports accepted for transmission")                        \
	X(TX_FAILED, tx_failed, "frames the port refused (TX queue full); freed")                 \
	X(ICMP_ECHO_ANSWERED, icmp_echo_answered, "ICMP / ICMPv6 echo requests answered")         \
	X(IP_FRAGMENTS, ip_fragments, "IPv4 / IPv6 fragments received for reassembly")            \
	X(IP_REASSEMBLED, ip_reassembled, "datagrams reassembled from fragments")                 \
	X(SIP_RX, sip_rx, "UDP datagrams received on the SIP port")                               \
	X(SIP_OPTIONS_ANSWERED, sip_options_answered, "OPTIONS to sipwake itself answered 200")   \
	X(SIP_FROM_PBX, sip_from_pbx, "SIP datagrams from a pbx.sources address")                 \
	X(SIP_FROM_BOUND, sip_from_bound, "SIP datagrams from the source of a bound device")      \
	X(SIP_FROM_PEER, sip_from_peer, "SIP datagrams from another edge (cluster.peers)")        \
	X(SIP_FROM_UNKNOWN, sip_from_unknown, "SIP datagrams from any other source")              \
	X(SIP_HANDED_UP, sip_handed_up, "valid SIP messages handed to the control plane")         \
	X(SIP_REG_EXPECTED, sip_reg_expected,                                                     \
	  "REGISTERs from new addresses naming a bound device (push address, +sip.instance), "    \
	  "admitted as expected")                                                                 \
	X(SIP_REG_WOKEN, sip_reg_woken,                                                           \
	  "of sip_reg_expected: from a device a held call pushed and waits for")                  \
	X(SIP_REG_AOR_WAKING, sip_reg_aor_waking,                                                 \
	  "REGISTERs from new addresses for an AOR a held call waits on, admitted as expected")   \
	X(SIP_REG_NEWCOMER, sip_reg_newcomer,                                                     \
	  "REGISTERs from new addresses naming no bound device, admitted as newcomers")           \
	X(ANSWERS_SUPPRESSED, answers_suppressed,                                                 \
	  "403 / 503 to unknown sources not sent: filter.answer_rate spent")                      \
	X(SIP_403_SENT, sip_403_sent, "requests refused with a stateless 403 (filter.reply_403)") \
	X(SIP_503_SENT, sip_503_sent, "requests refused with a stateless 503 (filter.reply_503)") \
	X(SIP_404_SENT, sip_404_sent, "initial requests from the PBX for no bound device, 404")   \
	X(SIP_481_SENT, sip_481_sent, "in-dialog requests or CANCEL for no bound device, 481")    \
	X(SIP_483_SENT, sip_483_sent, "requests to forward with Max-Forwards 0, 483")             \
	X(FWD_REQUESTS_TO_DEVICE, fwd_requests_to_device,                                         \
	  "requests from the PBX forwarded statelessly to an alive device")                       \
	X(FWD_TO_PEER, fwd_to_peer,                                                               \
	  "requests for a device bound through another edge, relayed to that edge")               \
	X(FWD_REQUESTS_TO_PBX, fwd_requests_to_pbx,                                               \
	  "requests from bound devices forwarded statelessly to the PBX")                         \
	X(FWD_RESPONSES, fwd_responses,                                                           \
	  "responses to statelessly forwarded requests, forwarded to their next Via")             \
	X(FWD_ASLEEP_HANDED_UP, fwd_asleep_handed_up,                                             \
	  "requests for a device that is asleep, handed up (the wake path)")                      \
	X(FWD_FORK_HANDED_UP, fwd_fork_handed_up,                                                 \
	  "requests for an AOR with several devices, handed up (the control plane forks)")        \
	X(FWD_HELD_HANDED_UP, fwd_held_handed_up,                                                 \
	  "PBX INVITE retransmissions, CANCELs and ACKs of calls the control plane holds, "       \
	  "handed up")                                                                            \
	X(FWD_POLICY_HANDED_UP, fwd_policy_handed_up,                                             \
	  "initial INVITEs handed up by wake.policy always-push / parallel")                      \
	X(FWD_STREAM_HANDED_UP, fwd_stream_handed_up,                                             \
	  "requests for a device bound over TCP / TLS / WS, handed up (its connection)")          \
	X(TRACE_LOST, trace_lost,                                                                 \
	  "per-call trace events lost: the worker's trace ring to the control plane was full")    \
	X(TX_FRAGMENTED, tx_fragmented,                                                           \
	  "forwarded datagrams larger than the MTU, sent fragmented")                             \
	X(TX_FRAGMENTS, tx_fragments, "IP fragments sent for them")                               \
	X(KEEPALIVE_CRLF, keepalive_crlf, "CRLF keepalives from bound devices (proof of life)")   \
	X(KEEPALIVE_STUN, keepalive_stun,                                                         \
	  "STUN binding requests from bound devices, answered (RFC 5626 s4.4.2)")                 \
	X(HANDED_UP, handed_up,                                                                   \
	  "packets handed to the control plane (ARP, ND, unresolved next hop, SIP)")              \
	X(TCP_TO_KERNEL, tcp_to_kernel,                                                           \
	  "TCP segments for a streams.ports port put on the ring to the kernel (exception path)") \
	X(TCP_SYN_PROOFS, tcp_syn_proofs,                                                         \
	  "RSTs with a SYN challenge's cookie: the source proven for 60 s (taken here)")          \
	X(TCP_SYN_PROVEN, tcp_syn_proven,                                                         \
	  "SYNs let in past a spent streams.syn_global_rate: their source was proven")

/**
 * Why workers dropped a packet: X(ENUM, name, description). The SIP
 * scanner's reasons (SIP_FOREACH_ERROR) are part of this list; their
 * enum names are DP_D_<reason> (DP_D_TRUNCATED, ...), counters sip_<reason>.
 */
#define DP_FOREACH_DROP(X)                                                                       \
	X(L2_TRUNCATED, l2_truncated, "frame shorter than its Ethernet header")                  \
	X(L2_OTHER_HOST, l2_other_host,                                                          \
	  "destination MAC is neither ours, broadcast nor multicast")                            \
	X(L2_VLAN, l2_vlan,                                                                      \
	  "VLAN tag missing, of another VLAN, stacked (QinQ), or on an untagged interface")      \
	X(L2_ETHERTYPE, l2_ethertype, "ethertype other than ARP, IPv4, IPv6")                    \
	X(L2_MULTISEG, l2_multiseg, "frame spread over several mbufs")                           \
	X(RX_TRUNCATED, rx_truncated,                                                            \
	  "frame cut by the port: longer than it takes whole (net_af_packet framesz)")           \
	X(ARP_MALFORMED, arp_malformed, "ARP that is not Ethernet/IPv4 or is truncated")         \
	X(ARP_NOT_FOR_US, arp_not_for_us, "ARP whose target is not one of our addresses")        \
	X(IP_MALFORMED, ip_malformed, "IP header truncated, bad version, length or checksum")    \
	X(IP_MARTIAN, ip_martian, "source address that cannot be a peer (multicast, ours, ...)") \
	X(IP_NOT_FOR_US, ip_not_for_us, "destination address is not one of ours")                \
	X(IP_FRAG_TIMEOUT, ip_frag_timeout,                                                      \
	  "fragments of datagrams not complete within dataplane.reassembly_timeout_ms")          \
	X(IP_FRAG_REJECTED, ip_frag_rejected,                                                    \
	  "fragments refused by reassembly: overlapping, more than 8, or table full")            \
	X(IP_FRAG_DUPLICATE, ip_frag_duplicate,                                                  \
	  "exact duplicates of a fragment already held, dropped; the datagram still completes")  \
	X(IP_FRAG_TOO_BIG, ip_frag_too_big, "reassembled datagram larger than 16 KiB")           \
	X(IP_OPTIONS, ip_options, "IPv6 extension header")                                       \
	X(IP_PROTO, ip_proto, "IP protocol other than UDP, TCP, ICMP echo, ICMPv6 echo / ND")    \
	X(ICMP_MALFORMED, icmp_malformed, "ICMP / ICMPv6 truncated or with a bad checksum")      \
	X(ICMP_OTHER, icmp_other, "ICMP / ICMPv6 message we do not answer")                      \
	X(UDP_MALFORMED, udp_malformed, "UDP header truncated or length inconsistent with IP")   \
	X(UDP_CHECKSUM, udp_checksum, "UDP checksum wrong (or zero over IPv6)")                  \
	X(UDP_PORT, udp_port, "UDP to a port other than the SIP port")                           \
	X(TCP_MALFORMED, tcp_malformed,                                                          \
	  "TCP header truncated or its length wrong, or TCP in IP fragments")                    \
	X(TCP_PORT, tcp_port, "TCP to a port not in streams.ports (all TCP when it is empty)")   \
	X(TCP_BANNED, tcp_banned, "TCP from a source banned for failing authentication")         \
	X(TCP_SYN_RATE_SOURCE, tcp_syn_rate_source,                                              \
	  "SYN from a source that is not the PBX over streams.syn_rate for its IP")              \
	X(TCP_SYN_RATE_GLOBAL, tcp_syn_rate_global,                                              \
	  "SYN from a source that is not the PBX over streams.syn_global_rate (the box)")        \
	X(TCP_SYN_CHALLENGED, tcp_syn_challenged,                                                \
	  "SYN over streams.syn_global_rate from a source not proven: challenged")               \
	X(TCP_KERNEL_RING_FULL, tcp_kernel_ring_full,                                            \
	  "TCP for a stream port dropped: the ring to the kernel (exception path) full")         \
	X(KEEPALIVE_UNBOUND, keepalive_unbound,                                                  \
	  "CRLF keepalive or STUN request from a source with no binding")                        \
	X(STUN_MALFORMED, stun_malformed, "STUN message that is not a valid binding request")    \
	X(FILTER_UNKNOWN_REQUEST, filter_unknown_request,                                        \
	  "request from an unknown source other than REGISTER or OPTIONS to sipwake")            \
	X(FILTER_UNKNOWN_RESPONSE, filter_unknown_response,                                      \
	  "SIP response from a source that is neither the PBX nor a bound device")               \
	X(FILTER_RATE_SOURCE, filter_rate_source,                                                \
	  "OPTIONS, or REGISTER naming no bound device, from an unknown source over "            \
	  "filter.unknown_rate for its IP")                                                      \
	X(FILTER_RATE_PREFIX, filter_rate_prefix,                                                \
	  "REGISTER naming no bound device over filter.unknown_prefix_rate for its /24 (IPv4) "  \
	  "or /48 (IPv6)")                                                                       \
	X(FILTER_RATE_GLOBAL, filter_rate_global,                                                \
	  "REGISTER naming no bound device over filter.unknown_global_rate (all such of the "    \
	  "box)")                                                                                \
	X(FILTER_RATE_EXPECTED, filter_rate_expected,                                            \
	  "REGISTER naming a bound device (or an AOR a held call waits on) over "                \
	  "filter.expected_rate for it")                                                         \
	X(FILTER_RATE_ANSWER, filter_rate_answer,                                                \
	  "OPTIONS or ICMP echo from an unknown source over filter.answer_rate (answers to "     \
	  "unknown sources)")                                                                    \
	X(FILTER_SCANNER, filter_scanner,                                                        \
	  "User-Agent matches filter.scanner_user_agents (never answered)")                      \
	X(FILTER_BANNED, filter_banned,                                                          \
	  "unknown source banned for failing authentication (pbx.auth_ban_*)")                   \
	SIP_FOREACH_ERROR(X)                                                                     \
	X(FWD_RESPONSE_NOT_OURS, fwd_response_not_ours,                                          \
	  "response whose top Via is not a branch of ours sipwake knows")                        \
	X(FWD_NO_DEVICE, fwd_no_device, "ACK from the PBX for no bound device (never answered)") \
	X(FWD_MAX_FORWARDS, fwd_max_forwards, "ACK with Max-Forwards 0 (never answered)")        \
	X(FWD_NOT_PBX_ROUTE, fwd_not_pbx_route,                                                  \
	  "a device's request or response routed to a host that is not the PBX (no relay)")      \
	X(FWD_NO_PBX, fwd_no_pbx, "a device's request with no PBX to go to (pbx.servers empty)") \
	X(FWD_TOO_LARGE, fwd_too_large, "message too large or too edited to forward")            \
	X(FWD_BAD_VIA, fwd_bad_via,                                                              \
	  "response whose next Via is missing, malformed, or names a host, not an address")      \
	X(SIP_REPLY_TOO_LARGE, sip_reply_too_large, "our answer would not fit in one frame")     \
	X(NO_ROUTE, no_route, "reply destination off-link and no gateway configured")            \
	X(NO_MBUF, no_mbuf, "packet pool empty when building an answer or a forwarded message")  \
	X(UP_RING_FULL, up_ring_full, "ring to the control plane full")

enum dp_counter {
#define DP_X_ENUM(e, name, desc) DP_C_##e,
	DP_FOREACH_COUNTER(DP_X_ENUM)
#undef DP_X_ENUM
		DP_C_MAX
};

enum dp_drop {
#define DP_X_ENUM(e, name, desc) DP_D_##e,
	DP_FOREACH_DROP(DP_X_ENUM)
#undef DP_X_ENUM
		DP_D_MAX
};

/** One worker's counters. Cache-aligned: no two workers write one line. */
struct dp_counters {
	uint64_t c[DP_C_MAX];
	uint64_t drop[DP_D_MAX];
} __rte_cache_aligned;

/** Drop reason for a scanner verdict (verdict != SIP_SCAN_OK). */
static inline enum dp_drop dp_drop_of_sip(enum sip_verdict v)
{
	return (enum dp_drop)(DP_D_TRUNCATED + (v - SIP_ERR_TRUNCATED));
}

/* Single writer: a relaxed load + store is all the worker needs, and it lets
 * telemetry read a whole value without a data race. ~1 cycle. */
static inline void dp_count(struct dp_counters *ctr, enum dp_counter c, uint64_t n)
{
	__atomic_store_n(&ctr->c[c], __atomic_load_n(&ctr->c[c], __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline void dp_count_drops(struct dp_counters *ctr, enum dp_drop d, uint64_t n)
{
	__atomic_store_n(&ctr->drop[d], __atomic_load_n(&ctr->drop[d], __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline void dp_count_drop(struct dp_counters *ctr, enum dp_drop d)
{
	dp_count_drops(ctr, d, 1);
}

/* The drop list must embed the scanner's reasons in their order. */
_Static_assert(DP_D_BAD_MAX_FORWARDS - DP_D_TRUNCATED ==
		       SIP_ERR_BAD_MAX_FORWARDS - SIP_ERR_TRUNCATED,
	       "DP_FOREACH_DROP must include SIP_FOREACH_ERROR whole");

#define DP_X_NAME(e, name, desc) #name,
#define DP_X_DESC(e, name, desc) desc,
/** Name of counter @p c (as /sipwake/stats shows it). */
static inline const char *dp_counter_name(enum dp_counter c)
{
	static const char *const names[DP_C_MAX] = {DP_FOREACH_COUNTER(DP_X_NAME)};

	return names[c];
}

/** What counter @p c counts (/sipwake/describe). */
static inline const char *dp_counter_desc(enum dp_counter c)
{
	static const char *const descs[DP_C_MAX] = {DP_FOREACH_COUNTER(DP_X_DESC)};

	return descs[c];
}

/** Name of drop reason @p d (/sipwake/stats shows it as drop_<name>). */
static inline const char *dp_drop_name(enum dp_drop d)
{
	static const char *const names[DP_D_MAX] = {DP_FOREACH_DROP(DP_X_NAME)};

	return names[d];
}

/** What drop reason @p d means. */
static inline const char *dp_drop_desc(enum dp_drop d)
{
	static const char *const descs[DP_D_MAX] = {DP_FOREACH_DROP(DP_X_DESC)};

	return descs[d];
}
#undef DP_X_NAME
#undef DP_X_DESC

/** Add one worker's live block into @p out (relaxed reads; safe while it runs). */
static inline void dp_counters_add(struct dp_counters *out, const struct dp_counters *blk)
{
	for (unsigned i = 0; i < DP_C_MAX; i++)
		out->c[i] += __atomic_load_n(&blk->c[i], __ATOMIC_RELAXED);
	for (unsigned i = 0; i < DP_D_MAX; i++)
		out->drop[i] += __atomic_load_n(&blk->drop[i], __ATOMIC_RELAXED);
}

#endif /* DP_COUNTERS_H */
