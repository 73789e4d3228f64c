/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding tables (common/sw_bind.h): which registration is which device
 * (instance, then push address, then contact), the source table kept in
 * step, the indexes, capacity, removal, and a reader thread running lookups
 * while the writer refreshes one device (the reader must only ever see a
 * whole device of one refresh).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "common/sw_bind.h"

static struct sw_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return sw_ip_from_v4((uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 |
			     (uint32_t)d << 24);
}

/* A binding from NUL-terminated strings (NULL: absent); pn_form follows
 * from whether a provider is given. The strings are borrowed. */
static struct sw_bind_rec rec(const char *aor, const char *contact, const char *instance,
			      const char *prov, const char *prid, const char *param,
			      struct sw_ip ip, uint16_t port)
{
	struct sw_bind_rec r = {
		.aor = aor,
		.aor_len = (uint16_t)strlen(aor),
		.contact = contact,
		.contact_len = (uint16_t)strlen(contact),
		.instance = instance != NULL ? instance : "",
		.instance_len = instance != NULL ? (uint16_t)strlen(instance) : 0,
		.src = ip,
		.sport = port,
		.iface = 1,
		.registered_at = 1700000000,
		.expires_at = 1700003600,
	};

	if (prov != NULL) {
		r.pn_form = SW_PN_RFC8599;
		r.pn_provider = prov;
		r.pn_provider_len = (uint16_t)strlen(prov);
		r.pn_prid = prid;
		r.pn_prid_len = (uint16_t)strlen(prid);
		r.pn_param = param != NULL ? param : "";
		r.pn_param_len = param != NULL ? (uint16_t)strlen(param) : 0;
	}
	return r;
}

static bool str_is(const char *s, uint16_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0 && s[len] == '\0';
}

/* Lookup by push address the way the router does: canonical key first. */
static const struct sw_device *by_pn(const struct sw_bind_table *t, const char *prov,
				     const char *prid, const char *param)
{
	char key[SW_PN_KEY_MAX];
	int n = sw_pn_key(key, sizeof(key), prov, strlen(prov), prid, strlen(prid), param,
			  strlen(param));

	assert_true(n > 0);
	return sw_bind_by_pn(t, key, (size_t)n);
}

struct fixture {
	struct sw_src_table *src;
	struct sw_bind_table *t;
};

static struct fixture fx_new(unsigned max_devices, unsigned max_sources)
{
	struct fixture f = {.src = sw_src_create(max_sources)};

	assert_non_null(f.src);
	f.t = sw_bind_create(max_devices, f.src);
	assert_non_null(f.t);
	return f;
}

static void fx_free(struct fixture *f)
{
	urcu_qsbr_quiescent_state();
	sw_bind_free(f->t);
	assert_int_equal(sw_src_count(f->src), 0); /* every device released its source */
	sw_src_free(f->src);
}

static uint64_t src_dev(struct fixture *f, struct sw_ip ip, uint16_t port)
{
	struct sw_src *e = sw_src_lookup(f->src, &ip, port);

	return e != NULL ? e->device_id : 0;
}

