/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stateless response to a scanned request (sip_reply.h): what the
 * workers and the control plane answer with, each with its own details.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sip/sip_reply.h"

/* The top via-parm with RFC 3581 §4 applied, copied param by param (they
 * are ';'-separated after the sent-by; a quoted ';' is no separator): a
 * valueless rport gets the source port in place, received= the source
 * address at its end when rport was asked for, the sent-by is not the
 * source (RFC 3261 §18.2.1) or @p always, unless it has one. */
static void via_rport(struct sip_wbuf *w, const uint8_t *msg, const struct sip_via *via,
		      const char *source, uint16_t sport, bool always)
{
	const char *v = (const char *)msg + via->value.off;
	uint32_t n = via->value.len, start = 0;
	bool in_quotes = false, first = true;

	for (uint32_t i = 0; i <= n; i++) {
		if (i < n && v[i] == '"')
			in_quotes = !in_quotes;
		if (i < n && (v[i] != ';' || in_quotes))
			continue;
		if (!first && i - start == 5 && strncasecmp(v + start, "rport", 5) == 0) {
			SIP_WBUF_LIT(w, "rport=");
			sip_wbuf_u32(w, sport);
		} else {
			sip_wbuf_put(w, v + start, i - start);
		}
		if (i < n)
			SIP_WBUF_LIT(w, ";");
		first = false;
		start = i + 1;
	}
	if (via->received.len == 0 &&
	    (always || via->rport >= 0 || via->host.len != strlen(source) ||
	     strncasecmp((const char *)msg + via->host.off, source, via->host.len) != 0)) {
		SIP_WBUF_LIT(w, ";received=");
		sip_wbuf_str(w, source);
	}
}

/* The first Via field, @p h: it holds the top via-parm (the scan's). */
static void top_via(struct sip_wbuf *w, const uint8_t *msg, const struct sip_msg *sm,
		    const struct sip_hdr *h, const struct sip_reply *r)
{
	uint32_t h_end = (uint32_t)h->value.off + h->value.len;
	uint32_t v_end = (uint32_t)sm->via.value.off + sm->via.value.len;

	switch (r->top_via) {
	case SIP_REPLY_VIA_RPORT:
	case SIP_REPLY_VIA_STAMP:
		SIP_WBUF_LIT(w, "Via: ");
		via_rport(w, msg, &sm->via, r->source, r->sport, r->top_via == SIP_REPLY_VIA_STAMP);
		sip_wbuf_put(w, msg + v_end, h_end - v_end);
		SIP_WBUF_LIT(w, "\r\n");
		break;
	default:
		break;
	}
}

static void to_tag(struct sip_wbuf *w, const struct sip_msg *sm, const struct sip_reply *r)
{
	if (r->tag && sm->to.tag.len == 0) {
		SIP_WBUF_LIT(w, ";tag=sw");
		sip_wbuf_hex(w, r->to_tag, 8);
	}
}

/* A header field as written: name through the end of its (folded) value. */
static void line_as_written(struct sip_wbuf *w, const uint8_t *msg, const struct sip_hdr *h)
{
	sip_wbuf_slice(w, msg, sip_hdr_line(h));
}

int sip_reply_write(struct sip_wbuf *w, const uint8_t *msg, const struct sip_msg *sm,
		    const struct sip_reply *r)
{
	bool top = true;

	SIP_WBUF_LIT(w, "SIP/2.0 ");
	sip_wbuf_u32(w, r->status);
	SIP_WBUF_LIT(w, " ");
	sip_wbuf_str(w, r->reason != NULL ? r->reason : sip_reason(r->status));
	SIP_WBUF_LIT(w, "\r\n");
	/* §8.2.6.2: Via (all, in order), From, To, Call-ID and CSeq. */
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];

		switch (h->id) {
		case SIP_H_VIA:
			if (top) {
				top_via(w, msg, sm, h, r);
				top = false;
			} else if (r->as_written) {
				line_as_written(w, msg, h);
				SIP_WBUF_LIT(w, "\r\n");
			} else {
				SIP_WBUF_LIT(w, "Via: ");
				sip_wbuf_slice(w, msg, h->value);
				SIP_WBUF_LIT(w, "\r\n");
			}
			break;
		case SIP_H_TO:
			if (r->as_written) {
				line_as_written(w, msg, h);
				to_tag(w, sm, r);
				SIP_WBUF_LIT(w, "\r\n");
			}
			break;
		case SIP_H_FROM:
		case SIP_H_CALL_ID:
		case SIP_H_CSEQ:
			if (r->as_written) {
				line_as_written(w, msg, h);
				SIP_WBUF_LIT(w, "\r\n");
			}
			break;
		default:
			break;
		}
	}
	if (!r->as_written) {
		SIP_WBUF_LIT(w, "From: ");
		sip_wbuf_slice(w, msg, sm->from.value);
		SIP_WBUF_LIT(w, "\r\nTo: ");
		sip_wbuf_slice(w, msg, sm->to.value);
		to_tag(w, sm, r);
		SIP_WBUF_LIT(w, "\r\nCall-ID: ");
		sip_wbuf_slice(w, msg, sm->call_id);
		SIP_WBUF_LIT(w, "\r\nCSeq: ");
		sip_wbuf_u32(w, sm->cseq);
		SIP_WBUF_LIT(w, " ");
		sip_wbuf_slice(w, msg, sm->cseq_method_name);
		SIP_WBUF_LIT(w, "\r\n");
	}
	if (r->extra != NULL)
		sip_wbuf_str(w, r->extra);
	SIP_WBUF_LIT(w, "Content-Length: 0\r\n\r\n");
	return w->overflow ? -EMSGSIZE : 0;
}
