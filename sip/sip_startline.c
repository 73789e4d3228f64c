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

#include "sip/sip_internal.h"

#define SIP_VERSION	"sip/2.0"
#define SIP_VERSION_LEN 7u

static enum sip_verdict status_line(const uint8_t *buf, uint32_t pos, uint32_t cr,
				    struct sip_msg *msg)
{
	uint32_t status;

	/* "SIP/2.0" SP 3DIGIT SP: 12 bytes before the (possibly empty) Reason-Phrase. */
	if (cr - pos < SIP_VERSION_LEN + 5 || !sip_ieq(buf + pos, SIP_VERSION, SIP_VERSION_LEN) ||
	    buf[pos + 7] != ' ' || buf[pos + 11] != ' ')
		return SIP_ERR_BAD_START_LINE;
	/* §21: classes 1xx..6xx only; 3DIGIT rules out "99" and "2000". */
	if (!sip_parse_uint(buf, pos + 8, 3, 699, &status) || status < 100)
		return SIP_ERR_BAD_START_LINE;
	msg->is_request = 0;
	msg->status = (uint16_t)status;
	msg->reason = sip_slice(pos + 12, cr);
	return SIP_SCAN_OK;
}

static enum sip_verdict request_line(const uint8_t *buf, uint32_t pos, uint32_t cr,
				     struct sip_msg *msg)
{
	uint32_t m_end, uri, sp;
	const uint8_t *p;

	/* Method = token: no bytes >= 0x80, no separators. */
	m_end = sip_span(buf, pos, cr, SIP_C_TOKEN);
	if (m_end == pos || m_end == cr || buf[m_end] != ' ')
		return SIP_ERR_BAD_START_LINE;
	uri = m_end + 1;
	p = memchr(buf + uri, ' ', cr - uri);
	if (p == NULL)
		return SIP_ERR_BAD_START_LINE;
	sp = (uint32_t)(p - buf);
	if (sp == uri || cr - (sp + 1) != SIP_VERSION_LEN ||
	    !sip_ieq(buf + sp + 1, SIP_VERSION, SIP_VERSION_LEN))
		return SIP_ERR_BAD_START_LINE;
	/* §19.1.1, Table 1: headers are not allowed in a Request-URI; a proxy
	 * forwarding one would hand its "?Route=..." on (RFC 4475 escruri). */
	if (sip_uri_parse(buf, uri, sp - uri, &msg->ruri) != 0 || msg->ruri.has_headers)
		return SIP_ERR_BAD_URI;
	msg->is_request = 1;
	msg->method_name = sip_slice(pos, m_end);
	msg->method = (uint8_t)sip_method_from(buf + pos, m_end - pos);
	return SIP_SCAN_OK;
}

enum sip_verdict sip_start_line(const uint8_t *buf, uint32_t len, uint32_t *ppos,
				struct sip_msg *msg)
{
	uint32_t pos = *ppos;
	uint32_t cr;

	/* §7.5: CRLFs before the start line SHOULD be ignored (stream keepalive leftovers). */
	while (len - pos >= 2 && buf[pos] == '\r' && buf[pos + 1] == '\n')
		pos += 2;

	cr = sip_find_ctl(buf, pos, len);
	if (cr == len)
		return SIP_ERR_TRUNCATED;
	if (buf[cr] == '\n')
		return SIP_ERR_BAD_START_LINE; /* bare LF: see sip_scan.c */
	if (buf[cr] != '\r')
		return SIP_ERR_BAD_CHAR;
	if (cr + 1 == len)
		return SIP_ERR_TRUNCATED;
	if (buf[cr + 1] != '\n')
		return SIP_ERR_BAD_CHAR;
	*ppos = cr + 2;

	/* A Method is a token and "/" is not a token character: only a status line starts "SIP/". */
	if (cr - pos >= 4 && sip_ieq(buf + pos, "sip/", 4))
		return status_line(buf, pos, cr, msg);
	return request_line(buf, pos, cr, msg);
}

bool sip_plausible(const uint8_t *buf, uint32_t len)
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

/* The method table, beside the start line that names the method (the CSeq
 * line names it too: sip_cseq.c). */
enum sip_method sip_method_from(const uint8_t *name, size_t len)
{
#define IS(lit, m)                                           \
	do {                                                 \
		if (memcmp(name, lit, sizeof(lit) - 1) == 0) \
			return m;                            \
	} while (0)

	/* Length first: at most four short memcmp() calls for any name. */
	switch (len) {
	case 3:
		IS("ACK", SIP_M_ACK);
		IS("BYE", SIP_M_BYE);
		break;
	case 4:
		IS("INFO", SIP_M_INFO);
		break;
	case 5:
		IS("PRACK", SIP_M_PRACK);
		IS("REFER", SIP_M_REFER);
		break;
	case 6:
		IS("INVITE", SIP_M_INVITE);
		IS("CANCEL", SIP_M_CANCEL);
		IS("NOTIFY", SIP_M_NOTIFY);
		IS("UPDATE", SIP_M_UPDATE);
		break;
	case 7:
		IS("OPTIONS", SIP_M_OPTIONS);
		IS("PUBLISH", SIP_M_PUBLISH);
		IS("MESSAGE", SIP_M_MESSAGE);
		break;
	case 8:
		IS("REGISTER", SIP_M_REGISTER);
		break;
	case 9:
		IS("SUBSCRIBE", SIP_M_SUBSCRIBE);
		break;
	default:
		break;
	}
	return SIP_M_OTHER;
#undef IS
}
