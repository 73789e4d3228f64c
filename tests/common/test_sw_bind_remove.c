/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding tables (common/sw_bind.h), taking devices out: a source shared by
 * two devices stays bound to the one left, deletes by id and by AOR
 * ("Contact: *"), expiry, and the source table kept in step with each.
 */
#include <errno.h>
#include <stdio.h>

#include "tests/common/sw_bind_test.h"

void test_shared_source(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct sw_ip ip = v4(203, 0, 113, 5);
	/* One app, two accounts, one socket. */
	struct sw_bind_rec a = rec("a@example.com", "sip:a@203.0.113.5:5060", "urn:uuid:x", NULL,
				   NULL, NULL, ip, 5060);
	struct sw_bind_rec b = rec("b@example.com", "sip:b@203.0.113.5:5060", "urn:uuid:x", NULL,
				   NULL, NULL, ip, 5060);
	uint64_t ia, ib;

	(void)state;
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(sw_bind_put(f.t, &b, 1, &ib), 0);
	assert_true(ia != ib);
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(sw_bind_del(f.t, ia), 0);
	/* Still bound, and to the device that is left, not to a removed one. */
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(src_dev(&f, ip, 5060), ib);
	assert_non_null(sw_bind_by_id(f.t, src_dev(&f, ip, 5060)));

	/* The first device comes back, then the owner of the source moves
	 * away: the source follows the device still on it. */
	assert_int_equal(sw_bind_put(f.t, &a, 1, &ia), 0);
	assert_int_equal(src_dev(&f, ip, 5060), ib);
	b.src = v4(203, 0, 113, 6);
	assert_int_equal(sw_bind_put(f.t, &b, 1, NULL), 0);
	assert_int_equal(sw_src_count(f.src), 2);
	assert_int_equal(src_dev(&f, ip, 5060), ia);
	assert_int_equal(src_dev(&f, b.src, 5060), ib);
	assert_int_equal(sw_bind_del(f.t, ia), 0);
	assert_int_equal(src_dev(&f, ip, 5060), 0);
	assert_int_equal(sw_src_count(f.src), 1);
	fx_free(&f);
}

void test_del(void **state)
{
	struct fixture f = fx_new(128, 128);
	struct sw_bind_rec r;
	char aor[32], contact[64];
	uint64_t id;

	(void)state;
	r = rec("g@example.com", "sip:g@192.0.2.1", NULL, "fcm", "t", "p", v4(192, 0, 2, 1), 5060);
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id), 0);
	assert_int_equal(sw_bind_del(f.t, id), 0);
	assert_int_equal(sw_bind_del(f.t, id), -ENOENT);
	assert_int_equal(sw_bind_count(f.t), 0);
	assert_int_equal(sw_bind_bytes(f.t), 0);
	assert_null(sw_bind_by_id(f.t, id));
	assert_null(sw_bind_by_contact(f.t, "sip:g@192.0.2.1", 15));
	assert_null(by_pn(f.t, "fcm", "t", "p"));
	assert_null(sw_bind_match(f.t, &r));
	assert_int_equal(sw_src_count(f.src), 0);
	/* A new device never gets a removed one's id. */
	assert_int_equal(sw_bind_put(f.t, &r, 1, &id), 0);
	assert_int_equal(sw_bind_del(f.t, id), 0);

	/* "Contact: *": every device of one AOR, more than one batch of 64. */
	for (int i = 0; i < 70; i++) {
		snprintf(contact, sizeof(contact), "sip:h@10.0.%d.%d", i / 200, i % 200 + 1);
		r = rec("h@example.com", contact, NULL, NULL, NULL, NULL,
			v4(10, 0, (uint8_t)(i / 200), (uint8_t)(i % 200 + 1)), 5060);
		assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(aor, sizeof(aor), "k%d@example.com", i);
		r = rec(aor, "sip:k@192.0.2.50", NULL, NULL, NULL, NULL, v4(192, 0, 2, 50), 5060);
		assert_int_equal(sw_bind_put(f.t, &r, 1, NULL), 0);
	}
	assert_int_equal(sw_bind_count(f.t), 73);
	assert_int_equal(sw_src_count(f.src), 71);
	assert_int_equal(sw_bind_del_aor(f.t, "h@example.com", 13), 70);
	assert_int_equal(sw_bind_count(f.t), 3);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_int_equal(sw_bind_del_aor(f.t, "h@example.com", 13), 0);
	assert_int_equal(sw_bind_foreach_aor(f.t, "k1@example.com", 14, collect, &(struct ids){0}),
			 1);
	assert_int_equal(sw_bind_del_aor(f.t, "k1@example.com", 14), 1);
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_src_count(f.src), 1);
	sw_bind_foreach(f.t, collect, &(struct ids){0});
	fx_free(&f);
}

struct expired {
	uint64_t id[8];
	int64_t exp[8];
	unsigned n;
};

static void on_expire(const struct sw_device *d, void *arg)
{
	struct expired *e = arg;

	e->id[e->n] = d->id;
	e->exp[e->n++] = d->expires_at;
}

void test_expire(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct expired e = {0};
	uint64_t ids[4];
	struct sw_bind_rec r;
	char contact[32];

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(contact, sizeof(contact), "sip:x@192.0.2.%d", i + 1);
		r = rec("x@example.com", contact, NULL, NULL, NULL, NULL,
			v4(192, 0, 2, (uint8_t)(i + 1)), 5060);
		r.expires_at = 100 * (i + 1);
		assert_int_equal(sw_bind_put(f.t, &r, 1, &ids[i]), 0);
	}
	assert_int_equal(sw_bind_expire(f.t, 99, on_expire, &e), 0);
	assert_int_equal(e.n, 0);
	/* expires_at <= now goes: 100 and 200. */
	assert_int_equal(sw_bind_expire(f.t, 200, on_expire, &e), 2);
	assert_int_equal(e.n, 2);
	assert_true(e.exp[0] <= 200 && e.exp[1] <= 200 && e.id[0] != e.id[1]);
	assert_true(e.id[0] == ids[0] || e.id[0] == ids[1]);
	assert_true(e.id[1] == ids[0] || e.id[1] == ids[1]);
	assert_null(sw_bind_by_id(f.t, ids[0]));
	assert_null(sw_bind_by_id(f.t, ids[1]));
	assert_null(sw_bind_by_contact(f.t, "sip:x@192.0.2.1", 15));
	assert_non_null(sw_bind_by_id(f.t, ids[2]));
	assert_int_equal(sw_bind_count(f.t), 2);
	assert_int_equal(sw_src_count(f.src), 2);
	assert_int_equal(src_dev(&f, v4(192, 0, 2, 1), 5060), 0);
	assert_int_equal(src_dev(&f, v4(192, 0, 2, 3), 5060), ids[2]);
	/* No callback is fine too. */
	assert_int_equal(sw_bind_expire(f.t, 1000, NULL, NULL), 2);
	assert_int_equal(sw_bind_count(f.t), 0);
	assert_int_equal(sw_src_count(f.src), 0);
	fx_free(&f);
}
