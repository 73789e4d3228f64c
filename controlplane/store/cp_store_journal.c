/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal: a table beside the bindings in the local SQLite file
 * (cp_store_journal.h). Written only while Redis is away or still has
 * older journal entries to take, so it is empty in normal running.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "controlplane/store/cp_store_journal.h"

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS journal ("
				 " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
				 " kind INTEGER NOT NULL," /* enum cl_change */
				 " aor BLOB NOT NULL,"
				 " key BLOB NOT NULL,"
				 " val BLOB NOT NULL,"
				 " stamp INTEGER NOT NULL,"
				 " expires_at INTEGER NOT NULL);";

enum { J_APPEND, J_READ, J_TRIM, J_COUNT, J_BEGIN, J_COMMIT, J_ROLLBACK, J_N };

static const char *const sql[J_N] = {
	[J_APPEND] = "INSERT INTO journal (kind, aor, key, val, stamp, expires_at) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[J_READ] = "SELECT seq, kind, aor, key, val, stamp, expires_at FROM journal "
		   "WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[J_TRIM] = "DELETE FROM journal WHERE seq <= ?1",
	[J_COUNT] = "SELECT count(*) FROM journal",
	[J_BEGIN] = "BEGIN IMMEDIATE",
	[J_COMMIT] = "COMMIT",
	[J_ROLLBACK] = "ROLLBACK",
};

struct cp_journal {
	sqlite3 *db;
	sqlite3_stmt *st[J_N];
	uint64_t depth;
	char err[256];
};

static int fail(struct cp_journal *j, const char *what)
{
	snprintf(j->err, sizeof(j->err), "journal: %s: %s", what, sqlite3_errmsg(j->db));
	return -EIO;
}

static int step(struct cp_journal *j, int id, const char *what)
{
	int rc = sqlite3_step(j->st[id]);

	sqlite3_reset(j->st[id]);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(j, what);
}

struct cp_journal *cp_journal_open(sqlite3 *db, char *err, size_t errlen)
{
	struct cp_journal *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		snprintf(err, errlen, "journal: out of memory");
		return NULL;
	}
	j->db = db;
	if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (int i = 0; i < J_N; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, &j->st[i], NULL) != SQLITE_OK)
			goto fail;
	if (sqlite3_step(j->st[J_COUNT]) != SQLITE_ROW)
		goto fail;
	j->depth = (uint64_t)sqlite3_column_int64(j->st[J_COUNT], 0);
	sqlite3_reset(j->st[J_COUNT]);
	return j;
fail:
	snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
	cp_journal_close(j);
	return NULL;
}

void cp_journal_close(struct cp_journal *j)
{
	if (j == NULL)
		return;
	for (int i = 0; i < J_N; i++)
		sqlite3_finalize(j->st[i]);
	free(j);
}

static int bind_blob(sqlite3_stmt *st, int col, const char *p, size_t len)
{
	return sqlite3_bind_blob(st, col, len > 0 ? p : "", (int)len, SQLITE_STATIC);
}

int cp_journal_append(struct cp_journal *j, const struct cp_journal_op *ops, unsigned n)
{
	sqlite3_stmt *st = j->st[J_APPEND];

	if (step(j, J_BEGIN, "begin") != 0)
		return -EIO;
	for (unsigned i = 0; i < n; i++) {
		const struct cl_binding *b = &ops[i].b;
		int rc = sqlite3_bind_int(st, 1, (int)ops[i].kind);

		rc = rc ?: bind_blob(st, 2, b->aor, b->aor_len);
		rc = rc ?: bind_blob(st, 3, b->key, b->key_len);
		rc = rc ?: bind_blob(st, 4, b->val, b->val_len);
		rc = rc ?: sqlite3_bind_int64(st, 5, b->stamp);
		rc = rc ?: sqlite3_bind_int64(st, 6, b->expires_at);
		if (rc != SQLITE_OK || step(j, J_APPEND, "append") != 0) {
			fail(j, "append");
			sqlite3_step(j->st[J_ROLLBACK]);
			sqlite3_reset(j->st[J_ROLLBACK]);
			return -EIO;
		}
	}
	if (step(j, J_COMMIT, "commit") != 0) {
		sqlite3_step(j->st[J_ROLLBACK]);
		sqlite3_reset(j->st[J_ROLLBACK]);
		return -EIO;
	}
	j->depth += n;
	return 0;
}

int cp_journal_read(struct cp_journal *j, int64_t after, unsigned max,
		    void (*fn)(const struct cp_journal_op *op, void *arg), void *arg)
{
	sqlite3_stmt *st = j->st[J_READ];
	int n = 0, rc;

	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, (int)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cp_journal_op op = {
			.seq = sqlite3_column_int64(st, 0),
			.kind = (enum cl_change)sqlite3_column_int(st, 1),
			.b = {.aor = sqlite3_column_blob(st, 2),
			      .aor_len = (size_t)sqlite3_column_bytes(st, 2),
			      .key = sqlite3_column_blob(st, 3),
			      .key_len = (size_t)sqlite3_column_bytes(st, 3),
			      .val = sqlite3_column_blob(st, 4),
			      .val_len = (size_t)sqlite3_column_bytes(st, 4),
			      .stamp = sqlite3_column_int64(st, 5),
			      .expires_at = sqlite3_column_int64(st, 6)},
		};
		fn(&op, arg);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : fail(j, "read");
}

int cp_journal_trim(struct cp_journal *j, int64_t upto)
{
	sqlite3_bind_int64(j->st[J_TRIM], 1, upto);
	if (step(j, J_TRIM, "trim") != 0)
		return -EIO;
	j->depth -= (uint64_t)sqlite3_changes(j->db) <= j->depth ? (uint64_t)sqlite3_changes(j->db)
								 : j->depth;
	return 0;
}

uint64_t cp_journal_depth(const struct cp_journal *j)
{
	return j->depth;
}

const char *cp_journal_error(const struct cp_journal *j)
{
	return j->err;
}
