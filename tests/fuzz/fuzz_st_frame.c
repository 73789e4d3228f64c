/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for SIP framing on a TCP / TLS stream (streams/st_frame.c
 * as streams/st_conn.c runs it), over the real connection code (st_fuzz.h).
 *
 * Input: byte 0 picks streams.max_message (bits 0-2) and the chunk scale
 * (bits 3-6), bytes 1-4 seed the chunk sizes, the rest is what the peer
 * sends (at most 64 KiB). It is sent twice on two connections: in one
 * write, and split at the seeded boundaries (each chunk read before the
 * next is written). The two must hand up the same messages, byte for byte,
 * close for the same reason and answer as many keepalives: framing does
 * not depend on how the bytes arrive.
 *
 * Each run is also checked against the bytes sent:
 *  - the messages are the stream's bytes in order, with nothing between
 *    them but CR and LF (stray CRLFs and CRLFCRLF pings, RFC 5626 §4.4.1);
 *    what the connection wrote back is pongs (CRLF) only;
 *  - each is at most max_message bytes, and st_frame() on an exact-size
 *    copy of it alone frames it whole (its Content-Length ends it), while
 *    one byte less is not whole yet;
 *  - after the last message: a framing error (no_length, bad_length,
 *    too_large) is what st_frame() says of an exact-size copy of the rest,
 *    closed before the peer was done, nothing handed up after it; a stream
 *    that ended cleanly (peer) leaves only a partial message or CRLFs.
 * Exact-size copies let ASan see st_frame() read past what it was given;
 * the connection and counters must be back to none open after each run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/st_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *stz_name = "fuzz_st_frame";

#define HEAD	 5
#define MAX_FEED (64u * 1024)

static const uint32_t max_messages[8] = {16, 64, 200, 512, 1500, 4096, 16384, 65535};

static struct st_frame frame_copy(const uint8_t *p, size_t n, uint32_t max)
{
	uint8_t *c = malloc(n ? n : 1);
	struct st_frame f;

	STZ_CHECK(c != NULL);
	memcpy(c, p, n);
	st_frame(c, n, max, &f);
	free(c);
	return f;
}

static int is_crlf(uint8_t c)
{
	return c == '\r' || c == '\n';
}

static void check_run(const uint8_t *p, size_t n, uint32_t max, const struct stz_run *r)
{
	size_t off = 0;
	struct st_frame f;

	for (size_t i = 0; i + 1 < r->n_out; i += 2)
		STZ_CHECK(r->out[i] == '\r' && r->out[i + 1] == '\n');
	STZ_CHECK(r->n_out % 2 == 0);
	for (unsigned i = 0; i < r->n_msgs; i++) {
		uint32_t len = r->len[i];

		while (off < n && is_crlf(p[off]))
			off++;
		STZ_CHECK(len >= 1 && len <= max && off + len <= r->fed);
		STZ_CHECK(memcmp(p + off, r->msg[i], len) == 0);
		f = frame_copy(r->msg[i], len, max);
		STZ_CHECK(f.kind == ST_FRAME_MSG && f.len == len);
		f = frame_copy(r->msg[i], len - 1, max);
		STZ_CHECK(f.kind == ST_FRAME_MORE && f.started);
		off += len;
	}
	while (off < n && is_crlf(p[off]))
		off++;
	/* st_conn.c looks at most max_message bytes at a time. */
	f = frame_copy(p + off, n - off < max ? n - off : max, max);
	switch (r->why) {
	case ST_CLOSE_no_length:
	case ST_CLOSE_bad_length:
	case ST_CLOSE_too_large:
		STZ_CHECK(f.kind == ST_FRAME_ERR && f.why == r->why && r->closed_early);
		break;
	case ST_CLOSE_peer:
		STZ_CHECK(off == n || f.kind == ST_FRAME_MORE);
		STZ_CHECK(r->fed == n);
		break;
	default:
		STZ_CHECK(!"closed for a reason framing does not give");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct st *st;
	static struct stz_run a, b;
	struct stz_rng g;
	const uint8_t *p = data + HEAD;
	size_t n;
	uint32_t max;
	uint64_t ka0, ka1, ka2, in0;
	struct st_tp_stats *s;

	if (size < HEAD)
		return 0;
	if (!st)
		st = stz_new(SW_TP_TCP);
	s = &st->stats.tp[SW_TP_TCP];
	n = size - HEAD < MAX_FEED ? size - HEAD : MAX_FEED;
	max = max_messages[data[0] & 7];
	stz_rng_seed(&g, data);

	ka0 = s->keepalives;
	in0 = s->msgs_in;
	stz_run(st, max, p, n, stz_one_write, NULL, &a);
	ka1 = s->keepalives;
	stz_run(st, max, p, n, stz_chunked, &g, &b);
	ka2 = s->keepalives;

	check_run(p, n, max, &a);
	check_run(p, n, max, &b);
	STZ_CHECK(a.n_msgs == b.n_msgs && a.why == b.why);
	for (unsigned i = 0; i < a.n_msgs; i++)
		STZ_CHECK(a.len[i] == b.len[i] && memcmp(a.msg[i], b.msg[i], a.len[i]) == 0);
	STZ_CHECK(ka1 - ka0 == ka2 - ka1);
	STZ_CHECK(s->msgs_in - in0 == (uint64_t)a.n_msgs + b.n_msgs);
	STZ_CHECK(s->open == 0);
	stz_run_free(&a);
	stz_run_free(&b);
	return 0;
}
