/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path (docs/design.md §1 steps 4-6, §7): the control plane as a
 * transaction-stateful proxy (RFC 3261 §16) for the calls the workers hand
 * up — to asleep devices, to AORs with several devices, under a push policy.
 *
 *   INVITE in     100 Trying at once; the call's Call-ID joins the held set
 *                 (the workers hand up its retransmissions, CANCEL and ACK);
 *                 each device of the call: alive → INVITE now, asleep with a
 *                 push address → one VoIP push, then wait for its REGISTER
 *   REGISTER 2xx  (cp_reg.c, after the store commit) → the waiting INVITE
 *                 goes to the device's new contact, once per device
 *   answers       1xx / every 2xx relayed (§16.7 step 5); the first 2xx
 *                 CANCELs the other branches and ends the waiting; non-2xx
 *                 ACKed, the best one relayed when no branch is left
 *   no wake       480 after wake.timeout_s; at once when every push failed
 *                 (a dead token also loses its push address); 503 when the
 *                 ring to pushd is full
 *   CANCEL        200, 487 upstream, CANCEL to the branches that ring; a
 *                 device woken later gets the INVITE and then CANCEL with a
 *                 Reason (iOS must end its CallKit call), or (cancelled_call
 *                 = "alert") a missed-call push instead
 *   retransmitted INVITE: the last answer again, never a second push
 *
 * Memory is bounded: wake.max_held calls, each with its INVITE copied (the
 * mbuf goes back at once) and at most CP_CALL_MAX_BRANCHES devices.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_random.h>

#include "common/sw_hash.h"
#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/bindings/cp_push_addr.h"
#include "controlplane/calls/cp_call.h"
#include "pushd/pd.h"

uint64_t cp_call_ms_tsc(const struct cp_ctx *cp, uint64_t ms)
{
	return cp->hz * ms / 1000;
}

uint64_t cp_call_tsc_us(const struct cp_ctx *cp, uint64_t tsc)
{
	return tsc * 1000000 / cp->hz;
}

int cp_call_init(struct cp_ctx *cp)
{
	struct cp_call *k = calloc(1, sizeof(*k));
	uint32_t nb;

	if (k == NULL)
		return -ENOMEM;
	/* Ended calls linger (Timer H / J) beside the held ones: twice the
	 * slots, so wake.max_held counts only calls still waiting. */
	k->waking = cp->dp->waking;
	k->bind = cp->dp->bind;
	k->max_held = cp->cfg.max_held;
	k->max_msgs = cp->cfg.wake_max_messages;
	k->max = (cp->cfg.max_held + cp->cfg.wake_max_messages) * 2;
	nb = rte_align32pow2(k->max * 2);
	k->dev_mask = nb - 1;
	k->dev_buckets = malloc(sizeof(*k->dev_buckets) * nb);
	k->c = calloc(k->max, sizeof(*k->c));
	if (k->dev_buckets == NULL || k->c == NULL ||
	    SW_TXIDX_INIT(&k->idx, k->max, k->c, pbx) != 0) {
		free(k->dev_buckets);
		free(k->c);
		free(k);
		return -ENOMEM;
	}
	memset(k->dev_buckets, 0xff, sizeof(*k->dev_buckets) * nb);
	k->gen = 1;
	cp->call = k;
	return 0;
}

static void call_free_bufs(struct cp_held_call *c)
{
	for (unsigned b = 0; b < c->n_br; b++)
		free(c->br[b].inv);
	free(c->jkey);
	free(c->inv);
	free(c->last);
	free(c->best_resp);
}

void cp_call_fini(struct cp_ctx *cp)
{
	struct cp_call *k = cp->call;

	if (k == NULL)
		return;
	for (uint32_t i = 0; i < k->max; i++)
		if (k->c[i].id != 0)
			call_free_bufs(&k->c[i]);
	sw_txidx_fini(&k->idx);
	free(k->dev_buckets);
	free(k->c);
	free(k);
	cp->call = NULL;
}

/* ---- indexes ---------------------------------------------------------- */

