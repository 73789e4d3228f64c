/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The binding store shared through Redis (controlplane/store/cp_store_redis.c,
 * docs/cluster.md) against a real redis-server: a batch is sent and its
 * ticket done when Redis has it; while Redis is away batches are journaled
 * (durable at once) and replayed in order when it is back; another edge's
 * store hears the changes with the edge that made them; a restarted store
 * loads every binding, and its journal, with the edge of each; a value that
 * does not read back is counted, not applied; the journal of held calls
 * stays in the edge's own file, committed with the round's submit, Redis
 * up or away, and never reaches Redis.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "controlplane/store/cp_store.h"
#include "tests/cluster/cl_harness.h"

/* What one store's hooks saw. */
struct seen {
	unsigned ndone, nok, nchange;
	uint64_t last_ticket;
	char contact[8][128], edge[8][32];
	enum cp_store_change kind[8];
};

static void on_done(void *arg, uint64_t ticket, bool ok)
{
	struct seen *s = arg;

	s->ndone++;
	s->nok += ok;
	s->last_ticket = ticket;
}

static void on_change(void *arg, enum cp_store_change kind, const struct sw_bind_rec *r,
		      const char *edge, size_t elen)
{
	struct seen *s = arg;
	unsigned i = s->nchange++ % 8;

	s->kind[i] = kind;
	snprintf(s->contact[i], sizeof(s->contact[i]), "%.*s", (int)r->contact_len,
		 r->contact != NULL ? r->contact : "");
	snprintf(s->edge[i], sizeof(s->edge[i]), "%.*s", (int)elen, edge);
}

static char tmp[64];

static struct cp_store *open_edge(const char *edge, const char *file, struct seen *seen)
{
	struct cl_config cfg;
	char path[128], err[256];
	struct cp_store *s;

	h_cfg(&cfg, edge, h_srv.port);
	cfg.timeout_ms = 300;
	cfg.retry_ms = 50;
	snprintf(path, sizeof(path), "%s/%s", tmp, file);
	s = cp_store_open_shared(path, false, &cfg, err, sizeof(err));
	assert_non_null(s);
	cp_store_set_hooks(
		s, &(struct cp_store_hooks){.arg = seen, .done = on_done, .change = on_change});
	return s;
}

/* A binding of @p user at @p port. */
static struct sw_bind_rec rec(const char *user, char *contact, size_t cap, uint16_t port)
{
	struct sw_bind_rec r = {0};
	static char aor[64];

	snprintf(aor, sizeof(aor), "%s@example.com", user);
	snprintf(contact, cap, "sip:%s@192.0.2.7:%u", user, port);
	r.aor = aor;
	r.aor_len = (uint16_t)strlen(aor);
	r.contact = contact;
	r.contact_len = (uint16_t)strlen(contact);
	r.src.a[10] = r.src.a[11] = 0xff;
	r.src.a[12] = 192;
	r.src.a[14] = 2;
	r.src.a[15] = 7;
	r.sport = port;
	r.registered_at = sw_wall_s();
	r.expires_at = r.registered_at + 600;
	return r;
}

static void poll_until(struct cp_store *a, struct cp_store *b, bool (*cond)(void *), void *arg)
{
	uint64_t end = sw_mono_ms() + 5000;

	while (!cond(arg) && sw_mono_ms() < end) {
		cp_store_poll(a);
		if (b != NULL)
			cp_store_poll(b);
		usleep(500);
	}
	assert_true(cond(arg));
}

static bool is_up(void *s)
{
	return cl_state(cp_store_link(s)) == CL_UP;
}

static bool done_1(void *s)
{
	return ((struct seen *)s)->ndone >= 1;
}

static bool changed_1(void *s)
{
	return ((struct seen *)s)->nchange >= 1;
}

static bool journal_empty(void *s)
{
	struct cp_store_stats st;

	cp_store_get_stats(s, &st);
	return st.journal_depth == 0 && cl_state(cp_store_link(s)) == CL_UP;
}

