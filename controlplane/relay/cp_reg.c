/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The REGISTER relay (docs/design.md §1 step 1; RFC 3261 §10, §16; RFC 3327
 * Path; RFC 3581 rport; RFC 8599 §5.6).
 *
 * An app's REGISTER is relayed to the PBX in use (pbx.servers) with our Via
 * on top (a DP_BRANCH_CP 'r' branch naming the pending transaction), the
 * app's Via stamped with received / rport, Path so that calls come back
 * through sipwake, and Feature-Caps with the push services configured. The
 * answer comes back to the same transaction: challenges and refusals go to
 * the app untouched (our Via removed); only a 2xx changes a binding, with
 * the expiry the PBX granted for our contact, and is relayed after the store
 * has made the change durable (cp_reg_flush(): one commit per loop round).
 *
 * The bytes are spliced from the worker's scan (offsets into the message),
 * not re-parsed: a REGISTER costs a few microseconds here.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_random.h>

#include "common/sw_log.h"
#include "common/sw_hash.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/output/cp_msg.h"

#define REG_BRANCH_KIND 'r'
#define DEFAULT_EXPIRES 3600
#define MAX_CONTACTS	32

/* One relayed REGISTER waiting for the PBX's final answer. */
struct reg_tx {
	uint64_t id;   /* 0: free slot; else slot | generation << 32 */
	uint32_t next; /* hash chain by (app source, app branch); UINT32_MAX ends */
	uint32_t hash;
	uint64_t deadline_tsc;
	uint8_t server, tries;
	bool had_auth;
	uint64_t waited; /* device a held call waits for: its trace notes this REGISTER */
	struct sw_ip app_ip;
	uint16_t app_port;
	uint8_t app_branch_len;
	char app_branch[64];
	struct cp_bind_req bind; /* the binding the REGISTER asks for (cp_bind.h) */
	uint16_t req_len;
	char *req; /* the relayed bytes, for retransmissions and failover */
};

/* A 2xx waiting for the store's commit. */
struct reg_out {
	struct sw_ip ip;
	uint16_t port;
	uint16_t len;
	char *b;
	uint64_t device; /* bound or refreshed by it (calls waiting for it go on) */
};

struct cp_reg {
	uint32_t max, mask, n_used;
	uint32_t *buckets;
	struct reg_tx *tx;
	uint32_t gen;
	uint32_t n_out, max_out;
	struct reg_out *out;
	struct cp_msg scratch;
	struct sip_msg sm; /* scratch scan of a relayed request */
	uint64_t next_check_tsc;
	uint32_t check_seq;
	uint8_t up[DP_MAX_SERVERS]; /* answered the last health check */
	char fcaps[96];		    /* "*;+sip.pns=\"apns\"" per the push services configured */
};

int cp_reg_init(struct cp_ctx *cp)
{
	struct cp_reg *r = calloc(1, sizeof(*r));
	uint32_t nb;
	const struct pd_config *push = &cp->cfg.push;

	if (r == NULL)
		return -ENOMEM;
	r->max = cp->cfg.max_pending;
	nb = rte_align32pow2(r->max * 2);
	r->mask = nb - 1;
	r->buckets = malloc(sizeof(*r->buckets) * nb);
	r->tx = calloc(r->max, sizeof(*r->tx));
	r->max_out = r->max;
	r->out = calloc(r->max_out, sizeof(*r->out));
	if (r->buckets == NULL || r->tx == NULL || r->out == NULL) {
		free(r->buckets);
		free(r->tx);
		free(r->out);
		free(r);
		return -ENOMEM;
	}
	memset(r->buckets, 0xff, sizeof(*r->buckets) * nb);
	r->gen = 1;
	/* RFC 8599 §5.6.1.1: the services this edge can push through. */
	if (push->n_apns > 0 && push->n_fcm > 0)
		snprintf(r->fcaps, sizeof(r->fcaps), "*;+sip.pns=\"apns,fcm\"");
	else if (push->n_fcm > 0)
		snprintf(r->fcaps, sizeof(r->fcaps), "*;+sip.pns=\"fcm\"");
	else if (push->n_apns > 0)
		snprintf(r->fcaps, sizeof(r->fcaps), "*;+sip.pns=\"apns\"");
	cp->reg = r;
	return 0;
}

