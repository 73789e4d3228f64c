/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_jhash.h>

#include "common/sw_bind.h"
#include "common/sw_rcu.h"

#define PN_SEP '\x1f'

/*
 * One device: its five index nodes, the public view and its strings, in one
 * allocation (~210 bytes plus the strings: 515 bytes a device in bench_bind).
 */
struct dev {
	struct sw_rcu_entry head; /* first: freed through it; its node is the id index's */
	struct cds_lfht_node n_aor, n_pn, n_contact;
	/* Writer-side index by source: when the device a shared source names
	 * goes, the source is handed to another device on it (src_handoff()). */
	struct cds_lfht_node n_src;
	uint32_t bytes;
	struct sw_device pub;
	char s[];
};

struct sw_bind_table {
	struct cds_lfht *id, *aor, *pn, *contact, *bysrc;
	struct sw_src_table *src;
	unsigned max, count; /* writer-owned */
	uint64_t next_id;
	size_t bytes;
};

struct str_key {
	const char *s;
	size_t len;
};

struct src_key {
	const struct sw_ip *ip;
	uint16_t port;
};

/* CRC32-C over exactly @len bytes. rte_jhash() reads whole 32-bit words and
 * masks the tail, past the end of the string, and rte_hash_crc() loads
 * unaligned words through casts (ASan / UBSan flag both; the keys come from
 * packet and stack buffers of any length and alignment). memcpy() compiles
 * to one unaligned load. */
static unsigned long hash_str(const char *s, size_t len)
{
	uint32_t h = 0x5173ace;
	uint64_t w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, sizeof(w));
		h = rte_hash_crc_8byte(w, h);
	}
	for (; i < len; i++)
		h = rte_hash_crc_1byte((uint8_t)s[i], h);
	return h;
}

static unsigned long hash_id(uint64_t id)
{
	return rte_jhash_2words((uint32_t)id, (uint32_t)(id >> 32), 0x1d);
}

static unsigned long hash_src(const struct sw_ip *ip, uint16_t port)
{
	return rte_jhash(ip->a, sizeof(ip->a), port);
}

static int match_src(struct cds_lfht_node *node, const void *key)
{
	const struct dev *d = caa_container_of(node, struct dev, n_src);
	const struct src_key *k = key;

	return d->pub.sport == k->port && sw_ip_eq(&d->pub.src, k->ip);
}

static int match_id(struct cds_lfht_node *node, const void *key)
{
	return caa_container_of(node, struct dev, head.node)->pub.id == *(const uint64_t *)key;
}

static int match_aor(struct cds_lfht_node *node, const void *key)
{
	const struct dev *d = caa_container_of(node, struct dev, n_aor);
	const struct str_key *k = key;

	return d->pub.aor_len == k->len && memcmp(d->pub.aor, k->s, k->len) == 0;
}

static int match_contact(struct cds_lfht_node *node, const void *key)
{
	const struct dev *d = caa_container_of(node, struct dev, n_contact);
	const struct str_key *k = key;

	return d->pub.contact_len == k->len && memcmp(d->pub.contact, k->s, k->len) == 0;
}

/* The key is "provider\x1fprid\x1fparam": compared field by field, so the
 * device need not keep a second copy of its token. */
static int match_pn(struct cds_lfht_node *node, const void *key)
{
	const struct dev *d = caa_container_of(node, struct dev, n_pn);
	const struct str_key *k = key;
	size_t a = d->pub.pn_provider_len, b = d->pub.pn_prid_len, c = d->pub.pn_param_len;

	return k->len == a + b + c + 2 && memcmp(k->s, d->pub.pn_provider, a) == 0 &&
	       k->s[a] == PN_SEP && memcmp(k->s + a + 1, d->pub.pn_prid, b) == 0 &&
	       k->s[a + 1 + b] == PN_SEP && memcmp(k->s + a + 2 + b, d->pub.pn_param, c) == 0;
}

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
		if (c < 0x20 || c == 0x7f || c == PN_SEP)
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
	out[a] = PN_SEP;
	b = sw_unescape(out + a + 1, cap - (size_t)a - 1, prid, prid_len);
	if (b < 0)
		return b;
	if ((size_t)(a + b) + 2 >= cap)
		return -E2BIG;
	out[a + 1 + b] = PN_SEP;
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

