/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver of the SIP scanner: start line, header loop, the checks that need
 * the whole header section (mandatory and single-valued fields), then the
 * body by Content-Length. One forward pass; each header value that matters
 * is parsed as soon as its field is complete, so an error is reported at
 * the first field that shows it.
 *
 * Decisions where RFC 3261 leaves room or the input is impossible:
 * - Line endings are CRLF only (§7, §25.1). A bare LF is rejected:
 *   BAD_START_LINE in the start line, BAD_HEADER in the header section. An
 *   edge that forwards messages must not frame them differently from the
 *   next hop: a PBX that (rightly) ignores a bare LF would see one field
 *   where a lenient scan saw two, e.g. a Via hidden inside an X- header.
 *   A bare CR is a control byte: BAD_CHAR.
 * - A buffer longer than SIP_MAX_LEN is TRUNCATED: slices are 16-bit, so
 *   the scanner can only ever see the first 65535 bytes of it (and no UDP
 *   payload is that long).
 * - An empty Call-ID is BAD_HEADER: the field is there, but callid is
 *   1*word (§25.1), so its value is malformed rather than missing.
 * - A Call-ID with SP, HTAB or a fold inside is BAD_HEADER too: callid =
 *   word ["@" word] has no LWS, and it is the one grammar break that makes
 *   the dialog ambiguous: §20.8 compares Call-IDs byte by byte, §7.3.1 makes
 *   any LWS mean one SP, so "a b" and "a  b" are one call to one hop and two
 *   to the next (the dataplane keys held calls and branches on these bytes).
 *   Other bytes outside word ("=", a second "@") are passed: compared byte
 *   by byte they are unambiguous, and refusing them would only cost calls.
 * - Content-Type is single-valued (§20.15: one media-type, not a list, so
 *   §7.3.1 allows no second field): two are DUP_HEADER, as two
 *   Content-Lengths are; hops that read different copies read the body
 *   differently.
 * - A buffer of nothing but CRLFs is TRUNCATED (no start line yet);
 *   keepalives (RFC 5626 §4.4.1) are the dataplane's business, not ours.
 * - Responses: msg->method and msg->method_name are the CSeq method's.
 * - A response to REGISTER is not refused for its Contact or Expires
 *   (answer_field()): the registrar's answer must reach the app, and the
 *   control plane decides what it can take from it.
 * Accepted on purpose, though a black-box test sent them as malformed:
 * - Bytes after Content-Length's body: §18.3 says to discard them (RFC 4475
 *   dblreq is valid); msg_len ends before them and dp_fwd_msg.c never
 *   forwards them.
 * - A top Via without branch: RFC 2543 peers (§8.1.1.7 makes it a MUST for
 *   RFC 3261 ones only; RFC 4475 inv2543 and longreq are valid); the
 *   dataplane's stateless branch then hashes the transaction (§16.11,
 *   §17.2.3, dp_fwd_hdrs.c branch_of()).
 * - A continuation line of nothing but SP / HTAB: header-value = *(... /
 *   LWS) and LWS = [*WSP CRLF] 1*WSP (§25.1), so it is folding whitespace
 *   at the end of the field before it (trimmed from the value). Right after
 *   the start line there is no field to fold into: BAD_HEADER (sip_hdr.c).
 * - Bytes >= 0x80 that are not UTF-8 in a header value: §25.1 admits a
 *   lone UTF8-CONT there already, PBXes send Latin-1 display names, and no
 *   such byte can be a SIP delimiter, so framing is not at stake; pushd
 *   turns them into '?' before JSON (pd_push.c ascii_only()). Control bytes
 *   stay BAD_CHAR.
 * - A non-empty body without Content-Type: §20.15's MUST binds the sender,
 *   and only the UAS that reads the body can judge it (415, §8.2.3); a
 *   proxy checks only the fields it uses (§16.3). Over UDP without
 *   Content-Length the body is the rest of the datagram, CRLF padding too.
 */
