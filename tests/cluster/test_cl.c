/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster link's writes (cluster/cl.h) against a real redis-server:
 * what a batch leaves in Redis (keys, values byte for byte, stamps, edge,
 * expiry, the AOR's set, the feed), tickets and done() in order, newest
 * wins, del / del_aor, max_inflight, WAIT without a replica; and what is
 * refused before anything is sent (config, bad changes, no connection).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/cluster/cl_harness.h"

#define SEP "\x1f"

/* A link to the group's server, UP. */
static void up(struct h_link *l, struct cl_config *cfg)
{
	h_link_new(l, cfg);
	assert_true(H_UNTIL(3000, cl_state(l->cl) == CL_UP));
}

static struct cl_batch *one_put(const char *aor, const char *key, const char *val, int64_t stamp,
				int64_t x)
{
	struct cl_batch *b = cl_batch_new();
	struct cl_binding r = h_bind(aor, key, val, strlen(val), stamp, x);

	assert_int_equal(cl_batch_put(b, &r), 0);
	return b;
}

/* The field @p name of a hash or feed entry's field list. */
static const redisReply *fld(const redisReply *r, const char *name)
{
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (!strcmp(r->element[i]->str, name))
			return r->element[i + 1];
	fail_msg("no field %s", name);
	return NULL;
}

static void assert_fld(const redisReply *r, const char *name, const char *val, size_t len)
{
	const redisReply *f = fld(r, name);

	assert_int_equal(f->len, len);
	assert_memory_equal(f->str, val, len);
}

static void test_refused_before_sending(void **state)
{
	struct cl_config cfg;
	struct cl_ops ops = {0};
	struct h_link l;
	struct cl_batch *b = cl_batch_new();
	struct cl_binding r;
	char err[128] = "";

	(void)state;
	h_cfg(&cfg, "a", 1);
	snprintf(cfg.prefix, sizeof(cfg.prefix), "sw*");
	assert_null(cl_new(&cfg, &ops, err, sizeof(err)));
	assert_non_null(strstr(err, "prefix"));
	h_cfg(&cfg, "", 1);
	assert_null(cl_new(&cfg, &ops, err, sizeof(err)));
	assert_string_equal(err, "cluster: no edge name");
	h_cfg(&cfg, "a", 0);
	assert_null(cl_new(&cfg, &ops, err, sizeof(err)));
	assert_string_equal(err, "cluster: no Redis host and port, and no sentinels");

	r = h_bind("al" SEP "ice", "k", "v", 1, 1, 2);
	assert_int_equal(cl_batch_put(b, &r), -EINVAL);
	r = h_bind("", "k", "v", 1, 1, 2);
	assert_int_equal(cl_batch_put(b, &r), -EINVAL);
	r = h_bind("alice", NULL, "v", 1, 1, 2);
	assert_int_equal(cl_batch_put(b, &r), -EINVAL);
	assert_int_equal(cl_batch_del(b, &r), -EINVAL);
	assert_int_equal(cl_batch_del_aor(b, &r), 0);
	r = h_bind("alice", "k", NULL, 3, 1, 2);
	assert_int_equal(cl_batch_put(b, &r), -EINVAL);
	assert_int_equal(cl_batch_len(b), 1);

	/* Nothing listens there: DOWN, and refusals without done(). */
	h_cfg(&cfg, "a", h_free_port());
	h_link_new(&l, &cfg);
	assert_int_equal(cl_submit(l.cl, NULL, NULL), -EINVAL);
	assert_int_equal(cl_submit(l.cl, cl_batch_new(), NULL), -EINVAL);
	H_UNTIL(300, false);
	assert_int_equal(cl_state(l.cl), CL_DOWN);
	assert_int_equal(cl_submit(l.cl, b, NULL), -ENOTCONN);
	H_UNTIL(100, false);
	assert_int_equal(l.ndone, 0);
	assert_int_equal(l.nstates, 0);
	assert_int_equal(h_stats(&l).connects, 0);
	cl_last_error(l.cl, err, sizeof(err));
	assert_non_null(strstr(err, "Connection refused"));
	cl_master(l.cl, err, sizeof(err));
	assert_string_equal(err, "");
	h_link_free(&l);
}

static void test_batch_lands(void **state)
{
	struct cl_config cfg;
	struct h_link l;
	struct cl_batch *b = cl_batch_new();
	int64_t x = sw_wall_s() + 60;
	struct cl_binding r1 = h_bind("sip:alice@x", "dev1", "a\0b", 3, 100, x);
	struct cl_binding r2 = h_bind("sip:alice@x", "dev2", "two", 3, 101, x);
	struct cl_binding r3 = h_bind("sip:bob@x", "dev1", "three", 5, 102, x);
	redisReply *rep, *e;
	char master[64], want[64];
	long long ttl;

	(void)state;
	h_cfg(&cfg, "edge-a", h_srv.port);
	up(&l, &cfg);
	assert_int_equal(l.nstates, 2);
	assert_int_equal(l.states[0], CL_RESYNCING);
	assert_int_equal(l.states[1], CL_UP);
	cl_master(l.cl, master, sizeof(master));
	snprintf(want, sizeof(want), "127.0.0.1:%u", h_srv.port);
	assert_string_equal(master, want);

	assert_int_equal(cl_batch_put(b, &r1), 0);
	assert_int_equal(cl_batch_put(b, &r2), 0);
	assert_int_equal(cl_batch_put(b, &r3), 0);
	assert_true(h_submit_wait(&l, b));
	assert_int_equal(l.done_ticket[0], 1);

	rep = h_cmd(h_rc, "HGETALL %s", "sipwake:b:sip:alice@x" SEP "dev1");
	assert_int_equal(rep->elements, 6);
	assert_fld(rep, "v", "a\0b", 3);
	assert_fld(rep, "s", "100", 3);
	assert_fld(rep, "e", "edge-a", 6);
	freeReplyObject(rep);
	assert_int_equal(h_int(h_rc, "EXPIRETIME %s", "sipwake:b:sip:alice@x" SEP "dev1"), x);
	assert_int_equal(h_int(h_rc, "SCARD sipwake:a:sip:alice@x"), 2);
	assert_int_equal(h_int(h_rc, "SISMEMBER sipwake:a:sip:alice@x dev2"), 1);
	ttl = h_int(h_rc, "TTL sipwake:a:sip:alice@x");
	assert_true(ttl > 50 && ttl <= 60);
	assert_int_equal(h_int(h_rc, "EXISTS %s", "sipwake:b:sip:bob@x" SEP "dev1"), 1);

	rep = h_cmd(h_rc, "XRANGE sipwake:feed - +");
	assert_int_equal(rep->elements, 3);
	e = rep->element[0]->element[1];
	assert_int_equal(e->elements, 14);
	assert_fld(e, "e", "edge-a", 6);
	assert_fld(e, "o", "p", 1);
	assert_fld(e, "a", "sip:alice@x", 11);
	assert_fld(e, "k", "dev1", 4);
	assert_fld(e, "v", "a\0b", 3);
	assert_fld(e, "s", "100", 3);
	snprintf(want, sizeof(want), "%lld", (long long)x);
	assert_fld(e, "x", want, strlen(want));
	freeReplyObject(rep);

	assert_int_equal(h_stats(&l).batches_ok, 1);
	assert_int_equal(h_stats(&l).changes_written, 3);
	assert_int_equal(h_stats(&l).changes_stale, 0);
	assert_int_equal(h_stats(&l).inflight, 0);
	assert_int_equal(h_stats(&l).connects, 1);
	assert_int_equal(h_stats(&l).state, CL_UP);
	h_link_free(&l);
}

static void test_tickets_in_order(void **state)
{
	struct cl_config cfg;
	struct h_link l;
	uint64_t t;
	int64_t x = sw_wall_s() + 60;

	(void)state;
	h_cfg(&cfg, "edge-a", h_srv.port);
	cfg.max_inflight = 3;
	up(&l, &cfg);
	for (unsigned i = 1; i <= 3; i++) {
		assert_int_equal(cl_submit(l.cl, one_put("sip:a@x", "k", "v", i, x), &t), 0);
		assert_int_equal(t, i);
	}
	assert_int_equal(cl_submit(l.cl, one_put("sip:a@x", "k", "v", 9, x), &t), -ENOBUFS);
	assert_int_equal(h_stats(&l).inflight, 3);
	assert_true(H_UNTIL(3000, l.ndone == 3));
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(l.done_ticket[i], i + 1);
		assert_true(l.done_ok[i]);
	}
	/* A refused batch took no ticket. */
	assert_int_equal(cl_submit(l.cl, one_put("sip:a@x", "k", "v", 4, x), &t), 0);
	assert_int_equal(t, 4);
	assert_true(H_UNTIL(3000, l.ndone == 4));
	assert_int_equal(h_stats(&l).batches_ok, 4);
	assert_int_equal(h_stats(&l).inflight, 0);
	h_link_free(&l);
}

