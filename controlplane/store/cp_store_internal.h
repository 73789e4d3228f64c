/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store internals: the backend table cp_store_front.c dispatches over, and the
 * state every backend shares. A backend embeds struct cp_store first in its
 * own struct. cp_store_front.c validates records, computes device keys and keeps
 * the counters; a backend only moves rows.
 */
#ifndef CP_STORE_INTERNAL_H
#define CP_STORE_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "controlplane/store/cp_store.h"

struct cp_store_backend {
	const char *name;
	/* Each write joins the open batch, beginning it if there is none.
	 * 0 or -EIO (with the error set); @key is the device key. */
	int (*put)(struct cp_store *s, const struct sw_bind_rec *r, const char *key, size_t klen);
	int (*del)(struct cp_store *s, const char *aor, size_t alen, const char *key, size_t klen);
	/* Rows deleted, or -EIO. */
	int (*del_aor)(struct cp_store *s, const char *aor, size_t alen);
	/* Commit the open batch (or roll it back when @rollback, or when the
	 * commit fails). 0 or -EIO. Called only with a batch open. */
	int (*end_batch)(struct cp_store *s, bool rollback);
	/* Delete rows expired at @now_s (count into *@expired), then hand out
	 * the rest; rows that do not read back are counted into *@skipped.
	 * 0 or -errno; a shared store may hand rows to its hooks' change()
	 * instead (they carry the edge that wrote them) and return how many. */
	int (*load)(struct cp_store *s, int64_t now_s,
		    int (*fn)(const struct sw_bind_rec *r, void *arg), void *arg, uint64_t *expired,
		    uint64_t *skipped);
	void (*close)(struct cp_store *s);
	/* The journal of held calls (cp_store_held.h), in the open batch:
	 * 0 / rows deleted, or -EIO (with the error set); load: as
	 * cp_store_held_load(). */
	int (*held_put)(struct cp_store *s, const struct cp_store_held *h);
	int (*held_del)(struct cp_store *s, const char *key, size_t len);
	int (*held_load)(struct cp_store *s, int (*fn)(const struct cp_store_held *h, void *arg),
			 void *arg, uint64_t *skipped);
	/* Shared backends only (NULL otherwise): end the batch without
	 * waiting (cp_store_submit()), and move traffic (cp_store_poll()). */
	int (*submit)(struct cp_store *s, uint64_t *ticket);
	unsigned (*poll)(struct cp_store *s);
	struct cl *(*link)(const struct cp_store *s);
};

struct cp_store {
	const struct cp_store_backend *be;
	struct cp_store_stats stats;
	bool in_batch;	   /* a write since the last commit */
	bool batch_failed; /* a write of this batch failed: commit rolls back */
	struct cp_store_hooks hooks;
	char path[256]; /* for messages, truncated if longer */
	char err[512];
};

/** Set a counter another thread may read (cp_store_get_stats()). */
#define CP_STORE_SET(s, f, v) __atomic_store_n(&(s)->stats.f, (v), __ATOMIC_RELAXED)
#define CP_STORE_ADD(s, f, n) CP_STORE_SET(s, f, (s)->stats.f + (n))

/** Set @s's error to "bindings.store <path>: <fmt...>". Inline: every
 *  backend sets errors, and backends stand below cp_store_front.c. */
static inline __attribute__((format(printf, 2, 3))) void cp_store_set_error(struct cp_store *s,
									    const char *fmt, ...)
{
	int n = snprintf(s->err, sizeof(s->err), "bindings.store %s: ", s->path);
	va_list ap;

	if (n < 0 || (size_t)n >= sizeof(s->err))
		return;
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

/** Fill the shared part of a backend's store. */
static inline void cp_store_init(struct cp_store *s, const struct cp_store_backend *be,
				 const char *path)
{
	memset(s, 0, sizeof(*s));
	s->be = be;
	snprintf(s->path, sizeof(s->path), "%s", path);
}

/** The SQLite backend (cp_store_sqlite.c); arguments as cp_store_open(). */
struct cp_store *cp_store_sqlite_open(const char *path, bool sync_full, char *err, size_t errlen);

/** The Redis backend (cp_store_redis.c); arguments as cp_store_open_shared(). */
struct cp_store *cp_store_redis_open(const char *path, bool sync_full, const struct cl_config *cl,
				     char *err, size_t errlen);

/** @p ip as text ("192.0.2.1", "2001:db8::1") into @p buf; as stored (cp_store_codec.c). */
const char *cp_store_ip_text(const struct sw_ip *ip, char *buf, size_t cap);
/** Text as cp_store_ip_text() writes it back into @p ip; false if it is not. */
bool cp_store_ip_parse(const char *s, struct sw_ip *ip);

struct sqlite3;
/** The SQLite connection of a store opened by cp_store_sqlite_open() (the
 *  Redis backend keeps its journal in it; tests read it). */
struct sqlite3 *cp_store_sqlite_db(struct cp_store *s);

#endif /* CP_STORE_INTERNAL_H */