static void test_create(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct sw_ip a6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 7}};
	struct sw_bind_rec r = rec("alice@example.com", "sip:alice@[2001:db8::7]:5060;ob",
				   "urn:uuid:00000000-0000-1000-8000-000a95a0e128", "apns",
				   "0123abcd", "TEAM.com.example.voip", a6, 5062);
	const struct sw_device *d;
	struct sw_bind_rec back;
	uint64_t id = 0;

	(void)state;
	r.iface = 3;
	assert_int_equal(sw_bind_count(f.t), 0);
	assert_int_equal(sw_bind_bytes(f.t), 0);
	assert_int_equal(sw_bind_max(f.t), 16);
	assert_int_equal(sw_bind_put(f.t, &r, 1234, &id), 0);
	assert_true(id != 0);
	assert_int_equal(sw_bind_count(f.t), 1);
	assert_true(sw_bind_bytes(f.t) > sizeof(struct sw_device));

	d = sw_bind_by_id(f.t, id);
	assert_non_null(d);
	assert_int_equal(d->id, id);
	assert_true(str_is(d->aor, d->aor_len, "alice@example.com"));
	assert_true(str_is(d->contact, d->contact_len, "sip:alice@[2001:db8::7]:5060;ob"));
	assert_true(str_is(d->instance, d->instance_len,
			   "urn:uuid:00000000-0000-1000-8000-000a95a0e128"));
	assert_int_equal(d->pn_form, SW_PN_RFC8599);
	assert_true(str_is(d->pn_provider, d->pn_provider_len, "apns"));
	assert_true(str_is(d->pn_prid, d->pn_prid_len, "0123abcd"));
	assert_true(str_is(d->pn_param, d->pn_param_len, "TEAM.com.example.voip"));
	assert_true(sw_ip_eq(&d->src, &a6));
	assert_int_equal(d->sport, 5062);
	assert_int_equal(d->iface, 3);
	assert_int_equal(d->registered_at, 1700000000);
	assert_int_equal(d->expires_at, 1700003600);

	/* The source is bound to the device, alive when the put happened. */
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(src_dev(&f, a6, 5062), id);
	assert_int_equal(sw_src_last_alive(sw_src_lookup(f.src, &a6, 5062)), 1234);

	/* What the store persists reads back as what was put. */
	sw_bind_rec_of(d, &back);
	assert_int_equal(back.aor_len, r.aor_len);
	assert_memory_equal(back.aor, r.aor, r.aor_len);
	assert_memory_equal(back.contact, r.contact, r.contact_len);
	assert_memory_equal(back.instance, r.instance, r.instance_len);
	assert_memory_equal(back.pn_prid, r.pn_prid, r.pn_prid_len);
	assert_int_equal(back.pn_param_len, r.pn_param_len);
	assert_int_equal(back.sport, 5062);
	assert_int_equal(back.iface, 3);
	assert_int_equal(back.expires_at, r.expires_at);
	assert_ptr_equal(sw_bind_match(f.t, &back), d);
	fx_free(&f);
}

static void test_refresh_new_source(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct sw_ip ip1 = v4(192, 0, 2, 1), ip2 = v4(198, 51, 100, 2);
	struct sw_bind_rec r = rec("bob@example.com", "sip:bob@192.0.2.1:5060", "urn:uuid:b", "fcm",
				   "tokA", "proj", ip1, 5060);
	uint64_t id, id2;
	size_t bytes;
	const struct sw_device *d;

	(void)state;
	assert_int_equal(sw_bind_put(f.t, &r, 10, &id), 0);
	bytes = sw_bind_bytes(f.t);

	/* The phone moved networks: same instance, new address, new contact. */
	r = rec("bob@example.com", "sip:bob@198.51.100.2:4000", "urn:uuid:b", "fcm", "tokA", "proj",
		ip2, 4000);
	r.expires_at = 1700007200;
	assert_int_equal(sw_bind_put(f.t, &r, 20, &id2), 0);
	urcu_qsbr_quiescent_state();
	assert_int_equal(id2, id);
	assert_int_equal(sw_bind_count(f.t), 1);
	assert_int_equal(sw_bind_bytes(f.t),
			 bytes + 3); /* "198.51.100.2:4000" vs "192.0.2.1:5060" */
	assert_int_equal(src_dev(&f, ip1, 5060), 0);
	assert_int_equal(src_dev(&f, ip2, 4000), id);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_null(sw_bind_by_contact(f.t, "sip:bob@192.0.2.1:5060", 22));
	d = sw_bind_by_contact(f.t, "sip:bob@198.51.100.2:4000", 25);
	assert_non_null(d);
	assert_int_equal(d->id, id);
	assert_int_equal(d->expires_at, 1700007200);
	assert_ptr_equal(sw_bind_by_id(f.t, id), d);
	assert_ptr_equal(by_pn(f.t, "fcm", "tokA", "proj"), d);

	/* Same source again: the source stays bound and is touched. */
	assert_int_equal(sw_bind_put(f.t, &r, 30, NULL), 0);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(sw_src_last_alive(sw_src_lookup(f.src, &ip2, 4000)), 30);

	/* A new token for the same instance replaces the push address. */
	r.pn_prid = "tokB";
	assert_int_equal(sw_bind_put(f.t, &r, 40, &id2), 0);
	urcu_qsbr_quiescent_state();
	assert_int_equal(id2, id);
	assert_int_equal(sw_bind_count(f.t), 1);
	assert_null(by_pn(f.t, "fcm", "tokA", "proj"));
	assert_non_null(by_pn(f.t, "fcm", "tokB", "proj"));

	/* Dropping the push address altogether takes it out of the pn index. */
	r.pn_form = SW_PN_NONE;
	assert_int_equal(sw_bind_put(f.t, &r, 50, NULL), 0);
	assert_null(by_pn(f.t, "fcm", "tokB", "proj"));
	assert_int_equal(sw_bind_by_id(f.t, id)->pn_form, SW_PN_NONE);
	assert_int_equal(sw_bind_by_id(f.t, id)->pn_prid_len, 0);
	fx_free(&f);
}

