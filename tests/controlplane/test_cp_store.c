/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding store (controlplane/store/cp_store.h), SQLite backend: what is
 * committed reads back field for field after a reopen; upsert, deletes,
 * expiry at load; the device key agrees with sw_bind_match(). This file's
 * main() runs every cp_store test; the others are, by concern:
 * test_cp_store_uncommitted.c (what is not committed is not there, also
 * after kill -9; a failed batch rolls back whole) and test_cp_store_open.c
 * (clear errors for bad paths and files). Every file lives in a mkdtemp()
 * directory removed at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <urcu/urcu-qsbr.h>

#include "controlplane/store/cp_store_internal.h"
#include "tests/controlplane/cp_store_test.h"

static const struct sw_ip v6 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34}};

static void test_roundtrip(void **state)
{
	char path[128];
	struct sw_bind_rec r[4] = {
		rec("alice@example.com",
		    "sip:alice@192.0.2.10:5060;pn-provider=apns;pn-prid=00fc13adff78512;"
		    "pn-param=TEAM.com.ex.voip",
		    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", SW_PN_RFC8599, "apns",
		    "00fc13adff78512", "TEAM.com.ex.voip", v4(192, 0, 2, 10), 5060, 1700003600),
		rec("bob@example.com", "sip:bob@[2001:db8::1234]:5062;transport=udp", NULL,
		    SW_PN_LEGACY, "fcm", "AAAA:bbbb/cc+d=", "com.example.app", v6, 5062,
		    1700007200),
		rec("carol@example.com", "sip:carol@198.51.100.3:40000", NULL, SW_PN_XPUSH,
		    "voip-push", "x-token-123", "", v4(198, 51, 100, 3), 40000, 1700001000),
		rec("dave@example.com", "sip:dave@203.0.113.4:5060", NULL, SW_PN_NONE, NULL, NULL,
		    NULL, v4(203, 0, 113, 4), 5060, 1700000500),
	};
	struct cp_store_stats st;
	struct loaded l;
	struct cp_store *s;
	struct stat sb;

	(void)state;
	r[0].iface = 0;
	r[1].iface = 255;
	r[1].registered_at = -1; /* any 64-bit value survives */
	tpath(path, sizeof(path), "rt/sub/bindings.db");
	s = open_ok(path, true);
	for (int i = 0; i < 4; i++)
		assert_int_equal(cp_store_put(s, &r[i]), 0);
	assert_int_equal(cp_store_commit(s), 0);
	/* Nothing open: a commit is a no-op. */
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_get_stats(s, &st);
	assert_int_equal(st.puts, 4);
	assert_int_equal(st.commits, 1);
	assert_int_equal(st.commit_errors, 0);
	assert_true(st.max_commit_us >= st.last_commit_us);
	assert_string_equal(cp_store_error(s), "");
	cp_store_close(s);

	/* Parents created 0750, the file 0640 (it holds push tokens). */
	assert_int_equal(stat(tpath(path, sizeof(path), "rt/sub"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0750);
	tpath(path, sizeof(path), "rt/sub/bindings.db");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);

	assert_int_equal(reload(path, 1700000000, &l), 4);
	assert_int_equal(l.n, 4);
	for (int i = 0; i < 4; i++)
		assert_same(find(&l, r[i].contact), &r[i]);
	assert_true(sw_ip_is_v4(&find(&l, r[0].contact)->src));
	assert_false(sw_ip_is_v4(&find(&l, r[1].contact)->src));
}

static void test_device_key(void **state)
{
	struct sw_bind_rec r = rec("a@example.com", "sip:a@192.0.2.1", "urn:uuid:1", SW_PN_RFC8599,
				   "apns", "tok", "T.voip", v4(192, 0, 2, 1), 5060, 1);
	char key[CP_STORE_KEY_MAX];

	(void)state;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), 12);
	assert_string_equal(key, "i:urn:uuid:1");
	r.instance_len = 0;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), 2 + 4 + 1 + 3 + 1 + 6);
	assert_memory_equal(key, "p:apns\x1ftok\x1fT.voip", 18);
	r.pn_form = SW_PN_NONE;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), 17);
	assert_string_equal(key, "c:sip:a@192.0.2.1");
	assert_int_equal(cp_store_device_key(&r, key, 18), 17);
	assert_int_equal(cp_store_device_key(&r, key, 17), -E2BIG);
	r.contact_len = 0;
	assert_int_equal(cp_store_device_key(&r, key, sizeof(key)), -EINVAL);
}

