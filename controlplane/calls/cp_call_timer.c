/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path's timers (docs/design.md §5): a branch no longer waited
 * for (wake.timeout_s, or the device's pn-timeout), its retransmissions
 * (Timer A), its end (Timer B) and its ringing (Timer C); Timer G of our
 * non-2xx final; and the stop, which answers every held call 503 while the
 * workers still send (docs/design.md §2).
 * The tables and messages are cp_call.c's.
 */
#include <rte_common.h>
#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/calls/cp_call.h"

static void branch_timers(struct cp_ctx *cp, struct cp_held_call *c, unsigned b, uint64_t now)
{
	struct cp_call_branch *br = &c->br[b];
	uint64_t wake_deadline = br->wake_deadline != 0 ? br->wake_deadline : c->wake_deadline;

	if (c->is_msg) {
		cp_msg_held_timers(cp, c, b, now);
		return;
	}
	if (br->state == CP_BR_WAITING && br->late != CP_LATE_NONE) {
		/* A late branch: past wake.late_window_s its device gets nothing. */
		if (now >= br->late_until) {
			cp_trace(cp, c->key,
				 "device %" PRIx64 " did not register within wake.late_window_s: "
				 "no INVITE, no CANCEL",
				 br->device);
			cp_call_unchain(cp->call, c, b);
			br->state = CP_BR_DONE;
		}
		return;
	}
	if (now >= wake_deadline && br->state == CP_BR_WAITING && c->final == 0) {
		/* Not woken within wake.timeout_s (or its pn-timeout): no longer
		 * waited for (the PBX hears 480 if no branch is left), but its
		 * push may still wake it late (cp_call_make_late()). */
		cp_trace(cp, c->key,
			 "device %" PRIx64 " did not register within %s (%" PRIu64 " s)",
			 br->device, br->wake_deadline != 0 ? "its pn-timeout" : "wake.timeout_s",
			 (wake_deadline - c->in_tsc + cp->hz / 2) / cp->hz);
		br->status = 480;
		cp_call_make_late(cp, c, b, CP_LATE_TIMED_OUT, now);
		return;
	}
	if (now >= wake_deadline &&
	    (br->state == CP_BR_WAITING ||
	     (br->state == CP_BR_CALLING && !br->heard && br->late == CP_LATE_NONE))) {
		/* Not woken, or not heard from, within wake.timeout_s (or the
		 * device's pn-timeout): no longer waited for (docs/design.md §1
		 * step 5: the PBX hears 480, not silence). */
		cp_trace(cp, c->key, "device %" PRIx64 " %s within %s (%" PRIu64 " s)", br->device,
			 br->state == CP_BR_WAITING ? "did not register" : "never answered",
			 br->wake_deadline != 0 ? "its pn-timeout" : "wake.timeout_s",
			 (wake_deadline - c->in_tsc + cp->hz / 2) / cp->hz);
		cp_call_unchain(cp->call, c, b);
		br->state = CP_BR_DONE;
		br->status = 480;
		return;
	}
	if (br->state == CP_BR_CALLING && now >= br->timer_tsc) {
		if (now >= br->deadline) {
			/* Timer B: nobody there. */
			cp_call_unchain(cp->call, c, b);
			br->state = CP_BR_DONE;
			br->status = 408;
			return;
		}
		/* Timer A: over UDP only; a stream delivers or fails (§17.1.1.2). */
		if (br->tp == SW_TP_UDP)
			cp_udp_send(cp, &br->dst, br->dport, br->inv, br->inv_len);
		br->interval *= 2;
		br->timer_tsc = now + br->interval;
	} else if (br->state == CP_BR_PROCEEDING && now >= br->deadline) {
		/* Timer C: ringing too long. */
		cp_call_cancel_branch(cp, br, NULL);
		br->state = CP_BR_DONE;
		br->status = 408;
	}
}

void cp_call_tick(struct cp_ctx *cp, uint64_t now)
{
	struct cp_call *k = cp->call;
	uint64_t oldest = 0;
	uint32_t held = 0;

	for (uint32_t i = 0, seen = 0; i < k->max && seen < k->idx.n_used; i++) {
		struct cp_held_call *c = &k->c[i];
		bool open = false;

		if (c->id == 0)
			continue;
		seen++;
		for (unsigned b = 0; b < c->n_br; b++) {
			struct cp_call_branch *br = &c->br[b];

			branch_timers(cp, c, b, now);
			if (br->src_ref && br->state == CP_BR_DONE) {
				/* Nothing more will come from that socket. */
				sw_src_unref(cp->dp->src, &br->dst, br->dport);
				br->src_ref = false;
			}
			open |= c->br[b].state == CP_BR_WAITING ||
				c->br[b].state == CP_BR_CALLING ||
				c->br[b].state == CP_BR_PROCEEDING;
		}
		if (c->final == 0) {
			cp_held_complete(cp, c, now);
			if (c->final == 0 && !c->is_msg) {
				held++;
				if (oldest == 0 || c->in_tsc < oldest)
					oldest = c->in_tsc;
			}
			continue;
		}
		if (c->final >= 300 && !c->is_msg && !c->acked && now >= c->g_tsc &&
		    now < c->linger) {
			/* Timer G: our final again until the PBX ACKs it. */
			cp_udp_send(cp, &c->pbx.ip, c->pbx.port, c->last, c->last_len);
			c->g_interval =
				RTE_MIN(c->g_interval * 2, cp_call_ms_tsc(cp, CP_CALL_T2_MS));
			c->g_tsc = now + c->g_interval;
		}
		if (now >= c->linger && !open)
			cp_call_release(cp, c);
	}
	__atomic_store_n(&k->oldest_tsc, oldest, __ATOMIC_RELAXED);
	__atomic_store_n(&k->n_held, held, __ATOMIC_RELAXED);
}

void cp_call_shutdown(struct cp_ctx *cp)
{
	struct cp_call *k = cp->call;
	uint64_t now = rte_rdtsc();
	unsigned n = 0;

	for (uint32_t i = 0; k != NULL && i < k->max; i++) {
		struct cp_held_call *c = &k->c[i];

		if (c->id == 0 || c->final != 0)
			continue;
		if (c->is_msg) {
			cp_call_answer(cp, c, 503, now); /* a held MESSAGE: no outcome */
			continue;
		}
		for (unsigned b = 0; b < c->n_br; b++)
			if (c->br[b].state == CP_BR_PROCEEDING)
				cp_call_cancel_branch(cp, &c->br[b], NULL);
		cp_call_set_outcome(cp, c, CP_OUT_SHUTDOWN);
		cp_call_answer(cp, c, 503, now);
		n++;
	}
	if (n > 0) {
		CP_LOG(NOTICE, "%u held call(s) answered 503: stopping", n);
		/* The workers send what is on their down rings before they stop. */
		rte_delay_us_sleep(50 * 1000);
	}
}