struct ids {
	uint64_t id[128];
	unsigned n, stop_after;
};

static int collect(const struct sw_device *d, void *arg)
{
	struct ids *c = arg;

	c->id[c->n++] = d->id;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void test_two_instances(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct sw_ip ip = v4(192, 0, 2, 9);
	struct sw_bind_rec a = rec("carol@example.com", "sip:carol@192.0.2.9:5060", "urn:uuid:1",
				   NULL, NULL, NULL, ip, 5060);
	struct sw_bind_rec b = rec("carol@example.com", "sip:carol@192.0.2.9:5061", "urn:uuid:2",
				   NULL, NULL, NULL, ip, 5061);
	struct ids c = {0};
	uint64_t ia, ib;

	(void)state;
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(f.t, &b, 1, &ib), 0);
	assert_true(ia != ib);
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_bind_match(f.t, &a)->id, ia);
	assert_int_equal(sw_bind_match(f.t, &b)->id, ib);
	assert_int_equal(sw_bind_foreach_aor(f.t, "carol@example.com", 17, collect, &c), 2);
	assert_int_equal(c.n, 2);
	assert_true((c.id[0] == ia && c.id[1] == ib) || (c.id[0] == ib && c.id[1] == ia));

	/* Same contact, third instance: still another device (RFC 5626 §4.2). */
	b.instance = "urn:uuid:3";
	b.contact = a.contact;
	b.contact_len = a.contact_len;
	assert_int_equal(sw_bind_put(f.t, &b, 1, NULL), 0);
	assert_int_equal(sw_bind_count(f.t), 3);
	/* A registration without an instance is not one of these devices. */
	b.instance_len = 0;
	assert_null(sw_bind_match(f.t, &b));
	fx_free(&f);
}

static void test_match_pn_then_contact(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct sw_ip ip = v4(192, 0, 2, 20);
	struct sw_bind_rec r = rec("dave@example.com", "sip:dave@192.0.2.20:5060", NULL, "apns",
				   "aa11", "T.com.ex.voip", ip, 5060);
	uint64_t id, id2;

	(void)state;
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id), 0);
	/* RFC 8599 §5.3: same provider, prid and param: the same device, even
	 * from another contact. */
	r.contact = "sip:dave@192.0.2.20:6000";
	r.sport = 6000;
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id2), 0);
	assert_int_equal(id2, id);
	assert_int_equal(sw_bind_count(f.t), 1);
	/* One of the three different: another device. */
	r.pn_param = "T.com.ex.other";
	r.pn_param_len = 14;
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id2), 0);
	assert_true(id2 != id);
	r = rec("dave@example.com", "sip:dave@192.0.2.20:6000", NULL, "fcm", "aa11",
		"T.com.ex.voip", ip, 6000);
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id2), 0);
	assert_true(id2 != id);
	r.pn_provider = "apns";
	r.pn_prid = "aa12";
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id2), 0);
	assert_true(id2 != id);
	assert_int_equal(sw_bind_count(f.t), 4);
	/* Same contact but no push address: not the push device. */
	r.pn_form = SW_PN_NONE;
	assert_null(sw_bind_match(f.t, &r));

	/* Neither instance nor push address: the contact decides. */
	r = rec("erin@example.com", "sip:erin@192.0.2.21:5060", NULL, NULL, NULL, NULL, ip, 5070);
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id), 0);
	r.expires_at += 60;
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id2), 0);
	assert_int_equal(id2, id);
	assert_int_equal(sw_bind_by_id(f.t, id)->expires_at, r.expires_at);
	r.contact = "sip:erin@192.0.2.21:5061";
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id2), 0);
	assert_true(id2 != id);
	assert_int_equal(sw_bind_count(f.t), 6);
	/* The same contact under another AOR is not this AOR's device. */
	r = rec("frank@example.com", "sip:erin@192.0.2.21:5060", NULL, NULL, NULL, NULL, ip, 5070);
	assert_null(sw_bind_match(f.t, &r));
	fx_free(&f);
}

