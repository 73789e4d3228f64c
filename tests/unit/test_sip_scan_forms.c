/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The zero-copy SIP scanner (sip/sip_scan.h) on the forms a field takes:
 * Via (several values, several fields, IPv6 sent-by, rport, received),
 * the Request-URI (IPv6 host, user part, schemes, ports) and name-addr
 * (display names, tags, addr-spec), each with its near misses. Inputs are
 * exactly sized heap copies, as in test_sip_scan.c.
 */
#include "sip_test_util.h"
#include "sip_scan_test.h"

void test_via_several_values_in_one_field(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;

	assert_edit(s, MINI, "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
		    "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b", SIP_SCAN_OK);
	assert_slice(s, m->via.value, "SIP/2.0/UDP a;branch=z9hG4bK1");
	assert_slice(s, m->via.host, "a");
	assert_slice(s, m->via.branch, "z9hG4bK1");
	assert_slice(s, m->hdrs[0].value, "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b");

	assert_edit(s, MINI, "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
		    "Via: SIP/2.0/UDP a:5070 , SIP/2.0/TCP b;branch=z9hG4bK2", SIP_SCAN_OK);
	assert_slice(s, m->via.value, "SIP/2.0/UDP a:5070");
	assert_int_equal(m->via.port, 5070);
	assert_int_equal(m->via.branch.len, 0);
}

void test_via_multiple_fields(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;

	assert_edit(s, MINI, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
		    "Via: SIP/2.0/UDP top.example;branch=z9hG4bKtop\r\n"
		    "v: SIP/2.0/TCP second.example;branch=z9hG4bK2\r\n"
		    "Via: SIP/2.0/UDP third.example;branch=z9hG4bK3\r\n",
		    SIP_SCAN_OK);
	assert_slice(s, m->via.host, "top.example");
	assert_slice(s, m->via.branch, "z9hG4bKtop");
	assert_int_equal(m->hdrs[1].id, SIP_H_VIA);
	assert_int_equal(m->hdrs[2].id, SIP_H_VIA);
	assert_slice(s, m->hdrs[2].value, "SIP/2.0/UDP third.example;branch=z9hG4bK3");
	/* Only the top Via is parsed: a lower hop's Via is forwarded, not judged. */
	assert_edit(s, MINI, "Call-ID", "Via: whatever\r\nCall-ID", SIP_SCAN_OK);
	assert_edit(s, MINI, "Via: SIP", "Via: whatever\r\nVia: SIP", SIP_ERR_BAD_VIA);
}

void test_via_ipv6_sent_by(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const struct edit bad[] = {
		{"UDP h;", "UDP [2001:db8::1;", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [2001:db8:::1];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1:2:3:4:5:6:7:8:9];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1:2:3:4:5:6:7];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [12345::1];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1::2::3];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::1:];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::ffff:1.2.3.256];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::ffff:1.2.3];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::ffff:1.2.3.4.5];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [:1];", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::1]:0;", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::1]:65536;", SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1:2:3:4:5:6:7:8];", SIP_SCAN_OK},
		{"UDP h;", "UDP [1:2:3:4:5:6::8];", SIP_SCAN_OK},
		{"UDP h;", "UDP [1::];", SIP_SCAN_OK},
		{"UDP h;", "UDP [::];", SIP_SCAN_OK},
	};

	assert_edit(s, MINI, "UDP h;branch", "UDP [2001:db8::1]:5062;received=[2001:db8::9];branch",
		    SIP_SCAN_OK);
	assert_slice(s, m->via.host, "2001:db8::1");
	assert_int_equal(m->via.host_is_ipv6, 1);
	assert_int_equal(m->via.port, 5062);
	assert_slice(s, m->via.received, "[2001:db8::9]");
	assert_edit(s, MINI, "UDP h;", "UDP [::ffff:192.0.2.1];", SIP_SCAN_OK);
	assert_slice(s, m->via.host, "::ffff:192.0.2.1");
	assert_int_equal(m->via.port, 0);
	assert_edits(s, MINI, bad);
}

void test_ruri_ipv6_host(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;

	assert_edit(s, MINI, "sip:x@h SIP", "sip:bob@[2001:db8::7]:5080;transport=udp SIP",
		    SIP_SCAN_OK);
	assert_slice(s, m->ruri.user, "bob");
	assert_slice(s, m->ruri.host, "2001:db8::7");
	assert_int_equal(m->ruri.host_is_ipv6, 1);
	assert_int_equal(m->ruri.port, 5080);
	assert_slice(s, m->ruri.params, "transport=udp");
	assert_edit(s, MINI, "sip:x@h SIP", "sip:[::1] SIP", SIP_SCAN_OK);
	assert_slice(s, m->ruri.host, "::1");
	assert_int_equal(m->ruri.user.len, 0);
	assert_edit(s, MINI, "sip:x@h SIP", "sip:[::1 SIP", SIP_ERR_BAD_URI);
	assert_edit(s, MINI, "sip:x@h SIP", "sip:[fe80::1%eth0] SIP", SIP_ERR_BAD_URI);
}

void test_via_rport_variants(void **state)
{
	struct sc *s = *state;
	static const struct edit bad[] = {
		{"z9hG4bK1", "z9hG4bK1;rport=", SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport=0", SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport=65536", SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport=x", SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport;rport=5", SIP_ERR_BAD_VIA},
	};

	assert_verdict(scan(s, MINI), SIP_SCAN_OK);
	assert_int_equal(s->msg.via.rport, -1);
	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;rport", SIP_SCAN_OK);
	assert_int_equal(s->msg.via.rport, 0);
	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;rport=40123", SIP_SCAN_OK);
	assert_int_equal(s->msg.via.rport, 40123);
	assert_edit(s, MINI, ";branch", ";RPort = 65535;branch", SIP_SCAN_OK);
	assert_int_equal(s->msg.via.rport, 65535);
	assert_edits(s, MINI, bad);
}

