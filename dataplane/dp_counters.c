/* SPDX-License-Identifier: BSD-3-Clause */
#include "dataplane/dp_counters.h"

/* The drop list must embed the scanner's reasons in their order. */
_Static_assert(DP_D_BAD_MAX_FORWARDS - DP_D_TRUNCATED ==
		       SIP_ERR_BAD_MAX_FORWARDS - SIP_ERR_TRUNCATED,
	       "DP_FOREACH_DROP must include SIP_FOREACH_ERROR whole");

#define DP_X_NAME(e, name, desc) #name,
#define DP_X_DESC(e, name, desc) desc,
const char *const dp_counter_names[DP_C_MAX] = {DP_FOREACH_COUNTER(DP_X_NAME)};
const char *const dp_counter_descs[DP_C_MAX] = {DP_FOREACH_COUNTER(DP_X_DESC)};
const char *const dp_drop_names[DP_D_MAX] = {DP_FOREACH_DROP(DP_X_NAME)};
const char *const dp_drop_descs[DP_D_MAX] = {DP_FOREACH_DROP(DP_X_DESC)};

void dp_counters_add(struct dp_counters *out, const struct dp_counters *blk)
{
	for (unsigned i = 0; i < DP_C_MAX; i++)
		out->c[i] += __atomic_load_n(&blk->c[i], __ATOMIC_RELAXED);
	for (unsigned i = 0; i < DP_D_MAX; i++)
		out->drop[i] += __atomic_load_n(&blk->drop[i], __ATOMIC_RELAXED);
}
