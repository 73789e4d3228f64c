/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding on the worker (dataplane/dp_fwd.c), the branch of
 * our Via (RFC 3261 §16.11): the same for a retransmission and for the
 * CANCEL of a request, another for another transaction; from an RFC 2543
 * peer (no magic cookie) the same for an INVITE and its ACK, another for a
 * BYE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/dp/fwd_harness.h"
#include "tests/dp/sip_msgs.h"
#include "tests/dp/dp_fwd_test.h"

static void forwarded_branch(const char *src, uint16_t sport, const char *msg, char br[BR_LEN + 1])
{
	struct out o;

	feed_str(src, sport, msg);
	take(&o);
	fwd_branch_of(&o, br);
	free(o.msg);
	nothing_else();
}

void test_branch_deterministic(void **state)
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