void cp_reg_fini(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;

	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->max; i++)
		free(r->tx[i].req);
	for (uint32_t i = 0; i < r->n_out; i++)
		free(r->out[i].b);
	free(r->buckets);
	free(r->tx);
	free(r->out);
	free(r);
	cp->reg = NULL;
}

/* ---- pending transactions ------------------------------------------- */

static struct reg_tx *tx_find_app(struct cp_reg *r, const struct sw_ip *ip, uint16_t port,
				  const char *branch, size_t len)
{
	uint32_t h = cp_tx_hash(ip, port, branch, len);

	for (uint32_t i = r->buckets[h & r->mask]; i != UINT32_MAX; i = r->tx[i].next) {
		struct reg_tx *t = &r->tx[i];

		if (t->hash == h && t->app_port == port && t->app_branch_len == len &&
		    sw_ip_eq(&t->app_ip, ip) && memcmp(t->app_branch, branch, len) == 0)
			return t;
	}
	return NULL;
}

static struct reg_tx *tx_by_id(struct cp_reg *r, uint64_t id)
{
	uint32_t slot = (uint32_t)id;

	if (slot >= r->max || r->tx[slot].id != id || id == 0)
		return NULL;
	return &r->tx[slot];
}

static struct reg_tx *tx_new(struct cp_reg *r, const struct sw_ip *ip, uint16_t port,
			     const char *branch, size_t len)
{
	static uint32_t cursor;
	struct reg_tx *t = NULL;
	uint32_t slot;

	if (r->n_used >= r->max || len > sizeof(t->app_branch))
		return NULL;
	for (uint32_t k = 0; k < r->max; k++) {
		slot = (cursor + k) % r->max;
		if (r->tx[slot].id == 0) {
			t = &r->tx[slot];
			cursor = slot + 1;
			break;
		}
	}
	if (t == NULL)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->id = slot | (uint64_t)r->gen++ << 32;
	if (r->gen == 0)
		r->gen = 1;
	t->app_ip = *ip;
	t->app_port = port;
	t->app_branch_len = (uint8_t)len;
	memcpy(t->app_branch, branch, len);
	t->hash = cp_tx_hash(ip, port, branch, len);
	t->next = r->buckets[t->hash & r->mask];
	r->buckets[t->hash & r->mask] = slot;
	r->n_used++;
	return t;
}

static void tx_free(struct cp_reg *r, struct reg_tx *t)
{
	uint32_t slot = (uint32_t)t->id, *pp = &r->buckets[t->hash & r->mask];

	while (*pp != UINT32_MAX && *pp != slot)
		pp = &r->tx[*pp].next;
	if (*pp == slot)
		*pp = t->next;
	free(t->req);
	memset(t, 0, sizeof(*t));
	r->n_used--;
}

/* ---- building messages -------------------------------------------------- */

/*
 * An answer of our own to the app for a relayed REGISTER (408 when no server
 * answered, 500 when the binding could not be kept): built from the relayed
 * request, whose second Via is the app's, already stamped.
 */
static void answer_from_relayed(struct cp_ctx *cp, const struct reg_tx *t, unsigned status)
{
	const struct cp_answer_how how = {
		.tag = (uint32_t)(t->id >> 32), .dst = &t->app_ip, .dport = t->app_port};

	if (sip_scan((const uint8_t *)t->req, t->req_len, &cp->reg->sm) == SIP_SCAN_OK)
		cp_answer(cp, (const uint8_t *)t->req, &cp->reg->sm, status, &how);
}

