/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_frame(): SIP framing on a stream by Content-Length (RFC 3261 §18.3),
 * keepalives (RFC 5626 §4.4.1), stray CRLFs (§7.5), and st_frame_ws().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "streams/st_frame.h"

#define MAX 65536

static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\n"
			  "Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\n"
			  "Content-Length: 5\r\n"
			  "\r\n"
			  "hello";

static struct st_frame frame(const char *s, size_t n, uint32_t max)
{
	struct st_frame f;

	st_frame((const uint8_t *)s, n, max, &f);
	return f;
}

static struct st_frame frame_s(const char *s)
{
	return frame(s, strlen(s), MAX);
}

static void test_whole(void **state)
{
	struct st_frame f = frame_s(msg);

	(void)state;
	assert_int_equal(f.kind, ST_FRAME_MSG);
	assert_int_equal(f.len, strlen(msg));
}

static void test_split_every_byte(void **state)
{
	size_t n = strlen(msg);

	(void)state;
	for (size_t i = 1; i < n; i++) {
		struct st_frame f = frame(msg, i, MAX);

		assert_int_equal(f.kind, ST_FRAME_MORE);
		assert_true(f.started);
	}
}

static void test_two_in_one(void **state)
{
	char buf[1024];
	struct st_frame f;

	(void)state;
	snprintf(buf, sizeof(buf), "%s%s", msg, msg);
	f = frame_s(buf);
	assert_int_equal(f.kind, ST_FRAME_MSG);
	assert_int_equal(f.len, strlen(msg));
	f = frame_s(buf + f.len);
	assert_int_equal(f.kind, ST_FRAME_MSG);
	assert_int_equal(f.len, strlen(msg));
}

static void test_body_bytes(void **state)
{
	/* A body that holds CRLFCRLF and NUL: only Content-Length counts. */
	static const char m[] = "MESSAGE sip:a SIP/2.0\r\nl: 6\r\n\r\n\r\n\r\n\0x";
	struct st_frame f = frame(m, sizeof(m) - 1, MAX);

	(void)state;
	assert_int_equal(f.kind, ST_FRAME_MSG);
	assert_int_equal(f.len, sizeof(m) - 1);
}

static void test_zero_length(void **state)
{
	struct st_frame f = frame_s("BYE sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\nNEXT");

	(void)state;
	assert_int_equal(f.kind, ST_FRAME_MSG);
	assert_int_equal(f.len, strlen("BYE sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n"));
}

static void expect_err(const char *s, int why)
{
	struct st_frame f = frame_s(s);

	assert_int_equal(f.kind, ST_FRAME_ERR);
	assert_int_equal(f.why, why);
}

static void test_bad_lengths(void **state)
{
	(void)state;
	expect_err("BYE sip:a SIP/2.0\r\nVia: x\r\n\r\n", ST_CLOSE_no_length);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n", ST_CLOSE_bad_length);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length: abc\r\n\r\n", ST_CLOSE_bad_length);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length: 12x\r\n\r\n", ST_CLOSE_bad_length);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length:\r\n\r\n", ST_CLOSE_bad_length);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length: 1 2\r\n\r\n", ST_CLOSE_bad_length);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length: 3\r\nl: 4\r\n\r\nabcd",
		   ST_CLOSE_bad_length);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n",
		   ST_CLOSE_too_large);
	expect_err("BYE sip:a SIP/2.0\r\nContent-Length: 65536\r\n\r\n", ST_CLOSE_too_large);
}

static void test_repeated_same(void **state)
{
	struct st_frame f = frame_s("BYE sip:a SIP/2.0\r\nContent-Length: 2\r\nl:2\r\n\r\nab");

	(void)state;
	assert_int_equal(f.kind, ST_FRAME_MSG);
}

