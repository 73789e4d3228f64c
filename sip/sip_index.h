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
/** Blocks indexed up front (2 KiB: the header section of nearly every message). */
#define SIP_IX_BLOCKS 32u

/** The index of one message. */
struct sip_ix {
	const uint8_t *buf;
	uint32_t len;  /**< bytes of @c buf that may be read */
	uint32_t nblk; /**< blocks indexed up front: [0, 64 * nblk) */
	uint32_t base; /**< first byte of the block past them in @c ctl / @c ntok;
			    UINT32_MAX: none yet */
	uint64_t ctl;  /**< control bytes other than HT (CR and LF included), and 0x7F */
	uint64_t ntok; /**< bytes outside token (RFC 3261 §25.1) */
	uint64_t bctl[SIP_IX_BLOCKS];  /**< ctl of each block indexed up front */
	uint64_t bntok[SIP_IX_BLOCKS]; /**< ntok of each block indexed up front */
};

/**
 * Classify whole 64-byte blocks from @p p (at least 64 * @p max bytes
 * readable) into @p ctl[i] and @p ntok[i], stopping after the block where
 * four control bytes in a row (CRLFCRLF: the header section's end) first
 * appear, or after @p max blocks. Returns the blocks classified. The
 * implementation sip_scan_use() chose.
 */
extern uint32_t (*sip_ix_build)(const uint8_t *p, uint64_t *ctl, uint64_t *ntok, uint32_t max)
	__attribute__((visibility("hidden")));

/** Fill @p ix's single block with the one that starts at @p base (a multiple of 64 below ix->len). */
void sip_ix_fill(struct sip_ix *ix, uint32_t base) __attribute__((visibility("hidden")));

/** Index @p buf: the whole blocks up to the header section's end, at most SIP_IX_BLOCKS. */
static inline void sip_ix_init(struct sip_ix *ix, const uint8_t *buf, uint32_t len)
{
	uint32_t whole = len / SIP_IX_BLOCK;

	ix->buf = buf;
	ix->len = len;
	ix->base = UINT32_MAX;
	ix->nblk = sip_ix_build(buf, ix->bctl, ix->bntok,
				whole < SIP_IX_BLOCKS ? whole : SIP_IX_BLOCKS);
}

/*
 * First byte in [pos, lim) whose bit is set in the ntok mask (@p ntok) or
 * the ctl mask, or @p lim. Blocks past the ones indexed up front (a long
 * header section, the last partial block) are classified one at a time as
 * the search reaches them. Bytes past ix->len read as set, so a search
 * never runs past the buffer whatever @p lim says.
 */
static inline __attribute__((always_inline)) uint32_t sip_ix_next(struct sip_ix *ix, uint32_t pos,
								  uint32_t lim, int ntok)
{
	while (pos < lim) {
		uint32_t b = pos / SIP_IX_BLOCK;
		uint64_t m;

		if (b < ix->nblk) {
			m = ntok ? ix->bntok[b] : ix->bctl[b];
		} else {
			if (b * SIP_IX_BLOCK != ix->base)
				sip_ix_fill(ix, b * SIP_IX_BLOCK);
			m = ntok ? ix->ntok : ix->ctl;
		}
		m >>= pos % SIP_IX_BLOCK;
		if (m != 0) {
			pos += (uint32_t)__builtin_ctzll(m);
			return pos < lim ? pos : lim;
		}
		pos = (b + 1) * SIP_IX_BLOCK;
	}
	return lim;
}

#endif /* SIP_INDEX_H */
