/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header fields (RFC 3261 §7.3):
 *   message-header = field-name HCOLON field-value CRLF
 *   HCOLON = *( SP / HTAB ) ":" SWS
 * A field ends at a CRLF that is not followed by SP / HTAB; a CRLF that is
 * (a fold, §7.3.1) continues it. The value slice keeps folds as they are
 * (zero copy) and drops the LWS at both ends.
 */
#include "sip/sip_hdr.h"

/* The rest of a name after its first byte, against a lowercase literal. */
#define NAME_IS(n, len, lit) ((len) == sizeof(lit) && sip_ieq((n) + 1, lit, sizeof(lit) - 1))

/*
 * Switch on first letter then length, one short compare at most per field
 * (two for "c"): names are tokens, so OR-ing 0x20 into the first byte maps
 * only letters onto letters. Compact forms: §7.3.3 and the IANA registry.
 */
uint8_t sip_hdr_id(const uint8_t *n, uint32_t len)
{
	uint8_t c0 = n[0] | 0x20;

	if (len == 1) {
		switch (c0) {
		case 'v':
			return SIP_H_VIA;
		case 'f':
			return SIP_H_FROM;
		case 't':
			return SIP_H_TO;
		case 'i':
			return SIP_H_CALL_ID;
		case 'm':
			return SIP_H_CONTACT;
		case 'l':
			return SIP_H_CONTENT_LENGTH;
		case 'c':
			return SIP_H_CONTENT_TYPE;
		case 'k':
			return SIP_H_SUPPORTED;
		default:
			return SIP_H_OTHER;
		}
	}
	switch (c0) {
	case 'v':
		if (NAME_IS(n, len, "ia"))
			return SIP_H_VIA;
		break;
	case 'f':
		if (NAME_IS(n, len, "rom"))
			return SIP_H_FROM;
		break;
	case 't':
		if (NAME_IS(n, len, "o"))
			return SIP_H_TO;
		break;
	case 'c':
		if (len == 4 && sip_ieq(n + 1, "seq", 3))
			return SIP_H_CSEQ;
		if (len == 7) {
			if (sip_ieq(n + 1, "all-id", 6))
				return SIP_H_CALL_ID;
			if (sip_ieq(n + 1, "ontact", 6))
				return SIP_H_CONTACT;
		}
		if (NAME_IS(n, len, "ontent-length"))
			return SIP_H_CONTENT_LENGTH;
		if (NAME_IS(n, len, "ontent-type"))
			return SIP_H_CONTENT_TYPE;
		break;
	case 'm':
		if (NAME_IS(n, len, "ax-forwards"))
			return SIP_H_MAX_FORWARDS;
		break;
	case 'e':
		if (NAME_IS(n, len, "xpires"))
			return SIP_H_EXPIRES;
		break;
	case 'r':
		if (NAME_IS(n, len, "oute"))
			return SIP_H_ROUTE;
		if (NAME_IS(n, len, "ecord-route"))
			return SIP_H_RECORD_ROUTE;
		break;
	case 'u':
		if (NAME_IS(n, len, "ser-agent"))
			return SIP_H_USER_AGENT;
		break;
	case 's':
		if (NAME_IS(n, len, "upported"))
			return SIP_H_SUPPORTED;
		break;
	case 'x':
		/* PortSIP's SDKs: X-Push, and x-p-push since their 2021 SDKs. */
		if (NAME_IS(n, len, "-push") || NAME_IS(n, len, "-p-push"))
			return SIP_H_X_PUSH;
		break;
	case 'p':
		/* ... and portsip-push, which their older SDKs send (their
		 * samples send both, with the same value). */
		if (NAME_IS(n, len, "ortsip-push"))
			return SIP_H_X_PUSH;
		break;
	default:
		break;
	}
	return SIP_H_OTHER;
}

