/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path's message pieces (controlplane/calls/cp_call_msg.c): the
 * INVITE to a woken device keeps the Vias one run of lines (§16.6), and the
 * CANCEL / ACK sipwake sends for one of its INVITEs carry exactly what RFC
 * 3261 §9.1 / §17.1.1.3 ask. (How a contact loses its push parameters:
 * test_cp_msg.c.)
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controlplane/calls/cp_call.h"

static const char INVITE[] =
	"INVITE sip:alice@198.18.0.2:5080 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swCi00000000020000000;rport\r\n"
	"Record-Route: <sip:198.18.0.1:5060;swd=0000000000000001;lr>\r\n"
	"Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv1;rport\r\n"
	"Route: <sip:pbx2.example.com;lr>\r\n"
	"Max-Forwards: 69\r\nFrom: \"Bob\" <sip:bob@example.com>;tag=b1\r\n"
	"To: <sip:alice@example.com>\r\nCall-ID: call-1\r\nCSeq: 7 INVITE\r\n"
	"Contact: <sip:bob@198.18.0.5>\r\nContent-Type: application/sdp\r\n"
	"Content-Length: 4\r\n\r\nv=0\n";

static const char *line(const char *msg, const char *prefix)
{
	static char l[256];
	const char *p = strstr(msg, prefix), *e;

	if (p == NULL)
		return NULL;
	e = strstr(p, "\r\n");
	snprintf(l, sizeof(l), "%.*s", (int)(e - p), p);
	return l;
}

static void cancel_is_section_9_1(void **state)
{
	struct sip_msg sm;
	struct cp_msg *o = calloc(1, sizeof(*o));
	char *s;

	(void)state;
	assert_int_equal(sip_scan((const uint8_t *)INVITE, sizeof(INVITE) - 1, &sm), SIP_SCAN_OK);
	assert_int_equal(
		cp_call_build_cancel((const uint8_t *)INVITE, &sm, CP_CALL_REASON_CANCEL, o), 0);
	s = strndup(o->b, o->len);
	assert_int_equal(sip_scan((const uint8_t *)s, (uint32_t)strlen(s), &sm), SIP_SCAN_OK);
	assert_non_null(strstr(s, "CANCEL sip:alice@198.18.0.2:5080 SIP/2.0\r\n"));
	/* only our Via, the same branch as the INVITE */
	assert_string_equal(line(s, "Via:"), "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-"
					     "swCi00000000020000000;rport");
	assert_null(strstr(s, "198.18.0.5:5060;branch"));
	assert_string_equal(line(s, "CSeq:"), "CSeq: 7 CANCEL");
	assert_string_equal(line(s, "To:"), "To: <sip:alice@example.com>");
	assert_string_equal(line(s, "Route:"), "Route: <sip:pbx2.example.com;lr>");
	assert_string_equal(line(s, "Reason:"), "Reason: " CP_CALL_REASON_CANCEL);
	assert_null(strstr(s, "Record-Route"));
	assert_null(strstr(s, "v=0"));
	free(s);
	free(o);
}

static void ack_takes_the_answers_to_tag(void **state)
{
	static const char RESP[] =
		"SIP/2.0 486 Busy Here\r\n"
		"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swCi00000000020000000;rport\r\n"
		"Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv1;rport\r\n"
		"From: \"Bob\" <sip:bob@example.com>;tag=b1\r\n"
		"To: <sip:alice@example.com>;tag=app9\r\nCall-ID: call-1\r\nCSeq: 7 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_msg sm, rsm;
	struct cp_msg *o = calloc(1, sizeof(*o));
	char *s;

	(void)state;
	assert_int_equal(sip_scan((const uint8_t *)INVITE, sizeof(INVITE) - 1, &sm), SIP_SCAN_OK);
	assert_int_equal(sip_scan((const uint8_t *)RESP, sizeof(RESP) - 1, &rsm), SIP_SCAN_OK);
	assert_int_equal(
		cp_call_build_ack((const uint8_t *)INVITE, &sm, (const uint8_t *)RESP, &rsm, o), 0);
	s = strndup(o->b, o->len);
	assert_int_equal(sip_scan((const uint8_t *)s, (uint32_t)strlen(s), &sm), SIP_SCAN_OK);
	assert_non_null(strstr(s, "ACK sip:alice@198.18.0.2:5080 SIP/2.0\r\n"));
	assert_string_equal(line(s, "To:"), "To: <sip:alice@example.com>;tag=app9");
	assert_string_equal(line(s, "CSeq:"), "CSeq: 7 ACK");
	assert_null(strstr(s, "198.18.0.5:5060;branch"));
	free(s);
	free(o);
}

