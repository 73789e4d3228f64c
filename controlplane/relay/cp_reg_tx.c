/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The REGISTER relay's pending transactions (RFC 3261 §17.2.3 keys in a
 * common/sw_txidx.h index): made, found by the app's key or by the id our
 * Via branch carries, sent (again) to a server, failed over, answered by
 * us, freed. The lowest step of relay/: the relay's other files call it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/relay/cp_reg_internal.h"
#include "pushd/pd.h"

int cp_reg_init(struct cp_ctx *cp)
{
	struct cp_reg *r = calloc(1, sizeof(*r));
	uint32_t max = cp->cfg.max_pending;

	if (r == NULL)
		return -ENOMEM;
	r->tx = calloc(max, sizeof(*r->tx));
	r->max_out = max;
	r->out = calloc(r->max_out, sizeof(*r->out));
	r->done_q = calloc(max, sizeof(*r->done_q));
	if (r->tx == NULL || r->out == NULL || r->done_q == NULL ||
	    SW_TXIDX_INIT(&r->idx, max, r->tx, app) != 0) {
		free(r->tx);
		free(r->out);
		free(r->done_q);
		free(r);
		return -ENOMEM;
	}
	r->gen = 1;
	cp->reg = r;
	cp_reg_fcaps(cp);
	return 0;
}

void cp_reg_fcaps(struct cp_ctx *cp)
{
	const struct pd_config *push = &cp->cfg.push;
	char *f = cp->reg->fcaps, k[96];
	size_t cap = sizeof(cp->reg->fcaps);
	int n;

	if (cp->reg == NULL)
		return;
	/* RFC 8599 §5.6.1.1: the services this edge can push through. */
	f[0] = '\0';
	if (push->n_apns + push->n_fcm + push->n_webpush == 0)
		return;
	n = snprintf(f, cap, "*;+sip.pns=\"%s%s%s%s%s\"", push->n_apns ? "apns" : "",
		     push->n_apns && push->n_fcm ? "," : "", push->n_fcm ? "fcm" : "",
		     push->n_webpush && push->n_apns + push->n_fcm ? "," : "",
		     push->n_webpush ? "webpush" : "");
	/* RFC 8599 (its Web Push part): +sip.vapid, the key a web app subscribes with
	 * (applicationServerKey), so that only this edge can push to it. */
	if (cp->pd != NULL && pd_vapid_key(cp->pd, k, sizeof(k)) == 0 && n > 0 && (size_t)n < cap)
		snprintf(f + n, cap - (size_t)n, ";+sip.vapid=\"%s\"", k);
}

void cp_reg_fini(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;

	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->idx.max; i++) {
		free(r->tx[i].req);
		free(r->tx[i].resp);
	}
	free(r->done_q);
	for (uint32_t i = 0; i < r->n_out; i++)
		free(r->out[i].b);
	sw_txidx_fini(&r->idx);
	free(r->tx);
	free(r->out);
	free(r);
	cp->reg = NULL;
}

struct cp_reg_tx *cp_reg_tx_find(struct cp_reg *r, const struct sw_ip *ip, uint16_t port,
				 const char *branch, size_t len)
{
	uint32_t slot = sw_txidx_find(&r->idx, ip, port, branch, len);

	return slot == SW_TX_NONE ? NULL : &r->tx[slot];
}

struct cp_reg_tx *cp_reg_tx_by_id(struct cp_reg *r, uint64_t id)
{
	uint32_t slot = (uint32_t)id;

	if (slot >= r->idx.max || r->tx[slot].id != id || id == 0)
		return NULL;
	return &r->tx[slot];
}

struct cp_reg_tx *cp_reg_tx_new(struct cp_reg *r, const struct sw_ip *ip, uint16_t port,
				const char *branch, size_t len)
{
	struct cp_reg_tx *t;
	uint32_t slot;

	if (len > SW_TX_BRANCH_MAX)
		return NULL;
	slot = sw_txidx_take(&r->idx);
	/* None free: the oldest completed one gives its slot up (its Timer J
	 * cut short: a late retransmission of it goes to the PBX anew). */
	while (slot == SW_TX_NONE && r->done_n > 0) {
		uint64_t id = r->done_q[r->done_head];

		r->done_head = (r->done_head + 1) % r->idx.max;
		r->done_n--;
		t = cp_reg_tx_by_id(r, id);
		if (t != NULL && t->done) {
			cp_reg_tx_free(r, t);
			slot = sw_txidx_take(&r->idx);
		}
	}
	if (slot == SW_TX_NONE)
		return NULL;
	t = &r->tx[slot];
	memset(t, 0, sizeof(*t));
	t->id = slot | (uint64_t)r->gen++ << 32;
	if (r->gen == 0)
		r->gen = 1;
	sw_txkey_set(&t->app, ip, port, branch, len);
	sw_txidx_link(&r->idx, slot);
	return t;
}

