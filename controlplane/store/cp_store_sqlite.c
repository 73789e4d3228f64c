/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SQLite backend of the binding store: one file in WAL mode, one row per
 * device, every statement prepared once at open.
 *
 * Why WAL: a commit appends to the log and (synchronous=NORMAL) returns
 * without an fsync; a killed process loses nothing committed, and readers
 * (an operator's sqlite3 shell) do not block the writer. synchronous=FULL
 * adds an fsync per commit for power-loss durability (bindings.store_sync).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <sqlite3.h>

#include "controlplane/store/cp_store_held.h"
#include "controlplane/store/cp_store_internal.h"

/* 2: pn_dead (the tokens of a push address found dead). 3: tp (the
 * transport a device registered over; its connection is not stored: none
 * survives a restart, so a stream device loads asleep). 4: push_key (the
 * 32 bytes a device's pushes are sealed with, docs/push-encryption.md;
 * NULL: none). An older file is brought up as it opens (ALTER TABLE ...
 * ADD COLUMN, in the schema transaction: no row is rewritten, every token
 * starts alive, every device UDP and without a key). */
#define SCHEMA_VERSION 4

/* A waiting writer blocks the control-plane loop: short. Only an outside
 * reader (an operator's shell) can hold the lock at all. */
#define BUSY_TIMEOUT_MS 250

/* The schema. Strings are stored as given (bytes, SQLite does not check
 * UTF-8); the source as text, readable in a shell and parsed back at load. */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value TEXT NOT NULL) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '4');"
	"CREATE TABLE IF NOT EXISTS bindings ("
	" aor TEXT NOT NULL,"
	" device_key TEXT NOT NULL," /* cp_store_device_key() */
	" contact TEXT NOT NULL,"
	" instance TEXT NOT NULL,"
	" pn_form INTEGER NOT NULL," /* enum sw_pn_form */
	" pn_provider TEXT NOT NULL,"
	" pn_prid TEXT NOT NULL,"
	" pn_param TEXT NOT NULL,"
	" pn_dead INTEGER NOT NULL DEFAULT 0," /* struct sw_bind_rec.pn_dead */
	" tp INTEGER NOT NULL DEFAULT 0,"      /* enum sw_tp */
	" push_key BLOB,"		       /* 32 bytes, or NULL: pushes in clear */
	" src TEXT NOT NULL,"		       /* "192.0.2.1" or "2001:db8::1" */
	" sport INTEGER NOT NULL,"
	" iface INTEGER NOT NULL,"
	" registered_at INTEGER NOT NULL," /* seconds since the epoch */
	" expires_at INTEGER NOT NULL,"
	/* A rowid table with the key as a UNIQUE index, and no expiry index:
	 * rows are ~400 bytes, past what WITHOUT ROWID suits (SQLite's docs:
	 * rows under 1/20 of a page), and expiry is swept once, at load.
	 * bench_reg at 300k bindings: 42k -> 61k REGISTER/s. */
	" UNIQUE (aor, device_key));";

#define COLS                                                                                   \
	"aor, contact, instance, pn_form, pn_provider, pn_prid, pn_param, src, sport, iface, " \
	"registered_at, expires_at, pn_dead, tp, push_key"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PUT,
	ST_DEL,
	ST_DEL_AOR,
	ST_EXPIRE,
	ST_LOAD,
	ST_N
};

static const char *const stmt_sql[ST_N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE", /* take the write lock now, not at the first write */
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PUT] =
		"INSERT OR REPLACE INTO bindings (device_key, " COLS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[ST_DEL] = "DELETE FROM bindings WHERE aor = ?1 AND device_key = ?2",
	[ST_DEL_AOR] = "DELETE FROM bindings WHERE aor = ?1",
	[ST_EXPIRE] = "DELETE FROM bindings WHERE expires_at <= ?1",
	[ST_LOAD] = "SELECT " COLS " FROM bindings WHERE expires_at > ?1",
};

struct sq_store {
	struct cp_store s; /* first: cp_store <-> sq_store */
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	struct cp_heldtab *held; /* the journal of held calls */
};

static struct sq_store *sq(struct cp_store *s)
{
	return (struct sq_store *)s;
}

static int fail(struct sq_store *q, const char *what)
{
	cp_store_set_error(&q->s, "%s: %s", what, sqlite3_errmsg(q->db));
	return -EIO;
}

/* Run a cached statement that returns no rows; reset it either way. */
static int run(struct sq_store *q, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st = q->st[id];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(q, what);
}

static int begin_if_needed(struct sq_store *q)
{
	/* Autocommit mode means no transaction open: this write opens the batch. */
	return sqlite3_get_autocommit(q->db) ? run(q, ST_BEGIN, "begin") : 0;
}

