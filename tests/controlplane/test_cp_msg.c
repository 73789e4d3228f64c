/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A contact as the control plane's own requests address it
 * (controlplane/output/cp_msg.c, the pings' Request-URI): its push
 * parameters out (RFC 8599 §4.1.2), everything else as registered.
 */
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
		cmocka_unit_test(too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
