/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding on the worker (dataplane/dp_fwd.c) through the whole
 * pipeline (tests/dp/fwd_harness.h): devices in a real binding table, frames
 * built by the harness, and what goes out parsed back from the frames the
 * port was given: IP / UDP headers and checksums, fragments reassembled by
 * hand, and every forwarded message compared byte for byte with what it must
 * be (only the branch hash is read from the output, then checked for being
 * the same where §16.11 says it must).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "tests/dp/fwd_harness.h"
#include "tests/dp/sip_msgs.h"

/* ---- requests from the PBX ---- */

/* MSG_INVITE from the PBX, forwarded to alice, found by its push address. */
#define ALICE_INVITE_OUT                                                                     \
	"INVITE sip:alice@198.18.0.2:5078;transport=udp SIP/2.0\r\n" OUR_VIA "%s\r\n" OUR_RR \
	"Via: SIP/2.0/UDP 198.18.0.5:5060;rport=5060;branch=z9hG4bKPj4d1b2c3e-5f6a-7b8c;"    \
	"received=198.18.0.5\r\n"                                                            \
	"Max-Forwards: 69\r\n"

static char *alice_invite_out(void)
{
	const char *rest = strstr(MSG_INVITE, "From: ");
	char *fmt = malloc(strlen(ALICE_INVITE_OUT) + strlen(rest) + 1);

	strcpy(fmt, ALICE_INVITE_OUT);
	strcat(fmt, rest);
	return fmt;
}

static void test_invite_by_push_address(void **state)
{
	uint64_t fwd = dph_count(&h, DP_C_FWD_REQUESTS_TO_DEVICE);
	char br[BR_LEN + 1], *fmt = alice_invite_out();
	struct out o;

	(void)state;
	feed_str(PBX, 5060, MSG_INVITE);
	take(&o);
	assert_int_equal(o.frames, 1);
	expect_to(&o, ALICE, 5078);
	/* pn-* gone from the Request-URI; our Via and Record-Route on top; the
	 * PBX's Via with rport / received (RFC 3581); Max-Forwards 70 -> 69;
	 * the rest, SDP included, as it came. */
	expect_msg(&o, fmt, br);
	assert_int_equal(dph_count(&h, DP_C_FWD_REQUESTS_TO_DEVICE), fwd + 1);
	nothing_else();
	free(o.msg);
	free(fmt);
}

static const char bob_invite[] = "INVITE sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 198.18.0.5;branch=z9hG4bK-b1\r\n"
				 "Route: <sip:edge.sipwake.test;lr>, <sip:198.18.0.5;lr;x=1>\r\n"
				 "Record-Route: <sip:198.18.0.5;lr>\r\n"
				 "From: <sip:1002@example.com>;tag=fb\r\n"
				 "To: <sip:bob@example.com>\r\n"
				 "Call-ID: cb-1\r\n"
				 "CSeq: 1 INVITE\r\n"
				 "Contact: <sip:1002@198.18.0.5>\r\n"
				 "Content-Length: 0\r\n\r\n";

static void test_invite_by_contact(void **state)
{
	char br[BR_LEN + 1];
	struct out o;

	(void)state;
	feed_str(PBX, 5060, bob_invite);
	take(&o);
	expect_to(&o, BOB, 5080);
	/* Our Route value (one of sip.names) popped, the one after it kept;
	 * Max-Forwards added (§16.6 step 3); ours above the PBX's Record-Route;
	 * sent-by = source address and no rport: no received. */
	expect_msg(&o,
		   "INVITE sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n" OUR_VIA
		   "%s\r\n" OUR_RR "Max-Forwards: 70\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.5;branch=z9hG4bK-b1\r\n"
		   "Route: <sip:198.18.0.5;lr;x=1>\r\n"
		   "Record-Route: <sip:198.18.0.5;lr>\r\n"
		   "From: <sip:1002@example.com>;tag=fb\r\n"
		   "To: <sip:bob@example.com>\r\n"
		   "Call-ID: cb-1\r\n"
		   "CSeq: 1 INVITE\r\n"
		   "Contact: <sip:1002@198.18.0.5>\r\n"
		   "Content-Length: 0\r\n\r\n",
		   br);
	nothing_else();
	free(o.msg);
}

