/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A latency histogram in microseconds: 4 buckets per power of two (about
 * 19 % wide), 64 buckets (up to ~2^16 s). One thread adds with relaxed
 * stores; any thread reads percentiles with relaxed loads, so a reader may
 * mix counts a few microseconds apart but never sees a torn one. pushd's
 * push latency and the wake path's latencies use it.
 */
#ifndef SW_HIST_H
#define SW_HIST_H

#include <stdint.h>

#define SW_HIST_BUCKETS 64

struct sw_hist {
	uint64_t b[SW_HIST_BUCKETS];
};

/** Bucket of @p us. */
static inline unsigned sw_hist_bucket(uint64_t us)
{
	unsigned lg, b;

	if (us < 2)
		return 0;
	lg = 63u - (unsigned)__builtin_clzll(us);
	b = lg * 4 + (unsigned)((us >> (lg >= 2 ? lg - 2 : 0)) & 3);
	return b < SW_HIST_BUCKETS ? b : SW_HIST_BUCKETS - 1;
}

/** Upper bound (us) of bucket @p b. */
static inline uint64_t sw_hist_upper(unsigned b)
{
	unsigned lg = b / 4, q = b % 4;

	return lg < 2 ? (uint64_t)b + 1 : ((uint64_t)(4 + q + 1) << (lg - 2));
}

/** Writer (one thread): one sample of @p us microseconds. */
static inline void sw_hist_add(struct sw_hist *h, uint64_t us)
{
	unsigned b = sw_hist_bucket(us);

	__atomic_store_n(&h->b[b], h->b[b] + 1, __ATOMIC_RELAXED);
}

/**
 * Any thread: the upper bounds of the buckets holding the given per-mille
 * ranks (500 = median), @p n of them in increasing order, into @p out.
 * @return the number of samples (0: @p out all 0).
 */
static inline uint64_t sw_hist_pct(const struct sw_hist *h, const unsigned *per_mille, unsigned n,
				   uint64_t *out)
{
	uint64_t c[SW_HIST_BUCKETS], total = 0, acc = 0;
	unsigned k = 0;

	for (unsigned b = 0; b < SW_HIST_BUCKETS; b++)
		total += c[b] = __atomic_load_n(&h->b[b], __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n; i++)
		out[i] = 0;
	for (unsigned b = 0; b < SW_HIST_BUCKETS && total != 0 && k < n; b++) {
		acc += c[b];
		while (k < n && acc * 1000 >= total * per_mille[k])
			out[k++] = sw_hist_upper(b);
	}
	return total;
}

#endif /* SW_HIST_H */
