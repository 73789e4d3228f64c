/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A stateless response to a scanned request (RFC 3261 §8.2.6): the status
 * line, the Vias, From, To (tagged), Call-ID and CSeq of the request, the
 * caller's own header lines, and no body. The one builder under the workers'
 * answers (dataplane/dp_sip_reply.c: 200 to OPTIONS, 403, 503, 404, 481,
 * 483) and the control plane's (cp_answer(), controlplane/output/cp_msg.c).
 *
 * The two wrote their answers differently before they shared this code, and
 * each keeps its bytes exactly: struct sip_reply holds where they differ
 * (the top Via, header lines as written or rewritten, the To-tag, the lines
 * after CSeq). These are fixed per side, not choices made per message.
 */
#ifndef SIP_REPLY_H
#define SIP_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/sip_scan.h"
#include "sip/sip_wbuf.h"

/** What becomes of the request's top Via field in the response. */
enum sip_reply_via {
	/**
	 * RFC 3581 §4 applied to the top via-parm (the workers): a bare rport
	 * gets the source port, and received= is added when rport was asked
	 * for or the sent-by host is not the source address (RFC 3261
	 * §18.2.1). The via-parms after it in the field are copied.
	 */
	SIP_REPLY_VIA_RPORT,
	/**
	 * As SIP_REPLY_VIA_RPORT, with received= always (the control plane).
	 * It used to append received= and rport= to the whole field: a second
	 * rport (RFC 3581 asks for the value in place) that the scanner
	 * refuses (drop_sip_bad_via on the edge a peer answered), and on the
	 * field's last via-parm, not its top one.
	 */
	SIP_REPLY_VIA_STAMP,
	/** Left out: the top Via is our own (the control plane answers a
	 *  request it relayed itself). */
	SIP_REPLY_VIA_DROP,
};

/** The response sip_reply_write() builds. */
struct sip_reply {
	unsigned status;    /**< reason phrase: sip_reason() */
	uint8_t top_via;    /**< enum sip_reply_via */
	const char *source; /**< the request's source address as received= writes it */
	uint16_t sport;	    /**< the request's source port */
	/**
	 * true (the control plane): the Via, From, To, Call-ID and CSeq lines
	 * copied as written, in the request's order. false (the workers):
	 * rewritten as "Name: value", every Via first, then From, To, Call-ID
	 * and "CSeq: <number> <method>".
	 */
	bool as_written;
	bool tag; /**< add ";tag=sw<to_tag, 8 hex digits>" to a To without a tag */
	uint32_t to_tag;
	const char *extra;  /**< header lines ending in CRLF, before Content-Length; or NULL */
	const char *reason; /**< reason phrase; NULL: sip_reason() of status */
};

/**
 * Append the response @p r describes to the request at @p msg (borrowed),
 * scanned as @p sm, to @p w.
 * @return 0, or -EMSGSIZE when it did not fit (w->overflow is set).
 */
int sip_reply_write(struct sip_wbuf *w, const uint8_t *msg, const struct sip_msg *sm,
		    const struct sip_reply *r);

#endif /* SIP_REPLY_H */
