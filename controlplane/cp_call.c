/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path (DESIGN.md §1 steps 4-6, §7): the control plane as a
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
 * mbuf goes back at once) and at most CALL_MAX_BRANCHES devices.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_random.h>

#include "common/sw_hash.h"
#include "common/sw_log.h"
#include "controlplane/cp_bind.h"
#include "controlplane/cp_call.h"
#include "pushd/pd.h"

#define T1_MS		 500	/* §17.1.1.1 */
#define T2_MS		 4000	/* §17.1.2.2 */
#define TIMER_B_MS	 32000	/* 64 * T1: an INVITE nobody answers */
#define TIMER_C_MS	 180000 /* §16.6 step 11: a branch that rings forever */
#define LINGER_MS	 32000	/* Timer H / J: absorb ACKs and retransmissions */
#define NO_SLOT		 UINT32_MAX
#define SLOT_BITS	 24
#define REASON_CANCEL	 "SIP;cause=487;text=\"Call cancelled before the app woke\""
#define REASON_ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""

struct cp_call {
	uint32_t max, mask, n_used, free_top;
	uint32_t *buckets;     /* by PBX transaction */
	uint32_t *dev_buckets; /* waiting branches by device id */
	uint32_t *free_slots;
	struct call *c;
	uint32_t gen;
	uint64_t oldest_tsc; /* INVITE time of the oldest held call (telemetry) */
	uint32_t n_held;     /* calls without a final answer yet (telemetry) */
	struct cp_msg scratch;
	struct dp_sip_msg sm, sm2; /* scans of stored bytes */
	struct sw_hist push_to_reg, invite_to_branch;
};

static uint64_t ms_tsc(const struct cp_ctx *cp, uint64_t ms)
{
	return cp->hz * ms / 1000;
}

static uint64_t tsc_us(const struct cp_ctx *cp, uint64_t tsc)
{
	return tsc * 1000000 / cp->hz;
}

int cp_call_init(struct cp_ctx *cp)
{
	struct cp_call *k = calloc(1, sizeof(*k));
	uint32_t nb;

	if (k == NULL)
		return -ENOMEM;
	k->max = cp->cfg.max_held;
	nb = rte_align32pow2(k->max * 2);
	k->mask = nb - 1;
	k->buckets = malloc(sizeof(*k->buckets) * nb);
	k->dev_buckets = malloc(sizeof(*k->dev_buckets) * nb);
	k->free_slots = malloc(sizeof(*k->free_slots) * k->max);
	k->c = calloc(k->max, sizeof(*k->c));
	if (k->buckets == NULL || k->dev_buckets == NULL || k->free_slots == NULL || k->c == NULL) {
		free(k->buckets);
		free(k->dev_buckets);
		free(k->free_slots);
		free(k->c);
		free(k);
		return -ENOMEM;
	}
	memset(k->buckets, 0xff, sizeof(*k->buckets) * nb);
	memset(k->dev_buckets, 0xff, sizeof(*k->dev_buckets) * nb);
	for (uint32_t i = 0; i < k->max; i++)
		k->free_slots[i] = k->max - 1 - i;
	k->free_top = k->max;
	k->gen = 1;
	cp->call = k;
	return 0;
}

static void call_free_bufs(struct call *c)
{
	for (unsigned b = 0; b < c->n_br; b++)
		free(c->br[b].inv);
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
	free(k->buckets);
	free(k->dev_buckets);
	free(k->free_slots);
	free(k->c);
	free(k);
	cp->call = NULL;
}

/* ---- indexes ---------------------------------------------------------- */

static uint32_t tx_hash(const struct sw_ip *ip, uint16_t port, const char *branch, size_t len)
{
	uint32_t h = sw_fnv1a(ip->a, sizeof(ip->a), SW_FNV1A_SEED);

	h = sw_fnv1a(&port, sizeof(port), h);
	return sw_fnv1a(branch, len, h);
}

static struct call *by_tx(struct cp_call *k, const struct sw_ip *ip, uint16_t port,
			  const char *branch, size_t len)
{
	uint32_t h = tx_hash(ip, port, branch, len);

	for (uint32_t i = k->buckets[h & k->mask]; i != NO_SLOT; i = k->c[i].next) {
		struct call *c = &k->c[i];

		if (c->hash == h && c->pbx_port == port && c->pbx_branch_len == len &&
		    sw_ip_eq(&c->pbx_ip, ip) && memcmp(c->pbx_branch, branch, len) == 0)
			return c;
	}
	return NULL;
}

static struct call *by_id(struct cp_call *k, uint64_t id)
{
	uint32_t slot = (uint32_t)(id & ((1u << SLOT_BITS) - 1));

	if (id == 0 || slot >= k->max || k->c[slot].id != id)
		return NULL;
	return &k->c[slot];
}

