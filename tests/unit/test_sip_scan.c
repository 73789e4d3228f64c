/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the zero-copy SIP scanner (dataplane/sip/sip_scan.h).
 * Every input is copied into a heap buffer of exactly its length, with no
 * terminating NUL, so AddressSanitizer reports any read past the message.
 * Malformed cases are tables of edits to a valid message, so each one
 * differs from an accepted message in exactly the way it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/sip/sip_scan.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct sc {
	uint8_t *buf;
	uint32_t len;
	struct dp_sip_msg msg;
};

static int sc_setup(void **state)
{
	*state = calloc(1, sizeof(struct sc));
	return *state == NULL ? -1 : 0;
}

static int sc_teardown(void **state)
{
	struct sc *s = *state;

	free(s->buf);
	free(s);
	return 0;
}

/* Scan @p len bytes of @p data from an exactly sized copy, kept for slice checks. */
static enum dp_sip_verdict scan_mem(struct sc *s, const void *data, size_t len)
{
	free(s->buf);
	s->buf = malloc(len); /* may be NULL for len 0: the scanner must not read it then */
	assert_true(len == 0 || s->buf != NULL);
	if (len != 0)
		memcpy(s->buf, data, len);
	s->len = (uint32_t)len;
	return dp_sip_scan(s->buf, s->len, &s->msg);
}

static enum dp_sip_verdict scan(struct sc *s, const char *text)
{
	return scan_mem(s, text, strlen(text));
}

/* Scan @p base with the first occurrence of @p from replaced by @p to. */
static enum dp_sip_verdict scan_edit(struct sc *s, const char *base, const char *from,
				     const char *to)
{
	const char *at = strstr(base, from);
	size_t flen = strlen(from), tlen = strlen(to), blen = strlen(base);
	enum dp_sip_verdict v;
	size_t head;
	char *tmp;

	assert_non_null(at);
	head = (size_t)(at - base);
	tmp = malloc(blen - flen + tlen);
	assert_non_null(tmp);
	memcpy(tmp, base, head);
	memcpy(tmp + head, to, tlen);
	memcpy(tmp + head + tlen, at + flen, blen - head - flen);
	v = scan_mem(s, tmp, blen - flen + tlen);
	free(tmp);
	return v;
}

static void check_slice(const uint8_t *buf, struct dp_sip_slice sl, const char *want,
			const char *file, int line)
{
	size_t n = strlen(want);

	if (sl.len != n || memcmp(buf + sl.off, want, n) != 0) {
		print_error("%s:%d: slice \"%.*s\" != \"%s\"\n", file, line, (int)sl.len,
			    (const char *)buf + sl.off, want);
		fail();
	}
}
#define assert_slice(s, sl, want) check_slice((s)->buf, (sl), (want), __FILE__, __LINE__)

static void check_verdict(enum dp_sip_verdict got, enum dp_sip_verdict want, const char *file,
			  int line)
{
	if (got != want) {
		print_error("%s:%d: verdict %s, expected %s\n", file, line,
			    dp_sip_verdict_name(got), dp_sip_verdict_name(want));
		fail();
	}
}
#define assert_verdict(got, want) check_verdict((got), (want), __FILE__, __LINE__)
#define assert_edit(s, base, from, to, want) \
	check_verdict(scan_edit((s), (base), (from), (to)), (want), __FILE__, __LINE__)

/* One malformed (or deliberately accepted) variant: base with from -> to. */
struct edit {
	const char *from;
	const char *to;
	enum dp_sip_verdict want;
};

static void check_edits(struct sc *s, const char *base, const struct edit *e, size_t n,
			const char *file, int line)
{
	for (size_t i = 0; i < n; i++) {
		enum dp_sip_verdict got = scan_edit(s, base, e[i].from, e[i].to);

		if (got != e[i].want) {
			print_error("%s:%d: case %zu \"%s\": verdict %s, expected %s\n", file, line,
				    i, e[i].to, dp_sip_verdict_name(got),
				    dp_sip_verdict_name(e[i].want));
			fail();
		}
	}
}
#define assert_edits(s, base, table) check_edits((s), (base), (table), N(table), __FILE__, __LINE__)

/* What sipp's built-in UAC sends for OPTIONS. */
#define SIPP_OPTIONS                                                        \
	"OPTIONS sip:service@127.0.0.1:5060 SIP/2.0\r\n"                    \
	"Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-4242-1-0;rport\r\n" \
	"From: sipp <sip:sipp@127.0.1.1:5061>;tag=4242SIPpTag001\r\n"       \
	"To: sut <sip:service@127.0.0.1:5060>\r\n"                          \
	"Call-ID: 1-4242@127.0.1.1\r\n"                                     \
	"CSeq: 1 OPTIONS\r\n"                                               \
	"Contact: sip:sipp@127.0.1.1:5061\r\n"                              \
	"Max-Forwards: 70\r\n"                                              \
	"Subject: Performance Test\r\n"                                     \
	"Content-Length: 0\r\n"                                             \
	"\r\n"

#define SDP_BODY                                            \
	"v=0\r\n"                                           \
	"o=user1 53655765 2353687637 IN IP4 192.0.2.10\r\n" \
	"s=-\r\n"                                           \
	"c=IN IP4 192.0.2.10\r\n"                           \
	"t=0 0\r\n"                                         \
	"m=audio 6000 RTP/AVP 0\r\n"                        \
	"a=rtpmap:0 PCMU/8000\r\n"
#define SDP_LEN 131

#define INVITE_HEAD                                                         \
	"INVITE sip:alice@example.com SIP/2.0\r\n"                          \
	"Via: SIP/2.0/UDP pbx.example.net:5060;branch=z9hG4bK776asdhds\r\n" \
	"Max-Forwards: 70\r\n"                                              \
	"To: Alice <sip:alice@example.com>\r\n"                             \
	"From: \"Bob B.\" <sip:bob@example.net>;tag=1928301774\r\n"         \
	"Call-ID: a84b4c76e66710@pc33.example.net\r\n"                      \
	"CSeq: 314159 INVITE\r\n"                                           \
	"Contact: <sip:bob@192.0.2.4>\r\n"                                  \
	"Content-Type: application/sdp\r\n"
#define INVITE INVITE_HEAD "Content-Length: 131\r\n\r\n" SDP_BODY

