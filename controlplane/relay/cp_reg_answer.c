/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PBX's answers to relayed REGISTERs (RFC 3261 §10.3, §16.7): a
 * provisional one passes (100 stops here), 503 fails over while servers
 * are left, challenges and refusals go back to the app untouched but for
 * our Via, and a 2xx changes the binding with the expiry granted for our
 * contact. A 2xx that grants nothing sipwake can read is relayed all the
 * same and binds nothing, loudly (reg_answer_unbound). The 2xx waits in a
 * queue until the round's store commit has made the change durable
 * (cp_reg_flush()); a call waiting for the device goes on after it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/sw_log.h"
#include "controlplane/relay/cp_reg_grant.h"
#include "controlplane/relay/cp_reg_internal.h"

#define WARN_PER_S 10 /* unbound 2xx WARNINGs a second; the counter has them all */

/* Loud, but at most WARN_PER_S a second: a PBX that answers every REGISTER
 * so must not flood the log; reg_answer_unbound counts them all. */
static void warn_unbound(struct cp_ctx *cp, const struct cp_reg_tx *t, unsigned status,
			 const char *why)
{
	struct cp_reg *r = cp->reg;
	uint64_t now = (uint64_t)sw_wall_s();

	if (now != r->warn_s) {
		r->warn_s = now;
		r->warn_n = 0;
	}
	if (r->warn_n++ >= WARN_PER_S)
		return;
	CP_LOG(WARNING,
	       "REGISTER of %.*s: the PBX's %u relayed to the app but not bound: %s (the app is "
	       "registered at the PBX, not reachable through sipwake)",
	       (int)t->bind.rec.aor_len, t->bind.rec.aor, status, why);
}

/* A relayed answer to the app of @p t, over what its REGISTER came by;
 * @p stranger: held for its next hop only as a stranger's answer. */
static void to_app(struct cp_ctx *cp, const struct cp_reg_tx *t, const struct cp_msg *o,
		   bool stranger)
{
	struct cp_dest to = cp_reg_tx_app(t);

	to.stranger = stranger;
	cp_dest_send(cp, &to, o->b, o->len);
}

/* A 2xx sipwake cannot take: the app hears it as the PBX sent it, and the
 * binding stays as it was. No Feature-Caps: sipwake promises no push for a
 * binding it does not hold. */
static void relay_unbound(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
			  struct cp_reg_tx *t, const char *why)
{
	struct cp_reg *r = cp->reg;
	const struct sip_msg *sm = &meta->sip;

	cp_count(cp, CP_C_REG_ANSWER_UNBOUND, 1);
	warn_unbound(cp, t, sm->status, why);
	if (t->waited != 0)
		cp_call_note(cp, t->waited, "not bound: %s", why);
	if (cp_msg_unvia(msg, sm, NULL, &r->scratch) == 0) {
		to_app(cp, t, &r->scratch, false);
		cp_reg_tx_done(cp, t, r->scratch.b, (uint16_t)r->scratch.len, true);
		return;
	}
	cp_reg_tx_answer(cp, t, 500);
	cp_reg_tx_free(r, t);
}

/* The 2xx @p b goes out once its batch is durable (release()); until then
 * @p t is completed but not ready: the app's retransmissions wait for it. */
static void queue_out(struct cp_ctx *cp, struct cp_reg_tx *t, char *b, uint16_t len,
		      uint64_t device)
{
	struct cp_reg *r = cp->reg;
	struct cp_reg_out *q;

	if (r->n_out == r->max_out)
		cp_reg_flush(cp);
	if (r->n_out == r->max_out) {
		/* Every slot waits on Redis: the binding is in this round's
		 * batch, but the app is not told; it retries. */
		free(b);
		cp_count_drop(cp, CP_D_STORE_ERRORS, 1);
		cp_reg_tx_answer(cp, t, 500);
		cp_reg_tx_free(r, t);
		return;
	}
	q = &r->out[r->n_out];
	q->b = b;
	q->len = len;
	q->to = cp_reg_tx_app(t);
	q->device = device;
	q->tx = t->id;
	q->ticket = OUT_OPEN;
	r->n_out++;
	cp_reg_tx_done(cp, t, b, len, false);
}

