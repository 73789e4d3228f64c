/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A binding as a value other edges read, and a device key read back
 * (cp_store_codec.h). The value is one record: "sw1", then every field
 * separated by 0x1f (the ASCII unit separator, which no field may hold; a
 * device key and a push-address key use it the same way):
 *
 *   sw1 US aor US contact US instance US pn_form US pn_dead US pn_provider
 *   US pn_prid US pn_param US tp US src US sport US iface US registered_at
 *   US expires_at [US push_key]
 *
 * push_key (docs/push-encryption.md) is 64 lower-case hex characters, and
 * only there when the device gave one: a record without it is byte for
 * byte what an edge of the version before wrote, and still reads.
 *
 * Not JSON: jansson took 10 µs to build and 12 µs to read one binding
 * (bench_cluster, docs/performance.md), a fifth of the control plane's
 * budget per REGISTER and most of a restarted edge's load; this takes well
 * under a microsecond, and redis-cli still shows it as text. A later
 * version writes "sw2"; a reader refuses what it does not know (counted,
 * feed_bad) rather than guess.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/sw_tp.h"
#include "controlplane/store/cp_store_codec.h"
#include "controlplane/store/cp_store_internal.h"

#define PN_SEP '\x1f' /* as sw_pn_key() */
#define US     '\x1f'
#define MAGIC  "sw1"
#define FIELDS 16 /* the magic, 14 fields and the optional push key */

/* Append @p len bytes of @p p and a separator; false when out of room or
 * when the field holds a separator itself. */
static bool put(char *out, size_t cap, size_t *at, const char *p, size_t len, bool last)
{
	if (len > 0 && memchr(p, US, len) != NULL)
		return false;
	if (*at + len + 1 >= cap) {
		*at = cap; /* out of room: cp_codec_encode() says -E2BIG */
		return false;
	}
	if (len > 0)
		memcpy(out + *at, p, len);
	*at += len;
	if (!last)
		out[(*at)++] = US;
	return true;
}

static bool put_int(char *out, size_t cap, size_t *at, long long v, bool last)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", v);

	return put(out, cap, at, b, (size_t)n, last);
}

int cp_codec_encode(const struct sw_bind_rec *r, char *out, size_t cap)
{
	char ip[64];
	size_t at = 0;
	bool ok;

	sw_ip_str(&r->src, ip, sizeof(ip));
	ok = put(out, cap, &at, MAGIC, sizeof(MAGIC) - 1, false) &&
	     put(out, cap, &at, r->aor, r->aor_len, false) &&
	     put(out, cap, &at, r->contact, r->contact_len, false) &&
	     put(out, cap, &at, r->instance, r->instance_len, false) &&
	     put_int(out, cap, &at, r->pn_form, false) &&
	     put_int(out, cap, &at, r->pn_dead, false) &&
	     put(out, cap, &at, r->pn_provider, r->pn_provider_len, false) &&
	     put(out, cap, &at, r->pn_prid, r->pn_prid_len, false) &&
	     put(out, cap, &at, r->pn_param, r->pn_param_len, false) &&
	     put_int(out, cap, &at, r->tp, false) && put(out, cap, &at, ip, strlen(ip), false) &&
	     put_int(out, cap, &at, r->sport, false) && put_int(out, cap, &at, r->iface, false) &&
	     put_int(out, cap, &at, r->registered_at, false) &&
	     put_int(out, cap, &at, r->expires_at, !r->push_key_set);
	if (ok && r->push_key_set) {
		static const char hex[] = "0123456789abcdef";
		char k[2 * SW_PUSH_KEY_LEN];

		for (unsigned i = 0; i < SW_PUSH_KEY_LEN; i++) {
			k[2 * i] = hex[r->push_key[i] >> 4];
			k[2 * i + 1] = hex[r->push_key[i] & 15];
		}
		ok = put(out, cap, &at, k, sizeof(k), true);
	}
	if (!ok)
		return at + 1 >= cap ? -E2BIG : -EINVAL;
	out[at] = '\0';
	return (int)at;
}