#define OK_200                                                                                 \
	"SIP/2.0 200 OK\r\n"                                                                   \
	"Via: SIP/2.0/UDP pbx.example.net:5060;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n" \
	"To: Alice <sip:alice@example.com>;tag=a6c85cf\r\n"                                    \
	"From: \"Bob B.\" <sip:bob@example.net>;tag=1928301774\r\n"                            \
	"Call-ID: a84b4c76e66710@pc33.example.net\r\n"                                         \
	"CSeq: 314159 INVITE\r\n"                                                              \
	"Contact: <sip:alice@192.0.2.20>\r\n"                                                  \
	"Content-Length: 0\r\n"                                                                \
	"\r\n"

/* The smallest message with every mandatory field (5 of them), for the edits below. */
#define MINI                                     \
	"OPTIONS sip:x@h SIP/2.0\r\n"            \
	"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n" \
	"From: <sip:a@h>;tag=1\r\n"              \
	"To: <sip:b@h>\r\n"                      \
	"Call-ID: c1\r\n"                        \
	"CSeq: 1 OPTIONS\r\n"                    \
	"\r\n"
#define MINI_HDRS 5

static void test_options_sipp_full(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
	static const uint8_t ids[] = {
		DP_SIP_H_VIA,	       DP_SIP_H_FROM,  DP_SIP_H_TO,
		DP_SIP_H_CALL_ID,      DP_SIP_H_CSEQ,  DP_SIP_H_CONTACT,
		DP_SIP_H_MAX_FORWARDS, DP_SIP_H_OTHER, DP_SIP_H_CONTENT_LENGTH};

	assert_verdict(scan(s, SIPP_OPTIONS), DP_SIP_OK);
	assert_int_equal(m->is_request, 1);
	assert_int_equal(m->method, DP_SIP_M_OPTIONS);
	assert_slice(s, m->method_name, "OPTIONS");
	assert_int_equal(m->ruri.scheme, DP_SIP_SCHEME_SIP);
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
	assert_int_equal(m->cseq_method, DP_SIP_M_OPTIONS);
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
	const struct dp_sip_msg *m = &s->msg;

	assert_int_equal(strlen(SDP_BODY), SDP_LEN);
	assert_verdict(scan(s, INVITE), DP_SIP_OK);
	assert_int_equal(m->method, DP_SIP_M_INVITE);
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
	assert_int_equal(m->hdrs[7].id, DP_SIP_H_CONTENT_TYPE);
	assert_slice(s, m->hdrs[7].value, "application/sdp");
}

static void test_response_200_ok_invite(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;

	assert_verdict(scan(s, OK_200), DP_SIP_OK);
	assert_int_equal(m->is_request, 0);
	assert_int_equal(m->status, 200);
	assert_slice(s, m->reason, "OK");
	assert_int_equal(m->method, DP_SIP_M_INVITE);
	assert_slice(s, m->method_name, "INVITE");
	assert_slice(s, m->via.received, "192.0.2.1");
	assert_slice(s, m->to.tag, "a6c85cf");
	assert_int_equal(m->ruri.whole.len, 0);
	assert_int_equal(m->max_forwards, -1);
}

static void test_response_to_options(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
	static const char msg[] =
		"SIP/2.0 404 Not \xc3\x9c Found\r\n"
		"Via: SIP/2.0/UDP "
		"10.0.0.1:5061;branch=z9hG4bK-1;rport=5061;received=198.51.100.7\r\n"
		"From: <sip:ping@10.0.0.1>;tag=x\r\n"
		"To: <sip:sipwake@10.0.0.2>;tag=y\r\n"
		"Call-ID: abc\r\n"
		"CSeq: 7 OPTIONS\r\n"
		"\r\n";

	assert_verdict(scan(s, msg), DP_SIP_OK);
	assert_int_equal(m->status, 404);
	assert_slice(s, m->reason, "Not \xc3\x9c Found");
	assert_int_equal(m->method, DP_SIP_M_OPTIONS);
	assert_int_equal(m->cseq, 7);
	assert_int_equal(m->via.rport, 5061);
	assert_slice(s, m->via.received, "198.51.100.7");
	assert_int_equal(m->content_length, -1);
	assert_int_equal(m->body.len, 0);
	/* Reason-Phrase may be empty; the SP before it may not be left out. */
	assert_edit(s, msg, "404 Not \xc3\x9c Found", "404 ", DP_SIP_OK);
	assert_int_equal(m->reason.len, 0);
	assert_edit(s, msg, "404 Not \xc3\x9c Found", "404", DP_SIP_ERR_BAD_START_LINE);
}

static void test_compact_forms(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
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
	static const uint8_t ids[] = {
		DP_SIP_H_VIA,	       DP_SIP_H_FROM,	   DP_SIP_H_TO,
		DP_SIP_H_CALL_ID,      DP_SIP_H_CSEQ,	   DP_SIP_H_CONTACT,
		DP_SIP_H_CONTENT_TYPE, DP_SIP_H_SUPPORTED, DP_SIP_H_CONTENT_LENGTH};

	assert_verdict(scan(s, msg), DP_SIP_OK);
	for (size_t i = 0; i < N(ids); i++)
		assert_int_equal(m->hdrs[i].id, ids[i]);
	assert_slice(s, m->hdrs[0].name, "v");
	assert_slice(s, m->via.transport, "TCP");
	assert_slice(s, m->from.tag, "9fxced76sl");
	assert_slice(s, m->call_id, "3848276298220188511@atlanta.com");
	assert_int_equal(m->content_length, 4);
	assert_slice(s, m->body, "v=0\n");
	/* A compact and a long form of one single-valued field are two copies. */
	assert_edit(s, msg, "l: 4\r\n", "l: 4\r\nContent-Length: 4\r\n", DP_SIP_ERR_DUP_HEADER);
}

static void test_mixed_case_names(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
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
	static const uint8_t ids[] = {DP_SIP_H_VIA,
				      DP_SIP_H_FROM,
				      DP_SIP_H_TO,
				      DP_SIP_H_CALL_ID,
				      DP_SIP_H_CSEQ,
				      DP_SIP_H_MAX_FORWARDS,
				      DP_SIP_H_CONTENT_LENGTH,
				      DP_SIP_H_EXPIRES,
				      DP_SIP_H_X_PUSH,
				      DP_SIP_H_USER_AGENT,
				      DP_SIP_H_ROUTE,
				      DP_SIP_H_RECORD_ROUTE,
				      DP_SIP_H_SUPPORTED,
				      DP_SIP_H_OTHER};

	assert_verdict(scan(s, msg), DP_SIP_OK);
	for (size_t i = 0; i < N(ids); i++)
		assert_int_equal(m->hdrs[i].id, ids[i]);
	assert_slice(s, m->hdrs[0].name, "VIA");
	assert_int_equal(m->method, DP_SIP_M_REGISTER);
	assert_int_equal(m->ruri.user.len, 0);
	assert_slice(s, m->via.transport, "udp");
	assert_slice(s, m->via.branch, "z9hG4bKnashds7");
	assert_slice(s, m->from.tag, "456248");
	assert_slice(s, m->call_id, "843817637684230@998sdasdh09");
	assert_int_equal(m->max_forwards, 70);
	/* Near misses of known names are other headers, not errors. */
	assert_edit(s, msg, "EXPIRES", "EXPIRE", DP_SIP_OK);
	assert_int_equal(m->hdrs[7].id, DP_SIP_H_OTHER);
	assert_edit(s, msg, "x-PUSH", "x-PUSHY", DP_SIP_OK);
	assert_int_equal(m->hdrs[8].id, DP_SIP_H_OTHER);
}

