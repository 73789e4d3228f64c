/* SPDX-License-Identifier: BSD-3-Clause */
/* TEMPORARY: replaced by the store branch. */
#include <errno.h>
#include "controlplane/cp_store.h"
static char dummy;
struct cp_store *cp_store_open(const char *path, bool sync_full, char *err, size_t errlen)
{
	(void)path;
	(void)sync_full;
	(void)err;
	(void)errlen;
	return (struct cp_store *)&dummy;
}
int cp_store_put(struct cp_store *s, const struct sw_bind_rec *r)
{
	(void)s;
	(void)r;
	return 0;
}
int cp_store_del(struct cp_store *s, const struct sw_bind_rec *r)
{
	(void)s;
	(void)r;
	return 0;
}
int cp_store_del_aor(struct cp_store *s, const char *aor, size_t len)
{
	(void)s;
	(void)aor;
	(void)len;
	return 0;
}
int cp_store_commit(struct cp_store *s)
{
	(void)s;
	return 0;
}
const char *cp_store_error(const struct cp_store *s)
{
	(void)s;
	return "";
}
int cp_store_load(struct cp_store *s, int64_t now_s,
		  int (*fn)(const struct sw_bind_rec *r, void *arg), void *arg)
{
	(void)s;
	(void)now_s;
	(void)fn;
	(void)arg;
	return 0;
}
void cp_store_close(struct cp_store *s)
{
	(void)s;
}