static uint32_t slot_of(const struct cp_call *k, const struct call *c)
{
	return (uint32_t)(c - k->c);
}

static uint32_t *dev_head(struct cp_call *k, uint64_t dev)
{
	return &k->dev_buckets[sw_fnv1a(&dev, sizeof(dev), SW_FNV1A_SEED) & k->mask];
}

static void chain_branch(struct cp_call *k, struct call *c, unsigned b)
{
	uint32_t *head = dev_head(k, c->br[b].device);

	c->br[b].dev_next = *head;
	*head = slot_of(k, c) << 3 | b;
	c->br[b].chained = true;
}

static void unchain_branch(struct cp_call *k, struct call *c, unsigned b)
{
	uint32_t *p = dev_head(k, c->br[b].device), me = slot_of(k, c) << 3 | b;

	if (!c->br[b].chained)
		return;
	while (*p != NO_SLOT && *p != me)
		p = &k->c[*p >> 3].br[*p & 7].dev_next;
	if (*p == me)
		*p = c->br[b].dev_next;
	c->br[b].chained = false;
}

static void call_release(struct cp_ctx *cp, struct call *c)
{
	struct cp_call *k = cp->call;
	uint32_t *p = &k->buckets[c->hash & k->mask], me = slot_of(k, c);

	for (unsigned b = 0; b < c->n_br; b++)
		unchain_branch(k, c, b);
	while (*p != NO_SLOT && *p != me)
		p = &k->c[*p].next;
	if (*p == me)
		*p = c->next;
	if (cp->dp->held != NULL)
		sw_callset_del(cp->dp->held, c->key);
	call_free_bufs(c);
	memset(c, 0, sizeof(*c));
	k->free_slots[k->free_top++] = me;
	__atomic_store_n(&k->n_used, k->n_used - 1, __ATOMIC_RELAXED);
}

/* ---- sending -------------------------------------------------------------- */

static void keep(char **dst, uint16_t *len, const void *src, uint16_t n)
{
	char *b = malloc(n);

	if (b == NULL)
		return; /* the answer went out; only a retransmission is lost */
	memcpy(b, src, n);
	free(*dst);
	*dst = b;
	*len = n;
}

static int scan_inv(struct cp_call *k, const struct call *c)
{
	return dp_sip_scan((const uint8_t *)c->inv, c->inv_len, &k->sm) == DP_SIP_OK ? 0 : -EINVAL;
}

/* An answer upstream: sent, kept for retransmissions; a final one starts
 * Timer G (non-2xx) and the linger. */
static void upstream(struct cp_ctx *cp, struct call *c, const char *b, uint16_t len,
		     unsigned status, uint64_t now)
{
	cp_udp_send(cp, &c->pbx_ip, c->pbx_port, b, len);
	keep(&c->last, &c->last_len, b, len);
	if (status < 200 || c->final != 0)
		return;
	c->final = (uint16_t)status;
	c->linger = now + ms_tsc(cp, LINGER_MS);
	if (status >= 300) {
		c->g_interval = ms_tsc(cp, T1_MS);
		c->g_tsc = now + c->g_interval;
	}
}

/* An answer of our own to the held INVITE. */
static void answer(struct cp_ctx *cp, struct call *c, unsigned status, uint64_t now)
{
	struct cp_call *k = cp->call;
	const struct cp_answer_how how = {.stamp = &c->pbx_ip,
					  .stamp_port = c->pbx_port,
					  .tag = c->tag,
					  .no_tag = status == 100};

	if (scan_inv(k, c) != 0 ||
	    cp_answer_into((const uint8_t *)c->inv, &k->sm, status, &how, &k->scratch) != 0)
		return;
	upstream(cp, c, k->scratch.b, k->scratch.len, status, now);
}

static void count_outcome(struct cp_ctx *cp, struct call *c, enum call_outcome o)
{
	static const enum cp_counter ctr[] = {
		[OUT_ANSWERED] = CP_C_WAKE_ANSWERED, [OUT_TIMED_OUT] = CP_C_WAKE_TIMED_OUT,
		[OUT_REJECTED] = CP_C_WAKE_REJECTED, [OUT_CANCELLED] = CP_C_WAKE_CANCELLED,
		[OUT_FAILED] = CP_C_WAKE_FAILED,     [OUT_RING_FULL] = CP_C_WAKE_RING_FULL,
		[OUT_SHUTDOWN] = CP_C_WAKE_SHUTDOWN,
	};

	if (c->outcome != OUT_NONE)
		return;
	c->outcome = (uint8_t)o;
	cp_count(cp, ctr[o], 1);
}

static int send_bytes(struct cp_ctx *cp, struct call_branch *br, const struct cp_msg *o)
{
	return cp_udp_send(cp, &br->dst, br->dport, o->b, o->len);
}

