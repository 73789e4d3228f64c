/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd lifecycle: the push config group and its errors, credentials that
 * do not load, APNs provider-token reuse and renewal, reconnect after the
 * server restarts. argv[1]: path of pd_testsrv.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "controlplane/config/cp_config.h"
#include "tests/pushd/ts_harness.h"

static const char *srv_bin, *cli_bin;
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

static int load_text(const char *text, struct pd_config *cfg, char *err, size_t errlen)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.conf", keys.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	pd_config_defaults(cfg);
	err[0] = '\0';
	return pd_config_load_file(path, cfg, err, errlen);
}

static void test_config_valid(void **state)
{
	struct pd_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(
		load_text("push: {\n"
			  "  wake_window_s = 20; apns_expire_now = true;\n"
			  "  apns = ( { team_id = \"TEAM123456\"; key_id = \"KEY1234567\";\n"
			  "    key_file = \"/k.p8\"; bundle_id = \"com.example.app\";\n"
			  "    sandbox = true; } );\n"
			  "  fcm = ( { project = \"p-1\"; service_account_file = \"/sa.json\";\n"
			  "    endpoint = \"127.0.0.1:8443\"; } );\n"
			  "};\n",
			  &cfg, err, sizeof(err)),
		0);
	assert_int_equal(cfg.wake_window_s, 20);
	assert_int_equal(cfg.apns_expire_now, 1);
	assert_int_equal(cfg.apns_expire_now, 1);
	assert_int_equal(cfg.n_apns, 1);
	assert_string_equal(cfg.apns[0].host, "api.sandbox.push.apple.com");
	assert_int_equal(cfg.apns[0].port, 443);
	assert_int_equal(cfg.n_fcm, 1);
	assert_string_equal(cfg.fcm[0].host, "127.0.0.1");
	assert_int_equal(cfg.fcm[0].port, 8443);
	assert_int_equal(cfg.jwt_renew_s, 3000);
}

static void test_config_errors(void **state)
{
	struct pd_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load_text("push: {\n apns = ( { team_id = \"T\";\n colour = 1; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.conf:3: push.apns.[0].colour: unknown key"));
	assert_int_equal(load_text("push: {\n jwt_renew_s = 60;\n};\n", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(
		strstr(err, ":2: push.jwt_renew_s: expected an integer 1200..3300, got 60"));
	assert_int_equal(load_text("push: {\n apns = ( {\n team_id = \"TEAM123456\";\n"
				   " bundle_id = \"a.b\"; } );\n};\n",
				   &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "push.apns.[0]: expected either key_id + key_file"));
	assert_int_equal(
		load_text("push: {\n fcm = ( { project = \"p\";\n"
			  " service_account_file = \"/x\";\n endpoint = \"h:99999\"; } );\n};\n",
			  &cfg, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, ":4: push.fcm.[0].endpoint: expected \"host:port\""));
	assert_int_equal(load_text("push: {\n apns = ( { team_id = \"TE AM\"; } );\n};\n", &cfg,
				   err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "push.apns.[0].team_id: expected characters from"));
}

/* The push group inside the main sipwake config (controlplane's loader). */
static void test_config_in_sipwake_conf(void **state)
{
	static struct cp_config cfg;
	char err[256];
	static const char base[] = "interfaces = ( { device = \"net_af_packet0\"; ipv4 = "
				   "\"198.18.0.1/24\"; } );\n";
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text),
		 "%spush: {\n fcm = ( { project = \"p-1\";\n service_account_file = \"/sa.json\"; "
		 "} );\n};\n",
		 base);
	assert_int_equal(cp_config_load_string(text, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.push.n_fcm, 1);
	assert_string_equal(cfg.push.fcm[0].host, "fcm.googleapis.com");
	assert_int_equal(cfg.push.wake_window_s, 30);
	snprintf(text, sizeof(text), "%spush: {\n apns = ( {\n colour = 1; } );\n};\n", base);
	assert_int_equal(cp_config_load_string(text, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "<string>:4: push.apns.[0].colour: unknown key"));
}

