/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the SIP scanner (sip/sip_scan.h).
 *
 * Each input is copied into a heap buffer of exactly its size (no NUL after
 * it), so AddressSanitizer reports any read past the datagram, and scanned.
 * An accepted message must then satisfy the contract: every slice inside
 * [0, len), headers, body and surplus consistent with Content-Length, at
 * most SIP_MAX_HDRS header fields, scalars in their ranges; and the
 * message alone, without its surplus bytes (RFC 3261 §18.3), must scan to
 * the same length. Every byte of every slice is read, so ASan also checks
 * what the slices point at. A broken invariant aborts, which libFuzzer
 * reports as a crash with its reproducer.
 *
 * Every input is scanned once per implementation of the structural index
 * (sip/sip_index.h: portable C, SSSE3, AVX2, as this CPU runs them): the
 * verdicts and every field must agree (sip_same.h), so the scanner's answer
 * cannot depend on the CPU it runs on.
 *
 * Built with clang by tests/fuzz/build.sh; tests/fuzz/replay.c runs the same
 * checks over the seed corpus with gcc, as a meson unit test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_scan.h"
#include "tests/fuzz/sip_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_sip_scan: invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                            \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* Folds every byte of the slices into it, so no read is optimised away. */
static volatile uint8_t sink;

static void touch(const uint8_t *buf, uint32_t len, struct sip_slice s)
{
	uint8_t acc = 0;

	CHECK((uint32_t)s.off + s.len <= len);
	for (uint32_t i = 0; i < s.len; i++)
		acc ^= buf[s.off + i];
	sink ^= acc;
}

static void touch_uri(const uint8_t *buf, uint32_t len, const struct sip_uri *u)
{
	touch(buf, len, u->whole);
	touch(buf, len, u->user);
	touch(buf, len, u->host);
	touch(buf, len, u->params);
	CHECK(u->scheme <= SIP_SCHEME_TEL);
	if (u->whole.len == 0)
		return;
	/* Parts lie inside the URI they were cut from. */
	CHECK(u->host.len == 0 || (u->host.off >= u->whole.off &&
				   u->host.off + u->host.len <= u->whole.off + u->whole.len));
	CHECK(u->user.len == 0 || (u->user.off >= u->whole.off &&
				   u->user.off + u->user.len <= u->whole.off + u->whole.len));
}

static void touch_nameaddr(const uint8_t *buf, uint32_t len, const struct sip_nameaddr *na)
{
	touch(buf, len, na->value);
	touch_uri(buf, len, &na->uri);
	touch(buf, len, na->tag);
	CHECK(na->value.len > 0);
	CHECK(na->tag.len == 0 || (na->tag.off >= na->value.off &&
				   na->tag.off + na->tag.len <= na->value.off + na->value.len));
}