static void test_pn_key(void **state)
{
	char out[SW_PN_KEY_MAX];
	char big[600];
	int n;

	(void)state;
	n = sw_pn_key(out, sizeof(out), "APNs", 4, "ab%2Fcd%2b", 10, "TEAM.com.Ex%2Evoip", 18);
	assert_int_equal(n, 4 + 1 + 6 + 1 + 16);
	assert_memory_equal(out,
			    "apns\x1f"
			    "ab/cd+\x1f"
			    "TEAM.com.Ex.voip",
			    (size_t)n + 1);
	/* Lower-casing is for the provider only; an escaped provider too. */
	n = sw_pn_key(out, sizeof(out), "%46CM", 5, "Tok", 3, "", 0);
	assert_int_equal(n, 3 + 1 + 3 + 1);
	assert_memory_equal(out, "fcm\x1fTok\x1f", 9);

	/* Bad escapes: truncated, not hex, and control bytes (the separator too). */
	assert_int_equal(sw_pn_key(out, sizeof(out), "apns", 4, "ab%2", 4, "", 0), -EINVAL);
	assert_int_equal(sw_pn_key(out, sizeof(out), "apns", 4, "ab%", 3, "", 0), -EINVAL);
	assert_int_equal(sw_pn_key(out, sizeof(out), "apns", 4, "ab%zz", 5, "", 0), -EINVAL);
	assert_int_equal(sw_pn_key(out, sizeof(out), "ap%0ans", 7, "ab", 2, "", 0), -EINVAL);
	assert_int_equal(sw_pn_key(out, sizeof(out), "apns", 4, "a%1Fb", 5, "", 0), -EINVAL);
	assert_int_equal(sw_pn_key(out, sizeof(out), "apns", 4, "ab", 2, "x\x1fy", 3), -EINVAL);

	/* Too long: the key and its NUL must fit. "a\x1fb\x1fc" is 5 bytes. */
	assert_int_equal(sw_pn_key(out, 6, "a", 1, "b", 1, "c", 1), 5);
	assert_int_equal(sw_pn_key(out, 5, "a", 1, "b", 1, "c", 1), -E2BIG);
	assert_int_equal(sw_pn_key(out, 3, "a", 1, "b", 1, "c", 1), -E2BIG);
	assert_int_equal(sw_pn_key(out, 1, "a", 1, "b", 1, "c", 1), -E2BIG);
	memset(big, 'x', sizeof(big));
	assert_int_equal(sw_pn_key(out, sizeof(out), "fcm", 3, big, sizeof(big), "", 0), -E2BIG);

	assert_int_equal(sw_unescape(out, sizeof(out), "%41%62c", 7), 3);
	assert_string_equal(out, "Abc");
	assert_int_equal(sw_unescape(out, 4, "abcd", 4), -E2BIG);
	assert_int_equal(sw_unescape(out, 5, "abcd", 4), 4);
	assert_int_equal(sw_unescape(out, 1, "", 0), 0);
}

static void test_lookups(void **state)
{
	struct fixture f = fx_new(64, 64);
	struct sw_bind_rec r;
	char key[SW_PN_KEY_MAX];
	char aor[32], contact[64], prid[32];
	uint64_t ids[10];
	struct ids c = {0};
	const struct sw_device *d;
	int n;

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(aor, sizeof(aor), "u%d@example.com", i / 2);
		snprintf(contact, sizeof(contact), "sip:u%d@192.0.2.%d:5060", i, i + 1);
		snprintf(prid, sizeof(prid), "tok/%d", i);
		r = rec(aor, contact, NULL, "apns", prid, "T.com.ex.voip",
			v4(192, 0, 2, (uint8_t)(i + 1)), 5060);
		assert_int_equal(sw_bind_put(f.t, &r, 1, &ids[i]), 0);
	}
	for (int i = 0; i < 10; i++) {
		snprintf(contact, sizeof(contact), "sip:u%d@192.0.2.%d:5060", i, i + 1);
		d = sw_bind_by_contact(f.t, contact, strlen(contact));
		assert_non_null(d);
		assert_int_equal(d->id, ids[i]);
		assert_ptr_equal(sw_bind_by_id(f.t, ids[i]), d);
		/* The PBX re-escaped the token in the Request-URI: the key unescapes. */
		snprintf(prid, sizeof(prid), "tok%%2F%d", i);
		n = sw_pn_key(key, sizeof(key), "APNS", 4, prid, strlen(prid), "T.com.ex.voip", 13);
		assert_true(n > 0);
		assert_ptr_equal(sw_bind_by_pn(f.t, key, (size_t)n), d);
	}
	/* Near misses. */
	assert_null(sw_bind_by_contact(f.t, "sip:u0@192.0.2.1:506", 20));
	assert_null(by_pn(f.t, "apns", "tok/0", "T.com.ex.voi"));
	assert_null(by_pn(f.t, "fcm", "tok/0", "T.com.ex.voip"));
	assert_null(sw_bind_by_id(f.t, 0));
	assert_null(sw_bind_by_id(f.t, 999));

	assert_int_equal(sw_bind_foreach_aor(f.t, "u3@example.com", 14, collect, &c), 2);
	assert_int_equal(c.n, 2);
	assert_true((c.id[0] == ids[6] && c.id[1] == ids[7]) ||
		    (c.id[0] == ids[7] && c.id[1] == ids[6]));
	c = (struct ids){.stop_after = 1};
	assert_int_equal(sw_bind_foreach_aor(f.t, "u3@example.com", 14, collect, &c), 1);
	c = (struct ids){0};
	assert_int_equal(sw_bind_foreach_aor(f.t, "u3@example.co", 13, collect, &c), 0);
	assert_int_equal(sw_bind_foreach_aor(f.t, "u9@example.com", 14, collect, &c), 0);
	sw_bind_foreach(f.t, collect, &c);
	assert_int_equal(c.n, 10);
	c = (struct ids){.stop_after = 3};
	sw_bind_foreach(f.t, collect, &c);
	assert_int_equal(c.n, 3);
	fx_free(&f);
}