static void test_invite_by_aor(void **state)
{
	static const char inv[] = "INVITE sip:carol@Example.COM SIP/2.0\r\n"
				  "Route: <sip:198.18.0.1:5060;lr>\r\n"
				  "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-c1\r\n"
				  "Max-Forwards: 10\r\n"
				  "From: <sip:1002@example.com>;tag=fc\r\n"
				  "To: <sip:carol@example.com>\r\n"
				  "Call-ID: cc-1\r\n"
				  "CSeq: 7 INVITE\r\n"
				  "Content-Length: 0\r\n\r\n";
	char br[BR_LEN + 1];
	struct out o;

	(void)state;
	feed_str(PBX, 5060, inv);
	take(&o);
	/* Registered from behind a NAT: sent to where it registered from. */
	expect_to(&o, CAROL, 40000);
	/* The only Route, ours, goes as a whole line. */
	expect_msg(&o,
		   "INVITE sip:carol@Example.COM SIP/2.0\r\n" OUR_VIA "%s\r\n" OUR_RR
		   "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-c1\r\n"
		   "Max-Forwards: 9\r\n"
		   "From: <sip:1002@example.com>;tag=fc\r\n"
		   "To: <sip:carol@example.com>\r\n"
		   "Call-ID: cc-1\r\n"
		   "CSeq: 7 INVITE\r\n"
		   "Content-Length: 0\r\n\r\n",
		   br);
	nothing_else();
	free(o.msg);
}

static void test_asleep_and_forks_handed_up(void **state)
{
	uint64_t asleep = dph_count(&h, DP_C_FWD_ASLEEP_HANDED_UP);
	uint64_t fork = dph_count(&h, DP_C_FWD_FORK_HANDED_UP);
	struct out o;

	(void)state;
	feed_str(PBX, 5060, PBX_REQ("INVITE", "sip:dave@example.com", "", ""));
	expect_up("asleep device", DP_C_FWD_ASLEEP_HANDED_UP, asleep);
	feed_str(PBX, 5060, PBX_REQ("INVITE", "sip:eve@example.com", "", ""));
	expect_up("AOR of two devices", DP_C_FWD_FORK_HANDED_UP, fork);

	/* Once the asleep device is heard from (a keepalive), it is alive. */
	feed_str(DAVE, 5070, "\r\n\r\n");
	feed_str(PBX, 5060, PBX_REQ("INVITE", "sip:dave@example.com", "", ""));
	take(&o);
	expect_to(&o, DAVE, 5070);
	free(o.msg);
	nothing_else();
}

static void test_no_device(void **state)
{
	uint64_t n404 = dph_count(&h, DP_C_SIP_404_SENT), n481 = dph_count(&h, DP_C_SIP_481_SENT);
	uint64_t ack = dph_drop(&h, DP_D_FWD_NO_DEVICE);

	(void)state;
	feed_str(PBX, 5060, PBX_REQ("INVITE", "sip:nobody@example.com", "", ""));
	expect_answer("SIP/2.0 404 Not Found\r\n", DP_C_SIP_404_SENT, n404);
	feed_str(PBX, 5060, PBX_REQ("BYE", "sip:nobody@example.com", ";tag=t1", ""));
	expect_answer("SIP/2.0 481 Call/Transaction Does Not Exist\r\n", DP_C_SIP_481_SENT, n481);
	/* ACK is never answered (§17.1.1.3). */
	feed_str(PBX, 5060, PBX_REQ("ACK", "sip:nobody@example.com", ";tag=t1", ""));
	assert_int_equal(dph_drop(&h, DP_D_FWD_NO_DEVICE), ack + 1);
	nothing_else();
}

/* The PBX's in-dialog request names the app by its dialog Contact, which
 * may be any URI: the device id in our Record-Route (now its Route) picks
 * the device, and the request goes to that device's source. */
static void bye_routed_by(uint64_t id)
{
	char bye[1024];

	snprintf(bye, sizeof(bye),
		 "BYE sip:app@10.9.8.7:5999 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-pbye%016" PRIx64 "\r\n"
		 "Route: <sip:" SW ":5060;swd=%016" PRIx64 ";lr>\r\n"
		 "From: <sip:1002@example.com>;tag=fp\r\n"
		 "To: <sip:app@10.9.8.7:5999>;tag=t9\r\n"
		 "Call-ID: cp-bye-route\r\nCSeq: 6 BYE\r\nContent-Length: 0\r\n\r\n",
		 id, id);
	feed_str(PBX, 5060, bye);
}