static void test_whitespace_around_colon(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
	static const char msg[] =
		"OPTIONS sip:x@h SIP/2.0\r\n"
		"Via \t :  SIP / 2.0 / UDP  h : 5060 ; branch = z9hG4bK1 ; rport\r\n"
		"From:<sip:a@h>;tag=1\r\n"
		"To\t:\t<sip:b@h> \t\r\n"
		"Call-ID   :   c1   \r\n"
		"CSeq: 1   OPTIONS\r\n"
		"Subject:\r\n"
		"\r\n";

	assert_verdict(scan(s, msg), DP_SIP_OK);
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
	const struct dp_sip_msg *m = &s->msg;
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

	assert_verdict(scan(s, msg), DP_SIP_OK);
	assert_int_equal(m->nhdrs, 6);
	assert_slice(s, m->via.branch, "z9hG4bK1");
	assert_slice(s, m->via.value, "SIP/2.0/UDP h\r\n   ;branch=z9hG4bK1");
	assert_slice(s, m->from.tag, "1");
	assert_slice(s, m->to.value, "<sip:b@h>");
	assert_int_equal(m->cseq, 1);
	assert_slice(s, m->hdrs[5].value, "I know you're there,\r\n  pick up the phone");
}

static void test_via_several_values_in_one_field(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;

	assert_edit(s, MINI, "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
		    "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b", DP_SIP_OK);
	assert_slice(s, m->via.value, "SIP/2.0/UDP a;branch=z9hG4bK1");
	assert_slice(s, m->via.host, "a");
	assert_slice(s, m->via.branch, "z9hG4bK1");
	assert_slice(s, m->hdrs[0].value, "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b");

	assert_edit(s, MINI, "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
		    "Via: SIP/2.0/UDP a:5070 , SIP/2.0/TCP b;branch=z9hG4bK2", DP_SIP_OK);
	assert_slice(s, m->via.value, "SIP/2.0/UDP a:5070");
	assert_int_equal(m->via.port, 5070);
	assert_int_equal(m->via.branch.len, 0);
}

static void test_via_multiple_fields(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;

	assert_edit(s, MINI, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
		    "Via: SIP/2.0/UDP top.example;branch=z9hG4bKtop\r\n"
		    "v: SIP/2.0/TCP second.example;branch=z9hG4bK2\r\n"
		    "Via: SIP/2.0/UDP third.example;branch=z9hG4bK3\r\n",
		    DP_SIP_OK);
	assert_slice(s, m->via.host, "top.example");
	assert_slice(s, m->via.branch, "z9hG4bKtop");
	assert_int_equal(m->hdrs[1].id, DP_SIP_H_VIA);
	assert_int_equal(m->hdrs[2].id, DP_SIP_H_VIA);
	assert_slice(s, m->hdrs[2].value, "SIP/2.0/UDP third.example;branch=z9hG4bK3");
	/* Only the top Via is parsed: a lower hop's Via is forwarded, not judged. */
	assert_edit(s, MINI, "Call-ID", "Via: whatever\r\nCall-ID", DP_SIP_OK);
	assert_edit(s, MINI, "Via: SIP", "Via: whatever\r\nVia: SIP", DP_SIP_ERR_BAD_VIA);
}

static void test_via_ipv6_sent_by(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
	static const struct edit bad[] = {
		{"UDP h;", "UDP [2001:db8::1;", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [2001:db8:::1];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1:2:3:4:5:6:7:8:9];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1:2:3:4:5:6:7];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [12345::1];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1::2::3];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::1:];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::ffff:1.2.3.256];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::ffff:1.2.3];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::ffff:1.2.3.4.5];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [:1];", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::1]:0;", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [::1]:65536;", DP_SIP_ERR_BAD_VIA},
		{"UDP h;", "UDP [1:2:3:4:5:6:7:8];", DP_SIP_OK},
		{"UDP h;", "UDP [1:2:3:4:5:6::8];", DP_SIP_OK},
		{"UDP h;", "UDP [1::];", DP_SIP_OK},
		{"UDP h;", "UDP [::];", DP_SIP_OK},
	};

	assert_edit(s, MINI, "UDP h;branch", "UDP [2001:db8::1]:5062;received=[2001:db8::9];branch",
		    DP_SIP_OK);
	assert_slice(s, m->via.host, "2001:db8::1");
	assert_int_equal(m->via.host_is_ipv6, 1);
	assert_int_equal(m->via.port, 5062);
	assert_slice(s, m->via.received, "[2001:db8::9]");
	assert_edit(s, MINI, "UDP h;", "UDP [::ffff:192.0.2.1];", DP_SIP_OK);
	assert_slice(s, m->via.host, "::ffff:192.0.2.1");
	assert_int_equal(m->via.port, 0);
	assert_edits(s, MINI, bad);
}

static void test_ruri_ipv6_host(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;

	assert_edit(s, MINI, "sip:x@h SIP", "sip:bob@[2001:db8::7]:5080;transport=udp SIP",
		    DP_SIP_OK);
	assert_slice(s, m->ruri.user, "bob");
	assert_slice(s, m->ruri.host, "2001:db8::7");
	assert_int_equal(m->ruri.host_is_ipv6, 1);
	assert_int_equal(m->ruri.port, 5080);
	assert_slice(s, m->ruri.params, "transport=udp");
	assert_edit(s, MINI, "sip:x@h SIP", "sip:[::1] SIP", DP_SIP_OK);
	assert_slice(s, m->ruri.host, "::1");
	assert_int_equal(m->ruri.user.len, 0);
	assert_edit(s, MINI, "sip:x@h SIP", "sip:[::1 SIP", DP_SIP_ERR_BAD_URI);
	assert_edit(s, MINI, "sip:x@h SIP", "sip:[fe80::1%eth0] SIP", DP_SIP_ERR_BAD_URI);
}