struct sw_bind_table *sw_bind_create(unsigned max_devices, struct sw_src_table *src)
{
	struct sw_bind_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->id = sw_lfht_new(max_devices);
	t->aor = sw_lfht_new(max_devices);
	t->pn = sw_lfht_new(max_devices);
	t->contact = sw_lfht_new(max_devices);
	t->bysrc = sw_lfht_new(max_devices);
	if (t->id == NULL || t->aor == NULL || t->pn == NULL || t->contact == NULL ||
	    t->bysrc == NULL) {
		sw_bind_free(t);
		return NULL;
	}
	t->src = src;
	t->max = max_devices;
	t->next_id = 1;
	return t;
}

static bool has_pn(const struct sw_device *d)
{
	return d->pn_form != SW_PN_NONE;
}

static unsigned long pn_hash(const struct sw_device *d, struct str_key *k, char *buf)
{
	size_t a = d->pn_provider_len, b = d->pn_prid_len, c = d->pn_param_len;

	memcpy(buf, d->pn_provider, a);
	buf[a] = PN_SEP;
	memcpy(buf + a + 1, d->pn_prid, b);
	buf[a + 1 + b] = PN_SEP;
	memcpy(buf + a + 2 + b, d->pn_param, c);
	k->s = buf;
	k->len = a + b + c + 2;
	return hash_str(buf, k->len);
}

/* Remove @d from every index but the id one. */
static void dev_unlink_keys(struct sw_bind_table *t, struct dev *d)
{
	cds_lfht_del(t->aor, &d->n_aor);
	if (has_pn(&d->pub))
		cds_lfht_del(t->pn, &d->n_pn);
	cds_lfht_del(t->contact, &d->n_contact);
	cds_lfht_del(t->bysrc, &d->n_src);
}

/* Remove @d from every index; the caller frees it after a grace period. */
static void dev_unlink(struct sw_bind_table *t, struct dev *d)
{
	cds_lfht_del(t->id, &d->head.node);
	dev_unlink_keys(t, d);
}

/*
 * Device @gone_id no longer uses (@ip, @port). A shared source names the
 * first device that bound it (sw_src_ref()); if that was @gone_id and other
 * devices still hold the source, rebind it to one of them, so that a worker
 * never reports a datagram from a bound source with the id of a removed
 * device. Call after the device's reference is released and its n_src node
 * unlinked.
 */
static void src_handoff(struct sw_bind_table *t, const struct sw_ip *ip, uint16_t port,
			uint64_t gone_id)
{
	struct src_key k = {ip, port};
	struct sw_src *e = sw_src_lookup(t->src, ip, port);
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	if (e == NULL || e->device_id != gone_id)
		return;
	cds_lfht_lookup(t->bysrc, hash_src(ip, port), match_src, &k, &it);
	n = cds_lfht_iter_get_node(&it);
	/* -ENOMEM leaves the old id: the entry is still right about the
	 * source being bound, and the next handoff retries. */
	if (n != NULL)
		sw_src_bind(t->src, ip, port, caa_container_of(n, struct dev, n_src)->pub.id,
			    sw_src_last_alive(e));
}

static void dev_release(struct sw_bind_table *t, struct dev *d, bool handoff)
{
	sw_src_unref(t->src, &d->pub.src, d->pub.sport);
	if (handoff)
		src_handoff(t, &d->pub.src, d->pub.sport, d->pub.id);
	t->bytes -= d->bytes;
	t->count--;
	sw_rcu_free_later(&d->head);
}

/* sw_bind_free(): a device the id index let go. No handoff: every device
 * goes, the sources with them. */
static void dev_gone(struct sw_rcu_entry *e, void *arg)
{
	struct sw_bind_table *t = arg;
	struct dev *d = caa_container_of(e, struct dev, head);

	dev_unlink_keys(t, d);
	sw_src_unref(t->src, &d->pub.src, d->pub.sport);
}

void sw_bind_free(struct sw_bind_table *t)
{
	if (t == NULL)
		return;
	/* The id index holds every device once: it frees them. */
	sw_lfht_free(t->id, dev_gone, t);
	sw_lfht_free(t->aor, NULL, NULL);
	sw_lfht_free(t->pn, NULL, NULL);
	sw_lfht_free(t->contact, NULL, NULL);
	sw_lfht_free(t->bysrc, NULL, NULL);
	free(t);
}