/* The key must say "same device" exactly when sw_bind_match() does. */
static void test_device_key_matches_sw_bind(void **state)
{
	struct sw_bind_rec v[] = {
		rec("a@x", "sip:a@1", "urn:uuid:1", SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 1), 1,
		    9),
		rec("a@x", "sip:a@2", "urn:uuid:1", SW_PN_RFC8599, "apns", "t", "p", v4(1, 1, 1, 2),
		    1, 9),
		rec("a@x", "sip:a@1", "urn:uuid:2", SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 3), 1,
		    9),
		rec("a@x", "sip:a@1", NULL, SW_PN_RFC8599, "apns", "t", "p", v4(1, 1, 1, 4), 1, 9),
		rec("a@x", "sip:a@3", NULL, SW_PN_RFC8599, "apns", "t", "p", v4(1, 1, 1, 5), 1, 9),
		rec("a@x", "sip:a@1", NULL, SW_PN_RFC8599, "apns", "t", "q", v4(1, 1, 1, 6), 1, 9),
		rec("a@x", "sip:a@1", NULL, SW_PN_RFC8599, "fcm", "t", "p", v4(1, 1, 1, 7), 1, 9),
		rec("a@x", "sip:a@1", NULL, SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 8), 1, 9),
		rec("a@x", "sip:a@2", NULL, SW_PN_NONE, NULL, NULL, NULL, v4(1, 1, 1, 9), 1, 9),
	};
	const size_t n = sizeof(v) / sizeof(v[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct sw_src_table *src = sw_src_create(4);
		struct sw_bind_table *t = sw_bind_create(4, src);
		char ki[CP_STORE_KEY_MAX], kj[CP_STORE_KEY_MAX];
		int li = cp_store_device_key(&v[i], ki, sizeof(ki));

		assert_int_equal(sw_bind_put(t, &v[i], 1, NULL), 0);
		for (size_t j = 0; j < n; j++) {
			int lj = cp_store_device_key(&v[j], kj, sizeof(kj));
			bool same_key = li == lj && memcmp(ki, kj, (size_t)li) == 0;

			if (same_key != (sw_bind_match(t, &v[j]) != NULL))
				fail_msg("records %zu and %zu: key says %d, sw_bind_match %d", i, j,
					 same_key, !same_key);
		}
		urcu_qsbr_quiescent_state();
		sw_bind_free(t);
		sw_src_free(src);
	}
}

static void test_upsert(void **state)
{
	char path[128];
	struct sw_bind_rec a =
		rec("e@example.com", "sip:e@192.0.2.5:5060", "urn:uuid:e", SW_PN_RFC8599, "fcm",
		    "tok1", "proj", v4(192, 0, 2, 5), 5060, 2000);
	struct sw_bind_rec b = a;
	struct cp_store *s;
	struct loaded l;

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "upsert.db"), false);
	assert_int_equal(cp_store_put(s, &a), 0);
	assert_int_equal(cp_store_commit(s), 0);
	/* Same instance, moved and with a new token: one row, replaced. */
	b.contact = "sip:e@198.51.100.9:7000";
	b.contact_len = (uint16_t)strlen(b.contact);
	b.src = v4(198, 51, 100, 9);
	b.sport = 7000;
	b.pn_prid = "tok2";
	b.expires_at = 3000;
	assert_int_equal(cp_store_put(s, &b), 0);
	/* Twice in one batch is fine too. */
	assert_int_equal(cp_store_put(s, &b), 0);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);
	assert_int_equal(count_rows(path), 1);
	assert_int_equal(reload(path, 1000, &l), 1);
	assert_same(&l.c[0].r, &b);

	/* Another instance of the AOR is another row. */
	s = open_ok(path, false);
	a.instance = "urn:uuid:e2";
	a.instance_len = 11;
	assert_int_equal(cp_store_put(s, &a), 0);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);
	assert_int_equal(reload(path, 1000, &l), 2);
}