static void test_via_rport_variants(void **state)
{
	struct sc *s = *state;
	static const struct edit bad[] = {
		{"z9hG4bK1", "z9hG4bK1;rport=", DP_SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport=0", DP_SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport=65536", DP_SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport=x", DP_SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;rport;rport=5", DP_SIP_ERR_BAD_VIA},
	};

	assert_verdict(scan(s, MINI), DP_SIP_OK);
	assert_int_equal(s->msg.via.rport, -1);
	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;rport", DP_SIP_OK);
	assert_int_equal(s->msg.via.rport, 0);
	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;rport=40123", DP_SIP_OK);
	assert_int_equal(s->msg.via.rport, 40123);
	assert_edit(s, MINI, ";branch", ";RPort = 65535;branch", DP_SIP_OK);
	assert_int_equal(s->msg.via.rport, 65535);
	assert_edits(s, MINI, bad);
}

static void test_via_received(void **state)
{
	struct sc *s = *state;
	static const struct edit bad[] = {
		{"z9hG4bK1", "z9hG4bK1;received=", DP_SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;received", DP_SIP_ERR_BAD_VIA},
		{"z9hG4bK1", "z9hG4bK1;received=1.2.3.4;received=5.6.7.8", DP_SIP_ERR_BAD_VIA},
	};

	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;received=203.0.113.9;rport=1024", DP_SIP_OK);
	assert_slice(s, s->msg.via.received, "203.0.113.9");
	assert_int_equal(s->msg.via.rport, 1024);
	assert_edit(s, MINI, "z9hG4bK1", "z9hG4bK1;received=\"q,;\";x", DP_SIP_OK);
	assert_slice(s, s->msg.via.received, "\"q,;\"");
	assert_edits(s, MINI, bad);
}

static void test_leading_crlf_skipped(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan(s, "\r\n\r\n" MINI), DP_SIP_OK);
	assert_slice(s, s->msg.method_name, "OPTIONS");
	assert_int_equal(s->msg.method_name.off, 4);
	assert_int_equal(s->msg.msg_len, strlen("\r\n\r\n" MINI));
	assert_verdict(scan(s, "\r\n\r\n"), DP_SIP_ERR_TRUNCATED);
	assert_verdict(scan(s, "\n" MINI), DP_SIP_ERR_BAD_START_LINE);
}

static void test_empty_buffer(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan_mem(s, "", 0), DP_SIP_ERR_TRUNCATED);
	assert_verdict(dp_sip_scan(NULL, 0, &s->msg), DP_SIP_ERR_TRUNCATED);
}

/* Decision (sip_scan.c): over DP_SIP_MAX_LEN is TRUNCATED, the scanner sees only a prefix. */
static void test_oversize_buffer(void **state)
{
	struct sc *s = *state;
	size_t n = DP_SIP_MAX_LEN + 1;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, MINI, strlen(MINI));
	assert_verdict(scan_mem(s, big, n), DP_SIP_ERR_TRUNCATED);
	/* One byte less fits: the body (no Content-Length) runs to the end. */
	assert_verdict(scan_mem(s, big, n - 1), DP_SIP_OK);
	assert_int_equal(s->msg.msg_len, DP_SIP_MAX_LEN);
	assert_int_equal(s->msg.body.len, DP_SIP_MAX_LEN - strlen(MINI));
	free(big);
}

static void test_every_prefix_of_options_rejected(void **state)
{
	struct sc *s = *state;
	size_t n = strlen(SIPP_OPTIONS);

	for (size_t i = 0; i < n; i++)
		assert_verdict(scan_mem(s, SIPP_OPTIONS, i), DP_SIP_ERR_TRUNCATED);
	assert_verdict(scan_mem(s, SIPP_OPTIONS, n), DP_SIP_OK);
}

static void test_every_prefix_of_invite_rejected(void **state)
{
	struct sc *s = *state;
	size_t n = strlen(INVITE);

	/* Cut in the headers: TRUNCATED; cut in the body: shorter than Content-Length. */
	for (size_t i = 0; i < n; i++)
		assert_verdict(scan_mem(s, INVITE, i), i < n - SDP_LEN
							       ? DP_SIP_ERR_TRUNCATED
							       : DP_SIP_ERR_BAD_CONTENT_LENGTH);
	assert_verdict(scan_mem(s, INVITE, n), DP_SIP_OK);
}

static void test_no_crlf_at_all(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan(s, "OPTIONS sip:x@h SIP/2.0"), DP_SIP_ERR_TRUNCATED);
	assert_verdict(scan(s, "hello"), DP_SIP_ERR_TRUNCATED);
	assert_verdict(scan(s, "\r"), DP_SIP_ERR_TRUNCATED);
	/* Headers that never reach the empty line. */
	assert_verdict(scan_mem(s, MINI, strlen(MINI) - 2), DP_SIP_ERR_TRUNCATED);
}

/* Decision (sip_scan.c): a bare LF is not a line ending; a bare CR is a control byte. */
static void test_bare_lf_line_endings_rejected(void **state)
{
	struct sc *s = *state;
	static const char lf_only[] = "OPTIONS sip:x@h SIP/2.0\n"
				      "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
				      "From: <sip:a@h>;tag=1\n"
				      "To: <sip:b@h>\n"
				      "Call-ID: c1\n"
				      "CSeq: 1 OPTIONS\n"
				      "\n";
	static const struct edit bad[] = {
		{"Call-ID: c1\r\n", "Call-ID: c1\n", DP_SIP_ERR_BAD_HEADER},
		{"c1\r\n", "c1\nVia: SIP/2.0/UDP evil\r\n", DP_SIP_ERR_BAD_HEADER},
		{"OPTIONS\r\n\r\n", "OPTIONS\r\n\n", DP_SIP_ERR_BAD_HEADER},
		{"c1\r\n", "c1\r\n\nX: y\r\n", DP_SIP_ERR_BAD_HEADER},
		{"c1\r\n", "c1\rX\r\n", DP_SIP_ERR_BAD_CHAR},
		{"SIP/2.0\r\n", "SIP/2.0\rX\r\n", DP_SIP_ERR_BAD_CHAR},
		{"OPTIONS\r\n\r\n", "OPTIONS\r\n\rX", DP_SIP_ERR_BAD_CHAR},
	};

	assert_verdict(scan(s, lf_only), DP_SIP_ERR_BAD_START_LINE);
	assert_edits(s, MINI, bad);
}