static struct dev *dev_of_pub(const struct sw_device *p)
{
	return caa_container_of((struct sw_device *)(uintptr_t)p, struct dev, pub);
}

const struct sw_device *sw_bind_by_id(const struct sw_bind_table *t, uint64_t id)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(t->id, hash_id(id), match_id, &id, &it);
	n = cds_lfht_iter_get_node(&it);
	return n != NULL ? &caa_container_of(n, struct dev, head.node)->pub : NULL;
}

const struct sw_device *sw_bind_by_pn(const struct sw_bind_table *t, const char *key, size_t len)
{
	struct str_key k = {key, len};
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(t->pn, hash_str(key, len), match_pn, &k, &it);
	n = cds_lfht_iter_get_node(&it);
	return n != NULL ? &caa_container_of(n, struct dev, n_pn)->pub : NULL;
}

const struct sw_device *sw_bind_by_contact(const struct sw_bind_table *t, const char *uri,
					   size_t len)
{
	struct str_key k = {uri, len};
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(t->contact, hash_str(uri, len), match_contact, &k, &it);
	n = cds_lfht_iter_get_node(&it);
	return n != NULL ? &caa_container_of(n, struct dev, n_contact)->pub : NULL;
}

unsigned sw_bind_foreach_aor(const struct sw_bind_table *t, const char *aor, size_t len,
			     int (*fn)(const struct sw_device *d, void *arg), void *arg)
{
	struct str_key k = {aor, len};
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	unsigned visited = 0;

	cds_lfht_lookup(t->aor, hash_str(aor, len), match_aor, &k, &it);
	while ((n = cds_lfht_iter_get_node(&it)) != NULL) {
		visited++;
		if (fn(&caa_container_of(n, struct dev, n_aor)->pub, arg) != 0)
			break;
		cds_lfht_next_duplicate(t->aor, match_aor, &k, &it);
	}
	return visited;
}

void sw_bind_foreach(const struct sw_bind_table *t, int (*fn)(const struct sw_device *d, void *arg),
		     void *arg)
{
	struct cds_lfht_iter it;
	struct dev *d;

	cds_lfht_for_each_entry(t->id, &it, d, head.node)
	{
		if (fn(&d->pub, arg) != 0)
			break;
	}
}

static bool eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

struct match_arg {
	const struct sw_bind_rec *rec;
	const struct sw_device *found;
};

/* RFC 8599 §5.3 and RFC 5626 §4.2: +sip.instance first, then the push
 * address, then the contact. A device with an instance only matches a
 * registration with the same instance (a new instance is a new device). */
static int match_one(const struct sw_device *d, void *arg)
{
	struct match_arg *m = arg;
	const struct sw_bind_rec *r = m->rec;

	if (r->instance_len > 0 || d->instance_len > 0) {
		if (eq(d->instance, d->instance_len, r->instance, r->instance_len))
			goto found;
		return 0;
	}
	if (r->pn_form != SW_PN_NONE || has_pn(d)) {
		if (r->pn_form != SW_PN_NONE && has_pn(d) &&
		    eq(d->pn_provider, d->pn_provider_len, r->pn_provider, r->pn_provider_len) &&
		    eq(d->pn_prid, d->pn_prid_len, r->pn_prid, r->pn_prid_len) &&
		    eq(d->pn_param, d->pn_param_len, r->pn_param, r->pn_param_len))
			goto found;
		return 0;
	}
	if (eq(d->contact, d->contact_len, r->contact, r->contact_len))
		goto found;
	return 0;
found:
	m->found = d;
	return 1;
}

const struct sw_device *sw_bind_match(const struct sw_bind_table *t, const struct sw_bind_rec *rec)
{
	struct match_arg m = {.rec = rec};

	sw_bind_foreach_aor(t, rec->aor, rec->aor_len, match_one, &m);
	return m.found;
}

/* Copy @len bytes to *@at and NUL-terminate; returns the copy. */
static const char *put_str(char **at, const char *s, size_t len)
{
	char *p = *at;

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	*at = p + len + 1;
	return p;
}

static struct dev *dev_new(const struct sw_bind_rec *r, uint64_t id)
{
	size_t str = (size_t)r->aor_len + r->contact_len + r->instance_len + r->pn_provider_len +
		     r->pn_prid_len + r->pn_param_len + 6;
	struct dev *d = malloc(sizeof(*d) + str);
	char *at;

