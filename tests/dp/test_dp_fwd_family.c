/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A call that changes family on its way through the workers (RFC 5658
 * §3.1): the IPv4 PBX calls gina, bound over IPv6. The INVITE leaves with
 * two Record-Routes, ours facing gina on top (her route set starts there),
 * ours facing the PBX below (its route set, the list reversed, starts
 * there); the dialog's next requests bring both back as Routes and lose
 * both, from either side. Within one family, one Record-Route as before.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/dp/fwd_harness.h"

#define SW6 DPH_SW_IP6

static const char gina_invite4[] = "INVITE sip:gina@example.com SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-gf4\r\n"
				   "From: <sip:1002@example.com>;tag=fg\r\n"
				   "To: <sip:gina@example.com>\r\n"
				   "Contact: <sip:pbx@198.18.0.5:5060>\r\n"
				   "Call-ID: cg-family\r\n"
				   "CSeq: 1 INVITE\r\n"
				   "Max-Forwards: 70\r\n"
				   "Content-Length: 0\r\n\r\n";

/* Our two Record-Routes, gina's side first, as the INVITE to her has them. */
static void expect_two_rr(const char *msg, uint64_t *id)
{
	char want[256];
	const char *rr = strstr(msg, "Record-Route: <sip:[" SW6 "]:5060;swd=");

	assert_non_null(rr);
	*id = strtoull(rr + strlen("Record-Route: <sip:[" SW6 "]:5060;swd="), NULL, 16);
	assert_non_null(sw_bind_by_id(h.ctx->bind, *id));
	snprintf(want, sizeof(want),
		 "Record-Route: <sip:[" SW6 "]:5060;swd=%016" PRIx64 ";lr>\r\n"
		 "Record-Route: <sip:" SW ":5060;swd=%016" PRIx64 ";lr>\r\n"
		 "From: ",
		 *id, *id);
	/* Right after the Vias, and no other anywhere. */
	if (strstr(msg, want) != rr)
		print_error("got:\n%s\nwant:\n%s\n", msg, want);
	assert_ptr_equal(strstr(msg, want), rr);
	assert_null(strstr(strstr(rr, "From: "), "Record-Route:"));
	assert_ptr_equal(strstr(msg, "Record-Route:"), rr);
}

static void test_v4_pbx_calls_a_v6_device(void **state)
{
	uint64_t id;
	char bye[1024];
	struct out o;

	(void)state;
	feed_str(PBX, 5060, gina_invite4);
	take(&o);
	assert_true(o.v6);
	expect_to(&o, GINA6, 5078);
	assert_non_null(strstr(o.msg, "Via: SIP/2.0/UDP [" SW6 "]:5060;branch=z9hG4bK-swS"));
	expect_two_rr(o.msg, &id);
	free(o.msg);

	/* The PBX's BYE along its route set: ours facing it first, then the
	 * other; both ours, both gone, and gina gets it over IPv6. */
	snprintf(bye, sizeof(bye),
		 "BYE sip:gina@[2001:db8:5e::7]:5078 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-gfbye\r\n"
		 "Route: <sip:" SW ":5060;swd=%016" PRIx64 ";lr>, <sip:[" SW6
		 "]:5060;swd=%016" PRIx64 ";lr>\r\n"
		 "From: <sip:1002@example.com>;tag=fg\r\n"
		 "To: <sip:gina@example.com>;tag=g1\r\n"
		 "Call-ID: cg-family\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
		 id, id);
	feed_str(PBX, 5060, bye);
	take(&o);
	assert_true(o.v6);
	expect_to(&o, GINA6, 5078);
	assert_null(strstr(o.msg, "Route:"));
	free(o.msg);

	/* gina hangs up instead: her route set is the list as it came, in two
	 * Route fields this time; both ours, the BYE goes to the PBX over IPv4
	 * (her Request-URI, the PBX's Contact). */
	snprintf(bye, sizeof(bye),
		 "BYE sip:pbx@198.18.0.5:5060 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP [2001:db8:5e::7]:5078;branch=z9hG4bK-gfbye2;rport\r\n"
		 "Route: <sip:[" SW6 "]:5060;swd=%016" PRIx64 ";lr>\r\n"
		 "Route: <sip:" SW ":5060;swd=%016" PRIx64 ";lr>\r\n"
		 "From: <sip:gina@example.com>;tag=g1\r\n"
		 "To: <sip:1002@example.com>;tag=fg\r\n"
		 "Call-ID: cg-family\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
		 id, id);
	feed_str(GINA6, 5078, bye);
	take(&o);
	assert_false(o.v6);
	expect_to(&o, PBX, 5060);
	assert_null(strstr(o.msg, "Route:"));
	assert_non_null(strstr(o.msg, "Via: SIP/2.0/UDP " SW ":5060;branch=z9hG4bK-swS"));
	free(o.msg);
	nothing_else();
}

/* A Route after our two that is not ours stays, and is where a device's
 * request goes (here the PBX, named by it). */
static void test_two_ours_then_the_pbx(void **state)
{
	char bye[1024];
	struct out o;

	(void)state;
	snprintf(bye, sizeof(bye),
		 "BYE sip:someone@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP [2001:db8:5e::7]:5078;branch=z9hG4bK-gfbye3;rport\r\n"
		 "Route: <sip:[" SW6 "]:5060;lr>, <sip:" SW ":5060;lr>, <sip:" PBX ":5060;lr>\r\n"
		 "From: <sip:gina@example.com>;tag=g1\r\n"
		 "To: <sip:1002@example.com>;tag=fg\r\n"
		 "Call-ID: cg-family-3\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
	feed_str(GINA6, 5078, bye);
	take(&o);
	expect_to(&o, PBX, 5060);
	assert_non_null(strstr(o.msg, "\r\nRoute: <sip:" PBX ":5060;lr>\r\n"));
	assert_null(strstr(o.msg, SW6 "]:5060;lr"));
	free(o.msg);
	nothing_else();
}

/* The same family both ways: one Record-Route, as ever. */
static void test_v6_pbx_one_record_route(void **state)
{
	static const char inv6[] = "INVITE sip:gina@example.com SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP [2001:db8:5e::5]:5060;branch=z9hG4bK-gf6\r\n"
				   "From: <sip:1002@example.com>;tag=fg\r\n"
				   "To: <sip:gina@example.com>\r\n"
				   "Call-ID: cg-family-6\r\n"
				   "CSeq: 1 INVITE\r\n"
				   "Max-Forwards: 70\r\n"
				   "Content-Length: 0\r\n\r\n";
	struct out o;
	const char *rr;

	(void)state;
	feed_str(DPH_PBX_IP6, 5060, inv6);
	take(&o);
	expect_to(&o, GINA6, 5078);
	rr = strstr(o.msg, "Record-Route: <sip:[" SW6 "]:5060;swd=");
	assert_non_null(rr);
	assert_null(strstr(rr + 1, "Record-Route:"));
	free(o.msg);
	nothing_else();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_pbx_calls_a_v6_device),
		cmocka_unit_test(test_two_ours_then_the_pbx),
		cmocka_unit_test(test_v6_pbx_one_record_route),
	};

	return cmocka_run_group_tests(tests, fwd_setup, fwd_teardown);
}