/* MINI plus a Subject field of exactly @p field_len bytes (name to end of value). */
static enum dp_sip_verdict scan_with_field_len(struct sc *s, size_t field_len)
{
	size_t head = strlen(MINI) - 2;
	char *msg = malloc(head + field_len + 4);
	enum dp_sip_verdict v;

	assert_non_null(msg);
	memcpy(msg, MINI, head);
	memcpy(msg + head, "Subject: ", 9);
	memset(msg + head + 9, 'x', field_len - 9);
	memcpy(msg + head + field_len, "\r\n\r\n", 4);
	v = scan_mem(s, msg, head + field_len + 4);
	free(msg);
	return v;
}

static void test_header_too_long(void **state)
{
	struct sc *s = *state;
	size_t head = strlen(MINI) - 2, n = head;
	char *msg = malloc(8000);

	assert_verdict(scan_with_field_len(s, DP_SIP_MAX_HDR_LEN), DP_SIP_OK);
	assert_int_equal(s->msg.hdrs[MINI_HDRS].value.len, DP_SIP_MAX_HDR_LEN - 9);
	assert_verdict(scan_with_field_len(s, DP_SIP_MAX_HDR_LEN + 1), DP_SIP_ERR_HEADER_TOO_LONG);
	assert_verdict(scan_with_field_len(s, 3 * DP_SIP_MAX_HDR_LEN), DP_SIP_ERR_HEADER_TOO_LONG);

	/* Folds count: three 2000-byte lines are one 6000-byte field. */
	assert_non_null(msg);
	memcpy(msg, MINI, head);
	memcpy(msg + n, "Subject: ", 9);
	n += 9;
	for (int i = 0; i < 3; i++, n += 2003) {
		memset(msg + n, 'y', 2000);
		memcpy(msg + n + 2000, "\r\n ", 3);
	}
	memcpy(msg + n, "\r\n\r\n", 4);
	assert_verdict(scan_mem(s, msg, n + 4), DP_SIP_ERR_HEADER_TOO_LONG);
	/* So does the name. */
	memset(msg + head, 'N', 5000);
	memcpy(msg + head + 5000, ": v\r\n\r\n", 7);
	assert_verdict(scan_mem(s, msg, head + 5007), DP_SIP_ERR_HEADER_TOO_LONG);
	free(msg);
}

static enum dp_sip_verdict scan_with_extra_headers(struct sc *s, unsigned extra)
{
	size_t n = strlen(MINI) - 2;
	char *msg = malloc(n + extra * 16 + 2);
	enum dp_sip_verdict v;

	assert_non_null(msg);
	memcpy(msg, MINI, n);
	for (unsigned i = 0; i < extra; i++)
		n += (size_t)sprintf(msg + n, "X-H%03u: v\r\n", i);
	memcpy(msg + n, "\r\n", 2);
	v = scan_mem(s, msg, n + 2);
	free(msg);
	return v;
}

static void test_too_many_headers(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan_with_extra_headers(s, DP_SIP_MAX_HDRS - MINI_HDRS), DP_SIP_OK);
	assert_int_equal(s->msg.nhdrs, DP_SIP_MAX_HDRS);
	assert_slice(s, s->msg.hdrs[DP_SIP_MAX_HDRS - 1].name, "X-H058");
	assert_verdict(scan_with_extra_headers(s, DP_SIP_MAX_HDRS - MINI_HDRS + 1),
		       DP_SIP_ERR_TOO_MANY_HEADERS);
	assert_verdict(scan_with_extra_headers(s, 200), DP_SIP_ERR_TOO_MANY_HEADERS);
}

/* xorshift64 from a fixed seed, so a failure replays. */
static uint64_t prng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_binary_junk_never_ok(void **state)
{
	struct sc *s = *state;
	static const char line[] = "OPTIONS sip:x@h SIP/2.0\r\n";
	uint64_t seed = 0x5eed5eed12345678ull;
	uint8_t junk[1500];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)(prng(&seed) % sizeof(junk)) + 1;

		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)prng(&seed);
		/* Half the runs start like SIP, so the header loop sees junk too. */
		if ((iter & 1) && n > sizeof(line))
			memcpy(junk, line, sizeof(line) - 1);
		assert_int_not_equal(scan_mem(s, junk, n), DP_SIP_OK);
	}
}

/* Valid messages with a few bytes changed or cut: any verdict, never a stray read. */
static void test_mutated_messages_do_not_crash(void **state)
{
	struct sc *s = *state;
	static const char *const bases[] = {SIPP_OPTIONS, INVITE, OK_200};
	static const uint8_t special[] = {'\r', '\n', ' ', '\t', ':', ';', ',', '<', '>',  '"',
					  '[',	']',  '@', '\\', '/', '=', '%', 0,   0x7f, 0xc3};
	uint64_t seed = 42;
	uint8_t buf[1024];

	for (int iter = 0; iter < 30000; iter++) {
		size_t n = strlen(bases[iter % 3]);
		enum dp_sip_verdict v;

		memcpy(buf, bases[iter % 3], n);
		for (int k = (int)(prng(&seed) % 4); k >= 0; k--) {
			uint64_t r = prng(&seed);

			buf[r % n] = (r >> 32) & 1 ? special[(r >> 33) % sizeof(special)]
						   : (uint8_t)(r >> 40);
		}
		if (prng(&seed) % 3 == 0)
			n -= prng(&seed) % n;
		v = scan_mem(s, buf, n);
		assert_true(v < DP_SIP_VERDICT_MAX);
		if (v == DP_SIP_OK)
			assert_true(s->msg.hdrs_end <= s->msg.msg_len && s->msg.msg_len <= n);
	}
}

