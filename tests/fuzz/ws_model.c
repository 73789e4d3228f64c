/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_st_ws.c's model of a server's side of RFC 6455 (ws_model.h). The
 * order of the checks is wslay's (lib/wslay_frame.c, lib/wslay_event.c,
 * release 1.1.1), the close codes sipwake's (streams/st_ws.c).
 */
#include <stdlib.h>
#include <string.h>

#include "streams/st.h"
#include "streams/st_frame.h"
#include "tests/fuzz/ws_model.h"

#define OP_CONT	 0x0
#define OP_TEXT	 0x1
#define OP_BIN	 0x2
#define OP_CLOSE 0x8
#define OP_PING	 0x9
#define OP_PONG	 0xa

static uint32_t hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)n;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void end(struct wsm *m, int why, int code)
{
	m->done = 1;
	m->why = why;
	m->close_code = code;
}

/* RFC 3629 §4, one byte at a time: 0 while valid so far. */
static int utf8_bad(struct wsm *m, uint8_t b)
{
	if (m->u8_need == 0) {
		m->u8_lo = 0x80;
		m->u8_hi = 0xbf;
		if (b < 0x80)
			return 0;
		if (b >= 0xc2 && b <= 0xdf)
			m->u8_need = 1;
		else if (b >= 0xe0 && b <= 0xef)
			m->u8_need = 2;
		else if (b >= 0xf0 && b <= 0xf4)
			m->u8_need = 3;
		else
			return 1;
		if (b == 0xe0) /* no overlong forms */
			m->u8_lo = 0xa0;
		else if (b == 0xed) /* no surrogates */
			m->u8_hi = 0x9f;
		else if (b == 0xf0)
			m->u8_lo = 0x90;
		else if (b == 0xf4) /* nothing over U+10FFFF */
			m->u8_hi = 0x8f;
		return 0;
	}
	if (b < m->u8_lo || b > m->u8_hi)
		return 1;
	m->u8_need--;
	m->u8_lo = 0x80;
	m->u8_hi = 0xbf;
	return 0;
}

/* wslay's: what a peer may send in a close frame (RFC 6455 §7.4). */
static int close_code_ok(unsigned c)
{
	return (c >= 1000 && c <= 1011 && c != 1004 && c != 1005 && c != 1006) ||
	       (c >= 3000 && c <= 4999);
}

/* streams/st_ws.c: the close code for a SIP message refused. */
static int sip_close_code(int why)
{
	return why == ST_CLOSE_too_large ? 1009 : 1002;
}

static void message(struct wsm *m, const uint8_t *p, size_t n, uint32_t max)
{
	uint8_t *msg = malloc(m->frag_len + n + 1);
	size_t len = m->frag_len + n;
	int why;

	if (!msg)
		abort();
	if (m->frag_len)
		memcpy(msg, m->frag, m->frag_len);
	memcpy(msg + m->frag_len, p, n);
	free(m->frag);
	m->frag = NULL;
	m->frag_len = 0;
	m->frag_op = 0;
	why = st_frame_ws(msg, len, max);
	if (why || m->n_msgs == WSM_MAX) {
		free(msg);
		end(m, why ? why : ST_CLOSE_bad_frame, why ? sip_close_code(why) : -1);
		if (!why)
			m->unmodelled = 1;
		return;
	}
	m->msg[m->n_msgs] = msg;
	m->len[m->n_msgs++] = (uint32_t)len;
}

/* One frame as the server reads it. */
static void step(struct wsm *m, uint8_t op, int fin, int rsv1, int masked, int shortest,
		 const uint8_t *p, size_t len, uint32_t max)
{
	int ctrl = op & 8, text;

	/* wslay_frame_recv(): the frame cannot be read on. */
	if ((ctrl && (len > 125 || !fin)) || !shortest)
		return end(m, ST_CLOSE_bad_frame, 1002);
	/* wslay_event_recv(), in its order. */
	if (rsv1 || !masked)
		return end(m, ST_CLOSE_bad_frame, 1002);
	if (m->frag_op == 0 ? !(op == OP_TEXT || op == OP_BIN || op == OP_CLOSE || op == OP_PING ||
				op == OP_PONG)
			    : !(op == OP_CONT || op == OP_CLOSE || op == OP_PING || op == OP_PONG))
		return end(m, ST_CLOSE_bad_frame, 1002);
	if ((ctrl ? 0 : m->frag_len) + len > max)
		return end(m, ST_CLOSE_bad_frame, 1009);
	if (ctrl) {
		if (op == OP_PING) {
			if (m->n_pings == WSM_MAX)
				m->unmodelled = 1;
			else
				m->ping_hash[m->n_pings++] = hash(p, len);
		} else if (op == OP_CLOSE) {
			unsigned code = len >= 2 ? (unsigned)p[0] << 8 | p[1] : 0;

			/* Its reason's UTF-8 is checked per read by wslay. */
			m->either_utf8 = len > 2;
			if (len >= 2 && !close_code_ok(code))
				return end(m, ST_CLOSE_bad_frame, 1002);
			return end(m, ST_CLOSE_peer, (int)code);
		}
		return;
	}
	if (op != OP_CONT) {
		m->frag_op = op;
		m->u8_need = 0;
	}
	text = m->frag_op == OP_TEXT;
	for (size_t i = 0; text && i < len; i++)
		if (utf8_bad(m, p[i]))
			return end(m, ST_CLOSE_bad_frame, 1007);
	if (fin && text && m->u8_need)
		return end(m, ST_CLOSE_bad_frame, 1007);
	if (fin)
		return message(m, p, len, max);
	/* A fragment: kept until the message's last. */
	m->frag = realloc(m->frag, m->frag_len + len + 1);
	if (!m->frag)
		abort();
	memcpy(m->frag + m->frag_len, p, len);
	m->frag_len += len;
}

