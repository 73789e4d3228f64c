/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the zero-copy SIP scanner (sip/sip_scan.h) on
 * valid messages: full requests and responses, compact and mixed-case
 * header names, folding, Via / Request-URI / name-addr parsing (with the
 * near misses of each form), and the verdict and method name tables.
 * This file has whole messages, framing and the tables, and main(), which
 * runs every sip_scan test; the Via, Request-URI and name-addr forms are in
 * test_sip_scan_forms.c. Malformed, truncated and junk input is in
 * test_sip_malformed.c.
 * Every input is copied into a heap buffer of exactly its length, with no
 * terminating NUL, so AddressSanitizer reports any read past the message.
 */
#include "sip_test_util.h"
#include "sip_scan_test.h"

static void test_options_sipp_full(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const uint8_t ids[] = {SIP_H_VIA,	  SIP_H_FROM,  SIP_H_TO,
				      SIP_H_CALL_ID,	  SIP_H_CSEQ,  SIP_H_CONTACT,
				      SIP_H_MAX_FORWARDS, SIP_H_OTHER, SIP_H_CONTENT_LENGTH};

	assert_verdict(scan(s, SIPP_OPTIONS), SIP_SCAN_OK);
	assert_int_equal(m->is_request, 1);
	assert_int_equal(m->method, SIP_M_OPTIONS);
	assert_slice(s, m->method_name, "OPTIONS");
	assert_int_equal(m->ruri.scheme, SIP_SCHEME_SIP);
	assert_slice(s, m->ruri.whole, "sip:service@127.0.0.1:5060");
	assert_slice(s, m->ruri.user, "service");
	assert_slice(s, m->ruri.host, "127.0.0.1");
	assert_int_equal(m->ruri.port, 5060);
	assert_int_equal(m->ruri.params.len, 0);
	assert_int_equal(m->ruri.host_is_ipv6, 0);

	assert_slice(s, m->via.value, "SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-4242-1-0;rport");
	assert_slice(s, m->via.transport, "UDP");
	assert_slice(s, m->via.host, "127.0.1.1");
	assert_int_equal(m->via.port, 5061);
	assert_slice(s, m->via.branch, "z9hG4bK-4242-1-0");
	assert_int_equal(m->via.received.len, 0);
	assert_int_equal(m->via.rport, 0);

	assert_slice(s, m->from.value, "sipp <sip:sipp@127.0.1.1:5061>;tag=4242SIPpTag001");
	assert_slice(s, m->from.uri.whole, "sip:sipp@127.0.1.1:5061");
	assert_slice(s, m->from.uri.user, "sipp");
	assert_slice(s, m->from.uri.host, "127.0.1.1");
	assert_int_equal(m->from.uri.port, 5061);
	assert_slice(s, m->from.tag, "4242SIPpTag001");
	assert_slice(s, m->to.uri.whole, "sip:service@127.0.0.1:5060");
	assert_int_equal(m->to.tag.len, 0);

	assert_slice(s, m->call_id, "1-4242@127.0.1.1");
	assert_int_equal(m->cseq, 1);
	assert_int_equal(m->cseq_method, SIP_M_OPTIONS);
	assert_slice(s, m->cseq_method_name, "OPTIONS");
	assert_int_equal(m->max_forwards, 70);
	assert_int_equal(m->content_length, 0);
	assert_int_equal(m->hdrs_end, strlen(SIPP_OPTIONS));
	assert_int_equal(m->msg_len, strlen(SIPP_OPTIONS));
	assert_int_equal(m->body.off, strlen(SIPP_OPTIONS));
	assert_int_equal(m->body.len, 0);

	assert_int_equal(m->nhdrs, N(ids));
	for (size_t i = 0; i < N(ids); i++)
		assert_int_equal(m->hdrs[i].id, ids[i]);
	assert_slice(s, m->hdrs[7].name, "Subject");
	assert_slice(s, m->hdrs[7].value, "Performance Test");
	assert_slice(s, m->hdrs[5].value, "sip:sipp@127.0.1.1:5061");
}

static void test_invite_with_sdp_body(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;

	assert_int_equal(strlen(SDP_BODY), SDP_LEN);
	assert_verdict(scan(s, INVITE), SIP_SCAN_OK);
	assert_int_equal(m->method, SIP_M_INVITE);
	assert_slice(s, m->ruri.user, "alice");
	assert_slice(s, m->ruri.host, "example.com");
	assert_int_equal(m->ruri.port, 0);
	assert_slice(s, m->via.host, "pbx.example.net");
	assert_int_equal(m->via.rport, -1);
	assert_slice(s, m->from.uri.user, "bob");
	assert_slice(s, m->from.tag, "1928301774");
	assert_int_equal(m->cseq, 314159);
	assert_int_equal(m->content_length, SDP_LEN);
	assert_int_equal(m->hdrs_end, strlen(INVITE) - SDP_LEN);
	assert_slice(s, m->body, SDP_BODY);
	assert_int_equal(m->msg_len, strlen(INVITE));
	assert_int_equal(m->hdrs[7].id, SIP_H_CONTENT_TYPE);
	assert_slice(s, m->hdrs[7].value, "application/sdp");
}

