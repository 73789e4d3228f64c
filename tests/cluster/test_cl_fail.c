/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster link when Redis fails (cluster/cl.h): a server killed with
 * batches in flight (done(false), DOWN, refusals) and started again (the
 * link comes back by itself); a server that stops answering (a batch
 * timed out); a master that dies under Sentinel (the link follows the
 * failover to the promoted replica).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/cluster/cl_harness.h"

static struct cl_batch *one_put(const char *key, int64_t stamp)
{
	struct cl_batch *b = cl_batch_new();
	struct cl_binding r = h_bind("sip:a@x", key, "v", 1, stamp, sw_wall_s() + 60);

	assert_int_equal(cl_batch_put(b, &r), 0);
	return b;
}

static void test_killed_and_restarted(void **state)
{
	struct h_redis srv = {0};
	struct cl_config cfg;
	struct h_link l;
	uint64_t t1, t2;
	redisContext *cli;

	(void)state;
	h_redis_start(&srv, 0, NULL);
	h_cfg(&cfg, "edge-a", srv.port);
	h_link_new(&l, &cfg);
	assert_true(H_UNTIL(3000, cl_state(l.cl) == CL_UP));

	assert_int_equal(cl_submit(l.cl, one_put("k1", 1), &t1), 0);
	assert_int_equal(cl_submit(l.cl, one_put("k2", 1), &t2), 0);
	h_redis_kill(&srv, SIGKILL);
	assert_true(H_UNTIL(3000, l.ndone == 2));
	assert_int_equal(l.done_ticket[0], t1);
	assert_int_equal(l.done_ticket[1], t2);
	assert_false(l.done_ok[0]);
	assert_false(l.done_ok[1]);
	assert_int_equal(cl_state(l.cl), CL_DOWN);
	assert_int_equal(l.states[l.nstates - 1], CL_DOWN);
	assert_int_equal(cl_submit(l.cl, one_put("k3", 1), NULL), -ENOTCONN);
	assert_int_equal(h_stats(&l).disconnects, 1);
	assert_int_equal(h_stats(&l).batches_failed, 2);
	assert_int_equal(h_stats(&l).inflight, 0);
	H_UNTIL(300, false); /* retries, refused: nothing more happens */
	assert_int_equal(l.ndone, 2);
	assert_int_equal(cl_state(l.cl), CL_DOWN);

	h_redis_start(&srv, srv.port, NULL);
	assert_true(H_UNTIL(5000, cl_state(l.cl) == CL_UP));
	assert_true(h_submit_wait(&l, one_put("k4", 1)));
	assert_int_equal(h_stats(&l).connects, 2);
	assert_int_equal(h_stats(&l).resyncs, 2);
	assert_int_equal(h_stats(&l).disconnects, 1);
	cli = h_cli(srv.port);
	assert_int_equal(h_int(cli, "EXISTS %s", "sipwake:b:sip:a@x\x1fk4"), 1);
	redisFree(cli);
	h_link_free(&l);
	h_redis_clean(&srv);
}

/* DEBUG SLEEP holds the server: the batch is not answered within 300 ms. */
static void test_batch_timeout(void **state)
{
	struct h_redis srv = {0};
	struct cl_config cfg;
	struct h_link l;
	redisContext *side;
	redisReply *rep;
	uint64_t t0;
	int done = 0;

	(void)state;
	h_redis_start(&srv, 0, NULL);
	h_cfg(&cfg, "edge-a", srv.port);
	cfg.timeout_ms = 300;
	h_link_new(&l, &cfg);
	assert_true(H_UNTIL(3000, cl_state(l.cl) == CL_UP));

	side = h_cli(srv.port);
	assert_int_equal(redisAppendCommand(side, "DEBUG SLEEP 2"), REDIS_OK);
	while (!done)
		assert_int_equal(redisBufferWrite(side, &done), REDIS_OK);
	usleep(50000); /* the server is asleep */
	h_pump();      /* the link's clock is its last round's: now */
	t0 = sw_mono_ms();
	assert_int_equal(cl_submit(l.cl, one_put("k1", 1), NULL), 0);
	assert_true(H_UNTIL(1500, l.ndone == 1));
	assert_false(l.done_ok[0]);
	assert_true(sw_mono_ms() - t0 >= 300);
	assert_int_equal(h_stats(&l).batch_timeouts, 1);
	assert_int_equal(cl_state(l.cl), CL_DOWN);

	/* Awake again: the link comes back, and the batch goes. */
	assert_true(H_UNTIL(5000, cl_state(l.cl) == CL_UP));
	assert_true(h_submit_wait(&l, one_put("k2", 1)));
	assert_int_equal(h_stats(&l).batch_timeouts, 1);
	redisSetTimeout(side, (struct timeval){3, 0});
	assert_int_equal(redisGetReply(side, (void **)&rep), REDIS_OK);
	freeReplyObject(rep);
	redisFree(side);
	h_link_free(&l);
	h_redis_clean(&srv);
}

/* The master made a replica under the link (what a failover does to the
 * old master): READONLY fails the batch and drops the writer; ROLE keeps
 * the link DOWN until the server is a master again. */
