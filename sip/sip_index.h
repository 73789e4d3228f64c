/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The structural index of a SIP message's header section (internal to the
 * scanner; its contract is sip/sip_scan.h).
 *
 * The header loop (sip_hdr.c) asks two questions per field: where does the
 * name stop (the first byte that is not a token byte) and where does the
 * line stop (the first control byte: CR, LF, NUL, ...). Walking each line for
 * them costs a set-up per field; the index answers both with a shift and a
 * count of trailing zeros. It is built one 64-byte block at a time, in one
 * forward pass as the header loop reaches each block: every byte is
 * classified once, by the widest unit the CPU has (AVX2, else SSSE3, else a
 * portable table walk, chosen at start-up by sip_index_select()). Bit i of a
 * mask is byte base + i.
 *
 * Every implementation gives the same masks for the same bytes (the unit
 * test sip_index and the fuzz target compare them on every input), so the
 * scanner's verdicts cannot depend on the CPU it runs on.
 */
#ifndef SIP_INDEX_H
#define SIP_INDEX_H

#include <stdint.h>

#include "sip/sip_scan.h"

/** Bytes a block of the index covers: one bit each in a uint64_t. */
#define SIP_IX_BLOCK 64u

/** One classified block: the masks of the bytes [base, base + 64). */
struct sip_ix {
	const uint8_t *buf;
	uint32_t len;  /**< bytes of @c buf that may be read */
	uint32_t base; /**< first byte of the block the masks describe; UINT32_MAX: none yet */
	uint64_t ctl;  /**< control bytes other than HT (CR and LF included), and 0x7F */
	uint64_t ntok; /**< bytes outside token (RFC 3261 §25.1) */
};

/**
 * Classify 64 bytes at @p p (all readable) into @p ctl and @p ntok: the
 * implementation sip_index_select() chose.
 */
extern void (*sip_ix_classify)(const uint8_t *p, uint64_t *ctl, uint64_t *ntok)
	__attribute__((visibility("hidden")));

/** Fill @p ix with the block that starts at @p base (a multiple of 64 below ix->len). */
void sip_ix_fill(struct sip_ix *ix, uint32_t base) __attribute__((visibility("hidden")));

static inline void sip_ix_init(struct sip_ix *ix, const uint8_t *buf, uint32_t len)
{
	ix->buf = buf;
	ix->len = len;
	ix->base = UINT32_MAX;
}

/*
 * First byte in [pos, lim) whose bit is set in the mask at @p which
 * (offsetof ctl or ntok), or @p lim. Bytes past ix->len read as set, so a
 * search never runs past the buffer whatever @p lim says.
 */
static inline __attribute__((always_inline)) uint32_t sip_ix_next(struct sip_ix *ix, uint32_t pos,
								  uint32_t lim, int ntok)
{
	while (pos < lim) {
		uint32_t base = pos & ~(SIP_IX_BLOCK - 1);
		uint64_t m;

		if (base != ix->base)
			sip_ix_fill(ix, base);
		m = (ntok ? ix->ntok : ix->ctl) >> (pos - base);
		if (m != 0) {
			pos += (uint32_t)__builtin_ctzll(m);
			return pos < lim ? pos : lim;
		}
		pos = base + SIP_IX_BLOCK;
	}
	return lim;
}

#endif /* SIP_INDEX_H */
