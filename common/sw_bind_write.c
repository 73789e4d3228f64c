/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The binding table's writer (sw_bind.h, "writer side"; one thread): a
 * device record built from a binding (one allocation, its strings packed
 * after it), published in place of the old copy or as a new device, deleted
 * or expired, with the source table kept in step (docs/design.md §4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <rte_common.h>

#include "common/sw_bind_internal.h"
#include "sip/sip_scan.h"

/* Pieces of a contact without its push parameters: as the workers' frames
 * take them (dataplane/dp_internal.h, DP_FWD_URI_PIECES). */
#define RURI_PIECES 16

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

/* The contact's pieces without push parameters, joined at *@at (room for
 * @len + 1 bytes: they only shrink); *@out_len 0 if it does not split. */
static const char *ruri_of(char **at, const char *contact, uint16_t len, uint16_t *out_len)
{
	struct sip_slice pc[RURI_PIECES];
	int n = sip_uri_without_pn(contact, len, pc, RURI_PIECES);
	char *p = *at;
	uint16_t o = 0;

	for (int i = 0; i < n; i++) {
		memcpy(p + o, contact + pc[i].off, pc[i].len);
		o = (uint16_t)(o + pc[i].len);
	}
	p[o] = '\0';
	*at = p + o + 1;
	*out_len = n > 0 ? o : 0;
	return p;
}

static struct sw_bind_dev *dev_new(const struct sw_bind_rec *r, uint64_t id)
{
	size_t str = (size_t)r->aor_len + 2u * r->contact_len + r->instance_len +
		     r->pn_provider_len + r->pn_prid_len + r->pn_param_len + 7;
	struct sw_bind_dev *d = malloc(sizeof(*d) + str);
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
		.tp = r->tp,
		.conn = r->conn,
		.conn_since = r->conn_since,
		.peer = r->peer,
		.pn_form = r->pn_form,
		.pn_dead = r->pn_form != SW_PN_NONE ? r->pn_dead : 0,
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
	d->pub.ruri = ruri_of(&at, d->pub.contact, r->contact_len, &d->pub.ruri_len);
	d->pub.push_key_set = r->push_key_set != 0;
	if (d->pub.push_key_set)
		memcpy(d->pub.push_key, r->push_key, SW_PUSH_KEY_LEN);
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
	struct sw_src *e = sw_src_lookup(t->src, ip, port);
	const struct sw_device *other;

	if (e == NULL || e->device_id != gone_id)
		return;
	other = sw_bind_on_src(t, ip, port);
	/* -ENOMEM leaves the old id: the entry is still right about the
	 * source being bound, and the next handoff retries. */
	if (other != NULL)
		sw_src_bind(t->src, ip, port, other->id, sw_src_last_alive(e));
}

static void dev_release(struct sw_bind_table *t, struct sw_bind_dev *d, bool handoff)
{
	sw_src_unref(t->src, &d->pub.src, d->pub.sport);
	if (handoff)
		src_handoff(t, &d->pub.src, d->pub.sport, d->pub.id);
	t->bytes -= d->bytes;
	t->count--;
	sw_rcu_free_later(&d->head);
}

/*
 * Publish the device @rec describes in place of @old (NULL: a new device).
 * @touch: the same source counts as heard from now (a REGISTER is proof of
 * life; an edit of ours is not).
 */
static int put_dev(struct sw_bind_table *t, struct sw_bind_dev *old, const struct sw_bind_rec *rec,
		   uint64_t now_tsc, bool touch, uint64_t *id)
{
	struct sw_bind_dev *d;
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
		sw_bind_swap(t, old, d);
		if (!same_src) {
			sw_src_unref(t->src, &old->pub.src, old->pub.sport);
			src_handoff(t, &old->pub.src, old->pub.sport, old->pub.id);
		}
		t->bytes -= old->bytes;
		sw_rcu_free_later(&old->head);
	} else {
		t->next_id++;
		sw_bind_link(t, d);
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
	return put_dev(t, found != NULL ? sw_bind_dev_of(found) : NULL, rec, now_tsc, true, id);
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
	if (!sw_bind_eq(p->aor, p->aor_len, rec->aor, rec->aor_len))
		return -EINVAL;
	/* Two devices that sw_bind_match() cannot tell apart would make the
	 * next REGISTER of either refresh an arbitrary one. */
	other = sw_bind_match(t, rec);
	if (other != NULL && other->id != id)
		return -EEXIST;
	return put_dev(t, sw_bind_dev_of(p), rec, now_tsc, false, NULL);
}

int sw_bind_del(struct sw_bind_table *t, uint64_t id)
{
	const struct sw_device *p = sw_bind_by_id(t, id);
	struct sw_bind_dev *d;

	if (p == NULL)
		return -ENOENT;
	d = sw_bind_dev_of(p);
	sw_bind_unlink(t, d);
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
	struct sw_bind_dev *d;
	unsigned n = 0;

	/* Deleting the node the iterator stands on is allowed (liburcu). */
	sw_lfht_for_each_entry(t->id, &it, d, head.node)
	{
		if (d->pub.expires_at > now_s)
			continue;
		if (fn != NULL)
			fn(&d->pub, arg);
		sw_bind_unlink(t, d);
		dev_release(t, d, true);
		n++;
	}
	return n;
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
		.pn_dead = d->pn_dead,
		.pn_provider = d->pn_provider,
		.pn_prid = d->pn_prid,
		.pn_param = d->pn_param,
		.pn_provider_len = d->pn_provider_len,
		.pn_prid_len = d->pn_prid_len,
		.pn_param_len = d->pn_param_len,
		.src = d->src,
		.sport = d->sport,
		.iface = d->iface,
		.tp = d->tp,
		.conn = d->conn,
		.conn_since = d->conn_since,
		.peer = d->peer,
		.registered_at = d->registered_at,
		.expires_at = d->expires_at,
		.push_key_set = d->push_key_set,
	};
	if (d->push_key_set)
		memcpy(r->push_key, d->push_key, SW_PUSH_KEY_LEN);
}
