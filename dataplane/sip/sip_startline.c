/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Start line (RFC 3261 §7.1, §7.2):
 *   Request-Line = Method SP Request-URI SP SIP-Version CRLF
 *   Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase CRLF
 * The line is framed first (its CRLF found, control bytes refused), then cut
 * at its single spaces: the grammar has exactly one SP between elements and
 * none inside the method, the URI or the version.
 */
#include <string.h>

#include "dataplane/sip/sip_internal.h"

#define SIP_VERSION	"sip/2.0"
#define SIP_VERSION_LEN 7u

static enum dp_sip_verdict status_line(const uint8_t *buf, uint32_t pos, uint32_t cr,
				       struct dp_sip_msg *msg)
{
	uint32_t status;

	/* "SIP/2.0" SP 3DIGIT SP: 12 bytes before the (possibly empty) Reason-Phrase. */
	if (cr - pos < SIP_VERSION_LEN + 5 || !sip_ieq(buf + pos, SIP_VERSION, SIP_VERSION_LEN) ||
	    buf[pos + 7] != ' ' || buf[pos + 11] != ' ')
		return DP_SIP_ERR_BAD_START_LINE;
	/* §21: classes 1xx..6xx only; 3DIGIT rules out "99" and "2000". */
	if (!sip_parse_uint(buf, pos + 8, 3, 699, &status) || status < 100)
		return DP_SIP_ERR_BAD_START_LINE;
	msg->is_request = 0;
	msg->status = (uint16_t)status;
	msg->reason = sip_slice(pos + 12, cr);
	return DP_SIP_OK;
}

static enum dp_sip_verdict request_line(const uint8_t *buf, uint32_t pos, uint32_t cr,
					struct dp_sip_msg *msg)
{
	uint32_t m_end, uri, sp;
	const uint8_t *p;

	/* Method = token: no bytes >= 0x80, no separators. */
	m_end = sip_span(buf, pos, cr, SIP_C_TOKEN);
	if (m_end == pos || m_end == cr || buf[m_end] != ' ')
		return DP_SIP_ERR_BAD_START_LINE;
	uri = m_end + 1;
	p = memchr(buf + uri, ' ', cr - uri);
	if (p == NULL)
		return DP_SIP_ERR_BAD_START_LINE;
	sp = (uint32_t)(p - buf);
	if (sp == uri || cr - (sp + 1) != SIP_VERSION_LEN ||
	    !sip_ieq(buf + sp + 1, SIP_VERSION, SIP_VERSION_LEN))
		return DP_SIP_ERR_BAD_START_LINE;
	/* §19.1.1, Table 1: headers are not allowed in a Request-URI; a proxy
	 * forwarding one would hand its "?Route=..." on (RFC 4475 escruri). */
	if (sip_uri_parse(buf, uri, sp - uri, &msg->ruri) != 0 || msg->ruri.has_headers)
		return DP_SIP_ERR_BAD_URI;
	msg->is_request = 1;
	msg->method_name = sip_slice(pos, m_end);
	msg->method = (uint8_t)dp_sip_method_from(buf + pos, m_end - pos);
	return DP_SIP_OK;
}

enum dp_sip_verdict sip_start_line(const uint8_t *buf, uint32_t len, uint32_t *ppos,
				   struct dp_sip_msg *msg)
{
	uint32_t pos = *ppos;
	uint32_t cr;

	/* §7.5: CRLFs before the start line SHOULD be ignored (stream keepalive leftovers). */
	while (len - pos >= 2 && buf[pos] == '\r' && buf[pos + 1] == '\n')
		pos += 2;

	cr = sip_find_ctl(buf, pos, len);
	if (cr == len)
		return DP_SIP_ERR_TRUNCATED;
	if (buf[cr] == '\n')
		return DP_SIP_ERR_BAD_START_LINE; /* bare LF: see sip_scan.c */
	if (buf[cr] != '\r')
		return DP_SIP_ERR_BAD_CHAR;
	if (cr + 1 == len)
		return DP_SIP_ERR_TRUNCATED;
	if (buf[cr + 1] != '\n')
		return DP_SIP_ERR_BAD_CHAR;
	*ppos = cr + 2;

	/* A Method is a token and "/" is not a token character: only a status line starts "SIP/". */
	if (cr - pos >= 4 && sip_ieq(buf + pos, "sip/", 4))
		return status_line(buf, pos, cr, msg);
	return request_line(buf, pos, cr, msg);
}

bool dp_sip_plausible(const uint8_t *buf, uint32_t len)
{
	uint32_t pos = 0, t;

	/* §7.5: CRLFs may precede the start line. */
	while (pos < len && pos < 8 && (buf[pos] == '\r' || buf[pos] == '\n'))
		pos++;
	/* Status-Line: "SIP/" (the scanner checks the rest); Request-Line: token SP,
	 * and no method (extension ones included) is anywhere near 24 bytes. */
	if (len - pos >= 4 && sip_ieq(buf + pos, "sip/", 4))
		return true;
	t = sip_span(buf, pos, len - pos > 24 ? pos + 24 : len, SIP_C_TOKEN);
	return t > pos && t < len && buf[t] == ' ';
}