#include <stddef.h>
#include <string.h>

#include "sip/sip_hdr.h"

/*
 * Class table built at compile time from the RFC 3261 §25.1 rules, so the
 * rules read as grammar here and cost one lookup at run time.
 */
#define CC_ALPHA(c)	   (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define CC_DIGIT(c)	   ((c) >= '0' && (c) <= '9')
#define CC_ALNUM(c)	   (CC_ALPHA(c) || CC_DIGIT(c))
#define CC_HEX(c)	   (CC_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CC_IS2(c, a, b)	   ((c) == (a) || (c) == (b))
#define CC_IS3(c, a, b, d) (CC_IS2(c, a, b) || (c) == (d))
/* mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
#define CC_UNRESERVED(c)                                                        \
	(CC_ALNUM(c) || CC_IS3(c, '-', '_', '.') || CC_IS3(c, '!', '~', '*') || \
	 CC_IS3(c, '\'', '(', ')'))
#define CC_TOKEN(c)                                                             \
	(CC_ALNUM(c) || CC_IS3(c, '-', '.', '!') || CC_IS3(c, '%', '*', '_') || \
	 CC_IS3(c, '+', '`', '\'') || (c) == '~')
/*
 * hostname is alphanum / "-" / "."; "_" is not in the grammar but shows up
 * in the names of real hosts (Windows machine names, SRV-style labels), and
 * accepting it cannot confuse any delimiter.
 */
#define CC_HOST(c) (CC_ALNUM(c) || CC_IS3(c, '-', '.', '_'))
/* user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"; ":" starts password */
#define CC_USER(c)                                                                   \
	(CC_UNRESERVED(c) || CC_IS3(c, '%', '&', '=') || CC_IS3(c, '+', '$', ',') || \
	 CC_IS3(c, ';', '?', '/') || (c) == ':')
/* param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
#define CC_PARAM(c)                                                                  \
	(CC_UNRESERVED(c) || CC_IS3(c, '%', '[', ']') || CC_IS3(c, '/', ':', '&') || \
	 CC_IS2(c, '+', '$') || CC_IS2(c, ';', '='))
/* hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
#define CC_HNV(c)                                                                    \
	(CC_UNRESERVED(c) || CC_IS3(c, '%', '[', ']') || CC_IS3(c, '/', '?', ':') || \
	 CC_IS2(c, '+', '$') || CC_IS2(c, '=', '&'))
/* RFC 2396 uric = reserved / unreserved / escaped; RFC 2732 adds "[" "]" */
#define CC_URIC(c)                                                                   \
	(CC_UNRESERVED(c) || CC_IS3(c, '%', ';', '/') || CC_IS3(c, '?', ':', '@') || \
	 CC_IS3(c, '&', '=', '+') || CC_IS3(c, '$', ',', '[') || (c) == ']')
#define CC_CTL(c)    (((c) < 0x20 && (c) != '\t') || (c) == 0x7f)
#define CC_WSP(c)    CC_IS2(c, ' ', '\t')
#define CC_GENVAL(c) (CC_TOKEN(c) || CC_IS3(c, ':', '[', ']'))
#define CC_SCHEME(c) (CC_ALNUM(c) || CC_IS3(c, '+', '-', '.'))
/* RFC 3966 §3: phonedigit-hex, visual-separator, "+" of global numbers */
#define CC_TEL(c) (CC_HEX(c) || CC_IS3(c, '*', '#', '+') || CC_IS3(c, '-', '.', '(') || (c) == ')')
#define CC_V6(c)  (CC_HEX(c) || CC_IS2(c, ':', '.'))

