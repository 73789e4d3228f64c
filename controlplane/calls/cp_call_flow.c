/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path's flows (see cp_call.c for the whole picture): INVITE,
 * CANCEL and ACK from the PBX, the devices' answers on our branches, the
 * wake itself (an accepted REGISTER) and push results.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/bindings/cp_push_addr.h"
#include "controlplane/calls/cp_call.h"
#include "controlplane/store/cp_store.h"
#include "pushd/pd.h"

/* ---- PBX requests ------------------------------------------------------- */

static void invite_in(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	uint64_t now = rte_rdtsc();
	/* The worker found the devices and saw which were alive (struct
	 * dp_call): decided once, acted on here. */
	const struct dp_call *v = &meta->call;
	struct cp_held_call *c;
	unsigned pushes = 0, ring_full = 0, policy = cp->cfg.wake_policy;
	unsigned n = RTE_MIN((unsigned)v->n, (unsigned)CP_CALL_MAX_BRANCHES);

	if (n == 0) {
		cp_trace(cp, sw_callset_key(sip_ptr(msg, sm->call_id), sm->call_id.len),
			 "INVITE for %.*s@%.*s: no device bound: 480", sm->ruri.user.len,
			 sip_ptr(msg, sm->ruri.user), sm->ruri.host.len,
			 sip_ptr(msg, sm->ruri.host));
		cp_count(cp, CP_C_WAKE_NO_DEVICE, 1);
		cp_sip_reply(cp, meta, msg, 480);
		return;
	}
	c = cp_call_new(cp, meta, msg);
	if (c == NULL || c->inv == NULL) {
		if (c != NULL)
			cp_call_release(cp, c);
		cp_count_drop(cp, CP_D_WAKE_HELD_FULL, 1);
		cp_sip_reply(cp, meta, msg, 503);
		return;
	}
	cp_count(cp, CP_C_WAKE_CALLS, 1);
	cp_call_trace_in(cp, c, meta, msg, n, "100 Trying");
	cp_call_answer(cp, c, 100, now);
	/* Journaled from its 100 on: a crash leaves it to the next start to
	 * answer (an answer in this round deletes it in the same batch). */
	if (!c->is_msg && c->inv != NULL) {
		struct cp_store_held h = {
			.src = c->pbx.ip,
			.sport = c->pbx.port,
			.deadline_ms = sw_wall_ms() + (int64_t)cp->cfg.wake_timeout_s * 1000,
			.tag = c->tag,
			.inv = (const uint8_t *)c->inv,
			.inv_len = c->inv_len,
		};

		cp_call_journal_put(cp, &h, msg, sm, &c->jkey, &c->jkey_len);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct sw_device *d = sw_bind_by_id(cp->dp->bind, v->dev[i]);
		struct pd_request rq = {.id = c->id << 4 | c->n_br};
		struct cp_call_branch *br = &c->br[c->n_br];
		const char *why = "sipwake has no push service";
		bool alive, can_push;

		if (d == NULL)
			continue;
		alive = (v->alive >> i) & 1;
		can_push = cp->pd != NULL && cp_push_request_of(d, PD_KIND_CALL, &rq, &why) == 0;
		/* Bound through another edge that answers: the INVITE goes to
		 * that edge, which decides alive or asleep and pushes itself
		 * (docs/cluster.md, "Any edge routes any call"). */
		if (!c->from_peer && cp_peer_up(cp, d->peer)) {
			alive = true;
			can_push = false;
		}
		br->device = d->id;
		c->n_br++;
		/* ping: the alive get the call, the asleep a push. always-push:
		 * a push whenever there is an address. parallel: both. */
		if (can_push && (!alive || policy != DP_WAKE_PING)) {
			cp_call_caller_of(msg, sm, &rq);
			/* "sip:user@host", as the refresh pushes carry it */
			if ((size_t)snprintf(rq.aor, sizeof(rq.aor), "sip:%s", d->aor) >=
			    sizeof(rq.aor))
				snprintf(rq.aor, sizeof(rq.aor), "%s", d->aor);
			unsigned own = cp_push_addr_timeout(d, cp->cfg.wake_device_timeout_min_s,
							    cp->cfg.wake_device_timeout_max_s);

			/* The push lives as long as the call waits for this device. */
			if (own != 0)
				br->wake_deadline = c->in_tsc + cp->hz * own;
			rq.deadline_ms =
				sw_mono_ms() + (own != 0 ? own : cp->cfg.wake_timeout_s) * 1000ull;
			int rc = pd_submit(cp->pd, &rq);

			cp_trace(cp, c->key, "device %" PRIx64 " %s: %s push via %s %s%s", d->id,
				 alive ? "alive" : "asleep",
				 rq.token_kind == PD_TOKEN_REGULAR ? "alert" : "VoIP",
				 d->pn_provider, rc == 0 ? "sent" : "NOT sent (pushd's ring full)",
				 own != 0 ? " (its pn-timeout)" : "");
			if (rc == 0) {
				br->pushed = true;
				br->push_tsc = now;
				br->state = CP_BR_WAITING;
				cp_call_chain(cp->call, c, c->n_br - 1);
				cp_count(cp, CP_C_WAKE_PUSHES, 1);
				pushes++;
			} else {
				ring_full += rc == -ENOBUFS;
				br->state = CP_BR_DONE;
				br->status = 503;
			}
			if (policy == DP_WAKE_PARALLEL &&
			    cp_call_send_branch(cp, c, c->n_br - 1, false, now) == 0)
				br->state =
					CP_BR_CALLING; /* still chained: a new contact resends */
		} else if (alive || policy == DP_WAKE_PARALLEL) {
			cp_trace(cp, c->key, "device %" PRIx64 " %s: called at once", d->id,
				 alive ? "alive" : "asleep");
			if (cp_call_send_branch(cp, c, c->n_br - 1, false, now) != 0)
				br->state = CP_BR_DONE;
		} else {
			cp_trace(cp, c->key,
				 "device %" PRIx64 " asleep, cannot be woken (%s): not called",
				 d->id, why != NULL ? why : "no push address");
			br->state = CP_BR_DONE; /* asleep and no way to wake it */
			br->status = 480;
		}
	}
	if (pushes > 0 && cp->cfg.wake_provisional != 0)
		cp_call_answer(cp, c, cp->cfg.wake_provisional, now);
	bool open = false;

	for (unsigned b = 0; b < c->n_br; b++)
		open |= cp_call_branch_open(&c->br[b]);
	if (open || c->final != 0)
		return;
	if (ring_full > 0) {
		/* Devices to wake, and no room to push (a push sent keeps a
		 * branch open). */
		cp_call_set_outcome(cp, c, CP_OUT_RING_FULL);
		cp_call_answer(cp, c, 503, now);
		return;
	}
	/* Nobody to call and nobody to wake. */
	cp_call_set_outcome(cp, c, CP_OUT_NO_DEVICE);
	cp_call_answer(cp, c, 480, now);
}

