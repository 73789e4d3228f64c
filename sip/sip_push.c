/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Push addresses, in the three forms apps send:
 * - RFC 8599 §4.1 SIP URI parameters of the Contact:
 *   pn-provider=apns;pn-prid=<token>;pn-param=<team>.<bundle>.voip
 * - the legacy (pre-RFC 8599, Linphone) parameters:
 *   pn-type=apple;app-id=<bundle>;pn-tok=<token>
 * - PortSIP's header (X-Push, x-p-push or portsip-push):
 *   x-p-push: device-os=ios;device-uid=<voip>|<regular>;allow-call-push=true;app-id=<bundle>
 * The scanner only finds them: values stay raw slices (possibly %-escaped);
 * mapping provider names and checking tokens is the control plane's job.
 * Parameter names are case-insensitive (RFC 3261 §19.1.4), values are not.
 */
#include <errno.h>
#include <string.h>

#include "sip/sip_internal.h"

#define NAME_IS(buf, n, lit) \
	((n).len == sizeof(lit) - 1 && sip_ieq((buf) + (n).off, lit, sizeof(lit) - 1))

/* Next "name[=value]" of a ";"-separated list in [*pos, end); false at the end. */
static bool next_param(const uint8_t *buf, uint32_t *pos, uint32_t end, struct sip_slice *name,
		       struct sip_slice *value)
{
	uint32_t p = *pos, s, e, eq;

	while (p < end && (buf[p] == ';' || sip_is(buf[p], SIP_C_WSP)))
		p++;
	if (p == end)
		return false;
	s = p;
	/* Vector search for the delimiters: parameters run to 100+ bytes (tokens). */
	e = sip_find_byte(buf, s, end, ';');
	*pos = e;
	while (e > s && sip_is(buf[e - 1], SIP_C_WSP))
		e--;
	eq = sip_find_byte(buf, s, e, '=');
	*name = sip_slice(s, eq);
	while (name->len > 0 && sip_is(buf[name->off + name->len - 1u], SIP_C_WSP))
		name->len--;
	if (eq < e) {
		eq++;
		while (eq < e && sip_is(buf[eq], SIP_C_WSP))
			eq++;
	}
	*value = sip_slice(eq, e);
	return true;
}

/* A push parameter seen once more flags its address: a PBX keeps both and
 * may pick either, so the registrar refuses it rather than guess. */
static void set_once(struct sip_push *pn, struct sip_slice *field, struct sip_slice value)
{
	if (field->len != 0)
		pn->flags |= SIP_PN_DUP;
	*field = value;
}

void sip_push_from_uri(const uint8_t *buf, const struct sip_uri *uri, struct sip_push *pn)
{
	struct sip_push std = {0}, old = {0};
	struct sip_slice name, value;
	uint32_t pos = uri->params.off, end = (uint32_t)uri->params.off + uri->params.len;

	while (next_param(buf, &pos, end, &name, &value)) {
		if (value.len == 0)
			continue;
		/* By length first: one compare per parameter at most. */
		switch (name.len) {
		case 11:
			if (NAME_IS(buf, name, "pn-provider"))
				set_once(&std, &std.provider, value);
			break;
		case 8:
			if (NAME_IS(buf, name, "pn-param"))
				set_once(&std, &std.param, value);
			break;
		case 7:
			if (NAME_IS(buf, name, "pn-prid"))
				set_once(&std, &std.prid, value);
			else if (NAME_IS(buf, name, "pn-type"))
				set_once(&old, &old.provider, value);
			break;
		case 6:
			if (NAME_IS(buf, name, "pn-tok"))
				set_once(&old, &old.prid, value);
			else if (NAME_IS(buf, name, "app-id"))
				set_once(&old, &old.param, value);
			break;
		default:
			break;
		}
	}
	/* RFC 8599 §4.1.1: pn-provider is what makes it a push address; pn-prid
	 * may be absent for some services. The standard form wins over the old. */
	if (std.provider.len != 0) {
		std.form = SIP_PN_RFC8599;
		*pn = std;
	} else if (old.provider.len != 0 && old.prid.len != 0) {
		old.form = SIP_PN_LEGACY;
		*pn = old;
	}
}

void sip_push_from_params(const uint8_t *buf, struct sip_slice params, struct sip_push *pn)
{
	struct sip_uri uri = {.params = params};

	*pn = (struct sip_push){.form = SIP_PN_NONE};
	sip_push_from_uri(buf, &uri, pn);
}

bool sip_push_from_xpush(const uint8_t *buf, struct sip_slice val, struct sip_push *pn)
{
	struct sip_push x = {.form = SIP_PN_XPUSH};
	struct sip_slice name, value;
	uint32_t pos = val.off, end = (uint32_t)val.off + val.len;

	while (next_param(buf, &pos, end, &name, &value)) {
		if (NAME_IS(buf, name, "device-os"))
			set_once(&x, &x.provider, value);
		else if (NAME_IS(buf, name, "device-uid"))
			set_once(&x, &x.prid, value);
		else if (NAME_IS(buf, name, "app-id"))
			set_once(&x, &x.param, value);
		else if (NAME_IS(buf, name, "allow-call-push") && value.len == 5 &&
			 sip_ieq(buf + value.off, "false", 5))
			return false; /* the app asked not to be woken for calls */
	}
	if (x.provider.len == 0 || x.prid.len == 0)
		return false;
	*pn = x;
	return true;
}

/* The ";name[=value]" at @p s of a URI's parameters ending at @p end: its end
 * (the next ";" or @p end) and what its name means. */
static uint32_t uri_param(const char *uri, uint32_t s, uint32_t end, enum sip_pn_name *kind)
{
	const char *e = memchr(uri + s + 1, ';', end - s - 1);
	uint32_t pe = e != NULL ? (uint32_t)(e - uri) : end;
	const char *eq = memchr(uri + s + 1, '=', pe - s - 1);
	uint32_t ne = eq != NULL ? (uint32_t)(eq - uri) : pe;

	*kind = sip_pn_name((const uint8_t *)uri + s + 1, ne - s - 1);
	return pe;
}

int sip_uri_without_pn(const char *uri, uint32_t len, struct sip_slice *out, unsigned max)
{
	const char *q = memchr(uri, '?', len), *p;
	uint32_t pend = q != NULL ? (uint32_t)(q - uri) : len, ps, keep = 0;
	enum sip_pn_name kind;
	bool legacy = false;
	unsigned n = 0;

	if (len > UINT16_MAX)
		return -E2BIG;
	p = memchr(uri, ';', pend);
	ps = p != NULL ? (uint32_t)(p - uri) : pend;
	/* app-id is a push parameter only beside pn-type, wherever that is. */
	for (uint32_t s = ps; s < pend && !legacy;) {
		s = uri_param(uri, s, pend, &kind);
		legacy = kind == SIP_PN_NAME_TYPE;
	}
	for (uint32_t s = ps, e; s < pend; s = e) {
		e = uri_param(uri, s, pend, &kind);
		if (kind == SIP_PN_NAME_NOT || (kind == SIP_PN_NAME_APP_ID && !legacy))
			continue;
		if (s > keep) {
			if (n == max)
				return -E2BIG;
			out[n++] = (struct sip_slice){(uint16_t)keep, (uint16_t)(s - keep)};
		}
		keep = e;
	}
	if (len > keep) {
		if (n == max)
			return -E2BIG;
		out[n++] = (struct sip_slice){(uint16_t)keep, (uint16_t)(len - keep)};
	}
	return (int)n;
}
