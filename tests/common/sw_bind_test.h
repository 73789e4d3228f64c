/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the binding table tests (test_sw_bind*.c, one executable) share:
 * bindings built from strings, a fixture of a binding table with its source
 * table, lookups the way the router makes them, and the tests each file
 * gives main() in test_sw_bind.c. Everything here is static inline, so a
 * file may use any subset. It includes cmocka and its prerequisites itself.
 */
#ifndef SW_BIND_TEST_H
#define SW_BIND_TEST_H

#include <stdbool.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "common/sw_bind.h"

static inline struct sw_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return sw_ip_from_v4((uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 |
			     (uint32_t)d << 24);
}

/* A binding from NUL-terminated strings (NULL: absent); pn_form follows
 * from whether a provider is given. The strings are borrowed. */
static inline struct sw_bind_rec rec(const char *aor, const char *contact, const char *instance,
				     const char *prov, const char *prid, const char *param,
				     struct sw_ip ip, uint16_t port)
{
	struct sw_bind_rec r = {
		.aor = aor,
		.aor_len = (uint16_t)strlen(aor),
		.contact = contact,
		.contact_len = (uint16_t)strlen(contact),
		.instance = instance != NULL ? instance : "",
		.instance_len = instance != NULL ? (uint16_t)strlen(instance) : 0,
		.src = ip,
		.sport = port,
		.iface = 1,
		.registered_at = 1700000000,
		.expires_at = 1700003600,
	};

	if (prov != NULL) {
		r.pn_form = SW_PN_RFC8599;
		r.pn_provider = prov;
		r.pn_provider_len = (uint16_t)strlen(prov);
		r.pn_prid = prid;
		r.pn_prid_len = (uint16_t)strlen(prid);
		r.pn_param = param != NULL ? param : "";
		r.pn_param_len = param != NULL ? (uint16_t)strlen(param) : 0;
	}
	return r;
}

static inline bool str_is(const char *s, uint16_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0 && s[len] == '\0';
}

/* Lookup by push address the way the router does: canonical key first. */
static inline const struct sw_device *by_pn(const struct sw_bind_table *t, const char *prov,
					    const char *prid, const char *param)
{
	char key[SW_PN_KEY_MAX];
	int n = sw_pn_key(key, sizeof(key), prov, strlen(prov), prid, strlen(prid), param,
			  strlen(param));

	assert_true(n > 0);
	return sw_bind_by_pn(t, key, (size_t)n);
}

struct fixture {
	struct sw_src_table *src;
	struct sw_bind_table *t;
};

static inline struct fixture fx_new(unsigned max_devices, unsigned max_sources)
{
	struct fixture f = {.src = sw_src_create(max_sources)};

	assert_non_null(f.src);
	f.t = sw_bind_create(max_devices, f.src);
	assert_non_null(f.t);
	return f;
}

static inline void fx_free(struct fixture *f)
{
	urcu_qsbr_quiescent_state();
	sw_bind_free(f->t);
	assert_int_equal(sw_src_count(f->src), 0); /* every device released its source */
	sw_src_free(f->src);
}

static inline uint64_t src_dev(struct fixture *f, struct sw_ip ip, uint16_t port)
{
	struct sw_src *e = sw_src_lookup(f->src, &ip, port);

	return e != NULL ? e->device_id : 0;
}

struct ids {
	uint64_t id[128];
	unsigned n, stop_after;
};

static inline int collect(const struct sw_device *d, void *arg)
{
	struct ids *c = arg;

	c->id[c->n++] = d->id;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

/* test_sw_bind_remove.c: a source shared by devices, removal, expiry. */
void test_shared_source(void **state);
void test_del(void **state);
void test_expire(void **state);

/* test_sw_bind_limits.c: a full table, a full source table, field limits. */
void test_capacity(void **state);
void test_limits(void **state);

/* test_sw_bind_race.c: a reader thread against the writer. */
void test_concurrent_refresh(void **state);

#endif /* SW_BIND_TEST_H */