static void cancel_in(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		      struct cp_held_call *c)
{
	uint64_t now = rte_rdtsc();

	cp_trace(cp, c->key, "CANCEL from the PBX: 200");
	/* §9.2: the CANCEL is answered 200 whatever the INVITE's state. */
	cp_sip_reply(cp, meta, msg, 200);
	if (c->final != 0)
		return;
	cp_call_set_outcome(cp, c, CP_OUT_CANCELLED);
	cp_call_end_branches(cp, c, -1, CP_LATE_CANCELLED);
	cp_call_answer(cp, c, 487, now);
}

void cp_call_request(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	struct cp_held_call *c = cp_call_by_tx(cp->call, &meta->src, meta->sport,
					       sip_ptr(msg, sm->via.branch), sm->via.branch.len);

	switch (sm->method) {
	case SIP_M_INVITE:
	case SIP_M_MESSAGE:
		if (c != NULL) {
			/* §17.2.1 / §17.2.2: a retransmission gets the last answer
			 * again; a held MESSAGE has none before its final (no 100
			 * over UDP before T2, RFC 4320 §4.1; docs/design.md §5). */
			cp_count(cp, CP_C_WAKE_RETRANSMISSIONS, 1);
			if (c->last != NULL)
				cp_udp_send(cp, &c->pbx.ip, c->pbx.port, c->last, c->last_len);
			return;
		}
		if (sm->to.tag.len == 0) {
			if (sm->method == SIP_M_INVITE)
				invite_in(cp, meta, msg);
			else
				cp_msg_held_in(cp, meta, msg);
			return;
		}
		break; /* in a dialog outside our Record-Route: nothing to resume */
	case SIP_M_CANCEL:
		if (c != NULL)
			cancel_in(cp, meta, msg, c);
		else
			cp_sip_reply(cp, meta, msg, 481);
		return;
	case SIP_M_ACK:
		if (c != NULL && c->final >= 300) {
			uint64_t end = rte_rdtsc() + cp_call_ms_tsc(cp, CP_CALL_T4_MS);

			/* Timer G stops; Timer I absorbs the ACK's retransmissions. */
			c->acked = true;
			if (end < c->linger)
				c->linger = end;
		} else
			cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
		return;
	default:
		break;
	}
	/* Other requests for an asleep device cannot wait for it. */
	cp_count(cp, CP_C_CALLS_480, 1);
	cp_sip_reply(cp, meta, msg, 480);
}

