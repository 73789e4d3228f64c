/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pushd lifecycle tests' shared state and steps (pushd_life.h).
 */
#include "tests/pushd/pushd_life.h"

const char *srv_bin, *cli_bin;
struct ts_keys keys;

int group_setup(void **state)
{
	(void)state;
	return ts_keys_make(&keys);
}

int group_teardown(void **state)
{
	(void)state;
	ts_keys_remove(&keys);
	return 0;
}

struct pd_result *push_one(struct pd *pd, const char *token, uint64_t id, unsigned ms)
{
	struct pd_request r;

	ts_request(&r, PD_APNS, token, id);
	r.deadline_ms = sw_mono_ms() + ms;
	assert_int_equal(pd_submit(pd, &r), 0);
	return ts_wait_result(pd, id, (int)ms + 3000);
}
