/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MESSAGE (RFC 3428) for devices that are asleep (docs/design.md §5,
 * "Messages"), on the wake path's table: a held MESSAGE is a struct
 * cp_held_call with is_msg, its devices branches as a call's are.
 *
 *   MESSAGE in    no answer yet (RFC 4320 §4.1: no 100 over UDP before T2;
 *                 the PBX's retransmissions are absorbed); each device:
 *                 alive → MESSAGE now; asleep with a push address → one
 *                 alert push naming the sender, unless a push for another
 *                 held MESSAGE already waits for that device's wake
 *   REGISTER 2xx  (cp_call_registered()) → relayed to the device's new
 *                 contact: a non-INVITE client transaction (§17.1.2),
 *                 Timer E over UDP, once over a stream; Timer F
 *   answers       1xx taken, never relayed (RFC 4320 §4.1); the first 2xx
 *                 goes up and the devices still asleep no longer get it;
 *                 errors: the best (§16.7 step 6) when no device is left
 *   window        wake.message_window_s after it came, 480 if nothing went
 *                 up (never 408: RFC 4320 §4.2), before the PBX's own
 *                 Timer F (64 * T1 = 32 s)
 *   caps          wake.max_messages held at once (503), and
 *                 wake.max_messages_per_aor for one AOR (480), each with
 *                 Retry-After: wake.message_window_s; counted
 *                 (wake_message_refused)
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/bindings/cp_push_addr.h"
#include "controlplane/calls/cp_call.h"
#include "pushd/pd.h"

/* MESSAGEs held for device @p dev now (its by-device chain), and in
 * *@p pushed whether a push of one of them is out: a device gets one push
 * while a MESSAGE waits for it, however many come. */
static unsigned waiting_for(struct cp_call *k, uint64_t dev, bool *pushed)
{
	unsigned n = 0;

	*pushed = false;
	for (uint32_t e = *cp_call_dev_head(k, dev); e != CP_CALL_NO_SLOT;) {
		const struct cp_held_call *c = &k->c[e >> 3];
		const struct cp_call_branch *br = &c->br[e & 7];

		if (br->device == dev && c->is_msg && br->state == CP_BR_WAITING) {
			n++;
			*pushed |= br->pushed;
		}
		e = br->dev_next;
	}
	return n;
}

/* Branch @p b (just added) for device @p d, alive or not. @return -ENOBUFS
 * when pushd's ring was full, else 0. */
static int msg_branch(struct cp_ctx *cp, struct cp_held_call *c, unsigned b,
		      const struct sw_device *d, bool alive, const uint8_t *msg,
		      const struct sip_msg *sm, uint64_t now)
{
	struct cp_call *k = cp->call;
	struct cp_call_branch *br = &c->br[b];
	struct pd_request rq = {.id = c->id << 4 | b};
	const char *why = "sipwake has no push service";
	bool pushed_before;
	int rc;

	if (alive) {
		cp_trace(cp, c->key, "device %" PRIx64 " alive: MESSAGE at once", d->id);
		if (cp_call_send_branch(cp, c, b, false, now) != 0) {
			br->state = CP_BR_DONE;
			br->status = 480;
		}
		return 0;
	}
	waiting_for(k, d->id, &pushed_before);
	if (pushed_before) {
		cp_trace(cp, c->key, "device %" PRIx64 " asleep: waits for the push already out",
			 d->id);
		br->state = CP_BR_WAITING;
		br->push_tsc = now;
		cp_call_chain(k, c, b);
		return 0;
	}
	if (cp->pd == NULL || cp_push_request_of(d, PD_KIND_MESSAGE, &rq, &why) != 0) {
		cp_trace(cp, c->key, "device %" PRIx64 " asleep, cannot be woken (%s)", d->id,
			 why != NULL ? why : "no push address");
		br->state = CP_BR_DONE;
		br->status = 480;
		return 0;
	}
	cp_call_caller_of(msg, sm, &rq);
	if ((size_t)snprintf(rq.aor, sizeof(rq.aor), "sip:%s", d->aor) >= sizeof(rq.aor))
		snprintf(rq.aor, sizeof(rq.aor), "%s", d->aor);
	rq.deadline_ms = sw_mono_ms() + cp->cfg.wake_message_window_s * 1000ull;
	rc = pd_submit(cp->pd, &rq);
	cp_trace(cp, c->key, "device %" PRIx64 " asleep: alert push via %s %s", d->id,
		 d->pn_provider, rc == 0 ? "sent" : "NOT sent (pushd's ring full)");
	if (rc != 0) {
		br->state = CP_BR_DONE;
		br->status = 503;
		return rc == -ENOBUFS ? -ENOBUFS : 0;
	}
	br->pushed = true;
	br->push_tsc = now;
	br->state = CP_BR_WAITING;
	cp_call_chain(k, c, b);
	cp_count(cp, CP_C_WAKE_MSG_PUSHES, 1);
	return 0;
}

void cp_msg_held_in(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct sip_msg *sm = &meta->sip;
	const struct dp_call *v = &meta->call;
	unsigned n = RTE_MIN((unsigned)v->n, (unsigned)CP_CALL_MAX_BRANCHES), held = 0;
	unsigned ring_full = 0;
	uint16_t retry = (uint16_t)cp->cfg.wake_message_window_s;
	uint64_t now = rte_rdtsc();
	struct cp_held_call *c;
	bool open = false;

	if (n == 0) {
		cp_count(cp, CP_C_CALLS_480, 1);
		cp_sip_reply(cp, meta, msg, 480);
		return;
	}
	/* The AOR's share: what waits for its most waited-for device. */
	for (unsigned i = 0; i < n; i++) {
		bool p;

		held = RTE_MAX(held, waiting_for(k, v->dev[i], &p));
	}
	if (held >= cp->cfg.wake_max_messages_per_aor) {
		cp_count(cp, CP_C_WAKE_MSG_REFUSED, 1);
		cp_sip_reply_retry(cp, meta, msg, 480, retry);
		return;
	}
	c = cp_call_new(cp, meta, msg);
	if (c == NULL || c->inv == NULL) {
		if (c != NULL)
			cp_call_release(cp, c);
		cp_count(cp, CP_C_WAKE_MSG_REFUSED, 1);
		cp_sip_reply_retry(cp, meta, msg, 503, retry);
		return;
	}
	cp_count(cp, CP_C_WAKE_MSG_HELD, 1);
	cp_call_trace_in(cp, c, meta, msg, n, "held");
	for (unsigned i = 0; i < n; i++) {
		const struct sw_device *d = sw_bind_by_id(cp->dp->bind, v->dev[i]);
		bool alive = (v->alive >> i) & 1;

		if (d == NULL)
			continue;
		/* Bound through another edge that answers: through it, which
		 * holds and pushes itself (docs/cluster.md). */
		if (!c->from_peer && cp_peer_up(cp, d->peer))
			alive = true;
		c->br[c->n_br].device = d->id;
		c->n_br++;
		ring_full += msg_branch(cp, c, c->n_br - 1, d, alive, msg, sm, now) == -ENOBUFS;
	}
	for (unsigned b = 0; b < c->n_br; b++)
		open |= cp_call_branch_open(&c->br[b]);
	if (open)
		return;
	/* Nobody to send it to, nobody to wake. */
	cp_count(cp, CP_C_WAKE_MSG_UNDELIVERED, 1);
	cp_call_answer(cp, c, ring_full > 0 ? 503 : 480, now);
}

void cp_msg_held_complete(struct cp_ctx *cp, struct cp_held_call *c, uint64_t now)
{
	if (c->final != 0)
		return;
	for (unsigned b = 0; b < c->n_br; b++)
		if (cp_call_branch_open(&c->br[b]))
			return;
	if (c->best != 0 && c->best_resp != NULL) {
		cp_count(cp, CP_C_WAKE_MSG_UNDELIVERED, 1);
		cp_call_upstream(cp, c, c->best_resp, c->best_len, c->best, now);
		return;
	}
	cp_count(cp, CP_C_WAKE_MSG_UNDELIVERED, 1);
	cp_call_answer(cp, c, 480, now);
}

void cp_msg_held_push_failed(struct cp_ctx *cp, uint64_t dev)
{
	struct cp_call *k = cp->call;
	uint64_t now = rte_rdtsc();
	bool again = true;

	/* Unchaining changes the chain: start over after each one (at most
	 * wake.max_messages_per_aor of them wait for one device). */
	while (again) {
		again = false;
		for (uint32_t e = *cp_call_dev_head(k, dev); e != CP_CALL_NO_SLOT;) {
			struct cp_held_call *c = &k->c[e >> 3];
			struct cp_call_branch *br = &c->br[e & 7];

			if (br->device == dev && c->is_msg && br->state == CP_BR_WAITING &&
			    !br->pushed) {
				cp_call_unchain(k, c, e & 7);
				br->state = CP_BR_DONE;
				br->status = 480;
				br->push_failed = true;
				cp_msg_held_complete(cp, c, now);
				again = true;
				break;
			}
			e = br->dev_next;
		}
	}
}

void cp_held_complete(struct cp_ctx *cp, struct cp_held_call *c, uint64_t now)
{
	if (c->is_msg)
		cp_msg_held_complete(cp, c, now);
	else
		cp_call_maybe_complete(cp, c, now);
}

void cp_msg_held_response(struct cp_ctx *cp, struct cp_held_call *c, unsigned b,
			  const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct sip_msg *sm = &meta->sip;
	struct cp_call_branch *br = &c->br[b];
	uint64_t now = rte_rdtsc();

	br->heard = true;
	cp_trace(cp, c->key, "device %" PRIx64 " answered %u to the MESSAGE", br->device,
		 sm->status);
	if (sm->status < 200) {
		/* §17.1.2.2: Proceeding, Timer E at T2 from now on. Never
		 * relayed: only 100 may answer a non-INVITE (RFC 4320 §4.1). */
		if (br->state == CP_BR_CALLING)
			br->state = CP_BR_PROCEEDING;
		return;
	}
	if (br->state == CP_BR_DONE)
		return; /* a retransmitted final, or one after the window */
	cp_call_unchain(k, c, b);
	br->state = CP_BR_DONE;
	br->status = sm->status;
	if (c->final != 0)
		return; /* another device's answer went up first */
	if (sm->status < 300) {
		if (cp_msg_unvia(msg, sm, NULL, &k->scratch) == 0) {
			cp_count(cp, CP_C_WAKE_MSG_DELIVERED, 1);
			cp_call_upstream(cp, c, k->scratch.b, k->scratch.len, sm->status, now);
		}
		/* Delivered: the devices still asleep no longer get it. */
		for (unsigned j = 0; j < c->n_br; j++)
			if (c->br[j].state == CP_BR_WAITING) {
				cp_call_unchain(k, c, j);
				c->br[j].state = CP_BR_DONE;
			}
		return;
	}
	cp_call_keep_best(k, c, msg, sm);
	cp_msg_held_complete(cp, c, now);
}

void cp_msg_held_timers(struct cp_ctx *cp, struct cp_held_call *c, unsigned b, uint64_t now)
{
	struct cp_call_branch *br = &c->br[b];
	uint64_t t2 = cp_call_ms_tsc(cp, CP_CALL_T2_MS);

	if (br->state == CP_BR_IDLE || br->state == CP_BR_DONE)
		return;
	if (now >= c->wake_deadline || (br->state != CP_BR_WAITING && now >= br->deadline)) {
		/* The window closes (the PBX must hear before its Timer F), or
		 * Timer F: given up; the PBX hears 480 if nothing better came,
		 * never a 408 (RFC 4320 §4.2). */
		cp_trace(cp, c->key, "device %" PRIx64 " %s within wake.message_window_s",
			 br->device,
			 br->state == CP_BR_WAITING ? "did not register" : "did not answer");
		cp_call_unchain(cp->call, c, b);
		br->state = CP_BR_DONE;
		br->status = 480;
		return;
	}
	if (br->state != CP_BR_WAITING && now >= br->timer_tsc) {
		/* Timer E: over UDP only (a stream delivers or fails), doubling
		 * up to T2, at T2 once Proceeding (§17.1.2.2). */
		if (br->tp == SW_TP_UDP)
			cp_udp_send(cp, &br->dst, br->dport, br->inv, br->inv_len);
		br->interval = br->state == CP_BR_PROCEEDING ? t2 : RTE_MIN(br->interval * 2, t2);
		br->timer_tsc = now + br->interval;
	}
}