void test_via_received(void **state)
{
	struct sc *s = *state;
	static const struct edit bad[] = {
		{"z9hG4bK1", "z9hG4bK1;received=", SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;received", SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;received=1.2.3.4;received=5.6.7.8", SIP_ERR_BAD_VIA},
	};

	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;received=203.0.113.9;rport=1024", SIP_SCAN_OK);
	assert_slice(s, s->msg.via.received, "203.0.113.9");
	assert_int_equal(s->msg.via.rport, 1024);
	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;received=\"q,;\";x", SIP_SCAN_OK);
	assert_slice(s, s->msg.via.received, "\"q,;\"");
	assert_edits(s, MINI, bad);
}

void test_uri_forms(void **state)
{
	struct sc *s = *state;
	const struct sip_uri *u = &s->msg.ruri;

	/* user-unreserved ";" "?" "=" in the user part: the "@" still splits (§19.1.1). */
	assert_edit(s, MINI, "sip:x@h",
		    "sip:+12125551212;npdi;rn=+1212?x@gw.example:5061;user=phone", SIP_SCAN_OK);
	assert_slice(s, u->user, "+12125551212;npdi;rn=+1212?x");
	assert_slice(s, u->host, "gw.example");
	assert_int_equal(u->port, 5061);
	assert_slice(s, u->params, "user=phone");
	/* §19.1.1 Table 1: no headers in a Request-URI, not even an empty "?". */
	assert_edit(s, MINI, "sip:x@h", "sip:x@h;user=phone?Subject=hi", SIP_ERR_BAD_URI);
	assert_edit(s, MINI, "sip:x@h", "sip:x@h?", SIP_ERR_BAD_URI);

	assert_edit(s, MINI, "sip:x@h", "SIPS:alice:secr%65t@atlanta.com;transport=tls;lr",
		    SIP_SCAN_OK);
	assert_int_equal(u->scheme, SIP_SCHEME_SIPS);
	assert_slice(s, u->user, "alice:secr%65t");
	assert_slice(s, u->host, "atlanta.com");
	assert_slice(s, u->params, "transport=tls;lr");

	assert_edit(s, MINI, "sip:x@h", "sip:h;maddr=239.255.255.1;ttl=15", SIP_SCAN_OK);
	assert_int_equal(u->user.len, 0);
	assert_slice(s, u->host, "h");
	assert_slice(s, u->params, "maddr=239.255.255.1;ttl=15");

	assert_edit(s, MINI, "sip:x@h", "tel:+1-201-555-0123;phone-context=example.com",
		    SIP_SCAN_OK);
	assert_int_equal(u->scheme, SIP_SCHEME_TEL);
	assert_slice(s, u->user, "+1-201-555-0123");
	assert_slice(s, u->params, "phone-context=example.com");
	assert_int_equal(u->host.len, 0);

	assert_edit(s, MINI, "sip:x@h", "urn:service:sos", SIP_SCAN_OK);
	assert_int_equal(u->scheme, SIP_SCHEME_OTHER);
	assert_slice(s, u->whole, "urn:service:sos");

	assert_edit(s, MINI, "sip:x@h", "sip:x@h:65535", SIP_SCAN_OK);
	assert_int_equal(u->port, 65535);
}

void test_nameaddr_forms(void **state)
{
	struct sc *s = *state;
	const struct sip_nameaddr *f = &s->msg.from;
	static const char from[] = "From: <sip:a@h>;tag=1";
	static const struct edit bad[] = {
		{from, "From: <sip:a@h", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag=1;tag=2", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag=", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag=\"q\"", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>, <sip:b@h>", SIP_ERR_BAD_NAMEADDR},
		{from, "From: \"open <sip:a@h>", SIP_ERR_BAD_NAMEADDR},
		{from, "From: \"A\" sip:a@h", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <>", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:@h>", SIP_ERR_BAD_NAMEADDR},
		{from, "From: sip:a@h?x=y", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h> junk", SIP_ERR_BAD_NAMEADDR},
		{from, "From: A B", SIP_ERR_BAD_NAMEADDR},
		{from, "From:", SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;;tag=1", SIP_ERR_BAD_NAMEADDR},
		{"To: <sip:b@h>", "To: <sip:b@h:0>", SIP_ERR_BAD_NAMEADDR},
	};

	assert_edit(s, MINI, from,
		    "From: \"A \\\"q\\\" <x>;\" <sip:a@h;transport=udp>;tag=88;x=\"y\"",
		    SIP_SCAN_OK);
	assert_slice(s, f->uri.whole, "sip:a@h;transport=udp");
	assert_slice(s, f->uri.params, "transport=udp");
	assert_slice(s, f->tag, "88");

	assert_edit(s, MINI, from, "f: J\xc3\xb6rg Smith <sip:a@h> ; tag = 7", SIP_SCAN_OK);
	assert_slice(s, f->uri.user, "a");
	assert_slice(s, f->tag, "7");

	/* addr-spec: ";tag" belongs to the header, not to the URI (§20.10). */
	assert_edit(s, MINI, from, "From: sip:a@h:5060;tag=99;lr", SIP_SCAN_OK);
	assert_slice(s, f->uri.whole, "sip:a@h:5060");
	assert_int_equal(f->uri.params.len, 0);
	assert_slice(s, f->tag, "99");

	assert_edit(s, MINI, "To: <sip:b@h>", "To: tel:+123", SIP_SCAN_OK);
	assert_int_equal(s->msg.to.uri.scheme, SIP_SCHEME_TEL);
	assert_int_equal(s->msg.to.tag.len, 0);
	assert_edits(s, MINI, bad);
}
