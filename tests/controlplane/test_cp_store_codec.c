/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a shared store writes for other edges (controlplane/store/
 * cp_store_codec.h, cp_store_journal.h): a binding reads back from its
 * record field for field (both address families, all push forms, every
 * transport), records from another version or a broken writer are refused, a device key
 * reads back into an identity sw_bind_match() finds, and the journal keeps
 * changes in order across a reopen and forgets what it is told to.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "common/sw_tp.h"
#include "controlplane/store/cp_store_codec.h"
#include "controlplane/store/cp_store_internal.h"
#include "controlplane/store/cp_store_journal.h"
#include "tests/controlplane/cp_store_test.h"

static const struct sw_ip v6 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34}};

void test_codec_roundtrip(void **state)
{
	struct sw_bind_rec r[3] = {
		rec("alice@example.com", "sip:alice@192.0.2.10:5060;pn-provider=apns",
		    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", SW_PN_RFC8599, "apns",
		    "00fc13adff78512", "TEAM.com.ex.voip", v4(192, 0, 2, 10), 5060, 1700003600),
		rec("bob@example.com", "sip:bob@[2001:db8::1234]:5062;transport=tls", NULL,
		    SW_PN_LEGACY, "fcm", "AAAA:bbbb/cc+d=\"\\", "com.example.app", v6, 5062,
		    1700007200),
		rec("dave@example.com", "sip:dave@203.0.113.4:5060", NULL, SW_PN_NONE, NULL, NULL,
		    NULL, v4(203, 0, 113, 4), 5060, 1700000500),
	};
	char val[4096], buf[CP_CODEC_BUF];
	struct sw_bind_rec got;

	(void)state;
	r[0].pn_dead = 2;
	r[0].iface = 3;
	r[1].tp = SW_TP_TLS;
	r[1].conn = 77; /* not this edge's to share: not encoded */
	r[1].registered_at = 1700000001;
	r[2].tp = SW_TP_WSS;
	/* A push key (docs/push-encryption.md) travels as the optional last field. */
	r[1].push_key_set = 1;
	for (unsigned i = 0; i < SW_PUSH_KEY_LEN; i++)
		r[1].push_key[i] = (uint8_t)(i * 37 + 5);
	for (unsigned i = 0; i < 3; i++) {
		int n = cp_codec_encode(&r[i], val, sizeof(val));

		assert_true(n > 0);
		assert_int_equal(strlen(val), n);
		assert_int_equal(cp_codec_decode(val, (size_t)n, &got, buf), 0);
		r[i].conn = 0;
		assert_same(&got, &r[i]);
		assert_int_equal(got.conn, 0);
		assert_int_equal(got.tp, r[i].tp);
	}
	/* Without a key, the record is what the version before wrote (15
	 * fields); with one, a 16th of 64 hex characters. */
	{
		unsigned seps = 0;
		int n = cp_codec_encode(&r[1], val, sizeof(val));

		for (int i = 0; i < n; i++)
			seps += val[i] == '\x1f';
		assert_int_equal(seps, 15);
		assert_int_equal(strspn(strrchr(val, '\x1f') + 1, "0123456789abcdef"), 64);
		cp_codec_encode(&r[0], val, sizeof(val));
		for (int i = 0, m = (int)strlen(val); i < m; i++)
			seps -= val[i] == '\x1f';
		assert_int_equal(seps, 1);
	}
	/* Too small a buffer is an error, not a truncated value. */
	assert_int_equal(cp_codec_encode(&r[0], val, 40), -E2BIG);
}

void test_codec_refused(void **state)
{
#define GOOD_TAIL     \
	"\x1f"        \
	"0\x1f"       \
	"1.2.3.4\x1f" \
	"5060\x1f"    \
	"0\x1f"       \
	"1\x1f"       \
	"2"
	static const char *const bad[] = {
		"",
		"sw1",
		/* another version */
		"sw2\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f" GOOD_TAIL,
		/* a field short */
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f" GOOD_TAIL,
		/* a push key that is not 64 lower-case hex characters */
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f" GOOD_TAIL "\x1f"
		"9",
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f" GOOD_TAIL "\x1f"
		"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
		/* a field more than that */
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f" GOOD_TAIL "\x1f"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\x1f",
		/* the port out of range */
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f\x1f"
		"0\x1f"
		"1.2.3.4\x1f"
		"70000\x1f"
		"0\x1f"
		"1\x1f"
		"2",
		/* a transport this version does not know */
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f\x1f"
		"9\x1f"
		"1.2.3.4\x1f"
		"5060\x1f"
		"0\x1f"
		"1\x1f"
		"2",
		/* an address that is not one */
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f\x1f"
		"0\x1f"
		"1.2.3\x1f"
		"5060\x1f"
		"0\x1f"
		"1\x1f"
		"2",
		/* a number that is not one */
		"sw1\x1f"
		"a@b\x1f"
		"sip:a@1.2.3.4\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f\x1f"
		"0\x1f"
		"1.2.3.4\x1f"
		"5060\x1f"
		"0\x1f"
		"1x\x1f"
		"2",
		/* an empty contact (sw_bind_rec_check()) */
		"sw1\x1f"
		"a@b\x1f\x1f\x1f"
		"0\x1f"
		"0\x1f\x1f\x1f" GOOD_TAIL,
		/* JSON, as a first version of this code wrote */
		"{\"aor\":\"a@b\",\"contact\":\"sip:a@1.2.3.4\"}",
	};
	static const char good[] = "sw1\x1f"
				   "a@b\x1f"
				   "sip:a@1.2.3.4\x1f\x1f"
				   "0\x1f"
				   "0\x1f\x1f\x1f" GOOD_TAIL;
	char buf[CP_CODEC_BUF], out[64];
	struct sw_bind_rec got;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cp_codec_decode(bad[i], strlen(bad[i]), &got, buf), -EINVAL);
	assert_int_equal(cp_codec_decode(good, strlen(good), &got, buf), 0);
	assert_int_equal(got.sport, 5060);
	assert_int_equal(got.expires_at, 2);
	/* A field holding the separator is refused, not written ambiguously. */
	got.contact = "sip:a\x1f@1.2.3.4";
	got.contact_len = (uint16_t)strlen(got.contact);
	assert_int_equal(cp_codec_encode(&got, out, sizeof(out)), -EINVAL);