void cp_reg_tx_free(struct cp_reg *r, struct cp_reg_tx *t)
{
	sw_txidx_put(&r->idx, (uint32_t)t->id);
	free(t->req);
	free(t->resp);
	memset(t, 0, sizeof(*t));
}

void cp_reg_tx_done(struct cp_ctx *cp, struct cp_reg_tx *t, const char *b, uint16_t len, bool ready)
{
	struct cp_reg *r = cp->reg;
	char *copy = t->tp == SW_TP_UDP ? malloc(len) : NULL;

	/* A completed transaction is queued once, and each slot is at most
	 * one transaction: the queue never holds more than the table. */
	if (copy == NULL || r->done_n == r->idx.max) {
		free(copy);
		cp_reg_tx_free(r, t);
		return;
	}
	memcpy(copy, b, len);
	free(t->req);
	t->req = NULL;
	t->req_len = 0;
	t->resp = copy;
	t->resp_len = len;
	t->done = true;
	t->ready = ready;
	t->deadline_tsc = rte_rdtsc() + cp->hz * CP_REG_TIMER_J_MS / 1000;
	r->done_q[(r->done_head + r->done_n) % r->idx.max] = t->id;
	r->done_n++;
}

void cp_reg_tx_expire(struct cp_reg *r, uint64_t now)
{
	/* Timer J is the same for all: the oldest completed ends first. Ids
	 * whose transaction went another way are dropped on the way. */
	while (r->done_n > 0) {
		struct cp_reg_tx *t = cp_reg_tx_by_id(r, r->done_q[r->done_head]);

		if (t != NULL && t->done) {
			if (now < t->deadline_tsc)
				return;
			cp_reg_tx_free(r, t);
		}
		r->done_head = (r->done_head + 1) % r->idx.max;
		r->done_n--;
	}
}

void cp_reg_tx_ready(struct cp_reg *r, uint64_t id, bool sent)
{
	struct cp_reg_tx *t = cp_reg_tx_by_id(r, id);

	if (t == NULL || !t->done)
		return;
	if (sent)
		t->ready = true;
	else
		cp_reg_tx_free(r, t);
}

int cp_reg_tx_send(struct cp_ctx *cp, struct cp_reg_tx *t)
{
	t->deadline_tsc = rte_rdtsc() + cp->hz * cp->cfg.pbx_timeout_ms / 1000;
	return cp_reg_tx_resend(cp, t);
}

int cp_reg_tx_resend(struct cp_ctx *cp, const struct cp_reg_tx *t)
{
	const struct dp_server *sv = &cp->servers[t->server];

	return cp_udp_send(cp, &sv->ip, sv->port, t->req, t->req_len);
}

void cp_reg_tx_fail_over(struct cp_ctx *cp, struct cp_reg_tx *t)
{
	unsigned n = cp->n_servers;
	uint32_t next = (t->server + 1u) % n;

	/* Later REGISTERs go to the next server too; the health checks move
	 * it back when the first one answers again. */
	if (__atomic_load_n(cp->dp->pbx_active, __ATOMIC_RELAXED) == t->server) {
		__atomic_store_n(cp->dp->pbx_active, next, __ATOMIC_RELAXED);
		CP_LOG(WARNING, "pbx.servers.[%u] did not answer: failing over to [%u]", t->server,
		       next);
	}
	cp_count(cp, CP_C_PBX_FAILOVERS, 1);
	t->server = (uint8_t)next;
	t->tries++;
	cp_reg_tx_send(cp, t);
}

/*
 * An answer of our own to the app for a relayed REGISTER (408 when no server
 * answered, 500 when the binding could not be kept, 503 when no server is
 * left): built from the relayed request, whose second Via is the app's,
 * already stamped.
 */
void cp_reg_tx_answer(struct cp_ctx *cp, const struct cp_reg_tx *t, unsigned status)
{
	const struct cp_answer_how how = {.tag = (uint32_t)(t->id >> 32),
					  .dst = &t->app.ip,
					  .dport = t->app.port,
					  .tp = t->tp,
					  .conn = t->conn};

	if (sip_scan((const uint8_t *)t->req, t->req_len, &cp->reg->sm) == SIP_SCAN_OK)
		cp_answer(cp, (const uint8_t *)t->req, &cp->reg->sm, status, &how);
}