static void test_newest_wins(void **state)
{
	struct cl_config cfg;
	struct h_link l;
	struct cl_batch *b;
	struct cl_binding r;
	int64_t x = sw_wall_s() + 60;
	const char *key = "sipwake:b:sip:a@x" SEP "k";
	redisReply *rep;

	(void)state;
	h_cfg(&cfg, "edge-a", h_srv.port);
	up(&l, &cfg);
	assert_true(h_submit_wait(&l, one_put("sip:a@x", "k", "new", 100, x)));
	/* Older: the batch is answered OK, the change is kept out. */
	assert_true(h_submit_wait(&l, one_put("sip:a@x", "k", "old", 99, x)));
	assert_int_equal(h_stats(&l).changes_stale, 1);
	assert_int_equal(h_stats(&l).changes_written, 1);
	rep = h_cmd(h_rc, "HGET %s v", key);
	assert_string_equal(rep->str, "new");
	freeReplyObject(rep);
	assert_int_equal(h_int(h_rc, "XLEN sipwake:feed"), 1);
	/* Equal: written again (a retried batch is harmless). */
	assert_true(h_submit_wait(&l, one_put("sip:a@x", "k", "same", 100, x)));
	rep = h_cmd(h_rc, "HGET %s v", key);
	assert_string_equal(rep->str, "same");
	freeReplyObject(rep);

	/* A delete older than the binding is kept out too; a newer one goes. */
	b = cl_batch_new();
	r = h_bind("sip:a@x", "k", NULL, 0, 99, 0);
	assert_int_equal(cl_batch_del(b, &r), 0);
	assert_true(h_submit_wait(&l, b));
	assert_int_equal(h_stats(&l).changes_stale, 2);
	assert_int_equal(h_int(h_rc, "EXISTS %s", key), 1);
	b = cl_batch_new();
	r = h_bind("sip:a@x", "k", NULL, 0, 101, 0);
	assert_int_equal(cl_batch_del(b, &r), 0);
	assert_true(h_submit_wait(&l, b));
	assert_int_equal(h_int(h_rc, "EXISTS %s", key), 0);
	assert_int_equal(h_int(h_rc, "EXISTS sipwake:a:sip:a@x"), 0);
	rep = h_cmd(h_rc, "XREVRANGE sipwake:feed + - COUNT 1");
	assert_fld(rep->element[0]->element[1], "o", "d", 1);
	assert_fld(rep->element[0]->element[1], "k", "k", 1);
	assert_fld(rep->element[0]->element[1], "s", "101", 3);
	freeReplyObject(rep);
	assert_int_equal(h_int(h_rc, "XLEN sipwake:feed"), 3);
	assert_int_equal(h_stats(&l).changes_written, 3);
	assert_int_equal(h_stats(&l).changes_stale, 2);
	h_link_free(&l);
}

