/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A contact as the control plane's own requests address it
 * (controlplane/output/cp_msg.c, the pings' Request-URI): its push
 * parameters out (RFC 8599 §4.1.2), everything else as registered. And
 * received= as the control plane stamps it on an app's Via: an IPv6 source
 * without brackets (RFC 3261 §25.1), as the workers write it.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controlplane/output/cp_msg.h"

static void uri(const char *in, const char *want)
{
	char out[512];
	int n = cp_uri_without_pn(in, strlen(in), out, sizeof(out));

	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
}

static void strips_rfc8599_keeps_user(void **state)
{
	(void)state;
	uri("sip:alice@198.18.0.2:5070;pn-provider=apns;pn-prid=00fc;pn-param=T.b.voip",
	    "sip:alice@198.18.0.2:5070");
	uri("sip:alice@h;transport=udp;PN-PRID=x;ob", "sip:alice@h;transport=udp;ob");
	uri("sip:alice@h", "sip:alice@h");
	uri("sip:h:5060", "sip:h:5060");
}

static void strips_legacy_keeps_app_id_alone(void **state)
{
	(void)state;
	uri("sip:a@h;pn-type=apple;app-id=com.x;pn-tok=ab;x=1", "sip:a@h;x=1");
	uri("sip:a@h;app-id=com.x;pn-type=apple;x=1", "sip:a@h;x=1");
	/* app-id without pn-type is the app's own parameter, kept in its place */
	uri("sip:a@h;app-id=com.x;x=1", "sip:a@h;app-id=com.x;x=1");
	uri("sip:a@h;x=1;app-id=com.x;pn-type=apple;y=2", "sip:a@h;x=1;y=2");
}

static void headers_part_kept(void **state)
{
	(void)state;
	uri("sip:a@h;pn-prid=1?subject=x;pn-prid=2", "sip:a@h?subject=x;pn-prid=2");
}

/* A REGISTER from an app over IPv6, its Via in brackets, rport asked. */
static const char REG6[] = "REGISTER sip:example.com SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP [2001:db8:5e::2]:20001;branch=z9hG4bK-r1;rport\r\n"
			   "Max-Forwards: 70\r\n"
			   "From: <sip:a@example.com>;tag=1\r\n"
			   "To: <sip:a@example.com>\r\n"
			   "Call-ID: r1@app\r\n"
			   "CSeq: 1 REGISTER\r\n"
			   "Content-Length: 0\r\n\r\n";

static void received_v6_without_brackets(void **state)
{
	static const char via[] = "Via: SIP/2.0/UDP [2001:db8:5e::2]:20001;branch=z9hG4bK-r1"
				  ";rport=20001;received=2001:db8:5e::2\r\n";
	static struct cp_msg o;
	struct sip_msg sm;
	struct sw_ip src;
	const struct cp_answer_how how = {.stamp = &src, .stamp_port = 20001, .tag = 1};

	(void)state;
	assert_int_equal(sip_scan((const uint8_t *)REG6, sizeof(REG6) - 1, &sm), SIP_SCAN_OK);
	assert_int_equal(sw_ip_parse("2001:db8:5e::2", 14, &src), 0);
	assert_int_equal(cp_answer_into((const uint8_t *)REG6, &sm, 403, &how, &o), 0);
	assert_non_null(memmem(o.b, o.len, via, sizeof(via) - 1));

	o.len = 0;
	o.overflow = false;
	cp_msg_received(&o, &src);
	assert_int_equal(o.len, strlen(";received=2001:db8:5e::2"));
	assert_memory_equal(o.b, ";received=2001:db8:5e::2", o.len);
}

static void too_small(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(cp_uri_without_pn("sip:alice@host", 14, out, sizeof(out)), -E2BIG);
	assert_int_equal(cp_uri_without_pn("sip:a@h;x=123456", 16, out, sizeof(out)), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strips_rfc8599_keeps_user),
		cmocka_unit_test(strips_legacy_keeps_app_id_alone),
		cmocka_unit_test(headers_part_kept),
		cmocka_unit_test(received_v6_without_brackets),
		cmocka_unit_test(too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
