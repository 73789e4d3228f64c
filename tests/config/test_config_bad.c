/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_config's refusals: each bad config fails with -EINVAL and a one-line
 * message naming its line and key path (main() in test_config.c makes one
 * named test of each row), and a list of interfaces one too long.
 */
#include <errno.h>

#include "tests/config/config_test.h"

const struct bad bad_configs[] = {
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
	 "streams, cluster, log, push)",
	 IFACE "sipp: { port = 5060; };\n"},
	{"cluster_not_group", 2, "cluster", "expected a group like cluster = { edge",
	 IFACE "cluster = \"10.0.0.1:6379\";\n"},
	{"cluster_no_edge", 2, "cluster", "expected edge = \"<this edge's name",
	 IFACE "cluster: { redis = \"10.0.0.1:6379\"; };\n"},
	{"cluster_no_redis", 2, "cluster", "expected redis = \"host:port\" or sentinels",
	 IFACE "cluster: { edge = \"e1\"; };\n"},
	{"cluster_both", 2, "cluster", "expected redis or sentinels, got both",
	 IFACE
	 "cluster: { edge = \"e1\"; redis = \"10.0.0.1\"; sentinels = [ \"10.0.0.2\" ]; };\n"},
	{"cluster_edge_space", 2, "cluster.edge", "got \"edge 1\"",
	 IFACE "cluster: { edge = \"edge 1\"; redis = \"10.0.0.1:6379\"; };\n"},
	{"cluster_redis_port", 2, "cluster.redis", "got \"10.0.0.1:0\" (port not in 1..65535)",
	 IFACE "cluster: { edge = \"e1\"; redis = \"10.0.0.1:0\"; };\n"},
	{"cluster_redis_bracket", 2, "cluster.redis", "(a bracketed IPv6 address looks like",
	 IFACE "cluster: { edge = \"e1\"; redis = \"[2001:db8::1\"; };\n"},
	{"cluster_sentinel_bad", 2, "cluster.sentinels.[1]",
	 "expected a Sentinel address like \"10.0.0.1:26379\", got \"a b\" (not a host name",
	 IFACE "cluster: { edge = \"e1\"; sentinels = [ \"10.0.0.1\", \"a b\" ]; };\n"},
	{"cluster_prefix_chars", 2, "cluster.prefix", "got \"sw*\"",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; prefix = \"sw*\"; };\n"},
	{"cluster_timeout_zero", 2, "cluster.timeout_ms", "expected an integer 10..60000, got 0",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; timeout_ms = 0; };\n"},
	{"cluster_peer_self", 2, "cluster", "expected peers other than this edge, got peers.[0]",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; peers = ( { edge = \"e1\"; address = "
	       "\"10.0.0.9\"; } ); };\n"},
	{"cluster_peer_twice", 2, "cluster", "expected each peer once, got peers.[0] and peers.[1]",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; peers = ( { edge = \"e2\"; address = "
	       "\"10.0.0.9\"; }, { edge = \"e3\"; address = \"10.0.0.9\"; } ); };\n"},
	{"cluster_peer_no_address", 2, "cluster.peers.[0]",
	 "expected edge and address, got address missing",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; peers = ( { edge = \"e2\"; } ); };\n"},
	{"cluster_peer_name", 2, "cluster.peers.[0].address",
	 "got \"edge2.example\" (not an IP address: names are not resolved)",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; peers = ( { edge = \"e2\"; address = "
	       "\"edge2.example\"; } ); };\n"},
	{"cluster_peer_key", 2, "cluster.peers.[0].port", "unknown key (known: edge, address)",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; peers = ( { edge = \"e2\"; port = 5060; } "
	       "); };\n"},
	{"cluster_path_unknown", 2, "cluster", "expected path to be one of sip.names",
	 IFACE "cluster: { edge = \"e1\"; redis = \"r\"; path = \"edges.example\"; };\n"},
	{"cluster_unknown_key", 2, "cluster.redis_host", "unknown key",
	 IFACE "cluster: { edge = \"e1\"; redis_host = \"r\"; };\n"},
	{"streams_port_zero", 2, "streams.ports.[1]", "expected a TCP port 1..65535, got 0",
	 IFACE "streams: { ports = [ 5060, 0 ]; };\n"},
	{"streams_port_twice", 2, "streams.ports.[1]", "expected each port once, got 5060 again",
	 IFACE "streams: { ports = [ 5060, 5060 ]; };\n"},
	{"streams_ports_not_list", 2, "streams.ports",
	 "expected a list of TCP ports like [ 5060, 5061 ], got an integer",
	 IFACE "streams: { ports = 5060; };\n"},
	{"streams_syn_rate_zero", 2, "streams.syn_rate", "expected an integer 1..1000000, got 0",
	 IFACE "streams: { syn_rate = 0; };\n"},
	{"streams_tls_no_cert", 2, "streams.tls.cert",
	 "expected a PEM file path (TLS needs a certificate and its key), got nothing",
	 IFACE "streams: { tls = { port = 5061; key = \"/etc/k.pem\"; }; };\n"},
	{"streams_tls_cert_relative", 2, "streams.tls.cert",
	 "expected an absolute path of a PEM file",
	 IFACE "streams: { tls = { port = 5061; cert = \"c.pem\"; key = \"/etc/k.pem\"; }; };\n"},
	{"streams_tcp_cert", 2, "streams.tcp.cert",
	 "expected no cert here (only tls and wss take certificates)",
	 IFACE "streams: { tcp = { port = 5060; cert = \"/etc/c.pem\"; }; };\n"},
	{"streams_tcp_port_zero", 2, "streams.tcp.port", "expected a TCP port 1..65535, got 0",
	 IFACE "streams: { tcp = { port = 0; }; };\n"},
	{"streams_ws_no_port", 2, "streams.ws.port", "got nothing (key missing)",
	 IFACE "streams: { ws = { path = \"/sip\"; }; };\n"},
	{"streams_ws_path_query", 2, "streams.ws.path", "expected an HTTP path",
	 IFACE "streams: { ws = { port = 8080; path = \"/sip?x=1\"; }; };\n"},
	{"streams_tcp_path", 2, "streams.tcp.path", "expected no path here",
	 IFACE "streams: { tcp = { port = 5060; path = \"/\"; }; };\n"},
	{"streams_same_port", 2, "streams.wss.port",
	 "expected a port no other listener uses, got 5060 (streams.tcp)",
	 IFACE "streams: { tcp = { port = 5060; }; wss = { port = 5060; cert = \"/c\"; key = "
	       "\"/k\"; }; };\n"},
	{"streams_listener_not_group", 2, "streams.tls",
	 "expected a group like tls = { port = 5061;", IFACE "streams: { tls = 5061; };\n"},
	{"streams_listener_unknown_key", 2, "streams.tcp.ca", "expected no ca here",
	 IFACE "streams: { tcp = { port = 5060; ca = \"/c\"; }; };\n"},
	{"streams_max_message_64k", 2, "streams.max_message",
	 "expected an integer 1024..65535, got 65536",
	 IFACE "streams: { max_message = 65536; };\n"},
	{"streams_msg_rate_zero", 2, "streams.msg_rate", "expected an integer 1..1000000, got 0",
	 IFACE "streams: { msg_rate = 0; };\n"},
	{"wake_device_timeout_max_under_min", 2, "wake.device_timeout_max_s",
	 "expected at least wake.device_timeout_min_s (30), got 10",
	 IFACE "wake: { device_timeout_min_s = 30; device_timeout_max_s = 10; };\n"},
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

const size_t n_bad_configs = ARRAY_LEN(bad_configs);

void test_bad_config(void **state)
{
	const struct bad *b = *state;
	struct cp_config cfg;
	char err[512];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cp_config_load_string(b->text, &cfg, err, sizeof(err));
	expect_error(rc, -EINVAL, err, "<string>", b->line, b->path, b->needle);
}

void test_too_many_interfaces(void **state)
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
