/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_config tests: the example file loads, defaults fill what a minimal
 * config leaves out, and each bad config fails with -EINVAL and a message
 * that names the right line and key path. Every message is printed, so the
 * test log doubles as a review of their wording. This file has the configs
 * that load and main(), which runs every config test; the bad configs are
 * in test_config_bad.c, files and error buffers in test_config_files.c.
 *
 * Usage: test_config [path/to/config/sipwake.conf]
 * (or SIPWAKE_EXAMPLE_CONF; default config/sipwake.conf from the cwd).
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "tests/config/config_test.h"

static const char *example_path;

static void assert_ipv4(struct in_addr a, const char *want)
{
	char got[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, got, sizeof(got));
	assert_string_equal(got, want);
}

static void assert_ipv6(const struct in6_addr *a, const char *want)
{
	char got[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, got, sizeof(got));
	assert_string_equal(got, want);
}

static int load(const char *text, struct cp_config *cfg)
{
	char err[512] = "";
	int rc = cp_config_load_string(text, cfg, err, sizeof(err));

	if (rc)
		print_message("unexpected error: %s\n", err);
	return rc;
}

/* ---- configs that load -------------------------------------------------- */

static void test_example_file(void **state)
{
	struct cp_config cfg;
	char err[512] = "";
	int rc;

	(void)state;
	rc = cp_config_load(example_path, &cfg, err, sizeof(err));
	if (rc)
		fail_msg("%s: %d: %s", example_path, rc, err);
	assert_int_equal(cfg.sip_port, 5060);
	assert_int_equal(cfg.n_names, 1);
	assert_string_equal(cfg.names[0], "edge.example.net");
	assert_int_equal(cfg.n_ifaces, 1);
	assert_string_equal(cfg.ifaces[0].device, "net_af_packet0");
	assert_true(cfg.ifaces[0].has_ipv4 && cfg.ifaces[0].has_gw4);
	assert_ipv4(cfg.ifaces[0].ipv4, "198.18.0.1");
	assert_int_equal(cfg.ifaces[0].prefix4, 24);
	assert_ipv4(cfg.ifaces[0].gateway4, "198.18.0.254");
	assert_true(cfg.ifaces[0].has_ipv6 && cfg.ifaces[0].has_gw6);
	assert_ipv6(&cfg.ifaces[0].ipv6, "2001:db8:5e::1");
	assert_int_equal(cfg.ifaces[0].prefix6, 64);
	assert_ipv6(&cfg.ifaces[0].gateway6, "fe80::1");
	/* The example documents the defaults, so it must state them. */
	assert_int_equal(cfg.mbufs, 16383);
	assert_int_equal(cfg.rx_desc, 1024);
	assert_int_equal(cfg.tx_desc, 1024);
	assert_int_equal(cfg.ring_size, 1024);
	assert_int_equal(cfg.idle_sleep_us, 0);
	assert_int_equal(cfg.neigh_max, 4096);
	assert_int_equal(cfg.neigh_queue, 4);
	assert_int_equal(cfg.neigh_retry_ms, 1000);
	assert_int_equal(cfg.neigh_probes, 3);
	assert_int_equal(cfg.neigh_lifetime_s, 300);
	assert_int_equal(cfg.log_level, CP_LOG_INFO);
}

static void test_pbx_servers(void **state)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 5};
	struct cp_config cfg;

	(void)state;
	assert_int_equal(
		load("pbx: { servers = [ \"192.0.2.5\", \"[2001:db8::5]:5080\", "
		     "\"2001:db8::5\" ]; };\n"
		     "bindings: { store = \"/tmp/x.db\"; store_sync = \"full\"; };\n" IFACE,
		     &cfg),
		0);
	assert_int_equal(cfg.n_pbx_servers, 3);
	assert_int_equal(cfg.pbx_servers[0].addr[10], 0xff);
	assert_int_equal(cfg.pbx_servers[0].addr[12], 192);
	assert_int_equal(cfg.pbx_servers[0].addr[15], 5);
	assert_int_equal(cfg.pbx_servers[0].port, 5060);
	assert_memory_equal(cfg.pbx_servers[1].addr, v6, 16);
	assert_int_equal(cfg.pbx_servers[1].port, 5080);
	assert_memory_equal(cfg.pbx_servers[2].addr, v6, 16);
	assert_int_equal(cfg.pbx_servers[2].port, 5060);
	assert_string_equal(cfg.store, "/tmp/x.db");
	assert_int_equal(cfg.store_sync_full, 1);
}

