/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd lifecycle: the push config group and its errors, and credentials
 * that do not load. This file's main() runs every pushd_life test; the
 * others are, by concern: test_pushd_life_conn.c (APNs provider-token
 * reuse and renewal, reconnect after the server restarts, names and
 * certificates, PINGs), test_pushd_life_queue.c (pushes queued, capped and
 * refused), test_pushd_life_start.c (a token-auth APNs connection's first
 * request), test_pushd_life_expiry.c (apns-expiration and FCM ttl from the
 * deadline), test_pushd_life_cert.c (APNs client certificates) and
 * test_pushd_life_cli.c (sipwake-push).
 * argv[1]: path of pd_testsrv; argv[2]: path of sipwake-push.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/config/cp_config.h"
#include "tests/pushd/pushd_life.h"

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
		cmocka_unit_test(test_apns_one_stream_until_accepted),
		cmocka_unit_test(test_apns_start_after_403_and_400),
		cmocka_unit_test(test_apns_start_after_a_stall),
		cmocka_unit_test(test_expiry_follows_deadline),
		cmocka_unit_test(test_apns_client_certificate),
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
