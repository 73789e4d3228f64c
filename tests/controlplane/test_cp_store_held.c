/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of held calls in the SQLite store (cp_store_held_put(),
 * cp_store_held_del(), cp_store_held_load(); docs/design.md §7, "Held calls
 * and a crash"): a record reads back field for field after a reopen, rides
 * the bindings' batch (nothing before the commit, both after it), a delete
 * in the same batch as its put leaves nothing, the load lets its callback
 * delete each record, and a row that does not read back is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "tests/controlplane/cp_store_test.h"

/* Held calls read back, copied. */
struct held_seen {
	unsigned n;
	char key[4][64], inv[4][256];
	size_t key_len[4], inv_len[4];
	struct sw_ip src[4];
	uint16_t sport[4];
	int64_t deadline[4];
	uint32_t tag[4];
	struct cp_store *del; /* not NULL: delete each one as it comes */
};

static int on_held(const struct cp_store_held *h, void *arg)
{
	struct held_seen *s = arg;
	unsigned i = s->n++;

	assert_true(i < 4 && h->key_len < 64 && h->inv_len < 256);
	memcpy(s->key[i], h->key, h->key_len);
	s->key_len[i] = h->key_len;
	memcpy(s->inv[i], h->inv, h->inv_len);
	s->inv_len[i] = h->inv_len;
	s->src[i] = h->src;
	s->sport[i] = h->sport;
	s->deadline[i] = h->deadline_ms;
	s->tag[i] = h->tag;
	return s->del != NULL ? cp_store_held_del(s->del, h->key, h->key_len) : 0;
}

static const char inv_a[] = "INVITE sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP "
			    "198.51.100.1;branch=z9hG4bKa\r\nCall-ID: ca\r\n\r\n";
static const char inv_b[] = "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP "
			    "[2001:db8::5]:5070;branch=z9hG4bKb\r\nCall-ID: cb\r\n\r\n";

static struct cp_store_held held(const char *key, const char *inv, struct sw_ip src, uint16_t port,
				 int64_t deadline, uint32_t tag)
{
	return (struct cp_store_held){.key = key,
				      .key_len = strlen(key),
				      .src = src,
				      .sport = port,
				      .deadline_ms = deadline,
				      .tag = tag,
				      .inv = (const uint8_t *)inv,
				      .inv_len = strlen(inv)};
}

static struct sw_ip v6_5(void)
{
	struct sw_ip ip = {.a = {0x20, 0x01, 0x0d, 0xb8}};

	ip.a[15] = 5;
	return ip;
}

/* Open @p path again and read its held calls (deleting them if @p del). */
static int held_reload(const char *path, bool del, struct held_seen *s)
{
	struct cp_store *st = open_ok(path, false);
	int n;

	memset(s, 0, sizeof(*s));
	s->del = del ? st : NULL;
	n = cp_store_held_load(st, on_held, s);
	if (del)
		assert_int_equal(cp_store_commit(st), 0);
	cp_store_close(st);
	return n;
}

void test_held_roundtrip(void **state)
{
	char path[128];
	struct sw_bind_rec b = rec("h@example.com", "sip:h@192.0.2.1", NULL, SW_PN_NONE, NULL, NULL,
				   NULL, v4(192, 0, 2, 1), 5060, 4000000000);
	struct cp_store_held a =
		held("ca\x1fz9hG4bKa", inv_a, v4(198, 51, 100, 1), 5060, 1700000000123, 0xdeadbeef);
	struct cp_store_held c = held("cb\x1fz9hG4bKb", inv_b, v6_5(), 5070, 42, 7);
	struct held_seen s;
	struct loaded l;
	struct cp_store *st;

	(void)state;
	st = open_ok(tpath(path, sizeof(path), "held_roundtrip.db"), false);
	/* One batch: a binding and two held calls, durable together. */
	assert_int_equal(cp_store_put(st, &b), 0);
	assert_int_equal(cp_store_held_put(st, &a), 0);
	assert_int_equal(cp_store_held_put(st, &c), 0);
	assert_int_equal(cp_store_held_load(st, on_held, &s), -EBUSY);
	assert_int_equal(cp_store_commit(st), 0);
	/* Refused: a record with no key or no INVITE. */
	a.key_len = 0;
	assert_int_equal(cp_store_held_put(st, &a), -EINVAL);
	assert_int_equal(cp_store_held_del(st, "", 0), -EINVAL);
	cp_store_close(st);

	assert_int_equal(reload(path, 0, &l), 1);
	assert_int_equal(held_reload(path, false, &s), 2);
	for (unsigned i = 0; i < 2; i++) {
		bool is_a = s.key[i][1] == 'a';
		const struct cp_store_held *w = is_a ? &a : &c;

		assert_int_equal(s.key_len[i], strlen(is_a ? "ca\x1fz9hG4bKa" : "cb\x1fz9hG4bKb"));
		assert_memory_equal(s.key[i], is_a ? "ca\x1fz9hG4bKa" : "cb\x1fz9hG4bKb",
				    s.key_len[i]);
		assert_int_equal(s.inv_len[i], w->inv_len);
		assert_memory_equal(s.inv[i], w->inv, w->inv_len);
		assert_memory_equal(&s.src[i], &w->src, sizeof(w->src));
		assert_int_equal(s.sport[i], w->sport);
		assert_int_equal(s.deadline[i], w->deadline_ms);
		assert_int_equal(s.tag[i], w->tag);
	}
	/* Loading does not delete: still there. */
	assert_int_equal(held_reload(path, false, &s), 2);
}

void test_held_batches(void **state)
{
	char path[128];
	struct cp_store_held a = held("ca\x1fz9hG4bKa", inv_a, v4(198, 51, 100, 1), 5060, 1, 1);
	struct cp_store_held c = held("cb\x1fz9hG4bKb", inv_b, v6_5(), 5070, 2, 2);
	struct held_seen s;
	struct cp_store *st;

	(void)state;
	st = open_ok(tpath(path, sizeof(path), "held_batches.db"), false);
	assert_int_equal(cp_store_held_put(st, &a), 0);
	assert_int_equal(cp_store_commit(st), 0);
	/* Held and answered in one round: nothing of it; a delete of what
	 * is not there is no error. */
	assert_int_equal(cp_store_held_put(st, &c), 0);
	assert_int_equal(cp_store_held_del(st, c.key, c.key_len), 0);
	assert_int_equal(cp_store_held_del(st, "nope", 4), 0);
	assert_int_equal(cp_store_commit(st), 0);
	cp_store_close(st);
	assert_int_equal(held_reload(path, false, &s), 1);
	assert_int_equal(s.tag[0], 1);
	/* Not committed: not there (the store closed in the middle of the
	 * round: its delete is rolled back, as a crash would). */
	st = open_ok(path, false);
	assert_int_equal(cp_store_held_del(st, a.key, a.key_len), 0);
	assert_int_equal(cp_store_held_put(st, &c), 0);
	cp_store_close(st);
	assert_int_equal(held_reload(path, false, &s), 1);
	assert_int_equal(s.tag[0], 1);
	/* Answered: gone. */
	st = open_ok(path, false);
	assert_int_equal(cp_store_held_del(st, a.key, a.key_len), 0);
	assert_int_equal(cp_store_commit(st), 0);
	cp_store_close(st);
	assert_int_equal(held_reload(path, false, &s), 0);
}

void test_held_load_answers(void **state)
{
	char path[128];
	struct cp_store_held a = held("ca\x1fz9hG4bKa", inv_a, v4(198, 51, 100, 1), 5060, 1, 1);
	struct cp_store_held c = held("cb\x1fz9hG4bKb", inv_b, v6_5(), 5070, 2, 2);
	struct cp_store_stats stats;
	struct held_seen s;
	struct cp_store *st;
	sqlite3 *db;

	(void)state;
	st = open_ok(tpath(path, sizeof(path), "held_answers.db"), false);
	assert_int_equal(cp_store_held_put(st, &a), 0);
	assert_int_equal(cp_store_held_put(st, &c), 0);
	assert_int_equal(cp_store_commit(st), 0);
	cp_store_close(st);
	/* A row that does not read back (an address that is none). */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO held_calls VALUES (x'6b', 'not-an-ip', 5060, 0,"
				      " 0, x'49')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	/* At start: each one answered (here: deleted by the callback, as
	 * the final answer's delete does), then committed. */
	st = open_ok(path, false);
	memset(&s, 0, sizeof(s));
	s.del = st;
	assert_int_equal(cp_store_held_load(st, on_held, &s), 2);
	assert_int_equal(s.n, 2);
	cp_store_get_stats(st, &stats);
	assert_int_equal(stats.load_skipped, 1);
	assert_int_equal(cp_store_commit(st), 0);
	cp_store_close(st);
	assert_int_equal(held_reload(path, false, &s), 0);
}