size_t wsm_build(const uint8_t *in, size_t n, uint32_t max_message, uint8_t *out, size_t cap,
		 struct wsm *m)
{
	size_t i = 0, o = 0;
	unsigned idx = 0;

	memset(m, 0, sizeof(*m));
	m->close_code = -1;
	m->why = ST_CLOSE_peer;
	while (i + 2 <= n && o + 14 <= cap) {
		uint8_t f = in[i], l = in[i + 1];
		uint8_t op = f & 15, key[4] = {0x37, 0xfa, 0x21, (uint8_t)idx++};
		int fin = (f >> 4) & 1, masked = !((f >> 5) & 1), rsv1 = (f >> 6) & 1;
		size_t len = l, form = len < 126 ? 7 : 16;
		const uint8_t *p;

		i += 2;
		if (l >= 0xfe) {
			len = i + 2 <= n ? (size_t)in[i] << 8 | in[i + 1] : 0;
			form = l == 0xfe ? 16 : 64;
			i = i + 2 <= n ? i + 2 : n;
		}
		if (len > n - i)
			len = n - i;
		if (len > cap - o - 14)
			len = cap - o - 14;
		p = in + i;
		i += len;
		if (f & 0x80) {
			/* Raw: the bytes as they are; nothing can be predicted. */
			memcpy(out + o, p, len);
			o += len;
			m->unmodelled = 1;
			continue;
		}
		out[o++] = (uint8_t)(fin << 7 | rsv1 << 6 | op);
		if (form == 7) {
			out[o++] = (uint8_t)((masked ? 0x80 : 0) | len);
		} else if (form == 16) {
			out[o++] = (uint8_t)((masked ? 0x80 : 0) | 126);
			out[o++] = (uint8_t)(len >> 8);
			out[o++] = (uint8_t)len;
		} else {
			out[o++] = (uint8_t)((masked ? 0x80 : 0) | 127);
			for (int k = 7; k >= 0; k--)
				out[o++] = k < 2 ? (uint8_t)(len >> (8 * k)) : 0;
		}
		if (masked) {
			memcpy(out + o, key, 4);
			o += 4;
		}
		for (size_t k = 0; k < len; k++)
			out[o + k] = masked ? p[k] ^ key[k % 4] : p[k];
		o += len;
		if (!m->done)
			step(m, op, fin, rsv1, masked,
			     form == 7 || (form == 16 && len >= 126) ||
				     (form == 64 && len >= 65536),
			     p, len, max_message);
	}
	return o;
}

void wsm_free(struct wsm *m)
{
	for (unsigned i = 0; i < m->n_msgs; i++)
		free(m->msg[i]);
	free(m->frag);
	memset(m, 0, sizeof(*m));
}

void wsm_parse_out(const uint8_t *p, size_t n, struct wsm_out *o)
{
	static const uint8_t eoh[4] = {'\r', '\n', '\r', '\n'};
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	o->ok = 1;
	o->close_code = -1;
	while (i + 4 <= n && memcmp(p + i, eoh, 4) != 0)
		i++;
	i += 4;
	while (i + 2 <= n) {
		uint8_t op = p[i] & 15;
		size_t len = p[i + 1] & 127, h = 2;

		if (len == 126) {
			if (i + 4 > n)
				break;
			len = (size_t)p[i + 2] << 8 | p[i + 3];
			h = 4;
		} else if (len == 127) {
			o->ok = 0; /* nothing the server sends here is that long */
			break;
		}
		if (i + h + len > n)
			break; /* cut by the close: not a frame we check */
		/* Server frames are never masked (RFC 6455 §5.1); nothing after a close. */
		if ((p[i + 1] & 0x80) || o->close_code >= 0 || !(p[i] & 0x80))
			o->ok = 0;
		if (op == OP_PONG && o->n_pongs < WSM_MAX)
			o->pong_hash[o->n_pongs++] = hash(p + i + h, len);
		else if (op == OP_CLOSE)
			o->close_code = len >= 2 ? p[i + h] << 8 | p[i + h + 1] : 0;
		else
			o->ok = 0;
		i += h + len;
	}
}