/* ";rport" without a value inside @via (a via-parm), or -1. */
static int find_bare_rport(const uint8_t *msg, struct sip_slice via)
{
	for (unsigned i = via.off; i + 6 <= (unsigned)via.off + via.len; i++) {
		unsigned e = i + 6;

		if (msg[i] == ';' && strncasecmp((const char *)msg + i + 1, "rport", 5) == 0 &&
		    (e == (unsigned)via.off + via.len || msg[e] == ';' || msg[e] == ' ' ||
		     msg[e] == ','))
			return (int)(i - via.off);
	}
	return -1;
}

/* The relayed REGISTER: our Via on top, the app's Via stamped (RFC 3581
 * §4), Max-Forwards decremented, Path and Feature-Caps added. */
static int build_relay(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		       const struct reg_tx *t, const struct sw_ip *our, struct cp_msg *o)
{
	const struct sip_msg *sm = &meta->sip;
	uint16_t start_end = sm->nhdrs > 0 ? sm->hdrs[0].name.off : sm->hdrs_end;
	bool top = true, have_mf = false;

	o->len = 0;
	o->overflow = false;
	cp_msg_put(o, msg, start_end);
	cp_msg_str(o, "Via: SIP/2.0/UDP ");
	cp_msg_host(o, our);
	cp_msg_fmt(o, ":%u;branch=" DP_BRANCH_MAGIC "%c%c%016" PRIx64 ";rport\r\n",
		   cp->dp->ports.sip_port, DP_BRANCH_CP, REG_BRANCH_KIND, t->id);
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];
		struct sip_slice l = cp_hdr_line(h);

		if (h->id == SIP_H_VIA && top) {
			struct sip_slice v = sm->via.value;
			int rp = find_bare_rport(msg, v);
			uint16_t vend = (uint16_t)(v.off + v.len);

			top = false;
			cp_msg_put(o, msg + h->name.off, (size_t)(v.off - h->name.off));
			if (rp >= 0) {
				cp_msg_put(o, msg + v.off, (size_t)rp);
				cp_msg_fmt(o, ";rport=%u", meta->sport);
				cp_msg_put(o, msg + v.off + rp + 6, (size_t)(v.len - rp - 6));
			} else {
				cp_msg_put(o, msg + v.off, v.len);
			}
			if (sm->via.received.len == 0) {
				cp_msg_str(o, ";received=");
				cp_msg_host(o, &meta->src);
			}
			/* The rest of the field: further via-parms after a comma. */
			cp_msg_put(o, msg + vend, (size_t)(l.off + l.len - vend));
			cp_msg_str(o, "\r\n");
			continue;
		}
		if (h->id == SIP_H_MAX_FORWARDS) {
			have_mf = true;
			cp_msg_fmt(o, "Max-Forwards: %d\r\n", sm->max_forwards - 1);
			continue;
		}
		cp_msg_put(o, msg + l.off, l.len);
		cp_msg_str(o, "\r\n");
	}
	if (!have_mf)
		cp_msg_str(o, "Max-Forwards: 70\r\n");
	/* RFC 3327 §5.1: our URI, with lr, reachable by the PBX. */
	cp_msg_str(o, "Path: <sip:");
	cp_msg_host(o, our);
	cp_msg_fmt(o, ":%u;lr>\r\n", cp->dp->ports.sip_port);
	if (cp->reg->fcaps[0] != '\0')
		cp_msg_fmt(o, "Feature-Caps: %s\r\n", cp->reg->fcaps);
	cp_msg_str(o, "\r\n");
	cp_msg_put(o, msg + sm->hdrs_end, (size_t)(sm->msg_len - sm->hdrs_end));
	return o->overflow ? -EMSGSIZE : 0;
}

static int send_to_server(struct cp_ctx *cp, struct reg_tx *t)
{
	const struct dp_server *sv = &cp->servers[t->server];

	t->deadline_tsc = rte_rdtsc() + cp->hz * cp->cfg.pbx_timeout_ms / 1000;
	return cp_udp_send(cp, &sv->ip, sv->port, t->req, t->req_len);
}

