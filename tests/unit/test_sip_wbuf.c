/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The byte writer every outgoing SIP message goes through (sip/sip_wbuf.h):
 * an append fits whole or not at all, an overflow stays, numbers and hex
 * come out as the messages need them, printf keeps room for its NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sip/sip_wbuf.h"

static void expect(const struct sip_wbuf *w, const char *want)
{
	assert_false(w->overflow);
	assert_int_equal(w->len, strlen(want));
	assert_memory_equal(w->buf, want, w->len);
}

static void test_fits_whole_or_not_at_all(void **state)
{
	char b[8];
	struct sip_wbuf w = sip_wbuf_at(b, sizeof(b));

	(void)state;
	SIP_WBUF_LIT(&w, "abcde");
	assert_int_equal(sip_wbuf_room(&w), 3);
	sip_wbuf_str(&w, "fghi"); /* one byte too many: nothing of it */
	assert_true(w.overflow);
	assert_int_equal(w.len, 5);
	sip_wbuf_put(&w, "x", 1); /* it would fit, but the message is lost */
	assert_int_equal(w.len, 5);

	w = sip_wbuf_at(b, sizeof(b));
	sip_wbuf_put(&w, "abcdefgh", 8); /* exactly full */
	expect(&w, "abcdefgh");
	sip_wbuf_put(&w, "", 0);
	assert_false(w.overflow);
	sip_wbuf_u32(&w, 0);
	assert_true(w.overflow);
}

static void test_numbers(void **state)
{
	static const uint8_t msg[] = "CSeq: 12 INVITE";
	char b[64];
	struct sip_wbuf w = sip_wbuf_at(b, sizeof(b));

	(void)state;
	sip_wbuf_u32(&w, 0);
	SIP_WBUF_LIT(&w, " ");
	sip_wbuf_u32(&w, 9);
	SIP_WBUF_LIT(&w, " ");
	sip_wbuf_u32(&w, 10);
	SIP_WBUF_LIT(&w, " ");
	sip_wbuf_u32(&w, UINT32_MAX);
	SIP_WBUF_LIT(&w, " ");
	sip_wbuf_hex(&w, 0xdeadbeefu, 8);
	SIP_WBUF_LIT(&w, " ");
	sip_wbuf_hex(&w, 0x0123456789abcdefull, 16);
	SIP_WBUF_LIT(&w, " ");
	sip_wbuf_hex(&w, 0xabc, 2); /* the low digits */
	SIP_WBUF_LIT(&w, " ");
	sip_wbuf_slice(&w, msg, (struct sip_slice){9, 6});
	expect(&w, "0 9 10 4294967295 deadbeef 0123456789abcdef bc INVITE");

	/* A number that does not fit is not cut. */
	w = sip_wbuf_at(b, 3);
	sip_wbuf_u32(&w, 1234);
	assert_true(w.overflow);
	assert_int_equal(w.len, 0);
}

static void test_unchecked(void **state)
{
	char b[32];
	struct sip_wbuf w = sip_wbuf_at(b, sizeof(b));

	(void)state;
	SIP_WBUF_LIT_UNCHECKED(&w, "rport=");
	sip_wbuf_u32_unchecked(&w, 5060);
	sip_wbuf_byte_unchecked(&w, ';');
	sip_wbuf_hex_unchecked(&w, 0xfe, 4);
	sip_wbuf_put_unchecked(&w, "!", 1);
	expect(&w, "rport=5060;00fe!");
}

static void test_fmt_wants_room_for_its_nul(void **state)
{
	char b[8];
	struct sip_wbuf w = sip_wbuf_at(b, sizeof(b));

	(void)state;
	sip_wbuf_fmt(&w, "%u-%s", 12u, "ab");
	expect(&w, "12-ab");
	sip_wbuf_fmt(&w, "%s", "xyz"); /* 3 bytes into 3 free: no room for the NUL */
	assert_true(w.overflow);
	assert_int_equal(w.len, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits_whole_or_not_at_all),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_unchecked),
		cmocka_unit_test(test_fmt_wants_room_for_its_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
