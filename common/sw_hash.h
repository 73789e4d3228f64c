/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Hashes for wire bytes, any alignment and length (rte_jhash loads 32-bit
 * words: misaligned on packet data, and past the end of a short key):
 *   sw_fnv1a()   32 bits, one byte at a time: for tags and small hash
 *                tables (not for the binding indexes: sw_bind.c has its
 *                own, faster on long keys);
 *   sw_hash64()  64 bits, 16 bytes a step: for keys that stand for the
 *                bytes themselves (Via branches, the held-call set).
 */
#ifndef SW_HASH_H
#define SW_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SW_FNV1A_SEED 2166136261u

/** FNV-1a of @p len bytes at @p p, continuing from @p h (SW_FNV1A_SEED to start). */
static inline uint32_t sw_fnv1a(const void *p, size_t len, uint32_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/*
 * 64-bit multiply-xorshift, two words a step in two independent lanes (a
 * single chain is bound by the multiply's latency); words are read with
 * memcpy, so any alignment is fine. Continues from @p h; not finalised:
 * chain calls, then sw_fmix64() the result.
 */
static inline uint64_t sw_hash64_bytes(const void *p, size_t n, uint64_t h)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull, k2 = 0xc2b2ae3d27d4eb4full;
	const uint8_t *b = p;
	uint64_t g = h ^ ((uint64_t)n * k2), w, x;

	h ^= (uint64_t)n * k;
	for (; n >= 16; b += 16, n -= 16) {
		memcpy(&w, b, 8);
		memcpy(&x, b + 8, 8);
		h = (h ^ w) * k;
		g = (g ^ x) * k2;
		h ^= h >> 29;
		g ^= g >> 31;
	}
	if (n > 0) {
		uint64_t t[2] = {0, 0};

		memcpy(t, b, n);
		h = (h ^ t[0]) * k;
		g = (g ^ t[1]) * k2;
		h ^= h >> 29;
		g ^= g >> 31;
	}
	return h ^ (g * k);
}

/** MurmurHash3's 64-bit finaliser: every input bit moves every output bit. */
static inline uint64_t sw_fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/** 64-bit hash of @p n bytes at @p p with @p seed. ~36 cycles for 36 bytes (a Call-ID). */
static inline uint64_t sw_hash64(const void *p, size_t n, uint64_t seed)
{
	return sw_fmix64(sw_hash64_bytes(p, n, seed));
}

#endif /* SW_HASH_H */