/* ---- requests ------------------------------------------------------- */

static bool has_auth(const uint8_t *msg, const struct sip_msg *sm)
{
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];

		if ((h->name.len == 13 &&
		     strncasecmp(sip_ptr(msg, h->name), "Authorization", 13) == 0) ||
		    (h->name.len == 19 &&
		     strncasecmp(sip_ptr(msg, h->name), "Proxy-Authorization", 19) == 0))
			return true;
	}
	return false;
}

void cp_reg_request(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_reg *r = cp->reg;
	const struct sip_msg *sm = &meta->sip;
	const char *branch = sip_ptr(msg, sm->via.branch);
	struct sw_ip our, nh;
	unsigned ifx;
	struct reg_tx *t;
	int rc;

	if (cp_ban_check(cp, &meta->src)) {
		cp_count_drop(cp, CP_D_REG_BANNED, 1);
		return;
	}
	t = tx_find_app(r, &meta->src, meta->sport, branch, sm->via.branch.len);
	if (t != NULL) {
		/* §17.2.2: the app's retransmission of a pending REGISTER. */
		cp_count(cp, CP_C_REG_RETRANSMITTED, 1);
		send_to_server(cp, t);
		return;
	}
	if (cp->n_servers == 0) {
		cp_count_drop(cp, CP_D_REG_NO_PBX, 1);
		cp_sip_reply(cp, meta, msg, 503);
		return;
	}
	if (sm->max_forwards == 0) {
		cp_count_drop(cp, CP_D_REG_LOOP, 1);
		cp_sip_reply(cp, meta, msg, 483);
		return;
	}
	t = tx_new(r, &meta->src, meta->sport, branch, sm->via.branch.len);
	if (t == NULL) {
		cp_count_drop(cp, CP_D_REG_PENDING_FULL, 1);
		cp_sip_reply(cp, meta, msg, 503);
		return;
	}
	rc = cp_bind_req_from(cp, meta, msg, &t->bind);
	if (rc == -ENOSPC) {
		cp_count_drop(cp, CP_D_REG_TABLE_FULL, 1);
		cp_sip_reply(cp, meta, msg, 503);
		goto fail;
	}
	if (rc != 0) {
		cp_count_drop(cp, CP_D_REG_BAD, 1);
		cp_sip_reply(cp, meta, msg, 400);
		goto fail;
	}
	t->had_auth = has_auth(msg, sm);
	t->server = (uint8_t)__atomic_load_n(cp->dp->pbx_active, __ATOMIC_RELAXED);
	if (cp_route(cp, &cp->servers[t->server].ip, &ifx, &our, &nh) != 0) {
		cp_count_drop(cp, CP_D_CP_NO_ROUTE, 1);
		cp_sip_reply(cp, meta, msg, 503);
		goto fail;
	}
	if (build_relay(cp, meta, msg, t, &our, &r->scratch) != 0) {
		cp_count_drop(cp, CP_D_REG_TOO_LARGE, 1);
		cp_sip_reply(cp, meta, msg, 513);
		goto fail;
	}
	t->req = malloc(r->scratch.len);
	if (t->req == NULL) {
		cp_sip_reply(cp, meta, msg, 500);
		goto fail;
	}
	memcpy(t->req, r->scratch.b, r->scratch.len);
	t->req_len = r->scratch.len;
	t->tries = 1;
	cp_count(cp, CP_C_REG_RELAYED, 1);
	send_to_server(cp, t);
	t->waited = cp_call_waited_for(cp, &t->bind.rec);
	if (t->waited != 0) {
		char ip[48];

		cp_call_note(cp, t->waited, "REGISTER from %s:%u relayed to the PBX%s",
			     sw_ip_str(&meta->src, ip, sizeof(ip)), meta->sport,
			     t->had_auth ? " (with credentials)" : "");
	}
	return;

fail:
	tx_free(r, t);
}

