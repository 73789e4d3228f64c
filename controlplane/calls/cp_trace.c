/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-call trace ring (cp_trace.h). Each slot is a small seqlock: the
 * writer makes its sequence odd, fills the slot, makes it even again; a
 * reader keeps a copy only if it saw the same even sequence before and
 * after copying. The ring overwrites the oldest events: a call's trace lasts
 * while CP_TRACE_EVENTS newer events have not pushed it out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <inttypes.h>

#include <rte_ring.h>

#include "common/sw_clock.h"
#include "controlplane/cp_internal.h"
#include "controlplane/calls/cp_trace.h"

struct trace_ev {
	uint64_t seq;
	uint64_t key;
	int64_t ms; /* wall clock */
	char text[CP_TRACE_TEXT];
};

struct cp_trace {
	uint64_t next; /* events written so far */
	struct trace_ev ev[CP_TRACE_EVENTS];
};

struct cp_trace *cp_trace_new(void)
{
	return calloc(1, sizeof(struct cp_trace));
}

void cp_trace_free(struct cp_trace *t)
{
	free(t);
}

void cp_trace(struct cp_ctx *cp, uint64_t key, const char *fmt, ...)
{
	struct cp_trace *t = cp->trace;
	struct trace_ev *e;
	uint64_t seq;
	va_list ap;

	if (t == NULL)
		return;
	e = &t->ev[t->next % CP_TRACE_EVENTS];
	t->next++;
	seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, seq + 1, __ATOMIC_RELAXED); /* odd: being written */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&e->ms, sw_wall_ms(), __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	/* DPDK telemetry strings must be printable ASCII. */
	for (char *p = e->text; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			*p = '?';
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE); /* even: complete */
}

unsigned cp_trace_poll_worker(struct cp_ctx *cp, unsigned worker)
{
	const struct dp_link_worker *w = &cp->dp->workers[worker];
	struct dp_trace_ev ev[CP_BURST];
	unsigned n;
	char ip[SW_IP_PORT_STRLEN];

	if (w->trace == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst_elem(w->trace, ev, sizeof(ev[0]), CP_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		const struct dp_trace_ev *e = &ev[i];

		sw_ip_port_str(&e->ip, e->port, ip, sizeof(ip));
		switch (e->kind) {
		case DP_TR_INVITE_FWD:
			cp_trace(cp, e->key,
				 "INVITE from the PBX: device %" PRIx64
				 " alive, forwarded at once to %s (worker %u)",
				 e->device, ip, worker);
			break;
		case DP_TR_INVITE_NO_DEVICE:
			cp_trace(cp, e->key,
				 "INVITE from the PBX (%s): no device bound for it, %u (worker "
				 "%u)",
				 ip, e->status, worker);
			break;
		case DP_TR_ANSWER:
			cp_trace(cp, e->key,
				 "device %" PRIx64
				 " answered %u, relayed to the PBX at %s (worker %u)",
				 e->device, e->status, ip, worker);
			break;
		default:
			break;
		}
	}
	return n;
}

unsigned cp_trace_get(const struct cp_ctx *cp, uint64_t key, char (*out)[CP_TRACE_TEXT + 16],
		      unsigned max, int64_t *t0_ms)
{
	const struct cp_trace *t = cp->trace;
	uint64_t next, first;
	unsigned n = 0;

	*t0_ms = 0;
	if (t == NULL)
		return 0;
	next = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE);
	first = next > CP_TRACE_EVENTS ? next - CP_TRACE_EVENTS : 0;
	for (uint64_t i = first; i < next && n < max; i++) {
		const struct trace_ev *e = &t->ev[i % CP_TRACE_EVENTS];
		struct trace_ev copy;
		uint64_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

		if ((s1 & 1) != 0 || __atomic_load_n(&e->key, __ATOMIC_RELAXED) != key)
			continue;
		copy.ms = __atomic_load_n(&e->ms, __ATOMIC_RELAXED);
		memcpy(copy.text, e->text, sizeof(copy.text));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1)
			continue; /* overwritten while copied */
		copy.text[sizeof(copy.text) - 1] = '\0';
		if (n == 0)
			*t0_ms = copy.ms;
		snprintf(out[n++], CP_TRACE_TEXT + 16, "+%lld ms %s", (long long)(copy.ms - *t0_ms),
			 copy.text);
	}
	return n;
}