static void test_defaults(void **state)
{
	struct cp_config cfg, want;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg)); /* loader must not rely on a zeroed struct */
	assert_int_equal(load(IFACE, &cfg), 0);
	cp_config_defaults(&want);
	assert_int_equal(want.n_ifaces, 0);
	assert_int_equal(want.sip_port, 5060);
	assert_int_equal(want.log_level, CP_LOG_INFO);
	assert_int_equal(cfg.sip_port, want.sip_port);
	assert_int_equal(cfg.n_names, 0);
	assert_int_equal(cfg.mbufs, 16383);
	assert_int_equal(cfg.rx_desc, 1024);
	assert_int_equal(cfg.tx_desc, 1024);
	assert_int_equal(cfg.ring_size, 1024);
	assert_int_equal(cfg.idle_sleep_us, 0);
	assert_int_equal(cfg.neigh_max, 4096);
	assert_int_equal(cfg.neigh_queue, 4);
	assert_int_equal(cfg.neigh_retry_ms, 1000);
	assert_int_equal(cfg.neigh_probes, 3);
	assert_int_equal(cfg.neigh_lifetime_s, 300);
	assert_int_equal(cfg.log_level, CP_LOG_INFO);
	assert_int_equal(cfg.n_pbx_sources, 0);
	assert_true(cfg.n_scanner_uas >= 3);
	assert_string_equal(cfg.scanner_uas[0], "friendly-scanner");
	assert_int_equal(cfg.unknown_rate, 10);
	assert_int_equal(cfg.unknown_burst, 20);
	assert_int_equal(cfg.rate_sources, 65536);
	/* The admission classes' budgets (docs/admission.md). */
	assert_int_equal(cfg.unknown_prefix_rate, 200);
	assert_int_equal(cfg.unknown_prefix_burst, 400);
	assert_int_equal(cfg.expected_rate, 10);
	assert_int_equal(cfg.expected_burst, 20);
	assert_int_equal(cfg.answer_rate, 1000);
	assert_int_equal(cfg.answer_burst, 2000);
	assert_int_equal(cfg.rate_keys, 65536);
	assert_false(cfg.reply_403 || cfg.reply_503);
	assert_int_equal(cfg.max_sources, 65536);
	assert_int_equal(cfg.max_devices, 65536);
	assert_int_equal(cfg.n_pbx_servers, 0);
	assert_string_equal(cfg.store, "/var/lib/sipwake/bindings.db");
	assert_int_equal(cfg.store_sync_full, 0);
	assert_int_equal(cfg.ping_interval_s, 30);
	assert_int_equal(cfg.alive_window_s, 75);
	assert_int_equal(cfg.frag_flows, 4096);
	assert_int_equal(cfg.frag_timeout_ms, 2000);
	assert_int_equal(cfg.frag_buffers, 511);
	assert_int_equal(cfg.ifaces[0].vlan, 0);
	assert_int_equal(cfg.n_ifaces, 1);
	assert_string_equal(cfg.ifaces[0].device, "net_af_packet0");
	assert_true(cfg.ifaces[0].has_ipv4);
	assert_false(cfg.ifaces[0].has_gw4 || cfg.ifaces[0].has_ipv6 || cfg.ifaces[0].has_gw6);
}

