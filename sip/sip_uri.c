/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * URIs (RFC 3261 §19.1.1, §25.1; RFC 3966 for tel):
 *   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 * The user part may hold ";", "?", "/" and ":" (user-unreserved), so the
 * start of hostport cannot be found by looking for the first of those. What
 * makes the split unambiguous is that "@" appears nowhere in a SIP URI but
 * at the end of userinfo: no other production admits it unescaped. So the
 * first "@" is the split point, and everything before it must be userinfo.
 */
#include <string.h>

#include "sip/sip_internal.h"

/* dotted-decimal IPv4 filling [pos, end) exactly: four 1..3-digit octets <= 255. */
static bool ipv4_valid(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	for (unsigned octet = 0; octet < 4; octet++) {
		uint32_t d = sip_span(buf, pos, end, SIP_C_DIGIT);
		uint32_t v;

		if (d - pos > 3 || !sip_parse_uint(buf, pos, d - pos, 255, &v))
			return false;
		pos = d;
		if (octet < 3) {
			if (pos == end || buf[pos] != '.')
				return false;
			pos++;
		}
	}
	return pos == end;
}

/*
 * IPv6address (RFC 3261 §25.1, RFC 4291 §2.2) filling [pos, end): at most 8
 * groups of 1..4 hex digits, one "::" standing for one or more zero groups,
 * and an optional dotted IPv4 tail counting as two groups.
 */
static bool ipv6_valid(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	unsigned groups = 0;
	bool gap = false;

	if (end - pos >= 2 && buf[pos] == ':') {
		if (buf[pos + 1] != ':')
			return false;
		gap = true;
		pos += 2;
		if (pos == end)
			return true;
	}
	for (;;) {
		uint32_t g = pos;

		pos = sip_span(buf, pos, end, SIP_C_HEX);
		if (pos < end && buf[pos] == '.') {
			if (!ipv4_valid(buf, g, end))
				return false;
			groups += 2;
			break;
		}
		if (pos == g || pos - g > 4)
			return false;
		groups++;
		if (pos == end)
			break;
		if (buf[pos] != ':' || ++pos == end)
			return false;
		if (buf[pos] == ':') {
			if (gap)
				return false;
			gap = true;
			if (++pos == end)
				break;
		}
	}
	return gap ? groups < 8 : groups == 8;
}

bool sip_host_parse(const uint8_t *buf, uint32_t *ppos, uint32_t end, struct sip_slice *host,
		    uint8_t *is_ipv6)
{
	uint32_t pos = *ppos;
	uint32_t h;

	if (pos < end && buf[pos] == '[') {
		h = sip_span(buf, pos + 1, end, SIP_C_V6);
		if (h == end || buf[h] != ']' || h == pos + 1 || !ipv6_valid(buf, pos + 1, h))
			return false;
		*host = sip_slice(pos + 1, h);
		*is_ipv6 = 1;
		*ppos = h + 1;
		return true;
	}
	/*
	 * hostname / IPv4address by character class only: the host is a routing
	 * hint that is never resolved here, and label rules add nothing to
	 * framing safety.
	 */
	h = sip_span(buf, pos, end, SIP_C_HOST);
	if (h == pos)
		return false;
	*host = sip_slice(pos, h);
	*is_ipv6 = 0;
	*ppos = h;
	return true;
}

/* uri-parameters then headers, which must take the URI to its end. */
static int params_headers(const uint8_t *buf, uint32_t pos, uint32_t end, struct sip_uri *uri)
{
	if (pos < end && buf[pos] == ';') {
		uint32_t p = sip_span_esc(buf, pos + 1, end, SIP_C_PARAM);

		uri->params = sip_slice(pos + 1, p);
		pos = p;
	}
	if (pos < end && buf[pos] == '?') {
		uint32_t h = sip_span_esc(buf, pos + 1, end, SIP_C_HNV);

		uri->headers = sip_slice(pos + 1, h);
		uri->has_headers = 1; /* even "sip:a@h?", an empty header part */
		pos = h;
	}
	return pos == end ? 0 : -1;
}

static int sip_rest(const uint8_t *buf, uint32_t pos, uint32_t end, struct sip_uri *uri)
{
	uint32_t a = sip_find_byte(buf, pos, end, '@');
	uint32_t p, port;

	if (a != end) {
		/* user is 1*( ... ): neither "sip:@h" nor "sip::pw@h" names a user. */
		if (a == pos || buf[pos] == ':' || sip_span_esc(buf, pos, a, SIP_C_USER) != a)
			return -1;
		uri->user = sip_slice(pos, a);
		pos = a + 1;
	}
	if (!sip_host_parse(buf, &pos, end, &uri->host, &uri->host_is_ipv6))
		return -1;
	if (pos < end && buf[pos] == ':') {
		p = sip_span(buf, pos + 1, end, SIP_C_DIGIT);
		if (!sip_parse_uint(buf, pos + 1, p - (pos + 1), 65535, &port) || port == 0)
			return -1;
		uri->port = (uint16_t)port;
		pos = p;
	}
	return params_headers(buf, pos, end, uri);
}

int sip_uri_parse(const uint8_t *buf, uint32_t off, uint32_t len, struct sip_uri *uri)
{
	uint32_t end = off + len;
	uint32_t s_end, pos;

	memset(uri, 0, sizeof(*uri));
	uri->whole = sip_slice(off, end);

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), case-insensitive (§19.1.4). */
	if (len == 0 || !sip_is(buf[off], SIP_C_ALPHA))
		return -1;
	s_end = sip_span(buf, off + 1, end, SIP_C_SCHEME);
	if (s_end == end || buf[s_end] != ':')
		return -1;
	pos = s_end + 1;
	if (s_end - off == 3 && sip_ieq(buf + off, "sip", 3))
		uri->scheme = SIP_SCHEME_SIP;
	else if (s_end - off == 4 && sip_ieq(buf + off, "sips", 4))
		uri->scheme = SIP_SCHEME_SIPS;
	else if (s_end - off == 3 && sip_ieq(buf + off, "tel", 3))
		uri->scheme = SIP_SCHEME_TEL;

	switch (uri->scheme) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS:
		return sip_rest(buf, pos, end, uri);
	case SIP_SCHEME_TEL:
		/* RFC 3966: the number goes in user, its ";" parameters in params. */
		uri->user = sip_slice(pos, sip_span(buf, pos, end, SIP_C_TEL));
		if (uri->user.len == 0)
			return -1;
		return params_headers(buf, pos + uri->user.len, end, uri);
	default:
		/* §19.1.6 admits any absoluteURI; only its characters are checked. */
		if (pos == end || sip_span_esc(buf, pos, end, SIP_C_URIC) != end)
			return -1;
		return 0;
	}
}
