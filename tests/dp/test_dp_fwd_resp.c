/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding on the worker (dataplane/dp_fwd.c), responses: a
 * device's answer to a request we forwarded goes to the PBX with our Via
 * taken off (to received / rport, else the sent-by); one on a control-plane
 * branch is handed up; one that is not ours, has nowhere to go or would be
 * reflected to someone other than the PBX is dropped and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <rte_mbuf.h>

#include "tests/dp/fwd_harness.h"
#include "tests/dp/sip_msgs.h"
#include "tests/dp/dp_fwd_test.h"

/* The line of @p msg that starts with @p prefix, CRLF included (static buffer). */
static const char *line_of(const char *msg, const char *prefix)
{
	static char buf[512];
	const char *p = strstr(msg, prefix), *e;

	assert_non_null(p);
	e = strstr(p, "\r\n");
	assert_true(e - p + 2 < (long)sizeof(buf));
	memcpy(buf, p, (size_t)(e - p + 2));
	buf[e - p + 2] = '\0';
	return buf;
}

#define RESP_REST                                                                      \
	"Record-Route: <sip:198.18.0.1:5060;lr>\r\n"                                   \
	"From: <sip:1002@example.com>;tag=fp\r\n"                                      \
	"To: <sip:alice@example.com>;tag=dev1\r\n"                                     \
	"Call-ID: r-1\r\n"                                                             \
	"CSeq: 1 INVITE\r\n"                                                           \
	"Contact: <sip:alice@198.18.0.2:5078;pn-provider=apns;pn-prid=6b1f0a4e2d>\r\n" \
	"Content-Length: 0\r\n\r\n"

void test_response_to_pbx(void **state)
{
	uint64_t fwd = dph_count(&h, DP_C_FWD_RESPONSES);
	char ours[512], pbx[512], resp[2048], want[2048];
	struct out o;

	(void)state;
	/* The INVITE as it went to alice: its two Via lines, ours on top. */
	feed_str(PBX, 5060, MSG_INVITE);
	take(&o);
	snprintf(ours, sizeof(ours), "%s", line_of(o.msg, OUR_VIA));
	snprintf(pbx, sizeof(pbx), "%s", line_of(o.msg, "Via: SIP/2.0/UDP 198.18.0.5"));
	free(o.msg);

	/* Each Via on its own line: our line goes whole; to received:rport. */
	snprintf(resp, sizeof(resp), "SIP/2.0 200 OK\r\n%s%s" RESP_REST, ours, pbx);
	snprintf(want, sizeof(want), "SIP/2.0 200 OK\r\n%s" RESP_REST, pbx);
	feed_str(ALICE, 5078, resp);
	take(&o);
	expect_to(&o, PBX, 5060);
	assert_string_equal(o.msg, want);
	free(o.msg);

	/* One Via line with both values: only ours goes; rport= says where. */
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 180 Ringing\r\n%.*s , SIP/2.0/UDP 198.18.0.5:5062;rport=5062;"
		 "branch=z9hG4bK-r2;received=198.18.0.5\r\n" RESP_REST,
		 (int)strlen(ours) - 2, ours);
	feed_str(ALICE, 5078, resp);
	take(&o);
	expect_to(&o, PBX, 5062);
	assert_string_equal(o.msg,
			    "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 198.18.0.5:5062;"
			    "rport=5062;branch=z9hG4bK-r2;received=198.18.0.5\r\n" RESP_REST);
	free(o.msg);
	assert_int_equal(dph_count(&h, DP_C_FWD_RESPONSES), fwd + 2);

	/* No received, no rport: the sent-by, port absent = 5060. */
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\n%sVia: SIP/2.0/UDP 198.18.0.5;branch=x\r\n" RESP_REST, ours);
	feed_str(ALICE, 5078, resp);
	take(&o);
	expect_to(&o, PBX, 5060);
	free(o.msg);
	nothing_else();
}

void test_responses_not_forwarded(void **state)
{
	uint64_t not_ours = dph_drop(&h, DP_D_FWD_RESPONSE_NOT_OURS);
	uint64_t bad_via = dph_drop(&h, DP_D_FWD_BAD_VIA);
	uint64_t relay = dph_drop(&h, DP_D_FWD_NOT_PBX_ROUTE);
	struct rte_mbuf *m;

	(void)state;
	/* A control-plane branch: handed up. */
	feed_str(ALICE, 5078,
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swC0123\r\n"
		 "Via: SIP/2.0/UDP 198.18.0.5;branch=z9hG4bK-x\r\n" RESP_REST);
	m = dph_up(&h);
	assert_non_null(m);
	assert_int_equal(DP_META(m)->src_class, DP_SRC_BOUND);
	assert_false(DP_META(m)->sip.is_request);
	rte_pktmbuf_free(m);

	/* Not ours: a foreign sent-by, our address on another port, an unknown
	 * kind of our branch, no cookie at all. */
	feed_str(ALICE, 5078,
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP "
		 "198.18.0.7;branch=z9hG4bK-swS0123\r\n" RESP_REST);
	feed_str(ALICE, 5078,
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bK-swS0123\r\n"
		 "Via: SIP/2.0/UDP 198.18.0.5;branch=z9hG4bK-x\r\n" RESP_REST);
	feed_str(PBX, 5060,
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK-swX0123\r\n"
		 "Via: SIP/2.0/UDP 198.18.0.5;branch=z9hG4bK-x\r\n" RESP_REST);
	feed_str(PBX, 5060,
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1;branch=1234\r\n" RESP_REST);
	assert_int_equal(dph_drop(&h, DP_D_FWD_RESPONSE_NOT_OURS), not_ours + 4);

	/* Ours, but nowhere to go: no next Via, a name (never resolved here). */
	feed_str(
		PBX, 5060,
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK-swS01\r\n" RESP_REST);
	feed_str(PBX, 5060,
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK-swS01,"
		 "SIP/2.0/UDP phone.example.com;branch=z9hG4bK-y\r\n" RESP_REST);
	assert_int_equal(dph_drop(&h, DP_D_FWD_BAD_VIA), bad_via + 2);

	/* A device's response goes to the PBX or nowhere: no reflection. */
	feed_str(ALICE, 5078,
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK-swS01\r\n"
		 "Via: SIP/2.0/UDP 203.0.113.9;branch=z9hG4bK-y\r\n" RESP_REST);
	assert_int_equal(dph_drop(&h, DP_D_FWD_NOT_PBX_ROUTE), relay + 1);
	nothing_else();
}
