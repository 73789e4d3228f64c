/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the sip_*.c files of the scanner; not part of its
 * contract (sip_scan.h). Every helper works on a half-open range
 * [pos, end) of the message and checks pos < end before each read, so a
 * caller that passes a range inside [buf, buf + len) cannot over-read.
 * Symbols defined out of line are hidden: they link inside the library and
 * are not exported from any shared object it ends up in.
 */
#ifndef SIP_INTERNAL_H
#define SIP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include "sip/sip_scan.h"

#define SIP_HIDDEN __attribute__((visibility("hidden")))

/*
 * Character classes (RFC 3261 §25.1, RFC 3966 §3), one bit each, looked up
 * in sip_cc[] so that a class test is one load and one AND.
 */
#define SIP_C_TOKEN  0x0001u /* token: alphanum / "-.!%*_+`'~" */
#define SIP_C_DIGIT  0x0002u
#define SIP_C_HEX    0x0004u
#define SIP_C_ALPHA  0x0008u
#define SIP_C_HOST   0x0010u /* hostname / IPv4address: alphanum / "-" / "." (and "_", see sip_cc) */
#define SIP_C_USER   0x0020u /* userinfo: unreserved / escaped / "&=+$,;?/" / ":" password */
#define SIP_C_PARAM  0x0040u /* uri-parameters: paramchar / ";" / "=" */
#define SIP_C_HNV    0x0080u /* URI headers: hnv-unreserved / unreserved / escaped / "=" / "&" */
#define SIP_C_URIC   0x0100u /* absoluteURI (RFC 2396 uric, RFC 2732 brackets) */
#define SIP_C_CTL    0x0200u /* %x00-1F except HT, and %x7F */
#define SIP_C_WSP    0x0400u /* SP / HTAB */
#define SIP_C_GENVAL 0x0800u /* gen-value unquoted: token / host (":" and "[]" for IPv6) */
#define SIP_C_SCHEME 0x1000u /* scheme after its first ALPHA: alphanum / "+-." */
#define SIP_C_TEL    0x2000u /* tel: phonedigit-hex / visual-separator / "+*#" */
#define SIP_C_V6     0x4000u /* inside an IPv6 reference: HEXDIG / ":" / "." */
#define SIP_C_UTF8   0x8000u /* %x80-FF: UTF8-NONASCII / UTF8-CONT */

extern const uint16_t sip_cc[256] SIP_HIDDEN;

static inline bool sip_is(uint8_t c, uint16_t mask)
{
	return (sip_cc[c] & mask) != 0;
}

/*
 * Vector spans (SSSE3): a byte class over ASCII is at most 8 distinct sets
 * of low nibbles, one per high nibble (rows 2..7 hold every printable
 * byte), so "is c in the class" is lo[c & 15] & hi[c >> 4] != 0 with two
 * 16-byte tables and one PSHUFB each: 16 bytes judged in ~8 instructions
 * instead of ~64. sip_scan.c builds the tables from sip_cc at load time.
 */
enum sip_vclass_id {
	SIP_V_TOKEN,
	SIP_V_TOKEN_UTF8,
	SIP_V_GENVAL,
	SIP_V_HOST,
	SIP_V_PARAM,
	SIP_V_HNV,
	SIP_V_URIC,
	SIP_V_USER,
	SIP_V_MAX
};

struct sip_vclass {
	uint8_t lo[16], hi[16];
	uint8_t ok; /* the class fitted in 8 row sets (always, for sip_cc; checked) */
};

extern struct sip_vclass sip_vclass[SIP_V_MAX] SIP_HIDDEN;

/* The vector table of a class mask, or -1 for classes only ever spanned briefly. */
static inline int sip_vclass_of(uint16_t mask)
{
	switch (mask) {
	case SIP_C_TOKEN:
		return SIP_V_TOKEN;
	case SIP_C_TOKEN | SIP_C_UTF8:
		return SIP_V_TOKEN_UTF8;
	case SIP_C_GENVAL:
		return SIP_V_GENVAL;
	case SIP_C_HOST:
		return SIP_V_HOST;
	case SIP_C_PARAM:
		return SIP_V_PARAM;
	case SIP_C_HNV:
		return SIP_V_HNV;
	case SIP_C_URIC:
		return SIP_V_URIC;
	case SIP_C_USER:
		return SIP_V_USER;
	default:
		return -1;
	}
}