void cp_reg_response(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	struct cp_reg *r = cp->reg;
	const struct sip_msg *sm = &meta->sip;
	const char *b = sip_ptr(msg, sm->via.branch);
	struct cp_reg_tx *t;
	uint64_t id = 0;
	char extra[384] = "";
	struct cp_reg_grant g;
	uint64_t device;
	char *out;

	if (sm->via.branch.len <= DP_BRANCH_MAGIC_LEN + 2 ||
	    !cp_hex_u64(b + DP_BRANCH_MAGIC_LEN + 2,
			(size_t)sm->via.branch.len - DP_BRANCH_MAGIC_LEN - 2, &id))
		id = 0;
	t = cp_reg_tx_by_id(r, id);
	/* Only the server the request went to answers it, and only once. */
	if (t == NULL || t->done || !sw_ip_eq(&meta->src, &cp->servers[t->server].ip)) {
		cp_count_drop(cp, CP_D_REG_STRAY_RESPONSE, 1);
		return;
	}
	cp_reg_server_heard(cp, t->server);
	if (sm->status < 200) {
		/* 100 stops here (§16.7 step 5); others are rare for REGISTER. */
		if (sm->status > 100 && cp_msg_unvia(msg, sm, NULL, &r->scratch) == 0)
			to_app(cp, t, &r->scratch, false);
		return;
	}
	if (sm->status == 503 && t->tries < cp->n_servers) {
		cp_reg_tx_fail_over(cp, t);
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
			cp_ban_note_failure(cp, &t->app.ip);
		if (t->waited != 0)
			cp_call_note(cp, t->waited, "REGISTER answered %u by the PBX%s", sm->status,
				     sm->status == 401 || sm->status == 407
					     ? " (a challenge: the app retries)"
					     : ": not woken");
		/* Challenges and refusals go back untouched (but for our Via);
		 * one too large to relay is a 500 of ours, never silence. A
		 * failed authentication from an unknown source is a password
		 * guesser's, spoofed as often as not: its answer must not take
		 * room in the neighbour table that the PBX, bound devices and
		 * woken apps need (docs/admission.md). */
		if (cp_msg_unvia(msg, sm, NULL, &r->scratch) == 0) {
			to_app(cp, t, &r->scratch, auth_fail && t->unknown_src);
			cp_reg_tx_done(cp, t, r->scratch.b, (uint16_t)r->scratch.len, true);
			return;
		}
		cp_reg_tx_answer(cp, t, 500);
		cp_reg_tx_free(r, t);
		return;
	}

	/* 2xx: the registrar accepted; the binding follows its answer. */
	cp_count(cp, CP_C_REG_2XX, 1);
	if (t->waited != 0)
		cp_call_note(cp, t->waited, "REGISTER answered %u by the PBX", sm->status);
	g = cp_reg_grant_of(msg, sm, t->bind.contact, t->bind.contact_len, t->bind.asked_expires,
			    t->bind.star);
	/* A removal the PBX accepted is one whatever else its list says. */
	if (g.unread != NULL && t->bind.asked_expires == 0) {
		g.unread = NULL;
		g.expires = 0;
	}
	if (g.unread != NULL) {
		relay_unbound(cp, meta, msg, t, g.unread);
		return;
	}
	if (g.several)
		CP_LOG(DEBUG, "REGISTER of %.*s: the PBX's 2xx grants several expiries, took %d s",
		       (int)t->bind.rec.aor_len, t->bind.rec.aor, g.expires);
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
	/* RFC 5626 §4.4.1 / §5.4: an app that asked with ;ob over a stream
	 * hears how long its flow may stay silent before sipwake closes it
	 * (streams.idle_s; a margin for the keepalive's trip), and sends its
	 * CRLF keepalives within that. */
	if (t->bind.ob && t->tp != SW_TP_UDP) {
		size_t used = strlen(extra);
		uint32_t idle = cp->cfg.streams.idle_s;

		snprintf(extra + used, sizeof(extra) - used, "Flow-Timer: %u\r\n",
			 idle > 20 ? idle - 10 : idle / 2);
	}
	/* The answer is built before the binding changes: one that cannot be
	 * relayed (too large, no memory) binds nothing and is counted. */
	if (cp_msg_unvia(msg, sm, extra, &r->scratch) != 0) {
		relay_unbound(cp, meta, msg, t, "too large to relay with Feature-Caps");
		return;
	}
	out = malloc(r->scratch.len);
	if (out == NULL) {
		cp_count(cp, CP_C_REG_ANSWER_UNBOUND, 1);
		warn_unbound(cp, t, sm->status, "out of memory (the app hears 500)");
		cp_reg_tx_answer(cp, t, 500);
		cp_reg_tx_free(r, t);
		return;
	}
	memcpy(out, r->scratch.b, r->scratch.len);
	if (cp_bind_commit(cp, &t->bind, g.expires, &device) != 0) {
		/* Not bound or not durable: the app must not believe it is
		 * reachable through us. */
		free(out);
		cp_count_drop(cp, CP_D_STORE_ERRORS, 1);
		cp_reg_tx_answer(cp, t, 500);
		cp_reg_tx_free(r, t);
		return;
	}
	queue_out(cp, t, out, r->scratch.len, device);
}

