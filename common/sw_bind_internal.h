/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The binding table's internals (sw_bind.h is the contract), shared by its
 * files:
 *   sw_bind.c        the indexes: the table, its lookups, and a device
 *                    linked into, unlinked from or swapped in every index
 *   sw_bind_key.c    the canonical keys: push address, AOR, %-unescaping
 *   sw_bind_write.c  the writer: device records, put / replace / delete /
 *                    expire, the source table kept in step
 */
#ifndef SW_BIND_INTERNAL_H
#define SW_BIND_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/sw_bind.h"
#include "common/sw_rcu.h"

/* Between the fields of a push key (sw_pn_key()); refused inside a field. */
#define SW_PN_SEP '\x1f'

/*
 * One device: its five index nodes, the public view and its strings, in one
 * allocation (~210 bytes plus the strings: 515 bytes a device in bench_bind).
 */
struct sw_bind_dev {
	struct sw_rcu_entry head; /* first: freed through it; its node is the id index's */
	struct cds_lfht_node n_aor, n_pn, n_contact;
	/* Writer-side index by source: when the device a shared source names
	 * goes, the source is handed to another device on it (sw_bind_on_src()). */
	struct cds_lfht_node n_src;
	uint32_t bytes;
	struct sw_device pub;
	char s[];
};

struct sw_bind_table {
	struct cds_lfht *id, *aor, *pn, *contact, *bysrc;
	struct sw_src_table *src;
	unsigned max, count; /* writer-owned */
	uint64_t next_id;
	size_t bytes;
};

static inline bool sw_bind_has_pn(const struct sw_device *d)
{
	return d->pn_form != SW_PN_NONE;
}

static inline bool sw_bind_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static inline struct sw_bind_dev *sw_bind_dev_of(const struct sw_device *p)
{
	return caa_container_of((struct sw_device *)(uintptr_t)p, struct sw_bind_dev, pub);
}

/* sw_bind.c: the indexes, the writer's side. */

/** Link the new device @p d into every index (the id index last). */
void sw_bind_link(struct sw_bind_table *t, struct sw_bind_dev *d);

/** Unlink @p d from every index; the caller frees it after a grace period. */
void sw_bind_unlink(struct sw_bind_table *t, struct sw_bind_dev *d);

/** Put @p nw in place of @p old (same id, same AOR) in every index. */
void sw_bind_swap(struct sw_bind_table *t, struct sw_bind_dev *old, struct sw_bind_dev *nw);

/** A device registered from @p ip : @p port (the writer's index), or NULL. */
const struct sw_device *sw_bind_on_src(const struct sw_bind_table *t, const struct sw_ip *ip,
				       uint16_t port);

#endif /* SW_BIND_INTERNAL_H */
