/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_config tests: the example file loads, defaults fill what a minimal
 * config leaves out, and each bad config fails with -EINVAL and a message
 * that names the right line and key path. Every message is printed, so the
 * test log doubles as a review of their wording.
 *
 * Usage: test_config [path/to/config/sipwake.conf]
 * (or SIPWAKE_EXAMPLE_CONF; default config/sipwake.conf from the cwd).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controlplane/config/cp_config.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* One line that loads: device plus ipv4, for cases about other keys. */
#define IFACE "interfaces = ( { device = \"net_af_packet0\"; ipv4 = \"198.18.0.1/24\"; } );\n"

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

/* ---- configs that do not ------------------------------------------------ */

/* Checks rc, that err is one line starting "<file>:<line>: <path>: ", and
 * that it contains @needle. @path NULL: a syntax error, no key path. */
static void expect_error(int rc, int want_rc, const char *err, const char *file, int line,
			 const char *path, const char *needle)
{
	char prefix[256];

	print_message("    %s\n", err);
	assert_int_equal(rc, want_rc);
	snprintf(prefix, sizeof(prefix), "%s:%d: %s%s", file, line, path ? path : "",
		 path ? ": " : "");
	if (strncmp(err, prefix, strlen(prefix)))
		fail_msg("error does not start with '%s'", prefix);
	if (!strstr(err, needle))
		fail_msg("error does not contain '%s'", needle);
	assert_null(strchr(err, '\n'));
}

struct bad {
	const char *name;
	int line;
	const char *path;
	const char *needle;
	const char *text;
};