static void test_control_bytes_rejected(void **state)
{
	struct sc *s = *state;
	static const char nul_in_value[] = "OPTIONS sip:x@h SIP/2.0\r\n"
					   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
					   "From: <sip:a@h>;tag=1\r\n"
					   "To: <sip:b@h>\r\n"
					   "Call-ID: c\0001\r\n"
					   "CSeq: 1 OPTIONS\r\n"
					   "\r\n";
	static const char nul_in_body[] = MINI "a\0b";
	static const struct edit cases[] = {
		{"Call-ID", "X-Fo\001o: 1\r\nCall-ID", DP_SIP_ERR_BAD_CHAR},
		{"Call-ID: c1", "Call-ID: c\0331", DP_SIP_ERR_BAD_CHAR},
		{"Call-ID: c1", "Call-ID: c\1771", DP_SIP_ERR_BAD_CHAR},
		{"sip:x@h", "sip:x\001@h", DP_SIP_ERR_BAD_CHAR},
		{"sip:x@h", "sip:x\177@h", DP_SIP_ERR_BAD_CHAR},
		/* UTF-8 is fine in values, not in names or methods; HT is whitespace. */
		{"Call-ID", "Subj\xc3\xa9t: a\r\nCall-ID", DP_SIP_ERR_BAD_HEADER},
		{"OPTIONS sip", "OPTI\xc3\x96NS sip", DP_SIP_ERR_BAD_START_LINE},
		{"Call-ID", "Subject: a\tb \xe2\x98\x8e\r\nCall-ID", DP_SIP_OK},
	};

	assert_verdict(scan_mem(s, nul_in_value, sizeof(nul_in_value) - 1), DP_SIP_ERR_BAD_CHAR);
	assert_edits(s, MINI, cases);
	assert_slice(s, s->msg.hdrs[3].value, "a\tb \xe2\x98\x8e");
	/* The body is not the scanner's business. */
	assert_verdict(scan_mem(s, nul_in_body, sizeof(nul_in_body) - 1), DP_SIP_OK);
	assert_int_equal(s->msg.body.len, 3);
}

static void test_bad_start_lines(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x SIP/3.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x SIP/2.0 ", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x SIP/2.00", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:xSIP/2.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONSsip:x SIP/2.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS  sip:x SIP/2.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x  SIP/2.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", " OPTIONS sip:x SIP/2.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS\tsip:x SIP/2.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0\r\n", "", DP_SIP_ERR_BAD_START_LINE}, /* Via line first */
		{"OPTIONS sip:x@h SIP/2.0", "GET / HTTP/1.1", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS bad SIP/2.0", DP_SIP_ERR_BAD_URI},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 99 Low", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 2000 X", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 700 Too High", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 099 Low", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 2x0 X", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0  200 OK", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 200OK", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0200 OK", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/1.0 200 OK", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0", DP_SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "HTTP/1.1 200 OK", DP_SIP_ERR_BAD_START_LINE},
		/* The version matches in any case; a method is case-sensitive (§7.1). */
		{"SIP/2.0\r\n", "sip/2.0\r\n", DP_SIP_OK},
		{"OPTIONS sip", "options sip", DP_SIP_ERR_BAD_CSEQ},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 699 Last", DP_SIP_OK},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 100 Trying", DP_SIP_OK},
	};

	assert_edits(s, MINI, cases);
}

static void test_missing_each_mandatory_header(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", "", DP_SIP_ERR_MISSING_HEADER},
		{"From: <sip:a@h>;tag=1\r\n", "", DP_SIP_ERR_MISSING_HEADER},
		{"To: <sip:b@h>\r\n", "", DP_SIP_ERR_MISSING_HEADER},
		{"Call-ID: c1\r\n", "", DP_SIP_ERR_MISSING_HEADER},
		{"CSeq: 1 OPTIONS\r\n", "", DP_SIP_ERR_MISSING_HEADER},
	};

	assert_verdict(scan(s, MINI), DP_SIP_OK);
	assert_edits(s, MINI, cases);
	assert_edit(s, OK_200, "CSeq: 314159 INVITE\r\n", "", DP_SIP_ERR_MISSING_HEADER);
}

static void test_duplicate_single_valued_headers(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"c1\r\n", "c1\r\ni: c2\r\n", DP_SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nCall-ID: c1\r\n", DP_SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nFrom: <sip:a@h>;tag=1\r\n", DP_SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nt: <sip:c@h>\r\n", DP_SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nCSeq: 2 OPTIONS\r\n", DP_SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nMax-Forwards: 1\r\nMax-Forwards: 1\r\n", DP_SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nl: 0\r\nContent-Length: 0\r\n", DP_SIP_ERR_DUP_HEADER},
		/* Comma-list fields may repeat (§7.3.1). */
		{"c1\r\n",
		 "c1\r\nContact: <sip:a>\r\nm: <sip:b>\r\nRoute: <sip:r>\r\nRoute: <sip:q>\r\n",
		 DP_SIP_OK},
	};

	assert_edits(s, MINI, cases);
}

/* Decision (sip_scan.c): an empty Call-ID is present but malformed. */
static void test_call_id_empty(void **state)
{
	struct sc *s = *state;

	assert_edit(s, MINI, "Call-ID: c1", "Call-ID:", DP_SIP_ERR_BAD_HEADER);
	assert_edit(s, MINI, "Call-ID: c1", "Call-ID:  \t ", DP_SIP_ERR_BAD_HEADER);
	assert_edit(s, MINI, "Call-ID: c1", "i:\r\n c1", DP_SIP_OK);
}

static void test_content_length_larger_than_datagram(void **state)
{
	struct sc *s = *state;

	assert_edit(s, INVITE, "Length: 131", "Length: 132", DP_SIP_ERR_BAD_CONTENT_LENGTH);
	assert_edit(s, SIPP_OPTIONS, "Length: 0", "Length: 1", DP_SIP_ERR_BAD_CONTENT_LENGTH);
	assert_edit(s, SIPP_OPTIONS, "Length: 0", "Length: 65535", DP_SIP_ERR_BAD_CONTENT_LENGTH);
}

static void test_content_length_surplus_bytes(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;

	assert_verdict(scan(s, INVITE "SURPLUS"), DP_SIP_OK);
	assert_int_equal(m->msg_len, strlen(INVITE));
	assert_slice(s, m->body, SDP_BODY);
	assert_edit(s, INVITE, "Length: 131", "Length: 3", DP_SIP_OK);
	assert_slice(s, m->body, "v=0");
	assert_int_equal(m->msg_len, m->hdrs_end + 3);
}

static void test_content_length_absent_body_to_end(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan(s, INVITE_HEAD "\r\n" SDP_BODY), DP_SIP_OK);
	assert_int_equal(s->msg.content_length, -1);
	assert_slice(s, s->msg.body, SDP_BODY);
	assert_int_equal(s->msg.msg_len, strlen(INVITE_HEAD "\r\n" SDP_BODY));
}

static void test_content_length_not_a_number_or_overflow(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Length: 0", "Length: abc", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 99999999999999999999", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 4294967296", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 65536", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: -1", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: +0", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 1 2", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 0x10", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length:", DP_SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length:   000 ", DP_SIP_OK},
	};

	assert_edits(s, SIPP_OPTIONS, cases);
	assert_int_equal(s->msg.content_length, 0);
}

