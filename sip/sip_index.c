/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block classifiers of the structural index (sip_index.h), one per
 * instruction set, and the choice between them.
 *
 * A byte is classified by two facts: control byte (< 0x20 but HT, or 0x7F)
 * and token byte. The token test is the nibble-table lookup of
 * sip_internal.h ("is c in the class" = lo[c & 15] & hi[c >> 4]), one
 * PSHUFB pair per 16 or 32 bytes. The portable walk reads sip_cc, the table
 * the rules are written in, so the vector versions are checked against the
 * grammar itself.
 *
 * sip_scan() indexes the whole blocks of a message up front, in one call,
 * up to the block where the header section ends (CRLFCRLF), so the
 * classifier's tables stay in registers across blocks; the rest (a header
 * section past 2 KiB, the last partial block) is classified a block at a
 * time when the header loop gets there. AVX2: ~55 instructions a block
 * (callgrind), ~7.5 % of a 403-byte OPTIONS' scan (perf).
 */
#include <errno.h>
#include <string.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "sip/sip_index.h"
#include "sip/sip_internal.h"

/*
 * True when control bytes run four long ending in @p c (the block), with
 * @p prev the block before: CRLFCRLF, the end of the header section (or a
 * malformed run the header loop refuses anyway). Only where the up-front
 * pass stops depends on it; what the index says of a byte does not.
 */
static inline bool ends_headers(uint64_t c, uint64_t prev)
{
	return (c & (c << 1 | prev >> 63) & (c << 2 | prev >> 62) & (c << 3 | prev >> 61)) != 0;
}

/* Block @p b's masks stored; true when the pass stops after it (ends_headers()). */
static inline bool put_block(uint64_t *ctl, uint64_t *ntok, uint32_t b, uint64_t c, uint64_t t,
			     uint64_t *prev)
{
	ctl[b] = c;
	ntok[b] = t;
	if (ends_headers(c, *prev))
		return true;
	*prev = c;
	return false;
}

static uint32_t build_portable(const uint8_t *p, uint64_t *ctl, uint64_t *ntok, uint32_t max)
{
	uint64_t prev = 0;

	for (uint32_t b = 0; b < max; b++, p += SIP_IX_BLOCK) {
		uint64_t c = 0, t = 0;

		for (unsigned i = 0; i < SIP_IX_BLOCK; i++) {
			uint16_t cc = sip_cc[p[i]];

			c |= (uint64_t)((cc & SIP_C_CTL) != 0) << i;
			t |= (uint64_t)((cc & SIP_C_TOKEN) == 0) << i;
		}
		if (put_block(ctl, ntok, b, c, t, &prev))
			return b + 1;
	}
	return max;
}

#ifdef __x86_64__
/* 16 bytes at @p p: control bytes into *c, non-token bytes into *t (bit i = byte i). */
__attribute__((target("ssse3"))) static inline void ssse3_16(const uint8_t *p, __m128i lo,
							     __m128i hi, unsigned *c, unsigned *t)
{
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
	__m128i ct = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), low),
				  _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
	__m128i tk = _mm_and_si128(_mm_shuffle_epi8(lo, _mm_and_si128(v, nib)),
				   _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(v, 4), nib)));

	*c = (unsigned)_mm_movemask_epi8(ct);
	*t = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(tk, _mm_setzero_si128()));
}

__attribute__((target("ssse3"))) static uint32_t build_ssse3(const uint8_t *p, uint64_t *ctl,
							     uint64_t *ntok, uint32_t max)
{
	const struct sip_vclass *vc = &sip_vclass[SIP_V_TOKEN];
	const __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)vc->lo);
	const __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)vc->hi);
	uint64_t prev = 0;

	for (uint32_t b = 0; b < max; b++, p += SIP_IX_BLOCK) {
		uint64_t c = 0, t = 0;

		for (unsigned i = 0; i < SIP_IX_BLOCK; i += 16) {
			unsigned ci, ti;

			ssse3_16(p + i, lo, hi, &ci, &ti);
			c |= (uint64_t)ci << i;
			t |= (uint64_t)ti << i;
		}
		if (put_block(ctl, ntok, b, c, t, &prev))
			return b + 1;
	}
	return max;
}