static void test_in_dialog_by_route_device(void **state)
{
	uint64_t fwd = dph_count(&h, DP_C_FWD_REQUESTS_TO_DEVICE), id;
	uint64_t n481 = dph_count(&h, DP_C_SIP_481_SENT);
	struct out o;

	(void)state;
	/* alice's id, read from the Record-Route of an INVITE to her. */
	feed_str(PBX, 5060, MSG_INVITE);
	take(&o);
	assert_non_null(strstr(o.msg, ";swd="));
	id = strtoull(strstr(o.msg, ";swd=") + 5, NULL, 16);
	assert_true(sw_ip_eq(&sw_bind_by_id(h.ctx->bind, id)->src, &o.dst));
	free(o.msg);
	bye_routed_by(id);
	take(&o);
	expect_to(&o, ALICE, 5078);
	assert_null(strstr(o.msg, "Route:")); /* ours, popped */
	assert_int_equal(dph_count(&h, DP_C_FWD_REQUESTS_TO_DEVICE), fwd + 2);
	free(o.msg);
	/* An id that names no device: the Request-URI decides (here: 481). */
	bye_routed_by(id + 1000);
	expect_answer("SIP/2.0 481 Call/Transaction Does Not Exist\r\n", DP_C_SIP_481_SENT, n481);
	nothing_else();
}

static void test_max_forwards_zero(void **state)
{
	uint64_t n483 = dph_count(&h, DP_C_SIP_483_SENT), ack = dph_drop(&h, DP_D_FWD_MAX_FORWARDS);

	(void)state;
	feed_str(PBX, 5060,
		 PBX_REQ("INVITE", "sip:bob@198.18.0.3:5080;transport=udp", "",
			 "Max-Forwards: 0\r\n"));
	expect_answer("SIP/2.0 483 Too Many Hops\r\n", DP_C_SIP_483_SENT, n483);
	feed_str(PBX, 5060,
		 PBX_REQ("ACK", "sip:bob@198.18.0.3:5080;transport=udp", ";tag=x",
			 "Max-Forwards: 0\r\n"));
	assert_int_equal(dph_drop(&h, DP_D_FWD_MAX_FORWARDS), ack + 1);
	nothing_else();
}

/* ---- responses ---- */

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

static void test_response_to_pbx(void **state)
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

static void test_responses_not_forwarded(void **state)
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

/* ---- requests from devices ---- */

static void test_bye_from_device_to_pbx(void **state)
{
	static const char bye[] = "BYE sip:pbx@198.18.0.5:5060 SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 10.0.0.7:5078;rport;branch=z9hG4bK.dev-bye1\r\n"
				  "Max-Forwards: 70\r\n"
				  "Route: <sip:198.18.0.1:5060;lr>\r\n"
				  "From: <sip:alice@example.com>;tag=dev1\r\n"
				  "To: \"Bob\" <sip:1002@example.com>;tag=fp\r\n"
				  "Call-ID: cid-bye\r\n"
				  "CSeq: 2 BYE\r\n"
				  "Content-Length: 0\r\n\r\n";
	uint64_t fwd = dph_count(&h, DP_C_FWD_REQUESTS_TO_PBX);
	char br[BR_LEN + 1];
	struct out o;

	(void)state;
	feed_str(ALICE, 5078, bye);
	take(&o);
	/* Our Route popped, none left: the Request-URI is the PBX's address. */
	expect_to(&o, PBX, 5060);
	expect_msg(&o,
		   "BYE sip:pbx@198.18.0.5:5060 SIP/2.0\r\n" OUR_VIA "%s\r\n"
		   "Via: SIP/2.0/UDP 10.0.0.7:5078;rport=5078;branch=z9hG4bK.dev-bye1;"
		   "received=198.18.0.2\r\n"
		   "Max-Forwards: 69\r\n"
		   "From: <sip:alice@example.com>;tag=dev1\r\n"
		   "To: \"Bob\" <sip:1002@example.com>;tag=fp\r\n"
		   "Call-ID: cid-bye\r\n"
		   "CSeq: 2 BYE\r\n"
		   "Content-Length: 0\r\n\r\n",
		   br);
	assert_int_equal(dph_count(&h, DP_C_FWD_REQUESTS_TO_PBX), fwd + 1);
	free(o.msg);
	nothing_else();
}

