/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The end of a call on the wake path (docs/design.md §5, "CANCEL" and
 * "Late wakes"): its other branches stop, ringing ones with CANCEL; a
 * device pushed and still asleep becomes a late branch, which gets the
 * INVITE and then CANCEL with a Reason (RFC 3326) if it registers within
 * wake.late_window_s, or (cancelled_call = "alert") a missed-call push.
 * The tables are cp_call.c's; the timers that drop late branches
 * cp_call_timer.c's.
 */
#include <rte_cycles.h>

#include "controlplane/bindings/cp_bind.h"
#include "controlplane/bindings/cp_push_addr.h"
#include "controlplane/calls/cp_call.h"
#include "pushd/pd.h"

const char *cp_call_late_reason(unsigned why)
{
	switch (why) {
	case CP_LATE_CANCELLED:
		return CP_CALL_REASON_CANCEL;
	case CP_LATE_TIMED_OUT:
		return CP_CALL_REASON_TIMED_OUT;
	default:
		return CP_CALL_REASON_ELSEWHERE;
	}
}

/* A missed-call alert names the call it stands for, as the call's push
 * did: Call-ID, caller and AOR from the INVITE kept for the call. */
static void missed_call_of(struct cp_ctx *cp, const struct cp_held_call *c,
			   const struct sw_device *d, struct pd_request *rq)
{
	struct cp_call *k = cp->call;

	if (c->inv != NULL && sip_scan((const uint8_t *)c->inv, c->inv_len, &k->sm2) == SIP_SCAN_OK)
		cp_call_caller_of((const uint8_t *)c->inv, &k->sm2, rq);
	if ((size_t)snprintf(rq->aor, sizeof(rq->aor), "sip:%s", d->aor) >= sizeof(rq->aor))
		snprintf(rq->aor, sizeof(rq->aor), "%s", d->aor);
}

/* A pushed device the call no longer waits for may still wake: an iOS app
 * that got a VoIP push must report a call, so within wake.late_window_s it
 * gets the INVITE and then CANCEL with the Reason (RFC 3326) that tells it
 * how the call ended; after the window, or with a window of 0, nothing. A
 * late branch already owed a cause takes the newer one (a device that timed
 * out, then the call answered elsewhere: "completed elsewhere"). */
void cp_call_make_late(struct cp_ctx *cp, struct cp_held_call *c, unsigned b,
		       enum cp_late_cause why, uint64_t now)
{
	struct cp_call_branch *br = &c->br[b];
	bool was_late = br->late != CP_LATE_NONE;

	br->late = (uint8_t)why;
	if (was_late)
		return; /* its window runs from when it was first given up */
	if (cp->cfg.wake_late_window_s == 0 || !br->pushed) {
		cp_call_unchain(cp->call, c, b);
		br->state = CP_BR_DONE;
		return;
	}
	br->late_until = now + cp->hz * cp->cfg.wake_late_window_s;
}

/* The call ended upstream (answered, cancelled): every other branch stops.
 * Ringing ones get CANCEL; devices still asleep are no longer waited for,
 * but one woken later is told the call is over (cancelled_call). */
void cp_call_end_branches(struct cp_ctx *cp, struct cp_held_call *c, int keep_b,
			  enum cp_late_cause why)
{
	const char *reason = cp_call_late_reason(why);
	uint64_t now = rte_rdtsc();

	for (unsigned b = 0; b < c->n_br; b++) {
		struct cp_call_branch *br = &c->br[b];

		if ((int)b == keep_b)
			continue;
		if (br->state == CP_BR_CALLING || br->state == CP_BR_PROCEEDING) {
			br->why = (uint8_t)why;
			cp_call_cancel_branch(cp, br, reason);
		} else if (br->state == CP_BR_WAITING &&
			   (br->late == CP_LATE_NONE || br->late == CP_LATE_TIMED_OUT)) {
			cp_call_make_late(cp, c, b, why, now);
			if (br->state == CP_BR_WAITING && cp->cfg.wake_cancel_alert &&
			    cp->pd != NULL) {
				/* A missed-call notice instead of a call to end. */
				struct pd_request rq = {.id = c->id << 4 | b};
				const struct sw_device *d = sw_bind_by_id(cp->dp->bind, br->device);

				if (d != NULL &&
				    cp_push_request_of(d, PD_KIND_ALERT, &rq, NULL) == 0) {
					missed_call_of(cp, c, d, &rq);
					if (pd_submit(cp->pd, &rq) == 0)
						cp_count(cp, CP_C_WAKE_ALERTS, 1);
				}
				cp_call_unchain(cp->call, c, b);
				br->state = CP_BR_DONE;
			}
		}
	}
}