struct cp_held_call *cp_call_by_tx(struct cp_call *k, const struct sw_ip *ip, uint16_t port,
				   const char *branch, size_t len)
{
	uint32_t slot = sw_txidx_find(&k->idx, ip, port, branch, len);

	return slot == SW_TX_NONE ? NULL : &k->c[slot];
}

struct cp_held_call *cp_call_by_id(struct cp_call *k, uint64_t id)
{
	uint32_t slot = (uint32_t)(id & ((1u << CP_CALL_SLOT_BITS) - 1));

	if (id == 0 || slot >= k->max || k->c[slot].id != id)
		return NULL;
	return &k->c[slot];
}

static uint32_t call_slot_of(const struct cp_call *k, const struct cp_held_call *c)
{
	return (uint32_t)(c - k->c);
}

uint32_t *cp_call_dev_head(struct cp_call *k, uint64_t dev)
{
	return &k->dev_buckets[sw_fnv1a(&dev, sizeof(dev), SW_FNV1A_SEED) & k->dev_mask];
}

/* The workers learn that this branch's device (and its AOR) is expected to
 * register, from wherever it wakes (docs/admission.md). A full set only
 * costs the device its own way in under flood: counted nowhere else. */
static void waking_add(struct cp_call *k, struct cp_call_branch *br)
{
	const struct sw_device *d;

	if (k->waking == NULL || k->bind == NULL)
		return;
	br->waking = sw_callset_add(k->waking, sw_wake_key_device(br->device)) == 0;
	d = br->waking ? sw_bind_by_id(k->bind, br->device) : NULL;
	br->aor_key = d != NULL ? sw_wake_key_aor(d->aor, d->aor_len) : 0;
	if (br->aor_key != 0 && sw_callset_add(k->waking, br->aor_key) != 0)
		br->aor_key = 0;
}

static void waking_del(struct cp_call *k, struct cp_call_branch *br)
{
	if (!br->waking)
		return;
	sw_callset_del(k->waking, sw_wake_key_device(br->device));
	if (br->aor_key != 0)
		sw_callset_del(k->waking, br->aor_key);
	br->waking = false;
	br->aor_key = 0;
}

void cp_call_chain(struct cp_call *k, struct cp_held_call *c, unsigned b)
{
	uint32_t *head = cp_call_dev_head(k, c->br[b].device);

	c->br[b].dev_next = *head;
	*head = call_slot_of(k, c) << 3 | b;
	c->br[b].chained = true;
	waking_add(k, &c->br[b]);
}

void cp_call_unchain(struct cp_call *k, struct cp_held_call *c, unsigned b)
{
	uint32_t *p = cp_call_dev_head(k, c->br[b].device), me = call_slot_of(k, c) << 3 | b;

	if (!c->br[b].chained)
		return;
	while (*p != CP_CALL_NO_SLOT && *p != me)
		p = &k->c[*p >> 3].br[*p & 7].dev_next;
	if (*p == me)
		*p = c->br[b].dev_next;
	c->br[b].chained = false;
	waking_del(k, &c->br[b]);
}

void cp_call_release(struct cp_ctx *cp, struct cp_held_call *c)
{
	struct cp_call *k = cp->call;
	uint32_t me = call_slot_of(k, c);

	for (unsigned b = 0; b < c->n_br; b++)
		cp_call_unchain(k, c, b);
	if (cp->dp->held != NULL)
		sw_callset_del(cp->dp->held, c->key);
	for (unsigned b = 0; b < c->n_br; b++)
		if (c->br[b].src_ref)
			sw_src_unref(cp->dp->src, &c->br[b].dst, c->br[b].dport);
	if (c->jkey != NULL)
		cp_call_journal_del(cp, &c->jkey,
				    &c->jkey_len); /* never answered: a slot freed at stop */
	if (c->final == 0 && c->is_msg)
		k->n_msgs--;
	else if (c->final == 0)
		k->n_open--;
	call_free_bufs(c);
	memset(c, 0, sizeof(*c));
	sw_txidx_put(&k->idx, me);
}

/* ---- sending -------------------------------------------------------------- */

int cp_call_scan_inv(struct cp_call *k, const struct cp_held_call *c)
{
	return sip_scan((const uint8_t *)c->inv, c->inv_len, &k->sm) == SIP_SCAN_OK ? 0 : -EINVAL;
}

