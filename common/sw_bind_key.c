/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The canonical keys of the binding table (sw_bind.h): push addresses
 * (sw_pn_key()) and AORs (sw_aor_canon()), %-unescaped, so that what the
 * registrar stored and what a PBX or an app writes later compare equal.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/sw_bind_internal.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sw_unescape(char *out, size_t cap, const char *in, size_t len)
{
	size_t o = 0, i = 0;

	/* Unescaping only shrinks: when the input fits, no byte needs the
	 * capacity check (the workers build a key per call from the PBX). */
	if (len < cap) {
		/* Bytes the loop below must look at: "%", control bytes. */
		static const uint8_t stop[256] = {[0 ... 0x1f] = 1, ['%'] = 1, [0x7f] = 1};

		while (i < len && !stop[(unsigned char)in[i]]) {
			out[i] = in[i];
			i++;
		}
		o = i;
	}
	for (; i < len; i++) {
		int c = (unsigned char)in[i];

		if (c == '%') {
			int hi = i + 2 < len ? hexval(in[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(in[i + 2]) : -1;

			if (lo < 0)
				return -EINVAL;
			c = hi << 4 | lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == SW_PN_SEP)
			return -EINVAL;
		if (o + 1 >= cap)
			return -E2BIG;
		out[o++] = (char)c;
	}
	if (o >= cap)
		return -E2BIG;
	out[o] = '\0';
	return (int)o;
}

int sw_pn_key(char *out, size_t cap, const char *provider, size_t provider_len, const char *prid,
	      size_t prid_len, const char *param, size_t param_len)
{
	int a, b, c;

	a = sw_unescape(out, cap, provider, provider_len);
	if (a < 0)
		return a;
	for (int i = 0; i < a; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] | 0x20);
	if ((size_t)a + 1 >= cap)
		return -E2BIG;
	out[a] = SW_PN_SEP;
	b = sw_unescape(out + a + 1, cap - (size_t)a - 1, prid, prid_len);
	if (b < 0)
		return b;
	if ((size_t)(a + b) + 2 >= cap)
		return -E2BIG;
	out[a + 1 + b] = SW_PN_SEP;
	c = sw_unescape(out + a + b + 2, cap - (size_t)(a + b) - 2, param, param_len);
	if (c < 0)
		return c;
	return a + b + c + 2;
}

const char *sw_pn_provider_alias(uint8_t form, const char *p, size_t len)
{
#define IS(lit) (len == sizeof(lit) - 1 && strncasecmp(p, lit, len) == 0)
	if (form == SW_PN_LEGACY) {
		if (IS("apple") || IS("ios"))
			return "apns";
		if (IS("google") || IS("firebase") || IS("android"))
			return "fcm";
	} else if (form == SW_PN_XPUSH) {
		if (IS("ios"))
			return "apns";
		if (IS("android"))
			return "fcm";
	}
	return NULL;
#undef IS
}

int sw_pn_key_form(char *out, size_t cap, uint8_t form, const char *provider, size_t provider_len,
		   const char *prid, size_t prid_len, const char *param, size_t param_len)
{
	char prov[SW_PN_FIELD_MAX];
	const char *alias;
	int n = sw_unescape(prov, sizeof(prov), provider, provider_len);

	if (n < 0)
		return n;
	alias = sw_pn_provider_alias(form, prov, (size_t)n);
	if (alias != NULL)
		return sw_pn_key(out, cap, alias, strlen(alias), prid, prid_len, param, param_len);
	return sw_pn_key(out, cap, provider, provider_len, prid, prid_len, param, param_len);
}

int sw_aor_canon(char *out, size_t cap, const char *user, size_t user_len, const char *host,
		 size_t host_len, bool host_v6)
{
	size_t o;
	int u;

	if (user_len == 0 || host_len == 0)
		return -EINVAL;
	u = sw_unescape(out, cap, user, user_len);
	if (u < 0)
		return u;
	o = (size_t)u;
	if (o + 1 + host_len + (host_v6 ? 2 : 0) >= cap)
		return -E2BIG;
	out[o++] = '@';
	if (host_v6)
		out[o++] = '[';
	for (size_t i = 0; i < host_len; i++) {
		char c = host[i];

		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	if (host_v6)
		out[o++] = ']';
	out[o] = '\0';
	return (int)o;
}
