/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the zero-copy SIP scanner (sip/sip_scan.h) on
 * malformed input: empty, oversize and truncated buffers, bad line endings,
 * over-long and too many headers, binary junk and mutated messages, control
 * bytes, bad start lines, missing / duplicate / malformed header fields.
 * Every input is copied into a heap buffer of exactly its length, with no
 * terminating NUL, so AddressSanitizer reports any read past the message.
 * Malformed cases are tables of edits to a valid message, so each one
 * differs from an accepted message in exactly the way it names.
 */
#include "sip_test_util.h"

static void test_empty_buffer(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan_mem(s, "", 0), SIP_ERR_TRUNCATED);
	assert_verdict(sip_scan(NULL, 0, &s->msg), SIP_ERR_TRUNCATED);
}

/* Decision (sip_scan.c): over SIP_MAX_LEN is TRUNCATED, the scanner sees only a prefix. */
static void test_oversize_buffer(void **state)
{
	struct sc *s = *state;
	size_t n = SIP_MAX_LEN + 1;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, MINI, strlen(MINI));
	assert_verdict(scan_mem(s, big, n), SIP_ERR_TRUNCATED);
	/* One byte less fits: the body (no Content-Length) runs to the end. */
	assert_verdict(scan_mem(s, big, n - 1), SIP_SCAN_OK);
	assert_int_equal(s->msg.msg_len, SIP_MAX_LEN);
	assert_int_equal(s->msg.body.len, SIP_MAX_LEN - strlen(MINI));
	free(big);
}

static void test_every_prefix_of_options_rejected(void **state)
{
	struct sc *s = *state;
	size_t n = strlen(SIPP_OPTIONS);

	for (size_t i = 0; i < n; i++)
		assert_verdict(scan_mem(s, SIPP_OPTIONS, i), SIP_ERR_TRUNCATED);
	assert_verdict(scan_mem(s, SIPP_OPTIONS, n), SIP_SCAN_OK);
}

static void test_every_prefix_of_invite_rejected(void **state)
{
	struct sc *s = *state;
	size_t n = strlen(INVITE);

	/* Cut in the headers: TRUNCATED; cut in the body: shorter than Content-Length. */
	for (size_t i = 0; i < n; i++)
		assert_verdict(scan_mem(s, INVITE, i),
			       i < n - SDP_LEN ? SIP_ERR_TRUNCATED : SIP_ERR_BAD_CONTENT_LENGTH);
	assert_verdict(scan_mem(s, INVITE, n), SIP_SCAN_OK);
}

static void test_no_crlf_at_all(void **state)
{
	struct sc *s = *state;

	assert_verdict(scan(s, "OPTIONS sip:x@h SIP/2.0"), SIP_ERR_TRUNCATED);
	assert_verdict(scan(s, "hello"), SIP_ERR_TRUNCATED);
	assert_verdict(scan(s, "\r"), SIP_ERR_TRUNCATED);
	/* Headers that never reach the empty line. */
	assert_verdict(scan_mem(s, MINI, strlen(MINI) - 2), SIP_ERR_TRUNCATED);
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
		{"Call-ID: c1\r\n", "Call-ID: c1\n", SIP_ERR_BAD_HEADER},
		{"c1\r\n", "c1\nVia: SIP/2.0/UDP evil\r\n", SIP_ERR_BAD_HEADER},
		{"OPTIONS\r\n\r\n", "OPTIONS\r\n\n", SIP_ERR_BAD_HEADER},
		{"c1\r\n", "c1\r\n\nX: y\r\n", SIP_ERR_BAD_HEADER},
		{"c1\r\n", "c1\rX\r\n", SIP_ERR_BAD_CHAR},
		{"SIP/2.0\r\n", "SIP/2.0\rX\r\n", SIP_ERR_BAD_CHAR},
		{"OPTIONS\r\n\r\n", "OPTIONS\r\n\rX", SIP_ERR_BAD_CHAR},
	};

	assert_verdict(scan(s, lf_only), SIP_ERR_BAD_START_LINE);
	assert_edits(s, MINI, bad);
}

/* MINI plus a Subject field of exactly @p field_len bytes (name to end of value). */
static enum sip_verdict scan_with_field_len(struct sc *s, size_t field_len)
{
	size_t head = strlen(MINI) - 2;
	char *msg = malloc(head + field_len + 4);
	enum sip_verdict v;

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