static void test_shared_source(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct sw_ip ip = v4(203, 0, 113, 5);
	/* One app, two accounts, one socket. */
	struct sw_bind_rec a = rec("a@example.com", "sip:a@203.0.113.5:5060", "urn:uuid:x", NULL,
				   NULL, NULL, ip, 5060);
	struct sw_bind_rec b = rec("b@example.com", "sip:b@203.0.113.5:5060", "urn:uuid:x", NULL,
				   NULL, NULL, ip, 5060);
	uint64_t ia, ib;

	(void)state;
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(f.t, &b, 1, &ib), 0);
	assert_true(ia != ib);
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(sw_bind_del(f.t, ia), 0);
	/* Still bound, and to the device that is left, not to a removed one. */
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(src_dev(&f, ip, 5060), ib);
	assert_non_null(sw_bind_by_id(f.t, src_dev(&f, ip, 5060)));

	/* The first device comes back, then the owner of the source moves
	 * away: the source follows the device still on it. */
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(src_dev(&f, ip, 5060), ib);
	b.src = v4(203, 0, 113, 6);
	assert_int_equal(sw_bind_put(f.t, &b, 1, NULL), 0);
	assert_int_equal(sw_src_count(f.src), 2);
	assert_int_equal(src_dev(&f, ip, 5060), ia);
	assert_int_equal(src_dev(&f, b.src, 5060), ib);
	assert_int_equal(sw_bind_del(f.t, ia), 0);
	assert_int_equal(src_dev(&f, ip, 5060), 0);
	assert_int_equal(sw_src_count(f.src), 1);
	fx_free(&f);
}

static void test_capacity(void **state)
{
	struct fixture f = fx_new(2, 16);
	struct sw_bind_rec a = rec("a@example.com", "sip:a@192.0.2.1", "urn:uuid:a", NULL, NULL,
				   NULL, v4(192, 0, 2, 1), 5060);
	struct sw_bind_rec b = rec("b@example.com", "sip:b@192.0.2.2", "urn:uuid:b", NULL, NULL,
				   NULL, v4(192, 0, 2, 2), 5060);
	struct sw_bind_rec c = rec("c@example.com", "sip:c@192.0.2.3", "urn:uuid:c", NULL, NULL,
				   NULL, v4(192, 0, 2, 3), 5060);
	uint64_t ia, ib, ic;
	size_t bytes;

	(void)state;
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(f.t, &b, 1, &ib), 0);
	bytes = sw_bind_bytes(f.t);
	assert_int_equal(sw_bind_put(f.t, &c, 1, &ic), -ENOSPC);
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_bind_bytes(f.t), bytes);
	assert_int_equal(sw_src_count(f.src), 2);
	assert_null(sw_bind_match(f.t, &c));
	assert_int_equal(src_dev(&f, c.src, 5060), 0);
	assert_non_null(sw_bind_by_id(f.t, ia));
	assert_non_null(sw_bind_by_id(f.t, ib));
	/* Existing devices can still be refreshed, even from a new source. */
	a.src = v4(192, 0, 2, 11);
	assert_int_equal(sw_bind_put(f.t, &a, 2, &ic), 0);
	assert_int_equal(ic, ia);
	assert_int_equal(src_dev(&f, a.src, 5060), ia);
	assert_int_equal(sw_bind_count(f.t), 2);
	/* Room again after a removal. */
	assert_int_equal(sw_bind_del(f.t, ib), 0);
	assert_int_equal(sw_bind_put(f.t, &c, 1, &ic), 0);
	assert_int_equal(sw_bind_count(f.t), 2);
	fx_free(&f);

	/* The source table full: refused, nothing changed. */
	f = fx_new(8, 1);
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(f.t, &b, 1, &ib), -ENOSPC);
	assert_int_equal(sw_bind_count(f.t), 1);
	assert_null(sw_bind_match(f.t, &b));
	/* ... and a refresh to a new source is refused too, keeping the old. */
	a.src = v4(192, 0, 2, 12);
	assert_int_equal(sw_bind_put(f.t, &a, 1, NULL), -ENOSPC);
	assert_int_equal(src_dev(&f, v4(192, 0, 2, 11), 5060), ia);
	assert_int_equal(sw_bind_by_id(f.t, ia)->src.a[15], 11);
	fx_free(&f);
}

