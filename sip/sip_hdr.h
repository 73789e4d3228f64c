/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Framing header fields (RFC 3261 §7.3) over the structural index
 * (sip_index.h): internal to the scanner, included by sip_scan.c, whose
 * header loop calls sip_hdr_next() once per field.
 */
#ifndef SIP_HDR_H
#define SIP_HDR_H

#include "sip/sip_index.h"
#include "sip/sip_internal.h"

/* sip_hdr.c: the header field id of a name (compact and long forms, any case). */
uint8_t sip_hdr_id(const uint8_t *n, uint32_t len) SIP_HIDDEN;

/*
 * sip_hdr.c: the header field or the empty line at *pos, every form RFC
 * 3261 allows (folds, WSP before the colon, empty values). On SIP_SCAN_OK,
 * h->name.len == 0 means the empty line ended the headers; *pos is then the
 * first byte after it.
 */
enum sip_verdict sip_hdr_walk(struct sip_ix *ix, uint32_t *pos, struct sip_hdr *h) SIP_HIDDEN;

/*
 * sip_hdr_walk(), inline for the line most fields are: "Name: value" with
 * one SP after the colon and neither a fold nor WSP at the value's end.
 * Such a line is taken on its shape, with the slices the walk would give:
 * the name ends at its first non-token byte, the value starts with a byte
 * that is neither WSP nor a control byte, and the first control byte after
 * it is the line's CR (sip_ix_next() finds the first), followed by LF and a
 * byte that is not WSP. Anything else goes to the walk. Inline, the common
 * line costs no call (with the index: the INVITE's scan 2046 -> 1872
 * cycles, scripts/bench-targets.py --against f824d3e, docs/performance.md).
 */
static inline __attribute__((always_inline)) enum sip_verdict
sip_hdr_next(struct sip_ix *ix, uint32_t *ppos, struct sip_hdr *h)
{
	const uint8_t *buf = ix->buf;
	uint32_t len = ix->len, start = *ppos;
	uint32_t lim, name_end, vend;

	if (start >= len || buf[start] == '\r')
		return sip_hdr_walk(ix, ppos, h);
	/* As the walk: a field's CR at most SIP_MAX_HDR_LEN bytes after its start. */
	lim = len - start > SIP_MAX_HDR_LEN ? start + SIP_MAX_HDR_LEN + 1 : len;
	name_end = sip_ix_next(ix, start, lim, 1);
	if (name_end == start || name_end + 2 >= lim || buf[name_end] != ':' ||
	    buf[name_end + 1] != ' ' || sip_is(buf[name_end + 2], SIP_C_WSP | SIP_C_CTL))
		return sip_hdr_walk(ix, ppos, h);
	vend = sip_ix_next(ix, name_end + 2, lim, 0);
	if (vend + 2 >= len || vend >= lim || buf[vend] != '\r' || buf[vend + 1] != '\n' ||
	    sip_is(buf[vend + 2], SIP_C_WSP) || sip_is(buf[vend - 1], SIP_C_WSP))
		return sip_hdr_walk(ix, ppos, h);
	*ppos = vend + 2;
	h->name = sip_slice(start, name_end);
	h->value = sip_slice(name_end + 2, vend);
	h->id = sip_hdr_id(buf + start, name_end - start);
	return SIP_SCAN_OK;
}

#endif /* SIP_HDR_H */
