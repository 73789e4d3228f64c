/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding on the worker (dataplane/dp_fwd.c), requests from
 * devices: in-dialog and initial requests go to the PBX (the active
 * pbx.server for a domain Request-URI) with the push parameters taken out
 * of the Contact; one routed anywhere else, or with no PBX to go to, is
 * dropped and counted, never relayed.
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

void test_bye_from_device_to_pbx(void **state)
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

void test_invite_from_device_to_active_pbx(void **state)
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
	/* Record-Route (initial INVITE) after the app's Via; the legacy push
	 * parameters out of the Contact, the rest of it kept. */
	expect_msg(&o,
		   "INVITE sip:1002@example.com SIP/2.0\r\n" OUR_VIA "%s\r\n"
		   "Via: SIP/2.0/UDP 10.0.0.7:5078;branch=z9hG4bK.dev-inv1;rport=5078;"
		   "received=198.18.0.2\r\n" OUR_RR "Max-Forwards: 69\r\n"
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
		   "Via: SIP/2.0/UDP 198.18.0.2:5078;branch=z9hG4bK.dev-msg1\r\n"
		   "Max-Forwards: 70\r\n"
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

void test_device_never_relayed(void **state)
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