	assert_verdict(scan_with_field_len(s, SIP_MAX_HDR_LEN), SIP_SCAN_OK);
	assert_int_equal(s->msg.hdrs[MINI_HDRS].value.len, SIP_MAX_HDR_LEN - 9);
	assert_verdict(scan_with_field_len(s, SIP_MAX_HDR_LEN + 1), SIP_ERR_HEADER_TOO_LONG);
	assert_verdict(scan_with_field_len(s, 3 * SIP_MAX_HDR_LEN), SIP_ERR_HEADER_TOO_LONG);

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
	assert_verdict(scan_mem(s, msg, n + 4), SIP_ERR_HEADER_TOO_LONG);
	/* So does the name. */
	memset(msg + head, 'N', 5000);
	memcpy(msg + head + 5000, ": v\r\n\r\n", 7);
	assert_verdict(scan_mem(s, msg, head + 5007), SIP_ERR_HEADER_TOO_LONG);
	free(msg);
}

static enum sip_verdict scan_with_extra_headers(struct sc *s, unsigned extra)
{
	size_t n = strlen(MINI) - 2;
	char *msg = malloc(n + extra * 16 + 2);
	enum sip_verdict v;

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

	assert_verdict(scan_with_extra_headers(s, SIP_MAX_HDRS - MINI_HDRS), SIP_SCAN_OK);
	assert_int_equal(s->msg.nhdrs, SIP_MAX_HDRS);
	assert_slice(s, s->msg.hdrs[SIP_MAX_HDRS - 1].name, "X-H058");
	assert_verdict(scan_with_extra_headers(s, SIP_MAX_HDRS - MINI_HDRS + 1),
		       SIP_ERR_TOO_MANY_HEADERS);
	assert_verdict(scan_with_extra_headers(s, 200), SIP_ERR_TOO_MANY_HEADERS);
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
		assert_int_not_equal(scan_mem(s, junk, n), SIP_SCAN_OK);
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
		enum sip_verdict v;

		memcpy(buf, bases[iter % 3], n);
		for (int k = (int)(prng(&seed) % 4); k >= 0; k--) {
			uint64_t r = prng(&seed);

			buf[r % n] = (r >> 32) & 1 ? special[(r >> 33) % sizeof(special)]
						   : (uint8_t)(r >> 40);
		}
		if (prng(&seed) % 3 == 0)
			n -= prng(&seed) % n;
		v = scan_mem(s, buf, n);
		assert_true(v < SIP_VERDICT_MAX);
		if (v == SIP_SCAN_OK)
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
		{"Call-ID", "X-Fo\001o: 1\r\nCall-ID", SIP_ERR_BAD_CHAR},
		{"Call-ID: c1", "Call-ID: c\0331", SIP_ERR_BAD_CHAR},
		{"Call-ID: c1", "Call-ID: c\1771", SIP_ERR_BAD_CHAR},
		{"sip:x@h", "sip:x\001@h", SIP_ERR_BAD_CHAR},
		{"sip:x@h", "sip:x\177@h", SIP_ERR_BAD_CHAR},
		/* UTF-8 is fine in values, not in names or methods; HT is whitespace. */
		{"Call-ID", "Subj\xc3\xa9t: a\r\nCall-ID", SIP_ERR_BAD_HEADER},
		{"OPTIONS sip", "OPTI\xc3\x96NS sip", SIP_ERR_BAD_START_LINE},
		{"Call-ID", "Subject: a\tb \xe2\x98\x8e\r\nCall-ID", SIP_SCAN_OK},
	};

	assert_verdict(scan_mem(s, nul_in_value, sizeof(nul_in_value) - 1), SIP_ERR_BAD_CHAR);
	assert_edits(s, MINI, cases);
	assert_slice(s, s->msg.hdrs[3].value, "a\tb \xe2\x98\x8e");
	/* The body is not the scanner's business. */
	assert_verdict(scan_mem(s, nul_in_body, sizeof(nul_in_body) - 1), SIP_SCAN_OK);
	assert_int_equal(s->msg.body.len, 3);
}