static void test_del(void **state)
{
	struct fixture f = fx_new(128, 128);
	struct sw_bind_rec r;
	char aor[32], contact[64];
	uint64_t id;

	(void)state;
	r = rec("g@example.com", "sip:g@192.0.2.1", NULL, "fcm", "t", "p", v4(192, 0, 2, 1), 5060);
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id), 0);
	assert_int_equal(sw_bind_del(f.t, id), 0);
	assert_int_equal(sw_bind_del(f.t, id), -ENOENT);
	assert_int_equal(sw_bind_count(f.t), 0);
	assert_int_equal(sw_bind_bytes(f.t), 0);
	assert_null(sw_bind_by_id(f.t, id));
	assert_null(sw_bind_by_contact(f.t, "sip:g@192.0.2.1", 15));
	assert_null(by_pn(f.t, "fcm", "t", "p"));
	assert_null(sw_bind_match(f.t, &r));
	assert_int_equal(sw_src_count(f.src), 0);
	/* A new device never gets a removed one's id. */
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id), 0);
	assert_int_equal(sw_bind_del(f.t, id), 0);

	/* "Contact: *": every device of one AOR, more than one batch of 64. */
	for (int i = 0; i < 70; i++) {
		snprintf(contact, sizeof(contact), "sip:h@10.0.%d.%d", i / 200, i % 200 + 1);
		r = rec("h@example.com", contact, NULL, NULL, NULL, NULL,
			v4(10, 0, (uint8_t)(i / 200), (uint8_t)(i % 200 + 1)), 5060);
		assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(aor, sizeof(aor), "k%d@example.com", i);
		r = rec(aor, "sip:k@192.0.2.50", NULL, NULL, NULL, NULL, v4(192, 0, 2, 50), 5060);
		assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	}
	assert_int_equal(sw_bind_count(f.t), 73);
	assert_int_equal(sw_src_count(f.src), 71);
	assert_int_equal(sw_bind_del_aor(f.t, "h@example.com", 13), 70);
	assert_int_equal(sw_bind_count(f.t), 3);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(sw_bind_del_aor(f.t, "h@example.com", 13), 0);
	assert_int_equal(sw_bind_foreach_aor(f.t, "k1@example.com", 14, collect, &(struct ids){0}),
			 1);
	assert_int_equal(sw_bind_del_aor(f.t, "k1@example.com", 14), 1);
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_src_count(f.src), 1);
	sw_bind_foreach(f.t, collect, &(struct ids){0});
	fx_free(&f);
}

struct expired {
	uint64_t id[8];
	int64_t exp[8];
	unsigned n;
};

static void on_expire(const struct sw_device *d, void *arg)
{
	struct expired *e = arg;

	e->id[e->n] = d->id;
	e->exp[e->n++] = d->expires_at;
}