static void test_ticket_done_when_redis_has_it(void **state)
{
	struct seen sa = {0}, sb = {0};
	struct cp_store *a = open_edge("edge-a", "a1.db", &sa), *b;
	char contact[64];
	struct sw_bind_rec r = rec("ann", contact, sizeof(contact), 5061);
	uint64_t ticket = 0;

	(void)state;
	assert_int_equal(cp_store_load(a, sw_wall_s(), NULL, NULL), 0);
	b = open_edge("edge-b", "b1.db", &sb);
	assert_int_equal(cp_store_load(b, sw_wall_s(), NULL, NULL), 0);
	assert_int_equal(cp_store_put(a, &r), 0);
	assert_int_equal(cp_store_submit(a, &ticket), 1);
	assert_int_equal(ticket, 1);
	assert_int_equal(cp_store_commit(a), -EOPNOTSUPP); /* a shared store submits */
	poll_until(a, b, done_1, &sa);
	assert_int_equal(sa.nok, 1);
	assert_int_equal(sa.last_ticket, 1);
	assert_int_equal(h_int(h_rc,
			       "EXISTS sipwake:b:ann@example.com\x1f"
			       "c:%s",
			       contact),
			 1);
	/* The other edge hears it, with the edge that made it. */
	poll_until(a, b, changed_1, &sb);
	assert_int_equal(sb.kind[0], CP_STORE_PUT);
	assert_string_equal(sb.contact[0], contact);
	assert_string_equal(sb.edge[0], "edge-a");
	assert_int_equal(sa.nchange, 0); /* not its own */
	cp_store_close(b);
	cp_store_close(a);
}

static void test_journal_while_redis_away(void **state)
{
	struct seen sa = {0}, sb = {0}, sc = {0};
	struct cp_store *a = open_edge("edge-a", "a2.db", &sa), *b, *c;
	struct cp_store_stats st;
	char c1[64], c2[64];
	struct sw_bind_rec r1 = rec("bea", c1, sizeof(c1), 5062),
			   r2 = rec("cid", c2, sizeof(c2), 5063);
	uint64_t ticket = 0;

	(void)state;
	cp_store_load(a, sw_wall_s(), NULL, NULL);
	b = open_edge("edge-b", "b2.db", &sb);
	cp_store_load(b, sw_wall_s(), NULL, NULL);
	h_redis_kill(&h_srv, SIGKILL);
	/* Down: found by the next round; then a batch is durable at once. */
	uint64_t end = sw_mono_ms() + 3000;

	while (cl_state(cp_store_link(a)) != CL_DOWN && sw_mono_ms() < end) {
		cp_store_poll(a);
		usleep(1000);
	}
	assert_int_equal(cl_state(cp_store_link(a)), CL_DOWN);
	assert_int_equal(cp_store_put(a, &r1), 0);
	assert_int_equal(cp_store_submit(a, &ticket), 0);
	assert_int_equal(cp_store_put(a, &r2), 0);
	assert_int_equal(cp_store_del(a, &r1), 0);
	assert_int_equal(cp_store_submit(a, &ticket), 0);
	cp_store_get_stats(a, &st);
	assert_int_equal(st.journaled, 3);
	assert_int_equal(st.journal_depth, 3);
	/* Back on the same port (no persistence: an empty Redis): the
	 * journal replayed in order, the other edge told. */
	h_redis_start(&h_srv, h_srv.port, NULL);
	redisFree(h_rc);
	h_rc = h_cli(h_srv.port);
	poll_until(a, b, journal_empty, a);
	cp_store_get_stats(a, &st);
	assert_int_equal(st.replayed, 3);
	assert_int_equal(h_int(h_rc,
			       "EXISTS sipwake:b:bea@example.com\x1f"
			       "c:%s",
			       c1),
			 0);
	assert_int_equal(h_int(h_rc,
			       "EXISTS sipwake:b:cid@example.com\x1f"
			       "c:%s",
			       c2),
			 1);
	poll_until(a, b, is_up, b);
	/* A store opened now loads what Redis has, with the edge of each. */
	c = open_edge("edge-c", "c2.db", &sc);
	assert_int_equal(cp_store_load(c, sw_wall_s(), NULL, NULL), 1);
	assert_int_equal(sc.nchange, 1);
	assert_string_equal(sc.contact[0], c2);
	assert_string_equal(sc.edge[0], "edge-a");
	cp_store_close(c);
	cp_store_close(b);
	cp_store_close(a);
}

static void test_bad_value_counted(void **state)
{
	struct seen sa = {0}, sb = {0};
	struct cp_store *a = open_edge("edge-a", "a3.db", &sa);
	struct cp_store_stats st;

	(void)state;
	cp_store_load(a, sw_wall_s(), NULL, NULL);
	/* A writer that is not sipwake puts garbage through the function. */
	freeReplyObject(h_cmd(h_rc,
			      "FCALL sipwake_put 3 sipwake:b:x@y\x1f"
			      "c:1 sipwake:a:x@y sipwake:feed "
			      "edge-z x@y c:1 {not-json %lld %lld 1000",
			      (long long)sw_wall_s(), (long long)sw_wall_s() + 60));
	uint64_t end = sw_mono_ms() + 3000;

	do {
		cp_store_poll(a);
		cp_store_get_stats(a, &st);
		usleep(1000);
	} while (st.feed_bad == 0 && sw_mono_ms() < end);
	assert_int_equal(st.feed_bad, 1);
	assert_int_equal(sa.nchange, 0);
	(void)sb;
	cp_store_close(a);
}