	if (d == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->bytes = (uint32_t)(sizeof(*d) + str);
	at = d->s;
	d->pub = (struct sw_device){
		.id = id,
		.registered_at = r->registered_at,
		.expires_at = r->expires_at,
		.src = r->src,
		.sport = r->sport,
		.iface = r->iface,
		.pn_form = r->pn_form,
		.aor_len = r->aor_len,
		.contact_len = r->contact_len,
		.instance_len = r->instance_len,
	};
	d->pub.aor = put_str(&at, r->aor, r->aor_len);
	d->pub.contact = put_str(&at, r->contact, r->contact_len);
	d->pub.instance = put_str(&at, r->instance, r->instance_len);
	if (r->pn_form != SW_PN_NONE) {
		d->pub.pn_provider_len = r->pn_provider_len;
		d->pub.pn_prid_len = r->pn_prid_len;
		d->pub.pn_param_len = r->pn_param_len;
	}
	d->pub.pn_provider = put_str(&at, r->pn_provider, d->pub.pn_provider_len);
	d->pub.pn_prid = put_str(&at, r->pn_prid, d->pub.pn_prid_len);
	d->pub.pn_param = put_str(&at, r->pn_param, d->pub.pn_param_len);
	cds_lfht_node_init(&d->head.node);
	cds_lfht_node_init(&d->n_aor);
	cds_lfht_node_init(&d->n_pn);
	cds_lfht_node_init(&d->n_contact);
	cds_lfht_node_init(&d->n_src);
	return d;
}

/* Canonical push fields carry no control byte (sw_unescape() refuses
 * them): the key's separator inside a field would make two push addresses
 * one key. */
static bool pn_field_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int sw_bind_rec_check(const struct sw_bind_rec *r)
{
	if (r->aor_len == 0 || r->contact_len == 0)
		return -EINVAL;
	if (r->aor_len >= SW_AOR_MAX || r->contact_len >= SW_CONTACT_MAX ||
	    r->instance_len >= SW_INSTANCE_MAX)
		return -E2BIG;
	if (r->pn_form != SW_PN_NONE &&
	    (r->pn_provider_len == 0 || r->pn_prid_len == 0 ||
	     (size_t)r->pn_provider_len + r->pn_prid_len + r->pn_param_len + 3 > SW_PN_KEY_MAX))
		return r->pn_provider_len == 0 || r->pn_prid_len == 0 ? -EINVAL : -E2BIG;
	if (r->pn_form != SW_PN_NONE && (!pn_field_ok(r->pn_provider, r->pn_provider_len) ||
					 !pn_field_ok(r->pn_prid, r->pn_prid_len) ||
					 !pn_field_ok(r->pn_param, r->pn_param_len)))
		return -EINVAL;
	return 0;
}

static void link_pn(struct sw_bind_table *t, struct dev *d)
{
	char buf[SW_PN_KEY_MAX];
	struct str_key k;

	if (has_pn(&d->pub))
		cds_lfht_add(t->pn, pn_hash(&d->pub, &k, buf), &d->n_pn);
}

static void link_contact(struct sw_bind_table *t, struct dev *d)
{
	cds_lfht_add(t->contact, hash_str(d->pub.contact, d->pub.contact_len), &d->n_contact);
}

/*
 * Put @nw where @old is in @ht (same key, so same hash). cds_lfht_replace()
 * wants the iterator a lookup returns for @old itself (its next pointer is
 * the expected value of the swap): walk the key's duplicates to it.
 */
static void swap_node(struct cds_lfht *ht, unsigned long hash, cds_lfht_match_fct match,
		      const void *key, struct cds_lfht_node *old, struct cds_lfht_node *nw)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(ht, hash, match, key, &it);
	while ((n = cds_lfht_iter_get_node(&it)) != NULL && n != old)
		cds_lfht_next_duplicate(ht, match, key, &it);
	if (n == NULL || cds_lfht_replace(ht, &it, hash, match, key, nw) != 0) {
		/* Not reached with one writer and @old linked; still, leave no
		 * stale node behind (a reader may then see both for a moment). */
		cds_lfht_add(ht, hash, nw);
		cds_lfht_del(ht, old);
	}
}