static void test_bad_start_lines(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x SIP/3.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x SIP/2.0 ", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x SIP/2.00", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:xSIP/2.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONSsip:x SIP/2.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS  sip:x SIP/2.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS sip:x  SIP/2.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", " OPTIONS sip:x SIP/2.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS\tsip:x SIP/2.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0\r\n", "", SIP_ERR_BAD_START_LINE}, /* Via line first */
		{"OPTIONS sip:x@h SIP/2.0", "GET / HTTP/1.1", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "OPTIONS bad SIP/2.0", SIP_ERR_BAD_URI},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 99 Low", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 2000 X", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 700 Too High", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 099 Low", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 2x0 X", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0  200 OK", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 200OK", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0200 OK", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/1.0 200 OK", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0", SIP_ERR_BAD_START_LINE},
		{"OPTIONS sip:x@h SIP/2.0", "HTTP/1.1 200 OK", SIP_ERR_BAD_START_LINE},
		/* The version matches in any case; a method is case-sensitive (§7.1). */
		{"SIP/2.0\r\n", "sip/2.0\r\n", SIP_SCAN_OK},
		{"OPTIONS sip", "options sip", SIP_ERR_BAD_CSEQ},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 699 Last", SIP_SCAN_OK},
		{"OPTIONS sip:x@h SIP/2.0", "SIP/2.0 100 Trying", SIP_SCAN_OK},
	};

	assert_edits(s, MINI, cases);
}

static void test_missing_each_mandatory_header(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", "", SIP_ERR_MISSING_HEADER},
		{"From: <sip:a@h>;tag=1\r\n", "", SIP_ERR_MISSING_HEADER},
		{"To: <sip:b@h>\r\n", "", SIP_ERR_MISSING_HEADER},
		{"Call-ID: c1\r\n", "", SIP_ERR_MISSING_HEADER},
		{"CSeq: 1 OPTIONS\r\n", "", SIP_ERR_MISSING_HEADER},
	};

	assert_verdict(scan(s, MINI), SIP_SCAN_OK);
	assert_edits(s, MINI, cases);
	assert_edit(s, OK_200, "CSeq: 314159 INVITE\r\n", "", SIP_ERR_MISSING_HEADER);
}

static void test_duplicate_single_valued_headers(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"c1\r\n", "c1\r\ni: c2\r\n", SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nCall-ID: c1\r\n", SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nFrom: <sip:a@h>;tag=1\r\n", SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nt: <sip:c@h>\r\n", SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nCSeq: 2 OPTIONS\r\n", SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nMax-Forwards: 1\r\nMax-Forwards: 1\r\n", SIP_ERR_DUP_HEADER},
		{"c1\r\n", "c1\r\nl: 0\r\nContent-Length: 0\r\n", SIP_ERR_DUP_HEADER},
		/* Comma-list fields may repeat (§7.3.1). */
		{"c1\r\n",
		 "c1\r\nContact: <sip:a>\r\nm: <sip:b>\r\nRoute: <sip:r>\r\nRoute: <sip:q>\r\n",
		 SIP_SCAN_OK},
	};

	assert_edits(s, MINI, cases);
}

/* Decision (sip_scan.c): an empty Call-ID is present but malformed. */
static void test_call_id_empty(void **state)
{
	struct sc *s = *state;

	assert_edit(s, MINI, "Call-ID: c1", "Call-ID:", SIP_ERR_BAD_HEADER);
	assert_edit(s, MINI, "Call-ID: c1", "Call-ID:  \t ", SIP_ERR_BAD_HEADER);
	assert_edit(s, MINI, "Call-ID: c1", "i:\r\n c1", SIP_SCAN_OK);
}

static void test_content_length_larger_than_datagram(void **state)
{
	struct sc *s = *state;

	assert_edit(s, INVITE, "Length: 131", "Length: 132", SIP_ERR_BAD_CONTENT_LENGTH);
	assert_edit(s, SIPP_OPTIONS, "Length: 0", "Length: 1", SIP_ERR_BAD_CONTENT_LENGTH);
	assert_edit(s, SIPP_OPTIONS, "Length: 0", "Length: 65535", SIP_ERR_BAD_CONTENT_LENGTH);
}

static void test_content_length_not_a_number_or_overflow(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Length: 0", "Length: abc", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 99999999999999999999", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 4294967296", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 65536", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: -1", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: +0", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 1 2", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length: 0x10", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length:", SIP_ERR_BAD_CONTENT_LENGTH},
		{"Length: 0", "Length:   000 ", SIP_SCAN_OK},
	};

	assert_edits(s, SIPP_OPTIONS, cases);
	assert_int_equal(s->msg.content_length, 0);
}

