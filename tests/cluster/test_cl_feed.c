/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster link's reading side (cluster/cl.h) against a real
 * redis-server: one edge's changes reach the other's change() and not its
 * own; a new link hands every binding up as CL_PUT (a resync of more keys
 * than one SCAN step); a feed trimmed past what a link read makes it
 * resync; what is not a binding or not a feed entry is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/cluster/cl_harness.h"

#define SEP "\x1f"

static void up(struct h_link *l, const char *edge)
{
	struct cl_config cfg;

	h_cfg(&cfg, edge, h_srv.port);
	h_link_new(l, &cfg);
	assert_true(H_UNTIL(3000, cl_state(l->cl) == CL_UP));
}

static void submit(struct h_link *l, enum cl_change kind, const struct cl_binding *r)
{
	struct cl_batch *b = cl_batch_new();

	assert_int_equal(kind == CL_PUT	  ? cl_batch_put(b, r)
			 : kind == CL_DEL ? cl_batch_del(b, r)
					  : cl_batch_del_aor(b, r),
			 0);
	assert_true(h_submit_wait(l, b));
}

static void test_other_edges_changes(void **state)
{
	struct h_link a, b;
	int64_t x = sw_wall_s() + 60;
	struct cl_binding r = h_bind("sip:alice@x", "dev1", "v\0al", 4, 100, x);
	const struct h_change *c;

	(void)state;
	up(&a, "edge-a");
	up(&b, "edge-b");
	submit(&a, CL_PUT, &r);
	assert_true(H_UNTIL(3000, b.nchanges == 1 && h_stats(&a).feed_own == 1));
	c = &b.changes[0];
	assert_int_equal(c->kind, CL_PUT);
	assert_string_equal(c->aor, "sip:alice@x");
	assert_string_equal(c->key, "dev1");
	assert_int_equal(c->val_len, 4);
	assert_memory_equal(c->val, "v\0al", 4);
	assert_string_equal(c->edge, "edge-a");
	assert_int_equal(c->stamp, 100);
	assert_int_equal(c->expires_at, x);

	r = h_bind("sip:alice@x", "dev1", NULL, 0, 101, 0);
	submit(&b, CL_DEL, &r);
	r = h_bind("sip:alice@x", NULL, NULL, 0, 102, 0);
	submit(&b, CL_DEL_AOR, &r);
	assert_true(H_UNTIL(3000, a.nchanges == 2 && h_stats(&b).feed_own == 2));
	assert_int_equal(a.changes[0].kind, CL_DEL);
	assert_string_equal(a.changes[0].key, "dev1");
	assert_string_equal(a.changes[0].edge, "edge-b");
	assert_int_equal(a.changes[0].stamp, 101);
	assert_int_equal(a.changes[0].expires_at, 0);
	assert_int_equal(a.changes[1].kind, CL_DEL_AOR);
	assert_string_equal(a.changes[1].aor, "sip:alice@x");
	assert_int_equal(a.changes[1].key_len, 0);
	assert_int_equal(a.changes[1].stamp, 102);

	/* Nothing else came, to either side. */
	H_UNTIL(100, false);
	assert_int_equal(a.nchanges, 2);
	assert_int_equal(b.nchanges, 1);
	assert_int_equal(h_stats(&a).feed_changes, 2);
	assert_int_equal(h_stats(&a).feed_own, 1);
	assert_int_equal(h_stats(&b).feed_changes, 1);
	assert_int_equal(h_stats(&b).feed_own, 2);
	assert_true(h_stats(&b).feed_lag_ms < 2000);
	assert_int_equal(h_stats(&a).resyncs, 1);
	assert_int_equal(h_stats(&a).feed_gaps, 0);
	h_link_free(&a);
	h_link_free(&b);
}

/* 2500 bindings (three SCAN steps and more), one deleted. */
static void test_resync_hands_up_every_binding(void **state)
{
	struct h_link a, c;
	int64_t x = sw_wall_s() + 60;
	static bool seen[2500];
	char aor[32], key[32], val[32];

	(void)state;
	up(&a, "edge-a");
	for (unsigned i = 0; i < 2500; i += 500) {
		struct cl_batch *b = cl_batch_new();

		for (unsigned j = i; j < i + 500; j++) {
			struct cl_binding r;

			snprintf(aor, sizeof(aor), "sip:u%u@x", j / 2);
			snprintf(key, sizeof(key), "d%u", j);
			snprintf(val, sizeof(val), "val%u", j);
			r = h_bind(aor, key, val, strlen(val), 1000 + j, x);
			assert_int_equal(cl_batch_put(b, &r), 0);
		}
		assert_true(h_submit_wait(&a, b));
	}
	assert_true(H_UNTIL(3000, h_stats(&a).feed_own == 2500));
	/* Not a binding of ours: no separator; a hash without a stamp. */
	freeReplyObject(h_cmd(h_rc, "HSET sipwake:b:nosep v 1 s 1 e z"));
	freeReplyObject(h_cmd(h_rc, "HSET %s v 1 e z", "sipwake:b:sip:z@x" SEP "k"));
	freeReplyObject(h_cmd(h_rc, "DEL %s", "sipwake:b:sip:u0@x" SEP "d0"));

	up(&c, "edge-c");
	assert_int_equal(c.nstates, 2);
	assert_int_equal(c.states[0], CL_RESYNCING);
	assert_int_equal(c.states[1], CL_UP);
	assert_int_equal(c.nchanges, 2499);
	assert_int_equal(h_stats(&c).resync_rows, 2499);
	assert_int_equal(h_stats(&c).resyncs, 1);
	for (unsigned i = 0; i < c.nchanges; i++) {
		const struct h_change *ch = &c.changes[i];
		unsigned j;

		assert_int_equal(ch->kind, CL_PUT);
		assert_int_equal(sscanf(ch->key, "d%u", &j), 1);
		assert_true(j > 0 && j < 2500 && !seen[j]);
		seen[j] = true;
		snprintf(aor, sizeof(aor), "sip:u%u@x", j / 2);
		snprintf(val, sizeof(val), "val%u", j);
		assert_string_equal(ch->aor, aor);
		assert_string_equal(ch->val, val);
		assert_string_equal(ch->edge, "edge-a");
		assert_int_equal(ch->stamp, 1000 + j);
		assert_int_equal(ch->expires_at, x);
	}
	/* The feed's 2500 entries came before the resync began: not read. */
	H_UNTIL(100, false);
	assert_int_equal(h_stats(&c).feed_changes, 0);
	h_link_free(&a);
	h_link_free(&c);
}