/* Rows of the journal of held calls in @p file, read beside the writer. */
static int64_t held_rows(const char *file)
{
	char path[128];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(path, sizeof(path), "%s/%s", tmp, file);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM held_calls", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static int on_held(const struct cp_store_held *h, void *arg)
{
	assert_int_equal(h->key_len, 9);
	assert_memory_equal(h->key, "h1\x1fz9hG4bK", 9);
	(*(int *)arg)++;
	return 0;
}

static void test_held_calls_stay_local(void **state)
{
	static const char inv[] = "INVITE sip:h@example.com SIP/2.0\r\n\r\n";
	struct seen sa = {0};
	struct cp_store *a = open_edge("edge-a", "a4.db", &sa);
	char c1[64], c2[64];
	struct sw_bind_rec r1 = rec("hal", c1, sizeof(c1), 5064),
			   r2 = rec("hel", c2, sizeof(c2), 5065);
	struct cp_store_held h = {.key = "h1\x1fz9hG4bK",
				  .key_len = 9,
				  .src = r1.src,
				  .sport = 5060,
				  .deadline_ms = sw_wall_ms() + 4000,
				  .tag = 9,
				  .inv = (const uint8_t *)inv,
				  .inv_len = sizeof(inv) - 1};
	struct cp_store_stats st;
	uint64_t ticket = 0, end;
	redisReply *keys;
	int n = 0;

	(void)state;
	cp_store_load(a, sw_wall_s(), NULL, NULL);
	/* Redis up: the held call is in the file once the round's batch is
	 * submitted (before Redis answers), and nowhere in Redis. */
	assert_int_equal(cp_store_put(a, &r1), 0);
	assert_int_equal(cp_store_held_put(a, &h), 0);
	assert_int_equal(held_rows("a4.db"), 0);
	assert_int_equal(cp_store_submit(a, &ticket), 1);
	assert_int_equal(held_rows("a4.db"), 1);
	poll_until(a, NULL, done_1, &sa);
	keys = h_cmd(h_rc, "KEYS *z9hG4bK*");
	assert_int_equal(keys->elements, 0);
	freeReplyObject(keys);
	/* Its final answer: a round with no binding change. */
	assert_int_equal(cp_store_held_del(a, h.key, h.key_len), 0);
	assert_int_equal(cp_store_submit(a, &ticket), 0);
	assert_int_equal(held_rows("a4.db"), 0);
	/* Redis away: the round's bindings go to the binding journal, in a
	 * transaction of its own on the same file, the held call with them. */
	h_redis_kill(&h_srv, SIGKILL);
	end = sw_mono_ms() + 3000;
	while (cl_state(cp_store_link(a)) != CL_DOWN && sw_mono_ms() < end) {
		cp_store_poll(a);
		usleep(1000);
	}
	assert_int_equal(cl_state(cp_store_link(a)), CL_DOWN);
	assert_int_equal(cp_store_held_put(a, &h), 0);
	assert_int_equal(cp_store_put(a, &r2), 0);
	assert_int_equal(cp_store_submit(a, &ticket), 0);
	cp_store_get_stats(a, &st);
	assert_int_equal(st.journal_depth, 1);
	assert_int_equal(held_rows("a4.db"), 1);
	/* The next start reads it back from the local file. */
	assert_int_equal(cp_store_held_load(a, on_held, &n), 1);
	assert_int_equal(n, 1);
	cp_store_close(a);
	h_redis_start(&h_srv, h_srv.port, NULL);
	redisFree(h_rc);
	h_rc = h_cli(h_srv.port);
}

static int tmp_setup(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/sw-store-redis-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return h_group_setup(state);
}

static int tmp_teardown(void **state)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return h_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ticket_done_when_redis_has_it, h_flush),
		cmocka_unit_test_setup(test_journal_while_redis_away, h_flush),
		cmocka_unit_test_setup(test_bad_value_counted, h_flush),
		cmocka_unit_test_setup(test_held_calls_stay_local, h_flush),
	};

	return cmocka_run_group_tests(tests, tmp_setup, tmp_teardown);
}
