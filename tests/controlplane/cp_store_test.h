/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the binding store tests (test_cp_store*.c, one executable) share:
 * the temporary directory every file lives in, records built from strings,
 * loading a store back into copies and comparing them field for field, and
 * the tests each file gives main() in test_cp_store.c. It includes cmocka
 * and its prerequisites itself.
 */
#ifndef CP_STORE_TEST_H
#define CP_STORE_TEST_H

#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controlplane/store/cp_store.h"

/* A loaded binding, copied out of the borrowed record. */
struct copy {
	char aor[SW_AOR_MAX], contact[SW_CONTACT_MAX], instance[SW_INSTANCE_MAX];
	char prov[SW_PN_KEY_MAX], prid[SW_PN_KEY_MAX], param[SW_PN_KEY_MAX];
	struct sw_bind_rec r;
};

struct loaded {
	struct copy c[64];
	unsigned n;
	int fail_after; /* > 0: return -ENOSPC once this many are taken */
};

/* An IPv4 address a.b.c.d. */
struct sw_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

/* A file name in the temporary directory (one per test: tests stay apart). */
const char *tpath(char *buf, size_t cap, const char *name);

/* A binding from NUL-terminated strings (@p form SW_PN_NONE: no push
 * address, the three pn strings are not read); the strings are borrowed. */
struct sw_bind_rec rec(const char *aor, const char *contact, const char *instance, uint8_t form,
		       const char *prov, const char *prid, const char *param, struct sw_ip ip,
		       uint16_t port, int64_t expires_at);

/* cp_store_load() callback: copies each binding into the struct loaded
 * @p arg, or returns -ENOSPC once fail_after are taken. */
int on_load(const struct sw_bind_rec *r, void *arg);

/* The loaded binding with this contact, NULL if none. */
const struct sw_bind_rec *find(const struct loaded *l, const char *contact);

/* Every field of @p got equals @p want's. */
void assert_same(const struct sw_bind_rec *got, const struct sw_bind_rec *want);

/* cp_store_open() that fails the test with its message. */
struct cp_store *open_ok(const char *path, bool sync_full);

/* Reopen @path and load everything alive at @now. */
int reload(const char *path, int64_t now, struct loaded *l);

/* The rows of the bindings table, read with SQLite itself. */
int64_t count_rows(const char *path);

/* cmocka group set-up / tear-down: the temporary directory, made and removed. */
int tmpdir_setup(void **state);
int tmpdir_teardown(void **state);

/* test_cp_store_uncommitted.c: what is not committed is not there. */
void test_uncommitted_close(void **state);
void test_kill9(void **state);
void test_failed_batch(void **state);
void test_load_stops(void **state);

/* test_cp_store_open.c: bad paths and files refused with clear errors. */
void test_bad_paths(void **state);
void test_not_a_database(void **state);
void test_schema_1_upgraded(void **state);

/* test_cp_store_codec.c: what a shared store writes for other edges. */
void test_codec_roundtrip(void **state);
void test_codec_refused(void **state);
void test_codec_key_rec(void **state);
void test_journal(void **state);

/* test_cp_store_held.c: the journal of held calls. */
void test_held_roundtrip(void **state);
void test_held_batches(void **state);
void test_held_load_answers(void **state);

#endif /* CP_STORE_TEST_H */