static int bind_str(sqlite3_stmt *st, int col, const char *p, size_t len)
{
	/* SQLITE_STATIC: the caller's strings outlive the step. A NULL pointer
	 * would bind SQL NULL: "" for an absent field. */
	return sqlite3_bind_text(st, col, len > 0 ? p : "", (int)len, SQLITE_STATIC);
}

static int sq_put(struct cp_store *s, const struct sw_bind_rec *r, const char *key, size_t klen)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = q->st[ST_PUT];
	bool pn = r->pn_form != SW_PN_NONE;
	char ip[INET6_ADDRSTRLEN];
	int rc = begin_if_needed(q);

	if (rc != 0)
		return rc;
	cp_store_ip_text(&r->src, ip, sizeof(ip));
	rc = bind_str(st, 1, key, klen);
	rc = rc ?: bind_str(st, 2, r->aor, r->aor_len);
	rc = rc ?: bind_str(st, 3, r->contact, r->contact_len);
	rc = rc ?: bind_str(st, 4, r->instance, r->instance_len);
	rc = rc ?: sqlite3_bind_int(st, 5, r->pn_form);
	/* No push address: the pn fields mean nothing (sw_bind ignores them). */
	rc = rc ?: bind_str(st, 6, r->pn_provider, pn ? r->pn_provider_len : 0);
	rc = rc ?: bind_str(st, 7, r->pn_prid, pn ? r->pn_prid_len : 0);
	rc = rc ?: bind_str(st, 8, r->pn_param, pn ? r->pn_param_len : 0);
	rc = rc ?: sqlite3_bind_text(st, 9, ip, -1, SQLITE_TRANSIENT);
	rc = rc ?: sqlite3_bind_int(st, 10, r->sport);
	rc = rc ?: sqlite3_bind_int(st, 11, r->iface);
	rc = rc ?: sqlite3_bind_int64(st, 12, r->registered_at);
	rc = rc ?: sqlite3_bind_int64(st, 13, r->expires_at);
	rc = rc ?: sqlite3_bind_int(st, 14, pn ? r->pn_dead : 0);
	rc = rc ?: sqlite3_bind_int(st, 15, r->tp);
	rc = rc
		     ?: (r->push_key_set ? sqlite3_bind_blob(st, 16, r->push_key, SW_PUSH_KEY_LEN,
							     SQLITE_TRANSIENT)
					 : sqlite3_bind_null(st, 16));
	if (rc != SQLITE_OK)
		return fail(q, "put");
	return run(q, ST_PUT, "put");
}

static int sq_del(struct cp_store *s, const char *aor, size_t alen, const char *key, size_t klen)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = q->st[ST_DEL];
	int rc = begin_if_needed(q);

	if (rc != 0)
		return rc;
	if (bind_str(st, 1, aor, alen) != SQLITE_OK || bind_str(st, 2, key, klen) != SQLITE_OK)
		return fail(q, "delete");
	rc = run(q, ST_DEL, "delete");
	return rc != 0 ? rc : sqlite3_changes(q->db);
}

static int sq_del_aor(struct cp_store *s, const char *aor, size_t alen)
{
	struct sq_store *q = sq(s);
	int rc = begin_if_needed(q);

	if (rc != 0)
		return rc;
	if (bind_str(q->st[ST_DEL_AOR], 1, aor, alen) != SQLITE_OK)
		return fail(q, "delete aor");
	rc = run(q, ST_DEL_AOR, "delete aor");
	return rc != 0 ? rc : sqlite3_changes(q->db);
}

static int sq_held_put(struct cp_store *s, const struct cp_store_held *h)
{
	struct sq_store *q = sq(s);
	int rc = begin_if_needed(q);

	return rc != 0 ? rc : cp_heldtab_put(q->held, h) != 0 ? fail(q, "held call") : 0;
}

static int sq_held_del(struct cp_store *s, const char *key, size_t len)
{
	struct sq_store *q = sq(s);
	int rc = begin_if_needed(q);

	if (rc != 0)
		return rc;
	rc = cp_heldtab_del(q->held, key, len);
	return rc < 0 ? fail(q, "held call: delete") : rc;
}

static int sq_held_load(struct cp_store *s, int (*fn)(const struct cp_store_held *h, void *arg),
			void *arg, uint64_t *skipped)
{
	int rc = cp_heldtab_load(sq(s)->held, fn, arg, skipped);

	return rc == -EIO ? fail(sq(s), "held calls: load") : rc;
}

static int sq_end_batch(struct cp_store *s, bool rollback)
{
	struct sq_store *q = sq(s);
	int rc = 0;

	if (!rollback) {
		rc = run(q, ST_COMMIT, "commit");
		if (rc == 0)
			return 0;
	}
	/* A failed COMMIT (busy, I/O) may leave the transaction open; an
	 * error during the batch may have ended it already. */
	if (!sqlite3_get_autocommit(q->db)) {
		sqlite3_step(q->st[ST_ROLLBACK]);
		sqlite3_reset(q->st[ST_ROLLBACK]);
	}
	return rc;
}