/* ---- responses ------------------------------------------------------ */

/* The expiry the registrar granted to our contact: its expires= in the
 * 2xx's Contact list, else the 2xx's Expires, else what was asked; 0 when
 * the 2xx does not list our contact (RFC 3261 §10.3 step 8). */
static int32_t granted_expiry(const uint8_t *msg, const struct sip_msg *sm, const struct reg_tx *t)
{
	struct sip_contact cs[MAX_CONTACTS];
	const char *want = t->bind.contact;
	size_t want_len = t->bind.contact_len;

	for (unsigned i = 0; i < sm->nhdrs; i++) {
		int n;

		if (sm->hdrs[i].id != SIP_H_CONTACT)
			continue;
		n = sip_contacts(msg, sm->hdrs[i].value, cs, MAX_CONTACTS);
		for (int k = 0; k < n; k++) {
			if (cs[k].uri.whole.len != want_len ||
			    memcmp(sip_ptr(msg, cs[k].uri.whole), want, want_len) != 0)
				continue;
			if (cs[k].expires >= 0)
				return cs[k].expires;
			if (sm->expires >= 0)
				return sm->expires;
			return t->bind.asked_expires >= 0 ? t->bind.asked_expires : DEFAULT_EXPIRES;
		}
	}
	return 0;
}

static void queue_out(struct cp_ctx *cp, const struct reg_tx *t, const struct cp_msg *o,
		      uint64_t device)
{
	struct cp_reg *r = cp->reg;
	struct reg_out *q;

	if (r->n_out == r->max_out)
		cp_reg_flush(cp);
	q = &r->out[r->n_out];
	q->b = malloc(o->len);
	if (q->b == NULL)
		return;
	memcpy(q->b, o->b, o->len);
	q->len = o->len;
	q->ip = t->app_ip;
	q->port = t->app_port;
	q->device = device;
	r->n_out++;
}

static void fail_over(struct cp_ctx *cp, struct reg_tx *t)
{
	unsigned n = cp->n_servers;
	uint32_t next = (t->server + 1u) % n;

	/* Later REGISTERs go to the next server too; the health checks move
	 * it back when the first one answers again. */
	if (__atomic_load_n(cp->dp->pbx_active, __ATOMIC_RELAXED) == t->server) {
		__atomic_store_n(cp->dp->pbx_active, next, __ATOMIC_RELAXED);
		CP_LOG(WARNING, "pbx.servers.[%u] did not answer: failing over to [%u]", t->server,
		       next);
	}
	cp_count(cp, CP_C_PBX_FAILOVERS, 1);
	t->server = (uint8_t)next;
	t->tries++;
	send_to_server(cp, t);
}

