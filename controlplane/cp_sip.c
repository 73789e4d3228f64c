/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP handed up by the workers (DP_UP_SIP). The proxy / registrar issue
 * gives these their meaning (REGISTER relay, held INVITEs); today the
 * control plane checks the hand-off itself, counts, and frees the mbuf at
 * once, as it always will (DESIGN.md §7: what it keeps, it copies).
 */
#include <rte_mbuf.h>

#include "common/sw_log.h"
#include "controlplane/cp_internal.h"

/* Every slice the worker sent lies inside the message it sent. */
static bool handoff_ok(const struct rte_mbuf *m, const struct dp_meta *meta)
{
	const struct dp_sip_msg *sm = &meta->sip;

	if ((uint32_t)meta->sip_off + meta->sip_len > rte_pktmbuf_data_len(m) ||
	    sm->msg_len > meta->sip_len || sm->nhdrs > DP_SIP_MAX_HDRS)
		return false;
	for (unsigned i = 0; i < sm->nhdrs; i++)
		if ((uint32_t)sm->hdrs[i].value.off + sm->hdrs[i].value.len > sm->msg_len)
			return false;
	return (uint32_t)sm->call_id.off + sm->call_id.len <= sm->msg_len;
}

void cp_sip_in(struct cp_ctx *cp, struct rte_mbuf *m)
{
	const struct dp_meta *meta = DP_META(m);

	if (!handoff_ok(m, meta)) {
		CP_LOG(ERR, "worker %u handed up SIP with offsets outside its mbuf", meta->worker);
		cp_count_drop(cp, CP_D_SIP_BAD_HANDOFF, 1);
		rte_pktmbuf_free(m);
		return;
	}
	cp_count(cp, meta->sip.is_request ? CP_C_SIP_UP_REQUESTS : CP_C_SIP_UP_RESPONSES, 1);
	cp_count_drop(cp, CP_D_SIP_UNROUTED, 1);
	rte_pktmbuf_free(m);
}