/* Column @i as a string of at most UINT16_MAX bytes, or false. */
static bool col_str(sqlite3_stmt *st, int i, const char **p, uint16_t *len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);

	if (t == NULL || n < 0 || n > UINT16_MAX)
		return false;
	*p = (const char *)t;
	*len = (uint16_t)n;
	return true;
}

/* One row of ST_LOAD back into a record; false if it does not read back. */
static bool row_rec(sqlite3_stmt *st, struct sw_bind_rec *r)
{
	const char *ip;
	uint16_t iplen;
	sqlite3_int64 form = sqlite3_column_int64(st, 3);
	sqlite3_int64 sport = sqlite3_column_int64(st, 8);
	sqlite3_int64 iface = sqlite3_column_int64(st, 9);
	sqlite3_int64 tp = sqlite3_column_int64(st, 13);

	memset(r, 0, sizeof(*r));
	if (!col_str(st, 0, &r->aor, &r->aor_len) ||
	    !col_str(st, 1, &r->contact, &r->contact_len) ||
	    !col_str(st, 2, &r->instance, &r->instance_len) ||
	    !col_str(st, 4, &r->pn_provider, &r->pn_provider_len) ||
	    !col_str(st, 5, &r->pn_prid, &r->pn_prid_len) ||
	    !col_str(st, 6, &r->pn_param, &r->pn_param_len) || !col_str(st, 7, &ip, &iplen))
		return false;
	if (form < SW_PN_NONE || form > SW_PN_XPUSH || sport < 0 || sport > UINT16_MAX ||
	    iface < 0 || iface > UINT8_MAX || tp < 0 || tp >= SW_TP_N ||
	    !cp_store_ip_parse(ip, &r->src))
		return false;
	r->pn_form = (uint8_t)form;
	r->sport = (uint16_t)sport;
	r->iface = (uint8_t)iface;
	r->registered_at = sqlite3_column_int64(st, 10);
	r->expires_at = sqlite3_column_int64(st, 11);
	r->pn_dead = (uint8_t)sqlite3_column_int64(st, 12);
	r->tp = (uint8_t)tp;
	/* A key of another length is no key: that device's pushes would not
	 * open on the phone either way; it loads without one. */
	if (sqlite3_column_type(st, 14) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, 14) == SW_PUSH_KEY_LEN) {
		memcpy(r->push_key, sqlite3_column_blob(st, 14), SW_PUSH_KEY_LEN);
		r->push_key_set = 1;
	}
	return true;
}

static int sq_load(struct cp_store *s, int64_t now_s,
		   int (*fn)(const struct sw_bind_rec *r, void *arg), void *arg, uint64_t *expired,
		   uint64_t *skipped)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = q->st[ST_LOAD];
	struct sw_bind_rec r;
	int rc, step, out = 0;

	/* One transaction: the rows handed out are the rows left in the file. */
	rc = run(q, ST_BEGIN, "load");
	if (rc != 0)
		return rc;
	if (sqlite3_bind_int64(q->st[ST_EXPIRE], 1, now_s) != SQLITE_OK) {
		fail(q, "load");
		goto fail;
	}
	if (run(q, ST_EXPIRE, "load: delete expired") != 0)
		goto fail;
	*expired += (uint64_t)sqlite3_changes(q->db);
	if (sqlite3_bind_int64(st, 1, now_s) != SQLITE_OK) {
		fail(q, "load");
		goto fail;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (!row_rec(st, &r)) {
			(*skipped)++;
			continue;
		}
		out = fn(&r, arg);
		if (out < 0)
			break;
	}
	if (out >= 0 && step != SQLITE_DONE) {
		fail(q, "load");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	/* Even when @fn stopped the load, the expired rows are gone for good. */
	rc = run(q, ST_COMMIT, "load: commit");
	if (rc != 0)
		goto fail;
	return out < 0 ? out : 0;
fail:
	sq_end_batch(s, true);
	return -EIO;
}

static void sq_close(struct cp_store *s)
{
	struct sq_store *q = sq(s);

	cp_heldtab_close(q->held);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(q->st[i]);
	/* The last connection to close checkpoints the WAL into the file. */
	sqlite3_close_v2(q->db);
	free(q);
}

static const struct cp_store_backend sqlite_backend = {
	.name = "sqlite",
	.put = sq_put,
	.del = sq_del,
	.del_aor = sq_del_aor,
	.end_batch = sq_end_batch,
	.load = sq_load,
	.close = sq_close,
	.held_put = sq_held_put,
	.held_del = sq_held_del,
	.held_load = sq_held_load,
};