#define CC_BIT(c, test, bit) ((test(c)) ? (bit) : 0u)
#define CC(c)                                                                            \
	(uint16_t)(CC_BIT(c, CC_TOKEN, SIP_C_TOKEN) | CC_BIT(c, CC_DIGIT, SIP_C_DIGIT) | \
		   CC_BIT(c, CC_HEX, SIP_C_HEX) | CC_BIT(c, CC_ALPHA, SIP_C_ALPHA) |     \
		   CC_BIT(c, CC_HOST, SIP_C_HOST) | CC_BIT(c, CC_USER, SIP_C_USER) |     \
		   CC_BIT(c, CC_PARAM, SIP_C_PARAM) | CC_BIT(c, CC_HNV, SIP_C_HNV) |     \
		   CC_BIT(c, CC_URIC, SIP_C_URIC) | CC_BIT(c, CC_CTL, SIP_C_CTL) |       \
		   CC_BIT(c, CC_WSP, SIP_C_WSP) | CC_BIT(c, CC_GENVAL, SIP_C_GENVAL) |   \
		   CC_BIT(c, CC_SCHEME, SIP_C_SCHEME) | CC_BIT(c, CC_TEL, SIP_C_TEL) |   \
		   CC_BIT(c, CC_V6, SIP_C_V6) | ((c) >= 0x80 ? SIP_C_UTF8 : 0u))
#define CC4(c)	CC(c), CC((c) + 1), CC((c) + 2), CC((c) + 3)
#define CC16(c) CC4(c), CC4((c) + 4), CC4((c) + 8), CC4((c) + 12)
#define CC64(c) CC16(c), CC16((c) + 16), CC16((c) + 32), CC16((c) + 48)

const uint16_t sip_cc[256] = {CC64(0), CC64(64), CC64(128), CC64(192)};

struct sip_vclass sip_vclass[SIP_V_MAX];

/* Nibble tables of one class (see sip_internal.h): one bit per distinct row set. */
static void vclass_build(struct sip_vclass *vc, uint16_t mask)
{
	uint16_t rows[16], sets[8];
	unsigned nsets = 0;

	memset(vc, 0, sizeof(*vc));
	for (unsigned h = 0; h < 16; h++) {
		rows[h] = 0;
		for (unsigned l = 0; l < 16; l++)
			if (sip_cc[h * 16 + l] & mask)
				rows[h] |= (uint16_t)(1u << l);
	}
	for (unsigned h = 0; h < 16; h++) {
		unsigned b;

		if (rows[h] == 0)
			continue;
		for (b = 0; b < nsets && sets[b] != rows[h]; b++)
			;
		if (b == nsets) {
			if (nsets == 8)
				return; /* does not fit: stays scalar (ok = 0) */
			sets[nsets++] = rows[h];
		}
		vc->hi[h] = (uint8_t)(1u << b);
		for (unsigned l = 0; l < 16; l++)
			if (rows[h] & (1u << l))
				vc->lo[l] |= (uint8_t)(1u << b);
	}
	vc->ok = 1;
}

/* Before sip_index.c's choice of classifier (priority 102), which reads them. */
__attribute__((constructor(101))) static void vclass_init(void)
{
	static const uint16_t masks[SIP_V_MAX] = {
		[SIP_V_TOKEN] = SIP_C_TOKEN,   [SIP_V_TOKEN_UTF8] = SIP_C_TOKEN | SIP_C_UTF8,
		[SIP_V_GENVAL] = SIP_C_GENVAL, [SIP_V_HOST] = SIP_C_HOST,
		[SIP_V_PARAM] = SIP_C_PARAM,   [SIP_V_HNV] = SIP_C_HNV,
		[SIP_V_URIC] = SIP_C_URIC,     [SIP_V_USER] = SIP_C_USER,
	};

	for (unsigned i = 0; i < SIP_V_MAX; i++)
		vclass_build(&sip_vclass[i], masks[i]);
}

unsigned sip_vector_classes(void)
{
	unsigned n = 0;

#ifdef __SSSE3__
	for (unsigned i = 0; i < SIP_V_MAX; i++)
		n += sip_vclass[i].ok;
#endif
	return n;
}

