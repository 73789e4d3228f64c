/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP framing on a stream by Content-Length (RFC 3261 §18.3: mandatory on
 * streams; §7.3.3 "l" is its compact form; §25.1 HCOLON = *( SP / HTAB )
 * ":" SWS). Leading CRLFs (§7.5) are skipped, except a lone CRLFCRLF: an
 * RFC 5626 §4.4.1 keepalive ping, answered by the caller.
 */
#include <string.h>

#include "streams/st_frame.h"

/* Above this, a Content-Length cannot fit any max_message (uint32_t). */
#define CL_MAX 0xffffffffull

static const uint8_t *find_crlfcrlf(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return p + i;
	return NULL;
}

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static int lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Is the header name [p, p+n) Content-Length or its compact "l"? */
static int is_cl_name(const uint8_t *p, size_t n)
{
	static const char cl[] = "content-length";

	if (n == 1)
		return lower(p[0]) == 'l';
	if (n != sizeof(cl) - 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)cl[i])
			return 0;
	return 1;
}

/*
 * The Content-Length of the header block [p, p+n) (without its final
 * CRLFCRLF): 0 and *cl set (*cl = -1 when absent), or a close reason.
 */
static int content_length(const uint8_t *p, size_t n, long long *cl)
{
	const uint8_t *end = p + n, *line = p, *eol;

	*cl = -1;
	/* The start line has no header: skip it. */
	eol = memchr(line, '\n', n);
	line = eol ? eol + 1 : end;
	for (; line < end; line = eol + 1) {
		const uint8_t *q = line, *name_end;
		unsigned long long v = 0;
		size_t digits = 0;

		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		while (q < eol && *q != ':' && !is_ws(*q))
			q++;
		name_end = q;
		while (q < eol && is_ws(*q))
			q++;
		if (q == eol || *q != ':' || !is_cl_name(line, (size_t)(name_end - line)))
			continue;
		q++;
		while (q < eol && is_ws(*q))
			q++;
		for (; q < eol && *q >= '0' && *q <= '9'; q++, digits++) {
			v = v * 10 + (unsigned)(*q - '0');
			if (v > CL_MAX)
				return ST_CLOSE_too_large;
		}
		while (q < eol && (is_ws(*q) || *q == '\r'))
			q++;
		/* "-5", "abc", "12x", "": not a number (a negative length is one of them). */
		if (!digits || q != eol)
			return ST_CLOSE_bad_length;
		if (*cl >= 0 && (unsigned long long)*cl != v)
			return ST_CLOSE_bad_length;
		*cl = (long long)v;
	}
	return 0;
}

void st_frame(const uint8_t *p, size_t n, uint32_t max_message, struct st_frame *out)
{
	static const uint8_t ping[4] = {'\r', '\n', '\r', '\n'};
	const uint8_t *hend;
	size_t look, hlen;
	long long cl;
	int why;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	if (p[0] == '\r' || p[0] == '\n') {
		size_t k = n < 4 ? n : 4;

		if (memcmp(p, ping, k) == 0) {
			/* A prefix of CRLFCRLF: a ping, or a stray CRLF before a message. */
			if (n >= 4) {
				out->kind = ST_FRAME_PING;
				out->len = 4;
			}
			return;
		}
		if (n >= 2 && p[0] == '\r' && p[1] == '\n') {
			out->kind = ST_FRAME_SKIP;
			out->len = 2;
			return;
		}
		/* A bare CR or LF: no message starts so; dropped as a stray CRLF
		 * would be, the tolerance §7.5 asks for. */
		out->kind = ST_FRAME_SKIP;
		out->len = 1;
		return;
	}
	out->started = 1;
	look = n < max_message ? n : max_message;
	hend = find_crlfcrlf(p, look);
	if (!hend) {
		if (n >= max_message) {
			out->kind = ST_FRAME_ERR;
			out->why = ST_CLOSE_too_large;
		}
		return;
	}
	hlen = (size_t)(hend - p) + 4;
	why = content_length(p, hlen - 2, &cl);
	if (!why && cl < 0)
		why = ST_CLOSE_no_length;
	if (!why && (unsigned long long)cl + hlen > max_message)
		why = ST_CLOSE_too_large;
	if (why) {
		out->kind = ST_FRAME_ERR;
		out->why = (uint8_t)why;
		return;
	}
	if (n < hlen + (size_t)cl)
		return;
	out->kind = ST_FRAME_MSG;
	out->len = hlen + (size_t)cl;
}

int st_frame_ws(const uint8_t *p, size_t n, uint32_t max_message)
{
	const uint8_t *hend;
	size_t hlen;
	long long cl;
	int why;

	if (n > max_message)
		return ST_CLOSE_too_large;
	hend = find_crlfcrlf(p, n);
	if (!hend)
		return ST_CLOSE_bad_frame;
	hlen = (size_t)(hend - p) + 4;
	why = content_length(p, hlen - 2, &cl);
	if (why)
		return why;
	if (cl >= 0 && (unsigned long long)cl != n - hlen)
		return ST_CLOSE_bad_length;
	return 0;
}