static void test_delete(void **state)
{
	char path[128];
	struct sw_bind_rec r[4] = {
		rec("f@example.com", "sip:f@192.0.2.1", "urn:uuid:1", SW_PN_NONE, NULL, NULL, NULL,
		    v4(192, 0, 2, 1), 5060, 2000),
		rec("f@example.com", "sip:f@192.0.2.2", NULL, SW_PN_RFC8599, "apns", "t", "p",
		    v4(192, 0, 2, 2), 5060, 2000),
		rec("f@example.com", "sip:f@192.0.2.3", NULL, SW_PN_NONE, NULL, NULL, NULL,
		    v4(192, 0, 2, 3), 5060, 2000),
		rec("g@example.com", "sip:g@192.0.2.4", NULL, SW_PN_NONE, NULL, NULL, NULL,
		    v4(192, 0, 2, 4), 5060, 2000),
	};
	struct cp_store_stats st;
	struct cp_store *s;
	struct loaded l;

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "delete.db"), false);
	for (int i = 0; i < 4; i++)
		assert_int_equal(cp_store_put(s, &r[i]), 0);
	assert_int_equal(cp_store_commit(s), 0);
	/* The device the record identifies goes, whatever else changed. */
	r[1].contact = "sip:f@elsewhere";
	r[1].contact_len = 15;
	assert_int_equal(cp_store_del(s, &r[1]), 0);
	assert_int_equal(cp_store_del(s, &r[1]), 0); /* gone already: fine */
	assert_int_equal(cp_store_commit(s), 0);
	assert_int_equal(count_rows(path), 3);
	assert_int_equal(cp_store_del_aor(s, "f@example.com", 13), 2);
	assert_int_equal(cp_store_del_aor(s, "f@example.com", 13), 0);
	assert_int_equal(cp_store_del_aor(s, "f@example.com", 0), -EINVAL);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_get_stats(s, &st);
	assert_int_equal(st.deletes, 3);
	assert_int_equal(st.commits, 3);
	cp_store_close(s);
	assert_int_equal(reload(path, 0, &l), 1);
	assert_same(&l.c[0].r, &r[3]);
}

static void test_expired(void **state)
{
	char path[128];
	char contact[32];
	struct cp_store_stats st;
	struct cp_store *s;
	struct loaded l = {0};

	(void)state;
	s = open_ok(tpath(path, sizeof(path), "expired.db"), false);
	for (int i = 1; i <= 3; i++) {
		struct sw_bind_rec r;

		snprintf(contact, sizeof(contact), "sip:h@192.0.2.%d", i);
		r = rec("h@example.com", contact, NULL, SW_PN_NONE, NULL, NULL, NULL,
			v4(192, 0, 2, (uint8_t)i), 5060, 100 * i);
		assert_int_equal(cp_store_put(s, &r), 0);
	}
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);

	s = open_ok(path, false);
	/* expires_at <= now is expired, as for sw_bind_expire(). */
	assert_int_equal(cp_store_load(s, 200, on_load, &l), 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.c[0].r.expires_at, 300);
	cp_store_get_stats(s, &st);
	assert_int_equal(st.loaded, 1);
	assert_int_equal(st.load_expired, 2);
	assert_int_equal(st.load_skipped, 0);
	cp_store_close(s);
	/* Gone from the file, not just skipped. */
	assert_int_equal(count_rows(path), 1);
	assert_int_equal(reload(path, 0, &l), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_device_key),
		cmocka_unit_test(test_device_key_matches_sw_bind),
		cmocka_unit_test(test_upsert),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_uncommitted_close),
		cmocka_unit_test(test_kill9),
		cmocka_unit_test(test_failed_batch),
		cmocka_unit_test(test_load_stops),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_not_a_database),
		cmocka_unit_test(test_schema_1_upgraded),
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_refused),
		cmocka_unit_test(test_codec_key_rec),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_held_roundtrip),
		cmocka_unit_test(test_held_batches),
		cmocka_unit_test(test_held_load_answers),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
	urcu_qsbr_unregister_thread();
	return rc;
}
