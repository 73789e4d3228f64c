/* SPDX-License-Identifier: BSD-3-Clause */
/* Rings on ordinary memory (common/sw_ring.h). */
#include <stdlib.h>
#include <sys/types.h>

#include <rte_common.h>
#include <rte_ring.h>

#include "common/sw_ring.h"

struct rte_ring *sw_ring_plain(unsigned size, const char *name, void **mem)
{
	ssize_t sz = rte_ring_get_memsize(size);
	struct rte_ring *r;

	if (sz < 0)
		return NULL;
	/* rte_ring_init() on plain memory: no EAL or hugepages needed. */
	*mem = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)sz, RTE_CACHE_LINE_SIZE));
	if (!*mem)
		return NULL;
	r = *mem;
	if (rte_ring_init(r, name, size, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		free(*mem);
		*mem = NULL;
		return NULL;
	}
	return r;
}
