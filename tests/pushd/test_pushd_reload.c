/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pd_reload(): push credentials replaced without a restart, against
 * pd_testsrv. An unchanged credential keeps its connection; a changed one
 * (a rotated key) connects anew while the pushes in flight on the old one
 * finish there and those waiting move over; a credential that does not
 * load is refused and the running ones stay; added and removed credentials
 * take effect for the next push. argv[1]: path of pd_testsrv.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/pushd/ts_harness.h"

static const char *srv_bin;
static struct ts_keys keys;

static int group_setup(void **state)
{
	(void)state;
	return ts_keys_make(&keys);
}

static int group_teardown(void **state)
{
	(void)state;
	ts_keys_remove(&keys);
	return 0;
}

/* One APNs token credential at @port. */
static void one_apns(struct pd_config *cfg, unsigned port)
{
	ts_pd_config(cfg, &keys, port);
	cfg->n_apns = 1;
	cfg->n_fcm = 0;
}

static void submit(struct pd *pd, const char *token, uint64_t id, unsigned ms)
{
	struct pd_request r;

	ts_request(&r, PD_APNS, token, id);
	r.deadline_ms = sw_mono_ms() + ms;
	assert_int_equal(pd_submit(pd, &r), 0);
}

static enum pd_status push_status(struct pd *pd, const char *token, uint64_t id)
{
	struct pd_result *r;
	enum pd_status st;

	submit(pd, token, id, 3000);
	r = ts_wait_result(pd, id, 6000);
	assert_non_null(r);
	st = r->status;
	free(r);
	return st;
}

/* pd_reload() returns once loaded; the pushd thread applies it next. */
static void reload(struct pd *pd, const struct pd_config *cfg)
{
	unsigned before = pd_reloads_applied(pd);
	char err[256] = "";

	assert_int_equal(pd_reload(pd, cfg, err, sizeof(err)), 0);
	for (int i = 0; i < 300 && pd_reloads_applied(pd) == before; i++)
		usleep(10 * 1000);
	assert_int_equal(pd_reloads_applied(pd), before + 1);
}

static uint32_t conns_up(struct pd *pd)
{
	struct pd_stats st;

	pd_stats_get(pd, PD_APNS, &st);
	return st.connections_up;
}

/* Waits (bounded) until pushd has @n APNs connections up. */
static void wait_conns_up(struct pd *pd, uint32_t n)
{
	for (int i = 0; i < 500 && conns_up(pd) != n; i++)
		usleep(10 * 1000);
	assert_int_equal(conns_up(pd), n);
}

static void test_unchanged_credential_keeps_its_connection(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd_stats st;
	struct pd *pd;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	one_apns(&cfg, srv.port);
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_int_equal(push_status(pd, "a001", 1), PD_DELIVERED);
	cfg.wake_window_s = 20; /* a scalar: applies, the credential stays */
	reload(pd, &cfg);
	assert_int_equal(push_status(pd, "a002", 2), PD_DELIVERED);
	assert_non_null(ts_srv_wait(&srv, "REQ apns a002", 2000));
	assert_int_equal(ts_srv_count(&srv, "CONN "), 1);
	assert_int_equal(ts_srv_count(&srv, "CLOSED"), 0);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.connections_cfg, 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* The operator fixes a wrong key id (APNs: 403 InvalidProviderToken) by
 * editing the config and reloading: the next push goes out with it. */
static void test_rotated_key_applies_to_the_next_push(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd_stats st;
	struct pd *pd;
	char err[256];
	char *json;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	one_apns(&cfg, srv.port);
	snprintf(cfg.apns[0].key_id, sizeof(cfg.apns[0].key_id), "WRONGKEY01");
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_int_equal(push_status(pd, "b001", 1), PD_CONFIG_ERROR);
	snprintf(cfg.apns[0].key_id, sizeof(cfg.apns[0].key_id), TS_KID);
	reload(pd, &cfg);
	assert_int_equal(push_status(pd, "b002", 2), PD_DELIVERED);
	/* The old credential had nothing in flight: its connection is closed. */
	assert_non_null(ts_srv_wait(&srv, "CLOSED", 3000));
	wait_conns_up(pd, 1);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.connects, 2);
	json = pd_stats_json(pd);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"credentials\":[{\"name\":\"apns.[0]\""));
	assert_null(strstr(json, "},{")); /* one credential listed, not two */
	free(json);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* A changed credential while pushes are in flight and waiting: the one in
 * flight finishes on the old connection (never sent twice), the waiting
 * ones move to the new credential, all are delivered; then the old
 * connection closes. */