static void test_demoted_master(void **state)
{
	struct h_redis srv = {0};
	struct cl_config cfg;
	struct h_link l;
	redisContext *side;
	char err[256];

	(void)state;
	h_redis_start(&srv, 0, NULL);
	h_cfg(&cfg, "edge-a", srv.port);
	h_link_new(&l, &cfg);
	assert_true(H_UNTIL(3000, cl_state(l.cl) == CL_UP));
	H_UNTIL(100, false); /* the reader waits in XREAD BLOCK */
	side = h_cli(srv.port);
	freeReplyObject(h_cmd(side, "REPLICAOF 127.0.0.1 %u", h_free_port()));
	/* The demotion ends the reader's XREAD (UNBLOCKED): it alone is lost,
	 * and reads (a replica allows them) until the writer finds out. */
	assert_true(H_UNTIL(3000, h_stats(&l).disconnects == 1 && cl_state(l.cl) == CL_UP));
	assert_int_equal(h_stats(&l).resyncs, 2);
	assert_false(h_submit_wait(&l, one_put("k1", 1)));
	assert_int_equal(cl_state(l.cl), CL_DOWN);
	assert_int_equal(h_stats(&l).disconnects, 2);
	assert_int_equal(h_stats(&l).batches_failed, 1);
	assert_true(H_UNTIL(3000, ({
				    cl_last_error(l.cl, err, sizeof(err));
				    strstr(err, "not a master (ROLE: slave)") != NULL;
			    })));
	H_UNTIL(300, false);
	assert_int_equal(cl_state(l.cl), CL_DOWN);
	assert_int_equal(h_stats(&l).connects, 1);

	freeReplyObject(h_cmd(side, "REPLICAOF NO ONE"));
	assert_true(H_UNTIL(3000, cl_state(l.cl) == CL_UP));
	assert_true(h_submit_wait(&l, one_put("k2", 1)));
	assert_int_equal(h_stats(&l).connects, 2);
	redisFree(side);
	h_link_free(&l);
	h_redis_clean(&srv);
}

/* AUTH on both connections; a wrong password keeps the link DOWN. */
static void test_password(void **state)
{
	const char *extra[] = {"--requirepass", "s3cret", NULL};
	struct h_redis srv = {0};
	struct cl_config cfg;
	struct h_link good, bad;
	char err[256];

	(void)state;
	h_redis_start(&srv, 0, extra);
	h_cfg(&cfg, "edge-a", srv.port);
	snprintf(cfg.password, sizeof(cfg.password), "s3cret");
	h_link_new(&good, &cfg);
	snprintf(cfg.password, sizeof(cfg.password), "wrong");
	h_link_new(&bad, &cfg);
	assert_true(H_UNTIL(3000, cl_state(good.cl) == CL_UP));
	assert_true(h_submit_wait(&good, one_put("k1", 1)));
	H_UNTIL(200, false);
	assert_int_equal(cl_state(bad.cl), CL_DOWN);
	assert_int_equal(bad.nstates, 0);
	cl_last_error(bad.cl, err, sizeof(err));
	assert_non_null(strstr(err, "AUTH: WRONGPASS"));
	h_link_free(&good);
	h_link_free(&bad);
	h_redis_clean(&srv);
}

static bool replica_known(struct h_redis *s)
{
	redisContext *c = h_cli(s->port);
	redisReply *r = h_cmd(c, "SENTINEL replicas sipwake");
	bool known = r->type == REDIS_REPLY_ARRAY && r->elements == 1;

	freeReplyObject(r);
	redisFree(c);
	if (!known)
		usleep(50000);
	return known;
}

static bool master_is(const struct h_link *l, uint16_t port)
{
	char want[32], got[64];

	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	cl_master(l->cl, got, sizeof(got));
	return !strcmp(got, want);
}

/* A master, its replica, one sentinel; the link knows only the sentinel. */
static void test_sentinel_failover(void **state)
{
	struct h_redis m = {0}, r = {0}, s = {0};
	const char *extra[] = {"--replicaof", "127.0.0.1", NULL, NULL};
	char mport[8];
	struct cl_config cfg;
	struct h_link l;

	(void)state;
	h_redis_start(&m, 0, NULL);
	snprintf(mport, sizeof(mport), "%u", m.port);
	extra[2] = mport;
	h_redis_start(&r, 0, extra);
	h_sentinel_start(&s, m.port);

	h_cfg(&cfg, "edge-a", 0);
	cfg.redis.host[0] = '\0';
	cfg.n_sentinels = 1;
	snprintf(cfg.sentinels[0].host, sizeof(cfg.sentinels[0].host), "127.0.0.1");
	cfg.sentinels[0].port = s.port;
	h_link_new(&l, &cfg);
	assert_true(H_UNTIL(3000, cl_state(l.cl) == CL_UP));
	assert_true(master_is(&l, m.port));
	assert_int_equal(h_stats(&l).sentinel_lookups, 1);
	assert_true(h_submit_wait(&l, one_put("k1", 1)));

	/* The sentinel must know the replica before the master dies. */
	assert_true(H_UNTIL(10000, replica_known(&s)));
	h_redis_kill(&m, SIGKILL);
	assert_true(H_UNTIL(20000, cl_state(l.cl) == CL_UP && master_is(&l, r.port)));
	assert_true(h_submit_wait(&l, one_put("k2", 1)));
	assert_true(h_stats(&l).sentinel_lookups >= 2);
	assert_int_equal(h_stats(&l).connects, 2);
	h_link_free(&l);
	h_redis_clean(&s);
	h_redis_clean(&r);
	h_redis_clean(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_killed_and_restarted), cmocka_unit_test(test_batch_timeout),
		cmocka_unit_test(test_demoted_master),	     cmocka_unit_test(test_password),
		cmocka_unit_test(test_sentinel_failover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