static void send_cancel(struct cp_ctx *cp, struct call_branch *br, const char *reason)
{
	struct cp_call *k = cp->call;

	if (br->cancel_sent || br->inv == NULL)
		return;
	if (br->state == BR_CALLING) {
		/* §9.1: not before a provisional answer. */
		br->cancel_wanted = true;
		return;
	}
	if (dp_sip_scan((const uint8_t *)br->inv, br->inv_len, &k->sm2) == DP_SIP_OK &&
	    call_build_cancel((const uint8_t *)br->inv, &k->sm2, reason, &k->scratch) == 0)
		send_bytes(cp, br, &k->scratch);
	br->cancel_sent = true;
}

/* The INVITE to device @p b of @p c at its current contact and source. */
static int send_branch(struct cp_ctx *cp, struct call *c, unsigned b, uint64_t now)
{
	struct cp_call *k = cp->call;
	struct call_branch *br = &c->br[b];
	const struct sw_device *d = sw_bind_by_id(cp->dp->bind, br->device);
	char target[SW_CONTACT_MAX + 1], branch[48];
	struct sw_ip our, nh;
	unsigned ifx;

	if (d == NULL ||
	    call_uri_without_pn(d->contact, d->contact_len, target, sizeof(target)) < 0 ||
	    cp_route(cp, &d->src, &ifx, &our, &nh) != 0 || scan_inv(k, c) != 0)
		return -EINVAL;
	call_branch_id(branch, sizeof(branch), c->id, b);
	if (call_build_invite(cp, (const uint8_t *)c->inv, &k->sm, target, &our, branch, d->id,
			      &k->scratch) != 0)
		return -EMSGSIZE;
	br->dst = d->src;
	br->dport = d->sport;
	keep(&br->inv, &br->inv_len, k->scratch.b, k->scratch.len);
	send_bytes(cp, br, &k->scratch);
	br->state = BR_CALLING;
	br->heard = false;
	br->interval = ms_tsc(cp, T1_MS);
	br->timer_tsc = now + br->interval;
	br->deadline = now + ms_tsc(cp, TIMER_B_MS);
	cp_count(cp, CP_C_WAKE_BRANCHES, 1);
	return 0;
}

/* ---- the call's end ------------------------------------------------------- */

static bool branch_open(const struct call_branch *br)
{
	return br->late == LATE_NONE &&
	       (br->state == BR_WAITING || br->state == BR_CALLING || br->state == BR_PROCEEDING);
}

/* §16.7 step 6: 6xx first, then the lowest class; 503 becomes 500. */
static int rank(unsigned s)
{
	return s >= 600 ? 0 : (int)(s / 100);
}

/* No branch left to wait for: the best answer (or ours) goes up. */
static void maybe_complete(struct cp_ctx *cp, struct call *c, uint64_t now)
{
	unsigned pushed_failed = 0, pushed = 0;

	if (c->final != 0)
		return;
	for (unsigned b = 0; b < c->n_br; b++) {
		if (branch_open(&c->br[b]))
			return;
		pushed += c->br[b].pushed;
		pushed_failed += c->br[b].push_failed;
	}
	if (c->best != 0 && c->best_resp != NULL) {
		count_outcome(cp, c, OUT_FAILED);
		upstream(cp, c, c->best_resp, c->best_len, c->best, now);
		return;
	}
	count_outcome(cp, c, pushed > 0 && pushed_failed == pushed ? OUT_REJECTED : OUT_TIMED_OUT);
	answer(cp, c, 480, now);
}

/* The call ended upstream (answered, cancelled): every other branch stops.
 * Ringing ones get CANCEL; devices still asleep are no longer waited for,
 * but one woken later is told the call is over (cancelled_call). */
static void end_branches(struct cp_ctx *cp, struct call *c, int keep_b, enum late_cause why)
{
	const char *reason = why == LATE_CANCELLED ? REASON_CANCEL : REASON_ELSEWHERE;

	for (unsigned b = 0; b < c->n_br; b++) {
		struct call_branch *br = &c->br[b];

		if ((int)b == keep_b)
			continue;
		if (br->state == BR_CALLING || br->state == BR_PROCEEDING) {
			br->why = (uint8_t)why;
			send_cancel(cp, br, reason);
		} else if (br->state == BR_WAITING && br->late == LATE_NONE) {
			br->late = (uint8_t)why;
			if (cp->cfg.wake_cancel_alert && cp->pd != NULL) {
				/* A missed-call notice instead of a call to end. */
				struct pd_request rq = {.id = c->id << 4 | b};
				const struct sw_device *d = sw_bind_by_id(cp->dp->bind, br->device);

				if (d != NULL && cp_push_request_of(d, PD_KIND_ALERT, &rq) == 0 &&
				    pd_submit(cp->pd, &rq) == 0)
					cp_count(cp, CP_C_WAKE_ALERTS, 1);
				unchain_branch(cp->call, c, b);
				br->state = BR_DONE;
			}
		}
	}
}