/* Non-default values everywhere: each table row must land in its own field. */
static void test_every_key(void **state)
{
	static const char text[] =
		"sip: { port = 0x13c5; names = ( \"a.example\", \"B-2.example.org\" ); };\n" IFACE
		"dataplane: { mbufs = 2047; rx_desc = 512; tx_desc = 2048; ring_size = 65536;\n"
		"             idle_sleep_us = 100000; };\n"
		"neighbours: { max = 16; queue = 64; retry_ms = 10; probes = 10; lifetime_s = "
		"86400L; };\n"
		"log: { level = \"debug\"; };\n"
		"pbx: { sources = [ \"192.0.2.10\", \"10.0.0.0/8\", \"2001:db8:5e::/64\" ]; };\n"
		"filter: { scanner_user_agents = [ \"SIPVicious\", \"x\" ]; unknown_rate = 5;\n"
		"  unknown_burst = 6; unknown_global_rate = 7; unknown_global_burst = 8;\n"
		"  rate_sources = 1024; reply_403 = true; reply_503 = true;\n"
		"  unknown_prefix_rate = 9; unknown_prefix_burst = 11; expected_rate = 12;\n"
		"  expected_burst = 13; answer_rate = 14; answer_burst = 15; rate_keys = 4096; };\n"
		"bindings: { max_sources = 100; };\n";
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct cp_config cfg;

	(void)state;
	assert_int_equal(load(text, &cfg), 0);
	assert_int_equal(cfg.n_pbx_sources, 3);
	assert_memory_equal(cfg.pbx_sources[0].addr, v4mapped, 12);
	assert_memory_equal(&cfg.pbx_sources[0].addr[12], "\xc0\x00\x02\x0a", 4);
	assert_int_equal(cfg.pbx_sources[0].plen, 128);
	assert_int_equal(cfg.pbx_sources[1].addr[12], 10);
	assert_int_equal(cfg.pbx_sources[1].plen, 104);
	assert_int_equal(cfg.pbx_sources[2].addr[0], 0x20);
	assert_int_equal(cfg.pbx_sources[2].plen, 64);
	assert_int_equal(cfg.n_scanner_uas, 2);
	assert_string_equal(cfg.scanner_uas[0], "sipvicious");
	assert_int_equal(cfg.unknown_rate, 5);
	assert_int_equal(cfg.unknown_burst, 6);
	assert_int_equal(cfg.unknown_global_rate, 7);
	assert_int_equal(cfg.unknown_global_burst, 8);
	assert_int_equal(cfg.rate_sources, 1024);
	assert_true(cfg.reply_403 && cfg.reply_503);
	assert_int_equal(cfg.unknown_prefix_rate, 9);
	assert_int_equal(cfg.unknown_prefix_burst, 11);
	assert_int_equal(cfg.expected_rate, 12);
	assert_int_equal(cfg.expected_burst, 13);
	assert_int_equal(cfg.answer_rate, 14);
	assert_int_equal(cfg.answer_burst, 15);
	assert_int_equal(cfg.rate_keys, 4096);
	assert_int_equal(cfg.max_sources, 100);
	assert_int_equal(cfg.ifaces[0].vlan, 0);
	assert_int_equal(cfg.sip_port, 5061);
	assert_int_equal(cfg.n_names, 2);
	assert_string_equal(cfg.names[1], "B-2.example.org");
	assert_int_equal(cfg.mbufs, 2047);
	assert_int_equal(cfg.rx_desc, 512);
	assert_int_equal(cfg.tx_desc, 2048);
	assert_int_equal(cfg.ring_size, 65536);
	assert_int_equal(cfg.idle_sleep_us, 100000);
	assert_int_equal(cfg.neigh_max, 16);
	assert_int_equal(cfg.neigh_queue, 64);
	assert_int_equal(cfg.neigh_retry_ms, 10);
	assert_int_equal(cfg.neigh_probes, 10);
	assert_int_equal(cfg.neigh_lifetime_s, 86400);
	assert_int_equal(cfg.log_level, CP_LOG_DEBUG);
}

/* cluster { }: every key in its field, both ways to Redis. */
/* The wake path's late window and held MESSAGEs (docs/design.md §5):
 * defaults, every key set, and the edges of their ranges. */
