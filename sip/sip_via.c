/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Top Via (RFC 3261 §20.42, §25.1; RFC 3581 rport):
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 * SLASH, COLON and SEMI allow SWS around them. Only the first via-parm of
 * the field is parsed: the rest of a comma list belongs to hops further
 * down and is forwarded untouched.
 */
#include "sip/sip_internal.h"

/* SWS, then the token at *pos: "SIP", "2.0", "UDP" (SLASH = SWS "/" SWS, §25.1). */
static struct sip_slice sws_token(const uint8_t *buf, uint32_t *pos, uint32_t end)
{
	uint32_t s = sip_skip_lws(buf, *pos, end);
	uint32_t e = sip_span(buf, s, end, SIP_C_TOKEN);

	*pos = e;
	return sip_slice(s, e);
}

static bool sws_eat(const uint8_t *buf, uint32_t *pos, uint32_t end, uint8_t c)
{
	uint32_t p = sip_skip_lws(buf, *pos, end);

	if (p == end || buf[p] != c)
		return false;
	*pos = p + 1;
	return true;
}

/* RFC 3581 §3: rport with no value in requests, "rport=" port in responses. */
static bool via_rport(const uint8_t *buf, struct sip_slice v, int32_t *rport)
{
	uint32_t port;

	if (v.len == 0) {
		*rport = 0;
		return true;
	}
	if (!sip_parse_uint(buf, v.off, v.len, 65535, &port) || port == 0)
		return false;
	*rport = (int32_t)port;
	return true;
}

/*
 * A parameter seen twice would let two hops read two different values (which
 * branch is the transaction?), so a repeat of one we extract is refused.
 */
static bool via_params(const uint8_t *buf, uint32_t *ppos, uint32_t end, struct sip_via *via)
{
	uint32_t pos = *ppos;
	uint8_t have_branch = 0, have_received = 0;

	for (;;) {
		struct sip_slice name, value;
		uint32_t p = sip_skip_lws(buf, pos, end);

		if (p == end || buf[p] == ',')
			break;
		if (buf[p] != ';')
			return false;
		pos = p + 1;
		if (!sip_gen_param(buf, &pos, end, &name, &value))
			return false;
		if (name.len == 6 && sip_ieq(buf + name.off, "branch", 6)) {
			if (have_branch++ || value.len == 0)
				return false;
			via->branch = value;
		} else if (name.len == 8 && sip_ieq(buf + name.off, "received", 8)) {
			if (have_received++ || value.len == 0)
				return false;
			via->received = value;
		} else if (name.len == 5 && sip_ieq(buf + name.off, "rport", 5)) {
			if (via->rport >= 0 || !via_rport(buf, value, &via->rport))
				return false;
			/* Where a proxy fills in the value (RFC 3581 §4). */
			via->rport_param =
				sip_slice(name.off, value.len != 0 ? (uint32_t)value.off + value.len
								   : (uint32_t)name.off + name.len);
		}
	}
	*ppos = pos;
	return true;
}

enum sip_verdict sip_via_parse(const uint8_t *buf, struct sip_slice val, struct sip_via *via)
{
	uint32_t pos = val.off;
	uint32_t end = (uint32_t)val.off + val.len;
	struct sip_slice proto, version;
	uint32_t p, port;

	*via = (struct sip_via){.rport = -1};

	/* Nearly every Via starts "SIP/2.0/" verbatim: one compare instead of the SWS dance. */
	if (val.len >= 8 && sip_ieq(buf + pos, "sip/2.0/", 8)) {
		pos += 8;
	} else {
		proto = sws_token(buf, &pos, end);
		if (proto.len != 3 || !sip_ieq(buf + proto.off, "sip", 3) ||
		    !sws_eat(buf, &pos, end, '/'))
			return SIP_ERR_BAD_VIA;
		version = sws_token(buf, &pos, end);
		if (version.len != 3 || !sip_ieq(buf + version.off, "2.0", 3) ||
		    !sws_eat(buf, &pos, end, '/'))
			return SIP_ERR_BAD_VIA;
	}
	via->transport = sws_token(buf, &pos, end);
	if (via->transport.len == 0)
		return SIP_ERR_BAD_VIA;

	/* LWS between sent-protocol and sent-by is mandatory: "SIP/2.0/UDPhost" is not a Via. */
	p = sip_skip_lws(buf, pos, end);
	if (p == pos || !sip_host_parse(buf, &p, end, &via->host, &via->host_is_ipv6))
		return SIP_ERR_BAD_VIA;
	pos = p;
	p = sip_skip_lws(buf, pos, end);
	if (p < end && buf[p] == ':') {
		uint32_t d = sip_skip_lws(buf, p + 1, end);

		p = sip_span(buf, d, end, SIP_C_DIGIT);
		if (!sip_parse_uint(buf, d, p - d, 65535, &port) || port == 0)
			return SIP_ERR_BAD_VIA;
		via->port = (uint16_t)port;
		pos = p;
	}

	if (!via_params(buf, &pos, end, via))
		return SIP_ERR_BAD_VIA;
	via->value = sip_slice(val.off, pos);
	return SIP_SCAN_OK;
}

/* After a list value ending at @p pos: the next one's start, or @p end. */
static uint16_t list_next(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	pos = sip_skip_lws(buf, pos, end);
	if (pos < end && buf[pos] == ',')
		pos = sip_skip_lws(buf, pos + 1, end);
	return (uint16_t)pos;
}

enum sip_verdict sip_via_first(const uint8_t *buf, struct sip_slice val, struct sip_via *via,
			       uint16_t *next)
{
	uint32_t end = (uint32_t)val.off + val.len;
	uint32_t start = sip_skip_lws(buf, val.off, end);
	enum sip_verdict v = sip_via_parse(buf, sip_slice(start, end), via);

	if (v != SIP_SCAN_OK)
		return v;
	*next = list_next(buf, (uint32_t)via->value.off + via->value.len, end);
	return SIP_SCAN_OK;
}
