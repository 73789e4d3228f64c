/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/sw_hist.h: percentiles within 1.6 % of the true nearest-rank
 * value, over samples spread from microseconds to an hour, compared with
 * the same samples sorted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/sw_hist.h"

#define N_SAMPLES 20000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least pm/1000 of them at or below. */
static uint64_t true_pct(const uint64_t *sorted, unsigned n, unsigned pm)
{
	uint64_t rank = ((uint64_t)n * pm + 999) / 1000;

	return sorted[rank ? rank - 1 : 0];
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Each per-mille rank of @p v (n samples) read from a histogram of them. */
static void check_within(const uint64_t *v, unsigned n, double bound)
{
	static const unsigned pm[] = {1, 100, 250, 500, 750, 900, 990, 999, 1000};
	enum { NP = sizeof(pm) / sizeof(pm[0]) };
	struct sw_hist *h = calloc(1, sizeof(*h));
	uint64_t *sorted = malloc(n * sizeof(*sorted)), got[NP];

	assert_non_null(h);
	assert_non_null(sorted);
	for (unsigned i = 0; i < n; i++)
		sw_hist_add(h, v[i]);
	memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	assert_int_equal(sw_hist_pct(h, pm, NP, got), n);
	for (unsigned i = 0; i < NP; i++) {
		uint64_t want = true_pct(sorted, n, pm[i]);
		double err = want ? ((double)got[i] - (double)want) / (double)want : (double)got[i];

		if (err > bound || err < -bound)
			fail_msg("p%u: read %llu, true %llu (%.2f %%)", pm[i],
				 (unsigned long long)got[i], (unsigned long long)want, err * 100);
	}
	free(sorted);
	free(h);
}

static void test_log_uniform_samples(void **state)
{
	uint64_t *v = malloc(N_SAMPLES * sizeof(*v)), s = 0x9e3779b97f4a7c15ull;

	(void)state;
	assert_non_null(v);
	/* 1 us .. 2^32 us, every power of two about as likely */
	for (unsigned i = 0; i < N_SAMPLES; i++) {
		unsigned lg = (unsigned)(xorshift(&s) % 32);

		v[i] = ((uint64_t)1 << lg) + xorshift(&s) % ((uint64_t)1 << lg);
	}
	check_within(v, N_SAMPLES, 1.0 / 64);
	free(v);
}

static void test_wake_like_samples(void **state)
{
	uint64_t *v = malloc(N_SAMPLES * sizeof(*v)), s = 42;

	(void)state;
	assert_non_null(v);
	/* wakes: 300 ms .. 3 s, a few stragglers at 14 s */
	for (unsigned i = 0; i < N_SAMPLES; i++)
		v[i] = i % 97 == 0 ? 14000000 + xorshift(&s) % 1000000
				   : 300000 + xorshift(&s) % 2700000;
	check_within(v, N_SAMPLES, 1.0 / 64);
	free(v);
}

/* Below 32 us every microsecond has its bucket: exact. */
static void test_small_values_exact(void **state)
{
	uint64_t v[64];

	(void)state;
	for (unsigned i = 0; i < 64; i++)
		v[i] = i % 32;
	check_within(v, 64, 0);
}

/* One sample reads as itself at every rank: the extremes bound the bucket. */
static void test_single_sample_exact(void **state)
{
	static const unsigned pm[] = {500, 900, 990};
	struct sw_hist *h = calloc(1, sizeof(*h));
	uint64_t got[3];

	(void)state;
	assert_non_null(h);
	assert_int_equal(sw_hist_pct(h, pm, 3, got), 0);
	assert_int_equal(got[0], 0);
	sw_hist_add(h, 514000); /* a 514 ms wake */
	assert_int_equal(sw_hist_pct(h, pm, 3, got), 1);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(got[i], 514000);
	sw_hist_add(h, 600000);
	sw_hist_pct(h, pm, 3, got);
	assert_int_equal(got[0], 514000); /* its bucket reads below the minimum, which bounds it */
	assert_true(got[2] <= 600000 && got[2] * 64 >= 600000 * 63); /* within 1.6 % */
	free(h);
}

/* Past 2^32 us a sample lands in the last bucket and still reads as itself
 * when it is the largest. */
static void test_huge_sample_clamped(void **state)
{
	static const unsigned pm[] = {500};
	struct sw_hist *h = calloc(1, sizeof(*h));
	uint64_t got;

	(void)state;
	assert_non_null(h);
	assert_int_equal(sw_hist_bucket(UINT64_MAX), SW_HIST_BUCKETS - 1);
	sw_hist_add(h, (uint64_t)1 << 40);
	sw_hist_pct(h, pm, 1, &got);
	assert_int_equal(got, (uint64_t)1 << 40);
	free(h);
}

/* Every bucket's values map back to it, and buckets tile the range. */
static void test_buckets_tile(void **state)
{
	(void)state;
	for (unsigned b = 0; b + 1 < SW_HIST_BUCKETS; b++) {
		uint64_t lo = sw_hist_lower(b), next = sw_hist_lower(b + 1);

		assert_true(next > lo);
		assert_int_equal(sw_hist_bucket(lo), b);
		assert_int_equal(sw_hist_bucket(next - 1), b);
		assert_true(sw_hist_mid(b) >= lo && sw_hist_mid(b) < next);
		/* width at most 1/32 of the lower bound above 32 us */
		if (lo >= SW_HIST_SUB)
			assert_true((next - lo) * SW_HIST_SUB <= lo);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_uniform_samples),
		cmocka_unit_test(test_wake_like_samples),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_single_sample_exact),
		cmocka_unit_test(test_huge_sample_clamped),
		cmocka_unit_test(test_buckets_tile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