/* ---- PBX requests ------------------------------------------------------- */

struct pick {
	uint64_t id[CALL_MAX_BRANCHES];
	unsigned n;
};

static int pick_one(const struct sw_device *d, void *arg)
{
	struct pick *p = arg;

	if (p->n < CALL_MAX_BRANCHES)
		p->id[p->n++] = d->id;
	return p->n == CALL_MAX_BRANCHES;
}

/* The devices the Request-URI names (as the workers find them, dp_fwd.c
 * find_device()): by contact, by push address, else every one of the AOR. */
static void devices_of(struct cp_ctx *cp, const uint8_t *msg, const struct dp_sip_msg *sm,
		       struct pick *p)
{
	const struct dp_sip_uri *u = &sm->ruri;
	const struct sw_device *d;
	struct dp_sip_push pn;
	char key[SW_PN_KEY_MAX];
	int kl;

	p->n = 0;
	d = sw_bind_by_contact(cp->dp->bind, dp_sip_ptr(msg, u->whole), u->whole.len);
	if (d == NULL) {
		dp_sip_push_from_params(msg, u->params, &pn);
		if (pn.form != DP_SIP_PN_NONE) {
			kl = sw_pn_key(key, sizeof(key), dp_sip_ptr(msg, pn.provider),
				       pn.provider.len, dp_sip_ptr(msg, pn.prid), pn.prid.len,
				       dp_sip_ptr(msg, pn.param), pn.param.len);
			if (kl > 0)
				d = sw_bind_by_pn(cp->dp->bind, key, (size_t)kl);
		}
	}
	if (d != NULL) {
		p->id[p->n++] = d->id;
		return;
	}
	if (u->scheme != DP_SIP_SCHEME_SIP && u->scheme != DP_SIP_SCHEME_SIPS)
		return;
	kl = sw_aor_canon(key, SW_AOR_MAX, dp_sip_ptr(msg, u->user), u->user.len,
			  dp_sip_ptr(msg, u->host), u->host.len, u->host_is_ipv6);
	if (kl > 0)
		sw_bind_foreach_aor(cp->dp->bind, key, (size_t)kl, pick_one, p);
}

static bool device_alive(const struct cp_ctx *cp, const struct sw_device *d, uint64_t now)
{
	const struct sw_src *e = sw_src_lookup(cp->dp->src, &d->src, d->sport);
	uint64_t last = e != NULL ? sw_src_last_alive(e) : 0;

	return e != NULL && (last >= now || now - last <= cp->dp->p.alive_window_tsc);
}

/* Caller details for the push (the app shows them in CallKit / its UI). */
static void caller_of(const uint8_t *msg, const struct dp_sip_msg *sm, struct pd_request *rq)
{
	const struct dp_sip_nameaddr *f = &sm->from;
	const char *v = dp_sip_ptr(msg, f->value), *lt = memchr(v, '<', f->value.len);
	size_t n = lt != NULL ? (size_t)(lt - v) : 0;

	snprintf(rq->call_id, sizeof(rq->call_id), "%.*s", sm->call_id.len,
		 dp_sip_ptr(msg, sm->call_id));
	snprintf(rq->caller_number, sizeof(rq->caller_number), "%.*s", f->uri.user.len,
		 dp_sip_ptr(msg, f->uri.user));
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '"'))
		n--;
	while (n > 0 && (*v == ' ' || *v == '"'))
		v++, n--;
	snprintf(rq->caller_name, sizeof(rq->caller_name), "%.*s", (int)n, v);
}

static struct call *call_new(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct dp_sip_msg *sm = &meta->sip;
	struct call *c;
	uint32_t slot;

	if (k->free_top == 0 || sm->via.branch.len > sizeof(c->pbx_branch))
		return NULL;
	if (cp->dp->held != NULL &&
	    sw_callset_add(cp->dp->held,
			   sw_callset_key(dp_sip_ptr(msg, sm->call_id), sm->call_id.len)) != 0)
		return NULL;
	slot = k->free_slots[--k->free_top];
	c = &k->c[slot];
	memset(c, 0, sizeof(*c));
	if (++k->gen == 0) /* ids: 32-bit generation << 24 | slot, < 2^56 */
		k->gen = 1;
	c->id = (uint64_t)k->gen << SLOT_BITS | slot;
	c->key = sw_callset_key(dp_sip_ptr(msg, sm->call_id), sm->call_id.len);
	c->pbx_ip = meta->src;
	c->pbx_port = meta->sport;
	c->pbx_branch_len = (uint8_t)sm->via.branch.len;
	memcpy(c->pbx_branch, dp_sip_ptr(msg, sm->via.branch), sm->via.branch.len);
	c->hash = tx_hash(&c->pbx_ip, c->pbx_port, c->pbx_branch, c->pbx_branch_len);
	c->next = k->buckets[c->hash & k->mask];
	k->buckets[c->hash & k->mask] = slot;
	c->tag = (uint32_t)rte_rand();
	c->in_tsc = meta->rx_tsc;
	c->wake_deadline = meta->rx_tsc + cp->hz * cp->cfg.wake_timeout_s;
	keep(&c->inv, &c->inv_len, msg, sm->msg_len);
	__atomic_store_n(&k->n_used, k->n_used + 1, __ATOMIC_RELAXED);
	return c;
}

