/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A latency histogram in microseconds whose percentiles are within 1.6 %
 * of the true value (nearest rank). Below 32 us one bucket per
 * microsecond; above, 32 buckets per power of two (HdrHistogram's layout
 * with 5 significant bits), each at most 1/32 of its lower bound wide,
 * read as its midpoint: at most half a width, 1/64 = 1.6 %, from any value
 * in it. Up to 2^32 us (71 min); larger samples land in the last bucket.
 * The smallest and largest samples are kept exactly and bound every
 * percentile, so a single 514 ms wake reads as 514 ms, not as its bucket.
 * 896 buckets, 7 KiB.
 *
 * One thread adds with relaxed stores; any thread reads percentiles with
 * relaxed loads, so a reader may mix counts a few microseconds apart but
 * never sees a torn one. pushd's push latency and the wake path's
 * latencies use it (docs/telemetry.md); tests/common/test_sw_hist.c checks
 * the bound against sorted samples.
 */
#ifndef SW_HIST_H
#define SW_HIST_H

#include <stdint.h>

#define SW_HIST_SUB_BITS 5
#define SW_HIST_SUB	 (1u << SW_HIST_SUB_BITS) /* buckets per power of two */
#define SW_HIST_OCTAVES	 (32 - SW_HIST_SUB_BITS)  /* 2^5 .. 2^32 us */
#define SW_HIST_BUCKETS	 (SW_HIST_SUB + SW_HIST_OCTAVES * SW_HIST_SUB)

struct sw_hist {
	uint64_t b[SW_HIST_BUCKETS];
	uint64_t n;	   /* samples added (guards min/max) */
	uint64_t min, max; /* exact extremes, valid once n != 0 */
};

/** Bucket of @p us. */
static inline unsigned sw_hist_bucket(uint64_t us)
{
	unsigned lg, b;

	if (us < SW_HIST_SUB)
		return (unsigned)us;
	lg = 63u - (unsigned)__builtin_clzll(us); /* >= SW_HIST_SUB_BITS */
	b = SW_HIST_SUB + (lg - SW_HIST_SUB_BITS) * SW_HIST_SUB +
	    (unsigned)((us >> (lg - SW_HIST_SUB_BITS)) & (SW_HIST_SUB - 1));
	return b < SW_HIST_BUCKETS ? b : SW_HIST_BUCKETS - 1;
}

/** Lowest value (us) of bucket @p b. */
static inline uint64_t sw_hist_lower(unsigned b)
{
	unsigned oct, sub;

	if (b < SW_HIST_SUB)
		return b;
	oct = (b - SW_HIST_SUB) / SW_HIST_SUB;
	sub = (b - SW_HIST_SUB) % SW_HIST_SUB;
	return (uint64_t)(SW_HIST_SUB + sub) << oct;
}

/** The value (us) bucket @p b reads as: its midpoint (exact below 32 us). */
static inline uint64_t sw_hist_mid(unsigned b)
{
	uint64_t width = b < SW_HIST_SUB ? 1 : (uint64_t)1 << ((b - SW_HIST_SUB) / SW_HIST_SUB);

	return sw_hist_lower(b) + width / 2;
}

/** Writer (one thread): one sample of @p us microseconds. */
static inline void sw_hist_add(struct sw_hist *h, uint64_t us)
{
	unsigned b = sw_hist_bucket(us);

	if (h->n == 0 || us < h->min)
		__atomic_store_n(&h->min, us, __ATOMIC_RELAXED);
	if (h->n == 0 || us > h->max)
		__atomic_store_n(&h->max, us, __ATOMIC_RELAXED);
	__atomic_store_n(&h->b[b], h->b[b] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->n, h->n + 1, __ATOMIC_RELEASE);
}

/**
 * Any thread: the values at the given per-mille ranks (500 = median;
 * nearest rank: the smallest value with at least that share of samples at
 * or below it), @p n of them in increasing order, into @p out, each within
 * 1.6 % of the true one and inside [min, max].
 * @return the number of samples (0: @p out all 0).
 */
static inline uint64_t sw_hist_pct(const struct sw_hist *h, const unsigned *per_mille, unsigned n,
				   uint64_t *out)
{
	uint64_t c[SW_HIST_BUCKETS], total = 0, acc = 0, lo, hi;
	unsigned k = 0;

	for (unsigned b = 0; b < SW_HIST_BUCKETS; b++)
		total += c[b] = __atomic_load_n(&h->b[b], __ATOMIC_RELAXED);
	/* Extremes read after the counts: at worst newer, so they still bound.
	 * The acquire pairs with sw_hist_add's release: min and max are set. */
	lo = 0;
	hi = UINT64_MAX;
	if (__atomic_load_n(&h->n, __ATOMIC_ACQUIRE)) {
		lo = __atomic_load_n(&h->min, __ATOMIC_RELAXED);
		hi = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	}
	for (unsigned i = 0; i < n; i++)
		out[i] = 0;
	for (unsigned b = 0; b < SW_HIST_BUCKETS && total != 0 && k < n; b++) {
		acc += c[b];
		while (k < n && acc * 1000 >= total * per_mille[k]) {
			uint64_t v = sw_hist_mid(b);

			out[k++] = v < lo ? lo : v > hi ? hi : v;
		}
	}
	return total;
}

#endif /* SW_HIST_H */
