/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for SIP over WebSocket (streams/st_ws.c with libwslay;
 * RFC 6455, RFC 7118) over the real connection code (st_fuzz.h).
 *
 * Input: byte 0 picks streams.max_message (bits 0-2) and the chunk scale
 * (bits 3-6), bytes 1-4 seed the chunk sizes, byte 5 bit 0 chooses raw mode.
 * The rest is a list of frames, each [flags][len][payload]:
 *   flags bits 0-3 opcode (any, reserved ones too), bit 4 FIN, bit 5 sent
 *   unmasked, bit 6 RSV1, bit 7 the record's bytes go on the wire as they
 *   are (no frame built around them);
 *   len < 0xfe: the payload's length; 0xfe: a 16-bit length follows, sent
 *   in the 16-bit form; 0xff: a 16-bit length follows, sent in the 64-bit
 *   form (not the shortest form when under 65536: a protocol error).
 * The harness writes a valid upgrade request, then the frames, masked with
 * a key of its own, in chunks. In raw mode the rest goes as it is (the
 * upgrade too, if any).
 *
 * Without a raw record, a model of RFC 6455 as wslay applies it gives what
 * must happen: the messages handed up (each text / binary message whose
 * SIP framing st_frame_ws() accepts, reassembled from its fragments),
 * and how the connection ends: the peer's close echoed (ST_CLOSE_peer), a
 * protocol error (ST_CLOSE_bad_frame with close code 1002: unmasked, RSV1,
 * reserved opcode, continuation out of place, a control frame fragmented or
 * over 125 bytes, a length not in its shortest form, a bad close code),
 * 1009 for a message over max_message, 1007 for invalid UTF-8 in a text
 * message, a SIP framing error with its reason and close code, or the peer
 * just going away. Pongs echo pings. The server's frames are parsed: at
 * most one close, last, with the expected code.
 * In raw mode: the messages are the same whether the bytes come in one
 * write or in chunks, each passes st_frame_ws(), the close reason is one
 * a WebSocket connection can give.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/st_fuzz.h"
#include "tests/fuzz/ws_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *stz_name = "fuzz_st_ws";

#define HEAD	 6
#define MAX_FEED (64u * 1024)

static const uint32_t max_messages[8] = {16, 64, 200, 512, 1500, 4096, 16384, 65535};

static const char upgrade[] = "GET / HTTP/1.1\r\nHost: edge.example.com\r\n"
			      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
static const char accepted[] = "HTTP/1.1 101 Switching Protocols\r\n";

/* Each message handed up passes st_frame_ws() on an exact-size copy. */
static void check_msgs(const struct stz_run *r, uint32_t max)
{
	for (unsigned i = 0; i < r->n_msgs; i++) {
		uint8_t *c = malloc(r->len[i] ? r->len[i] : 1);

		STZ_CHECK(c != NULL);
		memcpy(c, r->msg[i], r->len[i]);
		STZ_CHECK(r->len[i] <= max && st_frame_ws(c, r->len[i], max) == 0);
		free(c);
	}
}

static void check_model(const struct wsm *m, const struct stz_run *r)
{
	struct wsm_out o;

	STZ_CHECK(r->n_msgs == m->n_msgs);
	for (unsigned i = 0; i < m->n_msgs; i++)
		STZ_CHECK(r->len[i] == m->len[i] && memcmp(r->msg[i], m->msg[i], m->len[i]) == 0);
	STZ_CHECK(r->n_out >= sizeof(accepted) - 1 &&
		  memcmp(r->out, accepted, sizeof(accepted) - 1) == 0);
	wsm_parse_out(r->out, r->n_out, &o);
	STZ_CHECK(o.ok);
	/* Pongs written before the close: the first of those the pings asked. */
	STZ_CHECK(o.n_pongs <= m->n_pings);
	for (unsigned i = 0; i < o.n_pongs; i++)
		STZ_CHECK(o.pong_hash[i] == m->ping_hash[i]);
	if (m->why == ST_CLOSE_peer && m->close_code < 0) {
		/* The peer went away: closed at its EOF, nothing more said. */
		STZ_CHECK(r->why == ST_CLOSE_peer && !r->closed_early && o.close_code < 0);
		return;
	}
	if (m->either_utf8) {
		/* A close frame's reason in invalid UTF-8: wslay checks it per
		 * read, skipping the first 2 bytes of each, so where a read
		 * ends decides (a bug of wslay's, not sipwake's). */
		STZ_CHECK((r->why == ST_CLOSE_bad_frame && o.close_code == 1007) ||
			  (r->why == m->why && o.close_code == m->close_code));
		return;
	}
	STZ_CHECK(r->why == m->why && r->closed_early);
	STZ_CHECK(o.close_code == m->close_code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct st *st;
	static struct stz_run a, b;
	static struct wsm m;
	static uint8_t wire[sizeof(upgrade) + 2 * MAX_FEED];
	struct stz_rng g;
	size_t n, wn;
	uint32_t max;
	int raw;

	if (size < HEAD)
		return 0;
	if (!st)
		st = stz_new(SW_TP_WS);
	n = size - HEAD < MAX_FEED ? size - HEAD : MAX_FEED;
	max = max_messages[data[0] & 7];
	stz_rng_seed(&g, data);
	raw = data[5] & 1;
	if (raw) {
		memcpy(wire, data + HEAD, n);
		wn = n;
	} else {
		memcpy(wire, upgrade, sizeof(upgrade) - 1);
		wn = sizeof(upgrade) - 1;
		wn += wsm_build(data + HEAD, n, max, wire + wn, sizeof(wire) - wn, &m);
	}

	stz_run(st, max, wire, wn, stz_one_write, NULL, &a);
	stz_run(st, max, wire, wn, stz_chunked, &g, &b);
	check_msgs(&a, max);
	check_msgs(&b, max);
	if (!raw && !m.unmodelled) {
		check_model(&m, &a);
		check_model(&m, &b);
	} else {
		/* Framing does not depend on the chunks; a close frame's reason
		 * may (check_model()), so only the messages must agree. */
		STZ_CHECK(a.n_msgs == b.n_msgs);
		for (unsigned i = 0; i < a.n_msgs; i++)
			STZ_CHECK(a.len[i] == b.len[i] &&
				  memcmp(a.msg[i], b.msg[i], a.len[i]) == 0);
		for (int i = 0; i < 2; i++) {
			int why = (i ? &b : &a)->why;

			STZ_CHECK(why == ST_CLOSE_peer || why == ST_CLOSE_ws_failed ||
				  why == ST_CLOSE_bad_frame || why == ST_CLOSE_no_length ||
				  why == ST_CLOSE_bad_length || why == ST_CLOSE_too_large);
		}
	}
	STZ_CHECK(st->stats.tp[SW_TP_WS].open == 0 && st->stats.tp[SW_TP_WS].handshaking == 0);
	stz_run_free(&a);
	stz_run_free(&b);
	wsm_free(&m);
	return 0;
}