static void test_expire(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct expired e = {0};
	uint64_t ids[4];
	struct sw_bind_rec r;
	char contact[32];

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(contact, sizeof(contact), "sip:x@192.0.2.%d", i + 1);
		r = rec("x@example.com", contact, NULL, NULL, NULL, NULL,
			v4(192, 0, 2, (uint8_t)(i + 1)), 5060);
		r.expires_at = 100 * (i + 1);
		assert_int_equal(sw_bind_put(f.t, &r, 1, &ids[i]), 0);
	}
	assert_int_equal(sw_bind_expire(f.t, 99, on_expire, &e), 0);
	assert_int_equal(e.n, 0);
	/* expires_at <= now goes: 100 and 200. */
	assert_int_equal(sw_bind_expire(f.t, 200, on_expire, &e), 2);
	assert_int_equal(e.n, 2);
	assert_true(e.exp[0] <= 200 && e.exp[1] <= 200 && e.id[0] != e.id[1]);
	assert_true(e.id[0] == ids[0] || e.id[0] == ids[1]);
	assert_true(e.id[1] == ids[0] || e.id[1] == ids[1]);
	assert_null(sw_bind_by_id(f.t, ids[0]));
	assert_null(sw_bind_by_id(f.t, ids[1]));
	assert_null(sw_bind_by_contact(f.t, "sip:x@192.0.2.1", 15));
	assert_non_null(sw_bind_by_id(f.t, ids[2]));
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_src_count(f.src), 2);
	assert_int_equal(src_dev(&f, v4(192, 0, 2, 1), 5060), 0);
	assert_int_equal(src_dev(&f, v4(192, 0, 2, 3), 5060), ids[2]);
	/* No callback is fine too. */
	assert_int_equal(sw_bind_expire(f.t, 1000, NULL, NULL), 2);
	assert_int_equal(sw_bind_count(f.t), 0);
	assert_int_equal(sw_src_count(f.src), 0);
	fx_free(&f);
}

static void test_limits(void **state)
{
	struct fixture f = fx_new(16, 16);
	static char big[2048];
	struct sw_bind_rec ok = rec("l@example.com", "sip:l@192.0.2.1", "urn:uuid:l", "fcm", "t",
				    "p", v4(192, 0, 2, 1), 5060);
	struct sw_bind_rec r;

	(void)state;
	memset(big, 'a', sizeof(big));
	r = ok;
	r.aor_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	r = ok;
	r.contact_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	r = ok;
	r.pn_provider_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	r = ok;
	r.pn_prid_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	/* The pn fields are canonical: a control byte (the key's separator) is refused. */
	r = ok;
	r.pn_prid = "a\x1f"
		    "b";
	r.pn_prid_len = 3;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);

	r = ok;
	r.aor = big;
	r.aor_len = SW_AOR_MAX;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	r = ok;
	r.contact = big;
	r.contact_len = SW_CONTACT_MAX;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	r = ok;
	r.instance = big;
	r.instance_len = SW_INSTANCE_MAX;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	r = ok;
	r.pn_prid = big;
	r.pn_prid_len = SW_PN_KEY_MAX - 3 - 3 - 1 + 1; /* "fcm" + "p" + 2 separators + NUL */
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	assert_int_equal(sw_bind_count(f.t), 0);
	assert_int_equal(sw_src_count(f.src), 0);

	/* One under each limit is accepted, and the pn key of the longest fits. */
	r = ok;
	r.aor = big;
	r.aor_len = SW_AOR_MAX - 1;
	r.contact = big;
	r.contact_len = SW_CONTACT_MAX - 1;
	r.instance = big;
	r.instance_len = SW_INSTANCE_MAX - 1;
	r.pn_prid = big;
	r.pn_prid_len = SW_PN_KEY_MAX - 3 - 3 - 1;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	{
		char key[SW_PN_KEY_MAX];
		int n = sw_pn_key(key, sizeof(key), r.pn_provider, r.pn_provider_len, r.pn_prid,
				  r.pn_prid_len, r.pn_param, r.pn_param_len);

		assert_int_equal(n, SW_PN_KEY_MAX - 1);
		assert_non_null(sw_bind_by_pn(f.t, key, (size_t)n));
	}
	assert_int_equal(sw_bind_count(f.t), 1);
	/* With no push address the pn fields are ignored. */
	r = ok;
	r.pn_form = SW_PN_NONE;
	r.pn_provider_len = 0;
	r.instance = "urn:uuid:m";
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	fx_free(&f);
}

/* ---- a reader against the writer ---- */

#define RACE_AOR      "race@example.com"
#define RACE_INSTANCE "urn:uuid:race"

static void race_strings(unsigned g, char *contact, size_t ccap, char *prid, size_t pcap)
{
	snprintf(contact, ccap, "sip:race@198.51.100.7:%u;g=%u", 10000 + g % 1000, g);
	snprintf(prid, pcap, "tok-%u", g);
}

struct race {
	struct sw_bind_table *t;
	uint64_t id;
	unsigned gen; /* token generation the writer last published */
	int stop;
	unsigned long seen_id, seen_pn, seen_contact, bad;
};