static struct cl_batch *many_puts(unsigned from, unsigned n)
{
	struct cl_batch *b = cl_batch_new();
	char key[16];

	for (unsigned i = from; i < from + n; i++) {
		struct cl_binding r;

		snprintf(key, sizeof(key), "d%u", i);
		r = h_bind("sip:g@x", key, "v", 1, 1, sw_wall_s() + 60);
		assert_int_equal(cl_batch_put(b, &r), 0);
	}
	return b;
}

/* B stops reading; the feed is trimmed past it; B resyncs. */
static void test_gap_resyncs(void **state)
{
	struct h_link a, b;

	(void)state;
	up(&a, "edge-a");
	up(&b, "edge-b");
	H_UNTIL(100, false); /* B's first XREAD is out */
	b.paused = true;
	/* B's XREAD is answered with these 20 (unread until B runs again)... */
	assert_true(h_submit_wait(&a, many_puts(0, 20)));
	/* ...these come while B has no XREAD out, and are trimmed away. */
	assert_true(h_submit_wait(&a, many_puts(20, 20)));
	freeReplyObject(h_cmd(h_rc, "XTRIM sipwake:feed MAXLEN 5"));
	b.paused = false;
	assert_true(H_UNTIL(3000, h_stats(&b).feed_gaps == 1 && cl_state(b.cl) == CL_UP));
	assert_int_equal(h_stats(&b).resyncs, 2);
	assert_int_equal(h_stats(&b).feed_changes, 20);
	assert_int_equal(h_stats(&b).resync_rows, 40);
	assert_int_equal(b.nchanges, 60);
	/* UP, RESYNCING, UP again after the gap's resync. */
	assert_int_equal(b.nstates, 4);
	assert_int_equal(b.states[2], CL_RESYNCING);
	assert_int_equal(b.states[3], CL_UP);
	/* And it tails from the resync's id on: one more change, read once. */
	assert_true(h_submit_wait(&a, many_puts(40, 1)));
	assert_true(H_UNTIL(3000, b.nchanges == 61));
	H_UNTIL(100, false);
	assert_int_equal(b.nchanges, 61);
	assert_int_equal(h_stats(&b).feed_gaps, 1);
	h_link_free(&a);
	h_link_free(&b);
}

/* Feed entries that are not a change are skipped; the next one comes. */
static void test_malformed_feed_entries(void **state)
{
	struct h_link a, b;
	struct cl_binding r = h_bind("sip:ok@x", "k", "v", 1, 5, sw_wall_s() + 60);
	char err[256];

	(void)state;
	up(&a, "edge-a");
	up(&b, "edge-b");
	freeReplyObject(h_cmd(h_rc, "XADD sipwake:feed * e x o p a sip:m@x"));
	freeReplyObject(h_cmd(h_rc, "XADD sipwake:feed * e x o z a sip:m@x k k v v s 1 x 0"));
	freeReplyObject(h_cmd(h_rc, "XADD sipwake:feed * e x o p a sip:m@x k %b v v s 1 x 0", "",
			      (size_t)0));
	freeReplyObject(h_cmd(h_rc, "XADD sipwake:feed * junk 1"));
	submit(&a, CL_PUT, &r);
	assert_true(H_UNTIL(3000, b.nchanges == 1));
	assert_string_equal(b.changes[0].aor, "sip:ok@x");
	H_UNTIL(100, false);
	assert_int_equal(b.nchanges, 1);
	assert_int_equal(h_stats(&b).feed_changes, 1);
	assert_int_equal(cl_state(b.cl), CL_UP);
	cl_last_error(b.cl, err, sizeof(err));
	assert_non_null(strstr(err, "malformed: skipped"));
	h_link_free(&a);
	h_link_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_other_edges_changes, h_flush),
		cmocka_unit_test_setup(test_resync_hands_up_every_binding, h_flush),
		cmocka_unit_test_setup(test_gap_resyncs, h_flush),
		cmocka_unit_test_setup(test_malformed_feed_entries, h_flush),
	};

	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
