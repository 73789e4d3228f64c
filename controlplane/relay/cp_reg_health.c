/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PBX servers' health (pbx.servers): OPTIONS to each every
 * pbx.check_interval_s (RFC 3261 §11), any answer means up, and REGISTERs
 * move back to an earlier server that answers again; Timer F of pending
 * REGISTERs (fail over, then 408); a reloaded server list.
 *
 * Up or down, for the operator (docs/design.md §1.1, "PBX health"): a
 * server is down from a health check it left unanswered for
 * pbx.timeout_ms, up again from any answer of it (to a health check or a
 * REGISTER). What is
 * relayed does not change with it (each REGISTER is still tried, so a PBX
 * that comes back takes it at once); telemetry and the log show it.
 */
#include <stdio.h>
#include <string.h>

#include "common/sw_log.h"
#include "controlplane/relay/cp_reg_internal.h"

void cp_reg_server_heard(struct cp_ctx *cp, unsigned i)
{
	uint32_t bit = 1u << i, up = __atomic_load_n(&cp->pbx_up, __ATOMIC_RELAXED);

	if (i >= cp->n_servers || (up & bit) != 0)
		return;
	if (__atomic_load_n(&cp->pbx_known, __ATOMIC_RELAXED) & bit)
		CP_LOG(NOTICE, "pbx.servers.[%u] answers again: up", i);
	__atomic_store_n(&cp->pbx_up, up | bit, __ATOMIC_RELAXED);
	__atomic_fetch_or(&cp->pbx_known, bit, __ATOMIC_RELAXED);
}

/* One unanswered health check is enough, as for the other edges
 * (bindings/cp_peer.c): it is a WARNING at most once per interval. A lost
 * REGISTER alone is not: under load a PBX answers most and loses some, and
 * its state would flap with every one. */
static void server_silent(struct cp_ctx *cp, unsigned i)
{
	uint32_t bit = 1u << i, up = __atomic_load_n(&cp->pbx_up, __ATOMIC_RELAXED);
	bool known = __atomic_load_n(&cp->pbx_known, __ATOMIC_RELAXED) & bit;

	if (i >= cp->n_servers || (known && (up & bit) == 0))
		return;
	CP_LOG(WARNING, "pbx.servers.[%u] left its health check unanswered for %u ms: down", i,
	       cp->cfg.pbx_timeout_ms);
	cp_count(cp, CP_C_PBX_DOWN, 1);
	__atomic_store_n(&cp->pbx_up, up & ~bit, __ATOMIC_RELAXED);
	__atomic_fetch_or(&cp->pbx_known, bit, __ATOMIC_RELAXED);
}

static void health_checks(struct cp_ctx *cp, uint64_t now)
{
	struct cp_reg *r = cp->reg;

	r->check_seq++;
	r->check_sent_tsc = now;
	memset(r->answered, 0, sizeof(r->answered));
	for (unsigned i = 0; i < cp->n_servers; i++) {
		char tail[24], tag[16], to[24], cid[32];

		snprintf(tail, sizeof(tail), "%02x%08x", i, r->check_seq);
		snprintf(tag, sizeof(tag), "hc%x", r->check_seq);
		snprintf(to, sizeof(to), "%u@pbx", i);
		snprintf(cid, sizeof(cid), "hc-%u-%x", i, r->check_seq);
		cp_send_options(cp, &cp->servers[i].ip, cp->servers[i].port,
				&(struct cp_options){.kind = 'h',
						     .branch_tail = tail,
						     .tag = tag,
						     .to = to,
						     .call_id = cid,
						     .cseq = r->check_seq});
	}
}

void cp_reg_health_answer(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	const char *b = sip_ptr(msg, sm->via.branch);
	unsigned i, active = __atomic_load_n(cp->dp->pbx_active, __ATOMIC_RELAXED);

	if (sm->via.branch.len < DP_BRANCH_MAGIC_LEN + 4 ||
	    sscanf(b + DP_BRANCH_MAGIC_LEN + 2, "%2x", &i) != 1 || i >= cp->n_servers ||
	    !sw_ip_eq(&meta->src, &cp->servers[i].ip))
		return;
	cp->reg->answered[i] = 1;
	cp_reg_server_heard(cp, i);
	cp_count(cp, CP_C_PBX_CHECKS_ANSWERED, 1);
	/* The preferred (earlier) server is back: move REGISTERs back to it. */
	if (i < active && sm->status < 500) {
		__atomic_store_n(cp->dp->pbx_active, i, __ATOMIC_RELAXED);
		CP_LOG(NOTICE, "pbx.servers.[%u] answers again: REGISTERs go back to it", i);
	}
}

void cp_reg_servers_changed(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;
	unsigned n = cp->n_servers;

	__atomic_store_n(cp->dp->pbx_active, 0, __ATOMIC_RELAXED);
	memset(r->answered, 0, sizeof(r->answered));
	r->check_sent_tsc = 0;
	__atomic_store_n(&cp->pbx_known, 0, __ATOMIC_RELAXED); /* unknown until checked */
	__atomic_store_n(&cp->pbx_up, 0, __ATOMIC_RELAXED);
	r->next_check_tsc = 0; /* the new list is checked one interval from now */
	for (uint32_t i = 0; i < r->idx.max && r->idx.n_used > 0; i++) {
		struct cp_reg_tx *t = &r->tx[i];

		if (t->id == 0 || t->done)
			continue;
		if (n == 0) {
			cp_reg_tx_answer(cp, t, 503);
			cp_reg_tx_free(r, t);
			continue;
		}
		t->server = 0;
		t->tries = 1;
	}
	CP_LOG(NOTICE, "pbx.servers reloaded: %u server(s), REGISTERs go to the first", n);
}

void cp_reg_tick(struct cp_ctx *cp, uint64_t now)
{
	struct cp_reg *r = cp->reg;

	if (r->next_check_tsc == 0) /* the first check one interval after start */
		r->next_check_tsc = now + cp->hz * cp->cfg.pbx_check_s;
	if (r->check_sent_tsc != 0 &&
	    now >= r->check_sent_tsc + cp->hz * cp->cfg.pbx_timeout_ms / 1000) {
		for (unsigned i = 0; i < cp->n_servers; i++)
			if (!r->answered[i])
				server_silent(cp, i);
		r->check_sent_tsc = 0;
	}
	/* A round is judged before the next one starts: with
	 * pbx.check_interval_s shorter than pbx.timeout_ms, rounds come every
	 * pbx.timeout_ms. */
	if (now >= r->next_check_tsc && r->check_sent_tsc == 0 && cp->n_servers > 0) {
		health_checks(cp, now);
		r->next_check_tsc = now + cp->hz * cp->cfg.pbx_check_s;
	}

	cp_reg_tx_expire(r, now);
	for (uint32_t i = 0; i < r->idx.max && r->idx.n_used > 0; i++) {
		struct cp_reg_tx *t = &r->tx[i];

		if (t->id == 0 || t->done || now < t->deadline_tsc)
			continue;
		if (t->tries < cp->n_servers) {
			cp_reg_tx_fail_over(cp, t);
			continue;
		}
		/* §16.8: Timer F fired on every server: the app gets a 408. */
		cp_count(cp, CP_C_REG_TIMEOUTS, 1);
		if (t->waited != 0)
			cp_call_note(cp, t->waited, "REGISTER never answered by the PBX: 408");
		cp_reg_tx_answer(cp, t, 408);
		cp_reg_tx_free(r, t);
	}
}