/* Swap @old for @nw in every index. Where the key is unchanged the node is
 * replaced in one step; where it changed the new node goes in before the old
 * one leaves, so a reader finds the device (old or new copy) throughout. */
static void dev_replace(struct sw_bind_table *t, struct dev *old, struct dev *nw)
{
	struct str_key k = {nw->pub.aor, nw->pub.aor_len};
	struct src_key sk = {&nw->pub.src, nw->pub.sport};
	uint64_t id = nw->pub.id;
	char buf[SW_PN_KEY_MAX], obuf[SW_PN_KEY_MAX];
	struct str_key pk = {0}, opk = {0};
	unsigned long ph = 0;

	swap_node(t->id, hash_id(id), match_id, &id, &old->head.node, &nw->head.node);
	swap_node(t->aor, hash_str(k.s, k.len), match_aor, &k, &old->n_aor, &nw->n_aor);

	if (has_pn(&nw->pub))
		ph = pn_hash(&nw->pub, &pk, buf);
	if (has_pn(&old->pub))
		pn_hash(&old->pub, &opk, obuf);
	if (has_pn(&nw->pub) && has_pn(&old->pub) && eq(pk.s, pk.len, opk.s, opk.len)) {
		swap_node(t->pn, ph, match_pn, &pk, &old->n_pn, &nw->n_pn);
	} else {
		link_pn(t, nw);
		if (has_pn(&old->pub))
			cds_lfht_del(t->pn, &old->n_pn);
	}

	if (eq(nw->pub.contact, nw->pub.contact_len, old->pub.contact, old->pub.contact_len)) {
		struct str_key ck = {nw->pub.contact, nw->pub.contact_len};

		swap_node(t->contact, hash_str(ck.s, ck.len), match_contact, &ck, &old->n_contact,
			  &nw->n_contact);
	} else {
		link_contact(t, nw);
		cds_lfht_del(t->contact, &old->n_contact);
	}

	if (sw_ip_eq(&old->pub.src, sk.ip) && old->pub.sport == sk.port) {
		swap_node(t->bysrc, hash_src(sk.ip, sk.port), match_src, &sk, &old->n_src,
			  &nw->n_src);
	} else {
		cds_lfht_add(t->bysrc, hash_src(sk.ip, sk.port), &nw->n_src);
		cds_lfht_del(t->bysrc, &old->n_src);
	}
}

/*
 * Publish the device @rec describes in place of @old (NULL: a new device).
 * @touch: the same source counts as heard from now (a REGISTER is proof of
 * life; an edit of ours is not).
 */
static int put_dev(struct sw_bind_table *t, struct dev *old, const struct sw_bind_rec *rec,
		   uint64_t now_tsc, bool touch, uint64_t *id)
{
	struct dev *d;
	bool same_src;
	int rc;

	if (old == NULL && t->count >= t->max)
		return -ENOSPC;
	d = dev_new(rec, old != NULL ? old->pub.id : t->next_id);
	if (d == NULL)
		return -ENOMEM;
	same_src =
		old != NULL && sw_ip_eq(&old->pub.src, &rec->src) && old->pub.sport == rec->sport;
	if (same_src) {
		struct sw_src *s = sw_src_lookup(t->src, &rec->src, rec->sport);

		if (s != NULL && touch)
			sw_src_touch(s, now_tsc);
	} else {
		rc = sw_src_ref(t->src, &rec->src, rec->sport, d->pub.id, now_tsc);
		if (rc != 0) {
			free(d);
			return rc;
		}
	}
	if (old != NULL) {
		dev_replace(t, old, d);
		if (!same_src) {
			sw_src_unref(t->src, &old->pub.src, old->pub.sport);
			src_handoff(t, &old->pub.src, old->pub.sport, old->pub.id);
		}
		t->bytes -= old->bytes;
		sw_rcu_free_later(&old->head);
	} else {
		struct str_key k = {d->pub.aor, d->pub.aor_len};

		t->next_id++;
		link_pn(t, d);
		link_contact(t, d);
		cds_lfht_add(t->bysrc, hash_src(&d->pub.src, d->pub.sport), &d->n_src);
		cds_lfht_add(t->aor, hash_str(k.s, k.len), &d->n_aor);
		/* The id index last: a source bound above already names this id,
		 * and a reader that finds the id finds a complete device. */
		cds_lfht_add(t->id, hash_id(d->pub.id), &d->head.node);
		t->count++;
	}
	t->bytes += d->bytes;
	if (id != NULL)
		*id = d->pub.id;
	return 0;
}