static void test_invite_from_device_to_active_pbx(void **state)
{
	static const char inv[] =
		"INVITE sip:1002@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.7:5078;branch=z9hG4bK.dev-inv1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@example.com>;tag=dev2\r\n"
		"To: <sip:1002@example.com>\r\n"
		"Call-ID: cid-out\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:alice@10.0.0.7:5078;transport=udp;pn-type=apple;"
		"app-id=com.example.phone;pn-tok=abc123;ob>;+sip.instance=\"<urn:uuid:1>\"\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char inv8599[] =
		"MESSAGE sip:1002@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.2:5078;branch=z9hG4bK.dev-msg1\r\n"
		"From: <sip:alice@example.com>;tag=dev3\r\n"
		"To: <sip:1002@example.com>\r\n"
		"Call-ID: cid-msg\r\n"
		"CSeq: 1 MESSAGE\r\n"
		"Contact: "
		"sip:alice@198.18.0.2:5078;pn-provider=fcm;pn-prid=tok;pn-param=proj;expires=60\r\n"
		"Content-Length: 0\r\n\r\n";
	char br[BR_LEN + 1];
	struct out o;

	(void)state;
	__atomic_store_n(&h.ctx->pbx_active, 1, __ATOMIC_RELAXED);
	feed_str(ALICE, 5078, inv);
	take(&o);
	/* A domain Request-URI: the active pbx.server's to route. */
	expect_to(&o, PBX2, 5070);
	/* Record-Route (initial INVITE); the legacy push parameters out of the
	 * Contact, the rest of it kept. */
	expect_msg(&o,
		   "INVITE sip:1002@example.com SIP/2.0\r\n" OUR_VIA "%s\r\n" OUR_RR
		   "Via: SIP/2.0/UDP 10.0.0.7:5078;branch=z9hG4bK.dev-inv1;rport=5078;"
		   "received=198.18.0.2\r\n"
		   "Max-Forwards: 69\r\n"
		   "From: <sip:alice@example.com>;tag=dev2\r\n"
		   "To: <sip:1002@example.com>\r\n"
		   "Call-ID: cid-out\r\n"
		   "CSeq: 1 INVITE\r\n"
		   "Contact: <sip:alice@10.0.0.7:5078;transport=udp;ob>;"
		   "+sip.instance=\"<urn:uuid:1>\"\r\n"
		   "Content-Length: 0\r\n\r\n",
		   br);
	free(o.msg);

	/* RFC 8599 parameters of a bare Contact URI (field parameters, §20.10). */
	__atomic_store_n(&h.ctx->pbx_active, 0, __ATOMIC_RELAXED);
	feed_str(ALICE, 5078, inv8599);
	take(&o);
	expect_to(&o, PBX, 5060);
	expect_msg(&o,
		   "MESSAGE sip:1002@example.com SIP/2.0\r\n" OUR_VIA "%s\r\n"
		   "Max-Forwards: 70\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.2:5078;branch=z9hG4bK.dev-msg1\r\n"
		   "From: <sip:alice@example.com>;tag=dev3\r\n"
		   "To: <sip:1002@example.com>\r\n"
		   "Call-ID: cid-msg\r\n"
		   "CSeq: 1 MESSAGE\r\n"
		   "Contact: sip:alice@198.18.0.2:5078;expires=60\r\n"
		   "Content-Length: 0\r\n\r\n",
		   br);
	free(o.msg);
	nothing_else();
}