static void test_max_forwards(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Forwards: 70", "Forwards: 256", DP_SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: abc", DP_SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards:", DP_SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: -1", DP_SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: 99999999999999999999", DP_SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: 0", DP_SIP_OK},
		{"Forwards: 70", "Forwards: 255", DP_SIP_OK},
	};

	assert_verdict(scan(s, MINI), DP_SIP_OK);
	assert_int_equal(s->msg.max_forwards, -1);
	assert_edits(s, SIPP_OPTIONS, cases);
	assert_int_equal(s->msg.max_forwards, 255);
}

static void test_cseq_method_mismatch(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"CSeq: 1 OPTIONS", "CSeq: 1 INVITE", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 OPTIONS", "CSeq: 1 OPTION", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 OPTIONS", "CSeq: 1 options", DP_SIP_ERR_BAD_CSEQ},
		{"OPTIONS sip", "FOO sip", DP_SIP_ERR_BAD_CSEQ},
	};

	assert_edits(s, MINI, cases);
	/* Extension methods are compared byte for byte too. */
	assert_verdict(scan(s, "FOO sip:x@h SIP/2.0\r\nv: SIP/2.0/UDP h\r\nf: <sip:a@h>\r\n"
			       "t: <sip:b@h>\r\ni: c\r\nCSeq: 9 FOO\r\n\r\n"),
		       DP_SIP_OK);
	assert_int_equal(s->msg.method, DP_SIP_M_OTHER);
	assert_int_equal(s->msg.cseq_method, DP_SIP_M_OTHER);
	assert_slice(s, s->msg.method_name, "FOO");
}

static void test_cseq_number_and_syntax(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"CSeq: 1 ", "CSeq: 2147483648 ", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 99999999999999999999 ", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: ", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: x ", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: -1 ", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 1", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 1 OPTIONS x", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: OPTIONS 1 ", DP_SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 0 ", DP_SIP_OK},
		{"CSeq: 1 ", "CSeq: 2147483647 ", DP_SIP_OK},
	};

	assert_edits(s, MINI, cases);
	assert_int_equal(s->msg.cseq, 2147483647u);
}

static void test_bad_via(void **state)
{
	struct sc *s = *state;
	static const char top[] = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n";
	static const struct edit cases[] = {
		{top, "Via: SIP/2.0 host\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP ;branch=z9hG4bK1\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDPh;branch=z9hG4bK1\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/ h\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/3.0/UDP h\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: XIP/2.0/UDP h\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h:;branch=1\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h:0\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h:99999\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h junk\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;=x\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;branch=\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;branch\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;branch=1;branch=2\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;x=\"open\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h@i\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP <h>\r\n", DP_SIP_ERR_BAD_VIA},
		{top, "Via:\r\n", DP_SIP_ERR_BAD_VIA},
		/* Without a branch (RFC 2543 peers) a Via is still well formed. */
		{top, "Via: SIP/2.0/UDP h\r\n", DP_SIP_OK},
		{top, "Via: SIP/2.0/SCTP my_host.example;ttl=1;maddr=x\r\n", DP_SIP_OK},
	};

	assert_edits(s, MINI, cases);
	assert_slice(s, s->msg.via.host, "my_host.example");
	assert_slice(s, s->msg.via.transport, "SCTP");
}

static void test_bad_ruri(void **state)
{
	static const char *const bad[] = {
		"sip:",		 "sip:@h",	    "sip:x@",	     "sip:x@h:",       "sip:x@h:0",
		"sip:x@h:65536", "sip:x@h:5060x",   "sip:x@h;a=<b>", "sip:x\ty@h",     "sip:x@h@i",
		"sip:x@h?a=b@c", "sip:%zz@h",	    "sip:x@h;%4",    "1sip:x@h",       ":x@h",
		"sip",		 "sip:x@h/path",    "tel:",	     "tel:xyz;x",      "sip::pw@h",
		"<sip:x@h>",	 "sip:x\xc3\xa9@h", "mailto:",	     "sip:x@h;a=\"q\""};
	struct sc *s = *state;
	char to[128];

	for (size_t i = 0; i < N(bad); i++) {
		snprintf(to, sizeof(to), "OPTIONS %s SIP/2.0", bad[i]);
		if (scan_edit(s, MINI, "OPTIONS sip:x@h SIP/2.0", to) != DP_SIP_ERR_BAD_URI) {
			print_error("R-URI \"%s\" not judged BAD_URI\n", bad[i]);
			fail();
		}
	}
}

static void test_uri_forms(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_uri *u = &s->msg.ruri;

	/* user-unreserved ";" "?" "=" in the user part: the "@" still splits (§19.1.1). */
	assert_edit(s, MINI, "sip:x@h",
		    "sip:+12125551212;npdi;rn=+1212?x@gw.example:5061;user=phone?Subject=hi",
		    DP_SIP_OK);
	assert_slice(s, u->user, "+12125551212;npdi;rn=+1212?x");
	assert_slice(s, u->host, "gw.example");
	assert_int_equal(u->port, 5061);
	assert_slice(s, u->params, "user=phone");

	assert_edit(s, MINI, "sip:x@h", "SIPS:alice:secr%65t@atlanta.com;transport=tls;lr",
		    DP_SIP_OK);
	assert_int_equal(u->scheme, DP_SIP_SCHEME_SIPS);
	assert_slice(s, u->user, "alice:secr%65t");
	assert_slice(s, u->host, "atlanta.com");
	assert_slice(s, u->params, "transport=tls;lr");

	assert_edit(s, MINI, "sip:x@h", "sip:h;maddr=239.255.255.1;ttl=15", DP_SIP_OK);
	assert_int_equal(u->user.len, 0);
	assert_slice(s, u->host, "h");
	assert_slice(s, u->params, "maddr=239.255.255.1;ttl=15");

	assert_edit(s, MINI, "sip:x@h", "tel:+1-201-555-0123;phone-context=example.com", DP_SIP_OK);
	assert_int_equal(u->scheme, DP_SIP_SCHEME_TEL);
	assert_slice(s, u->user, "+1-201-555-0123");
	assert_slice(s, u->params, "phone-context=example.com");
	assert_int_equal(u->host.len, 0);

	assert_edit(s, MINI, "sip:x@h", "urn:service:sos", DP_SIP_OK);
	assert_int_equal(u->scheme, DP_SIP_SCHEME_OTHER);
	assert_slice(s, u->whole, "urn:service:sos");

	assert_edit(s, MINI, "sip:x@h", "sip:x@h:65535", DP_SIP_OK);
	assert_int_equal(u->port, 65535);
}

