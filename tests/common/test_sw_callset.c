/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Held-call set (common/sw_callset.h): keys, add / has / del with
 * references, capacity, and a reader thread asking about keys while the
 * writer adds and removes others (the reader must always see the keys that
 * stay, and never one that was never added).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "common/sw_callset.h"

static uint64_t key_of(const char *what, unsigned i)
{
	char id[64];
	int n = snprintf(id, sizeof(id), "%s-%u@198.18.0.5", what, i);

	return sw_callset_key(id, (size_t)n);
}

static void test_key(void **state)
{
	static const char cid[] = "3f9a1c7e-8b2d-4e6f-a1c3-5e7f9b1d3a5c";
	char buf[sizeof(cid) + 8];
	uint64_t k = sw_callset_key(cid, sizeof(cid) - 1);

	(void)state;
	assert_true(k != 0);
	/* The bytes decide, not where they sit (packet data is unaligned). */
	for (size_t off = 1; off < 8; off++) {
		memcpy(buf + off, cid, sizeof(cid) - 1);
		assert_true(sw_callset_key(buf + off, sizeof(cid) - 1) == k);
	}
	/* One bit anywhere, one byte more or less: another key. */
	for (size_t i = 0; i < sizeof(cid) - 1; i++) {
		memcpy(buf, cid, sizeof(cid) - 1);
		buf[i] ^= 1;
		assert_true(sw_callset_key(buf, sizeof(cid) - 1) != k);
	}
	memcpy(buf, cid, sizeof(cid));
	assert_true(sw_callset_key(buf, sizeof(cid)) != k);
	assert_true(sw_callset_key(buf, sizeof(cid) - 2) != k);
	assert_true(sw_callset_key("", 0) != 0);
	/* No two of a few thousand similar Call-IDs collide. */
	for (unsigned i = 0; i < 4096; i++)
		for (unsigned j = i + 1; j < i + 8 && j < 4096; j++)
			assert_true(key_of("c", i) != key_of("c", j));
}

static void test_add_has_del(void **state)
{
	struct sw_callset *s = sw_callset_create(16);
	uint64_t a = key_of("a", 1), b = key_of("b", 2);

	(void)state;
	assert_non_null(s);
	assert_int_equal(sw_callset_count(s), 0);
	assert_false(sw_callset_has(s, a));
	assert_int_equal(sw_callset_del(s, a), -ENOENT);

	assert_int_equal(sw_callset_add(s, a), 0);
	assert_true(sw_callset_has(s, a));
	assert_false(sw_callset_has(s, b));
	assert_int_equal(sw_callset_count(s), 1);

	/* Two more transactions of the same call: one key, three references. */
	assert_int_equal(sw_callset_add(s, a), 0);
	assert_int_equal(sw_callset_add(s, a), 0);
	assert_int_equal(sw_callset_count(s), 1);
	assert_int_equal(sw_callset_add(s, b), 0);
	assert_int_equal(sw_callset_count(s), 2);

	assert_int_equal(sw_callset_del(s, a), 0);
	assert_int_equal(sw_callset_del(s, a), 0);
	assert_true(sw_callset_has(s, a)); /* one reference left */
	assert_int_equal(sw_callset_count(s), 2);
	assert_int_equal(sw_callset_del(s, a), 0);
	assert_false(sw_callset_has(s, a));
	assert_true(sw_callset_has(s, b));
	assert_int_equal(sw_callset_count(s), 1);
	assert_int_equal(sw_callset_del(s, a), -ENOENT);

	/* Gone means gone: added again, it starts from one reference. */
	assert_int_equal(sw_callset_add(s, a), 0);
	assert_int_equal(sw_callset_del(s, a), 0);
	assert_false(sw_callset_has(s, a));
	assert_int_equal(sw_callset_del(s, b), 0);
	assert_int_equal(sw_callset_count(s), 0);
	assert_false(sw_callset_has(s, b));
	urcu_qsbr_quiescent_state();
	sw_callset_free(s);
	sw_callset_free(NULL);
}