/* The 2xx of @p q as a 500: the binding is not durable, the app retries. */
static void send_lost(struct cp_ctx *cp, const struct cp_reg_out *q)
{
	const char *eol = memchr(q->b, '\n', q->len);
	struct cp_msg *o = &cp->reg->scratch;

	o->len = 0;
	o->overflow = false;
	cp_msg_str(o, "SIP/2.0 500 Server Internal Error\r\n");
	if (eol != NULL)
		cp_msg_put(o, eol + 1, (size_t)(q->b + q->len - eol - 1));
	if (!o->overflow)
		cp_dest_send(cp, &q->to, o->b, o->len);
}

/* Send the 2xx at the head of the queue whose batches have ended, in the
 * order the PBX's answers came. */
static void release(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;
	uint32_t i = 0;

	for (; i < r->n_out; i++) {
		struct cp_reg_out *q = &r->out[i];

		if (q->ticket == OUT_LOST) {
			cp_count_drop(cp, CP_D_STORE_ERRORS, 1);
			send_lost(cp, q);
			cp_reg_tx_ready(r, q->tx, false);
		} else if (q->ticket == OUT_DURABLE) {
			cp_dest_send(cp, &q->to, q->b, q->len);
			cp_reg_tx_ready(r, q->tx, true);
			/* Accepted by the PBX and durable: a call waiting for
			 * this device goes to it now, after its 2xx. */
			if (q->device != 0)
				cp_call_registered(cp, q->device);
		} else {
			break;
		}
		free(q->b);
	}
	if (i > 0) {
		memmove(r->out, r->out + i, (r->n_out - i) * sizeof(*r->out));
		r->n_out -= i;
	}
}

void cp_reg_store_done(struct cp_ctx *cp, uint64_t ticket, bool ok)
{
	struct cp_reg *r = cp->reg;

	for (uint32_t i = 0; i < r->n_out; i++)
		if (r->out[i].ticket == ticket)
			r->out[i].ticket = ok ? OUT_DURABLE : OUT_LOST;
	release(cp);
}

void cp_reg_flush(struct cp_ctx *cp)
{
	struct cp_reg *r = cp->reg;
	uint64_t ticket = 0, mark;
	int rc;

	if (r->n_out == 0 && !cp_bind_dirty(cp))
		return;
	/* Durable before relayed (docs/design.md §7): one batch for the round;
	 * a shared store tells later (cp_reg_store_done()). */
	rc = cp_bind_sync(cp, &ticket);
	mark = rc < 0 ? OUT_LOST : rc == 0 ? OUT_DURABLE : ticket;
	for (uint32_t i = 0; i < r->n_out; i++)
		if (r->out[i].ticket == OUT_OPEN)
			r->out[i].ticket = mark;
	release(cp);
}
