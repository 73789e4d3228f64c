/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal of held calls (docs/design.md §7, "Held calls and a crash"):
 * every INVITE the wake path holds is in the store from its 100 Trying to
 * its final answer, so that a sipwake killed in between (kill -9, a crash,
 * the host's power) answers it at its next start instead of leaving the
 * PBX's caller ringing into nothing until the PBX's own Timer C.
 *
 *   held          cp_call_journal_put(): key (Call-ID 0x1f top Via
 *                 branch), the PBX's address and port, the deadline, our
 *                 To-tag and the INVITE's bytes, in the round's batch
 *   final answer  cp_call_upstream() (200 relayed, 480, 487, 503 at stop,
 *                 a device's best refusal): cp_call_journal_del(), same batch
 *   start         cp_call_journal_replay(): each one left is a call a crash
 *                 cut off; it is answered 480 at once (the wake it waited
 *                 for is lost with the push in flight: the caller's next
 *                 attempt wakes the device), whatever its deadline, through
 *                 the wake path's table, so Timer G repeats the 480 until
 *                 the PBX ACKs it (the neighbour may still be resolving).
 *
 * No store (bindings.store unset): nothing is journaled. A MESSAGE is
 * never journaled: the PBX retransmits it until its Timer F, and the next
 * sipwake takes the retransmission as a new MESSAGE.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>

#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/calls/cp_call.h"
#include "controlplane/store/cp_store.h"

#define KEY_SEP '\x1f'

/* A store that fails, fails every call: said at most once a second. */
static void journal_warn(struct cp_ctx *cp, const char *what)
{
	static uint64_t next_ms;
	uint64_t now = sw_mono_ms();

	if (now < next_ms)
		return;
	next_ms = now + 1000;
	CP_LOG(WARNING, "%s: %s", what, cp_store_error(cp->store));
}

/* The key of the call: Call-ID, 0x1f, the PBX's top Via branch. */
static int key_of(const uint8_t *msg, const struct sip_msg *sm, char *out, size_t cap)
{
	size_t n = sm->call_id.len + 1 + sm->via.branch.len;

	if (sm->call_id.len == 0 || n > cap)
		return -E2BIG;
	memcpy(out, sip_ptr(msg, sm->call_id), sm->call_id.len);
	out[sm->call_id.len] = KEY_SEP;
	memcpy(out + sm->call_id.len + 1, sip_ptr(msg, sm->via.branch), sm->via.branch.len);
	return (int)n;
}

void cp_call_journal_put(struct cp_ctx *cp, struct cp_held_call *c, const uint8_t *msg,
			 const struct sip_msg *sm)
{
	char key[1024]; /* a longer Call-ID is not journaled */
	int klen;
	struct cp_store_held h = {
		.src = c->pbx.ip,
		.sport = c->pbx.port,
		.deadline_ms = sw_wall_ms() + (int64_t)cp->cfg.wake_timeout_s * 1000,
		.tag = c->tag,
		.inv = (const uint8_t *)c->inv,
		.inv_len = c->inv_len,
	};

	if (cp->store == NULL || c->is_msg || c->inv == NULL)
		return;
	klen = key_of(msg, sm, key, sizeof(key));
	if (klen < 0)
		return;
	h.key = key;
	h.key_len = (size_t)klen;
	cp_call_keep(&c->jkey, &c->jkey_len, key, (uint16_t)klen);
	if (c->jkey == NULL)
		return; /* out of memory: the call goes on, unjournaled */
	if (cp_store_held_put(cp->store, &h) != 0)
		journal_warn(cp, "held call not journaled");
	cp_bind_touch(cp);
}

void cp_call_journal_del(struct cp_ctx *cp, struct cp_held_call *c)
{
	if (cp->store != NULL && cp_store_held_del(cp->store, c->jkey, c->jkey_len) != 0)
		journal_warn(cp, "held call left in the journal");
	cp_bind_touch(cp);
	free(c->jkey);
	c->jkey = NULL;
	c->jkey_len = 0;
}

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
		cp_call_journal_del(cp, c);
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