#define HBIT(id) (1u << (id))
/* RFC 3261 §8.1.1: the header fields every request carries; §8.2.6.2: and every response. */
#define HDRS_MANDATORY                                                               \
	(HBIT(SIP_H_VIA) | HBIT(SIP_H_FROM) | HBIT(SIP_H_TO) | HBIT(SIP_H_CALL_ID) | \
	 HBIT(SIP_H_CSEQ))
/*
 * §7.3.1 allows a field twice only when its grammar is a comma list. Two
 * copies of one of these are malformed, and dangerous: hops that pick
 * different copies disagree on the dialog or the framing.
 */
#define HDRS_SINGLE                                                                         \
	(HBIT(SIP_H_FROM) | HBIT(SIP_H_TO) | HBIT(SIP_H_CALL_ID) | HBIT(SIP_H_CSEQ) |       \
	 HBIT(SIP_H_MAX_FORWARDS) | HBIT(SIP_H_CONTENT_LENGTH) | HBIT(SIP_H_CONTENT_TYPE) | \
	 HBIT(SIP_H_EXPIRES))

static enum sip_verdict scan_field(const uint8_t *buf, const struct sip_hdr *h, uint32_t seen,
				   struct sip_msg *msg)
{
	enum sip_verdict v;
	uint32_t n;

	switch (h->id) {
	case SIP_H_VIA:
		/* Only the top via-parm routes the response (§18.2.2); later ones are opaque. */
		if (seen & HBIT(SIP_H_VIA))
			return SIP_SCAN_OK;
		return sip_via_parse(buf, h->value, &msg->via);
	case SIP_H_FROM:
		return sip_nameaddr_parse(buf, h->value, &msg->from);
	case SIP_H_TO:
		return sip_nameaddr_parse(buf, h->value, &msg->to);
	case SIP_H_CALL_ID:
		/* Empty or with LWS inside (a fold has a WSP too): see "Decisions".
		 * Two SSE2 passes over ~20 bytes: within the noise of the ~1.7k
		 * cycles a sipp OPTIONS scan takes (rdtsc loop, min of 200 runs). */
		n = (uint32_t)h->value.off + h->value.len;
		if (h->value.len == 0 || sip_find_byte(buf, h->value.off, n, ' ') != n ||
		    sip_find_byte(buf, h->value.off, n, '\t') != n)
			return SIP_ERR_BAD_HEADER;
		msg->call_id = h->value;
		return SIP_SCAN_OK;
	case SIP_H_CSEQ:
		v = sip_cseq_parse(buf, h->value, msg);
		if (v != SIP_SCAN_OK)
			return v;
		/* §8.1.1.5: the CSeq method MUST match the request's (ACK and CANCEL included). */
		if (msg->is_request &&
		    (msg->cseq_method_name.len != msg->method_name.len ||
		     memcmp(buf + msg->cseq_method_name.off, buf + msg->method_name.off,
			    msg->method_name.len) != 0))
			return SIP_ERR_BAD_CSEQ;
		return SIP_SCAN_OK;
	case SIP_H_MAX_FORWARDS:
		/* §20.22: 0..255 */
		if (!sip_parse_uint(buf, h->value.off, h->value.len, 255, &n))
			return SIP_ERR_BAD_MAX_FORWARDS;
		msg->max_forwards = (int16_t)n;
		return SIP_SCAN_OK;
	case SIP_H_CONTENT_LENGTH:
		/* Anything above SIP_MAX_LEN cannot fit the datagram: same verdict. */
		if (!sip_parse_uint(buf, h->value.off, h->value.len, SIP_MAX_LEN, &n))
			return SIP_ERR_BAD_CONTENT_LENGTH;
		msg->content_length = (int32_t)n;
		return SIP_SCAN_OK;
	case SIP_H_EXPIRES:
		if (!sip_parse_delta(buf, h->value.off, h->value.len, &msg->expires))
			return SIP_ERR_BAD_EXPIRES;
		return SIP_SCAN_OK;
	case SIP_H_CONTACT:
		return sip_contact_parse(buf, h->value, msg);
	case SIP_H_ROUTE:
		return sip_route_parse(buf, h->value, &msg->route, &msg->route_next);
	case SIP_H_RECORD_ROUTE:
		return sip_route_parse(buf, h->value, &msg->record_route, NULL);
	case SIP_H_USER_AGENT:
		if (msg->user_agent.len == 0)
			msg->user_agent = h->value;
		return SIP_SCAN_OK;
	case SIP_H_X_PUSH:
		/* An X-Push without a usable address is not an error: it is
		 * ignored. PortSIP apps send it under two names with one value;
		 * two that differ are flagged (SIP_PN_DUP) for the registrar to
		 * refuse, never resolved one way here and another at the PBX. */
		if ((seen & HBIT(SIP_H_X_PUSH)) != 0) {
			if (h->value.len != msg->xpush_value.len ||
			    memcmp(buf + h->value.off, buf + msg->xpush_value.off, h->value.len) !=
				    0)
				msg->xpush.flags |= SIP_PN_DUP;
			return SIP_SCAN_OK;
		}
		msg->xpush_value = h->value;
		sip_push_from_xpush(buf, h->value, &msg->xpush);
		return SIP_SCAN_OK;
	default:
		return SIP_SCAN_OK;
	}
}

