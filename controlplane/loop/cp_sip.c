/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP handed up by the workers (DP_UP_SIP): REGISTERs and the answers to
 * the ones we relayed (cp_reg.c), calls on the wake path and the devices'
 * answers on their branches (cp_call.c), answers to our pings. The mbuf is freed
 * here at once (docs/design.md §3: what the control plane keeps, it copies).
 */
#include <string.h>

#include <rte_mbuf.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/cp_internal.h"

/* Every slice the worker sent lies inside the message it sent. */
static bool handoff_ok(const struct rte_mbuf *m, const struct dp_meta *meta)
{
	const struct sip_msg *sm = &meta->sip;

	if ((uint32_t)meta->sip_off + meta->sip_len > rte_pktmbuf_data_len(m) ||
	    sm->msg_len > meta->sip_len || sm->nhdrs > SIP_MAX_HDRS)
		return false;
	for (unsigned i = 0; i < sm->nhdrs; i++)
		if ((uint32_t)sm->hdrs[i].value.off + sm->hdrs[i].value.len > sm->msg_len)
			return false;
	return (uint32_t)sm->call_id.off + sm->call_id.len <= sm->msg_len;
}

/* The PBX, or another edge relaying the PBX's request for a device bound
 * through this one (docs/cluster.md): the same to the wake path. */
static bool from_pbx(const struct dp_meta *meta)
{
	return meta->src_class == DP_SRC_PBX || meta->src_class == DP_SRC_PEER;
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
	const uint8_t *msg = rte_pktmbuf_mtod_offset(m, const uint8_t *, meta->sip_off);
	const struct sip_msg *sm = &meta->sip;

	cp_count(cp, sm->is_request ? CP_C_SIP_UP_REQUESTS : CP_C_SIP_UP_RESPONSES, 1);
	if (sm->is_request && sm->method == SIP_M_REGISTER) {
		cp_reg_request(cp, meta, msg);
	} else if (!sm->is_request && cp_branch_kind(msg, sm) == 'r') {
		cp_reg_response(cp, meta, msg);
	} else if (!sm->is_request && cp_branch_kind(msg, sm) == 'h') {
		cp_reg_health_answer(cp, meta, msg);
	} else if (!sm->is_request && cp_branch_kind(msg, sm) == 'i') {
		cp_call_response(cp, meta, msg);
	} else if (!sm->is_request && cp_branch_kind(msg, sm) == 'p') {
		cp_ping_answer(cp, meta, msg);
	} else if (!sm->is_request && cp_branch_kind(msg, sm) == CP_BRANCH_TO_PBX) {
		cp_stream_answer_from_pbx(cp, meta, msg);
	} else if (!sm->is_request && cp_branch_kind(msg, sm) == 'e') {
		cp_peer_answer(cp, meta, msg);
	} else if (sm->is_request && from_pbx(meta) && meta->call.why == DP_CALL_STREAM &&
		   !(sm->method == SIP_M_INVITE && sm->to.tag.len == 0)) {
		/* In a dialog with a device on a stream: its connection. A new
		 * call takes the wake path below, which sends it down the
		 * connection at once while it is open and pushes otherwise. */
		cp_stream_to_device(cp, meta, msg);
	} else if (sm->is_request && from_pbx(meta)) {
		/* A call for an asleep device, for an AOR with several devices
		 * (a fork), under a push policy, or a request of a call already
		 * held: the stateful wake path. */
		cp_call_request(cp, meta, msg);
	} else {
		cp_count_drop(cp, CP_D_SIP_UNROUTED, 1);
	}
	rte_pktmbuf_free(m);
}