static void test_in_flight_finish_waiting_move(void **state)
{
	enum { N = 4 };
	char copy[192], cmd[512], err[256];
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;

	(void)state;
	/* One stream per connection and one connection: one in flight, the
	 * rest waiting on the credential. */
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--max-streams 1"), 0);
	one_apns(&cfg, srv.port);
	cfg.max_connections = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_int_equal(push_status(pd, "c000", 100), PD_DELIVERED);
	assert_int_equal(ts_srv_cmd(&srv, "delay 600"), 0);
	for (unsigned i = 0; i < N; i++)
		submit(pd, "c001", i, 8000);
	usleep(250 * 1000); /* the first is in flight (answered at 600 ms), the others wait */
	/* The same key under another name: a changed credential. */
	snprintf(copy, sizeof(copy), "%s/AuthKey-copy.p8", keys.dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", keys.path[K_P8], copy);
	assert_int_equal(system(cmd), 0);
	snprintf(cfg.apns[0].key_file, sizeof(cfg.apns[0].key_file), "%s", copy);
	reload(pd, &cfg);
	for (unsigned i = 0; i < N; i++) {
		r = ts_wait_result(pd, i, 10000);
		assert_non_null(r);
		assert_int_equal(r->status, PD_DELIVERED);
		if (i == 0) /* in flight at the reload: finished on the old connection */
			assert_int_equal(r->attempts, 1);
		free(r);
	}
	/* Each processed once by the server (a stream it refused before
	 * SETTINGS arrived may be sent again: RFC 9113 §8.7). */
	assert_int_equal(ts_srv_count(&srv, "REQ apns c001"), N);
	assert_int_equal(ts_srv_count(&srv, "CONN "), 2);
	assert_non_null(ts_srv_wait(&srv, "CLOSED", 3000));
	wait_conns_up(pd, 1);
	pd_free(pd);
	unlink(copy);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

static void test_bad_credential_refused_old_stays(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg, bad;
	struct pd *pd;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	one_apns(&cfg, srv.port);
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	bad = cfg;
	snprintf(bad.apns[0].key_file, sizeof(bad.apns[0].key_file), "%s/missing.p8", keys.dir);
	err[0] = '\0';
	assert_int_equal(pd_reload(pd, &bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "push.apns.[0].key_file: cannot open"));
	usleep(100 * 1000);
	assert_int_equal(pd_reloads_applied(pd), 0);
	assert_int_equal(push_status(pd, "d001", 1), PD_DELIVERED);
	assert_int_equal(ts_srv_count(&srv, "CONN "), 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* From no credential to one and back: the next push follows the config. */
static void test_added_then_removed(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg, none;
	struct pd_stats st;
	struct pd *pd;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	pd_config_defaults(&none);
	pd = pd_new(&none, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_int_equal(push_status(pd, "e001", 1), PD_NO_CREDENTIAL);
	one_apns(&cfg, srv.port);
	reload(pd, &cfg);
	assert_int_equal(push_status(pd, "e002", 2), PD_DELIVERED);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.connections_cfg, 1);
	reload(pd, &none);
	assert_int_equal(push_status(pd, "e003", 3), PD_NO_CREDENTIAL);
	wait_conns_up(pd, 0);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.connections_cfg, 0);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* Before pd_start(): applied at once; the thread then opens the new set. */
static void test_reload_before_start(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	one_apns(&cfg, srv.port);
	snprintf(cfg.apns[0].key_id, sizeof(cfg.apns[0].key_id), "WRONGKEY01");
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	snprintf(cfg.apns[0].key_id, sizeof(cfg.apns[0].key_id), TS_KID);
	assert_int_equal(pd_reload(pd, &cfg, err, sizeof(err)), 0);
	assert_int_equal(pd_reloads_applied(pd), 1);
	assert_int_equal(pd_start(pd), 0);
	assert_int_equal(push_status(pd, "f001", 1), PD_DELIVERED);
	assert_int_equal(ts_srv_count(&srv, "CONN "), 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_credential_keeps_its_connection),
		cmocka_unit_test(test_rotated_key_applies_to_the_next_push),
		cmocka_unit_test(test_in_flight_finish_waiting_move),
		cmocka_unit_test(test_bad_credential_refused_old_stays),
		cmocka_unit_test(test_added_then_removed),
		cmocka_unit_test(test_reload_before_start),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PD_TESTSRV\n", argv[0]);
		return 2;
	}
	srv_bin = argv[1];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
