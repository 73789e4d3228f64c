/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding on the worker (dataplane/dp_fwd.c) through the whole
 * pipeline (tests/dp/fwd_harness.h): devices in a real binding table, frames
 * built by the harness, and what goes out parsed back from the frames the
 * port was given: IP / UDP headers and checksums, fragments reassembled by
 * hand, and every forwarded message compared byte for byte with what it must
 * be (only the branch hash is read from the output, then checked for being
 * the same where §16.11 says it must). This file has the requests from the
 * PBX and main(), which runs every dp_fwd test; the others are, by concern:
 * test_dp_fwd_resp.c (responses), test_dp_fwd_device.c (requests from
 * devices), test_dp_fwd_branch.c (branches) and test_dp_fwd_frag.c
 * (fragments on TX).
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

#include <rte_ethdev.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "tests/dp/fwd_harness.h"
#include "tests/dp/sip_msgs.h"
#include "tests/dp/dp_fwd_test.h"

/* ---- requests from the PBX ---- */

/* MSG_INVITE from the PBX, forwarded to alice, found by its push address:
 * to the contact she registered (her push parameters in another order, no
 * transport=udp), without them. */
#define ALICE_INVITE_OUT                                                                  \
	"INVITE sip:alice@198.18.0.2:5078 SIP/2.0\r\n" OUR_VIA "%s\r\n"                   \
	"Via: SIP/2.0/UDP 198.18.0.5:5060;rport=5060;branch=z9hG4bKPj4d1b2c3e-5f6a-7b8c;" \
	"received=198.18.0.5\r\n" OUR_RR "Max-Forwards: 69\r\n"

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
	/* Retargeted to her contact, pn-* out; our Via on top, Record-Route
	 * after the PBX's Via, which has rport / received (RFC 3581);
	 * Max-Forwards 70 -> 69; the rest, SDP included, as it came. */
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
	/* The Request-URI is bob's contact already: kept. Our Route value (one
	 * of sip.names) popped, the one after it kept; after the Via,
	 * Max-Forwards added (§16.6 step 3) and ours above the PBX's
	 * Record-Route; sent-by = source address and no rport: no received. */
	expect_msg(&o,
		   "INVITE sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n" OUR_VIA "%s\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.5;branch=z9hG4bK-b1\r\n" OUR_RR "Max-Forwards: 70\r\n"
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
	/* Retargeted from the AOR to the contact carol registered (RFC 3261
	 * §16.5). The only Route, ours, goes as a whole line; our Via goes
	 * where the Vias start. */
	expect_msg(&o,
		   "INVITE sip:carol@10.0.0.7:5090 SIP/2.0\r\n" OUR_VIA "%s\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-c1\r\n" OUR_RR
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

/* Two Via fields (the PBX behind a proxy of its own), one of them with two
 * values: ours goes above them and Record-Route (with the Max-Forwards we
 * add) after both, so a UA that copies the run of Via lines into its answer
 * copies every one (RFC 3261 §8.2.6.2, §16.6 steps 4 and 8). */
static void test_vias_stay_one_run(void **state)
{
	static const char inv[] = "INVITE sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-v2a\r\n"
				  "v: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-v2b,\r\n"
				  " SIP/2.0/UDP 10.1.1.2;branch=z9hG4bK-v2c\r\n"
				  "Record-Route: <sip:198.18.0.5;lr>\r\n"
				  "From: <sip:1002@example.com>;tag=fv\r\n"
				  "To: <sip:bob@example.com>\r\n"
				  "Call-ID: cv-1\r\n"
				  "CSeq: 1 INVITE\r\n"
				  "Content-Length: 0\r\n\r\n";
	/* The Vias after other fields: ours still joins them. */
	static const char late[] = "INVITE sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n"
				   "From: <sip:1002@example.com>;tag=fw\r\n"
				   "To: <sip:bob@example.com>\r\n"
				   "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-w2a\r\n"
				   "Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-w2b\r\n"
				   "Call-ID: cw-1\r\n"
				   "CSeq: 1 INVITE\r\n"
				   "Max-Forwards: 5\r\n"
				   "Content-Length: 0\r\n\r\n";
	char br[BR_LEN + 1];
	struct out o;

	(void)state;
	feed_str(PBX, 5060, inv);
	take(&o);
	expect_to(&o, BOB, 5080);
	expect_msg(&o,
		   "INVITE sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n" OUR_VIA "%s\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-v2a\r\n"
		   "v: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-v2b,\r\n"
		   " SIP/2.0/UDP 10.1.1.2;branch=z9hG4bK-v2c\r\n" OUR_RR "Max-Forwards: 70\r\n"
		   "Record-Route: <sip:198.18.0.5;lr>\r\n"
		   "From: <sip:1002@example.com>;tag=fv\r\n"
		   "To: <sip:bob@example.com>\r\n"
		   "Call-ID: cv-1\r\n"
		   "CSeq: 1 INVITE\r\n"
		   "Content-Length: 0\r\n\r\n",
		   br);
	free(o.msg);

	feed_str(PBX, 5060, late);
	take(&o);
	expect_to(&o, BOB, 5080);
	expect_msg(&o,
		   "INVITE sip:bob@198.18.0.3:5080;transport=udp SIP/2.0\r\n"
		   "From: <sip:1002@example.com>;tag=fw\r\n"
		   "To: <sip:bob@example.com>\r\n" OUR_VIA "%s\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-w2a\r\n"
		   "Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-w2b\r\n" OUR_RR
		   "Call-ID: cw-1\r\n"
		   "CSeq: 1 INVITE\r\n"
		   "Max-Forwards: 4\r\n"
		   "Content-Length: 0\r\n\r\n",
		   br);
	free(o.msg);
	nothing_else();
}

/* Sent to the AOR, a call reaches alice with the contact she registered as
 * its Request-URI, push parameters out, as the wake path sends it; its
 * CANCEL (§9.1: the INVITE's Request-URI) and non-2xx ACK alike. A request
 * in the dialog keeps the Request-URI the PBX gave it (the app's dialog
 * Contact: test_in_dialog_by_route_device). */
static void test_retarget_to_contact(void **state)
{
#define ALICE_AOR_REQ(method, to_tag)                                    \
	method " sip:alice@example.com SIP/2.0\r\n"                      \
	       "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-ra1\r\n" \
	       "Max-Forwards: 70\r\n"                                    \
	       "From: <sip:1002@example.com>;tag=fr\r\n"                 \
	       "To: <sip:alice@example.com>" to_tag "\r\n"               \
	       "Call-ID: cr-1\r\n"                                       \
	       "CSeq: 3 " method "\r\n"                                  \
	       "Content-Length: 0\r\n\r\n"
#define ALICE_AOR_OUT(method, to_tag, rr)                                                          \
	method " sip:alice@198.18.0.2:5078 SIP/2.0\r\n" OUR_VIA "%s\r\n"                           \
	       "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-ra1\r\n" rr "Max-Forwards: 69\r\n" \
	       "From: <sip:1002@example.com>;tag=fr\r\n"                                           \
	       "To: <sip:alice@example.com>" to_tag "\r\n"                                         \
	       "Call-ID: cr-1\r\n"                                                                 \
	       "CSeq: 3 " method "\r\n"                                                            \
	       "Content-Length: 0\r\n\r\n"
	char br_inv[BR_LEN + 1], br[BR_LEN + 1];
	struct out o;

	(void)state;
	feed_str(PBX, 5060, ALICE_AOR_REQ("INVITE", ""));
	take(&o);
	expect_to(&o, ALICE, 5078);
	expect_msg(&o, ALICE_AOR_OUT("INVITE", "", OUR_RR), br_inv);
	free(o.msg);
	feed_str(PBX, 5060, ALICE_AOR_REQ("CANCEL", ""));
	take(&o);
	expect_to(&o, ALICE, 5078);
	expect_msg(&o, ALICE_AOR_OUT("CANCEL", "", ""), br);
	assert_string_equal(br, br_inv);
	free(o.msg);
	feed_str(PBX, 5060, ALICE_AOR_REQ("ACK", ";tag=a487"));
	take(&o);
	expect_msg(&o, ALICE_AOR_OUT("ACK", ";tag=a487", ""), br);
	assert_string_equal(br, br_inv);
	free(o.msg);
	nothing_else();
#undef ALICE_AOR_REQ
#undef ALICE_AOR_OUT
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

/*
 * A port with TX checksum offload (struct sw_iface.tx_offload): the same
 * messages leave, their checksums completed by the NIC (take() plays it);
 * fragments are still summed by the worker (no NIC sums across frames).
 */
static void test_nic_checksums(void **state)
{
	static const char gina_invite[] =
		"INVITE sip:gina@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP [2001:db8:5e::5]:5060;branch=z9hG4bK-g6\r\n"
		"From: <sip:1002@example.com>;tag=fg\r\n"
		"To: <sip:gina@example.com>\r\n"
		"Call-ID: cg6-1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Max-Forwards: 70\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sw_iface *ifc = &h.ctx->p.ports.ifaces[0];
	unsigned before;
	struct out o;

	ifc->tx_offload = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	before = nic_cksum_frames;
	test_invite_by_push_address(state);
	test_response_to_pbx(state);
	test_bye_from_device_to_pbx(state);
	assert_true(nic_cksum_frames > before);
	before = nic_cksum_frames;
	test_fragmented_ipv4(state);
	test_fragmented_ipv6(state);
	assert_int_equal(nic_cksum_frames, before);
	/* IPv6 has no header checksum: UDP offload alone is enough. */
	ifc->tx_offload = RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	feed_str(DPH_PBX_IP6, 5060, gina_invite);
	take(&o);
	assert_true(o.v6);
	assert_true(o.nic_cksum);
	expect_to(&o, GINA6, 5078);
	free(o.msg);
	nothing_else();
	ifc->tx_offload = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invite_by_push_address),
		cmocka_unit_test(test_invite_by_contact),
		cmocka_unit_test(test_invite_by_aor),
		cmocka_unit_test(test_vias_stay_one_run),
		cmocka_unit_test(test_retarget_to_contact),
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
		cmocka_unit_test(test_nic_checksums),
	};

	return cmocka_run_group_tests(tests, fwd_setup, fwd_teardown);
}
