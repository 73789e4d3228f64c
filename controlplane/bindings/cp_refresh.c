/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Refresh-push marks (cp_refresh.h): open addressing with linear probing,
 * keyed by device id. No deletion in place (no tombstones to reason about):
 * a forgotten or expired entry keeps its slot until the table is three
 * quarters used, then the live entries are copied into a fresh array. Live
 * entries are about one per device in its refresh window, so that copy is
 * rare (at most once per quarter of the slots inserted) and lookups stay
 * short (load <= 3/4).
 */
#include <errno.h>
#include <stdlib.h>

#include "controlplane/bindings/cp_refresh.h"

struct cp_refresh {
	struct cp_refresh_entry *slot; /* id 0: empty */
	uint32_t mask;		       /* slots - 1, a power of 2 */
	uint32_t used;		       /* slots with an id */
};

/* Device ids are sequential: Fibonacci hashing spreads them evenly. */
static uint32_t slot_of(const struct cp_refresh *r, uint64_t id)
{
	return (uint32_t)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & r->mask;
}

struct cp_refresh *cp_refresh_create(unsigned max_devices)
{
	struct cp_refresh *r = calloc(1, sizeof(*r));
	uint64_t n = 16;

	if (r == NULL)
		return NULL;
	while (n < 2 * (uint64_t)max_devices)
		n <<= 1;
	r->mask = (uint32_t)(n - 1);
	r->slot = calloc(n, sizeof(*r->slot));
	if (r->slot == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void cp_refresh_free(struct cp_refresh *r)
{
	if (r == NULL)
		return;
	free(r->slot);
	free(r);
}

static struct cp_refresh_entry *lookup(const struct cp_refresh *r, uint64_t id)
{
	/* Ends: used < slots, so some slot is empty. */
	for (uint32_t i = slot_of(r, id);; i = (i + 1) & r->mask) {
		if (r->slot[i].id == id)
			return &r->slot[i];
		if (r->slot[i].id == 0)
			return NULL;
	}
}

const struct cp_refresh_entry *cp_refresh_find(const struct cp_refresh *r, uint64_t id)
{
	return id != 0 ? lookup(r, id) : NULL;
}

static void insert(struct cp_refresh *r, const struct cp_refresh_entry *e)
{
	uint32_t i = slot_of(r, e->id);

	while (r->slot[i].id != 0)
		i = (i + 1) & r->mask;
	r->slot[i] = *e;
	r->used++;
}

/* Keep only the entries still live at @now_s. */
static int compact(struct cp_refresh *r, int64_t now_s)
{
	struct cp_refresh_entry *old = r->slot;
	uint32_t n = r->mask + 1;

	r->slot = calloc(n, sizeof(*r->slot));
	if (r->slot == NULL) {
		r->slot = old;
		return -ENOMEM;
	}
	r->used = 0;
	for (uint32_t i = 0; i < n; i++)
		if (old[i].id != 0 && old[i].expires_at > now_s)
			insert(r, &old[i]);
	free(old);
	return 0;
}

int cp_refresh_note(struct cp_refresh *r, const struct cp_refresh_entry *e, int64_t now_s)
{
	struct cp_refresh_entry *s;
	uint64_t limit = (uint64_t)(r->mask + 1) / 4 * 3;

	if (e->id == 0)
		return -EINVAL;
	s = lookup(r, e->id);
	if (s != NULL) {
		*s = *e;
		return 0;
	}
	if (r->used + 1 > limit) {
		int rc = compact(r, now_s);

		if (rc != 0)
			return rc;
		if (r->used + 1 > limit)
			return -ENOSPC;
	}
	insert(r, e);
	return 0;
}

void cp_refresh_forget(struct cp_refresh *r, uint64_t id)
{
	struct cp_refresh_entry *s = id != 0 ? lookup(r, id) : NULL;

	/* Dead (compact() drops it) and matching no registration. */
	if (s != NULL)
		*s = (struct cp_refresh_entry){.id = id};
}

unsigned cp_refresh_used(const struct cp_refresh *r)
{
	return r->used;
}