/* The AOR's set lives as long as its longest binding. */
static void test_set_expiry(void **state)
{
	struct cl_config cfg;
	struct h_link l;
	int64_t now = sw_wall_s();
	long long ttl;

	(void)state;
	h_cfg(&cfg, "edge-a", h_srv.port);
	up(&l, &cfg);
	assert_true(h_submit_wait(&l, one_put("sip:a@x", "k1", "v", 1, now + 100)));
	assert_true(h_submit_wait(&l, one_put("sip:a@x", "k2", "v", 1, now + 30)));
	assert_int_equal(h_int(h_rc, "EXPIRETIME sipwake:a:sip:a@x"), now + 100);
	ttl = h_int(h_rc, "TTL %s", "sipwake:b:sip:a@x" SEP "k2");
	assert_true(ttl > 20 && ttl <= 30);
	assert_true(h_submit_wait(&l, one_put("sip:a@x", "k2", "v", 2, now + 200)));
	assert_int_equal(h_int(h_rc, "EXPIRETIME sipwake:a:sip:a@x"), now + 200);
	h_link_free(&l);
}

static void test_del_aor(void **state)
{
	struct cl_config cfg;
	struct h_link l;
	struct cl_batch *b = cl_batch_new();
	struct cl_binding r1 = h_bind("sip:a@x", "k1", "v", 1, 10, sw_wall_s() + 60);
	struct cl_binding r2 = h_bind("sip:a@x", "k2", "v", 1, 200, sw_wall_s() + 60);
	struct cl_binding d = h_bind("sip:a@x", NULL, NULL, 0, 100, 0);
	redisReply *rep;

	(void)state;
	h_cfg(&cfg, "edge-a", h_srv.port);
	up(&l, &cfg);
	assert_int_equal(cl_batch_put(b, &r1), 0);
	assert_int_equal(cl_batch_put(b, &r2), 0);
	assert_true(h_submit_wait(&l, b));
	/* Deletes what is not newer than it: k2 (stamp 200) stays. */
	b = cl_batch_new();
	assert_int_equal(cl_batch_del_aor(b, &d), 0);
	assert_true(h_submit_wait(&l, b));
	assert_int_equal(h_int(h_rc, "EXISTS %s", "sipwake:b:sip:a@x" SEP "k1"), 0);
	assert_int_equal(h_int(h_rc, "EXISTS %s", "sipwake:b:sip:a@x" SEP "k2"), 1);
	assert_int_equal(h_int(h_rc, "SCARD sipwake:a:sip:a@x"), 1);
	rep = h_cmd(h_rc, "XREVRANGE sipwake:feed + - COUNT 1");
	assert_fld(rep->element[0]->element[1], "o", "D", 1);
	assert_fld(rep->element[0]->element[1], "a", "sip:a@x", 7);
	assert_fld(rep->element[0]->element[1], "k", "", 0);
	assert_fld(rep->element[0]->element[1], "s", "100", 3);
	freeReplyObject(rep);
	d.stamp = 300;
	b = cl_batch_new();
	assert_int_equal(cl_batch_del_aor(b, &d), 0);
	assert_true(h_submit_wait(&l, b));
	assert_int_equal(h_int(h_rc, "EXISTS %s", "sipwake:b:sip:a@x" SEP "k2"), 0);
	assert_int_equal(h_int(h_rc, "EXISTS sipwake:a:sip:a@x"), 0);
	assert_int_equal(h_stats(&l).changes_written, 4);
	h_link_free(&l);
}