static void test_capacity(void **state)
{
	struct sw_callset *s = sw_callset_create(4);

	(void)state;
	assert_non_null(s);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(sw_callset_add(s, key_of("full", i)), 0);
	/* Full: a new key is refused, the ones in it still take references. */
	assert_int_equal(sw_callset_add(s, key_of("full", 4)), -ENOSPC);
	assert_false(sw_callset_has(s, key_of("full", 4)));
	assert_int_equal(sw_callset_add(s, key_of("full", 0)), 0);
	assert_int_equal(sw_callset_count(s), 4);
	/* A reference dropped frees no room; the last one does. */
	assert_int_equal(sw_callset_del(s, key_of("full", 0)), 0);
	assert_int_equal(sw_callset_add(s, key_of("full", 4)), -ENOSPC);
	assert_int_equal(sw_callset_del(s, key_of("full", 0)), 0);
	assert_int_equal(sw_callset_add(s, key_of("full", 4)), 0);
	assert_true(sw_callset_has(s, key_of("full", 4)));
	assert_false(sw_callset_has(s, key_of("full", 0)));
	assert_int_equal(sw_callset_count(s), 4);
	urcu_qsbr_quiescent_state();
	sw_callset_free(s); /* with keys in it: nothing leaks (ASan build) */
}

#define N_STAY	64
#define N_CHURN 256
#define N_NEVER 256

struct race {
	struct sw_callset *s;
	uint64_t stay[N_STAY], churn[N_CHURN], never[N_NEVER];
	int stop;
	unsigned long rounds, missed, phantom;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	unsigned long rounds = 0, missed = 0, phantom = 0;

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < 64; i++) {
			unsigned j = (unsigned)(rounds * 64 + i);

			missed += !sw_callset_has(r->s, r->stay[j % N_STAY]);
			phantom += sw_callset_has(r->s, r->never[j % N_NEVER]);
			/* Either answer is right for a churn key; the lookup
			 * walks the chains the writer is changing. */
			(void)sw_callset_has(r->s, r->churn[(j * 7) % N_CHURN]);
		}
		__atomic_store_n(&r->rounds, ++rounds, __ATOMIC_RELAXED);
		urcu_qsbr_quiescent_state(); /* a worker's, once per loop */
	}
	r->missed = missed;
	r->phantom = phantom;
	urcu_qsbr_unregister_thread();
	return NULL;
}

static void test_reader_races_writer(void **state)
{
	static struct race r;
	unsigned refs[N_CHURN] = {0}, distinct = N_STAY;
	uint32_t rnd = 12345;
	pthread_t th;

	(void)state;
	r.s = sw_callset_create(N_STAY + N_CHURN);
	assert_non_null(r.s);
	for (unsigned i = 0; i < N_STAY; i++) {
		r.stay[i] = key_of("stay", i);
		assert_int_equal(sw_callset_add(r.s, r.stay[i]), 0);
	}
	for (unsigned i = 0; i < N_CHURN; i++)
		r.churn[i] = key_of("churn", i);
	for (unsigned i = 0; i < N_NEVER; i++)
		r.never[i] = key_of("never", i);
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	/* The machine may be busy: let the reader start first (at most ~5 s). */
	for (int i = 0; i < 5000 && __atomic_load_n(&r.rounds, __ATOMIC_RELAXED) == 0; i++) {
		urcu_qsbr_quiescent_state();
		usleep(1000);
	}
	/* Bounded: 200000 adds and deletes of churn keys, references up to 3,
	 * every removed node freed after a grace period. */
	for (unsigned it = 0; it < 200000; it++) {
		unsigned i;

		rnd = rnd * 1103515245u + 12345u;
		i = (rnd >> 8) % N_CHURN;
		if (refs[i] < 3 && (rnd >> 30) != 0) {
			assert_int_equal(sw_callset_add(r.s, r.churn[i]), 0);
			distinct += refs[i]++ == 0;
		} else if (refs[i] > 0) {
			assert_int_equal(sw_callset_del(r.s, r.churn[i]), 0);
			distinct -= --refs[i] == 0;
		} else {
			assert_int_equal(sw_callset_del(r.s, r.churn[i]), -ENOENT);
		}
		assert_int_equal(sw_callset_count(r.s), distinct);
		assert_true(sw_callset_has(r.s, r.churn[i]) == (refs[i] > 0));
		if (it % 64 == 0)
			urcu_qsbr_quiescent_state();
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(r.rounds > 0);
	assert_int_equal(r.missed, 0);
	assert_int_equal(r.phantom, 0);
	for (unsigned i = 0; i < N_NEVER; i++)
		assert_false(sw_callset_has(r.s, r.never[i]));
	urcu_qsbr_quiescent_state();
	sw_callset_free(r.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_add_has_del),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_reader_races_writer),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