static void test_device_never_relayed(void **state)
{
	uint64_t relay = dph_drop(&h, DP_D_FWD_NOT_PBX_ROUTE), none = dph_drop(&h, DP_D_FWD_NO_PBX);
	unsigned n_servers = h.ctx->p.n_servers;

	(void)state;
	/* After our Route, one to somewhere else. */
	feed_str(ALICE, 5078,
		 "BYE sip:pbx@198.18.0.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bK-n1\r\n"
		 "Route: <sip:198.18.0.1;lr>, <sip:203.0.113.9;lr>\r\nFrom: <sip:a@b>;tag=1\r\n"
		 "To: <sip:c@d>;tag=2\r\nCall-ID: n1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
	/* A first Route that is not us, and a name. */
	feed_str(ALICE, 5078,
		 "BYE sip:pbx@198.18.0.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bK-n2\r\n"
		 "Route: <sip:evil.example.net;lr>\r\nFrom: <sip:a@b>;tag=1\r\n"
		 "To: <sip:c@d>;tag=2\r\nCall-ID: n2\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
	/* A Request-URI naming another address. */
	feed_str(ALICE, 5078,
		 "MESSAGE sip:x@203.0.113.9 SIP/2.0\r\nVia: SIP/2.0/UDP "
		 "10.0.0.7;branch=z9hG4bK-n3\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:x@203.0.113.9>\r\nCall-ID: n3\r\n"
		 "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(dph_drop(&h, DP_D_FWD_NOT_PBX_ROUTE), relay + 3);

	/* No pbx.servers and nothing else to go by. */
	h.ctx->p.n_servers = h.ctx->policy->n_servers = 0;
	feed_str(ALICE, 5078,
		 "MESSAGE sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP "
		 "10.0.0.7;branch=z9hG4bK-n4\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:x@example.com>\r\nCall-ID: n4\r\n"
		 "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n");
	h.ctx->p.n_servers = h.ctx->policy->n_servers = n_servers;
	assert_int_equal(dph_drop(&h, DP_D_FWD_NO_PBX), none + 1);
	nothing_else();
}

/* ---- branches (§16.11) ---- */

static void forwarded_branch(const char *src, uint16_t sport, const char *msg, char br[BR_LEN + 1])
{
	struct out o;

	feed_str(src, sport, msg);
	take(&o);
	branch_of(&o, br);
	free(o.msg);
	nothing_else();
}

static void test_branch_deterministic(void **state)
{
	/* MSG_INVITE's CANCEL (§9.1: same Request-URI, top Via, Call-ID, CSeq number). */
	static const char cancel[] =
		"CANCEL "
		"sip:alice@198.18.0.2:5078;transport=udp;pn-provider=apns;pn-prid=6b1f0a4e2d;"
		"pn-param=ABCDE12345.com.example.phone.voip SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.5:5060;rport;branch=z9hG4bKPj4d1b2c3e-5f6a-7b8c\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Bob Smith\" <sip:1002@pbx.example.com>;tag=a7c3e9f1-42b8\r\n"
		"To: <sip:alice@example.com>\r\n"
		"Call-ID: 3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c\r\n"
		"CSeq: 31415 CANCEL\r\n"
		"Content-Length: 0\r\n\r\n";
	char a[BR_LEN + 1], b[BR_LEN + 1], c[BR_LEN + 1], d[BR_LEN + 1];
	char *other = strdup(MSG_INVITE);

	(void)state;
	forwarded_branch(PBX, 5060, MSG_INVITE, a);
	forwarded_branch(PBX, 5060, MSG_INVITE, b);
	assert_string_equal(a, b); /* a retransmission */
	forwarded_branch(PBX, 5060, cancel, c);
	assert_string_equal(a, c);

	/* Another transaction (another incoming branch): another branch. */
	strstr(other, "z9hG4bKPj4d1b2c3e")[8] = 'X';
	forwarded_branch(PBX, 5060, other, d);
	assert_string_not_equal(a, d);
	free(other);

	/* An RFC 2543 peer (no magic cookie): the INVITE and its ACK match
	 * (§17.2.3), a BYE with the same CSeq number does not. */
#define OLD(method, to_tag)                                                \
	method " sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n"        \
	       "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=old1\r\n"          \
	       "From: <sip:1002@example.com>;tag=f-old\r\n"                \
	       "To: <sip:bob@example.com>" to_tag "\r\nCall-ID: c-old\r\n" \
	       "CSeq: 3 " method "\r\nContent-Length: 0\r\n\r\n"
	forwarded_branch(PBX, 5060, OLD("INVITE", ""), a);
	forwarded_branch(PBX, 5060, OLD("ACK", ";tag=uas"), b);
	assert_string_equal(a, b);
	forwarded_branch(PBX, 5060, OLD("BYE", ";tag=uas"), c);
	assert_string_not_equal(a, c);
#undef OLD
}

/* ---- fragments on TX ---- */

/* An INVITE from @p src to @p ruri's device with an SDP of @p body_len bytes. */
static char *big_invite(const char *ruri, const char *via, size_t body_len, size_t *len)
{
	char *m = malloc(body_len + 1024), *b;
	int n = snprintf(m, 1024,
			 "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-big\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:1002@example.com>;tag=fbig\r\n"
			 "To: <sip:x@example.com>\r\nCall-ID: big-1\r\nCSeq: 1 INVITE\r\n"
			 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n",
			 ruri, via, body_len);

	b = m + n;
	for (size_t i = 0; i < body_len; i++)
		b[i] = i % 64 == 62 ? '\r' : i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	b[body_len] = '\0';
	*len = (size_t)n + body_len;
	return m;
}

/* @p in forwarded from the PBX with our Via (@p host) and Record-Route on top,
 * Max-Forwards 70 -> 69, the rest (a body of kilobytes) as it came. */
static void check_big(const struct out *o, const char *in, const char *host)
{
	const char *via = strstr(in, "Via: "), *mf = strstr(in, "Max-Forwards: 70\r\n");
	const char *rest = mf + strlen("Max-Forwards: 70\r\n");
	size_t cap = strlen(in) + 512;
	char *fmt = malloc(cap), br[BR_LEN + 1];

	snprintf(fmt, cap,
		 "%.*sVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-swS%%s\r\n"
		 "Record-Route: <sip:%s:5060;lr>\r\n%.*sMax-Forwards: 69\r\n%s",
		 (int)(via - in), in, host, host, (int)(mf - via), via, rest);
	expect_msg(o, fmt, br);
	free(fmt);
}

static void test_fragmented_ipv4(void **state)
{
	uint64_t frag = dph_count(&h, DP_C_TX_FRAGMENTED);
	size_t len;
	/* ~4 KB from the PBX, itself in fragments: reassembled (16 KiB jumbo
	 * buffer), forwarded, fragmented again on the way out. */
	char *in =
		big_invite("sip:bob@198.18.0.3:5080;transport=udp", "198.18.0.5:5060", 4000, &len);
	struct out o;

	(void)state;
	feed(PBX, 5060, in, len, 1480);
	take(&o);
	expect_to(&o, BOB, 5080);
	assert_int_equal(o.frames, (8 + o.len + 1479) / 1480);
	assert_true(o.frames >= 3);
	check_big(&o, in, SW);
	assert_int_equal(dph_count(&h, DP_C_TX_FRAGMENTED), frag + 1);
	free(o.msg);
	free(in);
	nothing_else();
}

static void test_fragmented_ipv6(void **state)
{
	uint64_t frags = dph_count(&h, DP_C_TX_FRAGMENTS);
	size_t len;
	/* Fits one 1500-byte packet as it comes; our Via and Record-Route make
	 * it grow past the MTU. */
	char *in = big_invite("sip:gina@example.com", "[2001:db8:5e::5]:5060", 1150, &len);
	struct out o;

	(void)state;
	assert_true(40 + 8 + len <= 1500);
	feed(DPH_PBX_IP6, 5060, in, len, 0);
	take(&o);
	assert_true(o.v6);
	expect_to(&o, GINA6, 5078);
	assert_int_equal(o.frames, 2);
	assert_true(40 + 8 + o.len > 1500);
	check_big(&o, in, "[2001:db8:5e::1]");
	assert_int_equal(dph_count(&h, DP_C_TX_FRAGMENTS), frags + 2);
	free(o.msg);
	free(in);
	nothing_else();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invite_by_push_address),
		cmocka_unit_test(test_invite_by_contact),
		cmocka_unit_test(test_invite_by_aor),
		cmocka_unit_test(test_asleep_and_forks_handed_up),
		cmocka_unit_test(test_no_device),
		cmocka_unit_test(test_in_dialog_by_route_device),
		cmocka_unit_test(test_max_forwards_zero),
		cmocka_unit_test(test_response_to_pbx),
		cmocka_unit_test(test_responses_not_forwarded),
		cmocka_unit_test(test_bye_from_device_to_pbx),
		cmocka_unit_test(test_invite_from_device_to_active_pbx),
		cmocka_unit_test(test_device_never_relayed),
		cmocka_unit_test(test_branch_deterministic),
		cmocka_unit_test(test_fragmented_ipv4),
		cmocka_unit_test(test_fragmented_ipv6),
	};

	return cmocka_run_group_tests(tests, fwd_setup, fwd_teardown);
}