/* Every field of one refresh agrees with its generation @g. */
static bool race_ok(const struct race *r, const struct sw_device *d, unsigned g)
{
	char contact[96], prid[32];
	unsigned cg, pg;

	if (d->id != r->id || !str_is(d->aor, d->aor_len, RACE_AOR) ||
	    !str_is(d->instance, d->instance_len, RACE_INSTANCE))
		return false;
	if (sscanf(d->contact, "sip:race@198.51.100.7:%*u;g=%u", &cg) != 1 ||
	    sscanf(d->pn_prid, "tok-%u", &pg) != 1 || cg != pg || (g != UINT32_MAX && cg != g))
		return false;
	race_strings(cg, contact, sizeof(contact), prid, sizeof(prid));
	return str_is(d->contact, d->contact_len, contact) &&
	       str_is(d->pn_prid, d->pn_prid_len, prid) && d->sport == 10000 + cg % 1000 &&
	       d->expires_at == d->registered_at + 3600 && d->registered_at / 4 == cg &&
	       str_is(d->pn_provider, d->pn_provider_len, "fcm");
}

static void *reader(void *arg)
{
	struct race *r = arg;
	char contact[96], prid[32], key[SW_PN_KEY_MAX];

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 16; i++) {
			unsigned g = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
			const struct sw_device *d = sw_bind_by_id(r->t, r->id);
			int n;

			/* The id is replaced in place: never missing. */
			if (d == NULL || !race_ok(r, d, UINT32_MAX))
				r->bad++;
			__atomic_store_n(&r->seen_id, r->seen_id + 1, __ATOMIC_RELAXED);

			/* The generation read may be gone already (NULL is
			 * fine); what is found must be that generation. */
			race_strings(g, contact, sizeof(contact), prid, sizeof(prid));
			n = sw_pn_key(key, sizeof(key), "fcm", 3, prid, strlen(prid), "p", 1);
			d = sw_bind_by_pn(r->t, key, (size_t)n);
			if (d != NULL) {
				r->seen_pn++;
				if (!race_ok(r, d, g))
					r->bad++;
			}
			d = sw_bind_by_contact(r->t, contact, strlen(contact));
			if (d != NULL) {
				r->seen_contact++;
				if (!race_ok(r, d, g))
					r->bad++;
			}
		}
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

static void test_concurrent_refresh(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct race r = {.t = f.t};
	char contact[96], prid[32];
	struct sw_bind_rec b;
	pthread_t th;

	(void)state;
	for (unsigned i = 0; i < 20000; i++) {
		unsigned g = i / 4; /* a new token (and contact, source) every 4 refreshes */

		race_strings(g, contact, sizeof(contact), prid, sizeof(prid));
		b = rec(RACE_AOR, contact, RACE_INSTANCE, "fcm", prid, "p", v4(198, 51, 100, 7),
			(uint16_t)(10000 + g % 1000));
		b.registered_at = i;
		b.expires_at = i + 3600;
		assert_int_equal(sw_bind_put(f.t, &b, i, i == 0 ? &r.id : NULL), 0);
		__atomic_store_n(&r.gen, g, __ATOMIC_RELEASE);
		if (i == 0) {
			assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
			/* The machine may be busy: let the reader start (at most ~5 s). */
			for (int w = 0;
			     w < 5000 && __atomic_load_n(&r.seen_id, __ATOMIC_RELAXED) == 0; w++) {
				urcu_qsbr_quiescent_state();
				usleep(1000);
			}
		}
		urcu_qsbr_quiescent_state();
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(r.bad, 0);
	assert_true(r.seen_id > 0);
	print_message("reader: %lu by id, %lu by pn, %lu by contact\n", r.seen_id, r.seen_pn,
		      r.seen_contact);
	/* After the writer: exactly the last refresh, nothing of the others. */
	assert_int_equal(sw_bind_count(f.t), 1);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_true(race_ok(&r, sw_bind_by_id(f.t, r.id), 19999 / 4));
	race_strings(19999 / 4 - 1, contact, sizeof(contact), prid, sizeof(prid));
	assert_null(sw_bind_by_contact(f.t, contact, strlen(contact)));
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),	      cmocka_unit_test(test_refresh_new_source),
		cmocka_unit_test(test_two_instances), cmocka_unit_test(test_match_pn_then_contact),
		cmocka_unit_test(test_pn_key),	      cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_shared_source), cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_del),	      cmocka_unit_test(test_expire),
		cmocka_unit_test(test_limits),	      cmocka_unit_test(test_concurrent_refresh),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
