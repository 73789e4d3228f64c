/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of held calls (cp_store_held.h): one row per INVITE the wake
 * path holds, written when it is held and deleted when it gets its final
 * answer, both inside the round's batch (no commit of its own: the wake
 * path costs one INSERT and one DELETE, no fsync).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "controlplane/store/cp_store_held.h"
#include "controlplane/store/cp_store_internal.h"

/* No schema version of its own: a new table, which an older sipwake does
 * not read (its held calls are then lost as they were before it). */
static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS held_calls ("
				 " key BLOB PRIMARY KEY NOT NULL," /* Call-ID 0x1f Via branch */
				 " src TEXT NOT NULL,"		   /* the PBX, as bindings.src */
				 " sport INTEGER NOT NULL,"
				 " deadline_ms INTEGER NOT NULL," /* wall clock */
				 " tag INTEGER NOT NULL,"	  /* our To-tag */
				 " invite BLOB NOT NULL);";	  /* as received */

enum { H_PUT, H_DEL, H_LOAD, H_N };

static const char *const sql[H_N] = {
	/* In parentheses: one literal made of two (clang's -Wstring-concatenation). */
	[H_PUT] = ("INSERT OR REPLACE INTO held_calls (key, src, sport, deadline_ms, tag, invite)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
	[H_DEL] = "DELETE FROM held_calls WHERE key = ?1",
	[H_LOAD] = "SELECT key, src, sport, deadline_ms, tag, invite FROM held_calls",
};

struct cp_heldtab {
	sqlite3 *db;
	sqlite3_stmt *st[H_N];
};

struct cp_heldtab *cp_heldtab_open(sqlite3 *db, char *err, size_t errlen)
{
	struct cp_heldtab *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "held calls: out of memory");
		return NULL;
	}
	t->db = db;
	if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (int i = 0; i < H_N; i++)
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &t->st[i],
				       NULL) != SQLITE_OK)
			goto fail;
	return t;
fail:
	snprintf(err, errlen, "held calls: %s", sqlite3_errmsg(db));
	cp_heldtab_close(t);
	return NULL;
}

void cp_heldtab_close(struct cp_heldtab *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < H_N; i++)
		sqlite3_finalize(t->st[i]);
	free(t);
}

static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cp_heldtab_put(struct cp_heldtab *t, const struct cp_store_held *h)
{
	sqlite3_stmt *st = t->st[H_PUT];
	char ip[48];
	int rc;

	cp_store_ip_text(&h->src, ip, sizeof(ip));
	/* SQLITE_STATIC: the caller's bytes outlive the step. */
	rc = sqlite3_bind_blob(st, 1, h->key, (int)h->key_len, SQLITE_STATIC);
	rc = rc ?: sqlite3_bind_text(st, 2, ip, -1, SQLITE_TRANSIENT);
	rc = rc ?: sqlite3_bind_int(st, 3, h->sport);
	rc = rc ?: sqlite3_bind_int64(st, 4, h->deadline_ms);
	rc = rc ?: sqlite3_bind_int64(st, 5, h->tag);
	rc = rc ?: sqlite3_bind_blob(st, 6, h->inv, (int)h->inv_len, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return -EIO;
	}
	return run(st);
}

int cp_heldtab_del(struct cp_heldtab *t, const char *key, size_t len)
{
	sqlite3_stmt *st = t->st[H_DEL];

	if (sqlite3_bind_blob(st, 1, key, (int)len, SQLITE_STATIC) != SQLITE_OK || run(st) != 0)
		return -EIO;
	return sqlite3_changes(t->db);
}

/* One row, copied: the record's pointers point into @p mem. */
struct row {
	struct cp_store_held h;
	bool bad;
	char *mem;
};

static int read_row(sqlite3_stmt *st, struct row *r)
{
	int klen = sqlite3_column_bytes(st, 0), ilen = sqlite3_column_bytes(st, 5);
	const void *key = sqlite3_column_blob(st, 0), *inv = sqlite3_column_blob(st, 5);
	const char *ip = (const char *)sqlite3_column_text(st, 1);
	sqlite3_int64 sport = sqlite3_column_int64(st, 2);

	r->mem = malloc((size_t)klen + (size_t)ilen + 1);
	if (r->mem == NULL)
		return -ENOMEM;
	if (key != NULL)
		memcpy(r->mem, key, (size_t)klen);
	if (inv != NULL)
		memcpy(r->mem + klen, inv, (size_t)ilen);
	r->h.key = r->mem;
	r->h.key_len = (size_t)klen;
	r->h.inv = (const uint8_t *)r->mem + klen;
	r->h.inv_len = (size_t)ilen;
	r->h.sport = (uint16_t)sport;
	r->h.deadline_ms = sqlite3_column_int64(st, 3);
	r->h.tag = (uint32_t)sqlite3_column_int64(st, 4);
	r->bad = key == NULL || klen == 0 || inv == NULL || ilen == 0 || sport <= 0 ||
		 sport > UINT16_MAX || ip == NULL || !cp_store_ip_parse(ip, &r->h.src);
	return 0;
}

int cp_heldtab_load(struct cp_heldtab *t, int (*fn)(const struct cp_store_held *h, void *arg),
		    void *arg, uint64_t *skipped)
{
	sqlite3_stmt *st = t->st[H_LOAD];
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, step, out = 0;

	/* Read first: @fn answers each call, and its answer deletes the row. */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct row *m = realloc(rows, (cap = cap ? cap * 2 : 16) * sizeof(*m));

			if (m == NULL) {
				rc = -ENOMEM;
				break;
			}
			rows = m;
		}
		rc = read_row(st, &rows[n]);
		if (rc != 0)
			break;
		n++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = -EIO;
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && rows[i].bad) {
			(*skipped)++;
			rc = cp_heldtab_del(t, rows[i].h.key, rows[i].h.key_len) < 0 ? -EIO : 0;
		} else if (rc == 0) {
			rc = fn(&rows[i].h, arg);
			out += rc == 0;
		}
		free(rows[i].mem);
	}
	free(rows);
	return rc < 0 ? rc : out;
}