static void test_max_forwards(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Forwards: 70", "Forwards: 256", SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: abc", SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards:", SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: -1", SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: 99999999999999999999", SIP_ERR_BAD_MAX_FORWARDS},
		{"Forwards: 70", "Forwards: 0", SIP_SCAN_OK},
		{"Forwards: 70", "Forwards: 255", SIP_SCAN_OK},
	};

	assert_verdict(scan(s, MINI), SIP_SCAN_OK);
	assert_int_equal(s->msg.max_forwards, -1);
	assert_edits(s, SIPP_OPTIONS, cases);
	assert_int_equal(s->msg.max_forwards, 255);
}

static void test_cseq_method_mismatch(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"CSeq: 1 OPTIONS", "CSeq: 1 INVITE", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 OPTIONS", "CSeq: 1 OPTION", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 OPTIONS", "CSeq: 1 options", SIP_ERR_BAD_CSEQ},
		{"OPTIONS sip", "FOO sip", SIP_ERR_BAD_CSEQ},
	};

	assert_edits(s, MINI, cases);
	/* Extension methods are compared byte for byte too. */
	assert_verdict(scan(s, "FOO sip:x@h SIP/2.0\r\nv: SIP/2.0/UDP h\r\nf: <sip:a@h>\r\n"
			       "t: <sip:b@h>\r\ni: c\r\nCSeq: 9 FOO\r\n\r\n"),
		       SIP_SCAN_OK);
	assert_int_equal(s->msg.method, SIP_M_OTHER);
	assert_int_equal(s->msg.cseq_method, SIP_M_OTHER);
	assert_slice(s, s->msg.method_name, "FOO");
}

static void test_cseq_number_and_syntax(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"CSeq: 1 ", "CSeq: 2147483648 ", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 99999999999999999999 ", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: ", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: x ", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: -1 ", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 1", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 1 OPTIONS x", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: OPTIONS 1 ", SIP_ERR_BAD_CSEQ},
		{"CSeq: 1 ", "CSeq: 0 ", SIP_SCAN_OK},
		{"CSeq: 1 ", "CSeq: 2147483647 ", SIP_SCAN_OK},
	};

	assert_edits(s, MINI, cases);
	assert_int_equal(s->msg.cseq, 2147483647u);
}

static void test_bad_via(void **state)
{
	struct sc *s = *state;
	static const char top[] = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n";
	static const struct edit cases[] = {
		{top, "Via: SIP/2.0 host\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP ;branch=z9hG4bK1\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDPh;branch=z9hG4bK1\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/ h\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/3.0/UDP h\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: XIP/2.0/UDP h\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h:;branch=1\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h:0\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h:99999\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h junk\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;=x\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;branch=\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;branch\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;branch=1;branch=2\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h;x=\"open\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP h@i\r\n", SIP_ERR_BAD_VIA},
		{top, "Via: SIP/2.0/UDP <h>\r\n", SIP_ERR_BAD_VIA},
		{top, "Via:\r\n", SIP_ERR_BAD_VIA},
		/* Without a branch (RFC 2543 peers) a Via is still well formed. */
		{top, "Via: SIP/2.0/UDP h\r\n", SIP_SCAN_OK},
		{top, "Via: SIP/2.0/SCTP my_host.example;ttl=1;maddr=x\r\n", SIP_SCAN_OK},
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
		if (scan_edit(s, MINI, "OPTIONS sip:x@h SIP/2.0", to) != SIP_ERR_BAD_URI) {
			print_error("R-URI \"%s\" not judged BAD_URI\n", bad[i]);
			fail();
		}
	}
}

static void test_header_without_colon(void **state)
{
	struct sc *s = *state;
	static const struct edit cases[] = {
		{"Call-ID", "NoColonHere\r\nCall-ID", SIP_ERR_BAD_HEADER},
		{"Call-ID", "No Colon: here\r\nCall-ID", SIP_ERR_BAD_HEADER},
		{"Call-ID", ": empty name\r\nCall-ID", SIP_ERR_BAD_HEADER},
		{"Call-ID", "Bad(Name): x\r\nCall-ID", SIP_ERR_BAD_HEADER},
		/* A continuation line right after the start line folds nothing (§7.1). */
		{"Via:", " Via:", SIP_ERR_BAD_HEADER},
	};

	assert_edits(s, MINI, cases);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, sc_setup, sc_teardown)
	const struct CMUnitTest tests[] = {
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
		T(test_content_length_not_a_number_or_overflow),
		T(test_max_forwards),
		T(test_cseq_method_mismatch),
		T(test_cseq_number_and_syntax),
		T(test_bad_via),
		T(test_bad_ruri),
		T(test_header_without_colon),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
