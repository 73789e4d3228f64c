/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of held calls read back at start (cp_call_journal.c keeps
 * it; docs/design.md §7, "Held calls and a crash"): each call left is one
 * a crash cut off, answered 480 at once through the wake path's table (so
 * Timer G repeats the 480 until the PBX ACKs it), or dropped when its PBX
 * gave up on it long ago.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>

#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/calls/cp_call.h"
#include "controlplane/store/cp_store.h"

/* A journaled call whose deadline is this long past is not answered: the
 * PBX gave up on it (its Timer C, RFC 3261 §16.6 step 11) long ago. */
#define STALE_MS ((int64_t)CP_CALL_TIMER_C_MS)

static int replay_one(const struct cp_store_held *h, void *arg)
{
	struct cp_ctx *cp = arg;
	static struct dp_meta meta; /* a sip_msg is large: not on the stack */
	uint64_t now = rte_rdtsc();
	struct cp_held_call *c;
	char ip[48];

	memset(&meta, 0, sizeof(meta));
	if (h->inv_len > UINT16_MAX ||
	    sip_scan(h->inv, (uint32_t)h->inv_len, &meta.sip) != SIP_SCAN_OK ||
	    meta.sip.method != SIP_M_INVITE) {
		CP_LOG(WARNING, "journal of held calls: an entry that is no INVITE, dropped");
		return cp_store_held_del(cp->store, h->key, h->key_len) == 0 ? 0 : -EIO;
	}
	sw_ip_str(&h->src, ip, sizeof(ip));
	if (sw_wall_ms() > h->deadline_ms + STALE_MS) {
		CP_LOG(NOTICE, "held call from %s:%u: its PBX gave up long ago, not answered", ip,
		       h->sport);
		return cp_store_held_del(cp->store, h->key, h->key_len) == 0 ? 0 : -EIO;
	}
	meta.kind = DP_UP_SIP;
	meta.src = h->src;
	meta.sport = h->sport;
	meta.src_class = DP_SRC_PBX;
	meta.rx_tsc = now;
	c = cp_call_new(cp, &meta, h->inv);
	if (c == NULL || c->inv == NULL) {
		/* No room (a smaller wake.max_held now): answered without a
		 * transaction, once. */
		const struct cp_answer_how how = {
			.stamp = &h->src, .stamp_port = h->sport, .tag = h->tag};
		struct cp_msg *o = &cp->call->scratch;

		if (c != NULL)
			cp_call_release(cp, c);
		cp_count(cp, CP_C_WAKE_INTERRUPTED, 1);
		if (cp_answer_into(h->inv, &meta.sip, 480, &how, o) == 0)
			cp_udp_send(cp, &h->src, h->sport, o->b, o->len);
		return cp_store_held_del(cp->store, h->key, h->key_len) == 0 ? 0 : -EIO;
	}
	c->tag = h->tag; /* as our 180 before the crash had it */
	cp_call_keep(&c->jkey, &c->jkey_len, h->key, (uint16_t)h->key_len);
	cp_trace(cp, c->key, "INVITE from %s:%u held when sipwake stopped: 480", ip, h->sport);
	/* Counted there (wake_interrupted). */
	cp_call_set_outcome(cp, c, CP_OUT_INTERRUPTED);
	/* Its final answer deletes it from the journal (cp_call_upstream()). */
	cp_call_answer(cp, c, 480, now);
	if (c->jkey != NULL) /* the 480 was not built: nothing else will answer */
		cp_call_journal_del(cp, &c->jkey, &c->jkey_len);
	return 0;
}

int cp_call_journal_replay(struct cp_ctx *cp)
{
	int n;

	if (cp->store == NULL)
		return 0;
	n = cp_store_held_load(cp->store, replay_one, cp);
	/* Its deletes (stale rows, calls answered without a transaction)
	 * are committed by the loop's first round. */
	cp_bind_touch(cp);
	if (n < 0)
		CP_LOG(ERR, "journal of held calls not read: %s", cp_store_error(cp->store));
	else if (n > 0)
		CP_LOG(NOTICE,
		       "journal of held calls: %d call(s) a stop without answer left, answered 480 "
		       "(wake_interrupted) or dropped as stale",
		       n);
	return n;
}
