/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sw_bind_replace() (common/sw_bind.h): a device edited by id keeps its id
 * and every index follows, even when the edit removes what sw_bind_match()
 * identified it by (a dead push token of a device without +sip.instance).
 */
#include <errno.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "common/sw_bind.h"

#define AOR   "bob@example.com"
#define TOKEN "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"
#define TOPIC "ABCD123456.com.example.voip"

static struct sw_ip ip4(uint8_t last)
{
	return sw_ip_from_v4((uint32_t)198 | 18u << 8 | 0u << 16 | (uint32_t)last << 24);
}

static struct sw_bind_rec rec(const char *contact, const char *instance, const char *prid)
{
	struct sw_bind_rec r = {
		.aor = AOR,
		.aor_len = (uint16_t)strlen(AOR),
		.contact = contact,
		.contact_len = (uint16_t)strlen(contact),
		.instance = instance != NULL ? instance : "",
		.instance_len = instance != NULL ? (uint16_t)strlen(instance) : 0,
		.src = ip4(2),
		.sport = 5070,
		.registered_at = 1700000000,
		.expires_at = 1700003600,
	};

	if (prid != NULL) {
		r.pn_form = SW_PN_RFC8599;
		r.pn_provider = "apns";
		r.pn_provider_len = 4;
		r.pn_prid = prid;
		r.pn_prid_len = (uint16_t)strlen(prid);
		r.pn_param = TOPIC;
		r.pn_param_len = (uint16_t)strlen(TOPIC);
	}
	return r;
}

static const struct sw_device *by_pn(const struct sw_bind_table *t, const char *prid)
{
	char key[SW_PN_KEY_MAX];
	int n = sw_pn_key(key, sizeof(key), "apns", 4, prid, strlen(prid), TOPIC, strlen(TOPIC));

	assert_true(n > 0);
	return sw_bind_by_pn(t, key, (size_t)n);
}

static int count_one(const struct sw_device *d, void *arg)
{
	(void)d;
	++*(unsigned *)arg;
	return 0;
}

static unsigned aor_devices(const struct sw_bind_table *t)
{
	unsigned n = 0;

	sw_bind_foreach_aor(t, AOR, strlen(AOR), count_one, &n);
	return n;
}

/* No instance: the push address is the identity; removing it must not make a
 * second device (sw_bind_put() would), and the push index forgets it. */
static void test_drop_push_without_instance(void **state)
{
	const char *contact = "sip:bob@198.18.0.2:5070;pn-provider=apns";
	struct sw_src_table *src = sw_src_create(16);
	struct sw_bind_table *t = sw_bind_create(16, src);
	struct sw_bind_rec r = rec(contact, NULL, TOKEN), bare;
	const struct sw_device *d;
	struct sw_src *e;
	uint64_t id;

	(void)state;
	assert_int_equal(sw_bind_put(t, &r, 1000, &id), 0);
	e = sw_src_lookup(src, &r.src, r.sport);
	assert_non_null(e);
	assert_int_equal(sw_src_last_alive(e), 1000);

	sw_bind_rec_of(sw_bind_by_id(t, id), &bare);
	bare.pn_form = SW_PN_NONE;
	assert_int_equal(sw_bind_replace(t, id, &bare, 2000), 0);
	urcu_qsbr_quiescent_state();

	d = sw_bind_by_id(t, id);
	assert_non_null(d);
	assert_int_equal(d->pn_form, SW_PN_NONE);
	assert_int_equal(d->pn_prid_len, 0);
	assert_string_equal(d->contact, contact);
	assert_int_equal(d->expires_at, r.expires_at);
	assert_int_equal(d->registered_at, r.registered_at);
	assert_null(by_pn(t, TOKEN));
	assert_ptr_equal(sw_bind_by_contact(t, contact, strlen(contact)), d);
	assert_int_equal(sw_bind_count(t), 1);
	assert_int_equal(aor_devices(t), 1);
	/* Not proof of life: the source keeps its last-alive time. */
	e = sw_src_lookup(src, &r.src, r.sport);
	assert_non_null(e);
	assert_int_equal(e->device_id, id);
	assert_int_equal(sw_src_last_alive(e), 1000);
	/* A REGISTER without push address now refreshes that same device. */
	bare.expires_at += 60;
	assert_int_equal(sw_bind_put(t, &bare, 3000, &id), 0);
	assert_int_equal(sw_bind_count(t), 1);
	assert_int_equal(sw_bind_by_id(t, id)->expires_at, r.expires_at + 60);

	urcu_qsbr_quiescent_state();
	sw_bind_free(t);
	assert_int_equal(sw_src_count(src), 0);
	sw_src_free(src);
}

static void test_replace_refusals(void **state)
{
	struct sw_src_table *src = sw_src_create(16);
	struct sw_bind_table *t = sw_bind_create(16, src);
	struct sw_bind_rec a = rec("sip:bob@198.18.0.2:5070", NULL, NULL);
	struct sw_bind_rec b = rec("sip:bob@198.18.0.2:5070", NULL, TOKEN);
	struct sw_bind_rec other = a;
	uint64_t ida, idb;

	(void)state;
	assert_int_equal(sw_bind_put(t, &a, 1, &ida), 0);
	assert_int_equal(sw_bind_put(t, &b, 1, &idb), 0); /* same contact, push: another device */
	assert_int_not_equal(ida, idb);
	assert_int_equal(sw_bind_count(t), 2);

	/* Without its push address b would be a, which cannot be told apart. */
	assert_int_equal(sw_bind_replace(t, idb, &a, 2), -EEXIST);
	assert_non_null(by_pn(t, TOKEN));
	assert_int_equal(sw_bind_by_id(t, idb)->pn_form, SW_PN_RFC8599);

	assert_int_equal(sw_bind_replace(t, 999, &a, 2), -ENOENT);
	other.aor = "eve@example.com";
	other.aor_len = (uint16_t)strlen(other.aor);
	assert_int_equal(sw_bind_replace(t, ida, &other, 2), -EINVAL);
	other = a;
	other.contact_len = 0;
	assert_int_equal(sw_bind_replace(t, ida, &other, 2), -EINVAL);
	assert_int_equal(sw_bind_count(t), 2);

	urcu_qsbr_quiescent_state();
	sw_bind_free(t);
	sw_src_free(src);
}

/* With an instance the id was already kept by sw_bind_put(); replace agrees. */
static void test_replace_with_instance(void **state)
{
	struct sw_src_table *src = sw_src_create(16);
	struct sw_bind_table *t = sw_bind_create(16, src);
	struct sw_bind_rec r = rec("sip:bob@198.18.0.2:5070", "<urn:uuid:1>", TOKEN), bare;
	uint64_t id;

	(void)state;
	assert_int_equal(sw_bind_put(t, &r, 1, &id), 0);
	bare = r;
	bare.pn_form = SW_PN_NONE;
	assert_int_equal(sw_bind_replace(t, id, &bare, 2), 0);
	assert_null(by_pn(t, TOKEN));
	assert_ptr_equal(sw_bind_match(t, &r), sw_bind_by_id(t, id));
	assert_int_equal(sw_bind_count(t), 1);

	urcu_qsbr_quiescent_state();
	sw_bind_free(t);
	sw_src_free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_push_without_instance),
		cmocka_unit_test(test_replace_refusals),
		cmocka_unit_test(test_replace_with_instance),
	};
	int rc;

	urcu_qsbr_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	urcu_qsbr_unregister_thread();
	return rc;
}