static void check_accepted(const uint8_t *buf, uint32_t len, const struct sip_msg *m)
{
	CHECK(m->nhdrs >= 5 && m->nhdrs <= SIP_MAX_HDRS); /* Via, From, To, Call-ID, CSeq */
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		touch(buf, len, h->name);
		touch(buf, len, h->value);
		CHECK(h->name.len > 0);
		CHECK((uint32_t)h->value.off + h->value.len <= m->hdrs_end);
		CHECK(h->id <= SIP_H_X_PUSH);
	}

	if (m->is_request) {
		CHECK(m->method_name.len > 0 && m->ruri.whole.len > 0);
		CHECK(m->method == m->cseq_method);
		CHECK(m->cseq_method_name.len == m->method_name.len &&
		      memcmp(buf + m->cseq_method_name.off, buf + m->method_name.off,
			     m->method_name.len) == 0);
	} else {
		CHECK(m->status >= 100 && m->status <= 699);
	}
	touch(buf, len, m->method_name);
	touch_uri(buf, len, &m->ruri);
	touch(buf, len, m->reason);

	touch(buf, len, m->via.value);
	touch(buf, len, m->via.transport);
	touch(buf, len, m->via.host);
	touch(buf, len, m->via.branch);
	touch(buf, len, m->via.received);
	CHECK(m->via.value.len > 0 && m->via.transport.len > 0 && m->via.host.len > 0);
	CHECK(m->via.rport >= -1 && m->via.rport <= 65535);

	touch_nameaddr(buf, len, &m->from);
	touch_nameaddr(buf, len, &m->to);
	touch(buf, len, m->call_id);
	touch(buf, len, m->cseq_method_name);
	CHECK(m->call_id.len > 0 && m->cseq_method_name.len > 0);
	CHECK(m->cseq <= 0x7fffffffu);
	CHECK(m->max_forwards >= -1 && m->max_forwards <= 255);

	/* Framing: headers, then the body, then surplus (§18.3) up to len. */
	touch(buf, len, m->body);
	/* Registrar / router fields (Contact, push addresses, Route, User-Agent). */
	if (m->n_contacts > 0) {
		touch(buf, len, m->contact.value);
		touch_uri(buf, len, &m->contact.uri);
		touch(buf, len, m->contact.instance);
		touch(buf, len, m->contact.pn.provider);
		touch(buf, len, m->contact.pn.prid);
		touch(buf, len, m->contact.pn.param);
	}
	touch(buf, len, m->xpush.provider);
	touch(buf, len, m->xpush.prid);
	touch(buf, len, m->xpush.param);
	touch_uri(buf, len, &m->route);
	touch_uri(buf, len, &m->record_route);
	touch(buf, len, m->user_agent);
	CHECK(m->hdrs_end >= 4 && m->hdrs_end <= m->msg_len && m->msg_len <= len);
	CHECK(m->body.off == m->hdrs_end);
	CHECK((uint32_t)m->body.off + m->body.len == m->msg_len);
	CHECK(buf[m->hdrs_end - 2] == '\r' && buf[m->hdrs_end - 1] == '\n');
	if (m->content_length < 0)
		CHECK(m->msg_len == len);
	else
		CHECK(m->body.len == (uint32_t)m->content_length);
}

/* The other implementations scan @p buf as the best one did (verdict @p v, fields @p m). */
static void check_implementations(const uint8_t *buf, uint32_t len, enum sip_verdict v,
				  const struct sip_msg *m)
{
	static const enum sip_impl others[] = {SIP_IMPL_PORTABLE, SIP_IMPL_SSSE3, SIP_IMPL_AVX2};
	struct sip_msg *o = malloc(sizeof(*o));

	CHECK(o != NULL);
	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		const char *diff;

		if (sip_scan_use(others[i]) < 0)
			continue;
		CHECK(sip_scan(buf, len, o) == v);
		diff = v == SIP_SCAN_OK ? sip_same_msg(m, o) : NULL;
		if (diff != NULL)
			fprintf(stderr, "fuzz_sip_scan: %s differs with %s\n", diff,
				sip_scan_impl_name());
		CHECK(diff == NULL);
	}
	CHECK(sip_scan_use(SIP_IMPL_BEST) >= 0);
	free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *m = malloc(sizeof(*m));
	uint8_t *buf = malloc(size != 0 ? size : 1);
	enum sip_verdict v;

	CHECK(m != NULL && buf != NULL);
	if (size != 0)
		memcpy(buf, data, size);
	/* The scanner reads nothing when len is 0; a 0-byte buffer would be legal too. */
	v = sip_scan(buf, (uint32_t)size, m);
	CHECK((unsigned)v < SIP_VERDICT_MAX);
	CHECK(sip_verdict_name(v) != NULL);
	if (size > SIP_MAX_LEN)
		CHECK(v == SIP_ERR_TRUNCATED);
	check_implementations(buf, (uint32_t)size, v, m);

	if (v == SIP_SCAN_OK) {
		uint32_t msg_len;

		check_accepted(buf, (uint32_t)size, m);
		msg_len = m->msg_len;
		/* The message without its surplus is the same message. */
		if (msg_len < size) {
			uint8_t *exact = malloc(msg_len);

			CHECK(exact != NULL);
			memcpy(exact, buf, msg_len);
			CHECK(sip_scan(exact, msg_len, m) == SIP_SCAN_OK);
			CHECK(m->msg_len == msg_len);
			check_accepted(exact, msg_len, m);
			free(exact);
		}
	}
	free(buf);
	free(m);
	return 0;
}