/* An answer upstream: sent, kept for retransmissions; a final one starts
 * Timer G (non-2xx) and the linger. */
void cp_call_upstream(struct cp_ctx *cp, struct cp_held_call *c, const char *b, uint16_t len,
		      unsigned status, uint64_t now)
{
	cp_udp_send(cp, &c->pbx.ip, c->pbx.port, b, len);
	cp_call_keep(&c->last, &c->last_len, b, len);
	if (status < 200 || c->final != 0)
		return;
	c->final = (uint16_t)status;
	if (c->jkey != NULL)
		cp_call_journal_del(cp, &c->jkey, &c->jkey_len);
	if (c->is_msg)
		cp->call->n_msgs--;
	else
		cp->call->n_open--;
	{
		static const char *const why[] = {
			[CP_OUT_NONE] = "",
			[CP_OUT_ANSWERED] = ": answered",
			[CP_OUT_TIMED_OUT] = ": no device woke in time",
			[CP_OUT_REJECTED] = ": every push failed or was refused",
			[CP_OUT_CANCELLED] = ": cancelled by the PBX",
			[CP_OUT_FAILED] = ": the devices refused",
			[CP_OUT_RING_FULL] = ": pushd's ring full",
			[CP_OUT_SHUTDOWN] = ": sipwake stopping",
			[CP_OUT_NO_DEVICE] = ": no device alive, none can be woken",
			[CP_OUT_INTERRUPTED] = ": held when sipwake stopped without answering it",
		};

		cp_trace(cp, c->key, "final %u to the PBX%s", status, why[c->outcome]);
	}
	c->linger = now + cp_call_ms_tsc(cp, CP_CALL_LINGER_MS);
	if (status >= 300 && !c->is_msg) { /* Timer G: INVITE only (§17.2.1) */
		c->g_interval = cp_call_ms_tsc(cp, CP_CALL_T1_MS);
		c->g_tsc = now + c->g_interval;
	}
}

/* An answer of our own to the held INVITE. */
void cp_call_answer(struct cp_ctx *cp, struct cp_held_call *c, unsigned status, uint64_t now)
{
	struct cp_call *k = cp->call;
	const struct cp_answer_how how = {.stamp = &c->pbx.ip,
					  .stamp_port = c->pbx.port,
					  .tag = c->tag,
					  .no_tag = status == 100};

	if (cp_call_scan_inv(k, c) != 0 ||
	    cp_answer_into((const uint8_t *)c->inv, &k->sm, status, &how, &k->scratch) != 0)
		return;
	cp_call_upstream(cp, c, k->scratch.b, k->scratch.len, status, now);
}

void cp_call_set_outcome(struct cp_ctx *cp, struct cp_held_call *c, enum cp_call_outcome o)
{
	static const enum cp_counter ctr[] = {
		[CP_OUT_ANSWERED] = CP_C_WAKE_ANSWERED,
		[CP_OUT_TIMED_OUT] = CP_C_WAKE_TIMED_OUT,
		[CP_OUT_REJECTED] = CP_C_WAKE_REJECTED,
		[CP_OUT_CANCELLED] = CP_C_WAKE_CANCELLED,
		[CP_OUT_FAILED] = CP_C_WAKE_FAILED,
		[CP_OUT_RING_FULL] = CP_C_WAKE_RING_FULL,
		[CP_OUT_SHUTDOWN] = CP_C_WAKE_SHUTDOWN,
		[CP_OUT_NO_DEVICE] = CP_C_WAKE_NO_DEVICE,
		[CP_OUT_INTERRUPTED] = CP_C_WAKE_INTERRUPTED,
	};

	if (c->outcome != CP_OUT_NONE)
		return;
	c->outcome = (uint8_t)o;
	cp_count(cp, ctr[o], 1);
}

int cp_call_send(struct cp_ctx *cp, struct cp_call_branch *br, const struct cp_msg *o)
{
	const struct cp_dest to = {br->dst, br->dport, br->tp, br->conn, false};

	return cp_dest_send(cp, &to, o->b, o->len);
}