int sw_bind_put(struct sw_bind_table *t, const struct sw_bind_rec *rec, uint64_t now_tsc,
		uint64_t *id)
{
	const struct sw_device *found;
	int rc = sw_bind_rec_check(rec);

	if (rc != 0)
		return rc;
	found = sw_bind_match(t, rec);
	return put_dev(t, found != NULL ? dev_of_pub(found) : NULL, rec, now_tsc, true, id);
}

int sw_bind_replace(struct sw_bind_table *t, uint64_t id, const struct sw_bind_rec *rec,
		    uint64_t now_tsc)
{
	const struct sw_device *p = sw_bind_by_id(t, id), *other;
	int rc = sw_bind_rec_check(rec);

	if (rc != 0)
		return rc;
	if (p == NULL)
		return -ENOENT;
	if (!eq(p->aor, p->aor_len, rec->aor, rec->aor_len))
		return -EINVAL;
	/* Two devices that sw_bind_match() cannot tell apart would make the
	 * next REGISTER of either refresh an arbitrary one. */
	other = sw_bind_match(t, rec);
	if (other != NULL && other->id != id)
		return -EEXIST;
	return put_dev(t, dev_of_pub(p), rec, now_tsc, false, NULL);
}

int sw_bind_del(struct sw_bind_table *t, uint64_t id)
{
	const struct sw_device *p = sw_bind_by_id(t, id);
	struct dev *d;

	if (p == NULL)
		return -ENOENT;
	d = dev_of_pub(p);
	dev_unlink(t, d);
	dev_release(t, d, true);
	return 0;
}

struct collect {
	uint64_t ids[64];
	unsigned n;
};

static int collect_one(const struct sw_device *d, void *arg)
{
	struct collect *c = arg;

	c->ids[c->n++] = d->id;
	return c->n == RTE_DIM(c->ids);
}

unsigned sw_bind_del_aor(struct sw_bind_table *t, const char *aor, size_t len)
{
	unsigned total = 0;
	struct collect c;

	do {
		c.n = 0;
		sw_bind_foreach_aor(t, aor, len, collect_one, &c);
		for (unsigned i = 0; i < c.n; i++)
			total += sw_bind_del(t, c.ids[i]) == 0;
	} while (c.n == RTE_DIM(c.ids));
	return total;
}

unsigned sw_bind_expire(struct sw_bind_table *t, int64_t now_s,
			void (*fn)(const struct sw_device *d, void *arg), void *arg)
{
	struct cds_lfht_iter it;
	struct dev *d;
	unsigned n = 0;

	/* Deleting the node the iterator stands on is allowed (liburcu). */
	cds_lfht_for_each_entry(t->id, &it, d, head.node)
	{
		if (d->pub.expires_at > now_s)
			continue;
		if (fn != NULL)
			fn(&d->pub, arg);
		dev_unlink(t, d);
		dev_release(t, d, true);
		n++;
	}
	return n;
}

unsigned sw_bind_count(const struct sw_bind_table *t)
{
	return t->count;
}

unsigned sw_bind_max(const struct sw_bind_table *t)
{
	return t->max;
}

size_t sw_bind_bytes(const struct sw_bind_table *t)
{
	return t->bytes;
}

void sw_bind_rec_of(const struct sw_device *d, struct sw_bind_rec *r)
{
	*r = (struct sw_bind_rec){
		.aor = d->aor,
		.aor_len = d->aor_len,
		.contact = d->contact,
		.contact_len = d->contact_len,
		.instance = d->instance,
		.instance_len = d->instance_len,
		.pn_form = d->pn_form,
		.pn_provider = d->pn_provider,
		.pn_prid = d->pn_prid,
		.pn_param = d->pn_param,
		.pn_provider_len = d->pn_provider_len,
		.pn_prid_len = d->pn_prid_len,
		.pn_param_len = d->pn_param_len,
		.src = d->src,
		.sport = d->sport,
		.iface = d->iface,
		.registered_at = d->registered_at,
		.expires_at = d->expires_at,
	};
}
