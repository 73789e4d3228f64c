/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From / To (RFC 3261 §20.20, §20.39, §25.1):
 *   ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *( token LWS ) / quoted-string
 * Without angle brackets, every ";" parameter belongs to the header, not
 * to the URI (§20.10), so tag is found the same way in both forms.
 */
#include <string.h>

#include "sip/sip_internal.h"

/*
 * End of an addr-spec URI: §20.10 requires brackets around any URI holding
 * ",", "?" or ";", so the first of those, or LWS, ends it; whatever follows
 * must then be a header parameter.
 */
static uint32_t addr_spec_end(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	while (pos < end && buf[pos] != ';' && buf[pos] != ',' && buf[pos] != '?' &&
	       buf[pos] != '\r' && !sip_is(buf[pos], SIP_C_WSP))
		pos++;
	return pos;
}

/*
 * Start of "<" after an unquoted display-name, or 0 if the value does not
 * begin with one (0 is never the answer: a start line precedes any header).
 * display-name tokens admit no bytes >= 0x80, but unquoted UTF-8 names are
 * common in the field and delimit nothing, so they are let through.
 */
static uint32_t display_then_laquot(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	for (;;) {
		uint32_t t = sip_span(buf, pos, end, SIP_C_TOKEN | SIP_C_UTF8);
		uint32_t w = sip_skip_lws(buf, t, end);

		if (w == pos)
			break;
		pos = w;
	}
	return pos < end && buf[pos] == '<' ? pos : 0;
}

static bool header_params(const uint8_t *buf, uint32_t pos, uint32_t end, struct sip_nameaddr *na)
{
	for (;;) {
		struct sip_slice name, value;
		uint32_t p = sip_skip_lws(buf, pos, end);

		if (p == end)
			return true;
		/* From and To are single-valued: a "," here is a second value, not a list. */
		if (buf[p] != ';')
			return false;
		pos = p + 1;
		if (!sip_gen_param(buf, &pos, end, &name, &value))
			return false;
		if (name.len == 3 && sip_ieq(buf + name.off, "tag", 3)) {
			/* tag = token (§25.1); a second tag would let hops pick different dialogs. */
			if (na->tag.len != 0 || value.len == 0 ||
			    sip_span(buf, value.off, value.off + value.len, SIP_C_TOKEN) !=
				    (uint32_t)value.off + value.len)
				return false;
			na->tag = value;
		}
	}
}

bool sip_addr_parse(const uint8_t *buf, uint32_t *ppos, uint32_t end, bool need_laquot,
		    struct sip_uri *uri)
{
	uint32_t pos = sip_skip_lws(buf, *ppos, end);
	uint32_t laquot = 0;

	if (pos == end)
		return false;
	if (buf[pos] == '"') {
		uint32_t q = sip_skip_quoted(buf, pos, end);

		if (q == 0)
			return false;
		q = sip_skip_lws(buf, q, end);
		if (q == end || buf[q] != '<')
			return false;
		laquot = q;
	} else if (buf[pos] == '<') {
		laquot = pos;
	} else {
		laquot = display_then_laquot(buf, pos, end);
	}

	if (laquot != 0) {
		uint32_t raquot = sip_find_byte(buf, laquot + 1, end, '>');

		if (raquot == end)
			return false;
		if (sip_uri_parse(buf, laquot + 1, raquot - (laquot + 1), uri) != 0)
			return false;
		*ppos = raquot + 1;
		return true;
	}
	if (need_laquot)
		return false;
	uint32_t u = addr_spec_end(buf, pos, end);

	if (sip_uri_parse(buf, pos, u - pos, uri) != 0)
		return false;
	*ppos = u;
	return true;
}

enum sip_verdict sip_nameaddr_parse(const uint8_t *buf, struct sip_slice val,
				    struct sip_nameaddr *na)
{
	uint32_t pos = val.off;
	uint32_t end = (uint32_t)val.off + val.len;

	*na = (struct sip_nameaddr){.value = val};
	if (!sip_addr_parse(buf, &pos, end, false, &na->uri) || !header_params(buf, pos, end, na))
		return SIP_ERR_BAD_NAMEADDR;
	return SIP_SCAN_OK;
}