void cp_call_cancel_branch(struct cp_ctx *cp, struct cp_call_branch *br, const char *reason)
{
	struct cp_call *k = cp->call;

	if (br->cancel_sent || br->inv == NULL)
		return;
	if (br->state == CP_BR_CALLING) {
		/* §9.1: not before a provisional answer. */
		br->cancel_wanted = true;
		return;
	}
	if (sip_scan((const uint8_t *)br->inv, br->inv_len, &k->sm2) == SIP_SCAN_OK &&
	    cp_call_build_cancel((const uint8_t *)br->inv, &k->sm2, reason, &k->scratch) == 0)
		cp_call_send(cp, br, &k->scratch);
	br->cancel_sent = true;
}

/* The INVITE to device @p b of @p c at its current contact and source. */
int cp_call_send_branch(struct cp_ctx *cp, struct cp_held_call *c, unsigned b, bool woken,
			uint64_t now)
{
	struct cp_call *k = cp->call;
	struct cp_call_branch *br = &c->br[b];
	const struct sw_device *d = sw_bind_by_id(cp->dp->bind, br->device);
	char target[SW_CONTACT_MAX + 1], branch[48];
	struct sw_ip our, back, nh, dst;
	uint16_t dport;
	bool peer;
	unsigned ifx, back_ifx;

	if (d == NULL || cp_call_scan_inv(k, c) != 0)
		return -EINVAL;
	dst = d->src;
	dport = d->sport;
	/* Bound through another edge that answers: through it, with the
	 * contact as registered, which it looks up (push parameters and all)
	 * and retargets; it Record-Routes, not this edge (docs/cluster.md).
	 * A call a peer relayed here goes back to no peer (edges that
	 * disagree cannot send it in circles) unless the device has just
	 * woken through one: its new binding says where it is, only that
	 * edge has its connection or its NAT binding, and a peer never
	 * relays on what a peer sent it ("Wake across edges"). */
	peer = (!c->from_peer || woken) && cp_peer_dest(cp, d, &dst, &dport);
	if (peer ? (size_t)snprintf(target, sizeof(target), "%.*s", (int)d->contact_len,
				    d->contact) >= sizeof(target)
		 : cp_uri_without_pn(d->contact, d->contact_len, target, sizeof(target)) < 0)
		return -EINVAL;
	if (cp_route(cp, &dst, &ifx, &our, &nh) != 0)
		return -EINVAL;
	/* Ours facing the PBX: a second Record-Route when the call changes
	 * family here (cp_call_build_invite()). */
	if (cp_route(cp, &c->pbx.ip, &back_ifx, &back, &nh) != 0)
		back = our;
	cp_call_branch_id(branch, sizeof(branch), c->id, b);
	/* A MESSAGE makes no dialog (RFC 3428): no Record-Route. */
	if (cp_call_build_invite(cp, (const uint8_t *)c->inv, &k->sm, target, &our, &back, branch,
				 peer || c->is_msg ? 0 : d->id, peer ? SW_TP_UDP : d->tp,
				 &k->scratch) != 0)
		return -EMSGSIZE;
	if (br->src_ref && !(sw_ip_eq(&br->dst, &dst) && br->dport == dport)) {
		sw_src_unref(cp->dp->src, &br->dst, br->dport);
		br->src_ref = false;
	}
	/* The branch's answers must pass the workers' filter even if the
	 * device moves on (a woken app registers from elsewhere): its
	 * socket stays bound while the branch may answer from it. A peer's
	 * answers pass as the peer's. */
	if (!peer && !br->src_ref && sw_src_ref(cp->dp->src, &d->src, d->sport, d->id, now) == 0)
		br->src_ref = true;
	if (peer)
		cp_count(cp, CP_C_WAKE_VIA_PEER, 1);
	br->dst = dst;
	br->dport = dport;
	br->tp = peer ? SW_TP_UDP : d->tp;
	br->conn = peer ? 0 : d->conn;
	cp_call_keep(&br->inv, &br->inv_len, k->scratch.b, k->scratch.len);
	cp_call_send(cp, br, &k->scratch);
	{
		char ip[SW_IP_PORT_STRLEN];

		cp_trace(cp, c->key, "%s to device %" PRIx64 " at %s%s",
			 c->is_msg ? "MESSAGE" : "INVITE", d->id,
			 sw_ip_port_str(&dst, dport, ip, sizeof(ip)),
			 peer ? " (the edge it is bound through)" : "");
	}
	br->state = CP_BR_CALLING;
	br->heard = false;
	br->interval = cp_call_ms_tsc(cp, CP_CALL_T1_MS);
	br->timer_tsc = now + br->interval;
	br->deadline =
		now + cp_call_ms_tsc(cp, c->is_msg ? CP_CALL_TIMER_F_MS : CP_CALL_TIMER_B_MS);
	if (!c->is_msg)
		cp_count(cp, CP_C_WAKE_BRANCHES, 1);
	return 0;
}