void cp_reg_response(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_reg *r = cp->reg;
	const struct sip_msg *sm = &meta->sip;
	const char *b = sip_ptr(msg, sm->via.branch);
	struct reg_tx *t;
	uint64_t id = 0;
	char extra[160] = "";
	int32_t granted;
	uint64_t device;

	if (sm->via.branch.len <= DP_BRANCH_MAGIC_LEN + 2 ||
	    !cp_hex_u64(b + DP_BRANCH_MAGIC_LEN + 2,
			(size_t)sm->via.branch.len - DP_BRANCH_MAGIC_LEN - 2, &id))
		id = 0;
	t = tx_by_id(r, id);
	/* Only the server the request went to answers it. */
	if (t == NULL || !sw_ip_eq(&meta->src, &cp->servers[t->server].ip)) {
		cp_count_drop(cp, CP_D_REG_STRAY_RESPONSE, 1);
		return;
	}
	if (sm->status < 200) {
		/* 100 stops here (§16.7 step 5); others are rare for REGISTER. */
		if (sm->status > 100 && cp_msg_unvia(msg, sm, NULL, &r->scratch) == 0)
			cp_udp_send(cp, &t->app_ip, t->app_port, r->scratch.b, r->scratch.len);
		return;
	}
	if (sm->status == 503 && t->tries < cp->n_servers) {
		fail_over(cp, t);
		return;
	}
	if (sm->status >= 300) {
		bool auth_fail = sm->status == 403 ||
				 (t->had_auth && (sm->status == 401 || sm->status == 407));

		cp_count(cp,
			 sm->status == 401 || sm->status == 407 ? CP_C_REG_CHALLENGED
								: CP_C_REG_REJECTED,
			 1);
		if (auth_fail)
			cp_ban_note_failure(cp, &t->app_ip);
		if (t->waited != 0)
			cp_call_note(cp, t->waited, "REGISTER answered %u by the PBX%s", sm->status,
				     sm->status == 401 || sm->status == 407
					     ? " (a challenge: the app retries)"
					     : ": not woken");
		/* Challenges and refusals go back untouched (but for our Via). */
		if (cp_msg_unvia(msg, sm, NULL, &r->scratch) == 0)
			cp_udp_send(cp, &t->app_ip, t->app_port, r->scratch.b, r->scratch.len);
		tx_free(r, t);
		return;
	}

	/* 2xx: the registrar accepted; the binding follows its answer. */
	cp_count(cp, CP_C_REG_2XX, 1);
	if (t->waited != 0)
		cp_call_note(cp, t->waited, "REGISTER answered %u by the PBX", sm->status);
	granted = t->bind.star ? 0 : granted_expiry(msg, sm, t);
	if (cp_bind_commit(cp, &t->bind, granted, &device) != 0) {
		/* Not bound or not durable: the app must not believe it is
		 * reachable through us. */
		cp_count_drop(cp, CP_D_STORE_ERRORS, 1);
		answer_from_relayed(cp, t, 500);
		tx_free(r, t);
		return;
	}
	if (r->fcaps[0] != '\0') {
		/* RFC 8599 §5.6.1.1 / §11: +sip.pnsreg's value is how long before
		 * expiry we push the app to refresh (cp_bind.c, refresh_due()):
		 * wake.refresh_before_s, and no promise when that is off. */
		char pnsreg[40] = "";

		if (t->bind.pnsreg && cp->cfg.refresh_before_s > 0)
			snprintf(pnsreg, sizeof(pnsreg), ";+sip.pnsreg=\"%u\"",
				 cp->cfg.refresh_before_s);
		snprintf(extra, sizeof(extra), "Feature-Caps: %s%s\r\n", r->fcaps, pnsreg);
	}
	if (cp_msg_unvia(msg, sm, extra, &r->scratch) == 0)
		queue_out(cp, t, &r->scratch, device);
	tx_free(r, t);
}

void cp_reg_flush(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;

	if (r->n_out == 0 && !cp_bind_dirty(cp))
		return;
	/* Durable before relayed (docs/design.md §7): one commit for the round. */
	bool failed = cp_bind_sync(cp) != 0;

	if (failed)
		cp_count_drop(cp, CP_D_STORE_ERRORS, r->n_out);
	for (uint32_t i = 0; i < r->n_out; i++) {
		struct reg_out *q = &r->out[i];

		if (failed) {
			/* Not durable: the app hears 500 and retries later. */
			const char *eol = memchr(q->b, '\n', q->len);
			struct cp_msg *o = &r->scratch;

			o->len = 0;
			o->overflow = false;
			cp_msg_str(o, "SIP/2.0 500 Server Internal Error\r\n");
			if (eol != NULL)
				cp_msg_put(o, eol + 1, (size_t)(q->b + q->len - eol - 1));
			if (!o->overflow)
				cp_udp_send(cp, &q->ip, q->port, o->b, o->len);
		} else {
			cp_udp_send(cp, &q->ip, q->port, q->b, q->len);
			/* Accepted by the PBX and durable: a call waiting for
			 * this device goes to it now, after its 2xx. */
			if (q->device != 0)
				cp_call_registered(cp, q->device);
		}
		free(q->b);
	}
	r->n_out = 0;
}

