/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Contact, Route and Record-Route (RFC 3261 §20.10, §20.30, §20.34, §25.1):
 *   Contact      = ( STAR / ( contact-param *( COMMA contact-param ) ) )
 *   contact-param = ( name-addr / addr-spec ) *( SEMI contact-params )
 *   Route        = route-param *( COMMA route-param )
 *   route-param  = name-addr *( SEMI rr-param )
 * plus the parameters a registrar of push devices needs: expires (§20.10),
 * +sip.instance and reg-id (RFC 5626 §4.1), and the push address (RFC 8599
 * §4.1 URI parameters, or the legacy form; see sip_push.c).
 * Every value of the list is validated; the first one is kept.
 *
 * A parameter given twice is malformed in a request (two hops could read
 * two different bindings), but a registrar's answer may repeat expires=
 * (one echoed from the request, one of its own): there the smallest is kept
 * and expires_differ says they differed (docs/design.md §1.1, "What a 2xx
 * grants"): the binding lasts no longer than any reading of the answer.
 */
#include <string.h>

#include "sip/sip_internal.h"

#define PARAM_IS(buf, sl, lit) \
	((sl).len == sizeof(lit) - 1 && sip_ieq((buf) + (sl).off, lit, sizeof(lit) - 1))

/*
 * The contact-params after the URI, up to the "," that starts the next value
 * or the end. @p c is NULL for values after the first: validated, not kept.
 * @p answer: in a response, where expires= may repeat.
 */
static bool contact_params(const uint8_t *buf, uint32_t *ppos, uint32_t end, struct sip_contact *c,
			   bool answer)
{
	uint32_t pos = *ppos;
	bool have_exp = false, have_inst = false, have_regid = false;

	for (;;) {
		struct sip_slice name, value;
		uint32_t p = sip_skip_lws(buf, pos, end);

		if (p == end || buf[p] == ',') {
			*ppos = p;
			return true;
		}
		if (buf[p] != ';')
			return false;
		pos = p + 1;
		if (!sip_gen_param(buf, &pos, end, &name, &value))
			return false;
		/* A repeated parameter would let two hops read two different bindings. */
		if (PARAM_IS(buf, name, "expires")) {
			int32_t e;

			if ((have_exp && !answer) ||
			    !sip_parse_delta(buf, value.off, value.len, &e))
				return false;
			if (c != NULL && have_exp && e != c->expires)
				c->expires_differ = 1;
			if (c != NULL && (!have_exp || e < c->expires))
				c->expires = e;
			have_exp = true;
		} else if (PARAM_IS(buf, name, "+sip.instance")) {
			/* RFC 5626 §4.1: a quoted "<urn:...>"; keep what is inside the quotes. */
			if (have_inst || value.len < 3 || buf[value.off] != '"')
				return false;
			have_inst = true;
			if (c != NULL)
				c->instance = sip_slice(value.off + 1u, value.off + value.len - 1u);
		} else if (PARAM_IS(buf, name, "reg-id")) {
			uint32_t n;

			/* RFC 5626 §4.1: reg-id = 1*DIGIT, 1..2**31-1 */
			if (have_regid ||
			    !sip_parse_uint(buf, value.off, value.len, INT32_MAX, &n) || n == 0)
				return false;
			have_regid = true;
			if (c != NULL)
				c->reg_id = (int32_t)n;
		}
	}
}

enum sip_verdict sip_contact_parse(const uint8_t *buf, struct sip_slice val, struct sip_msg *msg)
{
	uint32_t pos = val.off;
	uint32_t end = (uint32_t)val.off + val.len;

	if (val.len == 1 && buf[pos] == '*') {
		/* §10.2.2: "*" stands alone, in the only Contact value of the message. */
		if (msg->contact_star || msg->n_contacts != 0)
			return SIP_ERR_BAD_CONTACT;
		msg->contact_star = 1;
		return SIP_SCAN_OK;
	}
	if (msg->contact_star)
		return SIP_ERR_BAD_CONTACT;
	for (;;) {
		struct sip_contact first = {.expires = -1, .reg_id = -1};
		struct sip_contact *c = msg->n_contacts == 0 ? &first : NULL;
		struct sip_uri uri, *u = c != NULL ? &c->uri : &uri;
		uint32_t start = sip_skip_lws(buf, pos, end);
		uint32_t params;

		pos = start;
		if (!sip_addr_parse(buf, &pos, end, false, u))
			return SIP_ERR_BAD_CONTACT;
		params = pos;
		if (!contact_params(buf, &pos, end, c, !msg->is_request))
			return SIP_ERR_BAD_CONTACT;
		if (c != NULL) {
			c->value = sip_slice(start, pos);
			sip_push_from_uri(buf, &c->uri, &c->pn);
			if (c->pn.form == SIP_PN_NONE && pos > params) {
				/*
				 * An unbracketed Contact puts every ";" parameter in
				 * the header (§20.10), so "sip:a@h;pn-prid=..." carries
				 * its push address there. Read it from there too.
				 */
				struct sip_uri hp = {.params = sip_slice(params, pos)};

				sip_push_from_uri(buf, &hp, &c->pn);
			}
			msg->contact = first;
		}
		if (msg->n_contacts < UINT8_MAX)
			msg->n_contacts++;
		if (pos == end)
			return SIP_SCAN_OK;
		pos++; /* the "," */
	}
}

enum sip_verdict sip_route_parse(const uint8_t *buf, struct sip_slice val, struct sip_uri *first,
				 uint16_t *first_next)
{
	uint32_t pos = val.off;
	uint32_t end = (uint32_t)val.off + val.len;

	for (;;) {
		struct sip_uri uri;
		bool is_first = first->whole.len == 0;

		if (!sip_addr_parse(buf, &pos, end, true, &uri))
			return SIP_ERR_BAD_ROUTE;
		if (is_first)
			*first = uri;
		/* rr-param = generic-param: validated, none of them is ours to read. */
		if (!contact_params(buf, &pos, end, NULL, false))
			return SIP_ERR_BAD_ROUTE;
		if (is_first && first_next != NULL)
			*first_next =
				(uint16_t)(pos == end ? end : sip_skip_lws(buf, pos + 1, end));
		if (pos == end)
			return SIP_SCAN_OK;
		pos++;
	}
}

int sip_contacts(const uint8_t *buf, struct sip_slice val, struct sip_contact *out, unsigned max)
{
	uint32_t pos = val.off, end = (uint32_t)val.off + val.len;
	unsigned n = 0;

	if (val.len == 1 && buf[pos] == '*')
		return 0;
	while (n < max) {
		struct sip_contact *c = &out[n];
		uint32_t start = sip_skip_lws(buf, pos, end);

		*c = (struct sip_contact){.expires = -1, .reg_id = -1};
		pos = start;
		if (!sip_addr_parse(buf, &pos, end, false, &c->uri) ||
		    !contact_params(buf, &pos, end, c, true))
			return -1;
		c->value = sip_slice(start, pos);
		sip_push_from_uri(buf, &c->uri, &c->pn);
		n++;
		if (pos == end)
			break;
		pos++; /* the "," */
	}
	return (int)n;
}

enum sip_verdict sip_route_first(const uint8_t *buf, struct sip_slice val, struct sip_uri *uri,
				 uint16_t *next)
{
	uint32_t pos = val.off;
	uint32_t end = (uint32_t)val.off + val.len;

	if (!sip_addr_parse(buf, &pos, end, true, uri) ||
	    !contact_params(buf, &pos, end, NULL, false))
		return SIP_ERR_BAD_ROUTE;
	/* contact_params() stops on the "," of the next value or at the end. */
	if (pos < end)
		pos = sip_skip_lws(buf, pos + 1, end);
	*next = (uint16_t)pos;
	return SIP_SCAN_OK;
}
