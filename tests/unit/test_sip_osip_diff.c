/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test of the zero-copy SIP scanner (sip/sip_scan.h)
 * against libosip2's parser, on valid messages of the kinds sipwake sees.
 * Both parsers must accept every message and agree on each field they both
 * expose: request or response, method or status code, reason phrase,
 * Call-ID, CSeq, From and To (URI user/host/port and tag), the top Via
 * (transport, host, port, branch, received, rport), the Request-URI and
 * Content-Length / body. A field libosip2 exposes differently is compared
 * in the form both have, with a comment where the difference is.
 *
 * Our scanner reads an exactly sized heap copy with no NUL after it, so
 * AddressSanitizer catches any read past the message. libosip2 gets its own
 * copy, NUL-terminated: osip_message_parse() takes a length and copies the
 * buffer before parsing (an exactly sized buffer showed no over-read under
 * ASan with 5.3), but libosip2 itself is not instrumented, so it is given
 * the terminator its C-string parsing would look for.
 *
 * One cmocka test per message, named after it; each reports every field
 * that differs before failing. A last test is a negative control: libosip2
 * gets the message with one field changed, and the change must be reported.
 * The messages are in osip_diff_cases.c, the comparison in osip_diff.c.
 *
 * Known disagreements on malformed input (the scanner's decisions,
 * sip/sip_scan.c), asserted as they are so that a change on either side is
 * noticed: libosip2 takes a Call-ID with a space inside as one Call-ID, the
 * scanner refuses it (callid = word ["@" word], RFC 3261 §25.1). On a
 * second Content-Type both refuse.
 */
#include "osip_diff.h"

#include <osipparser2/osip_parser.h>

static void diff_one(void **state)
{
	const struct diff_case *c = *state;
	int bad = diff_texts(c->name, c->text, c->text, 0);

	if (bad != 0) {
		if (bad > 0)
			print_error("%s: %d difference(s)\n", c->name, bad);
		fail();
	}
}

/*
 * Negative control: the comparison is not vacuous. libosip2 parses the base
 * message with one field changed; each change must be reported.
 */
static void test_diff_detects_changes(void **state)
{
	static const char base[] = OK_200_SDP;
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"200 OK", "200 Fine"},
		{"200 OK", "202 OK"},
		{"CSeq: 314159 INVITE", "CSeq: 314158 INVITE"},
		{"CSeq: 314159 INVITE", "CSeq: 314159 BYE"},
		{"a84b4c76e66710@pc33", "a84b4c76e66711@pc33"},
		{"a84b4c76e66710@pc33.example.net", "a84b4c76e66710"},
		{"tag=a6c85cf", "tag=a6c85cg"},
		{"tag=1928301774", "tag=1928301775"},
		{"<sip:alice@example.com>", "<sip:alicf@example.com>"},
		{"<sip:bob@example.net>", "<sip:bob@example.net:5070>"},
		{"UDP pbx.example.net:5060", "TCP pbx.example.net:5060"},
		{"UDP pbx.example.net:5060", "UDP pbx.example.org:5060"},
		{"UDP pbx.example.net:5060", "UDP pbx.example.net:5061"},
		{"z9hG4bK776asdhds", "z9hG4bK776asdhdt"},
		{"received=192.0.2.1", "received=192.0.2.2"},
		{"received=192.0.2.1", "received=192.0.2.1;rport=5060"},
		{"a=rtpmap:0 PCMU", "a=rtpmap:0 PCMA"},
		{"Contact: <sip:alice@192.0.2.20>", "Contact: <sip:alice@192.0.2.21>"},
		{"Contact: <sip:alice@192.0.2.20>", "Contact: <sip:alice@192.0.2.20>;expires=60"},
		{"Contact: <sip:alice@192.0.2.20>", "Contact: <sip:alice@192.0.2.20>, <sip:a@h>"},
		{"Content-Length: 131\r\n\r\n" SDP_BODY, "Content-Length: 3\r\n\r\n" SDP_BODY},
	};
	char *theirs = malloc(sizeof(base) + 64);

	(void)state;
	assert_non_null(theirs);
	assert_int_equal(diff_texts("control (unchanged)", base, base, 0), 0);
	for (size_t i = 0; i < N(edits); i++) {
		const char *at = strstr(base, edits[i].from);
		size_t head, flen = strlen(edits[i].from), tlen = strlen(edits[i].to);

		assert_non_null(at);
		assert_true(sizeof(base) - flen + tlen <= sizeof(base) + 64);
		head = (size_t)(at - base);
		memcpy(theirs, base, head);
		memcpy(theirs + head, edits[i].to, tlen);
		memcpy(theirs + head + tlen, at + flen, sizeof(base) - head - flen);
		if (diff_texts("control", base, theirs, 1) <= 0) {
			print_error("control: \"%s\" -> \"%s\" not reported\n", edits[i].from,
				    edits[i].to);
			fail();
		}
	}
	free(theirs);
}

static int osip_accepts(const char *text)
{
	osip_message_t *m = NULL;
	int r;

	if (osip_message_init(&m) != 0)
		return -1;
	r = osip_message_parse(m, text, strlen(text));
	osip_message_free(m);
	return r == 0;
}

static void test_known_disagreements(void **state)
{
	static const char cid_space[] = "OPTIONS sip:x@h SIP/2.0\r\n"
					"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
					"From: <sip:a@h>;tag=1\r\n"
					"To: <sip:b@h>\r\n"
					"Call-ID: c 1\r\n"
					"CSeq: 1 OPTIONS\r\n"
					"\r\n";
	static const char two_ct[] = "OPTIONS sip:x@h SIP/2.0\r\n"
				     "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				     "From: <sip:a@h>;tag=1\r\n"
				     "To: <sip:b@h>\r\n"
				     "Call-ID: c1\r\n"
				     "CSeq: 1 OPTIONS\r\n"
				     "Content-Type: text/plain\r\n"
				     "c: text/plain\r\n"
				     "\r\n";
	struct sc s = {0};

	(void)state;
	assert_int_equal(osip_accepts(cid_space), 1);
	assert_verdict(scan(&s, cid_space), SIP_ERR_BAD_HEADER);
	assert_int_equal(osip_accepts(two_ct), 0);
	assert_verdict(scan(&s, two_ct), SIP_ERR_DUP_HEADER);
	free(s.buf);
}

int main(void)
{
	struct CMUnitTest tests[n_cases + 2];

	for (size_t i = 0; i < n_cases; i++)
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = diff_one,
			.initial_state = (void *)&cases[i],
		};
	tests[n_cases] = (struct CMUnitTest){
		.name = "diff_detects_changes",
		.test_func = test_diff_detects_changes,
	};
	tests[n_cases + 1] = (struct CMUnitTest){
		.name = "known_disagreements",
		.test_func = test_known_disagreements,
	};
	if (parser_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