static void test_response_200_ok_invite(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;

	assert_verdict(scan(s, OK_200), SIP_SCAN_OK);
	assert_int_equal(m->is_request, 0);
	assert_int_equal(m->status, 200);
	assert_slice(s, m->reason, "OK");
	assert_int_equal(m->method, SIP_M_INVITE);
	assert_slice(s, m->method_name, "INVITE");
	assert_slice(s, m->via.received, "192.0.2.1");
	assert_slice(s, m->to.tag, "a6c85cf");
	assert_int_equal(m->ruri.whole.len, 0);
	assert_int_equal(m->max_forwards, -1);
}

static void test_response_to_options(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const char msg[] =
		"SIP/2.0 404 Not \xc3\x9c Found\r\n"
		"Via: SIP/2.0/UDP "
		"10.0.0.1:5061;branch=z9hG4bK-1;rport=5061;received=198.51.100.7\r\n"
		"From: <sip:ping@10.0.0.1>;tag=x\r\n"
		"To: <sip:sipwake@10.0.0.2>;tag=y\r\n"
		"Call-ID: abc\r\n"
		"CSeq: 7 OPTIONS\r\n"
		"\r\n";

	assert_verdict(scan(s, msg), SIP_SCAN_OK);
	assert_int_equal(m->status, 404);
	assert_slice(s, m->reason, "Not \xc3\x9c Found");
	assert_int_equal(m->method, SIP_M_OPTIONS);
	assert_int_equal(m->cseq, 7);
	assert_int_equal(m->via.rport, 5061);
	assert_slice(s, m->via.received, "198.51.100.7");
	assert_int_equal(m->content_length, -1);
	assert_int_equal(m->body.len, 0);
	/* Reason-Phrase may be empty; the SP before it may not be left out. */
	assert_edit(s, msg, "404 Not \xc3\x9c Found", "404 ", SIP_SCAN_OK);
	assert_int_equal(m->reason.len, 0);
	assert_edit(s, msg, "404 Not \xc3\x9c Found", "404", SIP_ERR_BAD_START_LINE);
}

static void test_compact_forms(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const char msg[] = "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
				  "v: SIP/2.0/TCP client.atlanta.com:5060;branch=z9hG4bK74b\r\n"
				  "f: <sip:alice@atlanta.com>;tag=9fxced76sl\r\n"
				  "t: <sip:bob@biloxi.com>\r\n"
				  "i: 3848276298220188511@atlanta.com\r\n"
				  "CSeq: 2 INVITE\r\n"
				  "m: <sip:alice@client.atlanta.com;transport=tcp>\r\n"
				  "c: application/sdp\r\n"
				  "k: path\r\n"
				  "l: 4\r\n"
				  "\r\n"
				  "v=0\n";
	static const uint8_t ids[] = {SIP_H_VIA,	  SIP_H_FROM,	   SIP_H_TO,
				      SIP_H_CALL_ID,	  SIP_H_CSEQ,	   SIP_H_CONTACT,
				      SIP_H_CONTENT_TYPE, SIP_H_SUPPORTED, SIP_H_CONTENT_LENGTH};

	assert_verdict(scan(s, msg), SIP_SCAN_OK);
	for (size_t i = 0; i < N(ids); i++)
		assert_int_equal(m->hdrs[i].id, ids[i]);
	assert_slice(s, m->hdrs[0].name, "v");
	assert_slice(s, m->via.transport, "TCP");
	assert_slice(s, m->from.tag, "9fxced76sl");
	assert_slice(s, m->call_id, "3848276298220188511@atlanta.com");
	assert_int_equal(m->content_length, 4);
	assert_slice(s, m->body, "v=0\n");
	/* A compact and a long form of one single-valued field are two copies. */
	assert_edit(s, msg, "l: 4\r\n", "l: 4\r\nContent-Length: 4\r\n", SIP_ERR_DUP_HEADER);
}

