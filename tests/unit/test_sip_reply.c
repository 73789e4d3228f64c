/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stateless response to a scanned request (sip/sip_reply.h), in each
 * form its two users write it: the workers' (RFC 3581 on the top Via, header
 * lines rewritten) and the control plane's (lines as written, the top Via
 * stamped, or left out when it is ours), compared byte for byte.
 */
#include <errno.h>

#include "sip_test_util.h"

#include "sip/sip_reply.h"

/* Compact names, two via-parms in the top field, a second Via field, a
 * quoted ";" in a Via parameter, a CSeq with leading zeros. */
static const char req[] = "OPTIONS sip:198.18.0.1 SIP/2.0\r\n"
			  "v: SIP/2.0/UDP 203.0.113.9:5070;branch=z9hG4bK1;rport;x=\"a;b\", "
			  "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK0\r\n"
			  "f: <sip:a@example.com>;tag=1\r\n"
			  "Max-Forwards: 70\r\n"
			  "t: <sip:c@example.com>\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\n"
			  "i: abc\r\n"
			  "CSeq: 007 OPTIONS\r\n"
			  "l: 0\r\n\r\n";

static char out[1024];

/* The answer @p r to @p text in out[] (NUL-terminated), @p cap bytes at most. */
static int reply_to(struct sc *s, const char *text, const struct sip_reply *r, uint32_t cap)
{
	struct sip_wbuf w = sip_wbuf_at(out, cap);
	int rc;

	assert_int_equal(scan(s, text), SIP_SCAN_OK);
	rc = sip_reply_write(&w, s->buf, &s->msg, r);
	assert_int_equal(rc == 0, !w.overflow);
	out[rc == 0 ? w.len : 0] = '\0';
	return rc;
}

static int reply(struct sc *s, const struct sip_reply *r, uint32_t cap)
{
	return reply_to(s, req, r, cap);
}

static void test_workers_form(void **state)
{
	const struct sip_reply r = {.status = 200,
				    .top_via = SIP_REPLY_VIA_RPORT,
				    .source = "198.51.100.7",
				    .sport = 40000,
				    .tag = true,
				    .to_tag = 0xc0ffee,
				    .extra = "Allow: OPTIONS\r\n"};

	assert_int_equal(reply(*state, &r, sizeof(out)), 0);
	assert_string_equal(
		out, "SIP/2.0 200 OK\r\n"
		     "Via: SIP/2.0/UDP 203.0.113.9:5070;branch=z9hG4bK1;rport=40000;"
		     "x=\"a;b\";received=198.51.100.7, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK0\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\n"
		     "From: <sip:a@example.com>;tag=1\r\n"
		     "To: <sip:c@example.com>;tag=sw00c0ffee\r\n"
		     "Call-ID: abc\r\n"
		     "CSeq: 7 OPTIONS\r\n"
		     "Allow: OPTIONS\r\n"
		     "Content-Length: 0\r\n\r\n");
}

/* received= only when the sent-by is not the source (no rport asked). */
static void test_workers_form_from_the_sent_by(void **state)
{
	static const char bye[] = "BYE sip:b@example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK2\r\n"
				  "From: <sip:a@example.com>;tag=1\r\n"
				  "To: <sip:b@example.com>;tag=2\r\n"
				  "Call-ID: x\r\nCSeq: 2 BYE\r\n\r\n";
	const struct sip_reply r = {.status = 481,
				    .top_via = SIP_REPLY_VIA_RPORT,
				    .source = "192.0.2.4",
				    .sport = 5060,
				    .tag = true};

	assert_int_equal(reply_to(*state, bye, &r, sizeof(out)), 0);
	/* The To has a tag already: none added. */
	assert_string_equal(out, "SIP/2.0 481 Call/Transaction Does Not Exist\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK2\r\n"
				 "From: <sip:a@example.com>;tag=1\r\n"
				 "To: <sip:b@example.com>;tag=2\r\n"
				 "Call-ID: x\r\nCSeq: 2 BYE\r\n"
				 "Content-Length: 0\r\n\r\n");
}

static void test_control_plane_form(void **state)
{
	const struct sip_reply r = {.status = 503,
				    .top_via = SIP_REPLY_VIA_STAMP,
				    .source = "[2001:db8::7]",
				    .sport = 5062,
				    .as_written = true,
				    .tag = true,
				    .to_tag = 0xdeadbeef,
				    .extra = "Retry-After: 30\r\nServer: sipwake\r\n"};

	assert_int_equal(reply(*state, &r, sizeof(out)), 0);
	assert_string_equal(
		out, "SIP/2.0 503 Service Unavailable\r\n"
		     "Via: SIP/2.0/UDP 203.0.113.9:5070;branch=z9hG4bK1;rport=5062;x=\"a;b\";"
		     "received=[2001:db8::7], SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK0\r\n"
		     "f: <sip:a@example.com>;tag=1\r\n"
		     "t: <sip:c@example.com>;tag=swdeadbeef\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\n"
		     "i: abc\r\n"
		     "CSeq: 007 OPTIONS\r\n"
		     "Retry-After: 30\r\nServer: sipwake\r\n"
		     "Content-Length: 0\r\n\r\n");
}

/* Our own top Via left out; no To-tag (a 100 Trying, §8.2.6.1). */
static void test_control_plane_form_our_via(void **state)
{
	const struct sip_reply r = {
		.status = 100, .top_via = SIP_REPLY_VIA_DROP, .as_written = true, .tag = false};

	assert_int_equal(reply(*state, &r, sizeof(out)), 0);
	assert_string_equal(out, "SIP/2.0 100 Trying\r\n"
				 "f: <sip:a@example.com>;tag=1\r\n"
				 "t: <sip:c@example.com>\r\n"
				 "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\n"
				 "i: abc\r\n"
				 "CSeq: 007 OPTIONS\r\n"
				 "Content-Length: 0\r\n\r\n");
}

/* One byte short of the whole answer: refused, not cut. */
static void test_does_not_fit(void **state)
{
	const struct sip_reply r = {
		.status = 100, .top_via = SIP_REPLY_VIA_DROP, .as_written = true};
	uint32_t whole;

	assert_int_equal(reply(*state, &r, sizeof(out)), 0);
	whole = (uint32_t)strlen(out);
	assert_int_equal(reply(*state, &r, whole), 0);
	assert_int_equal(reply(*state, &r, whole - 1), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_workers_form, sc_setup, sc_teardown),
		cmocka_unit_test_setup_teardown(test_workers_form_from_the_sent_by, sc_setup,
						sc_teardown),
		cmocka_unit_test_setup_teardown(test_control_plane_form, sc_setup, sc_teardown),
		cmocka_unit_test_setup_teardown(test_control_plane_form_our_via, sc_setup,
						sc_teardown),
		cmocka_unit_test_setup_teardown(test_does_not_fit, sc_setup, sc_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
