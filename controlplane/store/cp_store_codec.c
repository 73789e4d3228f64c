/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A binding as JSON for other edges, and a device key read back
 * (cp_store_codec.h). JSON because an operator reads it with redis-cli and
 * a later version can add fields: keys unknown here are ignored.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "common/sw_tp.h"
#include "controlplane/store/cp_store_codec.h"

#define PN_SEP '\x1f' /* as sw_pn_key() */

int cp_codec_encode(const struct sw_bind_rec *r, char *out, size_t cap)
{
	char ip[64];
	json_t *o;
	size_t n;

	sw_ip_str(&r->src, ip, sizeof(ip));
	o = json_pack("{s:s%,s:s%,s:s%,s:i,s:i,s:s%,s:s%,s:s%,s:i,s:s,s:i,s:i,s:I,s:I}", "aor",
		      r->aor, (size_t)r->aor_len, "contact", r->contact, (size_t)r->contact_len,
		      "instance", r->instance != NULL ? r->instance : "", (size_t)r->instance_len,
		      "pn_form", r->pn_form, "pn_dead", r->pn_dead, "pn_provider",
		      r->pn_provider != NULL ? r->pn_provider : "", (size_t)r->pn_provider_len,
		      "pn_prid", r->pn_prid != NULL ? r->pn_prid : "", (size_t)r->pn_prid_len,
		      "pn_param", r->pn_param != NULL ? r->pn_param : "", (size_t)r->pn_param_len,
		      "tp", r->tp, "src", ip, "sport", r->sport, "iface", r->iface, "registered_at",
		      (json_int_t)r->registered_at, "expires_at", (json_int_t)r->expires_at);
	if (o == NULL)
		return -ENOMEM;
	n = json_dumpb(o, out, cap, JSON_COMPACT);
	json_decref(o);
	if (n == 0 || n >= cap)
		return -E2BIG;
	out[n] = '\0';
	return (int)n;
}

/* A string member into @p buf at *@p at (NUL-terminated), bounded by @p max. */
static int take(json_t *o, const char *name, size_t max, char *buf, size_t *at, const char **p,
		uint16_t *len)
{
	json_t *v = json_object_get(o, name);
	size_t n;

	if (!json_is_string(v) || (n = json_string_length(v)) >= max)
		return -EINVAL;
	memcpy(buf + *at, json_string_value(v), n);
	buf[*at + n] = '\0';
	*p = buf + *at;
	*len = (uint16_t)n;
	*at += n + 1;
	return 0;
}

static int num(json_t *o, const char *name, long long lo, long long hi, long long *v)
{
	json_t *j = json_object_get(o, name);

	if (!json_is_integer(j))
		return -EINVAL;
	*v = json_integer_value(j);
	return *v < lo || *v > hi ? -EINVAL : 0;
}

int cp_codec_decode(const char *val, size_t len, struct sw_bind_rec *r, char *buf)
{
	json_t *o = json_loadb(val, len, JSON_REJECT_DUPLICATES, NULL);
	long long form, dead, tp, sport, iface, reg, exp;
	const char *ip;
	uint16_t iplen;
	size_t at = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	rc = take(o, "aor", SW_AOR_MAX, buf, &at, &r->aor, &r->aor_len);
	rc = rc ?: take(o, "contact", SW_CONTACT_MAX, buf, &at, &r->contact, &r->contact_len);
	rc = rc ?: take(o, "instance", SW_INSTANCE_MAX, buf, &at, &r->instance, &r->instance_len);
	rc = rc
		     ?: take(o, "pn_provider", SW_PN_FIELD_MAX, buf, &at, &r->pn_provider,
			     &r->pn_provider_len);
	rc = rc ?: take(o, "pn_prid", SW_PN_FIELD_MAX, buf, &at, &r->pn_prid, &r->pn_prid_len);
	rc = rc ?: take(o, "pn_param", SW_PN_FIELD_MAX, buf, &at, &r->pn_param, &r->pn_param_len);
	/* The address last: its text is parsed, then its room reused. */
	rc = rc ?: take(o, "src", 64, buf, &at, &ip, &iplen);
	rc = rc ?: sw_ip_parse(ip, iplen, &r->src) == 0 ? 0 : -EINVAL;
	rc = rc ?: num(o, "pn_form", 0, 255, &form);
	rc = rc ?: num(o, "pn_dead", 0, 255, &dead);
	rc = rc ?: num(o, "tp", 0, SW_TP_N - 1, &tp);
	rc = rc ?: num(o, "sport", 0, 65535, &sport);
	rc = rc ?: num(o, "iface", 0, 255, &iface);
	rc = rc ?: num(o, "registered_at", 0, INT64_MAX, &reg);
	rc = rc ?: num(o, "expires_at", 0, INT64_MAX, &exp);
	json_decref(o);
	if (rc != 0)
		return -EINVAL;
	r->pn_form = (uint8_t)form;
	r->pn_dead = (uint8_t)dead;
	r->tp = (uint8_t)tp;
	r->sport = (uint16_t)sport;
	r->iface = (uint8_t)iface;
	r->registered_at = reg;
	r->expires_at = exp;
	return sw_bind_rec_check(r) == 0 ? 0 : -EINVAL;
}

int cp_codec_key_rec(const char *aor, size_t alen, const char *key, size_t klen,
		     struct sw_bind_rec *r)
{
	const char *a, *b, *end = key + klen;

	memset(r, 0, sizeof(*r));
	if (alen == 0 || alen >= SW_AOR_MAX || klen < 3 || key[1] != ':')
		return -EINVAL;
	r->aor = aor;
	r->aor_len = (uint16_t)alen;
	switch (key[0]) {
	case 'i':
		r->instance = key + 2;
		r->instance_len = (uint16_t)(klen - 2);
		return 0;
	case 'c':
		r->contact = key + 2;
		r->contact_len = (uint16_t)(klen - 2);
		return 0;
	case 'p':
		a = memchr(key + 2, PN_SEP, klen - 2);
		b = a != NULL ? memchr(a + 1, PN_SEP, (size_t)(end - a - 1)) : NULL;
		if (b == NULL)
			return -EINVAL;
		/* The form is not in the key: any form with these fields is the
		 * same device (sw_bind_match() compares the fields). */
		r->pn_form = SW_PN_RFC8599;
		r->pn_provider = key + 2;
		r->pn_provider_len = (uint16_t)(a - key - 2);
		r->pn_prid = a + 1;
		r->pn_prid_len = (uint16_t)(b - a - 1);
		r->pn_param = b + 1;
		r->pn_param_len = (uint16_t)(end - b - 1);
		return 0;
	default:
		return -EINVAL;
	}
}