/* ---- device answers -------------------------------------------------------- */

static void late_answer(struct cp_ctx *cp, struct cp_held_call *c, struct cp_call_branch *br,
			const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct sip_msg *rsm = &meta->sip;
	char branch[48];
	struct sw_ip our, nh;
	unsigned ifx;

	if (rsm->status < 200) {
		cp_call_cancel_branch(cp, br, cp_call_late_reason(br->late));
		return;
	}
	if (sip_scan((const uint8_t *)br->inv, br->inv_len, &k->sm2) != SIP_SCAN_OK)
		return;
	if (rsm->status >= 300) {
		if (cp_call_build_ack((const uint8_t *)br->inv, &k->sm2, msg, rsm, &k->scratch) ==
		    0)
			cp_call_send(cp, br, &k->scratch);
		br->state = CP_BR_DONE;
		return;
	}
	/* A 2xx for a call already over: acknowledged and hung up here. */
	if (cp_route(cp, &br->dst, &ifx, &our, &nh) != 0)
		return;
	for (int bye = 0; bye < 2; bye++) {
		cp_call_branch_id(branch, sizeof(branch), c->id,
				  bye ? CP_CALL_TAG_BYE : CP_CALL_TAG_ACK);
		if (cp_call_build_in_dialog((const uint8_t *)br->inv, &k->sm2, msg, rsm, bye, &our,
					    cp_tp_port(cp, br->tp), br->tp, branch,
					    &k->scratch) == 0)
			cp_call_send(cp, br, &k->scratch);
	}
	br->state = CP_BR_DONE;
}

