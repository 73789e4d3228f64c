/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The binding table's indexes (sw_bind.h; the files of the table:
 * sw_bind_internal.h): five QSBR cds_lfht (common/sw_rcu.h) over the
 * devices, the read side's lookups, and a device linked into, unlinked from
 * or swapped in every index for the writer (sw_bind_write.c).
 */
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_jhash.h>

#include "common/sw_bind_internal.h"

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
	const struct sw_bind_dev *d = caa_container_of(node, struct sw_bind_dev, n_src);
	const struct src_key *k = key;

	return d->pub.sport == k->port && sw_ip_eq(&d->pub.src, k->ip);
}

static int match_id(struct cds_lfht_node *node, const void *key)
{
	return caa_container_of(node, struct sw_bind_dev, head.node)->pub.id ==
	       *(const uint64_t *)key;
}

static int match_aor(struct cds_lfht_node *node, const void *key)
{
	const struct sw_bind_dev *d = caa_container_of(node, struct sw_bind_dev, n_aor);
	const struct str_key *k = key;

	return d->pub.aor_len == k->len && memcmp(d->pub.aor, k->s, k->len) == 0;
}

static int match_contact(struct cds_lfht_node *node, const void *key)
{
	const struct sw_bind_dev *d = caa_container_of(node, struct sw_bind_dev, n_contact);
	const struct str_key *k = key;

	return d->pub.contact_len == k->len && memcmp(d->pub.contact, k->s, k->len) == 0;
}

/* The key is "provider\x1fprid\x1fparam": compared field by field, so the
 * device need not keep a second copy of its token. */
