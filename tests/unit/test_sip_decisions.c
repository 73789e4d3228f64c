/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scanner's decisions on input RFC 3261 calls malformed or leaves open
 * (the "Decisions" list at the top of sip/sip_scan.c), one table row each:
 * the edit to a valid message, the verdict, and the rule it rests on.
 *
 * The first table is the seven messages a black-box run sent as malformed
 * and the scanner accepted: two are refused now, five stay accepted on
 * purpose. The second is a wider set of classic malformed messages (the
 * RFC 4475 invalid set is in test_sip_torture.c), with what the scanner
 * makes of each: a row that says SIP_SCAN_OK names why it is legal, or
 * why refusing it is not the scanner's job.
 */
#include "sip_test_util.h"

struct decision {
	const char *base;
	const char *from;
	const char *to;
	enum sip_verdict want;
	const char *rfc; /* the rule the verdict rests on */
};

#define MINI_TAIL "CSeq: 1 OPTIONS\r\n\r\n"
#define TOP_VIA	  "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"

static void check_table(struct sc *s, const struct decision *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum sip_verdict got = scan_edit(s, d[i].base, d[i].from, d[i].to);

		if (got != d[i].want) {
			print_error("case %zu (%s): verdict %s, expected %s\n", i, d[i].rfc,
				    sip_verdict_name(got), sip_verdict_name(d[i].want));
			fail();
		}
	}
}

/* The seven a black-box run sent as malformed, which the scanner accepted. */
static const struct decision blackbox[] = {
	/* (a) */
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\nJUNK", SIP_SCAN_OK,
	 "§18.3: bytes past Content-Length are discarded (RFC 4475 dblreq is valid)"},
	/* (b) */
	{MINI, TOP_VIA, "Via: SIP/2.0/UDP h\r\n", SIP_SCAN_OK,
	 "§8.1.1.7 binds RFC 3261 UAs; RFC 2543 peers omit branch (§17.2.3, RFC 4475 inv2543)"},
	/* (c) */
	{MINI, "Call-ID: c1\r\n", "Subject: x\r\n \t\r\nCall-ID: c1\r\n", SIP_SCAN_OK,
	 "§25.1: LWS = [*WSP CRLF] 1*WSP ends header-value = *(TEXT-UTF8char / UTF8-CONT / LWS)"},
	/* (d) */
	{MINI, "Call-ID: c1\r\n", "Subject: Jos\xe9 \xff\xfe\r\nCall-ID: c1\r\n", SIP_SCAN_OK,
	 "§25.1 wants UTF-8, but no byte >= 0x80 is a delimiter and PBXes send Latin-1"},
	/* (e) */
	{MINI, "Call-ID: c1", "Call-ID: c 1", SIP_ERR_BAD_HEADER,
	 "§25.1 callid = word [\"@\" word] has no LWS; §20.8 compares it byte by byte"},
	/* (f) */
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nbody", SIP_SCAN_OK,
	 "§20.15's MUST binds the sender; the UAS answers 415 (§8.2.3), a proxy checks less "
	 "(§16.3)"},
	/* the seventh: found by the table below */
	{MINI, MINI_TAIL,
	 "CSeq: 1 OPTIONS\r\nContent-Type: text/plain\r\nc: application/sdp\r\n\r\n",
	 SIP_ERR_DUP_HEADER, "§20.15 Content-Type is one media-type, so §7.3.1 allows one field"},
};

static void test_blackbox_seven(void **state)
{
	struct sc *s = *state;

	check_table(s, blackbox, N(blackbox));
}

/* What the accepted ones look like to the rest of sipwake. */
static void test_blackbox_accepted_fields(void **state)
{
	struct sc *s = *state;

	/* (a) msg_len stops before the surplus: dp_fwd_msg.c forwards no more. */
	assert_verdict(scan_edit(s, MINI, MINI_TAIL, blackbox[0].to), SIP_SCAN_OK);
	assert_int_equal(s->msg.msg_len, s->len - 4);
	assert_int_equal(s->msg.body.len, 0);
	/* (b) no branch: dp_fwd_hdrs.c hashes the transaction instead. */
	assert_verdict(scan_edit(s, MINI, TOP_VIA, blackbox[1].to), SIP_SCAN_OK);
	assert_int_equal(s->msg.via.branch.len, 0);
	/* (c) the fold line is trailing LWS of the Subject: trimmed. */
	assert_verdict(scan_edit(s, MINI, "Call-ID: c1\r\n", blackbox[2].to), SIP_SCAN_OK);
	assert_slice(s, s->msg.hdrs[3].value, "x");
	assert_slice(s, s->msg.call_id, "c1");
	/* (d) the bytes are kept as they are, in a display name too. */
	assert_verdict(scan_edit(s, MINI, "Call-ID: c1\r\n", blackbox[3].to), SIP_SCAN_OK);
	assert_slice(s, s->msg.hdrs[3].value, "Jos\xe9 \xff\xfe");
	assert_edit(s, MINI, "From: <sip:a@h>", "From: \"Jos\xe9\" <sip:a@h>", SIP_SCAN_OK);
	assert_edit(s, MINI, "From: <sip:a@h>", "From: Jos\xe9 <sip:a@h>", SIP_SCAN_OK);
	/* (f) the body is there, whatever its type. */
	assert_verdict(scan_edit(s, MINI, MINI_TAIL, blackbox[5].to), SIP_SCAN_OK);
	assert_slice(s, s->msg.body, "body");
}