static void test_credential_does_not_load(void **state)
{
	struct pd_config cfg;
	char err[256];
	FILE *f;

	(void)state;
	ts_pd_config(&cfg, &keys, 1);
	snprintf(cfg.apns[0].key_file, sizeof(cfg.apns[0].key_file), "%s/missing.p8", keys.dir);
	assert_null(pd_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "push.apns.[0].key_file: cannot open"));
	assert_non_null(strstr(err, "missing.p8"));

	/* An RSA key where a P-256 .p8 is expected. */
	ts_pd_config(&cfg, &keys, 1);
	snprintf(cfg.apns[0].key_file, sizeof(cfg.apns[0].key_file), "%s", keys.path[K_RSA]);
	assert_null(pd_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a P-256 (.p8) key"));

	/* A client key that does not match the certificate. */
	ts_pd_config(&cfg, &keys, 1);
	snprintf(cfg.apns[1].cert_key_file, sizeof(cfg.apns[1].cert_key_file), "%s",
		 keys.path[K_TLS_KEY]);
	assert_null(pd_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "push.apns.[1].cert_key_file"));

	/* A service account that is not JSON. */
	ts_pd_config(&cfg, &keys, 1);
	snprintf(cfg.fcm[0].service_account_file, sizeof(cfg.fcm[0].service_account_file),
		 "%s/bad.json", keys.dir);
	f = fopen(cfg.fcm[0].service_account_file, "w");
	assert_non_null(f);
	fputs("{ not json", f);
	fclose(f);
	assert_null(pd_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "push.fcm.[0].service_account_file"));
}

static struct pd_result *push_one(struct pd *pd, const char *token, uint64_t id, unsigned ms)
{
	struct pd_request r;

	ts_request(&r, PD_APNS, token, id);
	r.deadline_ms = sw_mono_ms() + ms;
	assert_int_equal(pd_submit(pd, &r), 0);
	return ts_wait_result(pd, id, (int)ms + 3000);
}

static long iat_of(const char *line)
{
	const char *p = line ? strstr(line, "iat=") : NULL;

	assert_non_null(p);
	return atol(p + 4);
}