static void test_names_and_colon(void **state)
{
	static const char *const ok[] = {
		"BYE sip:a SIP/2.0\r\nl: 1\r\n\r\nx",
		"BYE sip:a SIP/2.0\r\nL:1\r\n\r\nx",
		"BYE sip:a SIP/2.0\r\ncontent-length : 1\r\n\r\nx",
		"BYE sip:a SIP/2.0\r\nCONTENT-LENGTH\t:\t1 \r\n\r\nx",
		"BYE sip:a SIP/2.0\r\nContent-Type: a/b\r\nContent-Length: 1\r\n\r\nx",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct st_frame f = frame_s(ok[i]);

		assert_int_equal(f.kind, ST_FRAME_MSG);
		assert_int_equal(f.len, strlen(ok[i]));
	}
	/* Not Content-Length: a header whose name only begins with l. */
	expect_err("BYE sip:a SIP/2.0\r\nlx: 1\r\n\r\nx", ST_CLOSE_no_length);
}

static void test_too_large(void **state)
{
	static char big[300];
	struct st_frame f;

	(void)state;
	/* Header block not terminated within max_message. */
	memset(big, 'a', sizeof(big));
	f = frame(big, sizeof(big), 256);
	assert_int_equal(f.kind, ST_FRAME_ERR);
	assert_int_equal(f.why, ST_CLOSE_too_large);
	f = frame(big, 255, 256);
	assert_int_equal(f.kind, ST_FRAME_MORE);
	/* Header + body over max_message. */
	f = frame(msg, strlen(msg), (uint32_t)strlen(msg) - 1);
	assert_int_equal(f.kind, ST_FRAME_ERR);
	assert_int_equal(f.why, ST_CLOSE_too_large);
	f = frame(msg, strlen(msg), (uint32_t)strlen(msg));
	assert_int_equal(f.kind, ST_FRAME_MSG);
}

static void test_keepalive(void **state)
{
	struct st_frame f;

	(void)state;
	f = frame_s("\r\n\r\n");
	assert_int_equal(f.kind, ST_FRAME_PING);
	assert_int_equal(f.len, 4);
	f = frame_s("\r\n\r");
	assert_int_equal(f.kind, ST_FRAME_MORE);
	assert_false(f.started);
	f = frame_s("\r\n");
	assert_int_equal(f.kind, ST_FRAME_MORE);
	assert_false(f.started);
}

static void test_stray_crlf(void **state)
{
	char buf[1024];
	struct st_frame f;

	(void)state;
	snprintf(buf, sizeof(buf), "\r\n%s", msg);
	f = frame_s(buf);
	assert_int_equal(f.kind, ST_FRAME_SKIP);
	assert_int_equal(f.len, 2);
	f = frame_s(buf + 2);
	assert_int_equal(f.kind, ST_FRAME_MSG);
	f = frame_s("\nINVITE");
	assert_int_equal(f.kind, ST_FRAME_SKIP);
	assert_int_equal(f.len, 1);
	f = frame_s("");
	assert_int_equal(f.kind, ST_FRAME_MORE);
}

static void test_ws(void **state)
{
	static const char nolen[] = "MESSAGE sip:a SIP/2.0\r\nVia: x\r\n\r\nbody";

	(void)state;
	assert_int_equal(st_frame_ws((const uint8_t *)msg, strlen(msg), MAX), 0);
	assert_int_equal(st_frame_ws((const uint8_t *)nolen, strlen(nolen), MAX), 0);
	assert_int_equal(st_frame_ws((const uint8_t *)msg, strlen(msg) - 1, MAX),
			 ST_CLOSE_bad_length);
	assert_int_equal(st_frame_ws((const uint8_t *)"abc", 3, MAX), ST_CLOSE_bad_frame);
	assert_int_equal(st_frame_ws((const uint8_t *)msg, strlen(msg), 10), ST_CLOSE_too_large);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),	      cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_two_in_one),    cmocka_unit_test(test_body_bytes),
		cmocka_unit_test(test_zero_length),   cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_repeated_same), cmocka_unit_test(test_names_and_colon),
		cmocka_unit_test(test_too_large),     cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_stray_crlf),    cmocka_unit_test(test_ws),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
