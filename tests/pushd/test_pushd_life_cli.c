/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwake-push, the command line tool, against the test server: a delivered
 * and a rejected APNs push with what the server answered, an alert unless
 * --kind call asks for a VoIP push, an FCM push after its access token, a
 * usage error and --help.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/pushd/pushd_life.h"

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

void test_cli(void **state)
{
	struct ts_srv srv;
	char out[4096];
	const char *l;

	(void)state;
	if (!cli_bin)
		skip();
	assert_int_equal(ts_srv_start(&srv, srv_bin, &keys, 0, NULL), 0);
	assert_int_equal(run_cli(&srv, "--provider apns --token dd01", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "result: delivered"));
	assert_non_null(strstr(out, "HTTP/2 200"));
	assert_non_null(strstr(out, "apns-id: "));
	/* An alert unless asked: a call push would ring the phone. */
	l = ts_srv_wait(&srv, "REQ apns dd01 status=200", 1000);
	assert_non_null(l);
	assert_non_null(strstr(l, " type=alert topic=" TS_BUNDLE " prio=10 "));
	assert_int_equal(
		run_cli(&srv, "--provider apns --token dd03 --kind call", out, sizeof(out)), 0);
	l = ts_srv_wait(&srv, "REQ apns dd03 status=200", 1000);
	assert_non_null(l);
	assert_non_null(strstr(l, " type=voip topic=" TS_BUNDLE ".voip "));
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
	l = ts_srv_wait(&srv, "REQ fcm fcm-cli status=200", 1000);
	assert_non_null(l);
	assert_non_null(strstr(l, " type=alert "));
	assert_int_equal(run_cli(&srv, "--provider apns", out, sizeof(out)), 2); /* usage */
	assert_int_equal(run_cli(&srv, "--help", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "alert (default)"));
	assert_int_equal(ts_srv_stop(&srv), 0);
}