void cp_call_response(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct sip_msg *sm = &meta->sip;
	const char *b = sip_ptr(msg, sm->via.branch) + DP_BRANCH_MAGIC_LEN + 2;
	uint64_t id, bi, now = rte_rdtsc();
	struct cp_held_call *c;
	struct cp_call_branch *br;

	/* <call id: 16 hex><branch: 1 hex> (cp_call_branch_id()) */
	if (sm->via.branch.len != DP_BRANCH_MAGIC_LEN + 2 + 17 || !cp_hex_u64(b, 16, &id) ||
	    !cp_hex_u64(b + 16, 1, &bi)) {
		cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
		return;
	}
	c = cp_call_by_id(k, id);
	if (c == NULL || (bi >= c->n_br && bi != CP_CALL_TAG_BYE)) {
		cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
		return;
	}
	if (bi == CP_CALL_TAG_BYE || sm->cseq_method == SIP_M_CANCEL)
		return; /* answers to our CANCEL / BYE: nothing to do */
	br = &c->br[bi];
	if (!sw_ip_eq(&meta->src, &br->dst) || br->inv == NULL) {
		cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
		return;
	}
	if (c->is_msg) {
		cp_msg_held_response(cp, c, (unsigned)bi, meta, msg);
		return;
	}
	br->heard = true;
	cp_trace(cp, c->key, "device %" PRIx64 " answered %u", br->device, sm->status);
	if (br->state == CP_BR_CALLING && sm->status < 200) {
		br->state = CP_BR_PROCEEDING;
		br->deadline = now + cp_call_ms_tsc(cp, CP_CALL_TIMER_C_MS);
		cp_call_unchain(k, c, bi); /* it has the call: a new contact changes nothing */
	}
	if (br->late != CP_LATE_NONE) {
		late_answer(cp, c, br, meta, msg);
		return;
	}
	if (br->cancel_wanted && !br->cancel_sent && sm->status < 200)
		cp_call_cancel_branch(cp, br, cp_call_late_reason(br->why));
	if (sm->status >= 200 && sm->status < 300 &&
	    (c->outcome == CP_OUT_CANCELLED || c->outcome == CP_OUT_SHUTDOWN)) {
		/* Answered after the PBX heard 487 / 503: never a call. */
		br->late = CP_LATE_CANCELLED;
		late_answer(cp, c, br, meta, msg);
		return;
	}
	if (sm->status == 100)
		return; /* §16.7 step 5: never relayed */
	if (sm->status < 200) {
		if (c->final == 0 && cp_msg_unvia(msg, sm, NULL, &k->scratch) == 0)
			cp_call_upstream(cp, c, k->scratch.b, k->scratch.len, sm->status, now);
		return;
	}
	if (sm->status < 300) {
		/* §16.7 step 5: every 2xx goes up, retransmissions too. */
		cp_call_unchain(k, c, bi);
		br->state = CP_BR_DONE;
		br->status = sm->status;
		if (cp_msg_unvia(msg, sm, NULL, &k->scratch) == 0) {
			bool first = c->final == 0;

			if (first)
				cp_call_set_outcome(cp, c, CP_OUT_ANSWERED);
			/* Up first: ending the other branches reuses the scratch. */
			cp_call_upstream(cp, c, k->scratch.b, k->scratch.len, sm->status, now);
			if (first)
				cp_call_end_branches(cp, c, (int)bi, CP_LATE_ELSEWHERE);
		}
		return;
	}
	/* A non-2xx final: ACK it (§17.1.1.3), keep the best (§16.7 step 6). */
	if (sip_scan((const uint8_t *)br->inv, br->inv_len, &k->sm2) == SIP_SCAN_OK &&
	    cp_call_build_ack((const uint8_t *)br->inv, &k->sm2, msg, sm, &k->scratch) == 0)
		cp_call_send(cp, br, &k->scratch);
	if (br->state == CP_BR_DONE)
		return; /* a retransmitted final */
	cp_call_unchain(k, c, bi);
	br->state = CP_BR_DONE;
	br->status = sm->status;
	if (c->final == 0)
		cp_call_keep_best(k, c, msg, sm);
	if (sm->status >= 600 && c->final == 0) {
		cp_call_end_branches(cp, c, (int)bi, CP_LATE_ELSEWHERE);
		for (unsigned j = 0; j < c->n_br; j++)
			if (c->br[j].state == CP_BR_WAITING) {
				cp_call_unchain(k, c, j);
				c->br[j].state = CP_BR_DONE;
			}
	}
	cp_call_maybe_complete(cp, c, now);
}

/* ---- wake, push results, timers ------------------------------------------------ */

uint64_t cp_call_waited_for(struct cp_ctx *cp, const struct sw_bind_rec *rec)
{
	struct cp_call *k = cp->call;
	const struct sw_device *d;

	if (k == NULL || k->idx.n_used == 0 || (d = sw_bind_match(cp->dp->bind, rec)) == NULL)
		return 0;
	for (uint32_t e = *cp_call_dev_head(k, d->id); e != CP_CALL_NO_SLOT;) {
		const struct cp_call_branch *br = &k->c[e >> 3].br[e & 7];

		if (br->device == d->id)
			return d->id;
		e = br->dev_next;
	}
	return 0;
}

