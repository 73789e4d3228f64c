/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared helpers of the SIP scanner unit tests (sip/sip_scan.h):
 * a per-test fixture, scanning from an exactly sized heap copy, slice and
 * verdict assertions, edit tables, and the fixture messages.
 * Every input is copied into a heap buffer of exactly its length, with no
 * terminating NUL, so AddressSanitizer reports any read past the message.
 * Everything here is static inline, so a test file may use any subset.
 * It includes cmocka and its prerequisites itself.
 */
#ifndef SIP_TEST_UTIL_H
#define SIP_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip_scan.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct sc {
	uint8_t *buf;
	uint32_t len;
	struct sip_msg msg;
};

static inline int sc_setup(void **state)
{
	*state = calloc(1, sizeof(struct sc));
	return *state == NULL ? -1 : 0;
}

static inline int sc_teardown(void **state)
{
	struct sc *s = *state;

	free(s->buf);
	free(s);
	return 0;
}

/* Scan @p len bytes of @p data from an exactly sized copy, kept for slice checks. */
static inline enum sip_verdict scan_mem(struct sc *s, const void *data, size_t len)
{
	free(s->buf);
	s->buf = malloc(len); /* may be NULL for len 0: the scanner must not read it then */
	assert_true(len == 0 || s->buf != NULL);
	if (len != 0)
		memcpy(s->buf, data, len);
	s->len = (uint32_t)len;
	return sip_scan(s->buf, s->len, &s->msg);
}

static inline enum sip_verdict scan(struct sc *s, const char *text)
{
	return scan_mem(s, text, strlen(text));
}

/* Scan @p base with the first occurrence of @p from replaced by @p to. */
static inline enum sip_verdict scan_edit(struct sc *s, const char *base, const char *from,
					 const char *to)
{
	const char *at = strstr(base, from);
	size_t flen = strlen(from), tlen = strlen(to), blen = strlen(base);
	enum sip_verdict v;
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

static inline void check_slice(const uint8_t *buf, struct sip_slice sl, const char *want,
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

static inline void check_verdict(enum sip_verdict got, enum sip_verdict want, const char *file,
				 int line)
{
	if (got != want) {
		print_error("%s:%d: verdict %s, expected %s\n", file, line, sip_verdict_name(got),
			    sip_verdict_name(want));
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
	enum sip_verdict want;
};

static inline void check_edits(struct sc *s, const char *base, const struct edit *e, size_t n,
			       const char *file, int line)
{
	for (size_t i = 0; i < n; i++) {
		enum sip_verdict got = scan_edit(s, base, e[i].from, e[i].to);

		if (got != e[i].want) {
			print_error("%s:%d: case %zu \"%s\": verdict %s, expected %s\n", file, line,
				    i, e[i].to, sip_verdict_name(got), sip_verdict_name(e[i].want));
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

/* A heap copy of exactly @p len bytes of @p data, no NUL after it (NULL for len 0). */
static inline uint8_t *sip_test_memdup(const void *data, size_t len)
{
	uint8_t *p;

	if (len == 0)
		return NULL;
	p = malloc(len);
	assert_non_null(p);
	memcpy(p, data, len);
	return p;
}

#endif /* SIP_TEST_UTIL_H */
