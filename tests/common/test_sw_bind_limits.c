/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding tables (common/sw_bind.h) at their limits: a full device table
 * and a full source table refuse new devices and change nothing, and each
 * field is refused at its maximum length and accepted one under it.
 */
#include <errno.h>

#include "tests/common/sw_bind_test.h"

void test_capacity(void **state)
{
	struct fixture f = fx_new(2, 16);
	struct sw_bind_rec a = rec("a@example.com", "sip:a@192.0.2.1", "urn:uuid:a", NULL, NULL,
				   NULL, v4(192, 0, 2, 1), 5060);
	struct sw_bind_rec b = rec("b@example.com", "sip:b@192.0.2.2", "urn:uuid:b", NULL, NULL,
				   NULL, v4(192, 0, 2, 2), 5060);
	struct sw_bind_rec c = rec("c@example.com", "sip:c@192.0.2.3", "urn:uuid:c", NULL, NULL,
				   NULL, v4(192, 0, 2, 3), 5060);
	uint64_t ia, ib, ic;
	size_t bytes;

	(void)state;
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(f.t, &b, 1, &ib), 0);
	bytes = sw_bind_bytes(f.t);
	assert_int_equal(sw_bind_put(f.t, &c, 1, &ic), -ENOSPC);
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_bind_bytes(f.t), bytes);
	assert_int_equal(sw_src_count(f.src), 2);
	assert_null(sw_bind_match(f.t, &c));
	assert_int_equal(src_dev(&f, c.src, 5060), 0);
	assert_non_null(sw_bind_by_id(f.t, ia));
	assert_non_null(sw_bind_by_id(f.t, ib));
	/* Existing devices can still be refreshed, even from a new source. */
	a.src = v4(192, 0, 2, 11);
	assert_int_equal(sw_bind_put(f.t, &a, 2, &ic), 0);
	assert_int_equal(ic, ia);
	assert_int_equal(src_dev(&f, a.src, 5060), ia);
	assert_int_equal(sw_bind_count(f.t), 2);
	/* Room again after a removal. */
	assert_int_equal(sw_bind_del(f.t, ib), 0);
	assert_int_equal(sw_bind_put(f.t, &c, 1, &ic), 0);
	assert_int_equal(sw_bind_count(f.t), 2);
	fx_free(&f);

	/* The source table full: refused, nothing changed. */
	f = fx_new(8, 1);
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(f.t, &b, 1, &ib), -ENOSPC);
	assert_int_equal(sw_bind_count(f.t), 1);
	assert_null(sw_bind_match(f.t, &b));
	/* ... and a refresh to a new source is refused too, keeping the old. */
	a.src = v4(192, 0, 2, 12);
	assert_int_equal(sw_bind_put(f.t, &a, 1, NULL), -ENOSPC);
	assert_int_equal(src_dev(&f, v4(192, 0, 2, 11), 5060), ia);
	assert_int_equal(sw_bind_by_id(f.t, ia)->src.a[15], 11);
	fx_free(&f);
}

void test_limits(void **state)
{
	struct fixture f = fx_new(16, 16);
	static char big[2048];
	struct sw_bind_rec ok = rec("l@example.com", "sip:l@192.0.2.1", "urn:uuid:l", "fcm", "t",
				    "p", v4(192, 0, 2, 1), 5060);
	struct sw_bind_rec r;

	(void)state;
	memset(big, 'a', sizeof(big));
	r = ok;
	r.aor_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	r = ok;
	r.contact_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	r = ok;
	r.pn_provider_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	r = ok;
	r.pn_prid_len = 0;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);
	/* The pn fields are canonical: a control byte (the key's separator) is refused. */
	r = ok;
	r.pn_prid = "a\x1f"
		    "b";
	r.pn_prid_len = 3;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -EINVAL);

	r = ok;
	r.aor = big;
	r.aor_len = SW_AOR_MAX;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	r = ok;
	r.contact = big;
	r.contact_len = SW_CONTACT_MAX;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	r = ok;
	r.instance = big;
	r.instance_len = SW_INSTANCE_MAX;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	r = ok;
	r.pn_prid = big;
	r.pn_prid_len = SW_PN_KEY_MAX - 3 - 3 - 1 + 1; /* "fcm" + "p" + 2 separators + NUL */
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), -E2BIG);
	assert_int_equal(sw_bind_count(f.t), 0);
	assert_int_equal(sw_src_count(f.src), 0);

	/* One under each limit is accepted, and the pn key of the longest fits. */
	r = ok;
	r.aor = big;
	r.aor_len = SW_AOR_MAX - 1;
	r.contact = big;
	r.contact_len = SW_CONTACT_MAX - 1;
	r.instance = big;
	r.instance_len = SW_INSTANCE_MAX - 1;
	r.pn_prid = big;
	r.pn_prid_len = SW_PN_KEY_MAX - 3 - 3 - 1;
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	{
		char key[SW_PN_KEY_MAX];
		int n = sw_pn_key(key, sizeof(key), r.pn_provider, r.pn_provider_len, r.pn_prid,
				  r.pn_prid_len, r.pn_param, r.pn_param_len);

		assert_int_equal(n, SW_PN_KEY_MAX - 1);
		assert_non_null(sw_bind_by_pn(f.t, key, (size_t)n));
	}
	assert_int_equal(sw_bind_count(f.t), 1);
	/* With no push address the pn fields are ignored. */
	r = ok;
	r.pn_form = SW_PN_NONE;
	r.pn_provider_len = 0;
	r.instance = "urn:uuid:m";
	assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	fx_free(&f);
}