static const struct bad bad_configs[] = {
	{"syntax_error", 3, NULL, "syntax error",
	 "sip: {\n  port = 5060;\n  names = [ \"a\" ;\n};\n" IFACE},
	{"duplicate_key", 2, NULL, "duplicate setting name",
	 "sip: { port = 5060;\n port = 5061; };\n" IFACE},
	{"port_0", 1, "sip.port", "expected an integer 1..65535, got 0",
	 "sip: { port = 0; };\n" IFACE},
	{"port_70000", 3, "sip.port", "expected an integer 1..65535, got 70000",
	 "\nsip: {\n  port = 70000;\n};\n" IFACE},
	{"port_string", 1, "sip.port", "expected an integer 1..65535, got a string",
	 "sip: { port = \"5060\"; };\n" IFACE},
	{"port_float", 1, "sip.port", "got a float", "sip: { port = 5060.0; };\n" IFACE},
	{"port_bool", 1, "sip.port", "got a boolean", "sip: { port = true; };\n" IFACE},
	{"port_int64", 1, "sip.port", "got 5000000000", "sip: { port = 5000000000L; };\n" IFACE},
	/* libconfig 1.5 would hand this over as 16383 */
	{"int_wraps_32_bits", 3, "dataplane.mbufs",
	 "expected an integer 1024..1048575, got 4294983679",
	 IFACE "dataplane: {\n  mbufs = 4294983679;\n};\n"},
	{"int_wraps_hex", 2, "sip.port", "got 0x1000013c4",
	 IFACE "sip: { port = 0x1000013c4; };\n"},
	{"unknown_top_level", 2, "sipp",
	 "unknown key (known: sip, interfaces, dataplane, neighbours, pbx, filter, bindings, wake, "
	 "log, push)",
	 IFACE "sipp: { port = 5060; };\n"},
	{"wake_policy_unknown", 2, "wake.policy",
	 "expected \"ping\" or \"always-push\" or \"parallel\", got \"sometimes\"",
	 IFACE "wake: { policy = \"sometimes\"; };\n"},
	{"wake_provisional_int", 2, "wake.provisional",
	 "expected \"none\" or \"180\" or \"110\", got", IFACE "wake: { provisional = 180; };\n"},
	{"wake_timeout_zero", 2, "wake.timeout_s", "expected an integer 1..600, got 0",
	 IFACE "wake: { timeout_s = 0; };\n"},
	{"unknown_in_dataplane", 4, "dataplane.mbuf",
	 "unknown key (known: mbufs, rx_desc, tx_desc, ring_size, idle_sleep_us, reassembly_flows, "
	 "reassembly_timeout_ms, reassembly_buffers)",
	 IFACE "dataplane: {\n  rx_desc = 512;\n  mbuf = 2048;\n};\n"},
	{"unknown_in_neighbours", 2, "neighbours.retries",
	 "unknown key (known: max, queue, retry_ms, probes, lifetime_s)",
	 IFACE "neighbours: { retries = 3; };\n"},
	{"typo_in_interface", 5, "interfaces.[0].gateway",
	 "unknown key (known: device, ipv4, gateway4, ipv6, gateway6, vlan)",
	 "interfaces = (\n  {\n    device = \"net_af_packet0\";\n    ipv4 = \"198.18.0.1/24\";\n   "
	 " gateway = \"198.18.0.254\";\n  }\n);\n"},
	{"group_not_group", 2, "dataplane",
	 "expected a group like dataplane: { ... }, got an integer", IFACE "dataplane = 5;\n"},
	{"no_interfaces", 1, "interfaces", "got nothing (key missing)", "sip: { port = 5060; };\n"},
	{"empty_interfaces", 2, "interfaces", "expected a list of 1..8 interface groups",
	 "sip: { port = 5060; };\ninterfaces = ( );\n"},
	{"interfaces_not_list", 1, "interfaces", "got a group { }",
	 "interfaces = { device = \"net_af_packet0\"; ipv4 = \"198.18.0.1/24\"; };\n"},
	{"interface_not_group", 1, "interfaces.[0]", "got a string",
	 "interfaces = ( \"net_af_packet0\" );\n"},
	{"interface_without_device", 2, "interfaces.[0].device",
	 "expected a DPDK device name string (e.g. \"net_af_packet0\" or \"0000:01:00.0\"), got "
	 "nothing (key missing)",
	 "interfaces = (\n  { ipv4 = \"198.18.0.1/24\"; }\n);\n"},
	{"interface_without_address", 3, "interfaces.[1]", "got neither",
	 "interfaces = (\n  { device = \"net_af_packet0\"; ipv4 = \"198.18.0.1/24\"; },\n  { "
	 "device = \"net_af_packet1\"; }\n);\n"},
	{"device_empty", 1, "interfaces.[0].device", "got an empty string",
	 "interfaces = ( { device = \"\"; ipv4 = \"198.18.0.1/24\"; } );\n"},
	{"device_space", 1, "interfaces.[0].device", "got \"net_af_packet0 \"",
	 "interfaces = ( { device = \"net_af_packet0 \"; ipv4 = \"198.18.0.1/24\"; } );\n"},
	{"device_too_long", 1, "interfaces.[0].device", "1..63 characters",
	 "interfaces = ( { device = "
	 "\"net_af_packet0123456789012345678901234567890123456789012345678901\"; ipv4 = "
	 "\"198.18.0.1/24\"; } );\n"},
	{"device_integer", 1, "interfaces.[0].device", "got an integer",
	 "interfaces = ( { device = 0; ipv4 = \"198.18.0.1/24\"; } );\n"},
	{"device_duplicate", 4, "interfaces.[1].device",
	 "got \"net_af_packet0\" again (also interfaces.[0].device)",
	 "interfaces = (\n  { device = \"net_af_packet0\"; ipv4 = \"198.18.0.1/24\"; },\n  {\n    "
	 "device = \"net_af_packet0\";\n    ipv4 = \"198.18.1.1/24\";\n  }\n);\n"},
	{"ipv4_bad", 4, "interfaces.[0].ipv4",
	 "expected an IPv4 address with prefix length like \"192.0.2.10/24\", got "
	 "\"10.0.0.300/24\"",
	 "interfaces = (\n  {\n    device = \"net_af_packet0\";\n    ipv4 = \"10.0.0.300/24\";\n  "
	 "}\n);\n"},
	{"ipv4_no_prefix", 1, "interfaces.[0].ipv4", "got \"198.18.0.1\" (no prefix length)",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1\"; } );\n"},
	{"ipv4_prefix_33", 1, "interfaces.[0].ipv4",
	 "got \"198.18.0.1/33\" (prefix length not in 0..32)",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/33\"; } );\n"},
	{"ipv4_prefix_junk", 1, "interfaces.[0].ipv4", "(prefix length not in 0..32)",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/24x\"; } );\n"},
	{"ipv4_short_form", 1, "interfaces.[0].ipv4", "got \"10.1/8\"",
	 "interfaces = ( { device = \"d\"; ipv4 = \"10.1/8\"; } );\n"},
	{"ipv4_network", 1, "interfaces.[0].ipv4", "network address",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.0/24\"; } );\n"},
	{"ipv4_broadcast", 1, "interfaces.[0].ipv4", "broadcast address",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.255/24\"; } );\n"},
	{"ipv4_multicast", 1, "interfaces.[0].ipv4", "(multicast)",
	 "interfaces = ( { device = \"d\"; ipv4 = \"239.1.1.1/24\"; } );\n"},
	{"ipv4_zero", 1, "interfaces.[0].ipv4", "this network",
	 "interfaces = ( { device = \"d\"; ipv4 = \"0.0.0.0/0\"; } );\n"},
	{"ipv4_integer", 1, "interfaces.[0].ipv4", "got an integer",
	 "interfaces = ( { device = \"d\"; ipv4 = 3323068417; } );\n"},
	{"ipv4_newline", 1, "interfaces.[0].ipv4", "got \"198.18.0.1?/24\"",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1\\n/24\"; } );\n"},
	{"gateway4_outside_subnet", 5, "interfaces.[0].gateway4",
	 "inside ipv4's subnet 198.18.0.0/24, got \"198.19.0.254\" (outside it)",
	 "interfaces = (\n  {\n    device = \"d\";\n    ipv4 = \"198.18.0.1/24\";\n    gateway4 = "
	 "\"198.19.0.254\";\n  }\n);\n"},
	{"gateway4_is_ipv4", 1, "interfaces.[0].gateway4", "(the interface's own address)",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/24\"; gateway4 = \"198.18.0.1\"; } "
	 ");\n"},
	{"gateway4_broadcast", 1, "interfaces.[0].gateway4", "broadcast",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/24\"; gateway4 = \"198.18.0.255\"; "
	 "} );\n"},
	{"gateway4_with_prefix", 1, "interfaces.[0].gateway4", "got \"198.18.0.254/24\"",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/24\"; gateway4 = "
	 "\"198.18.0.254/24\"; } );\n"},
	{"gateway4_without_ipv4", 4, "interfaces.[0].gateway4", "got gateway4 alone",
	 "interfaces = (\n  {\n    device = \"d\"; ipv6 = \"2001:db8::1/64\";\n    gateway4 = "
	 "\"198.18.0.254\";\n  }\n);\n"},
	{"ipv6_bad", 1, "interfaces.[0].ipv6",
	 "expected an IPv6 address with prefix length like \"2001:db8::10/64\", got "
	 "\"2001:db8::g/64\"",
	 "interfaces = ( { device = \"d\"; ipv6 = \"2001:db8::g/64\"; } );\n"},
	{"ipv6_no_prefix", 1, "interfaces.[0].ipv6", "(no prefix length)",
	 "interfaces = ( { device = \"d\"; ipv6 = \"2001:db8::1\"; } );\n"},
	{"ipv6_prefix_129", 1, "interfaces.[0].ipv6", "(prefix length not in 0..128)",
	 "interfaces = ( { device = \"d\"; ipv6 = \"2001:db8::1/129\"; } );\n"},
	{"ipv6_multicast", 3, "interfaces.[0].ipv6", "got \"ff02::1/64\" (multicast)",
	 "interfaces = (\n  { device = \"d\";\n    ipv6 = \"ff02::1/64\"; }\n);\n"},
	{"ipv6_unspecified", 1, "interfaces.[0].ipv6", "(the unspecified address)",
	 "interfaces = ( { device = \"d\"; ipv6 = \"::/0\"; } );\n"},
	{"gateway6_outside", 1, "interfaces.[0].gateway6",
	 "inside ipv6's prefix 2001:db8:5e::/64 or fe80::/10, got \"2001:db8:5f::1\" (outside "
	 "both)",
	 "interfaces = ( { device = \"d\"; ipv6 = \"2001:db8:5e::1/64\"; gateway6 = "
	 "\"2001:db8:5f::1\"; } );\n"},
	{"gateway6_multicast", 1, "interfaces.[0].gateway6", "(multicast)",
	 "interfaces = ( { device = \"d\"; ipv6 = \"2001:db8:5e::1/64\"; gateway6 = \"ff02::2\"; } "
	 ");\n"},
	{"gateway6_without_ipv6", 1, "interfaces.[0].gateway6", "got gateway6 alone",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/24\"; gateway6 = \"fe80::1\"; } "
	 ");\n"},
	{"rx_desc_not_pow2", 3, "dataplane.rx_desc", "expected a power of 2 in 64..16384, got 1000",
	 IFACE "dataplane: {\n  rx_desc = 1000;\n};\n"},
	{"tx_desc_too_small", 2, "dataplane.tx_desc", "got 32",
	 IFACE "dataplane: { tx_desc = 32; };\n"},
	{"ring_size_too_large", 2, "dataplane.ring_size",
	 "expected a power of 2 in 64..65536, got 131072",
	 IFACE "dataplane: { ring_size = 131072; };\n"},
	{"mbufs_too_small", 2, "dataplane.mbufs", "expected an integer 1024..1048575, got 100",
	 IFACE "dataplane: { mbufs = 100; };\n"},
	{"idle_sleep_negative", 2, "dataplane.idle_sleep_us", "got -1",
	 IFACE "dataplane: { idle_sleep_us = -1; };\n"},
	{"neigh_queue_zero", 2, "neighbours.queue", "expected an integer 1..64, got 0",
	 IFACE "neighbours: { queue = 0; };\n"},
	{"log_level_loud", 3, "log.level",
	 "expected one of \"error\", \"warning\", \"notice\", \"info\", \"debug\", got \"loud\"",
	 IFACE "log: {\n  level = \"loud\";\n};\n"},
	{"log_level_integer", 2, "log.level", "got an integer", IFACE "log: { level = 7; };\n"},
	{"names_non_string", 2, "sip.names.[1]", "got an integer",
	 "sip: {\n  names = ( \"edge.example.net\", 42 );\n};\n" IFACE},
	{"names_array_of_ints", 1, "sip.names.[0]", "got an integer",
	 "sip: { names = [ 1, 2 ]; };\n" IFACE},
	{"names_not_a_list", 1, "sip.names", "got a string",
	 "sip: { names = \"edge.example.net\"; };\n" IFACE},
	{"names_underscore", 1, "sip.names.[0]", "got \"edge_1.example.net\"",
	 "sip: { names = [ \"edge_1.example.net\" ]; };\n" IFACE},
	{"names_empty_label", 1, "sip.names.[0]", "got \"edge..example.net\"",
	 "sip: { names = [ \"edge..example.net\" ]; };\n" IFACE},
	{"names_leading_hyphen", 1, "sip.names.[0]", "got \"-edge.example.net\"",
	 "sip: { names = [ \"-edge.example.net\" ]; };\n" IFACE},
	{"names_trailing_dot", 1, "sip.names.[0]", "got \"edge.example.net.\"",
	 "sip: { names = [ \"edge.example.net.\" ]; };\n" IFACE},
	{"names_too_many", 1, "sip.names", "expected at most 8 names, got 9",
	 "sip: { names = [ \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\" ]; "
	 "};\n" IFACE},
	{"pbx_sources_string", 1, "pbx.sources", "expected a list of addresses or prefixes",
	 "pbx: { sources = \"192.0.2.1\"; };\n" IFACE},
	{"pbx_sources_host_bits", 2, "pbx.sources.[1]", "got \"10.1.2.3/16\" (host bits set",
	 "pbx: { sources = [ \"192.0.2.1\",\n \"10.1.2.3/16\" ]; };\n" IFACE},
	{"pbx_sources_v4_len", 1, "pbx.sources.[0]", "(prefix length not in 0..32)",
	 "pbx: { sources = [ \"10.0.0.0/33\" ]; };\n" IFACE},
	{"pbx_sources_v6_len", 1, "pbx.sources.[0]", "(prefix length not in 0..128)",
	 "pbx: { sources = [ \"2001:db8::/129\" ]; };\n" IFACE},
	{"pbx_sources_name", 1, "pbx.sources.[0]", "got \"pbx.example.net\"",
	 "pbx: { sources = [ \"pbx.example.net\" ]; };\n" IFACE},
	{"pbx_sources_int", 1, "pbx.sources.[0]", "got an integer",
	 "pbx: { sources = [ 1 ]; };\n" IFACE},
	{"pbx_unknown", 1, "pbx.source", "unknown key (known: sources, servers, timeout_ms",
	 "pbx: { source = [ \"192.0.2.1\" ]; };\n" IFACE},
	{"pbx_servers_name", 1, "pbx.servers.[0]",
	 "got \"pbx.example.net\" (not an IP address: names are not resolved)",
	 "pbx: { servers = [ \"pbx.example.net\" ]; };\n" IFACE},
	{"pbx_servers_port", 2, "pbx.servers.[1]", "(port not in 1..65535)",
	 "pbx: { servers = [ \"192.0.2.5\",\n \"[2001:db8::5]:70000\" ]; };\n" IFACE},
	{"pbx_servers_bracket", 1, "pbx.servers.[0]", "(missing ])",
	 "pbx: { servers = [ \"[2001:db8::5:5060\" ]; };\n" IFACE},
	{"store_relative", 1, "bindings.store", "expected an absolute file path",
	 "bindings: { store = \"bindings.db\"; };\n" IFACE},
	{"store_sync_bad", 1, "bindings.store_sync",
	 "expected \"normal\" or \"full\", got \"always\"",
	 "bindings: { store_sync = \"always\"; };\n" IFACE},
	{"max_devices_small", 1, "bindings.max_devices", "expected an integer 16..16777216, got 1",
	 "bindings: { max_devices = 1; };\n" IFACE},
	{"scanner_ua_empty", 1, "filter.scanner_user_agents.[0]", "got an empty string",
	 "filter: { scanner_user_agents = [ \"\" ]; };\n" IFACE},
	{"scanner_ua_not_list", 1, "filter.scanner_user_agents", "expected a list of strings",
	 "filter: { scanner_user_agents = \"sipvicious\"; };\n" IFACE},
	{"reply_403_int", 1, "filter.reply_403", "expected true or false, got an integer",
	 "filter: { reply_403 = 1; };\n" IFACE},
	{"unknown_rate_0", 1, "filter.unknown_rate", "expected an integer 1..1000000, got 0",
	 "filter: { unknown_rate = 0; };\n" IFACE},
	{"expected_rate_0", 1, "filter.expected_rate", "expected an integer 1..1000000, got 0",
	 "filter: { expected_rate = 0; };\n" IFACE},
	{"answer_burst_big", 1, "filter.answer_burst",
	 "expected an integer 1..100000000, got 200000000",
	 "filter: { answer_burst = 200000000; };\n" IFACE},
	{"rate_keys_small", 1, "filter.rate_keys", "expected an integer 256..16777216, got 255",
	 "filter: { rate_keys = 255; };\n" IFACE},
	{"rate_sources_small", 1, "filter.rate_sources",
	 "expected an integer 256..16777216, got 10", "filter: { rate_sources = 10; };\n" IFACE},
	{"vlan_0", 1, "interfaces.[0].vlan", "got 0 (leave the key out for untagged frames)",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/24\"; vlan = 0; } );\n"},
	{"vlan_string", 1, "interfaces.[0].vlan",
	 "expected an 802.1Q VLAN id 1..4094, got a string",
	 "interfaces = ( { device = \"d\"; ipv4 = \"198.18.0.1/24\"; vlan = \"7\"; } );\n"},
	{"reassembly_timeout_big", 1, "dataplane.reassembly_timeout_ms",
	 "expected an integer 100..60000, got 600000",
	 "dataplane: { reassembly_timeout_ms = 600000; };\n" IFACE},
	{"max_sources_small", 1, "bindings.max_sources", "expected an integer 16..16777216, got 1",
	 "bindings: { max_sources = 1; };\n" IFACE},
};

