/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lowest output step of the control plane: a finished frame onto a
 * worker's down ring (dataplane/dp_ring.h), which only queues it for TX.
 * Everything that sends (neighbour resolution, UDP datagrams) calls down to
 * here.
 */
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "controlplane/cp_internal.h"

void cp_send(struct cp_ctx *cp, unsigned worker, unsigned ifx, struct rte_mbuf *m)
{
	DP_META(m)->iface = (uint8_t)ifx;
	/* SP: this thread is the only producer of every down ring. */
	if (rte_ring_sp_enqueue(cp->dp->workers[worker].down, m) != 0) {
		cp_count_drop(cp, CP_D_DOWN_RING_FULL, 1);
		rte_pktmbuf_free(m);
	}
}
