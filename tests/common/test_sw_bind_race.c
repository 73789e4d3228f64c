/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding tables (common/sw_bind.h) under RCU: a reader thread runs lookups
 * by id, push address and contact while the writer refreshes one device
 * 20000 times; the reader must only ever see a whole device of one refresh.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/common/sw_bind_test.h"

#define RACE_AOR      "race@example.com"
#define RACE_INSTANCE "urn:uuid:race"

static void race_strings(unsigned g, char *contact, size_t ccap, char *prid, size_t pcap)
{
	snprintf(contact, ccap, "sip:race@198.51.100.7:%u;g=%u", 10000 + g % 1000, g);
	snprintf(prid, pcap, "tok-%u", g);
}

struct race {
	struct sw_bind_table *t;
	uint64_t id;
	unsigned gen; /* token generation the writer last published */
	int stop;
	unsigned long seen_id, seen_pn, seen_contact, bad;
};

/* Every field of one refresh agrees with its generation @g. */
static bool race_ok(const struct race *r, const struct sw_device *d, unsigned g)
{
	char contact[96], prid[32];
	unsigned cg, pg;

	if (d->id != r->id || !str_is(d->aor, d->aor_len, RACE_AOR) ||
	    !str_is(d->instance, d->instance_len, RACE_INSTANCE))
		return false;
	if (sscanf(d->contact, "sip:race@198.51.100.7:%*u;g=%u", &cg) != 1 ||
	    sscanf(d->pn_prid, "tok-%u", &pg) != 1 || cg != pg || (g != UINT32_MAX && cg != g))
		return false;
	race_strings(cg, contact, sizeof(contact), prid, sizeof(prid));
	return str_is(d->contact, d->contact_len, contact) &&
	       str_is(d->pn_prid, d->pn_prid_len, prid) && d->sport == 10000 + cg % 1000 &&
	       d->expires_at == d->registered_at + 3600 && d->registered_at / 4 == cg &&
	       str_is(d->pn_provider, d->pn_provider_len, "fcm");
}

static void *reader(void *arg)
{
	struct race *r = arg;
	char contact[96], prid[32], key[SW_PN_KEY_MAX];

	urcu_qsbr_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 16; i++) {
			unsigned g = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
			const struct sw_device *d = sw_bind_by_id(r->t, r->id);
			int n;

			/* The id is replaced in place: never missing. */
			if (d == NULL || !race_ok(r, d, UINT32_MAX))
				r->bad++;
			__atomic_store_n(&r->seen_id, r->seen_id + 1, __ATOMIC_RELAXED);

			/* The generation read may be gone already (NULL is
			 * fine); what is found must be that generation. */
			race_strings(g, contact, sizeof(contact), prid, sizeof(prid));
			n = sw_pn_key(key, sizeof(key), "fcm", 3, prid, strlen(prid), "p", 1);
			d = sw_bind_by_pn(r->t, key, (size_t)n);
			if (d != NULL) {
				r->seen_pn++;
				if (!race_ok(r, d, g))
					r->bad++;
			}
			d = sw_bind_by_contact(r->t, contact, strlen(contact));
			if (d != NULL) {
				r->seen_contact++;
				if (!race_ok(r, d, g))
					r->bad++;
			}
		}
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

void test_concurrent_refresh(void **state)
{
	struct fixture f = fx_new(16, 16);
	struct race r = {.t = f.t};
	char contact[96], prid[32];
	struct sw_bind_rec b;
	pthread_t th;

	(void)state;
	for (unsigned i = 0; i < 20000; i++) {
		unsigned g = i / 4; /* a new token (and contact, source) every 4 refreshes */

		race_strings(g, contact, sizeof(contact), prid, sizeof(prid));
		b = rec(RACE_AOR, contact, RACE_INSTANCE, "fcm", prid, "p", v4(198, 51, 100, 7),
			(uint16_t)(10000 + g % 1000));
		b.registered_at = i;
		b.expires_at = i + 3600;
		assert_int_equal(sw_bind_put(f.t, &b, i, i == 0 ? &r.id : NULL), 0);
		__atomic_store_n(&r.gen, g, __ATOMIC_RELEASE);
		if (i == 0) {
			assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
			/* The machine may be busy: let the reader start (at most ~5 s). */
			for (int w = 0;
			     w < 5000 && __atomic_load_n(&r.seen_id, __ATOMIC_RELAXED) == 0; w++) {
				urcu_qsbr_quiescent_state();
				usleep(1000);
			}
		}
		urcu_qsbr_quiescent_state();
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(r.bad, 0);
	assert_true(r.seen_id > 0);
	print_message("reader: %lu by id, %lu by pn, %lu by contact\n", r.seen_id, r.seen_pn,
		      r.seen_contact);
	/* After the writer: exactly the last refresh, nothing of the others. */
	assert_int_equal(sw_bind_count(f.t), 1);
	assert_int_equal(sw_src_count(f.src), 1);
	assert_true(race_ok(&r, sw_bind_by_id(f.t, r.id), 19999 / 4));
	race_strings(19999 / 4 - 1, contact, sizeof(contact), prid, sizeof(prid));
	assert_null(sw_bind_by_contact(f.t, contact, strlen(contact)));
	fx_free(&f);
}
