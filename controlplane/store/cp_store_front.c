/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store front end: checks, device keys, batch state and counters, then one
 * call into the backend (cp_store_internal.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/sw_clock.h"
#include "controlplane/store/cp_store_internal.h"

#define PN_SEP '\x1f' /* as sw_pn_key() */

struct cp_store *cp_store_open(const char *path, bool sync_full, char *err, size_t errlen)
{
	return cp_store_sqlite_open(path, sync_full, err, errlen);
}

void cp_store_close(struct cp_store *s)
{
	if (s == NULL)
		return;
	if (s->in_batch)
		s->be->end_batch(s, true);
	s->be->close(s);
}

static int key_part(char *out, size_t cap, size_t *at, const char *p, size_t len)
{
	if (*at + len >= cap)
		return -E2BIG;
	if (len > 0)
		memcpy(out + *at, p, len);
	*at += len;
	out[*at] = '\0';
	return 0;
}

int cp_store_device_key(const struct sw_bind_rec *r, char *out, size_t cap)
{
	const char sep = PN_SEP;
	size_t at = 0;
	int rc;

	/* Same order as sw_bind_match(): instance, push address, contact. */
	if (r->instance_len > 0) {
		rc = key_part(out, cap, &at, "i:", 2);
		rc = rc ?: key_part(out, cap, &at, r->instance, r->instance_len);
	} else if (r->pn_form != SW_PN_NONE) {
		rc = key_part(out, cap, &at, "p:", 2);
		rc = rc ?: key_part(out, cap, &at, r->pn_provider, r->pn_provider_len);
		rc = rc ?: key_part(out, cap, &at, &sep, 1);
		rc = rc ?: key_part(out, cap, &at, r->pn_prid, r->pn_prid_len);
		rc = rc ?: key_part(out, cap, &at, &sep, 1);
		rc = rc ?: key_part(out, cap, &at, r->pn_param, r->pn_param_len);
	} else {
		if (r->contact_len == 0)
			return -EINVAL;
		rc = key_part(out, cap, &at, "c:", 2);
		rc = rc ?: key_part(out, cap, &at, r->contact, r->contact_len);
	}
	return rc != 0 ? rc : (int)at;
}

/* Checks shared by put and del; fills @key. The batch is touched only after
 * them, so a bad record never costs the round its commit. */
static int prepare(struct cp_store *s, const struct sw_bind_rec *r, char *key, size_t cap)
{
	int rc = sw_bind_rec_check(r);

	if (rc != 0)
		return rc;
	rc = cp_store_device_key(r, key, cap);
	if (rc < 0)
		return rc;
	/* After a failed write the backend may have ended the transaction
	 * itself (SQLite does on a full disk): writing on would commit rows
	 * one by one. The whole batch is lost; say so at once. */
	if (s->batch_failed)
		return -EIO;
	s->in_batch = true;
	return rc;
}

int cp_store_put(struct cp_store *s, const struct sw_bind_rec *r)
{
	char key[CP_STORE_KEY_MAX];
	int klen = prepare(s, r, key, sizeof(key));
	int rc;

	if (klen < 0)
		return klen;
	rc = s->be->put(s, r, key, (size_t)klen);
	if (rc != 0) {
		s->batch_failed = true;
		return rc;
	}
	s->stats.puts++;
	return 0;
}

int cp_store_del(struct cp_store *s, const struct sw_bind_rec *r)
{
	char key[CP_STORE_KEY_MAX];
	int klen = prepare(s, r, key, sizeof(key));
	int rc;

	if (klen < 0)
		return klen;
	rc = s->be->del(s, r->aor, r->aor_len, key, (size_t)klen);
	if (rc < 0) {
		s->batch_failed = true;
		return rc;
	}
	s->stats.deletes += (unsigned)rc;
	return 0;
}

int cp_store_del_aor(struct cp_store *s, const char *aor, size_t len)
{
	int rc;

	if (len == 0)
		return -EINVAL;
	if (s->batch_failed)
		return -EIO;
	s->in_batch = true;
	rc = s->be->del_aor(s, aor, len);
	if (rc < 0) {
		s->batch_failed = true;
		return rc;
	}
	s->stats.deletes += (unsigned)rc;
	return rc;
}

struct cp_store *cp_store_open_shared(const char *path, bool sync_full, const struct cl_config *cl,
				      char *err, size_t errlen)
{
	return cp_store_redis_open(path, sync_full, cl, err, errlen);
}

struct cl *cp_store_link(const struct cp_store *s)
{
	return s->be->link != NULL ? s->be->link(s) : NULL;
}

void cp_store_set_hooks(struct cp_store *s, const struct cp_store_hooks *h)
{
	s->hooks = *h;
}

unsigned cp_store_poll(struct cp_store *s)
{
	return s->be->poll != NULL ? s->be->poll(s) : 0;
}

int cp_store_submit(struct cp_store *s, uint64_t *ticket)
{
	bool failed = s->batch_failed;
	uint64_t t0, dt;
	int rc;

	if (!s->in_batch)
		return 0;
	t0 = sw_mono_us();
	/* A batch with a failed write is rolled back whole, never sent. */
	rc = failed || s->be->submit == NULL ? s->be->end_batch(s, failed)
					     : s->be->submit(s, ticket);
	dt = sw_mono_us() - t0;
	s->in_batch = false;
	s->batch_failed = false;
	if (failed || rc < 0) {
		s->stats.commit_errors++;
		return -EIO;
	}
	s->stats.commits++;
	s->stats.last_commit_us = dt;
	if (dt > s->stats.max_commit_us)
		s->stats.max_commit_us = dt;
	return rc;
}

int cp_store_commit(struct cp_store *s)
{
	if (s->be->submit != NULL)
		return -EOPNOTSUPP;
	return cp_store_submit(s, NULL);
}

struct load_ctx {
	int (*fn)(const struct sw_bind_rec *r, void *arg);
	void *arg;
	int n;
};

static int load_one(const struct sw_bind_rec *r, void *arg)
{
	struct load_ctx *c = arg;
	int rc = c->fn(r, c->arg);

	if (rc == 0)
		c->n++;
	return rc;
}

int cp_store_load(struct cp_store *s, int64_t now_s,
		  int (*fn)(const struct sw_bind_rec *r, void *arg), void *arg)
{
	struct load_ctx c = {.fn = fn, .arg = arg};
	int rc;

	if (s->in_batch)
		return -EBUSY;
	rc = s->be->load(s, now_s, load_one, &c, &s->stats.load_expired, &s->stats.load_skipped);
	s->stats.loaded += (unsigned)c.n;
	/* A shared store hands bindings up through its hooks (with the edge
	 * that wrote each) and says how many. */
	return rc < 0 ? rc : rc > 0 ? rc : c.n;
}

const char *cp_store_error(const struct cp_store *s)
{
	return s->err;
}

void cp_store_get_stats(const struct cp_store *s, struct cp_store_stats *out)
{
#define CP_STORE_STAT_LOAD_(name, desc) \
	out->name = __atomic_load_n(&s->stats.name, __ATOMIC_RELAXED);
	CP_STORE_STATS(CP_STORE_STAT_LOAD_)
#undef CP_STORE_STAT_LOAD_
}

/* The journal of held calls joins the batch as bindings do: a failed write
 * loses the whole batch (cp_store_submit() rolls it back). */
static int held_begin(struct cp_store *s)
{
	if (s->batch_failed)
		return -EIO;
	s->in_batch = true;
	return 0;
}

int cp_store_held_put(struct cp_store *s, const struct cp_store_held *h)
{
	int rc;

	if (h->key_len == 0 || h->inv_len == 0)
		return -EINVAL;
	rc = held_begin(s) ?: s->be->held_put(s, h);
	if (rc != 0)
		s->batch_failed = true;
	return rc;
}

int cp_store_held_del(struct cp_store *s, const char *key, size_t len)
{
	int rc;

	if (len == 0)
		return -EINVAL;
	rc = held_begin(s) ?: s->be->held_del(s, key, len);
	if (rc < 0) {
		s->batch_failed = true;
		return rc;
	}
	return 0;
}

int cp_store_held_load(struct cp_store *s, int (*fn)(const struct cp_store_held *h, void *arg),
		       void *arg)
{
	if (s->in_batch)
		return -EBUSY;
	return s->be->held_load(s, fn, arg, &s->stats.load_skipped);
}