/*
 * False after sip_scan_use(SIP_IMPL_PORTABLE): spans and searches walk the
 * class table a byte at a time, as on a CPU without SSSE3, so the tests
 * compare the vector paths below with the portable ones on one machine.
 */
extern bool sip_vec SIP_HIDDEN;

/*
 * The last, short piece of a vector walk: [pos, end) is under 16 bytes, and
 * the 16 bytes that end at @p end are loaded instead (they are inside the
 * buffer: end >= 16), with the bits below @p pos dropped. Never a read past
 * end, and no byte-at-a-time tail: a span inside a field value usually ends
 * in its last 16 bytes.
 */
#define SIP_TAIL_MASK(m, pos, end) ((unsigned)(m) >> ((pos) - ((end)-16u)))

static inline __attribute__((always_inline)) uint32_t sip_span(const uint8_t *buf, uint32_t pos,
							       uint32_t end, uint16_t mask)
{
#ifdef __SSSE3__
	int vi = sip_vclass_of(mask);

	if (vi >= 0 && sip_vec && end >= 16 && pos < end && sip_vclass[vi].ok) {
		const __m128i lo =
			_mm_loadu_si128((const __m128i *)(const void *)sip_vclass[vi].lo);
		const __m128i hi =
			_mm_loadu_si128((const __m128i *)(const void *)sip_vclass[vi].hi);
		const __m128i nib = _mm_set1_epi8(0x0f);

		for (;;) {
			uint32_t at = pos + 16 <= end ? pos : end - 16;
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + at));
			__m128i t = _mm_and_si128(
				_mm_shuffle_epi8(lo, _mm_and_si128(v, nib)),
				_mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(v, 4), nib)));
			unsigned m =
				(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(t, _mm_setzero_si128()));

			if (at != pos) /* the tail: [pos, end) is the end of these 16 */
				return (m = SIP_TAIL_MASK(m, pos, end)) != 0
					       ? pos + (uint32_t)__builtin_ctz(m)
					       : end;
			if (m != 0)
				return pos + (uint32_t)__builtin_ctz(m);
			pos += 16;
			if (pos == end)
				return end;
		}
	}
#endif
	for (; pos + 4 <= end; pos += 4) {
		if (!sip_is(buf[pos], mask))
			return pos;
		if (!sip_is(buf[pos + 1], mask))
			return pos + 1;
		if (!sip_is(buf[pos + 2], mask))
			return pos + 2;
		if (!sip_is(buf[pos + 3], mask))
			return pos + 3;
	}
	while (pos < end && sip_is(buf[pos], mask))
		pos++;
	return pos;
}

/*
 * First @p c in [pos, end), or end. Inline SSE2 rather than memchr(): the
 * ranges searched here are mostly under 64 bytes, where a libc call and its
 * set-up cost more than the search (callgrind: ~30 instructions a call).
 */
static inline uint32_t sip_find_byte(const uint8_t *buf, uint32_t pos, uint32_t end, uint8_t c)
{
#ifdef __SSE2__
	const __m128i needle = _mm_set1_epi8((char)c);

	if (sip_vec && end >= 16 && pos < end) {
		while (pos < end) {
			uint32_t at = pos + 16 <= end ? pos : end - 16;
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(const void *)(buf + at)),
				needle));

			if (at != pos)
				m = SIP_TAIL_MASK(m, pos, end);
			if (m != 0)
				return pos + (uint32_t)__builtin_ctz(m);
			pos += 16;
		}
		return end;
	}
#endif
	while (pos < end && buf[pos] != c)
		pos++;
	return pos;
}

/*
 * Like sip_span() for classes that admit escaped = "%" HEXDIG HEXDIG
 * (RFC 3261 §25.1): a "%" not followed by two hex digits stops the span on
 * the "%", which no caller accepts as a terminator, so it fails there.
 */
