/* SPDX-License-Identifier: BSD-3-Clause */
/* TEMPORARY: replaced by the store branch. */
#ifndef CP_STORE_H
#define CP_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/sw_bind.h"
struct cp_store;
struct cp_store *cp_store_open(const char *path, bool sync_full, char *err, size_t errlen);
int cp_store_put(struct cp_store *s, const struct sw_bind_rec *r);
int cp_store_del(struct cp_store *s, const struct sw_bind_rec *r);
int cp_store_del_aor(struct cp_store *s, const char *aor, size_t len);
int cp_store_commit(struct cp_store *s);
const char *cp_store_error(const struct cp_store *s);
int cp_store_load(struct cp_store *s, int64_t now_s,
		  int (*fn)(const struct sw_bind_rec *r, void *arg), void *arg);
void cp_store_close(struct cp_store *s);
#endif