/* The INVITE to a woken device: our Via above the PBX's two, Record-Route
 * (and the Max-Forwards added) after them, the lines placed as the workers
 * place them (RFC 3261 §16.6 steps 3, 4, 8; sip_via_run()). */
static void invite_keeps_the_vias_one_run(void **state)
{
	static const char IN[] =
		"INVITE sip:alice@example.com SIP/2.0\r\n"
		"Route: <sip:edge.sipwake.test;lr>\r\n"
		"Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv1;rport=5060\r\n"
		"Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-sbc1\r\n"
		"Record-Route: <sip:198.18.0.5;lr>\r\n"
		"From: \"Bob\" <sip:bob@example.com>;tag=b1\r\n"
		"To: <sip:alice@example.com>\r\nCall-ID: call-2\r\n"
		"CSeq: 7 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n";
	static const char WANT[] =
		"INVITE sip:alice@198.18.0.2:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swCi00000000020000000;rport\r\n"
		"Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv1;rport=5060\r\n"
		"Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-sbc1\r\n"
		"Record-Route: <sip:198.18.0.1:5060;swd=00000000000000a1;lr>\r\n"
		"Max-Forwards: 69\r\n"
		"Record-Route: <sip:198.18.0.5;lr>\r\n"
		"From: \"Bob\" <sip:bob@example.com>;tag=b1\r\n"
		"To: <sip:alice@example.com>\r\nCall-ID: call-2\r\n"
		"CSeq: 7 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n";
	struct dp_link dl = {.ports = {.sip_port = 5060, .n_names = 1}};
	struct cp_ctx cp = {.dp = &dl};
	struct sw_ip our;
	struct sip_msg sm;
	struct cp_msg *o = calloc(1, sizeof(*o));

	(void)state;
	strcpy(dl.ports.names[0], "edge.sipwake.test");
	assert_int_equal(sw_ip_parse("198.18.0.1", 10, &our), 0);
	assert_int_equal(sip_scan((const uint8_t *)IN, sizeof(IN) - 1, &sm), SIP_SCAN_OK);
	assert_int_equal(cp_call_build_invite(&cp, (const uint8_t *)IN, &sm,
					      "sip:alice@198.18.0.2:5080", &our, NULL,
					      "z9hG4bK-swCi00000000020000000", 0xa1, SW_TP_UDP, o),
			 0);
	assert_int_equal(o->len, sizeof(WANT) - 1);
	assert_memory_equal(o->b, WANT, sizeof(WANT) - 1);
	free(o);
}

/* A woken device bound over IPv6, the PBX on IPv4 (RFC 5658 §3.1): our Via
 * and the top Record-Route facing the device, in brackets; the one facing
 * the PBX (@back) under it, which the PBX, reading the list the other way,
 * can reach. The same family both ways: one (the test above). */
