/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>

#include <urcu/urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include <rte_common.h>

#include "common/sw_rcu.h"

struct cds_lfht *sw_lfht_new(unsigned max)
{
	unsigned long buckets = rte_align32pow2(max < 16 ? 16 : max);

	return cds_lfht_new_flavor(buckets, buckets, buckets, 0, &urcu_qsbr_flavor, NULL);
}

void sw_rcu_barrier(void)
{
	bool online = urcu_qsbr_read_ongoing();

	if (online)
		urcu_qsbr_thread_offline();
	urcu_qsbr_barrier();
	if (online)
		urcu_qsbr_thread_online();
}