void cp_call_note(struct cp_ctx *cp, uint64_t id, const char *fmt, ...)
{
	struct cp_call *k = cp->call;
	char text[CP_TRACE_TEXT - 24];
	va_list ap;

	if (k == NULL || k->idx.n_used == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (uint32_t e = *cp_call_dev_head(k, id); e != CP_CALL_NO_SLOT;) {
		const struct cp_held_call *c = &k->c[e >> 3];
		const struct cp_call_branch *br = &c->br[e & 7];

		if (br->device == id)
			cp_trace(cp, c->key, "device %" PRIx64 " %s", id, text);
		e = br->dev_next;
	}
}

void cp_call_registered(struct cp_ctx *cp, uint64_t id)
{
	struct cp_call *k = cp->call;
	uint32_t *p = cp_call_dev_head(k, id);
	uint64_t now = rte_rdtsc();

	while (*p != CP_CALL_NO_SLOT) {
		uint32_t e = *p;
		struct cp_held_call *c = &k->c[e >> 3];
		struct cp_call_branch *br = &c->br[e & 7];

		if (br->device != id) {
			p = &br->dev_next;
			continue;
		}
		*p = br->dev_next; /* unchained: this device is woken once per call */
		br->chained = false;
		if (br->state == CP_BR_CALLING) {
			/* parallel: the last contact got it; a new source gets it
			 * instead, an unchanged one keeps its transaction. */
			const struct sw_device *d = sw_bind_by_id(cp->dp->bind, id);

			if (d == NULL || br->heard ||
			    (sw_ip_eq(&d->src, &br->dst) && d->sport == br->dport))
				continue;
		} else if (br->state != CP_BR_WAITING) {
			continue;
		}
		{
			static const char *const late_what[] = {
				[CP_LATE_NONE] = "",
				[CP_LATE_CANCELLED] = " (call over: cancelled)",
				[CP_LATE_ELSEWHERE] = " (call over: elsewhere)",
				[CP_LATE_TIMED_OUT] = " (call over: timed out)",
			};
			const struct sw_device *d = sw_bind_by_id(cp->dp->bind, id);
			char ip[SW_IP_PORT_STRLEN];

			cp_trace(
				cp, c->key,
				"device %" PRIx64 " woken: REGISTER accepted from %s, %llu ms "
				"after its push%s",
				id,
				d != NULL ? sw_ip_port_str(&d->src, d->sport, ip, sizeof(ip)) : "?",
				(unsigned long long)(cp_call_tsc_us(cp, now - br->push_tsc) / 1000),
				late_what[br->late]);
		}
		if (cp_call_send_branch(cp, c, e & 7, true, now) != 0) {
			br->state = CP_BR_DONE;
			br->status = 480;
			cp_held_complete(cp, c, now);
			continue;
		}
		if (c->is_msg)
			continue; /* a MESSAGE: its answer is what counts */
		if (br->late != CP_LATE_NONE) {
			/* The Reason the CANCEL will carry is the cause now. */
			br->why = br->late;
			br->cancel_wanted = true;
			cp_count(cp, CP_C_WAKE_LATE_CANCELS, 1);
			continue;
		}
		cp_count(cp, CP_C_WAKE_WOKEN, 1);
		if (br->pushed)
			sw_hist_add(&k->push_to_reg, cp_call_tsc_us(cp, now - br->push_tsc));
		sw_hist_add(&k->invite_to_branch, cp_call_tsc_us(cp, now - c->in_tsc));
	}
}

static void push_result(struct cp_ctx *cp, const struct pd_result *r)
{
	struct cp_call *k = cp->call;
	struct cp_held_call *c = cp_call_by_id(k, r->id >> 4);
	unsigned b = (unsigned)(r->id & 0xf);
	uint64_t dev = strtoull(r->device_key, NULL, 16);

	if (c != NULL)
		cp_trace(cp, c->key,
			 "push to device %" PRIx64 ": %s (HTTP %d%s%s, %u attempt(s), %llu ms)",
			 dev, pd_status_name(r->status), r->http_status, r->reason[0] ? " " : "",
			 r->reason, r->attempts, (unsigned long long)(r->latency_us / 1000));
	if (r->status == PD_DEAD_TOKEN)
		cp_bind_drop_push(cp, dev, r->provider_ts_ms, r->target);
	if (r->status == PD_DELIVERED || c == NULL || b >= c->n_br)
		return;
	struct cp_call_branch *br = &c->br[b];

	br->push_done = true;
	if (br->state != CP_BR_WAITING)
		return;
	CP_LOG(INFO, "push for a held call to device %016" PRIx64 " failed: %s %s", dev,
	       pd_status_name(r->status), r->reason);
	cp_call_unchain(k, c, b);
	br->state = CP_BR_DONE;
	br->status = 480;
	br->push_failed = true;
	cp_held_complete(cp, c, rte_rdtsc());
	if (c->is_msg)
		cp_msg_held_push_failed(cp, br->device);
}

void cp_call_poll_push(struct cp_ctx *cp)
{
	struct pd_result *res[32];
	unsigned n;

	if (cp->pd == NULL)
		return;
	n = pd_poll_results(cp->pd, res, RTE_DIM(res));
	for (unsigned i = 0; i < n; i++) {
		if (res[i]->id & CP_PUSH_REFRESH)
			cp_bind_push_result(cp, res[i]);
		else
			push_result(cp, res[i]);
		free(res[i]);
	}
}
