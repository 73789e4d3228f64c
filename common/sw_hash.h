/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A hash for wire bytes: FNV-1a, one byte at a time, so any alignment and
 * length is fine (rte_jhash loads 32-bit words: misaligned on packet data,
 * and past the end of a short key). For tags and small hash tables, not
 * for the binding indexes (sw_bind.c has its own, faster on long keys).
 */
#ifndef SW_HASH_H
#define SW_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SW_FNV1A_SEED 2166136261u

/** FNV-1a of @p len bytes at @p p, continuing from @p h (SW_FNV1A_SEED to start). */
static inline uint32_t sw_fnv1a(const void *p, size_t len, uint32_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

#endif /* SW_HASH_H */
