/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding tables (common/sw_bind.h): which registration is which device
 * (instance, then push address, then contact), the push address key, and
 * the lookups by id, contact, push address and AOR. This file's main() runs
 * every sw_bind test; the others are, by concern: test_sw_bind_remove.c
 * (the source table kept in step, removal, expiry), test_sw_bind_limits.c
 * (capacity, field limits) and test_sw_bind_race.c (a reader thread
 * running lookups while the writer refreshes one device: the reader must
 * only ever see a whole device of one refresh).
 */
#include <errno.h>
#include <stdio.h>

#include "tests/common/sw_bind_test.h"

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
	/* "198.51.100.2:4000" vs "192.0.2.1:5060", in the contact and in the
	 * Request-URI made from it (struct sw_device.ruri). */
	assert_int_equal(sw_bind_bytes(f.t), bytes + 6);
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
	char big[SW_PN_KEY_MAX]; /* longer than any key with a provider */
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