/* WAIT for a replica there is not: the batch fails, the link stays. */
static void test_wait_without_replica(void **state)
{
	struct cl_config cfg;
	struct h_link l;
	char err[256];

	(void)state;
	h_cfg(&cfg, "edge-a", h_srv.port);
	cfg.wait_replicas = 1;
	cfg.wait_ms = 50;
	up(&l, &cfg);
	assert_false(h_submit_wait(&l, one_put("sip:a@x", "k", "v", 1, sw_wall_s() + 60)));
	/* Written on the master all the same. */
	assert_int_equal(h_int(h_rc, "EXISTS %s", "sipwake:b:sip:a@x" SEP "k"), 1);
	assert_int_equal(cl_state(l.cl), CL_UP);
	assert_int_equal(h_stats(&l).batches_failed, 1);
	assert_int_equal(h_stats(&l).batches_ok, 0);
	assert_int_equal(h_stats(&l).changes_written, 0);
	assert_int_equal(h_stats(&l).disconnects, 0);
	cl_last_error(l.cl, err, sizeof(err));
	assert_non_null(strstr(err, "WAIT: 0 of 1 replicas"));
	/* A batch that asks for no WAIT (a replayed journal) is done at EXEC. */
	{
		struct cl_batch *b = one_put("sip:b@x", "k", "v", 1, sw_wall_s() + 60);

		cl_batch_no_wait(b);
		assert_true(h_submit_wait(&l, b));
	}
	assert_int_equal(h_int(h_rc, "EXISTS %s", "sipwake:b:sip:b@x" SEP "k"), 1);
	assert_int_equal(h_stats(&l).batches_ok, 1);
	assert_int_equal(h_stats(&l).batches_failed, 1);
	h_link_free(&l);
}

/* The library gone from Redis (FUNCTION FLUSH): the batch fails, the
 * writer is dropped and comes back with the library loaded again. */
static void test_library_flushed(void **state)
{
	struct cl_config cfg;
	struct h_link l;
	char err[256];

	(void)state;
	h_cfg(&cfg, "edge-a", h_srv.port);
	up(&l, &cfg);
	freeReplyObject(h_cmd(h_rc, "FUNCTION FLUSH"));
	assert_false(h_submit_wait(&l, one_put("sip:a@x", "k", "v", 1, sw_wall_s() + 60)));
	cl_last_error(l.cl, err, sizeof(err));
	assert_non_null(strstr(err, "Function not found"));
	assert_int_equal(h_stats(&l).disconnects, 1);
	assert_true(H_UNTIL(3000, cl_state(l.cl) == CL_UP));
	assert_true(h_submit_wait(&l, one_put("sip:a@x", "k", "v", 1, sw_wall_s() + 60)));
	assert_int_equal(h_stats(&l).connects, 2);
	assert_int_equal(h_stats(&l).batches_failed, 1);
	assert_int_equal(h_stats(&l).batches_ok, 1);
	h_link_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_before_sending),
		cmocka_unit_test_setup(test_batch_lands, h_flush),
		cmocka_unit_test_setup(test_tickets_in_order, h_flush),
		cmocka_unit_test_setup(test_newest_wins, h_flush),
		cmocka_unit_test_setup(test_set_expiry, h_flush),
		cmocka_unit_test_setup(test_del_aor, h_flush),
		cmocka_unit_test_setup(test_wait_without_replica, h_flush),
		cmocka_unit_test_setup(test_library_flushed, h_flush),
	};

	return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