static int match_pn(struct cds_lfht_node *node, const void *key)
{
	const struct sw_bind_dev *d = caa_container_of(node, struct sw_bind_dev, n_pn);
	const struct str_key *k = key;
	size_t a = d->pub.pn_provider_len, b = d->pub.pn_prid_len, c = d->pub.pn_param_len;

	return k->len == a + b + c + 2 && memcmp(k->s, d->pub.pn_provider, a) == 0 &&
	       k->s[a] == SW_PN_SEP && memcmp(k->s + a + 1, d->pub.pn_prid, b) == 0 &&
	       k->s[a + 1 + b] == SW_PN_SEP && memcmp(k->s + a + 2 + b, d->pub.pn_param, c) == 0;
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

static unsigned long pn_hash(const struct sw_device *d, struct str_key *k, char *buf)
{
	size_t a = d->pn_provider_len, b = d->pn_prid_len, c = d->pn_param_len;

	memcpy(buf, d->pn_provider, a);
	buf[a] = SW_PN_SEP;
	memcpy(buf + a + 1, d->pn_prid, b);
	buf[a + 1 + b] = SW_PN_SEP;
	memcpy(buf + a + 2 + b, d->pn_param, c);
	k->s = buf;
	k->len = a + b + c + 2;
	return hash_str(buf, k->len);
}

/* Remove @d from every index but the id one. */
static void dev_unlink_keys(struct sw_bind_table *t, struct sw_bind_dev *d)
{
	cds_lfht_del(t->aor, &d->n_aor);
	if (sw_bind_has_pn(&d->pub))
		cds_lfht_del(t->pn, &d->n_pn);
	cds_lfht_del(t->contact, &d->n_contact);
	cds_lfht_del(t->bysrc, &d->n_src);
}

void sw_bind_unlink(struct sw_bind_table *t, struct sw_bind_dev *d)
{
	cds_lfht_del(t->id, &d->head.node);
	dev_unlink_keys(t, d);
}

/* sw_bind_free(): a device the id index let go. No handoff: every device
 * goes, the sources with them. */
static void dev_gone(struct sw_rcu_entry *e, void *arg)
{
	struct sw_bind_table *t = arg;
	struct sw_bind_dev *d = caa_container_of(e, struct sw_bind_dev, head);

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

const struct sw_device *sw_bind_by_id(const struct sw_bind_table *t, uint64_t id)
{
	struct cds_lfht_node *n = sw_lfht_find(t->id, hash_id(id), match_id, &id);

	return n != NULL ? &caa_container_of(n, struct sw_bind_dev, head.node)->pub : NULL;
}

const struct sw_device *sw_bind_by_pn(const struct sw_bind_table *t, const char *key, size_t len)
{
	struct str_key k = {key, len};
	struct cds_lfht_node *n = sw_lfht_find(t->pn, hash_str(key, len), match_pn, &k);

	return n != NULL ? &caa_container_of(n, struct sw_bind_dev, n_pn)->pub : NULL;
}

const struct sw_device *sw_bind_by_contact(const struct sw_bind_table *t, const char *uri,
					   size_t len)
{
	struct str_key k = {uri, len};
	struct cds_lfht_node *n = sw_lfht_find(t->contact, hash_str(uri, len), match_contact, &k);

	return n != NULL ? &caa_container_of(n, struct sw_bind_dev, n_contact)->pub : NULL;
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
		if (fn(&caa_container_of(n, struct sw_bind_dev, n_aor)->pub, arg) != 0)
			break;
		cds_lfht_next_duplicate(t->aor, match_aor, &k, &it);
	}
	return visited;
}

void sw_bind_foreach(const struct sw_bind_table *t, int (*fn)(const struct sw_device *d, void *arg),
		     void *arg)
{
	struct cds_lfht_iter it;
	struct sw_bind_dev *d;

	sw_lfht_for_each_entry(t->id, &it, d, head.node)
	{
		if (fn(&d->pub, arg) != 0)
			break;
	}
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
		if (sw_bind_eq(d->instance, d->instance_len, r->instance, r->instance_len))
			goto found;
		return 0;
	}
	if (r->pn_form != SW_PN_NONE || sw_bind_has_pn(d)) {
		if (r->pn_form != SW_PN_NONE && sw_bind_has_pn(d) &&
		    sw_bind_eq(d->pn_provider, d->pn_provider_len, r->pn_provider,
			       r->pn_provider_len) &&
		    sw_bind_eq(d->pn_prid, d->pn_prid_len, r->pn_prid, r->pn_prid_len) &&
		    sw_bind_eq(d->pn_param, d->pn_param_len, r->pn_param, r->pn_param_len))
			goto found;
		return 0;
	}
	if (sw_bind_eq(d->contact, d->contact_len, r->contact, r->contact_len))
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

static void link_pn(struct sw_bind_table *t, struct sw_bind_dev *d)
{
	char buf[SW_PN_KEY_MAX];
	struct str_key k;

	if (sw_bind_has_pn(&d->pub))
		cds_lfht_add(t->pn, pn_hash(&d->pub, &k, buf), &d->n_pn);
}

static void link_contact(struct sw_bind_table *t, struct sw_bind_dev *d)
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

/* Where the key is unchanged the node is replaced in one step; where it
 * changed the new node goes in before the old one leaves, so a reader finds
 * the device (old or new copy) throughout. */
void sw_bind_swap(struct sw_bind_table *t, struct sw_bind_dev *old, struct sw_bind_dev *nw)
{
	struct str_key k = {nw->pub.aor, nw->pub.aor_len};
	struct src_key sk = {&nw->pub.src, nw->pub.sport};
	uint64_t id = nw->pub.id;
	char buf[SW_PN_KEY_MAX], obuf[SW_PN_KEY_MAX];
	struct str_key pk = {0}, opk = {0};
	unsigned long ph = 0;

	swap_node(t->id, hash_id(id), match_id, &id, &old->head.node, &nw->head.node);
	swap_node(t->aor, hash_str(k.s, k.len), match_aor, &k, &old->n_aor, &nw->n_aor);

	if (sw_bind_has_pn(&nw->pub))
		ph = pn_hash(&nw->pub, &pk, buf);
	if (sw_bind_has_pn(&old->pub))
		pn_hash(&old->pub, &opk, obuf);
	if (sw_bind_has_pn(&nw->pub) && sw_bind_has_pn(&old->pub) &&
	    sw_bind_eq(pk.s, pk.len, opk.s, opk.len)) {
		swap_node(t->pn, ph, match_pn, &pk, &old->n_pn, &nw->n_pn);
	} else {
		link_pn(t, nw);
		if (sw_bind_has_pn(&old->pub))
			cds_lfht_del(t->pn, &old->n_pn);
	}

	if (sw_bind_eq(nw->pub.contact, nw->pub.contact_len, old->pub.contact,
		       old->pub.contact_len)) {
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

void sw_bind_link(struct sw_bind_table *t, struct sw_bind_dev *d)
{
	struct str_key k = {d->pub.aor, d->pub.aor_len};

	link_pn(t, d);
	link_contact(t, d);
	cds_lfht_add(t->bysrc, hash_src(&d->pub.src, d->pub.sport), &d->n_src);
	cds_lfht_add(t->aor, hash_str(k.s, k.len), &d->n_aor);
	/* The id index last: a source bound already names this id, and a
	 * reader that finds the id finds a complete device. */
	cds_lfht_add(t->id, hash_id(d->pub.id), &d->head.node);
}

const struct sw_device *sw_bind_on_src(const struct sw_bind_table *t, const struct sw_ip *ip,
				       uint16_t port)
{
	struct src_key k = {ip, port};
	struct cds_lfht_node *n = sw_lfht_find(t->bysrc, hash_src(ip, port), match_src, &k);

	return n != NULL ? &caa_container_of(n, struct sw_bind_dev, n_src)->pub : NULL;
}

unsigned sw_bind_ids_on_src(const struct sw_bind_table *t, const struct sw_ip *ip, uint16_t port,
			    uint64_t *ids, unsigned max)
{
	struct src_key k = {ip, port};
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	unsigned got = 0;

	cds_lfht_lookup(t->bysrc, hash_src(ip, port), match_src, &k, &it);
	while (got < max && (n = cds_lfht_iter_get_node(&it)) != NULL) {
		ids[got++] = caa_container_of(n, struct sw_bind_dev, n_src)->pub.id;
		cds_lfht_next_duplicate(t->bysrc, match_src, &k, &it);
	}
	return got;
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