static inline uint32_t sip_span_esc(const uint8_t *buf, uint32_t pos, uint32_t end, uint16_t mask)
{
	/*
	 * The unrolled class span first (every mask here admits "%"), then each
	 * "%" inside it found (sip_find_byte) and checked: escapes are rare, so the
	 * common case is one table lookup per byte (~1 cycle/byte, bench_dp).
	 */
	uint32_t stop = sip_span(buf, pos, end, mask);

	for (;;) {
		uint32_t at = sip_find_byte(buf, pos, stop, '%');

		if (at == stop)
			return stop;
		if (end - at < 3 || !sip_is(buf[at + 1], SIP_C_HEX) ||
		    !sip_is(buf[at + 2], SIP_C_HEX))
			return at;
		pos = at + 3;
		if (pos > stop) /* the escape's digits run past a class break: go on from there */
			stop = sip_span(buf, pos, end, mask);
	}
}

static inline uint64_t sip_load64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t sip_load32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Case-insensitive compare of @p n bytes against a lowercase literal of
 * letters, digits and "-./" (at least @p n bytes long). All of those have
 * bit 5 set, so OR-ing 0x20 into the input folds ASCII case and leaves the
 * literal unchanged; the only other bytes it maps onto them are control
 * bytes (0x0D-0x19), which never get here: every caller compares bytes that
 * passed a class check or the control-byte scan. Word compares (overlapping
 * at the tail) keep it to one to three compares for a constant @p n.
 */
static inline bool sip_ieq(const uint8_t *p, const char *lower, uint32_t n)
{
	const uint64_t fold = 0x2020202020202020ull;

	if (n >= 8) {
		for (uint32_t i = 0; i + 8 < n; i += 8) {
			if ((sip_load64(p + i) | fold) != sip_load64(lower + i))
				return false;
		}
		return (sip_load64(p + n - 8) | fold) == sip_load64(lower + n - 8);
	}
	if (n >= 4)
		return (((sip_load32(p) | (uint32_t)fold) ^ sip_load32(lower)) |
			((sip_load32(p + n - 4) | (uint32_t)fold) ^ sip_load32(lower + n - 4))) ==
		       0;
	for (uint32_t i = 0; i < n; i++) {
		if ((uint8_t)(p[i] | 0x20) != (uint8_t)lower[i])
			return false;
	}
	return true;
}

/*
 * Skip linear whitespace inside a header value: SP / HTAB and folds
 * (CRLF followed by SP / HTAB, RFC 3261 §7.3.1, §25.1 LWS). The header scan
 * only lets a CRLF into a value when a WSP follows it, but the check costs
 * nothing and keeps this helper safe on its own.
 */
static inline uint32_t sip_skip_lws(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	for (;;) {
		if (pos < end && sip_is(buf[pos], SIP_C_WSP)) {
			pos++;
		} else if (pos + 3 <= end && buf[pos] == '\r' && buf[pos + 1] == '\n' &&
			   sip_is(buf[pos + 2], SIP_C_WSP)) {
			pos += 3;
		} else {
			return pos;
		}
	}
}

/*
 * Parse 1*DIGIT spanning exactly [off, off + len) into *out, failing when
 * empty, on any non-digit, or above @p max (<= UINT32_MAX). The accumulator
 * is 64-bit and the loop stops as soon as it exceeds @p max, so no digit
 * string, however long, can overflow it.
 */
static inline bool sip_parse_uint(const uint8_t *buf, uint32_t off, uint32_t len, uint32_t max,
				  uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (uint32_t i = off; i < off + len; i++) {
		if (!sip_is(buf[i], SIP_C_DIGIT))
			return false;
		v = v * 10 + (uint64_t)(buf[i] - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/*
 * quoted-string (RFC 3261 §25.1) starting at the DQUOTE at @p pos: return
 * the position after the closing DQUOTE, or 0 when it is not closed inside
 * [pos, end) (0 is never a valid answer: a quoted-string has two bytes).
 * quoted-pair excludes CR and LF; qdtext admits LWS, which the header scan
 * has already limited to folds.
 */
static inline uint32_t sip_skip_quoted(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	pos++;
#ifdef __SSE2__
	/* To the first DQUOTE or backslash, 16 bytes at a time (display names,
	 * +sip.instance URNs). */
	while (pos + 16 <= end) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + pos));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
				     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

		if (m == 0) {
			pos += 16;
			continue;
		}
		pos += (uint32_t)__builtin_ctz(m);
		if (buf[pos] == '"')
			return pos + 1;
		if (end - pos < 2 || buf[pos + 1] == '\r' || buf[pos + 1] == '\n')
			return 0;
		pos += 2;
	}
#endif
	for (; pos < end; pos++) {
		if (buf[pos] == '"')
			return pos + 1;
		if (buf[pos] == '\\') {
			if (end - pos < 2 || buf[pos + 1] == '\r' || buf[pos + 1] == '\n')
				return 0;
			pos++;
		}
	}
	return 0;
}