#undef GOOD_TAIL
}

void test_codec_key_rec(void **state)
{
	struct sw_bind_rec r[3] = {
		rec("alice@example.com", "sip:alice@192.0.2.10:5060", "urn:uuid:1", SW_PN_NONE,
		    NULL, NULL, NULL, v4(192, 0, 2, 10), 5060, 1700003600),
		rec("alice@example.com", "sip:alice@192.0.2.11:5060", NULL, SW_PN_RFC8599, "apns",
		    "tok", "TEAM.app", v4(192, 0, 2, 11), 5060, 1700003600),
		rec("alice@example.com", "sip:alice@192.0.2.12:5060", NULL, SW_PN_NONE, NULL, NULL,
		    NULL, v4(192, 0, 2, 12), 5060, 1700003600),
	};
	char key[CP_STORE_KEY_MAX], key2[CP_STORE_KEY_MAX];
	struct sw_bind_rec back;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		int n = cp_store_device_key(&r[i], key, sizeof(key));

		assert_true(n > 2);
		assert_int_equal(cp_codec_key_rec(r[i].aor, r[i].aor_len, key, (size_t)n, &back),
				 0);
		/* The identity read back has the same key: the same device. */
		assert_int_equal(cp_store_device_key(&back, key2, sizeof(key2)), n);
		assert_memory_equal(key, key2, (size_t)n);
	}
	assert_int_equal(cp_codec_key_rec("a@b", 3, "x:1", 3, &back), -EINVAL);
	assert_int_equal(cp_codec_key_rec("a@b", 3, "p:only-one\x1f", 12, &back), -EINVAL);
	assert_int_equal(cp_codec_key_rec("", 0, "c:sip:a@b", 9, &back), -EINVAL);
}

struct seen {
	int64_t seq[8];
	char aor[8][32];
	enum cl_change kind[8];
	unsigned n;
};

static void on_op(const struct cp_journal_op *op, void *arg)
{
	struct seen *s = arg;

	s->seq[s->n] = op->seq;
	s->kind[s->n] = op->kind;
	snprintf(s->aor[s->n], sizeof(s->aor[0]), "%.*s", (int)op->b.aor_len, op->b.aor);
	s->n++;
}

void test_journal(void **state)
{
	char path[128], err[256];
	struct cp_journal_op ops[3] = {
		{.kind = CL_PUT,
		 .b = {.aor = "a@x",
		       .aor_len = 3,
		       .key = "c:1",
		       .key_len = 3,
		       .val = "{}",
		       .val_len = 2,
		       .stamp = 10,
		       .expires_at = 20}},
		{.kind = CL_DEL,
		 .b = {.aor = "b@x", .aor_len = 3, .key = "c:2", .key_len = 3, .stamp = 11}},
		{.kind = CL_DEL_AOR, .b = {.aor = "c@x", .aor_len = 3, .stamp = 12}},
	};
	struct cp_store *s;
	struct cp_journal *j;
	struct seen seen = {0};

	(void)state;
	tpath(path, sizeof(path), "journal.db");
	s = open_ok(path, false);
	j = cp_journal_open(cp_store_sqlite_db(s), err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(cp_journal_depth(j), 0);
	assert_int_equal(cp_journal_append(j, ops, 2), 0);
	assert_int_equal(cp_journal_append(j, ops + 2, 1), 0);
	assert_int_equal(cp_journal_depth(j), 3);
	cp_journal_close(j);
	cp_store_close(s);

	/* Reopened: the same changes, in order; a trim forgets a prefix. */
	s = open_ok(path, false);
	j = cp_journal_open(cp_store_sqlite_db(s), err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(cp_journal_depth(j), 3);
	assert_int_equal(cp_journal_read(j, 0, 2, on_op, &seen), 2);
	assert_int_equal(cp_journal_read(j, seen.seq[1], 10, on_op, &seen), 1);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.aor[0], "a@x");
	assert_string_equal(seen.aor[2], "c@x");
	assert_int_equal(seen.kind[1], CL_DEL);
	assert_true(seen.seq[0] < seen.seq[1] && seen.seq[1] < seen.seq[2]);
	assert_int_equal(cp_journal_trim(j, seen.seq[1]), 0);
	assert_int_equal(cp_journal_depth(j), 1);
	seen.n = 0;
	assert_int_equal(cp_journal_read(j, 0, 10, on_op, &seen), 1);
	assert_string_equal(seen.aor[0], "c@x");
	cp_journal_close(j);
	cp_store_close(s);
}