static void test_bad_config(void **state)
{
	const struct bad *b = *state;
	struct cp_config cfg;
	char err[512];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cp_config_load_string(b->text, &cfg, err, sizeof(err));
	expect_error(rc, -EINVAL, err, "<string>", b->line, b->path, b->needle);
}

static void test_too_many_interfaces(void **state)
{
	char text[2048], err[512];
	struct cp_config cfg;
	size_t n = 0;
	int i, rc;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\ninterfaces = (\n");
	for (i = 0; i <= CP_MAX_IFACES; i++)
		n += (size_t)snprintf(
			text + n, sizeof(text) - n,
			"  { device = \"net_af_packet%d\"; ipv4 = \"198.18.%d.1/24\"; }%s\n", i, i,
			i < CP_MAX_IFACES ? "," : "");
	snprintf(text + n, sizeof(text) - n, ");\n");
	rc = cp_config_load_string(text, &cfg, err, sizeof(err));
	expect_error(rc, -EINVAL, err, "<string>", 2, "interfaces",
		     "expected a list of 1..8 interface groups");
	assert_non_null(strstr(err, "got 9"));
}

/* ---- files and buffers -------------------------------------------------- */

static void test_missing_file(void **state)
{
	static const char path[] = "/nonexistent/sipwake-test.conf";
	struct cp_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(cp_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	print_message("    %s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, strerror(ENOENT)));
}

static void test_directory(void **state)
{
	struct cp_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(cp_config_load("/", &cfg, err, sizeof(err)), -EISDIR);
	print_message("    %s\n", err);
}

/*
 * Root reads a mode 000 file (CAP_DAC_OVERRIDE), and root is how the suite
 * runs: the loader runs in a child that drops to nobody first, so the case
 * the message is for happens and the tests after this one keep their
 * privileges. The child's exit status is the loader's errno (0: it read the
 * file), its message comes through a pipe.
 */
#define NOBODY 65534
enum { CHILD_NO_DROP = 200, CHILD_OTHER = 201 }; /* above any errno */

static void test_unreadable_file(void **state)
{
	char path[] = "/tmp/sipwake-test-XXXXXX", err[512] = "";
	size_t len = 0;
	int fd, pfd[2], status;
	ssize_t got;
	pid_t pid;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0), 0);
	close(fd);
	if (geteuid() != 0 && access(path, R_OK) == 0) {
		unlink(path);
		skip(); /* not root, yet a capability reads it: nothing to drop */
	}
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cp_config cfg;
		char msg[sizeof(err)] = "";
		int rc;

		close(pfd[0]);
		/* Groups first: after setuid() nothing else can be dropped. */
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)) {
			snprintf(msg, sizeof(msg), "%s", strerror(errno));
			rc = -CHILD_NO_DROP;
		} else {
			rc = cp_config_load(path, &cfg, msg, sizeof(msg));
		}
		if (write(pfd[1], msg, strlen(msg)) < 0)
			_exit(CHILD_OTHER);
		/* _exit: no atexit handlers or stdio buffers of the parent's. */
		_exit(rc == 0 ? 0 : rc < 0 && -rc <= CHILD_NO_DROP ? -rc : CHILD_OTHER);
	}
	close(pfd[1]);
	while (len < sizeof(err) - 1 && (got = read(pfd[0], err + len, sizeof(err) - 1 - len)) > 0)
		len += (size_t)got;
	err[len] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_NO_DROP)
		fail_msg("could not drop to uid/gid %d: %s", NOBODY, err);
	print_message("    %s\n", err);
	assert_int_equal(WEXITSTATUS(status), EACCES);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": cannot read: "));
}