/*
 * First byte in [pos, end) that is a control byte other than HT (CR, LF,
 * NUL, ...), or @p end. Eight bytes per step (SWAR, Bit Twiddling Hacks
 * hasless / haszero): a word goes through untouched unless a byte of it is
 * < 0x20 or == 0x7F. Every such byte gets its high bit set in @p hit; a
 * borrow may also flag bytes above a real one, and HT is flagged too, so
 * each flagged byte is confirmed in sip_cc, lowest address first (on a
 * big-endian host, all eight in order). Loads go through memcpy: alignment
 * does not matter and no byte at or past @p end is read.
 */
static inline uint32_t sip_find_ctl(const uint8_t *buf, uint32_t pos, uint32_t end)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t high = 0x8080808080808080ull;

#ifdef __SSE2__
	/* Exact in one step: min(v, 0x1F) == v is v <= 0x1F; HT is masked out. */
	while (pos + 16 <= end) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + pos));
		__m128i ctl = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v),
					   _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), ctl));

		if (m != 0)
			return pos + (uint32_t)__builtin_ctz(m);
		pos += 16;
	}
#endif
	while (pos + 8 <= end) {
		uint64_t w = sip_load64(buf + pos);
		uint64_t x = w ^ (ones * 0x7f);
		uint64_t hit = (((w - ones * 0x20) & ~w) | ((x - ones) & ~x)) & high;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		for (; hit != 0; hit &= hit - 1) {
			uint32_t i = (uint32_t)__builtin_ctzll(hit) >> 3;

			if (sip_is(buf[pos + i], SIP_C_CTL))
				return pos + i;
		}
#else
		for (uint32_t i = 0; hit != 0 && i < 8; i++) {
			if (sip_is(buf[pos + i], SIP_C_CTL))
				return pos + i;
		}
#endif
		pos += 8;
	}
	while (pos < end && !sip_is(buf[pos], SIP_C_CTL))
		pos++;
	return pos;
}

static inline struct sip_slice sip_slice(uint32_t off, uint32_t end)
{
	/* sip_scan() rejects len > SIP_MAX_LEN, so both fit 16 bits. */
	return (struct sip_slice){.off = (uint16_t)off, .len = (uint16_t)(end - off)};
}

/*
 * generic-param after its SEMI (RFC 3261 §25.1): SWS token [ EQUAL gen-value ]
 * with EQUAL = SWS "=" SWS and gen-value = token / host / quoted-string.
 * Sets *name, and *value to the gen-value (len 0 when there is none; a
 * quoted value keeps its quotes). A present but empty gen-value fails.
 * On success *pos is the first byte after the parameter.
 */
static inline bool sip_gen_param(const uint8_t *buf, uint32_t *pos, uint32_t end,
				 struct sip_slice *name, struct sip_slice *value)
{
	uint32_t s = sip_skip_lws(buf, *pos, end);
	uint32_t e = sip_span(buf, s, end, SIP_C_TOKEN);
	uint32_t p;

	if (e == s)
		return false;
	*name = sip_slice(s, e);
	*value = sip_slice(e, e);
	*pos = e;
	p = sip_skip_lws(buf, e, end);
	if (p == end || buf[p] != '=')
		return true;
	p = sip_skip_lws(buf, p + 1, end);
	if (p < end && buf[p] == '"') {
		e = sip_skip_quoted(buf, p, end);
		if (e == 0)
			return false;
	} else {
		e = sip_span(buf, p, end, SIP_C_GENVAL);
		if (e == p)
			return false;
	}
	*value = sip_slice(p, e);
	*pos = e;
	return true;
}