/* (e) every form of LWS inside a Call-ID, and what stays legal. */
static void test_call_id_whitespace(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Call-ID: c1", "Call-ID: c\t1", SIP_ERR_BAD_HEADER},
		{"Call-ID: c1", "Call-ID: c\r\n 1", SIP_ERR_BAD_HEADER},
		{"Call-ID: c1", "Call-ID: c1, c2", SIP_ERR_BAD_HEADER},
		{"Call-ID: c1", "Call-ID: c1 @h", SIP_ERR_BAD_HEADER},
		{"Call-ID: c1", "i: c1@h x", SIP_ERR_BAD_HEADER},
		/* LWS around the value is HCOLON's and the line end's, not the value's. */
		{"Call-ID: c1", "Call-ID:\t c1 \t", SIP_SCAN_OK},
		{"Call-ID: c1", "Call-ID:\r\n c1\r\n ", SIP_SCAN_OK},
		/* Outside word but unambiguous byte by byte: passed (sip_scan.c). */
		{"Call-ID: c1", "Call-ID: YWJj==@h", SIP_SCAN_OK},
		{"Call-ID: c1", "Call-ID: a@b@c", SIP_SCAN_OK},
	};

	assert_edits(s, MINI, cases);
}

/*
 * Classic malformed messages beyond RFC 4475's: each an edit of MINI, the
 * verdict, and why. SIP_SCAN_OK rows are legal, or not the scanner's to
 * refuse (the reason says which).
 */