static void test_mixed_case_names(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const char msg[] = "REGISTER sip:registrar.example.com SIP/2.0\r\n"
				  "VIA: SIP/2.0/udp 192.0.2.5:5060;BRANCH=z9hG4bKnashds7\r\n"
				  "fRoM: <sip:bob@example.com>;TAG=456248\r\n"
				  "TO: <sip:bob@example.com>\r\n"
				  "call-ID: 843817637684230@998sdasdh09\r\n"
				  "cseq: 1826 REGISTER\r\n"
				  "MAX-FORWARDS: 70\r\n"
				  "CONTENT-length: 0\r\n"
				  "EXPIRES: 7200\r\n"
				  "x-PUSH: token\r\n"
				  "User-agent: t\r\n"
				  "ROUTE: <sip:r>\r\n"
				  "record-ROUTE: <sip:r>\r\n"
				  "SUPPORTED: path\r\n"
				  "y: unknown compact form\r\n"
				  "\r\n";
	static const uint8_t ids[] = {SIP_H_VIA,
				      SIP_H_FROM,
				      SIP_H_TO,
				      SIP_H_CALL_ID,
				      SIP_H_CSEQ,
				      SIP_H_MAX_FORWARDS,
				      SIP_H_CONTENT_LENGTH,
				      SIP_H_EXPIRES,
				      SIP_H_X_PUSH,
				      SIP_H_USER_AGENT,
				      SIP_H_ROUTE,
				      SIP_H_RECORD_ROUTE,
				      SIP_H_SUPPORTED,
				      SIP_H_OTHER};

	assert_verdict(scan(s, msg), SIP_SCAN_OK);
	for (size_t i = 0; i < N(ids); i++)
		assert_int_equal(m->hdrs[i].id, ids[i]);
	assert_slice(s, m->hdrs[0].name, "VIA");
	assert_int_equal(m->method, SIP_M_REGISTER);
	assert_int_equal(m->ruri.user.len, 0);
	assert_slice(s, m->via.transport, "udp");
	assert_slice(s, m->via.branch, "z9hG4bKnashds7");
	assert_slice(s, m->from.tag, "456248");
	assert_slice(s, m->call_id, "843817637684230@998sdasdh09");
	assert_int_equal(m->max_forwards, 70);
	/* Near misses of known names are other headers, not errors. */
	assert_edit(s, msg, "EXPIRES", "EXPIRE", SIP_SCAN_OK);
	assert_int_equal(m->hdrs[7].id, SIP_H_OTHER);
	assert_edit(s, msg, "x-PUSH", "x-PUSHY", SIP_SCAN_OK);
	assert_int_equal(m->hdrs[8].id, SIP_H_OTHER);
}

static void test_whitespace_around_colon(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const char msg[] =
		"OPTIONS sip:x@h SIP/2.0\r\n"
		"Via \t :  SIP / 2.0 / UDP  h : 5060 ; branch = z9hG4bK1 ; rport\r\n"
		"From:<sip:a@h>;tag=1\r\n"
		"To\t:\t<sip:b@h> \t\r\n"
		"Call-ID   :   c1   \r\n"
		"CSeq: 1   OPTIONS\r\n"
		"Subject:\r\n"
		"\r\n";

	assert_verdict(scan(s, msg), SIP_SCAN_OK);
	assert_slice(s, m->hdrs[0].name, "Via");
	assert_slice(s, m->via.transport, "UDP");
	assert_slice(s, m->via.host, "h");
	assert_int_equal(m->via.port, 5060);
	assert_slice(s, m->via.branch, "z9hG4bK1");
	assert_int_equal(m->via.rport, 0);
	assert_slice(s, m->hdrs[2].value, "<sip:b@h>");
	assert_slice(s, m->call_id, "c1");
	assert_slice(s, m->hdrs[5].name, "Subject");
	assert_int_equal(m->hdrs[5].value.len, 0);
}

static void test_folded_header_value(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const char msg[] = "OPTIONS sip:x@h SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP h\r\n"
				  "   ;branch=z9hG4bK1\r\n"
				  "From: <sip:a@h>\r\n"
				  "\t;tag=1\r\n"
				  "To:\r\n <sip:b@h>\r\n"
				  "Call-ID: c1\r\n"
				  "CSeq: 1\r\n OPTIONS\r\n"
				  "Subject: I know you're there,\r\n"
				  "  pick up the phone \r\n"
				  " \r\n"
				  "\r\n";

	assert_verdict(scan(s, msg), SIP_SCAN_OK);
	assert_int_equal(m->nhdrs, 6);
	assert_slice(s, m->via.branch, "z9hG4bK1");
	assert_slice(s, m->via.value, "SIP/2.0/UDP h\r\n   ;branch=z9hG4bK1");
	assert_slice(s, m->from.tag, "1");
	assert_slice(s, m->to.value, "<sip:b@h>");
	assert_int_equal(m->cseq, 1);
	assert_slice(s, m->hdrs[5].value, "I know you're there,\r\n  pick up the phone");
}

