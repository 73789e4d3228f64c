/* SPDX-License-Identifier: BSD-3-Clause */
/* The wake path (placeholder while it is written): 480 at once. */
#include <stdlib.h>

#include "controlplane/cp_internal.h"
#include "pushd/pd.h"

int cp_call_init(struct cp_ctx *cp)
{
	(void)cp;
	return 0;
}
void cp_call_fini(struct cp_ctx *cp)
{
	(void)cp;
}
void cp_call_request(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	if (meta->sip.method == DP_SIP_M_ACK)
		return;
	cp_count(cp, CP_C_CALLS_480, 1);
	cp_sip_reply(cp, meta, msg, 480);
}
void cp_call_response(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	(void)cp, (void)meta, (void)msg;
}
void cp_call_registered(struct cp_ctx *cp, uint64_t id)
{
	(void)cp, (void)id;
}
void cp_call_poll_push(struct cp_ctx *cp)
{
	struct pd_result *res[32];
	unsigned n;

	if (cp->pd == NULL)
		return;
	n = pd_poll_results(cp->pd, res, 32);
	for (unsigned i = 0; i < n; i++) {
		if (res[i]->id & CP_PUSH_REFRESH)
			cp_bind_push_result(cp, res[i]);
		free(res[i]);
	}
}
void cp_call_tick(struct cp_ctx *cp, uint64_t now)
{
	(void)cp, (void)now;
}
void cp_call_shutdown(struct cp_ctx *cp)
{
	(void)cp;
}
