/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A batch of changes (cl.h), built by the control plane over a round and
 * handed to cl_submit(). Each change's strings are copied into one
 * allocation; nothing here knows Redis.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cl_internal.h"

struct cl_batch *cl_batch_new(void)
{
	return calloc(1, sizeof(struct cl_batch));
}

void cl_batch_free(struct cl_batch *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < b->n; i++)
		free(b->v[i]);
	free(b->v);
	free(b);
}

void cl_batch_no_wait(struct cl_batch *b)
{
	b->no_wait = true;
}

unsigned cl_batch_len(const struct cl_batch *b)
{
	return b ? b->n : 0;
}

/* The binding's key is "<prefix>b:<aor>\x1f<key>": an AOR holding the
 * separator would make two bindings' keys ambiguous. */
static int add(struct cl_batch *b, enum cl_change kind, const struct cl_binding *r)
{
	size_t klen = kind == CL_DEL_AOR ? 0 : r->key_len;
	size_t vlen = kind == CL_PUT ? r->val_len : 0;
	struct cl_chg *c;

	if (!b || !r || !r->aor || !r->aor_len || memchr(r->aor, CL_KEY_SEP, r->aor_len))
		return -EINVAL;
	if (kind != CL_DEL_AOR && (!r->key || !klen))
		return -EINVAL;
	if (vlen && !r->val)
		return -EINVAL;
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 8;
		struct cl_chg **v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	c = malloc(sizeof(*c) + r->aor_len + klen + vlen);
	if (!c)
		return -ENOMEM;
	c->kind = kind;
	c->stamp = r->stamp;
	c->expires_at = kind == CL_PUT ? r->expires_at : 0;
	c->aor_len = r->aor_len;
	c->key_len = klen;
	c->val_len = vlen;
	memcpy(c->data, r->aor, r->aor_len);
	if (klen)
		memcpy(c->data + r->aor_len, r->key, klen);
	if (vlen)
		memcpy(c->data + r->aor_len + klen, r->val, vlen);
	b->v[b->n++] = c;
	return 0;
}

int cl_batch_put(struct cl_batch *b, const struct cl_binding *r)
{
	return add(b, CL_PUT, r);
}

int cl_batch_del(struct cl_batch *b, const struct cl_binding *r)
{
	return add(b, CL_DEL, r);
}

int cl_batch_del_aor(struct cl_batch *b, const struct cl_binding *r)
{
	return add(b, CL_DEL_AOR, r);
}
