/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP on the worker: one datagram to the SIP port, in stages that each end
 * in a verdict (docs/design.md; the admission classes: docs/admission.md):
 *   keepalive  CRLF / STUN from a bound source: proof of life
 *   classify   PBX prefix, bound source (RCU table), or unknown
 *   junk       unknown sources: banned, responses, methods they may not
 *              send, scanners' User-Agent, all on the first bytes, before
 *              any scan or budget
 *   scan       full validation (sip/), the scanner's reason on failure
 *   admit      unknown sources: OPTIONS from the source's and the answers'
 *              budgets (before the scan), REGISTER after it: expected
 *              (names a bound device) or newcomer (dp_admit.c)
 *   act        answer OPTIONS for us | refuse (silent, or 403/503) |
 *              forward statelessly (dp_fwd.c) | hand up
 * The PBX and bound sources spend no budget. Whatever is answered or handed
 * up has been fully scanned first.
 * Measured (bench_dp, NIC checksums, TSC cycles per frame, L2-L4 included,
 * shared 2-vCPU VM at 2.25 GHz): 64-byte junk ~70, a scanner flood from 16
 * sources ~150 (their own buckets), from 4096 spoofed ones ~340 (the
 * User-Agent line), a 722-byte REGISTER from a bound device ~2.4k, a 1 KB
 * INVITE from the PBX handed up ~2.1k.
 * What the workers cannot forward statelessly (REGISTER, the wake path,
 * forks, the control plane's own transactions) goes up to the control plane.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/dp_internal.h"

/* What the first bytes of a datagram say, before any scan. */
enum peek {
	PEEK_REGISTER,
	PEEK_OPTIONS,
	PEEK_RESPONSE,
	PEEK_OTHER,
};

/* ~5 cycles: one 8-byte compare after the CRLFs §7.5 lets precede a start line. */
static inline enum peek peek_start(const uint8_t *p, uint16_t len)
{
	uint16_t i = 0;

	while (i < len && i < 8 && (p[i] == '\r' || p[i] == '\n'))
		i++;
	p += i;
	len = (uint16_t)(len - i);
	if (len >= 9 && memcmp(p, "REGISTER ", 9) == 0)
		return PEEK_REGISTER;
	if (len >= 8 && memcmp(p, "OPTIONS ", 8) == 0)
		return PEEK_OPTIONS;
	if (len >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
		return PEEK_RESPONSE;
	return PEEK_OTHER;
}

static bool only_crlf(const uint8_t *p, uint16_t len)
{
	for (uint16_t i = 0; i < len; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/*
 * A request the filter refuses (from an unknown source): dropped and counted
 * under @why, and answered with @status when the policy asks for answers and
 * filter.answer_rate allows one (@charged: this request already paid for
 * it). An answer needs the request scanned; one that does not scan is
 * dropped without answer (still under @why: the policy, not the syntax,
 * refused it). ACK is never answered (§17.1.1.3).
 */
static void refuse(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
		   const struct dp_l4info *from, const uint8_t *msg, uint16_t len, bool scanned,
		   enum dp_drop why, uint16_t status, bool charged)
{
	const struct dp_policy *pol = s->pol;
	bool answer = status == 403 ? pol->reply_403 : pol->reply_503;

	if (!scanned)
		s->sip = &DP_META(m)->sip;
	/* Scanners are never answered, whatever refused them. */
	if (answer && (scanned || sip_scan(msg, len, s->sip) == SIP_SCAN_OK) &&
	    s->sip->is_request && s->sip->method != SIP_M_ACK &&
	    !dp_ua_is_scanner(pol, msg, s->sip->user_agent)) {
		if (!charged && !dp_admit_answer(s, DP_META(m)->rx_tsc))
			dp_count(s->ctr, DP_C_ANSWERS_SUPPRESSED, 1);
		else if (dp_sip_respond(s, ifx, from, msg, status, true) == 0)
			dp_count(s->ctr, status == 403 ? DP_C_SIP_403_SENT : DP_C_SIP_503_SENT, 1);
	}
	dp_drop(s, m, why);
}

/* The mbuf and its scan result go up as one ring entry (docs/design.md §7). */
static void hand_up_sip(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
			const struct dp_l4info *from, const uint8_t *msg, uint16_t len,
			enum dp_src_class cls, const struct sw_src *bound)
{
	struct dp_meta *meta = DP_META(m);

	meta->sip_off = (uint16_t)(msg - rte_pktmbuf_mtod(m, const uint8_t *));
	meta->sip_len = len;
	meta->src_class = (uint8_t)cls;
	meta->v6 = from->v6;
	meta->sport = from->sport;
	meta->src = from->src;
	meta->dst = from->dst;
	meta->device_id = bound != NULL ? bound->device_id : 0;
	meta->tp = SW_TP_UDP;
	meta->local_port = 0;
	meta->conn = 0;
	/* meta->sip already holds the scan: dp_sip_input scanned into it. */
	dp_count(s->ctr, DP_C_SIP_HANDED_UP, 1);
	dp_hand_up(s, ifx, m, DP_UP_SIP);
}

static void keepalive(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
		      const struct dp_l4info *from, const uint8_t *p, uint16_t len, bool stun)
{
	struct sw_src *bound = sw_src_lookup(s->ctx->src, &from->src, from->sport);
	int rc;

	if (bound == NULL) {
		dp_drop(s, m, DP_D_KEEPALIVE_UNBOUND);
		return;
	}
	if (!stun) {
		/* RFC 5626 §4.4.1 defines the CRLF pong for streams only: over UDP, no answer. */
		sw_src_touch(bound, DP_META(m)->rx_tsc);
		dp_count(s->ctr, DP_C_KEEPALIVE_CRLF, 1);
		rte_pktmbuf_free(m);
		return;
	}
	rc = dp_stun_answer(s, ifx, from, p, len);
	if (rc != 0) {
		dp_drop(s, m, rc == -ENOMEM ? DP_D_NO_MBUF : DP_D_STUN_MALFORMED);
		return;
	}
	sw_src_touch(bound, DP_META(m)->rx_tsc);
	dp_count(s->ctr, DP_C_KEEPALIVE_STUN, 1);
	rte_pktmbuf_free(m);
}

void dp_sip_input(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
		  const struct dp_l4info *from, const uint8_t *msg, uint16_t len)
{
	const struct dp_policy *pol = s->pol;
	struct sw_src *bound = NULL;
	enum dp_src_class cls;
	enum sip_verdict v;
	enum dp_drop why;
	enum peek pk = PEEK_OTHER;
	bool charged = false;

	if (len > 0 && len <= 4 && only_crlf(msg, len)) {
		keepalive(s, ifx, m, from, msg, len, false);
		return;
	}
	if (dp_is_stun(msg, len)) {
		keepalive(s, ifx, m, from, msg, len, true);
		return;
	}
	/* Junk of any source is judged on its first bytes (~10 cycles), before
	 * the source table is looked at: the scanner's own reason. */
	if (!sip_plausible(msg, len)) {
		dp_drop(s, m, DP_D_BAD_START_LINE);
		return;
	}
	cls = dp_src_classify(s, from, &bound);
	switch (cls) {
	case DP_SRC_PBX:
		dp_count(s->ctr, DP_C_SIP_FROM_PBX, 1);
		break;
	case DP_SRC_PEER:
		dp_count(s->ctr, DP_C_SIP_FROM_PEER, 1);
		break;
	case DP_SRC_BOUND:
		/* Any datagram from a bound source proves the device is awake. */
		sw_src_touch(bound, DP_META(m)->rx_tsc);
		dp_count(s->ctr, DP_C_SIP_FROM_BOUND, 1);
		break;
	default:
		dp_count(s->ctr, DP_C_SIP_FROM_UNKNOWN, 1);
		/* A source the PBX kept refusing is dropped here, before it costs
		 * a scan or a round trip (the control plane bans, workers read). */
		/* ~60 cycles when anyone is banned, one load when nobody is
		 * (bench_dp --mix scanner-flood). */
		if (s->ctx->banned != NULL && sw_src_count(s->ctx->banned) != 0) {
			const struct sw_src *b = sw_src_lookup(s->ctx->banned, &from->src, 0);

			if (b != NULL && sw_src_last_alive(b) > DP_META(m)->rx_tsc) {
				dp_drop(s, m, DP_D_FILTER_BANNED);
				return;
			}
		}
		/* Unknown sources may only REGISTER, or OPTIONS sipwake itself:
		 * judged on the first bytes, before any scan or budget. */
		pk = peek_start(msg, len);
		if (pk == PEEK_RESPONSE) {
			dp_drop(s, m, DP_D_FILTER_UNKNOWN_RESPONSE);
			return;
		}
		if (pk == PEEK_OTHER) {
			refuse(s, ifx, m, from, msg, len, false, DP_D_FILTER_UNKNOWN_REQUEST, 403,
			       false);
			return;
		}
		/* OPTIONS only ever gets an answer: first its source's own bucket
		 * (~20 cycles: a scanner hammering from one address stops here),
		 * which no other source shares. */
		if (pk == PEEK_OPTIONS) {
			why = dp_admit_source(s, &from->src, DP_META(m)->rx_tsc);
			if (why != DP_D_MAX) {
				refuse(s, ifx, m, from, msg, len, false, why, 503, false);
				return;
			}
		}
		/* A scanner names itself in its User-Agent line: dropped before
		 * it spends a budget a woken app or a newcomer needs. */
		if (dp_ua_is_scanner_raw(pol, msg, len)) {
			dp_drop(s, m, DP_D_FILTER_SCANNER);
			return;
		}
		if (pk == PEEK_OPTIONS) {
			/* Then the answers' budget, before the scan. */
			if (!dp_admit_answer(s, DP_META(m)->rx_tsc)) {
				dp_drop(s, m, DP_D_FILTER_RATE_ANSWER);
				return;
			}
			charged = true;
		}
		/* A REGISTER is scanned first: it may name a bound device (a
		 * woken app on a new address), which has a budget of its own. */
		break;
	}

	/* Scan straight into the mbuf's private area, where a hand-up needs it. */
	s->sip = &DP_META(m)->sip;
	v = sip_scan(msg, len, s->sip);
	if (v != SIP_SCAN_OK) {
		dp_drop(s, m, dp_drop_of_sip(v));
		return;
	}
	/* Scanners are never answered: an answer confirms there is a SIP server
	 * here. Only unknown sources are checked: the PBX and bound devices
	 * (registered with the PBX's credentials) have shown who they are. */
	if (cls == DP_SRC_UNKNOWN && dp_ua_is_scanner(pol, msg, s->sip->user_agent)) {
		dp_drop(s, m, DP_D_FILTER_SCANNER);
		return;
	}
	/* Monitoring probes often name a user ("sip:ping@edge"): from the PBX
	 * or a stranger that is still sipwake; a bound device's "sip:bob@edge"
	 * is a request for bob, which goes to the PBX. */
	if (s->sip->is_request && s->sip->method == SIP_M_OPTIONS &&
	    dp_ruri_is_us(&s->ctx->p, msg, s->sip, cls != DP_SRC_BOUND)) {
		int rc = dp_sip_respond(s, ifx, from, msg, 200, cls == DP_SRC_UNKNOWN);

		if (rc != 0) {
			dp_drop(s, m, rc == -ENOMEM ? DP_D_NO_MBUF : DP_D_SIP_REPLY_TOO_LARGE);
			return;
		}
		dp_count(s->ctr, DP_C_SIP_OPTIONS_ANSWERED, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (cls == DP_SRC_UNKNOWN && s->sip->method != SIP_M_REGISTER) {
		/* OPTIONS for someone else (the peek let OPTIONS through for us). */
		refuse(s, ifx, m, from, msg, len, true, DP_D_FILTER_UNKNOWN_REQUEST, 403, charged);
		return;
	}
	if (cls == DP_SRC_UNKNOWN) {
		why = dp_admit_register(s, &from->src, msg, DP_META(m)->rx_tsc);
		if (why != DP_D_MAX) {
			refuse(s, ifx, m, from, msg, len, true, why, 503, false);
			return;
		}
	}
	/* Forward statelessly what the workers can (dp_fwd.c): responses by
	 * their top Via, requests of the PBX and of bound devices. REGISTER is
	 * a transaction of the control plane's (docs/design.md §7). */
	/* The forward stage names the device in its Record-Route and trace. */
	DP_META(m)->device_id = bound != NULL ? bound->device_id : 0;
	if (!s->sip->is_request) {
		if (dp_fwd_response(s, ifx, m, from, msg, cls) == DP_FWD_DONE)
			return;
	} else if (s->sip->method != SIP_M_REGISTER) {
		if (dp_fwd_request(s, ifx, m, from, msg, cls) == DP_FWD_DONE)
			return;
	}
	hand_up_sip(s, ifx, m, from, msg, len, cls, bound);
}
