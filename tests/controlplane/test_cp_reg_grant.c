/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a registrar's 2xx grants our contact (controlplane/relay/cp_reg_grant.c,
 * docs/design.md §1.1 "What a 2xx grants"): each row is a 2xx, scanned as the
 * worker scans it, and the grant read from it: an expiry, or why nothing can
 * be taken (the 2xx is then relayed without a binding).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controlplane/relay/cp_reg_grant.h"

#define OURS "sip:alice@10.0.0.5:5060"
#define HEAD                                                       \
	"SIP/2.0 200 OK\r\n"                                       \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-swCr1\r\n" \
	"From: <sip:alice@example.com>;tag=f1\r\n"                 \
	"To: <sip:alice@example.com>;tag=t1\r\n"                   \
	"Call-ID: reg-1@192.0.2.7\r\n"                             \
	"CSeq: 7 REGISTER\r\n"

struct row {
	const char *name;
	const char *hdrs; /* between HEAD and the Content-Length */
	int32_t asked;	  /* the app's expiry, -1 none */
	int32_t expires;  /* the grant; -1: unread */
	bool several;
};

static const struct row rows[] = {
	{"expires=", "Contact: <" OURS ">;expires=300\r\n", 600, 300, false},
	{"echoed and its own, equal", "Contact: <" OURS ">;expires=600;expires=600\r\n", 600, 600,
	 false},
	{"echoed and its own, different", "Contact: <" OURS ">;expires=600;expires=3600\r\n", 600,
	 600, true},
	{"listed twice", "Contact: <" OURS ">;expires=900, <" OURS ">;expires=120\r\n", 600, 120,
	 true},
	{"listed in two fields", "Contact: <" OURS ">;expires=900\r\nContact: <" OURS ">\r\n", 600,
	 600, true},
	{"Expires", "Contact: <" OURS ">\r\nExpires: 240\r\n", 600, 240, false},
	{"Expires twice, the smallest", "Contact: <" OURS ">\r\nExpires: 240\r\nExpires: 60\r\n",
	 600, 60, false},
	{"bad Expires, contact says", "Contact: <" OURS ">;expires=180\r\nExpires: soon\r\n", 600,
	 180, false},
	{"what was asked", "Contact: <" OURS ">\r\n", 500, 500, false},
	{"nothing asked", "Contact: <" OURS ">\r\n", -1, CP_REG_DEFAULT_EXPIRES, false},
	{"not listed", "Contact: <sip:bob@10.0.0.6>;expires=300\r\n", 600, 0, false},
	{"no Contact", "", 600, 0, false},
	{"no expiry parses", "Contact: <" OURS ">\r\nExpires: soon\r\n", 600, -1, false},
	{"one expires= does not parse", "Contact: <" OURS ">;expires=300;expires=soon\r\n", 600, -1,
	 false},
	{"list does not parse", "Contact: <" OURS ">;expires=300, <sip:x@bad host>\r\n", 600, -1,
	 false},
	{"reg-id 0", "Contact: <" OURS ">;expires=300;reg-id=0\r\n", 600, -1, false},
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		char text[1024];
		int n = snprintf(text, sizeof(text), HEAD "%sContent-Length: 0\r\n\r\n", r->hdrs);
		uint8_t *buf;
		struct sip_msg *sm = malloc(sizeof(*sm));
		struct cp_reg_grant g;

		assert_true(n > 0 && (size_t)n < sizeof(text));
		/* Exactly its length, no NUL after it: ASan sees any read past it. */
		buf = malloc((size_t)n);
		assert_non_null(buf);
		assert_non_null(sm);
		memcpy(buf, text, (size_t)n);
		if (sip_scan(buf, (uint32_t)n, sm) != SIP_SCAN_OK) {
			print_error("row \"%s\": not scanned\n", r->name);
			fail();
		}
		g = cp_reg_grant_of(buf, sm, OURS, strlen(OURS), r->asked, false);
		if ((r->expires < 0) != (g.unread != NULL) ||
		    (r->expires >= 0 && (g.expires != r->expires || g.several != r->several))) {
			print_error("row \"%s\": expires %d several %d unread \"%s\"\n", r->name,
				    g.expires, g.several, g.unread ? g.unread : "");
			fail();
		}
		free(buf);
		free(sm);
	}
}

/* "Contact: *": every device goes, whatever the 2xx lists. */
static void test_star(void **state)
{
	static const char text[] =
		HEAD "Contact: <" OURS ">;expires=oops\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg *sm = malloc(sizeof(*sm));
	struct cp_reg_grant g;

	(void)state;
	assert_non_null(sm);
	assert_int_equal(sip_scan((const uint8_t *)text, sizeof(text) - 1, sm), SIP_SCAN_OK);
	g = cp_reg_grant_of((const uint8_t *)text, sm, NULL, 0, 0, true);
	assert_null(g.unread);
	assert_int_equal(g.expires, 0);
	free(sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_star),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