/* Field @p f (@p len bytes) as a decimal integer in [@p lo, @p hi]. */
static bool num(const char *f, size_t len, long long lo, long long hi, long long *v)
{
	unsigned long long x = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (f[i] < '0' || f[i] > '9')
			return false;
		x = x * 10 + (unsigned)(f[i] - '0');
	}
	if (x > (unsigned long long)hi || (long long)x < lo)
		return false;
	*v = (long long)x;
	return true;
}

/* The push key field: 64 lower-case hex characters. */
static bool key_field(const char *f, size_t len, uint8_t key[SW_PUSH_KEY_LEN])
{
	if (len != 2 * SW_PUSH_KEY_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = f[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return false;
		key[i / 2] = (uint8_t)(i % 2 ? key[i / 2] | v : v << 4);
	}
	return true;
}

/* String field @p f (@p len bytes, shorter than @p max) into @p buf at *@p at. */
static bool take(const char *f, size_t len, size_t max, char *buf, size_t *at, const char **p,
		 uint16_t *plen)
{
	if (len >= max)
		return false;
	memcpy(buf + *at, f, len);
	buf[*at + len] = '\0';
	*p = buf + *at;
	*plen = (uint16_t)len;
	*at += len + 1;
	return true;
}

int cp_codec_decode(const char *val, size_t len, struct sw_bind_rec *r, char *buf)
{
	const char *f[FIELDS], *end = val + len, *p = val;
	size_t fl[FIELDS], at = 0;
	long long form, dead, tp, sport, iface, reg, exp;
	const char *ip;
	uint16_t iplen;
	unsigned n = 0;

	memset(r, 0, sizeof(*r));
	while (n < FIELDS) {
		const char *e = memchr(p, US, (size_t)(end - p));

		f[n] = p;
		fl[n] = (size_t)((e != NULL ? e : end) - p);
		n++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	if (n < FIELDS - 1 || f[n - 1] + fl[n - 1] != end || fl[0] != sizeof(MAGIC) - 1 ||
	    memcmp(f[0], MAGIC, fl[0]) != 0)
		return -EINVAL;
	if (n == FIELDS) {
		if (!key_field(f[15], fl[15], r->push_key))
			return -EINVAL;
		r->push_key_set = 1;
	}
	if (!take(f[1], fl[1], SW_AOR_MAX, buf, &at, &r->aor, &r->aor_len) ||
	    !take(f[2], fl[2], SW_CONTACT_MAX, buf, &at, &r->contact, &r->contact_len) ||
	    !take(f[3], fl[3], SW_INSTANCE_MAX, buf, &at, &r->instance, &r->instance_len) ||
	    !num(f[4], fl[4], 0, 255, &form) || !num(f[5], fl[5], 0, 255, &dead) ||
	    !take(f[6], fl[6], SW_PN_FIELD_MAX, buf, &at, &r->pn_provider, &r->pn_provider_len) ||
	    !take(f[7], fl[7], SW_PN_FIELD_MAX, buf, &at, &r->pn_prid, &r->pn_prid_len) ||
	    !take(f[8], fl[8], SW_PN_FIELD_MAX, buf, &at, &r->pn_param, &r->pn_param_len) ||
	    !num(f[9], fl[9], 0, SW_TP_N - 1, &tp) ||
	    !take(f[10], fl[10], 64, buf, &at, &ip, &iplen) ||
	    sw_ip_parse(ip, iplen, &r->src) != 0 || !num(f[11], fl[11], 0, 65535, &sport) ||
	    !num(f[12], fl[12], 0, 255, &iface) || !num(f[13], fl[13], 0, INT64_MAX, &reg) ||
	    !num(f[14], fl[14], 0, INT64_MAX, &exp))
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

const char *cp_store_ip_text(const struct sw_ip *ip, char *buf, size_t cap)
{
	if (sw_ip_is_v4(ip))
		return inet_ntop(AF_INET, &ip->a[12], buf, (socklen_t)cap);
	return inet_ntop(AF_INET6, ip->a, buf, (socklen_t)cap);
}

bool cp_store_ip_parse(const char *s, struct sw_ip *ip)
{
	uint32_t v4;

	if (strchr(s, ':') != NULL)
		return inet_pton(AF_INET6, s, ip->a) == 1;
	if (inet_pton(AF_INET, s, &v4) != 1)
		return false;
	*ip = sw_ip_from_v4(v4);
	return true;
}