/*
 * A fault of a response's Contact or Expires (BAD_CONTACT, BAD_EXPIRES, a
 * second Expires): noted in @p msg, and true, so that the scan goes on. The
 * control plane relays a registrar's 2xx whatever these fields say and takes
 * from them what it can (docs/design.md §1.1, "What a 2xx grants"): dropped,
 * the app would hear 408 while the PBX holds its binding. sip_scan() still
 * refuses any response that turns out not to be to a REGISTER.
 */
static bool answer_field(const uint8_t *buf, const struct sip_hdr *h, enum sip_verdict v,
			 struct sip_msg *msg)
{
	int32_t e;

	if (msg->is_request)
		return false;
	if (h->id == SIP_H_CONTACT && v == SIP_ERR_BAD_CONTACT) {
		msg->contact_bad = 1;
		return true;
	}
	if (h->id != SIP_H_EXPIRES || (v != SIP_ERR_DUP_HEADER && v != SIP_ERR_BAD_EXPIRES))
		return false;
	/* Expires again: the smallest, as for expires= (sip_contact.c). */
	if (v == SIP_ERR_DUP_HEADER && !msg->expires_bad &&
	    sip_parse_delta(buf, h->value.off, h->value.len, &e)) {
		if (e < msg->expires)
			msg->expires = e;
		return true;
	}
	msg->expires_bad = 1;
	return true;
}

/*
 * Cost (bench_dp, shared 2-vCPU EPYC VM, TSC 2.25 GHz): ~1.9k cycles for
 * the 1020-byte INVITE with SDP (12x less than libosip2), ~2.2k for a
 * 722-byte REGISTER with a push Contact. The header fields are framed from
 * the structural index (sip_index.h, sip_hdr.h); what is left is mostly the
 * field grammars (URIs, name-addrs, the top Via): docs/performance.md,
 * "After: the structural index and the lean forward path".
 */
enum sip_verdict sip_scan(const uint8_t *buf, uint32_t len, struct sip_msg *msg)
{
	enum sip_verdict v;
	enum sip_verdict held = SIP_SCAN_OK; /* answer_field()'s first, until the CSeq tells */
	uint32_t pos = 0;
	uint32_t seen = 0;
	struct sip_ix ix;

	if (len == 0 || len > SIP_MAX_LEN)
		return SIP_ERR_TRUNCATED;
	sip_ix_init(&ix, buf, len);