/* sip_startline.c: start line, after any leading CRLFs; *pos ends after its CRLF. */
enum sip_verdict sip_start_line(const uint8_t *buf, uint32_t len, uint32_t *pos,
				struct sip_msg *msg) SIP_HIDDEN;

/* sip_via.c: first via-parm of a Via value; SIP_SCAN_OK or SIP_ERR_BAD_VIA. */
enum sip_verdict sip_via_parse(const uint8_t *buf, struct sip_slice val,
			       struct sip_via *via) SIP_HIDDEN;

/* sip_cseq.c: fills msg->cseq*; SIP_SCAN_OK or SIP_ERR_BAD_CSEQ. */
enum sip_verdict sip_cseq_parse(const uint8_t *buf, struct sip_slice val,
				struct sip_msg *msg) SIP_HIDDEN;

/* sip_nameaddr.c: From / To value; SIP_SCAN_OK or SIP_ERR_BAD_NAMEADDR. */
enum sip_verdict sip_nameaddr_parse(const uint8_t *buf, struct sip_slice val,
				    struct sip_nameaddr *na) SIP_HIDDEN;

/*
 * sip_nameaddr.c: name-addr (or, unless @p need_laquot, addr-spec) at *pos,
 * leading LWS allowed. On success *pos is the first byte after the URI's
 * ">" (or after the addr-spec) and @p uri is filled.
 */
bool sip_addr_parse(const uint8_t *buf, uint32_t *pos, uint32_t end, bool need_laquot,
		    struct sip_uri *uri) SIP_HIDDEN;

/* sip_contact.c: one Contact field value (a list, or "*"), folded into msg->contact*. */
enum sip_verdict sip_contact_parse(const uint8_t *buf, struct sip_slice val,
				   struct sip_msg *msg) SIP_HIDDEN;

/*
 * sip_contact.c: one Route / Record-Route value list; the first URI into
 * *first if unset, and then where the value after it starts into
 * *first_next (may be NULL).
 */
enum sip_verdict sip_route_parse(const uint8_t *buf, struct sip_slice val, struct sip_uri *first,
				 uint16_t *first_next) SIP_HIDDEN;

/* sip_push.c: push address from a URI's parameters (RFC 8599 or legacy form). */
void sip_push_from_uri(const uint8_t *buf, const struct sip_uri *uri,
		       struct sip_push *pn) SIP_HIDDEN;

/* sip_push.c: push address from an X-Push header value; false if it has none. */
bool sip_push_from_xpush(const uint8_t *buf, struct sip_slice val, struct sip_push *pn) SIP_HIDDEN;

/* delta-seconds (RFC 3261 §25.1), saturated at INT32_MAX; false if not 1*DIGIT. */
static inline bool sip_parse_delta(const uint8_t *buf, uint32_t off, uint32_t len, int32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (uint32_t i = off; i < off + len; i++) {
		if (!sip_is(buf[i], SIP_C_DIGIT))
			return false;
		if (v < INT32_MAX)
			v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	/* §20.19: a value past 2**32-1 means 2**32-1; nothing we keep lasts that long. */
	*out = v > INT32_MAX ? INT32_MAX : (int32_t)v;
	return true;
}

/* sip_uri.c: the URI that is exactly [off, off + len); 0 or -1. */
int sip_uri_parse(const uint8_t *buf, uint32_t off, uint32_t len, struct sip_uri *uri) SIP_HIDDEN;

/*
 * sip_uri.c: host (RFC 3261 §25.1) at *pos: hostname / IPv4address, or
 * IPv6reference whose brackets are left out of *host. On success *pos is
 * the first byte after the host.
 */
bool sip_host_parse(const uint8_t *buf, uint32_t *pos, uint32_t end, struct sip_slice *host,
		    uint8_t *is_ipv6) SIP_HIDDEN;

#endif /* SIP_INTERNAL_H */