static void test_wake_late_and_messages(void **state)
{
	struct cp_config cfg;

	(void)state;
	assert_int_equal(load(IFACE, &cfg), 0);
	assert_int_equal(cfg.wake_late_window_s, 60);
	assert_int_equal(cfg.wake_message_window_s, 30);
	assert_int_equal(cfg.wake_max_messages, 1024);
	assert_int_equal(cfg.wake_max_messages_per_aor, 16);
	assert_int_equal(load(IFACE "wake: { late_window_s = 0; message_window_s = 32;\n"
				    "  max_messages = 16; max_messages_per_aor = 1; };\n",
			      &cfg),
			 0);
	assert_int_equal(cfg.wake_late_window_s, 0);
	assert_int_equal(cfg.wake_message_window_s, 32);
	assert_int_equal(cfg.wake_max_messages, 16);
	assert_int_equal(cfg.wake_max_messages_per_aor, 1);
	assert_int_equal(load(IFACE "wake: { late_window_s = 3600; message_window_s = 1;\n"
				    "  max_messages = 1048576; max_messages_per_aor = 1024; };\n",
			      &cfg),
			 0);
	assert_int_equal(cfg.wake_late_window_s, 3600);
	assert_int_equal(cfg.wake_message_window_s, 1);
	assert_int_equal(cfg.wake_max_messages, 1048576);
	assert_int_equal(cfg.wake_max_messages_per_aor, 1024);
}

static void test_cluster(void **state)
{
	static const char direct[] = IFACE
		"cluster: { edge = \"edge-2.fra\"; redis = \"[2001:db8::7]:6380\"; password = "
		"\"pw\";\n"
		"  prefix = \"sw:fra:\"; timeout_ms = 250; retry_ms = 20; wait_replicas = 1;\n"
		"  wait_ms = 50; feed_maxlen = 5000; max_inflight = 64; };\n";
	static const char sentinels[] =
		"sip: { names = [ \"edges.example\" ]; };\n" IFACE
		"cluster: { edge = \"e1\"; sentinels = [ \"10.0.0.1\", \"s2.example:26380\" ];\n"
		"  master = \"main-1\"; path = \"edges.example\";\n"
		"  peers = ( { edge = \"e2\"; address = \"192.0.2.12\"; },\n"
		"            { edge = \"e3\"; address = \"[2001:db8::13]:5070\"; } ); };\n";
	struct cp_config cfg;

	(void)state;
	assert_int_equal(load(IFACE, &cfg), 0);
	assert_int_equal(cfg.cluster, 0);
	assert_int_equal(load(direct, &cfg), 0);
	assert_int_equal(cfg.cluster, 1);
	assert_string_equal(cfg.cl.edge, "edge-2.fra");
	assert_string_equal(cfg.cl.redis.host, "2001:db8::7");
	assert_int_equal(cfg.cl.redis.port, 6380);
	assert_int_equal(cfg.cl.n_sentinels, 0);
	assert_string_equal(cfg.cl.password, "pw");
	assert_string_equal(cfg.cl.prefix, "sw:fra:");
	assert_int_equal(cfg.cl.timeout_ms, 250);
	assert_int_equal(cfg.cl.retry_ms, 20);
	assert_int_equal(cfg.cl.wait_replicas, 1);
	assert_int_equal(cfg.cl.wait_ms, 50);
	assert_int_equal(cfg.cl.feed_maxlen, 5000);
	assert_int_equal(cfg.cl.max_inflight, 64);
	assert_string_equal(cfg.cl.master, "sipwake"); /* the default */
	assert_int_equal(load(sentinels, &cfg), 0);
	assert_int_equal(cfg.cl.n_sentinels, 2);
	assert_string_equal(cfg.cl.sentinels[0].host, "10.0.0.1");
	assert_int_equal(cfg.cl.sentinels[0].port, 26379);
	assert_string_equal(cfg.cl.sentinels[1].host, "s2.example");
	assert_int_equal(cfg.cl.sentinels[1].port, 26380);
	assert_string_equal(cfg.cl.master, "main-1");
	assert_string_equal(cfg.cl_path, "edges.example");
	assert_int_equal(cfg.n_peers, 2);
	assert_string_equal(cfg.peers[0].edge, "e2");
	assert_int_equal(cfg.peers[0].addr.addr[12], 192);
	assert_int_equal(cfg.peers[0].addr.port, 5060);
	assert_string_equal(cfg.peers[1].edge, "e3");
	assert_int_equal(cfg.peers[1].addr.addr[0], 0x20);
	assert_int_equal(cfg.peers[1].addr.port, 5070);
	assert_string_equal(cfg.cl.prefix, "sipwake:");
	assert_int_equal(cfg.cl.timeout_ms, 1000);
}

