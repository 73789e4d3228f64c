/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source table (common/sw_src.h): bind, rebind, unbind, capacity, a
 * proof of life taken back (but never a later one), and a reader thread running lookups while the writer replaces entries (the
 * reader must only ever see a whole entry of one of the devices bound).
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "common/sw_src.h"

static struct sw_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return sw_ip_from_v4((uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 |
			     (uint32_t)d << 24);
}

static void test_bind_lookup(void **state)
{
	struct sw_src_table *t = sw_src_create(2);
	struct sw_ip a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2), c = v4(192, 0, 2, 3);
	struct sw_ip a6 = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	struct sw_src *e;

	(void)state;
	assert_non_null(t);
	assert_null(sw_src_lookup(t, &a, 5060));
	assert_int_equal(sw_src_bind(t, &a, 5060, 42, 100), 0);
	e = sw_src_lookup(t, &a, 5060);
	assert_non_null(e);
	assert_int_equal(e->device_id, 42);
	assert_int_equal(sw_src_last_alive(e), 100);
	sw_src_touch(e, 200);
	assert_int_equal(sw_src_last_alive(sw_src_lookup(t, &a, 5060)), 200);
	/* Same ip, other port: another source. */
	assert_null(sw_src_lookup(t, &a, 5061));
	/* Rebind to another device replaces the entry. */
	assert_int_equal(sw_src_bind(t, &a, 5060, 43, 300), 0);
	assert_int_equal(sw_src_lookup(t, &a, 5060)->device_id, 43);
	assert_int_equal(sw_src_count(t), 1);
	assert_int_equal(sw_src_bind(t, &b, 5060, 44, 1), 0);
	/* Full: a new source is refused, existing ones stay and can be refreshed. */
	assert_int_equal(sw_src_bind(t, &c, 5060, 45, 1), -ENOSPC);
	assert_int_equal(sw_src_bind(t, &a6, 5060, 45, 1), -ENOSPC);
	assert_int_equal(sw_src_bind(t, &b, 5060, 44, 2), 0);
	assert_int_equal(sw_src_count(t), 2);
	assert_int_equal(sw_src_unbind(t, &a, 5060), 0);
	assert_int_equal(sw_src_unbind(t, &a, 5060), -ENOENT);
	assert_null(sw_src_lookup(t, &a, 5060));
	assert_int_equal(sw_src_bind(t, &a6, 5060, 45, 1), 0);
	assert_int_equal(sw_src_lookup(t, &a6, 5060)->device_id, 45);
	assert_null(sw_src_lookup(t, &a, 5060));
	assert_int_equal(sw_src_count(t), 2);
	urcu_qsbr_quiescent_state();
	sw_src_free(t);
}

/* The writer takes back what was heard up to a time (a ping answered "no
 * such contact"), never a time a worker stored after it. */
static void test_forget(void **state)
{
	struct sw_src_table *t = sw_src_create(2);
	struct sw_ip a = v4(192, 0, 2, 1);
	struct sw_src *e;

	(void)state;
	assert_int_equal(sw_src_bind(t, &a, 5060, 42, 100), 0);
	e = sw_src_lookup(t, &a, 5060);
	sw_src_touch(e, 500);
	sw_src_forget(e, 500);
	assert_int_equal(sw_src_last_alive(e), 0);
	sw_src_touch(e, 700);
	sw_src_forget(e, 600); /* heard again after the answer: stays */
	assert_int_equal(sw_src_last_alive(e), 700);
	sw_src_forget(e, 900);
	assert_int_equal(sw_src_last_alive(e), 0);
	assert_int_equal(e->device_id, 42);
	urcu_qsbr_quiescent_state();
	sw_src_free(t);
}

struct race {
	struct sw_src_table *t;
	struct sw_ip ip;
	int stop;
	unsigned long seen, bad;
};

static void *reader(void *arg)
{
	struct race *r = arg;

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 64; i++) {
			struct sw_src *e = sw_src_lookup(r->t, &r->ip, 5060);

			/* Devices bound are 1000..1999, each with last-alive == id. */
			if (e != NULL) {
				__atomic_store_n(&r->seen, r->seen + 1, __ATOMIC_RELAXED);
				if (e->device_id < 1000 || e->device_id > 1999 || e->port != 5060 ||
				    e->last_alive_tsc != e->device_id)
					r->bad++;
			}
		}
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

static void test_concurrent_rebind(void **state)
{
	struct race r = {.t = sw_src_create(16), .ip = v4(198, 51, 100, 7)};
	pthread_t th;

	(void)state;
	assert_non_null(r.t);
	assert_int_equal(sw_src_bind(r.t, &r.ip, 5060, 1000, 1000), 0);
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	/* The machine may be busy: let the reader start first (at most ~5 s). */
	for (int i = 0; i < 5000 && __atomic_load_n(&r.seen, __ATOMIC_RELAXED) == 0; i++) {
		urcu_qsbr_quiescent_state();
		usleep(1000);
	}
	/* Bounded: 20000 replacements, each freed after a grace period. */
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t id = 1000 + i % 1000;

		if (i % 3 == 0)
			sw_src_unbind(r.t, &r.ip, 5060);
		assert_true(sw_src_bind(r.t, &r.ip, 5060, id, id) == 0);
		urcu_qsbr_quiescent_state();
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(r.bad, 0);
	assert_true(r.seen > 0);
	sw_src_free(r.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_lookup),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_concurrent_rebind),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