/* ---- the call's end ------------------------------------------------------- */

bool cp_call_branch_open(const struct cp_call_branch *br)
{
	return br->late == CP_LATE_NONE &&
	       (br->state == CP_BR_WAITING || br->state == CP_BR_CALLING ||
		br->state == CP_BR_PROCEEDING);
}

/* §16.7 step 6: 6xx first, then the lowest class; 503 becomes 500. */
int cp_call_rank(unsigned s)
{
	return s >= 600 ? 0 : (int)(s / 100);
}

void cp_call_keep_best(struct cp_call *k, struct cp_held_call *c, const uint8_t *msg,
		       const struct sip_msg *sm)
{
	unsigned up = sm->status == 503 ? 500 : sm->status;

	if ((c->best != 0 && cp_call_rank(sm->status) >= cp_call_rank(c->best)) ||
	    cp_msg_unvia(msg, sm, NULL, &k->scratch) != 0)
		return;
	if (up != sm->status) {
		/* §16.7 step 6: a 503 from a device is 500 upstream. */
		char *sp = memchr(k->scratch.b, ' ', k->scratch.len);

		if (sp != NULL && sp + 4 <= k->scratch.b + k->scratch.len)
			memcpy(sp + 1, "500", 3);
	}
	cp_call_keep(&c->best_resp, &c->best_len, k->scratch.b, k->scratch.len);
	c->best = (uint16_t)up;
}

void cp_call_trace_in(struct cp_ctx *cp, const struct cp_held_call *c, const struct dp_meta *meta,
		      const uint8_t *msg, unsigned n, const char *then)
{
	const struct sip_msg *sm = &meta->sip;
	char ip[SW_IP_PORT_STRLEN];

	cp_trace(cp, c->key, "%s from %s for %.*s@%.*s: %u device(s), %s",
		 c->is_msg ? "MESSAGE" : "INVITE",
		 sw_ip_port_str(&meta->src, meta->sport, ip, sizeof(ip)), sm->ruri.user.len,
		 sip_ptr(msg, sm->ruri.user), sm->ruri.host.len, sip_ptr(msg, sm->ruri.host), n,
		 then);
}

/* No branch left to wait for: the best answer (or ours) goes up. */
void cp_call_maybe_complete(struct cp_ctx *cp, struct cp_held_call *c, uint64_t now)
{
	unsigned pushed_failed = 0, pushed = 0;

	if (c->final != 0)
		return;
	for (unsigned b = 0; b < c->n_br; b++) {
		if (cp_call_branch_open(&c->br[b]))
			return;
		pushed += c->br[b].pushed;
		pushed_failed += c->br[b].push_failed;
	}
	if (c->best != 0 && c->best_resp != NULL) {
		cp_call_set_outcome(cp, c, CP_OUT_FAILED);
		cp_call_upstream(cp, c, c->best_resp, c->best_len, c->best, now);
		return;
	}
	cp_call_set_outcome(
		cp, c, pushed > 0 && pushed_failed == pushed ? CP_OUT_REJECTED : CP_OUT_TIMED_OUT);
	cp_call_answer(cp, c, 480, now);
}

/* Kept only for late branches: answered, past its linger (Timer H / J),
 * nothing ringing, every branch left waiting a late one. */