static const struct decision classic[] = {
	{MINI, "From: <sip:a@h>;tag=1", "From: <sip:a@h>;tag=1;tag=2", SIP_ERR_BAD_NAMEADDR,
	 "§19.3: one tag; two would give two dialogs"},
	{MINI, "To: <sip:b@h>", "To: <sip:b@h>;tag=1;tag=2", SIP_ERR_BAD_NAMEADDR, "§19.3 one tag"},
	{MINI, "From: <sip:a@h>;tag=1", "From: <sip:a@h>;tag=", SIP_ERR_BAD_NAMEADDR,
	 "§25.1 gen-value is not empty"},
	{MINI, "From: <sip:a@h>;tag=1", "From: <sip:a@h>;tag=1, <sip:c@h>", SIP_ERR_BAD_NAMEADDR,
	 "§20.20 From is one name-addr, not a list"},
	{MINI, "From: <sip:a@h>;tag=1", "From: \"open <sip:a@h>;tag=1", SIP_ERR_BAD_NAMEADDR,
	 "§25.1 quoted-string must close"},
	{MINI, "To: <sip:b@h>", "To: <sip:b@h>\r\nTo: <sip:c@h>", SIP_ERR_DUP_HEADER,
	 "§7.3.1 To is not a list"},
	{MINI, TOP_VIA, "Via: SIP/2.0/UDP h;branch=z9hG4bK1;received=1.2.3.4;received=5.6.7.8\r\n",
	 SIP_ERR_BAD_VIA, "§20.42 one received"},
	{MINI, TOP_VIA, "Via: SIP/2.0/UDP h;branch=z9hG4bK1;rport;rport\r\n", SIP_ERR_BAD_VIA,
	 "RFC 3581 §3 one rport"},
	{MINI, TOP_VIA, "Via: SIP/2.0/UDP [::1;branch=z9hG4bK1\r\n", SIP_ERR_BAD_VIA,
	 "§25.1 IPv6reference closes with ]"},
	{MINI, TOP_VIA, "Via: SIP/2.0/UDP h;branch=z9hG4bK1,\r\n", SIP_SCAN_OK,
	 "§18.2.2 only the top via-parm is ours; what follows the comma is the next hop's"},
	{MINI, TOP_VIA, TOP_VIA "Via: garbage\r\n", SIP_SCAN_OK,
	 "§18.2.2 a lower Via is read only by the hop that pops ours (sip_via_first)"},
	{MINI, TOP_VIA, "Via: SIP/2.0/UDP 256.1.1.1;branch=z9hG4bK1\r\n", SIP_SCAN_OK,
	 "§25.1 IPv4address = 1*3DIGIT (RFC 5954 dec-octet); responses go to received"},
	{MINI, MINI_TAIL, MINI_TAIL "\r\n", SIP_SCAN_OK,
	 "§18.3 without Content-Length over UDP the rest is the body"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nab",
	 SIP_ERR_BAD_CONTENT_LENGTH, "§18.3 a body shorter than Content-Length"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nl: 1\r\nContent-Length: 1\r\n\r\nx",
	 SIP_ERR_DUP_HEADER, "§20.14 one Content-Length (RFC 4475 mcl01)"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContent-Length: 0 \r\n\r\n", SIP_SCAN_OK,
	 "§7.3.1 trailing LWS is not part of the value"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nExpires: -1\r\n\r\n", SIP_ERR_BAD_EXPIRES,
	 "§20.19 delta-seconds"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nExpires: 10\r\nExpires: 20\r\n\r\n",
	 SIP_ERR_DUP_HEADER, "§20.19 one Expires in a request"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nMax-Forwards: 70\r\n\r\n",
	 SIP_ERR_DUP_HEADER, "§20.22 one Max-Forwards"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nMax-Forwards: 0070\r\n\r\n", SIP_SCAN_OK,
	 "§20.22 1*DIGIT, leading zeros included"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nCSeq: 1 OPTIONS\r\n\r\n", SIP_ERR_DUP_HEADER,
	 "§20.16 one CSeq"},
	{MINI, "CSeq: 1 OPTIONS", "CSeq: 1 INVITE", SIP_ERR_BAD_CSEQ,
	 "§8.1.1.5 the CSeq method is the request's"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContact: <sip:a@h>;expires=x\r\n\r\n",
	 SIP_ERR_BAD_CONTACT, "§20.10 expires= is delta-seconds"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContact: *, <sip:a@h>\r\n\r\n", SIP_ERR_BAD_CONTACT,
	 "§20.10 \"*\" stands alone"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContact: <sip:a@h\r\n\r\n", SIP_ERR_BAD_CONTACT,
	 "§25.1 name-addr closes with >"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContact: <sip:a@h>,\r\n\r\n", SIP_ERR_BAD_CONTACT,
	 "§7.3.1 no empty list element"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nRoute: sip:r@h\r\n\r\n", SIP_ERR_BAD_ROUTE,
	 "§20.34 route-param is a name-addr"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nRoute: <sip:r@h>,\r\n\r\n", SIP_ERR_BAD_ROUTE,
	 "§7.3.1 no empty list element"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nRecord-Route: <sip:p@h;lr\r\n\r\n", SIP_ERR_BAD_ROUTE,
	 "§25.1 name-addr closes with >"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nX-\xff: v\r\n\r\n", SIP_ERR_BAD_HEADER,
	 "§25.1 field-name is a token"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nX-Empty:\r\n\r\n", SIP_SCAN_OK,
	 "§25.1 header-value may be empty"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContent-Type:\r\n\r\nbody", SIP_SCAN_OK,
	 "§20.15 judged by the UAS that reads the body (§8.2.3), like a missing one"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nContent-Type: garbage\r\n\r\nbody", SIP_SCAN_OK,
	 "§8.2.3 an unknown type is the UAS's 415 (RFC 4475 invut)"},
	{MINI, MINI_TAIL, "CSeq: 1 OPTIONS\r\nVia: SIP/2.0/UDP h2;branch=z9hG4bK2\r\n\r\n",
	 SIP_SCAN_OK, "§7.3.1 only the order among Via fields matters"},
	{MINI, "To: <sip:b@h>", "To: \"a\\\" <sip:b@h>", SIP_ERR_BAD_NAMEADDR,
	 "§25.1 the escaped quote leaves the string open"},
	{MINI, "OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x@h;transport=udp;transport=tcp SIP/2.0",
	 SIP_SCAN_OK, "§19.1.1 does not forbid a repeated uri-parameter; the PBX routes on it"},
	{MINI, "To: <sip:b@h>", "To: sip:b@h?x=y", SIP_ERR_BAD_NAMEADDR,
	 "§20.10 (for every addr-spec field): a URI with \"?\" needs <>"},
	{MINI, "Call-ID: c1", "Call-ID: @", SIP_SCAN_OK,
	 "§25.1 wants word [\"@\" word]; byte by byte (§20.8) it is one Call-ID"},
	{MINI, "OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x@h SIP/2.0\r\n", SIP_ERR_MISSING_HEADER,
	 "§7 an empty line after the start line: no field at all"},
	{MINI, "Via:", " Via:", SIP_ERR_BAD_HEADER,
	 "§7.3.1 a fold right after the start line continues nothing"},
	{MINI, "Call-ID", "X-A: a\r\n\r\nCall-ID", SIP_ERR_MISSING_HEADER,
	 "§7 the first empty line ends the headers: Call-ID and CSeq are body"},
	{MINI, "Call-ID: c1\r\n", "Call-ID: c1\n", SIP_ERR_BAD_HEADER, "§7 CRLF, never a bare LF"},
	{MINI, "From: <sip:a@h>", "From: <sip:a@h\001>", SIP_ERR_BAD_CHAR,
	 "§25.1 no control byte outside quoted-pair"},
	{MINI, "OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x@h SIP/2.0 ", SIP_ERR_BAD_START_LINE,
	 "§25.1 Request-Line = Method SP Request-URI SP SIP-Version CRLF"},
};

static void test_classic_malformed(void **state)
{
	struct sc *s = *state;

	check_table(s, classic, N(classic));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, sc_setup, sc_teardown)
	const struct CMUnitTest tests[] = {
		T(test_blackbox_seven),
		T(test_blackbox_accepted_fields),
		T(test_call_id_whitespace),
		T(test_classic_malformed),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
