/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of held calls: a table beside the bindings in the local
 * SQLite file (docs/design.md §7, "Held calls and a crash"). Its writes
 * join whatever transaction the connection has open (the round's batch);
 * this module never begins or commits one.
 */
#ifndef CP_STORE_HELD_H
#define CP_STORE_HELD_H

#include <stddef.h>

#include "controlplane/store/cp_store.h"

struct sqlite3;
struct cp_heldtab;

/** The table in @p db (made if missing: an older file gains it, nothing
 *  else changes). NULL: @p err says why. */
struct cp_heldtab *cp_heldtab_open(struct sqlite3 *db, char *err, size_t errlen);
/** NULL is a no-op. */
void cp_heldtab_close(struct cp_heldtab *t);

/** Insert or replace (same key) @p h. 0 or -EIO (sqlite3_errmsg() says why). */
int cp_heldtab_put(struct cp_heldtab *t, const struct cp_store_held *h);

/** Delete the call keyed @p key. @return rows deleted (0 or 1), or -EIO. */
int cp_heldtab_del(struct cp_heldtab *t, const char *key, size_t len);

/**
 * Read every row first, then hand each to @p fn (which may delete rows:
 * the table is not being read any more). Rows that do not read back are
 * deleted (a held call nobody can answer) and counted in *@p skipped.
 * @return the rows handed to @p fn, -EIO, -ENOMEM or @p fn's error.
 */
int cp_heldtab_load(struct cp_heldtab *t, int (*fn)(const struct cp_store_held *h, void *arg),
		    void *arg, uint64_t *skipped);

#endif /* CP_STORE_HELD_H */
