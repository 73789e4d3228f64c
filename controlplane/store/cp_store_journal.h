/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of a store shared through Redis (docs/cluster.md, "Losing
 * Redis"): the changes Redis has not acknowledged, in order, in a table of
 * the local SQLite file (bindings.store), so that a REGISTER answered while
 * Redis is away is durable here and replayed to Redis when it is back.
 */
#ifndef CP_STORE_JOURNAL_H
#define CP_STORE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/cl.h"

struct sqlite3;
struct cp_journal;

/** One change; strings borrowed. */
struct cp_journal_op {
	enum cl_change kind;
	struct cl_binding b; /**< edge unused */
	int64_t seq;	     /**< read back: its place in the journal */
};

/** The journal in @p db (its table made if missing). NULL: @p err says why. */
struct cp_journal *cp_journal_open(struct sqlite3 *db, char *err, size_t errlen);
void cp_journal_close(struct cp_journal *j);

/** Append @p n changes in one transaction, durable when it returns 0 (-EIO). */
int cp_journal_append(struct cp_journal *j, const struct cp_journal_op *ops, unsigned n);

/** Hand up to @p max changes after seq @p after to @p fn, in order.
 *  @return how many, or -EIO. */
int cp_journal_read(struct cp_journal *j, int64_t after, unsigned max,
		    void (*fn)(const struct cp_journal_op *op, void *arg), void *arg);

/** Forget every change up to seq @p upto (they are in Redis). 0 or -EIO. */
int cp_journal_trim(struct cp_journal *j, int64_t upto);

/** Changes in the journal now. */
uint64_t cp_journal_depth(const struct cp_journal *j);

/** The last error ("" none). */
const char *cp_journal_error(const struct cp_journal *j);

#endif /* CP_STORE_JOURNAL_H */
