/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CSeq = "CSeq" HCOLON 1*DIGIT LWS Method   (RFC 3261 §20.16, §25.1)
 * The number must be below 2**31 (§8.1.1.5); whether the method matches the
 * request's is checked by the driver, which knows the start line.
 */
#include "sip/sip_internal.h"

#define CSEQ_MAX 0x7fffffffu

enum sip_verdict sip_cseq_parse(const uint8_t *buf, struct sip_slice val, struct sip_msg *msg)
{
	uint32_t pos = val.off;
	uint32_t end = (uint32_t)val.off + val.len;
	uint32_t d, m, n;

	d = sip_span(buf, pos, end, SIP_C_DIGIT);
	if (!sip_parse_uint(buf, pos, d - pos, CSEQ_MAX, &n))
		return SIP_ERR_BAD_CSEQ;
	pos = sip_skip_lws(buf, d, end);
	if (pos == d)
		return SIP_ERR_BAD_CSEQ;
	/* The value is trimmed, so the method token must run to its very end. */
	m = sip_span(buf, pos, end, SIP_C_TOKEN);
	if (m == pos || m != end)
		return SIP_ERR_BAD_CSEQ;

	msg->cseq = n;
	msg->cseq_method_name = sip_slice(pos, m);
	msg->cseq_method = (uint8_t)sip_method_from(buf + pos, m - pos);
	return SIP_SCAN_OK;
}