static void test_nameaddr_forms(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_nameaddr *f = &s->msg.from;
	static const char from[] = "From: <sip:a@h>;tag=1";
	static const struct edit bad[] = {
		{from, "From: <sip:a@h", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag=1;tag=2", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag=", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;tag=\"q\"", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>, <sip:b@h>", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: \"open <sip:a@h>", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: \"A\" sip:a@h", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <>", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:@h>", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: sip:a@h?x=y", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h> junk", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: A B", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From:", DP_SIP_ERR_BAD_NAMEADDR},
		{from, "From: <sip:a@h>;;tag=1", DP_SIP_ERR_BAD_NAMEADDR},
		{"To: <sip:b@h>", "To: <sip:b@h:0>", DP_SIP_ERR_BAD_NAMEADDR},
	};

	assert_edit(s, MINI, from,
		    "From: \"A \\\"q\\\" <x>;\" <sip:a@h;transport=udp>;tag=88;x=\"y\"", DP_SIP_OK);
	assert_slice(s, f->uri.whole, "sip:a@h;transport=udp");
	assert_slice(s, f->uri.params, "transport=udp");
	assert_slice(s, f->tag, "88");

	assert_edit(s, MINI, from, "f: J\xc3\xb6rg Smith <sip:a@h> ; tag = 7", DP_SIP_OK);
	assert_slice(s, f->uri.user, "a");
	assert_slice(s, f->tag, "7");

	/* addr-spec: ";tag" belongs to the header, not to the URI (§20.10). */
	assert_edit(s, MINI, from, "From: sip:a@h:5060;tag=99;lr", DP_SIP_OK);
	assert_slice(s, f->uri.whole, "sip:a@h:5060");
	assert_int_equal(f->uri.params.len, 0);
	assert_slice(s, f->tag, "99");

	assert_edit(s, MINI, "To: <sip:b@h>", "To: tel:+123", DP_SIP_OK);
	assert_int_equal(s->msg.to.uri.scheme, DP_SIP_SCHEME_TEL);
	assert_int_equal(s->msg.to.tag.len, 0);
	assert_edits(s, MINI, bad);
}

static void test_header_without_colon(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Call-ID", "NoColonHere\r\nCall-ID", DP_SIP_ERR_BAD_HEADER},
		{"Call-ID", "No Colon: here\r\nCall-ID", DP_SIP_ERR_BAD_HEADER},
		{"Call-ID", ": empty name\r\nCall-ID", DP_SIP_ERR_BAD_HEADER},
		{"Call-ID", "Bad(Name): x\r\nCall-ID", DP_SIP_ERR_BAD_HEADER},
		/* A continuation line right after the start line folds nothing (§7.1). */
		{"Via:", " Via:", DP_SIP_ERR_BAD_HEADER},
	};

	assert_edits(s, MINI, cases);
}

static void test_verdict_names(void **state)
{
	static const char *const want[DP_SIP_VERDICT_MAX] = {"ok",
#define WANT(e, name, desc) #name,
							     DP_SIP_FOREACH_ERROR(WANT)
#undef WANT
	};

	(void)state;
	for (int v = 0; v < DP_SIP_VERDICT_MAX; v++)
		assert_string_equal(dp_sip_verdict_name((enum dp_sip_verdict)v), want[v]);
	assert_string_equal(dp_sip_verdict_name(DP_SIP_ERR_TRUNCATED), "sip_truncated");
	assert_string_equal(dp_sip_verdict_name(DP_SIP_ERR_BAD_MAX_FORWARDS),
			    "sip_bad_max_forwards");
	assert_non_null(dp_sip_verdict_name(DP_SIP_VERDICT_MAX));
	assert_non_null(dp_sip_verdict_name((enum dp_sip_verdict) - 1));
}

static void test_method_from(void **state)
{
	static const struct {
		const char *name;
		enum dp_sip_method m;
	} cases[] = {
		{"INVITE", DP_SIP_M_INVITE},	{"ACK", DP_SIP_M_ACK},
		{"BYE", DP_SIP_M_BYE},		{"CANCEL", DP_SIP_M_CANCEL},
		{"OPTIONS", DP_SIP_M_OPTIONS},	{"REGISTER", DP_SIP_M_REGISTER},
		{"PRACK", DP_SIP_M_PRACK},	{"SUBSCRIBE", DP_SIP_M_SUBSCRIBE},
		{"NOTIFY", DP_SIP_M_NOTIFY},	{"PUBLISH", DP_SIP_M_PUBLISH},
		{"INFO", DP_SIP_M_INFO},	{"REFER", DP_SIP_M_REFER},
		{"MESSAGE", DP_SIP_M_MESSAGE},	{"UPDATE", DP_SIP_M_UPDATE},
		{"invite", DP_SIP_M_OTHER},	{"INVITEX", DP_SIP_M_OTHER},
		{"INVIT", DP_SIP_M_OTHER},	{"FOO", DP_SIP_M_OTHER},
		{"", DP_SIP_M_OTHER},		{"INFX", DP_SIP_M_OTHER},
		{"REGISTRR", DP_SIP_M_OTHER},	{"SUBSCRIBX", DP_SIP_M_OTHER},
		{"SUBSCRIBEX", DP_SIP_M_OTHER},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(
			dp_sip_method_from((const uint8_t *)cases[i].name, strlen(cases[i].name)),
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
		T(test_empty_buffer),
		T(test_oversize_buffer),
		T(test_every_prefix_of_options_rejected),
		T(test_every_prefix_of_invite_rejected),
		T(test_no_crlf_at_all),
		T(test_bare_lf_line_endings_rejected),
		T(test_header_too_long),
		T(test_too_many_headers),
		T(test_binary_junk_never_ok),
		T(test_mutated_messages_do_not_crash),
		T(test_control_bytes_rejected),
		T(test_bad_start_lines),
		T(test_missing_each_mandatory_header),
		T(test_duplicate_single_valued_headers),
		T(test_call_id_empty),
		T(test_content_length_larger_than_datagram),
		T(test_content_length_surplus_bytes),
		T(test_content_length_absent_body_to_end),
		T(test_content_length_not_a_number_or_overflow),
		T(test_max_forwards),
		T(test_cseq_method_mismatch),
		T(test_cseq_number_and_syntax),
		T(test_bad_via),
		T(test_bad_ruri),
		T(test_uri_forms),
		T(test_nameaddr_forms),
		T(test_header_without_colon),
		T(test_verdict_names),
		T(test_method_from),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