/* OPTIONS to every PBX server (RFC 3261 §11): any answer means it is up. */
static void health_checks(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;

	r->check_seq++;
	for (unsigned i = 0; i < cp->n_servers; i++) {
		char tail[24], tag[16], to[24], cid[32];

		snprintf(tail, sizeof(tail), "%02x%08x", i, r->check_seq);
		snprintf(tag, sizeof(tag), "hc%x", r->check_seq);
		snprintf(to, sizeof(to), "%u@pbx", i);
		snprintf(cid, sizeof(cid), "hc-%u-%x", i, r->check_seq);
		cp_send_options(cp, &cp->servers[i].ip, cp->servers[i].port,
				&(struct cp_options){.kind = 'h',
						     .branch_tail = tail,
						     .tag = tag,
						     .to = to,
						     .call_id = cid,
						     .cseq = r->check_seq});
	}
}

void cp_reg_health_answer(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	const char *b = sip_ptr(msg, sm->via.branch);
	unsigned i, active = __atomic_load_n(cp->dp->pbx_active, __ATOMIC_RELAXED);

	if (sm->via.branch.len < DP_BRANCH_MAGIC_LEN + 4 ||
	    sscanf(b + DP_BRANCH_MAGIC_LEN + 2, "%2x", &i) != 1 || i >= cp->n_servers ||
	    !sw_ip_eq(&meta->src, &cp->servers[i].ip))
		return;
	cp->reg->up[i] = 1;
	cp_count(cp, CP_C_PBX_CHECKS_ANSWERED, 1);
	/* The preferred (earlier) server is back: move REGISTERs back to it. */
	if (i < active && sm->status < 500) {
		__atomic_store_n(cp->dp->pbx_active, i, __ATOMIC_RELAXED);
		CP_LOG(NOTICE, "pbx.servers.[%u] answers again: REGISTERs go back to it", i);
	}
}

void cp_reg_servers_changed(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;
	unsigned n = cp->n_servers;

	__atomic_store_n(cp->dp->pbx_active, 0, __ATOMIC_RELAXED);
	memset(r->up, 0, sizeof(r->up));
	r->next_check_tsc = 0; /* the new list is checked one interval from now */
	for (uint32_t i = 0; i < r->max && r->n_used > 0; i++) {
		struct reg_tx *t = &r->tx[i];

		if (t->id == 0)
			continue;
		if (n == 0) {
			answer_from_relayed(cp, t, 503);
			tx_free(r, t);
			continue;
		}
		t->server = 0;
		t->tries = 1;
	}
	CP_LOG(NOTICE, "pbx.servers reloaded: %u server(s), REGISTERs go to the first", n);
}

void cp_reg_tick(struct cp_ctx *cp, uint64_t now)
{
	struct cp_reg *r = cp->reg;

	if (r->next_check_tsc == 0) /* the first check one interval after start */
		r->next_check_tsc = now + cp->hz * cp->cfg.pbx_check_s;
	if (now >= r->next_check_tsc && cp->n_servers > 0) {
		health_checks(cp);
		r->next_check_tsc = now + cp->hz * cp->cfg.pbx_check_s;
	}

	for (uint32_t i = 0; i < r->max && r->n_used > 0; i++) {
		struct reg_tx *t = &r->tx[i];

		if (t->id == 0 || now < t->deadline_tsc)
			continue;
		if (t->tries < cp->n_servers) {
			fail_over(cp, t);
			continue;
		}
		/* §16.8: Timer F fired on every server: the app gets a 408. */
		cp_count(cp, CP_C_REG_TIMEOUTS, 1);
		if (t->waited != 0)
			cp_call_note(cp, t->waited, "REGISTER never answered by the PBX: 408");
		answer_from_relayed(cp, t, 408);
		tx_free(r, t);
	}
}