static void invite_changing_family_records_two_routes(void **state)
{
	static const char IN[] = "INVITE sip:gina@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv6\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: <sip:bob@example.com>;tag=b6\r\n"
				 "To: <sip:gina@example.com>\r\nCall-ID: call-6\r\n"
				 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	static const char WANT[] =
		"INVITE sip:gina@[2001:db8:5e::7]:5078 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP "
		"[2001:db8:5e::1]:5060;branch=z9hG4bK-swCi00000000060000000;rport\r\n"
		"Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv6\r\n"
		"Record-Route: <sip:[2001:db8:5e::1]:5060;swd=00000000000000c6;lr>\r\n"
		"Record-Route: <sip:198.18.0.1:5060;swd=00000000000000c6;lr>\r\n"
		"Max-Forwards: 69\r\n"
		"From: <sip:bob@example.com>;tag=b6\r\n"
		"To: <sip:gina@example.com>\r\nCall-ID: call-6\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct dp_link dl = {.ports = {.sip_port = 5060}};
	struct cp_ctx cp = {.dp = &dl};
	struct sw_ip our, back;
	struct sip_msg sm;
	struct cp_msg *o = calloc(1, sizeof(*o));

	(void)state;
	assert_int_equal(sw_ip_parse("2001:db8:5e::1", 14, &our), 0);
	assert_int_equal(sw_ip_parse("198.18.0.1", 10, &back), 0);
	assert_int_equal(sip_scan((const uint8_t *)IN, sizeof(IN) - 1, &sm), SIP_SCAN_OK);
	assert_int_equal(cp_call_build_invite(&cp, (const uint8_t *)IN, &sm,
					      "sip:gina@[2001:db8:5e::7]:5078", &our, &back,
					      "z9hG4bK-swCi00000000060000000", 0xc6, SW_TP_UDP, o),
			 0);
	if (o->len != sizeof(WANT) - 1 || memcmp(o->b, WANT, o->len) != 0)
		print_error("got:\n%.*s\n", (int)o->len, o->b);
	assert_int_equal(o->len, sizeof(WANT) - 1);
	assert_memory_equal(o->b, WANT, sizeof(WANT) - 1);
	/* @back of the same family: one Record-Route, ours facing the device. */
	assert_int_equal(sw_ip_parse("2001:db8:5e::9", 14, &back), 0);
	assert_int_equal(cp_call_build_invite(&cp, (const uint8_t *)IN, &sm,
					      "sip:gina@[2001:db8:5e::7]:5078", &our, &back,
					      "z9hG4bK-swCi00000000060000000", 0xc6, SW_TP_UDP, o),
			 0);
	assert_non_null(memmem(o->b, o->len, "Record-Route: <sip:[2001:db8:5e::1]:5060;", 41));
	assert_null(memmem(o->b, o->len, "198.18.0.1", 10));
	assert_null(memmem(o->b, o->len, "5e::9", 5));
	free(o);
}

/* Toward a device on TLS (RFC 5658 §3.1): our Via in its transport and
 * on the TLS listener's port, no rport; two Record-Routes, the one facing
 * the device on top (its route set starts there), the one facing the PBX
 * under it; both name the device. */
static void invite_to_a_tls_device_records_two_routes(void **state)
{
	static const char IN[] = "INVITE sip:alice@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv1\r\n"
				 "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=b1\r\n"
				 "To: <sip:alice@example.com>\r\nCall-ID: call-3\r\n"
				 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	static const char WANT[] =
		"INVITE sip:alice@198.18.0.2:40000;transport=tls SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 198.18.0.1:5061;branch=z9hG4bK-swCi00000000030000000\r\n"
		"Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-inv1\r\n"
		"Record-Route: <sip:198.18.0.1:5061;transport=tls;swd=00000000000000b2;lr>\r\n"
		"Record-Route: <sip:198.18.0.1:5060;swd=00000000000000b2;lr>\r\n"
		"Max-Forwards: 69\r\nFrom: <sip:bob@example.com>;tag=b1\r\n"
		"To: <sip:alice@example.com>\r\nCall-ID: call-3\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct dp_link dl = {.ports = {.sip_port = 5060}};
	struct cp_ctx cp = {.dp = &dl};
	struct sw_ip our;
	struct sip_msg sm;
	struct cp_msg *o = calloc(1, sizeof(*o));

	(void)state;
	cp.cfg.streams.n_listeners = 1;
	cp.cfg.streams.listeners[0].tp = SW_TP_TLS;
	cp.cfg.streams.listeners[0].port = 5061;
	assert_int_equal(sw_ip_parse("198.18.0.1", 10, &our), 0);
	assert_int_equal(sip_scan((const uint8_t *)IN, sizeof(IN) - 1, &sm), SIP_SCAN_OK);
	assert_int_equal(cp_call_build_invite(&cp, (const uint8_t *)IN, &sm,
					      "sip:alice@198.18.0.2:40000;transport=tls", &our,
					      NULL, "z9hG4bK-swCi00000000030000000", 0xb2,
					      SW_TP_TLS, o),
			 0);
	assert_int_equal(o->len, sizeof(WANT) - 1);
	assert_memory_equal(o->b, WANT, sizeof(WANT) - 1);
	free(o);
}

