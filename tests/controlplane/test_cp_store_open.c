/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding store (controlplane/store/cp_store.h): paths and files it cannot
 * use are refused with a message that names them (a path under a regular
 * file, a directory where the file should be, a file that is not SQLite),
 * and a file of the first schema brought up to date as it opens.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/controlplane/cp_store_test.h"

void test_bad_paths(void **state)
{
	char path[128], file[128], err[512];
	int fd;

	(void)state;
	/* A path under a regular file. */
	tpath(file, sizeof(file), "plain");
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	tpath(path, sizeof(path), "plain/sub/b.db");
	err[0] = '\0';
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, "bindings.store "));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "Not a directory"));
	tpath(path, sizeof(path), "plain/b.db");
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "plain is not a directory"));
	/* A directory where the file should be. */
	tpath(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	/* No err buffer: still NULL, no crash. */
	assert_null(cp_store_open(path, false, NULL, 0));
}

void test_not_a_database(void **state)
{
	char path[128], err[512];
	char junk[4096];
	int fd;

	(void)state;
	tpath(path, sizeof(path), "junk.db");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a database"));
}

/* What schema version 1 wrote (before pn_dead, tp and push_key): such a
 * file loads, every token alive, every device UDP and without a push key,
 * and takes all three from then on (1 -> 2 -> 3 -> 4 as it opens). */
void test_schema_1_upgraded(void **state)
{
	static const char v1[] =
		"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT "
		"ROWID;"
		"INSERT INTO meta VALUES ('schema_version', '1');"
		"CREATE TABLE bindings (aor TEXT NOT NULL, device_key TEXT NOT NULL,"
		" contact TEXT NOT NULL, instance TEXT NOT NULL, pn_form INTEGER NOT NULL,"
		" pn_provider TEXT NOT NULL, pn_prid TEXT NOT NULL, pn_param TEXT NOT NULL,"
		" src TEXT NOT NULL, sport INTEGER NOT NULL, iface INTEGER NOT NULL,"
		" registered_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
		" UNIQUE (aor, device_key));"
		"INSERT INTO bindings VALUES ('a@example.com', 'i:urn:uuid:1',"
		" 'sip:a@192.0.2.1;pn-provider=apns;pn-prid=aa:remote&bb:voip;pn-param=T.b.remote&"
		"voip',"
		" 'urn:uuid:1', 1, 'apns', 'aa:remote&bb:voip', 'T.b.remote&voip', '192.0.2.1', "
		"5060, 0,"
		" 1000, 4000000000);";
	char path[128];
	static struct loaded l, l2; /* r borrows l's strings across the second load */
	struct cp_store *s;
	struct sw_bind_rec r;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	tpath(path, sizeof(path), "v1.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(reload(path, 2000, &l), 1);
	assert_int_equal(l.c[0].r.pn_dead, 0);
	assert_int_equal(l.c[0].r.pn_form, SW_PN_RFC8599);
	assert_int_equal(l.c[0].r.tp, SW_TP_UDP);
	assert_int_equal(l.c[0].r.push_key_set, 0);
	/* Version 4 now, and a dead token, a transport and a key are kept. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT value FROM meta WHERE key = 'schema_version'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "4");
	sqlite3_finalize(st);
	sqlite3_close(db);
	r = l.c[0].r;
	r.pn_dead = 2;
	r.tp = SW_TP_TLS;
	r.push_key_set = 1;
	for (unsigned i = 0; i < SW_PUSH_KEY_LEN; i++)
		r.push_key[i] = (uint8_t)(0xa0 + i);
	s = open_ok(path, false);
	assert_int_equal(cp_store_put(s, &r), 0);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);
	assert_int_equal(reload(path, 2000, &l2), 1);
	assert_same(&l2.c[0].r, &r);
	assert_int_equal(l2.c[0].r.tp, SW_TP_TLS);
	assert_int_equal(l2.c[0].r.push_key_set, 1);
	/* A refresh without a key takes it away (docs/push-encryption.md). */
	r = l2.c[0].r;
	r.push_key_set = 0;
	s = open_ok(path, false);
	assert_int_equal(cp_store_put(s, &r), 0);
	assert_int_equal(cp_store_commit(s), 0);
	cp_store_close(s);
	assert_int_equal(reload(path, 2000, &l), 1);
	assert_int_equal(l.c[0].r.push_key_set, 0);
}