static void test_leading_crlf_skipped(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan(s, "\r\n\r\n" MINI), SIP_SCAN_OK);
	assert_slice(s, s->msg.method_name, "OPTIONS");
	assert_int_equal(s->msg.method_name.off, 4);
	assert_int_equal(s->msg.msg_len, strlen("\r\n\r\n" MINI));
	assert_verdict(scan(s, "\r\n\r\n"), SIP_ERR_TRUNCATED);
	assert_verdict(scan(s, "\n" MINI), SIP_ERR_BAD_START_LINE);
}

static void test_content_length_surplus_bytes(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;

	assert_verdict(scan(s, INVITE "SURPLUS"), SIP_SCAN_OK);
	assert_int_equal(m->msg_len, strlen(INVITE));
	assert_slice(s, m->body, SDP_BODY);
	assert_edit(s, INVITE, "Length: 131", "Length: 3", SIP_SCAN_OK);
	assert_slice(s, m->body, "v=0");
	assert_int_equal(m->msg_len, m->hdrs_end + 3);
}

static void test_content_length_absent_body_to_end(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan(s, INVITE_HEAD "\r\n" SDP_BODY), SIP_SCAN_OK);
	assert_int_equal(s->msg.content_length, -1);
	assert_slice(s, s->msg.body, SDP_BODY);
	assert_int_equal(s->msg.msg_len, strlen(INVITE_HEAD "\r\n" SDP_BODY));
}

static void test_verdict_names(void **state)
{
	static const char *const want[SIP_VERDICT_MAX] = {"ok",
#define WANT(e, name, desc) #name,
							  SIP_FOREACH_ERROR(WANT)
#undef WANT
	};

	(void)state;
	for (int v = 0; v < SIP_VERDICT_MAX; v++)
		assert_string_equal(sip_verdict_name((enum sip_verdict)v), want[v]);
	assert_string_equal(sip_verdict_name(SIP_ERR_TRUNCATED), "sip_truncated");
	assert_string_equal(sip_verdict_name(SIP_ERR_BAD_MAX_FORWARDS), "sip_bad_max_forwards");
	assert_non_null(sip_verdict_name(SIP_VERDICT_MAX));
	assert_non_null(sip_verdict_name((enum sip_verdict) - 1));
}

static void test_method_from(void **state)
{
	static const struct {
		const char *name;
		enum sip_method m;
	} cases[] = {
		{"INVITE", SIP_M_INVITE},    {"ACK", SIP_M_ACK},
		{"BYE", SIP_M_BYE},	     {"CANCEL", SIP_M_CANCEL},
		{"OPTIONS", SIP_M_OPTIONS},  {"REGISTER", SIP_M_REGISTER},
		{"PRACK", SIP_M_PRACK},	     {"SUBSCRIBE", SIP_M_SUBSCRIBE},
		{"NOTIFY", SIP_M_NOTIFY},    {"PUBLISH", SIP_M_PUBLISH},
		{"INFO", SIP_M_INFO},	     {"REFER", SIP_M_REFER},
		{"MESSAGE", SIP_M_MESSAGE},  {"UPDATE", SIP_M_UPDATE},
		{"invite", SIP_M_OTHER},     {"INVITEX", SIP_M_OTHER},
		{"INVIT", SIP_M_OTHER},	     {"FOO", SIP_M_OTHER},
		{"", SIP_M_OTHER},	     {"INFX", SIP_M_OTHER},
		{"REGISTRR", SIP_M_OTHER},   {"SUBSCRIBX", SIP_M_OTHER},
		{"SUBSCRIBEX", SIP_M_OTHER},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(
			sip_method_from((const uint8_t *)cases[i].name, strlen(cases[i].name)),
			cases[i].m);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, sc_setup, sc_teardown)
	const struct CMUnitTest tests[] = {
		T(test_options_sipp_full),
		T(test_invite_with_sdp_body),
		T(test_response_200_ok_invite),
		T(test_response_to_options),
		T(test_compact_forms),
		T(test_mixed_case_names),
		T(test_whitespace_around_colon),
		T(test_folded_header_value),
		T(test_via_several_values_in_one_field),
		T(test_via_multiple_fields),
		T(test_via_ipv6_sent_by),
		T(test_ruri_ipv6_host),
		T(test_via_rport_variants),
		T(test_via_received),
		T(test_leading_crlf_skipped),
		T(test_content_length_surplus_bytes),
		T(test_content_length_absent_body_to_end),
		T(test_uri_forms),
		T(test_nameaddr_forms),
		T(test_verdict_names),
		T(test_method_from),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