static bool only_late(const struct cp_held_call *c, uint64_t now)
{
	if (c->id == 0 || c->final == 0 || now < c->linger)
		return false;
	for (unsigned b = 0; b < c->n_br; b++)
		if (c->br[b].state != CP_BR_DONE &&
		    !(c->br[b].state == CP_BR_WAITING && c->br[b].late != CP_LATE_NONE))
			return false;
	return true;
}

/* The table is full: the call that ended first among those kept only for
 * late branches makes room (its devices, if they wake, get nothing). A
 * new call is worth more than a courtesy CANCEL. One pass over the
 * table, only when it is full. @return true if a slot was freed. */
static bool evict_late(struct cp_ctx *cp, uint64_t now)
{
	struct cp_call *k = cp->call;
	struct cp_held_call *old = NULL;

	for (uint32_t i = 0; i < k->max; i++)
		if (only_late(&k->c[i], now) && (old == NULL || k->c[i].linger < old->linger))
			old = &k->c[i];
	if (old == NULL)
		return false;
	cp_trace(cp, old->key, "dropped to make room for a new call: late devices get nothing");
	cp_call_release(cp, old);
	cp_count(cp, CP_C_WAKE_LATE_EVICTED, 1);
	return true;
}

struct cp_held_call *cp_call_new(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct sip_msg *sm = &meta->sip;
	struct cp_held_call *c;
	uint32_t slot;

	bool is_msg = sm->method == SIP_M_MESSAGE;

	if ((is_msg ? k->n_msgs >= k->max_msgs : k->n_open >= k->max_held) ||
	    sm->via.branch.len > SW_TX_BRANCH_MAX)
		return NULL;
	if (k->idx.free_top == 0 && !evict_late(cp, rte_rdtsc()))
		return NULL;
	if (cp->dp->held != NULL &&
	    sw_callset_add(cp->dp->held,
			   sw_callset_key(sip_ptr(msg, sm->call_id), sm->call_id.len)) != 0)
		return NULL;
	slot = sw_txidx_take(&k->idx);
	c = &k->c[slot];
	memset(c, 0, sizeof(*c));
	if (++k->gen == 0) /* ids: 32-bit generation << 24 | slot, < 2^56 */
		k->gen = 1;
	c->id = (uint64_t)k->gen << CP_CALL_SLOT_BITS | slot;
	c->key = sw_callset_key(sip_ptr(msg, sm->call_id), sm->call_id.len);
	c->from_peer = meta->src_class == DP_SRC_PEER;
	sw_txkey_set(&c->pbx, &meta->src, meta->sport, sip_ptr(msg, sm->via.branch),
		     sm->via.branch.len);
	sw_txidx_link(&k->idx, slot);
	c->tag = (uint32_t)rte_rand();
	c->in_tsc = meta->rx_tsc;
	c->is_msg = is_msg;
	c->wake_deadline = meta->rx_tsc + cp->hz * (is_msg ? cp->cfg.wake_message_window_s
							   : cp->cfg.wake_timeout_s);
	cp_call_keep(&c->inv, &c->inv_len, msg, sm->msg_len);
	if (is_msg)
		k->n_msgs++;
	else
		k->n_open++;
	return c;
}

/* ---- telemetry ------------------------------------------------------------- */

void cp_call_held(const struct cp_ctx *cp, struct cp_call_held *h)
{
	const struct cp_call *k = cp->call;
	static const unsigned pm[3] = {500, 900, 990};
	uint64_t oldest = __atomic_load_n(&k->oldest_tsc, __ATOMIC_RELAXED), now = rte_rdtsc();

	h->held = __atomic_load_n(&k->n_held, __ATOMIC_RELAXED);
	h->transactions = __atomic_load_n(&k->idx.n_used, __ATOMIC_RELAXED);
	h->max = k->max_held;
	h->oldest_age_ms = oldest != 0 && now > oldest ? (now - oldest) * 1000 / cp->hz : 0;
	h->n_push_to_reg = sw_hist_pct(&k->push_to_reg, pm, 3, h->push_to_reg_us);
	h->n_invite_to_branch = sw_hist_pct(&k->invite_to_branch, pm, 3, h->invite_to_branch_us);
}