/* mkdir -p of @path's directory, each new level 0750. */
static int make_parent(struct cp_store *s, const char *path)
{
	char dir[sizeof(s->path)];
	char *slash;
	struct stat sb;
	int e;

	snprintf(dir, sizeof(dir), "%s", path); /* the caller checked the length */
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0; /* relative to the working directory, or under / */
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		goto fail;
	if (stat(dir, &sb) != 0)
		goto fail;
	if (!S_ISDIR(sb.st_mode)) {
		cp_store_set_error(s, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
fail:
	e = errno;
	cp_store_set_error(s, "cannot create directory %s: %s", dir, strerror(e));
	return -e;
}

/* One statement that returns at most one text value (PRAGMA, SELECT). */
static int query_text(struct sq_store *q, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return fail(q, sql);
	out[0] = '\0';
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(q, sql);
	return 0;
}

/* A file at schema version @p from is brought to @p from + 1 by @p sql (in
 * the schema transaction); any other version is left alone. @return 0 or -EIO. */
static int migrate(struct sq_store *q, int from, const char *sql)
{
	char val[16], step[128];

	if (query_text(q, "SELECT value FROM meta WHERE key = 'schema_version'", val,
		       sizeof(val)) != 0 ||
	    atoi(val) != from)
		return 0;
	snprintf(step, sizeof(step),
		 "%s UPDATE meta SET value = '%d' WHERE key = 'schema_version';", sql, from + 1);
	if (sqlite3_exec(q->db, step, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(step, sizeof(step), "schema: from version %d to %d", from, from + 1);
		fail(q, step);
		return -EIO;
	}
	return 0;
}

static int setup(struct sq_store *q, bool sync_full)
{
	char val[32];
	int fd;

	/* Create the file ourselves so that it (and SQLite's -wal and -shm
	 * files, which copy its mode) is not world-readable: push tokens. */
	fd = open(q->s.path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;

		cp_store_set_error(&q->s, "%s", strerror(e));
		return -e;
	}
	close(fd);
	if (sqlite3_open_v2(q->s.path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		cp_store_set_error(&q->s, "%s",
				   q->db != NULL ? sqlite3_errmsg(q->db) : "out of memory");
		return -EIO;
	}
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	/* The first read of the file: a file that is not a database fails here. */
	if (query_text(q, "PRAGMA journal_mode=WAL", val, sizeof(val)) != 0) {
		cp_store_set_error(&q->s, "%s", sqlite3_errmsg(q->db));
		return -EIO;
	}
	if (strcmp(val, "wal") != 0) {
		cp_store_set_error(&q->s, "cannot use WAL journal mode here (got \"%s\")", val);
		return -EIO;
	}
	if (sqlite3_exec(q->db, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
			 NULL, NULL, NULL) != SQLITE_OK)
		return fail(q, "synchronous");
	if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(q, "schema");
	if (sqlite3_exec(q->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		fail(q, "schema");
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	if (migrate(q, 1, "ALTER TABLE bindings ADD COLUMN pn_dead INTEGER NOT NULL DEFAULT 0;") !=
		    0 ||
	    migrate(q, 2, "ALTER TABLE bindings ADD COLUMN tp INTEGER NOT NULL DEFAULT 0;") != 0 ||
	    migrate(q, 3, "ALTER TABLE bindings ADD COLUMN push_key BLOB;") != 0) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(q, "schema");
	if (query_text(q, "SELECT value FROM meta WHERE key = 'schema_version'", val,
		       sizeof(val)) != 0)
		return -EIO;
	if (atoi(val) != SCHEMA_VERSION) {
		cp_store_set_error(&q->s, "schema version %s, this sipwake reads %d", val,
				   SCHEMA_VERSION);
		return -EPROTO;
	}
	for (int i = 0; i < ST_N; i++)
		if (sqlite3_prepare_v3(q->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
				       NULL) != SQLITE_OK)
			return fail(q, stmt_sql[i]);
	q->held = cp_heldtab_open(q->db, q->s.err, sizeof(q->s.err));
	return q->held != NULL ? 0 : -EIO;
}

struct cp_store *cp_store_sqlite_open(const char *path, bool sync_full, char *err, size_t errlen)
{
	struct sq_store *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "bindings.store %s: out of memory", path);
		return NULL;
	}
	cp_store_init(&q->s, &sqlite_backend, path);
	if (strlen(path) >= sizeof(q->s.path)) {
		cp_store_set_error(&q->s, "path too long");
		goto fail;
	}
	if (make_parent(&q->s, path) != 0 || setup(q, sync_full) != 0)
		goto fail;
	return &q->s;
fail:
	if (err != NULL)
		snprintf(err, errlen, "%s", q->s.err);
	sq_close(&q->s);
	return NULL;
}

struct sqlite3 *cp_store_sqlite_db(struct cp_store *s)
{
	return sq(s)->db;
}