static void invite_in(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct dp_sip_msg *sm = &meta->sip;
	uint64_t now = rte_rdtsc();
	struct pick p;
	struct call *c;
	unsigned pushes = 0, ring_full = 0, policy = cp->cfg.wake_policy;

	devices_of(cp, msg, sm, &p);
	if (p.n == 0) {
		cp_count(cp, CP_C_WAKE_NO_DEVICE, 1);
		cp_sip_reply(cp, meta, msg, 480);
		return;
	}
	c = call_new(cp, meta, msg);
	if (c == NULL || c->inv == NULL) {
		if (c != NULL)
			call_release(cp, c);
		cp_count_drop(cp, CP_D_WAKE_HELD_FULL, 1);
		cp_sip_reply(cp, meta, msg, 503);
		return;
	}
	cp_count(cp, CP_C_WAKE_CALLS, 1);
	answer(cp, c, 100, now);
	for (unsigned i = 0; i < p.n; i++) {
		const struct sw_device *d = sw_bind_by_id(cp->dp->bind, p.id[i]);
		struct pd_request rq = {.id = c->id << 4 | c->n_br};
		struct call_branch *br = &c->br[c->n_br];
		bool alive, can_push;

		if (d == NULL)
			continue;
		alive = device_alive(cp, d, now);
		can_push = cp->pd != NULL && cp_push_request_of(d, PD_KIND_CALL, &rq) == 0;
		br->device = d->id;
		c->n_br++;
		/* ping: the alive get the call, the asleep a push. always-push:
		 * a push whenever there is an address. parallel: both. */
		if (can_push && (!alive || policy != DP_WAKE_PING)) {
			caller_of(msg, sm, &rq);
			snprintf(rq.aor, sizeof(rq.aor), "%s", d->aor);
			rq.deadline_ms = pd_now_ms() + cp->cfg.wake_timeout_s * 1000ull;
			int rc = pd_submit(cp->pd, &rq);

			if (rc == 0) {
				br->pushed = true;
				br->push_tsc = now;
				br->state = BR_WAITING;
				chain_branch(cp->call, c, c->n_br - 1);
				cp_count(cp, CP_C_WAKE_PUSHES, 1);
				pushes++;
			} else {
				ring_full += rc == -ENOBUFS;
				br->state = BR_DONE;
				br->status = 503;
			}
			if (policy == DP_WAKE_PARALLEL && send_branch(cp, c, c->n_br - 1, now) == 0)
				br->state = BR_CALLING; /* still chained: a new contact resends */
		} else if (alive || policy == DP_WAKE_PARALLEL) {
			if (send_branch(cp, c, c->n_br - 1, now) != 0)
				br->state = BR_DONE;
		} else {
			br->state = BR_DONE; /* asleep and no way to wake it */
			br->status = 480;
		}
	}
	if (pushes > 0 && cp->cfg.wake_provisional != 0)
		answer(cp, c, cp->cfg.wake_provisional, now);
	if (ring_full > 0 && pushes == 0 && c->final == 0) {
		bool open = false;

		for (unsigned b = 0; b < c->n_br; b++)
			open |= branch_open(&c->br[b]);
		if (!open) {
			count_outcome(cp, c, OUT_RING_FULL);
			answer(cp, c, 503, now);
			return;
		}
	}
	bool open = false;

	for (unsigned b = 0; b < c->n_br; b++)
		open |= branch_open(&c->br[b]);
	if (!open && c->final == 0) {
		/* Nobody to call and nobody to wake. */
		cp_count(cp, CP_C_WAKE_NO_DEVICE, 1);
		c->outcome = OUT_TIMED_OUT;
		answer(cp, c, 480, now);
	}
}

static void cancel_in(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		      struct call *c)
{
	uint64_t now = rte_rdtsc();

	/* §9.2: the CANCEL is answered 200 whatever the INVITE's state. */
	cp_sip_reply(cp, meta, msg, 200);
	if (c->final != 0)
		return;
	count_outcome(cp, c, OUT_CANCELLED);
	end_branches(cp, c, -1, LATE_CANCELLED);
	answer(cp, c, 487, now);
}

