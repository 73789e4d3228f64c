/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The one byte writer of the SIP text sipwake sends: the workers' answers
 * and forwarded lines, the frames they build, the control plane's messages.
 *
 * A writer is a buffer, how much of it is written, its capacity and an
 * overflow flag. A checked append either fits whole or writes nothing and
 * sets the flag, which stays set: a builder appends without testing each
 * step and looks once at the end, and a message that did not fit is refused,
 * never sent cut short.
 *
 * The _unchecked appends are for the forwarding path (docs/performance.md,
 * bench_dp): the caller has made sure of the room for the worst case up
 * front, and each append is a bare copy.
 *
 * Header-only; libc-only like the rest of sip/.
 */
#ifndef SIP_WBUF_H
#define SIP_WBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sip/sip_scan.h"

/** Where bytes go, and whether they all went. */
struct sip_wbuf {
	char *buf;     /**< first byte (borrowed) */
	uint32_t len;  /**< bytes written */
	uint32_t cap;  /**< bytes @p buf holds */
	bool overflow; /**< an append did not fit: the bytes are not a message */
};

/** An empty writer of @p cap bytes at @p buf (borrowed). */
static inline struct sip_wbuf sip_wbuf_at(void *buf, uint32_t cap)
{
	return (struct sip_wbuf){.buf = (char *)buf, .cap = cap};
}

/** Bytes still free. */
static inline uint32_t sip_wbuf_room(const struct sip_wbuf *w)
{
	return w->cap - w->len;
}

/** Room for @p n more bytes? If not, @p w is marked overflowed. */
static inline bool sip_wbuf_fits(struct sip_wbuf *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return false;
	}
	return true;
}

/* ---- unchecked: the room is the caller's to have made sure of ---- */

static inline void sip_wbuf_put_unchecked(struct sip_wbuf *w, const void *src, size_t n)
{
	memcpy(w->buf + w->len, src, n);
	w->len += (uint32_t)n;
}

#define SIP_WBUF_LIT_UNCHECKED(w, lit) sip_wbuf_put_unchecked((w), (lit), sizeof(lit) - 1)

static inline void sip_wbuf_byte_unchecked(struct sip_wbuf *w, char c)
{
	w->buf[w->len++] = c;
}

/** Decimal digits of @p v. */
static inline uint32_t sip_wbuf_u32_len(uint32_t v)
{
	uint32_t n = 1;

	for (; v >= 10; v /= 10)
		n++;
	return n;
}

/** @p v in decimal (at most 10 bytes). */
static inline void sip_wbuf_u32_unchecked(struct sip_wbuf *w, uint32_t v)
{
	uint32_t n = sip_wbuf_u32_len(v);
	char *o = w->buf + w->len + n;

	do {
		*--o = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	w->len += n;
}

/** The low 4 x @p digits bits of @p v as @p digits (1..16) lowercase hex digits. */
static inline void sip_wbuf_hex_unchecked(struct sip_wbuf *w, uint64_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";
	char *o = w->buf + w->len;

	for (unsigned i = digits; i > 0; i--, v >>= 4)
		o[i - 1] = hex[v & 0xf];
	w->len += digits;
}

/* ---- checked: an append that does not fit sets overflow ---- */

static inline void sip_wbuf_put(struct sip_wbuf *w, const void *src, size_t n)
{
	if (sip_wbuf_fits(w, n))
		sip_wbuf_put_unchecked(w, src, n);
}

#define SIP_WBUF_LIT(w, lit) sip_wbuf_put((w), (lit), sizeof(lit) - 1)

/** A NUL-terminated string, without its NUL. */
static inline void sip_wbuf_str(struct sip_wbuf *w, const char *s)
{
	sip_wbuf_put(w, s, strlen(s));
}

/** The bytes of @p sl in the message at @p msg. */
static inline void sip_wbuf_slice(struct sip_wbuf *w, const uint8_t *msg, struct sip_slice sl)
{
	sip_wbuf_put(w, msg + sl.off, sl.len);
}

static inline void sip_wbuf_u32(struct sip_wbuf *w, uint32_t v)
{
	if (sip_wbuf_fits(w, sip_wbuf_u32_len(v)))
		sip_wbuf_u32_unchecked(w, v);
}

static inline void sip_wbuf_hex(struct sip_wbuf *w, uint64_t v, unsigned digits)
{
	if (sip_wbuf_fits(w, digits))
		sip_wbuf_hex_unchecked(w, v, digits);
}

/**
 * printf into @p w (the control plane's messages; not for the workers).
 * It needs room for the NUL vsnprintf() writes, which is not counted in len.
 */
__attribute__((format(printf, 2, 0))) static inline void sip_wbuf_vfmt(struct sip_wbuf *w,
								       const char *fmt, va_list ap)
{
	uint32_t room = w->cap - w->len;
	int n;

	if (w->overflow)
		return;
	n = vsnprintf(w->buf + w->len, room, fmt, ap);
	if (n < 0 || (uint32_t)n >= room) {
		w->overflow = true;
		return;
	}
	w->len += (uint32_t)n;
}

__attribute__((format(printf, 2, 3))) static inline void sip_wbuf_fmt(struct sip_wbuf *w,
								      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sip_wbuf_vfmt(w, fmt, ap);
	va_end(ap);
}

#endif /* SIP_WBUF_H */