static void test_jwt_reused_then_renewed(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_stats st;
	char err[256];
	long iat1, iat2, iat3;

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.test_jwt_renew_s = 4;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	r = push_one(pd, "bb01", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	iat1 = iat_of(ts_srv_wait(&srv, "REQ apns bb01", 2000));
	r = push_one(pd, "bb02", 2, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	iat2 = iat_of(ts_srv_wait(&srv, "REQ apns bb02", 2000));
	assert_int_equal(iat1, iat2); /* reused */
	sleep(5);
	r = push_one(pd, "bb03", 3, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	iat3 = iat_of(ts_srv_wait(&srv, "REQ apns bb03", 2000));
	assert_true(iat3 >= iat1 + 4); /* renewed */
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.token_renewals, 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

static void test_reconnect_after_server_restart(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_request q;
	struct pd_stats st;
	unsigned port;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	port = srv.port;
	ts_pd_config(&cfg, &keys, port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	r = push_one(pd, "cc01", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	assert_int_equal(ts_srv_stop(&srv), 0);
	/* Submitted while the server is down: waits for the reconnect. */
	ts_request(&q, PD_APNS, "cc02", 2);
	q.deadline_ms = sw_mono_ms() + 6000;
	assert_int_equal(pd_submit(pd, &q), 0);
	usleep(600 * 1000);
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, port, NULL), 0);
	r = ts_wait_result(pd, 2, 8000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.connects >= 2);
	assert_true(st.disconnects >= 1);
	assert_int_equal(st.connections_up, 1);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* Names are resolved (evdns, /etc/hosts) and checked against the server's
 * certificate: "localhost" is in its subjectAltName, "vm" (also 127.0.0.1
 * here, when /etc/hosts has it) is not, so that connection never comes up. */
static void test_hostname_and_certificate_check(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_stats st;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	snprintf(cfg.apns[0].host, sizeof(cfg.apns[0].host), "localhost");
	cfg.apns_expire_now = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	r = push_one(pd, "ab02", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	assert_non_null(strstr(ts_srv_wait(&srv, "REQ apns ab02", 2000), " exp=0 "));
	pd_free(pd);

	if (system("getent hosts vm | grep -q '^127\\.0\\.0\\.1'") == 0) {
		snprintf(cfg.apns[0].host, sizeof(cfg.apns[0].host), "vm");
		pd = pd_new(&cfg, err, sizeof(err));
		assert_non_null(pd);
		assert_int_equal(pd_start(pd), 0);
		r = push_one(pd, "ab03", 2, 800);
		assert_non_null(r);
		assert_int_equal(r->status, PD_TIMED_OUT);
		free(r);
		pd_stats_get(pd, PD_APNS, &st);
		assert_int_equal(st.connects, 0);
		pd_free(pd);
	}
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* A service account the token endpoint refuses: FCM pushes are configuration
 * errors, reported at once rather than at their deadline. */
static void test_fcm_token_refused(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_request q;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--fcm-email someone@else.example"),
			 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_apns = 0;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_non_null(ts_srv_wait(&srv, "REQ token status=400", 3000));
	ts_request(&q, PD_FCM, "fcm-x", 1);
	q.deadline_ms = sw_mono_ms() + 5000;
	assert_int_equal(pd_submit(pd, &q), 0);
	r = ts_wait_result(pd, 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_CONFIG_ERROR);
	assert_true(r->latency_us < 2000000);
	free(r);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* An idle connection is PINGed; one whose PING goes unanswered is dropped
 * and replaced. */
static void test_ping_idle_and_dead_connection(void **state)
{
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_result *r;
	struct pd_stats st;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.ping_interval_s = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_non_null(ts_srv_wait(&srv, "CONN 1", 3000));
	usleep(2500 * 1000);
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.pings >= 1);
	assert_int_equal(st.ping_timeouts, 0);
	assert_int_equal(st.connections_up, 1);
	assert_int_equal(ts_srv_cmd(&srv, "freeze on"), 0);
	assert_non_null(ts_srv_wait(&srv, "CONN 2", 5000));
	pd_stats_get(pd, PD_APNS, &st);
	assert_true(st.ping_timeouts >= 1);
	r = push_one(pd, "ff01", 1, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* Pushes submitted before the connection is up, and more than the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS: a second connection opens past the cap
 * (never more than max_connections), the rest wait their turn. */
static void test_queue_before_connect_and_past_stream_cap(void **state)
{
	enum { N = 60 };
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--max-streams 4 --delay-ms 20"), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.max_connections = 2;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	for (unsigned i = 0; i < N; i++) {
		ts_request(&q, PD_APNS, "ee01", i);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
	assert_int_equal(pd_start(pd), 0);
	assert_int_equal(ts_wait_n(pd, N, 5000), N);
	assert_int_equal(ts_srv_count(&srv, "CONN "), 2);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* pushd holds at most max_pending pushes; the rest wait in the ring and
 * are taken as earlier ones finish. */
static void test_max_pending(void **state)
{
	enum { N = 200 };
	struct pd_result *r;
	uint64_t deadline;
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	char err[256];

	(void)state;
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	assert_int_equal(ts_srv_cmd(&srv, "set ac01 stall"), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.max_pending = 64;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_non_null(ts_srv_wait(&srv, "CONN 1", 3000));
	deadline = sw_mono_ms();
	for (unsigned i = 0; i < N; i++) {
		ts_request(&q, PD_APNS, "ac01", i);
		/* The first 64 (taken first: the ring is FIFO) outlive the others. */
		q.deadline_ms = deadline + (i < 64 ? 1500 : 1000);
		assert_int_equal(pd_submit(pd, &q), 0);
	}
	/* The first 64 are sent and stall; the rest wait in the ring until
	 * those time out, by which time their own deadline has long passed: they
	 * time out without being sent. All answered, exactly 64 requests made. */
	assert_int_equal(ts_wait_n(pd, N, 10000), 0);
	assert_int_equal(ts_srv_count(&srv, "REQ apns ac01"), 64);
	r = push_one(pd, "ac02", N, 3000);
	assert_non_null(r);
	assert_int_equal(r->status, PD_DELIVERED);
	free(r);
	pd_free(pd);
	assert_int_equal(ts_srv_stop(&srv), 0);
}

/* The server dies while pushd is writing to it: EPIPE, not a SIGPIPE that
 * kills the process; the pushes time out and pushd carries on. */
static void test_server_killed_mid_write(void **state)
{
	enum { N = 3000 };
	struct ts_srv srv;
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	struct pd_stats st;
	char err[256];

	(void)state;
	signal(SIGPIPE, SIG_DFL); /* as in a process that did not ignore it */
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, "--delay-ms 200"), 0);
	ts_pd_config(&cfg, &keys, srv.port);
	cfg.n_fcm = 0;
	cfg.n_apns = 1;
	cfg.ring_size = 4096;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_start(pd), 0);
	assert_non_null(ts_srv_wait(&srv, "CONN 1", 3000));
	for (unsigned i = 0; i < N; i++) {
		ts_request(&q, PD_APNS, "ad01", i);
		q.deadline_ms = sw_mono_ms() + 1500;
		assert_int_equal(pd_submit(pd, &q), 0);
		if (i == N / 3)
			kill(srv.pid, SIGKILL);
	}
	assert_int_equal(ts_wait_n(pd, N, 10000) >= 0, 1);
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.submitted, N);
	pd_free(pd);
	ts_srv_stop(&srv);
}

/* A full request ring is a counted refusal, never a wait. */
static void test_ring_full(void **state)
{
	struct pd_config cfg;
	struct pd *pd;
	struct pd_request q;
	struct pd_stats st;
	char err[256];
	unsigned ok = 0;
	int rc = 0;

	(void)state;
	ts_pd_config(&cfg, &keys, 1);
	cfg.ring_size = 64;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	ts_request(&q, PD_APNS, "aa", 1);
	while (ok < 100 && (rc = pd_submit(pd, &q)) == 0)
		ok++;
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(ok, 63); /* rte_ring keeps one slot free */
	pd_stats_get(pd, PD_APNS, &st);
	assert_int_equal(st.ring_full, 1);
	assert_int_equal(st.submitted, 63);
	pd_free(pd); /* never started: queued requests are freed */
}

/* Runs sipwake-push with a config pointing at the test server; returns
 * its exit status and its output in @out. */
static int run_cli(const struct ts_srv *srv, const char *args, char *out, size_t cap)
{
	char path[160], cmd[1024], drain[4096];
	size_t n;
	FILE *f, *p;
	int st;

	snprintf(path, sizeof(path), "%s/cli.conf", keys.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"push: {\n apns = ( { team_id = \"%s\"; key_id = \"%s\"; key_file = \"%s\";\n"
		" bundle_id = \"%s\"; endpoint = \"127.0.0.1:%u\"; ca_file = \"%s\"; } );\n",
		TS_TEAM, TS_KID, keys.path[K_P8], TS_BUNDLE, srv->port, keys.path[K_TLS_CRT]);
	fprintf(f,
		" fcm = ( { project = \"%s\"; service_account_file = \"%s\";\n"
		" token_url = \"https://127.0.0.1:%u/token\"; endpoint = \"127.0.0.1:%u\";\n"
		" ca_file = \"%s\"; } );\n};\n",
		TS_PROJECT, keys.path[K_SA_JSON], srv->port, srv->port, keys.path[K_TLS_CRT]);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --config %s --timeout 3 %s 2>&1", cli_bin, path, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	/* Drain the rest: closing the pipe early would SIGPIPE the CLI. */
	while (fread(drain, 1, sizeof(drain), p) > 0)
		;
	st = pclose(p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 2)
		fprintf(stderr, "sipwake-push: status %d, output:\n%s\n", st, out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
	struct ts_srv srv;
	char out[4096];

	(void)state;
	if (!cli_bin)
		skip();
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	assert_int_equal(run_cli(&srv, "--provider apns --token dd01", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "result: delivered"));
	assert_non_null(strstr(out, "HTTP/2 200"));
	assert_non_null(strstr(out, "apns-id: "));
	assert_int_equal(ts_srv_cmd(&srv, "set dd02 400 BadDeviceToken"), 0);
	assert_int_equal(
		run_cli(&srv, "--provider apns --token dd02 --kind alert", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "result: rejected BadDeviceToken"));
	assert_non_null(strstr(out, "HTTP/2 400"));
	assert_non_null(strstr(out, "{\"reason\":\"BadDeviceToken\"}"));
	assert_non_null(ts_srv_wait(&srv, "REQ apns dd02 status=400", 1000));
	/* FCM: the CLI fetches an access token first, then sends. */
	assert_int_equal(run_cli(&srv, "--provider fcm --token fcm-cli", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "result: delivered"));
	assert_non_null(strstr(out, "\"name\":\"projects/" TS_PROJECT "/messages/"));
	assert_non_null(ts_srv_wait(&srv, "REQ fcm fcm-cli status=200", 1000));
	assert_int_equal(run_cli(&srv, "--provider apns", out, sizeof(out)), 2); /* usage */
	assert_int_equal(ts_srv_stop(&srv), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_valid),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_in_sipwake_conf),
		cmocka_unit_test(test_credential_does_not_load),
		cmocka_unit_test(test_jwt_reused_then_renewed),
		cmocka_unit_test(test_reconnect_after_server_restart),
		cmocka_unit_test(test_hostname_and_certificate_check),
		cmocka_unit_test(test_fcm_token_refused),
		cmocka_unit_test(test_ping_idle_and_dead_connection),
		cmocka_unit_test(test_queue_before_connect_and_past_stream_cap),
		cmocka_unit_test(test_max_pending),
		cmocka_unit_test(test_server_killed_mid_write),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_cli),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PD_TESTSRV\n", argv[0]);
		return 2;
	}
	srv_bin = argv[1];
	cli_bin = argc > 2 ? argv[2] : NULL;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