static void test_address_forms(void **state)
{
	static const char text[] =
		"interfaces = (\n"
		/* gateway written before its address: still checked against it */
		"  { device = \"0000:01:00.0\"; gateway6 = \"2001:db8:5e::fe\"; ipv6 = "
		"\"2001:db8:5e::1/64\"; },\n"
		"  { device = \"net_af_packet1\"; ipv4 = \"198.18.0.0/31\"; gateway4 = "
		"\"198.18.0.1\"; },\n"
		"  { device = \"net_af_packet2\"; ipv4 = \"198.18.0.7/32\"; },\n"
		"  { device = \"net_af_packet3\"; ipv4 = \"198.18.0.1/0\"; ipv6 = \"fe80::2/10\"; "
		"}\n"
		");\n";
	struct cp_config cfg;

	(void)state;
	assert_int_equal(load(text, &cfg), 0);
	assert_int_equal(cfg.n_ifaces, 4);
	assert_false(cfg.ifaces[0].has_ipv4);
	assert_true(cfg.ifaces[0].has_gw6);
	assert_ipv6(&cfg.ifaces[0].gateway6, "2001:db8:5e::fe");
	assert_int_equal(cfg.ifaces[1].prefix4, 31);
	assert_ipv4(cfg.ifaces[1].gateway4, "198.18.0.1");
	assert_int_equal(cfg.ifaces[2].prefix4, 32);
	assert_int_equal(cfg.ifaces[3].prefix4, 0);
	assert_int_equal(cfg.ifaces[3].prefix6, 10);
}

static void test_max_interfaces(void **state)
{
	char text[2048];
	size_t n = 0;
	struct cp_config cfg;
	int i;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "interfaces = (\n");
	for (i = 0; i < CP_MAX_IFACES; i++)
		n += (size_t)snprintf(
			text + n, sizeof(text) - n,
			"  { device = \"net_af_packet%d\"; ipv4 = \"198.18.%d.1/24\"; }%s\n", i, i,
			i + 1 < CP_MAX_IFACES ? "," : "");
	snprintf(text + n, sizeof(text) - n, ");\n");
	assert_int_equal(load(text, &cfg), 0);
	assert_int_equal(cfg.n_ifaces, CP_MAX_IFACES);
	assert_string_equal(cfg.ifaces[7].device, "net_af_packet7");
}

static void test_log_level_name(void **state)
{
	(void)state;
	assert_string_equal(cp_log_level_name(CP_LOG_ERR), "error");
	assert_string_equal(cp_log_level_name(CP_LOG_WARNING), "warning");
	assert_string_equal(cp_log_level_name(CP_LOG_NOTICE), "notice");
	assert_string_equal(cp_log_level_name(CP_LOG_INFO), "info");
	assert_string_equal(cp_log_level_name(CP_LOG_DEBUG), "debug");
	assert_string_equal(cp_log_level_name((enum cp_log_level)99), "unknown");
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_pbx_servers),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_address_forms),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_wake_late_and_messages),
		cmocka_unit_test(test_max_interfaces),
		cmocka_unit_test(test_log_level_name),
		cmocka_unit_test(test_too_many_interfaces),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_file_errors_name_file),
		cmocka_unit_test(test_small_err_buffer),
	};
	size_t n = ARRAY_LEN(fixed) + n_bad_configs, i;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int failed;

	example_path = argc > 1 ? argv[1] : getenv("SIPWAKE_EXAMPLE_CONF");
	if (!example_path)
		example_path = "config/sipwake.conf";
	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	/* One named test per bad config, so a failure says which one. */
	for (i = 0; i < n_bad_configs; i++)
		tests[ARRAY_LEN(fixed) + i] = (struct CMUnitTest){
			.name = bad_configs[i].name,
			.test_func = test_bad_config,
			.initial_state = (void *)&bad_configs[i],
		};
	failed = _cmocka_run_group_tests("config", tests, n, NULL, NULL);
	free(tests);
	return failed;
}