/* 32 bytes at @p p, as ssse3_16(); PSHUFB looks up within each 16-byte lane. */
__attribute__((target("avx2"))) static inline void avx2_32(const uint8_t *p, __m256i lo, __m256i hi,
							   uint32_t *c, uint32_t *t)
{
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i low = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
	__m256i ct = _mm256_or_si256(
		_mm256_andnot_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\t')), low),
		_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f)));
	__m256i tk = _mm256_and_si256(
		_mm256_shuffle_epi8(lo, _mm256_and_si256(v, nib)),
		_mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib)));

	*c = (uint32_t)_mm256_movemask_epi8(ct);
	*t = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(tk, _mm256_setzero_si256()));
}

__attribute__((target("avx2"))) static uint32_t build_avx2(const uint8_t *p, uint64_t *ctl,
							   uint64_t *ntok, uint32_t max)
{
	const struct sip_vclass *vc = &sip_vclass[SIP_V_TOKEN];
	const __m256i lo =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)vc->lo));
	const __m256i hi =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)vc->hi));
	uint64_t prev = 0;

	for (uint32_t b = 0; b < max; b++, p += SIP_IX_BLOCK) {
		uint32_t c0, t0, c1, t1;

		avx2_32(p, lo, hi, &c0, &t0);
		avx2_32(p + 32, lo, hi, &c1, &t1);
		if (put_block(ctl, ntok, b, (uint64_t)c1 << 32 | c0, (uint64_t)t1 << 32 | t0,
			      &prev))
			return b + 1;
	}
	return max;
}
#endif

uint32_t (*sip_ix_build)(const uint8_t *p, uint64_t *ctl, uint64_t *ntok,
			 uint32_t max) = build_portable;
static enum sip_impl ix_impl = SIP_IMPL_PORTABLE;
bool sip_vec;

void sip_ix_fill(struct sip_ix *ix, uint32_t base)
{
	ix->base = base;
	if (ix->len - base >= SIP_IX_BLOCK) {
		sip_ix_build(ix->buf + base, &ix->ctl, &ix->ntok, 1);
	} else {
		/* The last, partial block: its missing bytes read as NUL, which is
		 * both a control byte and not a token byte, so every search stops
		 * at the buffer's end. Nothing at or past ix->len is read. */
		uint8_t tail[SIP_IX_BLOCK] = {0};

		memcpy(tail, ix->buf + base, ix->len - base);
		sip_ix_build(tail, &ix->ctl, &ix->ntok, 1);
	}
}

static bool impl_runs(enum sip_impl impl)
{
	switch (impl) {
	case SIP_IMPL_PORTABLE:
		return true;
#ifdef __x86_64__
	case SIP_IMPL_SSSE3:
		return __builtin_cpu_supports("ssse3") && sip_vclass[SIP_V_TOKEN].ok;
	case SIP_IMPL_AVX2:
		return __builtin_cpu_supports("avx2") && sip_vclass[SIP_V_TOKEN].ok;
#endif
	default:
		return false;
	}
}

int sip_scan_use(enum sip_impl impl)
{
	if (impl == SIP_IMPL_BEST) {
		impl = SIP_IMPL_PORTABLE;
		if (impl_runs(SIP_IMPL_AVX2))
			impl = SIP_IMPL_AVX2;
		else if (impl_runs(SIP_IMPL_SSSE3))
			impl = SIP_IMPL_SSSE3;
	}
	if (!impl_runs(impl))
		return -ENOTSUP;
	switch (impl) {
#ifdef __x86_64__
	case SIP_IMPL_AVX2:
		sip_ix_build = build_avx2;
		break;
	case SIP_IMPL_SSSE3:
		sip_ix_build = build_ssse3;
		break;
#endif
	default:
		sip_ix_build = build_portable;
		break;
	}
	ix_impl = impl;
	sip_vec = impl != SIP_IMPL_PORTABLE;
	return (int)impl;
}

const char *sip_scan_impl_name(void)
{
	switch (ix_impl) {
	case SIP_IMPL_AVX2:
		return "avx2";
	case SIP_IMPL_SSSE3:
		return "ssse3";
	default:
		return "portable";
	}
}

/* After sip_scan.c's constructor has built the nibble tables it reads. */
__attribute__((constructor(102))) static void ix_select(void)
{
	__builtin_cpu_init();
	sip_scan_use(SIP_IMPL_BEST);
}