void cp_call_request(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct dp_sip_msg *sm = &meta->sip;
	struct call *c = by_tx(cp->call, &meta->src, meta->sport, dp_sip_ptr(msg, sm->via.branch),
			       sm->via.branch.len);

	switch (sm->method) {
	case DP_SIP_M_INVITE:
		if (c != NULL) {
			/* §17.2.1: a retransmission gets the last answer again. */
			cp_count(cp, CP_C_WAKE_RETRANSMISSIONS, 1);
			if (c->last != NULL)
				cp_udp_send(cp, &c->pbx_ip, c->pbx_port, c->last, c->last_len);
			return;
		}
		if (sm->to.tag.len == 0) {
			invite_in(cp, meta, msg);
			return;
		}
		break; /* a re-INVITE outside our Record-Route: nothing to resume */
	case DP_SIP_M_CANCEL:
		if (c != NULL)
			cancel_in(cp, meta, msg, c);
		else
			cp_sip_reply(cp, meta, msg, 481);
		return;
	case DP_SIP_M_ACK:
		if (c != NULL && c->final >= 300)
			c->acked = true; /* Timer G stops */
		else
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

static void late_answer(struct cp_ctx *cp, struct call *c, struct call_branch *br,
			const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct dp_sip_msg *rsm = &meta->sip;
	char branch[48];
	struct sw_ip our, nh;
	unsigned ifx;

	if (rsm->status < 200) {
		send_cancel(cp, br, br->late == LATE_CANCELLED ? REASON_CANCEL : REASON_ELSEWHERE);
		return;
	}
	if (dp_sip_scan((const uint8_t *)br->inv, br->inv_len, &k->sm2) != DP_SIP_OK)
		return;
	if (rsm->status >= 300) {
		if (call_build_ack((const uint8_t *)br->inv, &k->sm2, msg, rsm, &k->scratch) == 0)
			send_bytes(cp, br, &k->scratch);
		br->state = BR_DONE;
		return;
	}
	/* A 2xx for a call already over: acknowledged and hung up here. */
	if (cp_route(cp, &br->dst, &ifx, &our, &nh) != 0)
		return;
	for (int bye = 0; bye < 2; bye++) {
		call_branch_id(branch, sizeof(branch), c->id, bye ? CALL_TAG_BYE : CALL_TAG_ACK);
		if (call_build_in_dialog((const uint8_t *)br->inv, &k->sm2, msg, rsm, bye, &our,
					 cp->dp->p.sip_port, branch, &k->scratch) == 0)
			send_bytes(cp, br, &k->scratch);
	}
	br->state = BR_DONE;
}

void cp_call_response(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_call *k = cp->call;
	const struct dp_sip_msg *sm = &meta->sip;
	const char *b = dp_sip_ptr(msg, sm->via.branch) + DP_BRANCH_MAGIC_LEN + 2;
	uint64_t id = 0, now = rte_rdtsc();
	unsigned bi = 0;
	struct call *c;
	struct call_branch *br;

	if (sm->via.branch.len != DP_BRANCH_MAGIC_LEN + 2 + 17) {
		cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
		return;
	}
	for (unsigned i = 0; i < 17; i++) {
		int v = b[i] >= '0' && b[i] <= '9'   ? b[i] - '0'
			: b[i] >= 'a' && b[i] <= 'f' ? b[i] - 'a' + 10
						     : -1;

		if (v < 0) {
			cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
			return;
		}
		if (i < 16)
			id = id << 4 | (uint64_t)v;
		else
			bi = (unsigned)v;
	}
	c = by_id(k, id);
	if (c == NULL || (bi >= c->n_br && bi != CALL_TAG_BYE)) {
		cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
		return;
	}
	if (bi == CALL_TAG_BYE || sm->cseq_method == DP_SIP_M_CANCEL)
		return; /* answers to our CANCEL / BYE: nothing to do */
	br = &c->br[bi];
	if (!sw_ip_eq(&meta->src, &br->dst) || br->inv == NULL) {
		cp_count_drop(cp, CP_D_WAKE_STRAY, 1);
		return;
	}
	br->heard = true;
	if (br->state == BR_CALLING && sm->status < 200) {
		br->state = BR_PROCEEDING;
		br->deadline = now + ms_tsc(cp, TIMER_C_MS);
		unchain_branch(k, c, bi); /* it has the call: a new contact changes nothing */
	}
	if (br->late != LATE_NONE) {
		late_answer(cp, c, br, meta, msg);
		return;
	}
	if (br->cancel_wanted && !br->cancel_sent && sm->status < 200)
		send_cancel(cp, br, br->why == LATE_CANCELLED ? REASON_CANCEL : REASON_ELSEWHERE);
	if (sm->status >= 200 && sm->status < 300 &&
	    (c->outcome == OUT_CANCELLED || c->outcome == OUT_SHUTDOWN)) {
		/* Answered after the PBX heard 487 / 503: never a call. */
		br->late = LATE_CANCELLED;
		late_answer(cp, c, br, meta, msg);
		return;
	}
	if (sm->status == 100)
		return; /* §16.7 step 5: never relayed */
	if (sm->status < 200) {
		if (c->final == 0 && cp_msg_unvia(msg, sm, NULL, &k->scratch) == 0)
			upstream(cp, c, k->scratch.b, k->scratch.len, sm->status, now);
		return;
	}
	if (sm->status < 300) {
		/* §16.7 step 5: every 2xx goes up, retransmissions too. */
		unchain_branch(k, c, bi);
		br->state = BR_DONE;
		br->status = sm->status;
		if (cp_msg_unvia(msg, sm, NULL, &k->scratch) == 0) {
			if (c->final == 0) {
				count_outcome(cp, c, OUT_ANSWERED);
				end_branches(cp, c, (int)bi, LATE_ELSEWHERE);
			}
			upstream(cp, c, k->scratch.b, k->scratch.len, sm->status, now);
		}
		return;
	}
	/* A non-2xx final: ACK it (§17.1.1.3), keep the best (§16.7 step 6). */
	if (dp_sip_scan((const uint8_t *)br->inv, br->inv_len, &k->sm2) == DP_SIP_OK &&
	    call_build_ack((const uint8_t *)br->inv, &k->sm2, msg, sm, &k->scratch) == 0)
		send_bytes(cp, br, &k->scratch);
	if (br->state == BR_DONE)
		return; /* a retransmitted final */
	unchain_branch(k, c, bi);
	br->state = BR_DONE;
	br->status = sm->status;
	if (c->final == 0 && (c->best == 0 || rank(sm->status) < rank(c->best))) {
		unsigned up = sm->status == 503 ? 500 : sm->status;

		if (cp_msg_unvia(msg, sm, NULL, &k->scratch) == 0) {
			if (up != sm->status) {
				/* §16.7 step 6: a 503 from a device is 500 upstream. */
				char *sp = memchr(k->scratch.b, ' ', k->scratch.len);

				if (sp != NULL && sp + 4 <= k->scratch.b + k->scratch.len)
					memcpy(sp + 1, "500", 3);
			}
			keep(&c->best_resp, &c->best_len, k->scratch.b, k->scratch.len);
			c->best = (uint16_t)up;
		}
	}
	if (sm->status >= 600 && c->final == 0) {
		end_branches(cp, c, (int)bi, LATE_ELSEWHERE);
		for (unsigned j = 0; j < c->n_br; j++)
			if (c->br[j].state == BR_WAITING) {
				unchain_branch(k, c, j);
				c->br[j].state = BR_DONE;
			}
	}
	maybe_complete(cp, c, now);
}

/* ---- wake, push results, timers ------------------------------------------------ */

void cp_call_registered(struct cp_ctx *cp, uint64_t id)
{
	struct cp_call *k = cp->call;
	uint32_t *p = dev_head(k, id);
	uint64_t now = rte_rdtsc();

	while (*p != NO_SLOT) {
		uint32_t e = *p;
		struct call *c = &k->c[e >> 3];
		struct call_branch *br = &c->br[e & 7];

		if (br->device != id) {
			p = &br->dev_next;
			continue;
		}
		*p = br->dev_next; /* unchained: this device is woken once per call */
		br->chained = false;
		if (br->state == BR_CALLING) {
			/* parallel: the last contact got it; a new source gets it
			 * instead, an unchanged one keeps its transaction. */
			const struct sw_device *d = sw_bind_by_id(cp->dp->bind, id);

			if (d == NULL || br->heard ||
			    (sw_ip_eq(&d->src, &br->dst) && d->sport == br->dport))
				continue;
		} else if (br->state != BR_WAITING) {
			continue;
		}
		if (send_branch(cp, c, e & 7, now) != 0) {
			br->state = BR_DONE;
			br->status = 480;
			maybe_complete(cp, c, now);
			continue;
		}
		if (br->late != LATE_NONE) {
			br->cancel_wanted = true;
			cp_count(cp, CP_C_WAKE_LATE_CANCELS, 1);
			continue;
		}
		cp_count(cp, CP_C_WAKE_WOKEN, 1);
		if (br->pushed)
			sw_hist_add(&k->push_to_reg, tsc_us(cp, now - br->push_tsc));
		sw_hist_add(&k->invite_to_branch, tsc_us(cp, now - c->in_tsc));
	}
}

static void push_result(struct cp_ctx *cp, const struct pd_result *r)
{
	struct cp_call *k = cp->call;
	struct call *c = by_id(k, r->id >> 4);
	unsigned b = (unsigned)(r->id & 0xf);
	uint64_t dev = strtoull(r->device_key, NULL, 16);

	if (r->status == PD_DEAD_TOKEN)
		cp_bind_drop_push(cp, dev, r->provider_ts_ms);
	if (r->status == PD_DELIVERED || c == NULL || b >= c->n_br)
		return;
	struct call_branch *br = &c->br[b];

	br->push_done = true;
	if (br->state != BR_WAITING)
		return;
	CP_LOG(INFO, "push for a held call to device %016" PRIx64 " failed: %s %s", dev,
	       pd_status_name(r->status), r->reason);
	unchain_branch(k, c, b);
	br->state = BR_DONE;
	br->status = 480;
	br->push_failed = true;
	maybe_complete(cp, c, rte_rdtsc());
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

static void branch_timers(struct cp_ctx *cp, struct call *c, unsigned b, uint64_t now)
{
	struct call_branch *br = &c->br[b];

	if (now >= c->wake_deadline &&
	    (br->state == BR_WAITING || (br->state == BR_CALLING && !br->heard))) {
		/* Not woken, or not heard from, within wake.timeout_s: no longer
		 * waited for (DESIGN.md §1 step 5: the PBX hears 480, not silence). */
		unchain_branch(cp->call, c, b);
		br->state = BR_DONE;
		br->status = 480;
		return;
	}
	if (br->state == BR_CALLING && now >= br->timer_tsc) {
		if (now >= br->deadline) {
			/* Timer B: nobody there. */
			unchain_branch(cp->call, c, b);
			br->state = BR_DONE;
			br->status = 408;
			return;
		}
		cp_udp_send(cp, &br->dst, br->dport, br->inv, br->inv_len);
		br->interval *= 2;
		br->timer_tsc = now + br->interval;
	} else if (br->state == BR_PROCEEDING && now >= br->deadline) {
		/* Timer C: ringing too long. */
		send_cancel(cp, br, NULL);
		br->state = BR_DONE;
		br->status = 408;
	}
}

void cp_call_tick(struct cp_ctx *cp, uint64_t now)
{
	struct cp_call *k = cp->call;
	uint64_t oldest = 0;
	uint32_t held = 0;

	for (uint32_t i = 0, seen = 0; i < k->max && seen < k->n_used; i++) {
		struct call *c = &k->c[i];
		bool open = false;

		if (c->id == 0)
			continue;
		seen++;
		for (unsigned b = 0; b < c->n_br; b++) {
			branch_timers(cp, c, b, now);
			open |= c->br[b].state == BR_WAITING || c->br[b].state == BR_CALLING ||
				c->br[b].state == BR_PROCEEDING;
		}
		if (c->final == 0) {
			maybe_complete(cp, c, now);
			if (c->final == 0) {
				held++;
				if (oldest == 0 || c->in_tsc < oldest)
					oldest = c->in_tsc;
			}
			continue;
		}
		if (c->final >= 300 && !c->acked && now >= c->g_tsc && now < c->linger) {
			/* Timer G: our final again until the PBX ACKs it. */
			cp_udp_send(cp, &c->pbx_ip, c->pbx_port, c->last, c->last_len);
			c->g_interval = RTE_MIN(c->g_interval * 2, ms_tsc(cp, T2_MS));
			c->g_tsc = now + c->g_interval;
		}
		if (now >= c->linger && !open)
			call_release(cp, c);
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
		struct call *c = &k->c[i];

		if (c->id == 0 || c->final != 0)
			continue;
		for (unsigned b = 0; b < c->n_br; b++)
			if (c->br[b].state == BR_PROCEEDING)
				send_cancel(cp, &c->br[b], NULL);
		count_outcome(cp, c, OUT_SHUTDOWN);
		answer(cp, c, 503, now);
		n++;
	}
	if (n > 0) {
		CP_LOG(NOTICE, "%u held call(s) answered 503: stopping", n);
		/* The workers send what is on their down rings before they stop. */
		rte_delay_us_sleep(50 * 1000);
	}
}

/* ---- telemetry ------------------------------------------------------------- */

void cp_call_held(const struct cp_ctx *cp, struct cp_call_held *h)
{
	const struct cp_call *k = cp->call;
	static const unsigned pm[3] = {500, 900, 990};
	uint64_t oldest = __atomic_load_n(&k->oldest_tsc, __ATOMIC_RELAXED), now = rte_rdtsc();

	h->held = __atomic_load_n(&k->n_held, __ATOMIC_RELAXED);
	h->transactions = __atomic_load_n(&k->n_used, __ATOMIC_RELAXED);
	h->max = k->max;
	h->oldest_age_ms = oldest != 0 && now > oldest ? (now - oldest) * 1000 / cp->hz : 0;
	h->n_push_to_reg = sw_hist_pct(&k->push_to_reg, pm, 3, h->push_to_reg_us);
	h->n_invite_to_branch = sw_hist_pct(&k->invite_to_branch, pm, 3, h->invite_to_branch_us);
}
