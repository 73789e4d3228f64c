/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The comparison of the differential test: one message through our
 * scanner and through libosip2, then field by field (osip_cmp.c, shared
 * with tests/fuzz/fuzz_sip_osip.c), every field that differs reported
 * before the caller fails.
 */
#include "osip_diff.h"
#include "osip_cmp.h"

struct diff_print {
	const char *name;
	int quiet; /* the negative control expects differences: do not print them */
};

static void print_diff(void *user, const char *field, const char *what)
{
	const struct diff_print *p = user;

	if (!p->quiet)
		print_error("%s: %s differs: %s\n", p->name, field, what);
}

int diff_texts(const char *name, const char *ours_text, const char *theirs_text, int quiet)
{
	size_t len = strlen(ours_text), tlen = strlen(theirs_text);
	uint8_t *ours = sip_test_memdup(ours_text, len);
	char *theirs = malloc(tlen + 1);
	struct sip_msg *m = calloc(1, sizeof(*m));
	struct diff_print p = {.name = name, .quiet = quiet};
	osip_message_t *msg = NULL;
	enum sip_verdict v;
	int rc, bad;

	assert_non_null(theirs);
	assert_non_null(m);
	memcpy(theirs, theirs_text, tlen + 1);

	v = sip_scan(ours, (uint32_t)len, m);
	assert_int_equal(osip_message_init(&msg), 0);
	rc = osip_message_parse(msg, theirs, tlen);
	if (v != SIP_SCAN_OK || rc != 0) {
		print_error("%s: ours %s, libosip2 returned %d\n", name, sip_verdict_name(v), rc);
		bad = -1;
	} else {
		bad = osip_cmp_msg(ours, m, msg, print_diff, &p);
	}
	osip_message_free(msg);
	free(theirs);
	free(ours);
	free(m);
	return bad;
}