/* A held MESSAGE relayed to its woken device (cp_msg_held.c): its own
 * method, our Via on top, no Record-Route (no dialog: RFC 3428), the body
 * as the PBX sent it. */
static void message_keeps_its_method_and_records_no_route(void **state)
{
	static const char IN[] = "MESSAGE sip:alice@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-msg1\r\n"
				 "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=b1\r\n"
				 "To: <sip:alice@example.com>\r\nCall-ID: msg-1\r\n"
				 "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 2\r\n\r\nhi";
	static const char WANT[] =
		"MESSAGE sip:alice@198.18.0.2:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swCi00000000040000000;rport\r\n"
		"Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-msg1\r\n"
		"Max-Forwards: 69\r\nFrom: <sip:bob@example.com>;tag=b1\r\n"
		"To: <sip:alice@example.com>\r\nCall-ID: msg-1\r\n"
		"CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
		"Content-Length: 2\r\n\r\nhi";
	struct dp_link dl = {.ports = {.sip_port = 5060}};
	struct cp_ctx cp = {.dp = &dl};
	struct sw_ip our;
	struct sip_msg sm;
	struct cp_msg *o = calloc(1, sizeof(*o));

	(void)state;
	assert_int_equal(sw_ip_parse("198.18.0.1", 10, &our), 0);
	assert_int_equal(sip_scan((const uint8_t *)IN, sizeof(IN) - 1, &sm), SIP_SCAN_OK);
	assert_int_equal(cp_call_build_invite(&cp, (const uint8_t *)IN, &sm,
					      "sip:alice@198.18.0.2:5080", &our, NULL,
					      "z9hG4bK-swCi00000000040000000", 0, SW_TP_UDP, o),
			 0);
	if (o->len != sizeof(WANT) - 1 || memcmp(o->b, WANT, o->len) != 0)
		print_message("got:\n%.*s\n", (int)o->len, o->b);
	assert_int_equal(o->len, sizeof(WANT) - 1);
	assert_memory_equal(o->b, WANT, sizeof(WANT) - 1);
	free(o);
}

/* The Reason each late cause's CANCEL carries (RFC 3326). */
static void late_reasons_name_their_cause(void **state)
{
	(void)state;
	assert_non_null(strstr(cp_call_late_reason(CP_LATE_CANCELLED), "cause=487;"));
	assert_non_null(strstr(cp_call_late_reason(CP_LATE_ELSEWHERE), "cause=200;"));
	assert_string_equal(cp_call_late_reason(CP_LATE_TIMED_OUT),
			    "SIP;cause=480;text=\"Call not answered before the app woke\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cancel_is_section_9_1),
		cmocka_unit_test(invite_to_a_tls_device_records_two_routes),
		cmocka_unit_test(invite_changing_family_records_two_routes),
		cmocka_unit_test(ack_takes_the_answers_to_tag),
		cmocka_unit_test(invite_keeps_the_vias_one_run),
		cmocka_unit_test(message_keeps_its_method_and_records_no_route),
		cmocka_unit_test(late_reasons_name_their_cause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
