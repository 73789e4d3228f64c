/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The binding store tests' shared helpers (cp_store_test.h): the temporary
 * directory, records, loading back and comparing, counting rows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "tests/controlplane/cp_store_test.h"

static char tmpdir[64];

struct sw_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return sw_ip_from_v4((uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 |
			     (uint32_t)d << 24);
}

const char *tpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
	return buf;
}

struct sw_bind_rec rec(const char *aor, const char *contact, const char *instance, uint8_t form,
		       const char *prov, const char *prid, const char *param, struct sw_ip ip,
		       uint16_t port, int64_t expires_at)
{
	struct sw_bind_rec r = {
		.aor = aor,
		.aor_len = (uint16_t)strlen(aor),
		.contact = contact,
		.contact_len = (uint16_t)strlen(contact),
		.instance = instance,
		.instance_len = instance != NULL ? (uint16_t)strlen(instance) : 0,
		.pn_form = form,
		.src = ip,
		.sport = port,
		.iface = 2,
		.registered_at = 1700000000,
		.expires_at = expires_at,
	};

	if (form != SW_PN_NONE) {
		r.pn_provider = prov;
		r.pn_provider_len = (uint16_t)strlen(prov);
		r.pn_prid = prid;
		r.pn_prid_len = (uint16_t)strlen(prid);
		r.pn_param = param;
		r.pn_param_len = (uint16_t)strlen(param);
	}
	return r;
}

static void cp_str(char *dst, const char *src, uint16_t len, const char **p)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	*p = dst;
}

int on_load(const struct sw_bind_rec *r, void *arg)
{
	struct loaded *l = arg;
	struct copy *c;

	if (l->fail_after > 0 && l->n == (unsigned)l->fail_after)
		return -ENOSPC;
	assert_true(l->n < 64);
	c = &l->c[l->n++];
	c->r = *r;
	cp_str(c->aor, r->aor, r->aor_len, &c->r.aor);
	cp_str(c->contact, r->contact, r->contact_len, &c->r.contact);
	cp_str(c->instance, r->instance, r->instance_len, &c->r.instance);
	cp_str(c->prov, r->pn_provider, r->pn_provider_len, &c->r.pn_provider);
	cp_str(c->prid, r->pn_prid, r->pn_prid_len, &c->r.pn_prid);
	cp_str(c->param, r->pn_param, r->pn_param_len, &c->r.pn_param);
	return 0;
}

const struct sw_bind_rec *find(const struct loaded *l, const char *contact)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->c[i].contact, contact) == 0)
			return &l->c[i].r;
	return NULL;
}

static void assert_str(const char *p, uint16_t len, const char *want, uint16_t want_len)
{
	assert_int_equal(len, want_len);
	if (len > 0)
		assert_memory_equal(p, want, len);
}

void assert_same(const struct sw_bind_rec *got, const struct sw_bind_rec *want)
{
	assert_non_null(got);
	assert_str(got->aor, got->aor_len, want->aor, want->aor_len);
	assert_str(got->contact, got->contact_len, want->contact, want->contact_len);
	assert_str(got->instance, got->instance_len, want->instance, want->instance_len);
	assert_int_equal(got->pn_form, want->pn_form);
	assert_str(got->pn_provider, got->pn_provider_len, want->pn_provider,
		   want->pn_provider_len);
	assert_str(got->pn_prid, got->pn_prid_len, want->pn_prid, want->pn_prid_len);
	assert_str(got->pn_param, got->pn_param_len, want->pn_param, want->pn_param_len);
	assert_memory_equal(got->src.a, want->src.a, sizeof(got->src.a));
	assert_int_equal(got->sport, want->sport);
	assert_int_equal(got->iface, want->iface);
	assert_int_equal(got->registered_at, want->registered_at);
	assert_int_equal(got->expires_at, want->expires_at);
	assert_int_equal(got->pn_dead, want->pn_dead);
	assert_int_equal(got->push_key_set, want->push_key_set);
	if (want->push_key_set)
		assert_memory_equal(got->push_key, want->push_key, SW_PUSH_KEY_LEN);
}

struct cp_store *open_ok(const char *path, bool sync_full)
{
	char err[512] = "";
	struct cp_store *s = cp_store_open(path, sync_full, err, sizeof(err));

	if (s == NULL)
		fail_msg("cp_store_open: %s", err);
	return s;
}

int reload(const char *path, int64_t now, struct loaded *l)
{
	struct cp_store *s = open_ok(path, false);
	int n;

	memset(l, 0, sizeof(*l));
	n = cp_store_load(s, now, on_load, l);
	cp_store_close(s);
	return n;
}

int64_t count_rows(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM bindings", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int tmpdir_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cp_store.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

int tmpdir_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
