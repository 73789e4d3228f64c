/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Refresh-push marks (controlplane/bindings/cp_refresh.h): one entry per device,
 * replaced by the next registration's, forgotten on demand, and bounded:
 * expired entries make room, live ones past the size refuse with -ENOSPC.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controlplane/bindings/cp_refresh.h"

static struct cp_refresh_entry ent(uint64_t id, int64_t reg, int64_t exp)
{
	return (struct cp_refresh_entry){
		.id = id, .registered_at = reg, .expires_at = exp, .sent_at = exp - 5};
}

static void test_note_find_replace_forget(void **state)
{
	struct cp_refresh *r = cp_refresh_create(4);
	const struct cp_refresh_entry *e;
	struct cp_refresh_entry a = ent(7, 100, 140);

	(void)state;
	assert_non_null(r);
	assert_null(cp_refresh_find(r, 7));
	assert_null(cp_refresh_find(r, 0));
	assert_int_equal(cp_refresh_note(r, &a, 100), 0);
	e = cp_refresh_find(r, 7);
	assert_non_null(e);
	assert_int_equal(e->registered_at, 100);
	assert_int_equal(e->expires_at, 140);
	assert_int_equal(e->sent_at, 135);

	/* The next registration of the same device replaces it in place. */
	a = ent(7, 130, 170);
	assert_int_equal(cp_refresh_note(r, &a, 131), 0);
	assert_int_equal(cp_refresh_used(r), 1);
	assert_int_equal(cp_refresh_find(r, 7)->registered_at, 130);

	cp_refresh_forget(r, 7);
	e = cp_refresh_find(r, 7);
	assert_true(e == NULL || (e->registered_at == 0 && e->expires_at == 0));
	cp_refresh_forget(r, 12345); /* not there: nothing */
	a.id = 0;
	assert_int_equal(cp_refresh_note(r, &a, 131), -EINVAL);
	cp_refresh_free(r);
	cp_refresh_free(NULL);
}

/* 4 devices: 16 slots, 12 usable. Expired entries make room; a table full
 * of live ones refuses, and what it holds stays findable. */
static void test_bounded(void **state)
{
	struct cp_refresh *r = cp_refresh_create(4);
	struct cp_refresh_entry e;
	uint64_t id;

	(void)state;
	for (id = 1; id <= 12; id++) {
		e = ent(id, 0, 50);
		assert_int_equal(cp_refresh_note(r, &e, 10), 0);
	}
	e = ent(13, 0, 50);
	assert_int_equal(cp_refresh_note(r, &e, 10), -ENOSPC);
	for (id = 1; id <= 12; id++)
		assert_non_null(cp_refresh_find(r, id));
	/* Later, all of those have expired: room for thousands more, one at a
	 * time, the table never growing past its slots. */
	for (id = 100; id < 5100; id++) {
		e = ent(id, (int64_t)id, (int64_t)id + 3);
		assert_int_equal(cp_refresh_note(r, &e, (int64_t)id), 0);
		assert_true(cp_refresh_used(r) <= 12);
		assert_non_null(cp_refresh_find(r, id));
	}
	assert_null(cp_refresh_find(r, 1));
	cp_refresh_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note_find_replace_forget),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
