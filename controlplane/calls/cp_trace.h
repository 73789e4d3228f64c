/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-call trace (/sipwake/trace,<call-id>): what the control plane did with
 * one call — INVITE in, devices found alive or asleep, pushes and the
 * provider's answers, the REGISTER that woke a device, the INVITE out, the
 * devices' answers, the final answer — kept in a bounded ring of recent
 * events, written only by the control-plane thread (never by workers: off
 * the fast path), read by the telemetry thread without locks.
 */
#ifndef CP_TRACE_H
#define CP_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "controlplane/cp_internal.h"

#define CP_TRACE_EVENTS	      16384 /* ring size: the most recent events of every call */
#define CP_TRACE_TEXT	      112 /* one event's text, NUL included (+ "+<ms> ms ": < 128, DPDK's limit) */
#define CP_TRACE_MAX_PER_CALL 64 /* events one telemetry answer lists */

struct cp_trace;

struct cp_trace *cp_trace_new(void);
void cp_trace_free(struct cp_trace *t);

/** Control-plane thread: one event of the call whose Call-ID key is @p key
 *  (sw_callset_key()). Non-printable bytes become '?'. */
__attribute__((format(printf, 3, 4))) void cp_trace(struct cp_ctx *cp, uint64_t key,
						    const char *fmt, ...);

/** Control-plane thread: take worker @p w's trace events (dp_trace_ev) and
 *  write their lines. @return how many. */
unsigned cp_trace_poll_worker(struct cp_ctx *cp, unsigned worker);

/**
 * Any thread: the events of @p key, oldest first, as "+<ms> ms <text>" into
 * @p out (at most @p max lines of CP_TRACE_TEXT + 16 bytes each).
 * @return how many; *t0_ms gets the first event's wall-clock time (ms).
 */
unsigned cp_trace_get(const struct cp_ctx *cp, uint64_t key, char (*out)[CP_TRACE_TEXT + 16],
		      unsigned max, int64_t *t0_ms);

#endif /* CP_TRACE_H */