	/* hdrs[] is filled as fields are found: clearing it would cost more than the scan. */
	memset(msg, 0, offsetof(struct sip_msg, hdrs));
	msg->via.rport = -1;
	msg->max_forwards = -1;
	msg->content_length = -1;
	msg->expires = -1;

	v = sip_start_line(buf, len, &pos, msg);
	if (v != SIP_SCAN_OK)
		return v;

	for (;;) {
		struct sip_hdr h;
		uint32_t bit;

		v = sip_hdr_next(&ix, &pos, &h);
		if (v != SIP_SCAN_OK)
			return held != SIP_SCAN_OK ? held : v;
		if (h.name.len == 0)
			break;
		if (msg->nhdrs == SIP_MAX_HDRS)
			return held != SIP_SCAN_OK ? held : SIP_ERR_TOO_MANY_HEADERS;
		msg->hdrs[msg->nhdrs++] = h;

		bit = HBIT(h.id);
		if (seen & bit & HDRS_SINGLE)
			v = SIP_ERR_DUP_HEADER;
		else
			v = scan_field(buf, &h, seen, msg);
		if (v != SIP_SCAN_OK) {
			/* A message refused says the first field that shows why. */
			if (!answer_field(buf, &h, v, msg))
				return held != SIP_SCAN_OK ? held : v;
			if (held == SIP_SCAN_OK)
				held = v;
		}
		seen |= bit;
		if (held != SIP_SCAN_OK && (seen & HBIT(SIP_H_CSEQ)) &&
		    msg->cseq_method != SIP_M_REGISTER)
			return held;
	}

	if ((seen & HDRS_MANDATORY) != HDRS_MANDATORY)
		return held != SIP_SCAN_OK ? held : SIP_ERR_MISSING_HEADER;
	if (!msg->is_request) {
		msg->method = msg->cseq_method;
		msg->method_name = msg->cseq_method_name;
	}
	/* A response to REGISTER kept with answer_field()'s faults: what did not
	 * parse reads as absent, and the flags say so. */
	if (msg->contact_bad) {
		msg->n_contacts = 0;
		msg->contact_star = 0;
		memset(&msg->contact, 0, sizeof(msg->contact));
	}
	if (msg->expires_bad)
		msg->expires = -1;

	/*
	 * §18.3: with Content-Length the message ends after that many body bytes
	 * and the rest of the datagram is surplus; a body shorter than announced
	 * is an error. Without it (legal over UDP) the body is the rest.
	 */
	msg->hdrs_end = (uint16_t)pos;
	if (msg->content_length < 0) {
		msg->body = sip_slice(pos, len);
	} else {
		if ((uint32_t)msg->content_length > len - pos)
			return held != SIP_SCAN_OK ? held : SIP_ERR_BAD_CONTENT_LENGTH;
		msg->body = sip_slice(pos, pos + (uint32_t)msg->content_length);
	}
	msg->msg_len = (uint16_t)(msg->body.off + msg->body.len);
	return SIP_SCAN_OK;
}

const char *sip_verdict_name(enum sip_verdict v)
{
	static const char *const names[SIP_VERDICT_MAX] = {[SIP_SCAN_OK] = "ok",
#define SIP_X_NAME(e, name, desc) [SIP_ERR_##e] = #name,
							   SIP_FOREACH_ERROR(SIP_X_NAME)
#undef SIP_X_NAME
	};

	if ((unsigned)v >= SIP_VERDICT_MAX)
		return "unknown";
	return names[v];
}

const char *sip_reason(unsigned status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 110:
		return "Push Sent"; /* sipwake's: the app is being woken */
	case 180:
		return "Ringing";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 480:
		return "Temporarily Unavailable";
	case 487:
		return "Request Terminated";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 483:
		return "Too Many Hops";
	case 500:
		return "Server Internal Error";
	case 503:
		return "Service Unavailable";
	case 513:
		return "Message Too Large";
	default:
		return "Unknown";
	}
}
