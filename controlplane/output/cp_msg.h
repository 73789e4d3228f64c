/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP messages the control plane writes (relayed REGISTERs, the answers
 * to them, its own requests): a bounded message built through the shared
 * writer (sip/sip_wbuf.h). An append that does not fit marks the message
 * failed and the caller refuses it (513) instead of sending a truncated one.
 */
#ifndef CP_MSG_H
#define CP_MSG_H

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/sw_hash.h"
#include "controlplane/cp_internal.h"
#include "sip/sip_wbuf.h"

/** A message of at most CP_MSG_MAX bytes. len and overflow are the shared
 *  writer's (struct sip_wbuf); zeroed, or with both reset, it is empty. */
struct cp_msg {
	uint16_t len;
	bool overflow;
	char b[CP_MSG_MAX];
};

/** The shared writer over @p o, where @p o stands; cp_msg_end() stores it back. */
static inline struct sip_wbuf cp_msg_w(struct cp_msg *o)
{
	return (struct sip_wbuf){
		.buf = o->b, .len = o->len, .cap = CP_MSG_MAX, .overflow = o->overflow};
}

static inline void cp_msg_end(struct cp_msg *o, const struct sip_wbuf *w)
{
	o->len = (uint16_t)w->len;
	o->overflow = w->overflow;
}

static inline void cp_msg_put(struct cp_msg *o, const void *p, size_t n)
{
	struct sip_wbuf w = cp_msg_w(o);

	sip_wbuf_put(&w, p, n);
	cp_msg_end(o, &w);
}

static inline void cp_msg_str(struct cp_msg *o, const char *s)
{
	cp_msg_put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static inline void cp_msg_fmt(struct cp_msg *o,
								    const char *fmt, ...)
{
	struct sip_wbuf w = cp_msg_w(o);
	va_list ap;

	va_start(ap, fmt);
	sip_wbuf_vfmt(&w, fmt, ap);
	va_end(ap);
	cp_msg_end(o, &w);
}

/** The value of 1..16 lowercase hex digits at @p p (our branches carry
 *  their transaction ids so). @return false on any other byte or length. */
static inline bool cp_hex_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		int c = p[i], d = c >= '0' && c <= '9'	 ? c - '0'
				  : c >= 'a' && c <= 'f' ? c - 'a' + 10
							 : -1;

		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

/** Append @p ip as a SIP host: dotted quad, or an IPv6 reference in [ ]. */
void cp_msg_host(struct cp_msg *o, const struct sw_ip *ip);

/**
 * ";received=" and @p ip appended: dotted quad, or an IPv6 address without
 * brackets. RFC 3261 §25.1 has via-received = IPv4address / IPv6address
 * (a Via's sent-by takes the IPv6reference, in brackets; received= does
 * not), and the workers write it so (dataplane/dp_fwd_hdrs.c,
 * dp_sip_reply.c): an app or PBX sees one form from this edge, whichever
 * path the message took. sipwake reads both (sw_ip_parse()).
 */
void cp_msg_received(struct cp_msg *o, const struct sw_ip *ip);

/** How cp_answer() writes and sends an answer. */
struct cp_answer_how {
	const struct sw_ip *stamp; /**< stamp the top Via with received= this (and rport=);
				    *   NULL: the top Via is ours, left out */
	uint16_t stamp_port;
	uint32_t tag;		 /**< To-tag (sw<hex>) when the request's To has none */
	const struct sw_ip *dst; /**< where the answer goes */
	uint16_t dport;
	uint8_t tp;	      /**< ... over this transport (enum sw_tp; 0: UDP) */
	uint64_t conn;	      /**< ... and connection, over a stream */
	bool no_tag;	      /**< no To-tag (100 Trying, §8.2.6.1) */
	uint16_t retry_after; /**< Retry-After seconds; 0: 30 on a 503, else none */
	const char *reason;   /**< reason phrase; NULL: the usual one for the status */
};

/**
 * A stateless answer (RFC 3261 §8.2.6) of ours to the scanned request at
 * @p msg: Vias, From, To (tagged), Call-ID, CSeq copied; Retry-After on 503.
 * Built by sip/sip_reply.h, the workers' builder, in the control plane's form.
 */
void cp_answer(struct cp_ctx *cp, const uint8_t *msg, const struct sip_msg *sm, unsigned status,
	       const struct cp_answer_how *how);

/** cp_answer() written into @p o, not sent (how->dst unused). @return 0 or -EMSGSIZE. */
int cp_answer_into(const uint8_t *msg, const struct sip_msg *sm, unsigned status,
		   const struct cp_answer_how *how, struct cp_msg *o);

/**
 * A response relayed one hop back (§16.7 step 3): the scanned response at
 * @p msg without its top via-parm (ours), @p extra (header lines, or NULL)
 * added before the empty line. @return 0 or -EMSGSIZE.
 */
int cp_msg_unvia(const uint8_t *msg, const struct sip_msg *sm, const char *extra, struct cp_msg *o);

/** What distinguishes one of our OPTIONS (a ping, a health check). */
struct cp_options {
	char kind;		 /**< letter after DP_BRANCH_CP: 'p' ping, 'h' health check */
	const char *branch_tail; /**< rest of the branch (hex: what the answer names) */
	const char *tag;	 /**< From tag */
	const char *ruri;	 /**< Request-URI; NULL: sip:<dst>:<dport> */
	const char *to;		 /**< To URI without "sip:" */
	const char *call_id;	 /**< Call-ID before "@sipwake" (new per request, §8.1.1.4) */
	uint32_t cseq;
};

/**
 * OPTIONS from sipwake (RFC 3261 §11) to @p dst:@p dport, whose answer a
 * worker hands up by its DP_BRANCH_CP branch.
 * @return 0, or -ENETUNREACH / -EMSGSIZE / -ENOMEM as cp_udp_send().
 */
int cp_send_options(struct cp_ctx *cp, const struct sw_ip *dst, uint16_t dport,
		    const struct cp_options *opt);

/** Slices sip_uri_without_pn() may give: a registered contact needs at most 7. */
#define CP_URI_PIECES 16

/**
 * @p uri (@p len bytes, borrowed) without its push parameters (RFC 8599
 * §4.1.2: pn-provider, pn-prid, pn-param, and the legacy pn-type, pn-tok and
 * app-id next to pn-type), other parameters and headers kept, into @p out
 * (NUL-terminated). What the control plane sends a request to when it
 * writes a device's contact as a Request-URI: sip_uri_without_pn(), the
 * workers' rule too.
 * @return the length, or -E2BIG (does not fit @p cap).
 */
int cp_uri_without_pn(const char *uri, size_t len, char *out, size_t cap);

/**
 * Our Via line (§16.6 step 8, RFC 7118 §5 for WS / WSS): "Via:
 * SIP/2.0/<transport> <our>:<port>;branch=<branch>", ";rport" over UDP.
 */
void cp_msg_via(struct cp_msg *o, uint8_t tp, const struct sw_ip *our, uint16_t port,
		const char *branch);

/**
 * One Record-Route line of ours (§16.6 step 4) naming device @p dev
 * (DP_ROUTE_DEVICE_PARAM), with ";transport=" for a stream: the form of
 * each of the two a request gets where its two sides' transports differ
 * (RFC 5658 §3.1).
 */
void cp_msg_rr(struct cp_msg *o, uint8_t tp, const struct sw_ip *our, uint16_t port, uint64_t dev);

/** A header field whole: its name through the end of its (folded) value. */
struct sip_slice cp_hdr_line(const struct sip_hdr *h);

#endif /* CP_MSG_H */