/* Where a name or a colon was due: a line end means no colon; another control byte is one. */
static enum sip_verdict bad_name_byte(uint8_t c)
{
	if (c != '\r' && c != '\n' && sip_is(c, SIP_C_CTL))
		return SIP_ERR_BAD_CHAR;
	return SIP_ERR_BAD_HEADER;
}

enum sip_verdict sip_hdr_walk(struct sip_ix *ix, uint32_t *ppos, struct sip_hdr *h)
{
	const uint8_t *buf = ix->buf;
	uint32_t len = ix->len;
	uint32_t pos = *ppos;
	uint32_t start = pos;
	uint32_t lim, name_end, vstart, vend;

	if (pos >= len)
		return SIP_ERR_TRUNCATED;
	if (buf[pos] == '\r') {
		/* The empty line (CRLF) that ends the header section, §7. */
		if (len - pos < 2)
			return SIP_ERR_TRUNCATED;
		if (buf[pos + 1] != '\n')
			return SIP_ERR_BAD_CHAR;
		*ppos = pos + 2;
		h->name.len = 0;
		return SIP_SCAN_OK;
	}

	/*
	 * The terminating CR may sit at most SIP_MAX_HDR_LEN bytes after the
	 * field's first byte; stopping the search there bounds the work spent on
	 * an oversized field. Running into @p lim is TRUNCATED when it is the end
	 * of the buffer (the field may be fine), HEADER_TOO_LONG otherwise.
	 */
	lim = len - start > SIP_MAX_HDR_LEN ? start + SIP_MAX_HDR_LEN + 1 : len;

	/* The name's end and the line's end come from the index (sip_index.h):
	 * a shift and a bit count each, where a walk had a set-up per field. */
	name_end = sip_ix_next(ix, pos, lim, 1);

	pos = name_end;
	while (pos < lim && sip_is(buf[pos], SIP_C_WSP))
		pos++;
	if (pos >= lim)
		goto at_limit;
	/* A line starting with WSP here would fold the start line, which §7.1 does not allow. */
	if (name_end == start || buf[pos] != ':')
		return bad_name_byte(buf[pos]);
	pos++;

	/* SWS after the colon, folds included. */
	for (;;) {
		if (pos < lim && sip_is(buf[pos], SIP_C_WSP))
			pos++;
		else if (pos + 2 < len && pos < lim && buf[pos] == '\r' && buf[pos + 1] == '\n' &&
			 sip_is(buf[pos + 2], SIP_C_WSP))
			pos += 3;
		else
			break;
	}

	vstart = pos;
	for (;;) {
		pos = sip_ix_next(ix, pos, lim, 0);
		if (pos >= lim)
			goto at_limit;
		if (buf[pos] != '\r')
			return buf[pos] == '\n' ? SIP_ERR_BAD_HEADER : SIP_ERR_BAD_CHAR;
		/* CR LF and one more byte decide between a fold and the field's end. */
		if (len - pos < 3) {
			if (len - pos == 2 && buf[pos + 1] != '\n')
				return SIP_ERR_BAD_CHAR;
			return SIP_ERR_TRUNCATED;
		}
		if (buf[pos + 1] != '\n')
			return SIP_ERR_BAD_CHAR;
		if (!sip_is(buf[pos + 2], SIP_C_WSP))
			break;
		pos += 3;
	}
	*ppos = pos + 2;

	/* Trailing LWS: inside a field every LF closes a CRLF of a fold, so it goes with it. */
	vend = pos;
	while (vend > vstart) {
		if (sip_is(buf[vend - 1], SIP_C_WSP))
			vend--;
		else if (buf[vend - 1] == '\n' && vend - vstart >= 2)
			vend -= 2;
		else
			break;
	}

	h->name = sip_slice(start, name_end);
	h->value = sip_slice(vstart, vend);
	h->id = sip_hdr_id(buf + start, name_end - start);
	return SIP_SCAN_OK;

at_limit:
	return lim == len ? SIP_ERR_TRUNCATED : SIP_ERR_HEADER_TOO_LONG;
}