/* Errors in a file name the file, as given, not "<string>". */
static void test_file_errors_name_file(void **state)
{
	static const char *const texts[] = {
		"sip: { port = 5060; };\nsip2: 5;\n" IFACE,
		"sip: { port = 5060; };\nlog: {\n  level = \"info\";\n",
	};
	char path[] = "/tmp/sipwake-test-XXXXXX", err[512];
	struct cp_config cfg;
	size_t i;
	FILE *f;
	int fd, rc;

	(void)state;
	for (i = 0; i < ARRAY_LEN(texts); i++) {
		strcpy(path, "/tmp/sipwake-test-XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		assert_non_null(f);
		fputs(texts[i], f);
		fclose(f);
		rc = cp_config_load(path, &cfg, err, sizeof(err));
		unlink(path);
		expect_error(rc, -EINVAL, err, path, i ? 4 : 2, i ? NULL : "sip2",
			     i ? "syntax error" : "unknown key");
	}
}

/* A short buffer truncates the message; a NULL one is allowed. */
static void test_small_err_buffer(void **state)
{
	struct cp_config cfg;
	char err[8];

	(void)state;
	assert_int_equal(cp_config_load_string("sip: { port = 0; };\n", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "<string");
	assert_int_equal(cp_config_load_string("sip: { port = 0; };\n", &cfg, NULL, 0), -EINVAL);
	assert_int_equal(cp_config_load_string("sip: {\n", &cfg, NULL, 0), -EINVAL);
	assert_int_equal(cp_config_load("/nonexistent", &cfg, NULL, 0), -ENOENT);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_pbx_servers),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_address_forms),
		cmocka_unit_test(test_max_interfaces),
		cmocka_unit_test(test_log_level_name),
		cmocka_unit_test(test_too_many_interfaces),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_file_errors_name_file),
		cmocka_unit_test(test_small_err_buffer),
	};
	size_t n = ARRAY_LEN(fixed) + ARRAY_LEN(bad_configs), i;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int failed;

	example_path = argc > 1 ? argv[1] : getenv("SIPWAKE_EXAMPLE_CONF");
	if (!example_path)
		example_path = "config/sipwake.conf";
	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	/* One named test per bad config, so a failure says which one. */
	for (i = 0; i < ARRAY_LEN(bad_configs); i++)
		tests[ARRAY_LEN(fixed) + i] = (struct CMUnitTest){
			.name = bad_configs[i].name,
			.test_func = test_bad_config,
			.initial_state = (void *)&bad_configs[i],
		};
	failed = _cmocka_run_group_tests("config", tests, n, NULL, NULL);
	free(tests);
	return failed;
}
