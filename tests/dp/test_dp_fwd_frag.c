/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding on the worker (dataplane/dp_fwd.c), messages too big
 * for one packet: a reassembled IPv4 INVITE fragmented again on the way
 * out, and an IPv6 one that grows past the MTU with our Via and
 * Record-Route. What leaves is reassembled by the harness and compared.
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
#include "tests/dp/dp_fwd_test.h"

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

/* @p in forwarded from the PBX to Request-URI @p ruri, with our Via (@p host)
 * on top and Record-Route after the PBX's Via, Max-Forwards 70 -> 69, the
 * rest (a body of kilobytes) as it came. */
static void check_big(const struct out *o, const char *in, const char *ruri, const char *host)
{
	const char *via = strstr(in, "Via: "), *mf = strstr(in, "Max-Forwards: 70\r\n");
	const char *rest = mf + strlen("Max-Forwards: 70\r\n");
	size_t cap = strlen(in) + 512;
	char *fmt = malloc(cap), br[BR_LEN + 1];

	snprintf(fmt, cap,
		 "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-swS%%s\r\n"
		 "%.*sRecord-Route: <sip:%s:5060;lr>\r\nMax-Forwards: 69\r\n%s",
		 ruri, host, (int)(mf - via), via, host, rest);
	expect_msg(o, fmt, br);
	free(fmt);
}

void test_fragmented_ipv4(void **state)
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
	check_big(&o, in, "sip:bob@198.18.0.3:5080;transport=udp", SW);
	assert_int_equal(dph_count(&h, DP_C_TX_FRAGMENTED), frag + 1);
	free(o.msg);
	free(in);
	nothing_else();
}

void test_fragmented_ipv6(void **state)
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
	/* Sent to the AOR: retargeted to the contact gina registered. */
	check_big(&o, in, "sip:gina@[2001:db8:5e::7]:5078", "[2001:db8:5e::1]");
	assert_int_equal(dph_count(&h, DP_C_TX_FRAGMENTS), frags + 2);
	free(o.msg);
	free(in);
	nothing_else();
}
