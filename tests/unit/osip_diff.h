/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The differential test of the SIP scanner against libosip2
 * (test_sip_osip_diff.c, with osip_diff.c and osip_diff_cases.c): the
 * messages both parsers get, and the comparison of what they make of one.
 */
#ifndef OSIP_DIFF_H
#define OSIP_DIFF_H

#include "sip_test_util.h"

struct diff_case {
	const char *name;
	const char *text;
};

#define OK_200_SDP                                                                             \
	"SIP/2.0 200 OK\r\n"                                                                   \
	"Via: SIP/2.0/UDP pbx.example.net:5060;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n" \
	"To: Alice <sip:alice@example.com>;tag=a6c85cf\r\n"                                    \
	"From: \"Bob B.\" <sip:bob@example.net>;tag=1928301774\r\n"                            \
	"Call-ID: a84b4c76e66710@pc33.example.net\r\n"                                         \
	"CSeq: 314159 INVITE\r\n"                                                              \
	"Contact: <sip:alice@192.0.2.20>\r\n"                                                  \
	"Content-Type: application/sdp\r\n"                                                    \
	"Content-Length: 131\r\n"                                                              \
	"\r\n" SDP_BODY

/* osip_diff_cases.c: the valid messages, one test each. */
extern const struct diff_case cases[];
extern const size_t n_cases;

/*
 * osip_diff.c: scan @p ours_text with our scanner and @p theirs_text with
 * libosip2 (the same text, except in the negative control) and compare.
 * Returns the number of fields that differ, or -1 when either parser
 * rejects its message. @p quiet: do not print the differences.
 */
int diff_texts(const char *name, const char *ours_text, const char *theirs_text, int quiet);

#endif /* OSIP_DIFF_H */
