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
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_push_key.h"
#include "controlplane/relay/cp_reg_internal.h"

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
 * §4), Max-Forwards decremented, Path and Feature-Caps added, the push key
 * left out (the PBX has no use for it, and would log it). */
static int build_relay(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		       const struct cp_reg_tx *t, const struct sw_ip *our, struct cp_msg *o)
{
	const struct sip_msg *sm = &meta->sip;
	uint16_t start_end = sm->nhdrs > 0 ? sm->hdrs[0].name.off : sm->hdrs_end;
	bool top = true, have_mf = false;

	o->len = 0;
	o->overflow = false;
	cp_msg_put(o, msg, start_end);
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];
		struct sip_slice l = cp_hdr_line(h);

		if (h->id == SIP_H_VIA && top) {
			struct sip_slice v = sm->via.value;
			int rp = find_bare_rport(msg, v);
			uint16_t vend = (uint16_t)(v.off + v.len);

			/* Ours right above the app's: the Vias stay one run of lines
			 * (sip_via_run()); Path goes after every field. */
			cp_msg_str(o, "Via: SIP/2.0/UDP ");
			cp_msg_host(o, our);
			cp_msg_fmt(o, ":%u;branch=" DP_BRANCH_MAGIC "%c%c%016" PRIx64 ";rport\r\n",
				   cp->dp->ports.sip_port, DP_BRANCH_CP, CP_REG_BRANCH_KIND, t->id);
			top = false;
			cp_msg_put(o, msg + h->name.off, (size_t)(v.off - h->name.off));
			if (rp >= 0) {
				cp_msg_put(o, msg + v.off, (size_t)rp);
				cp_msg_fmt(o, ";rport=%u", meta->sport);
				cp_msg_put(o, msg + v.off + rp + 6, (size_t)(v.len - rp - 6));
			} else {
				cp_msg_put(o, msg + v.off, v.len);
			}
			if (sm->via.received.len == 0)
				cp_msg_received(o, &meta->src);
			/* The rest of the field: further via-parms after a comma. */
			cp_msg_put(o, msg + vend, (size_t)(l.off + l.len - vend));
			cp_msg_str(o, "\r\n");
			continue;
		}
		if (cp_push_key_hdr(msg, h))
			continue;
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
	/* RFC 3327 §5.1: our URI, with lr, reachable by the PBX; or the
	 * cluster's name, which reaches any edge (docs/cluster.md). */
	cp_msg_str(o, "Path: <sip:");
	if (cp->cfg.cl_path[0] != '\0')
		cp_msg_str(o, cp->cfg.cl_path);
	else
		cp_msg_host(o, our);
	cp_msg_fmt(o, ":%u;lr>\r\n", cp->dp->ports.sip_port);
	if (cp->reg->fcaps[0] != '\0')
		cp_msg_fmt(o, "Feature-Caps: %s\r\n", cp->reg->fcaps);
	cp_msg_str(o, "\r\n");
	cp_msg_put(o, msg + sm->hdrs_end, (size_t)(sm->msg_len - sm->hdrs_end));
	return o->overflow ? -EMSGSIZE : 0;
}

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
	struct cp_reg_tx *t;
	int rc;

	if (cp_ban_check(cp, &meta->src)) {
		cp_count_drop(cp, CP_D_REG_BANNED, 1);
		return;
	}
	t = cp_reg_tx_find(r, &meta->src, meta->sport, branch, sm->via.branch.len);
	if (t != NULL && t->done) {
		/* §17.2.2: answered already (Timer J). The final answer again;
		 * the PBX never sees it. A 2xx not yet durable is on its way. */
		if (t->ready) {
			struct cp_dest to = cp_reg_tx_app(t);

			to.stranger = t->unknown_src;
			cp_count(cp, CP_C_REG_ANSWER_REPEATED, 1);
			cp_dest_send(cp, &to, t->resp, t->resp_len);
		} else {
			cp_count(cp, CP_C_REG_RETRANSMITTED, 1);
		}
		return;
	}
	if (t != NULL) {
		/* §17.2.2: the app's retransmission of a pending REGISTER. It
		 * goes on as our retransmission (§17.1.2.2 Timer E), and Timer
		 * F keeps running from the first send: restarted here, an app
		 * retransmitting faster than pbx.timeout_ms would never hear
		 * its 408 from a PBX that is down. */
		cp_count(cp, CP_C_REG_RETRANSMITTED, 1);
		cp_reg_tx_resend(cp, t);
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
	t = cp_reg_tx_new(r, &meta->src, meta->sport, branch, sm->via.branch.len);
	if (t == NULL) {
		cp_count_drop(cp, CP_D_REG_PENDING_FULL, 1);
		cp_sip_reply(cp, meta, msg, 503);
		return;
	}
	t->tp = meta->tp;
	t->conn = meta->conn;
	t->unknown_src = meta->src_class == DP_SRC_UNKNOWN;
	rc = cp_bind_req_from(cp, meta, msg, &t->bind);
	if (rc == -ENOSPC) {
		cp_count_drop(cp, CP_D_REG_TABLE_FULL, 1);
		cp_sip_reply(cp, meta, msg, 503);
		goto fail;
	}
	if (rc == -EBADMSG) {
		/* A push address the PBX might read one way and we another. */
		cp_count_drop(cp, CP_D_REG_PUSH_BAD, 1);
		CP_LOG(INFO, "REGISTER for %s refused (400): push address: %s", t->bind.rec.aor,
		       t->bind.pn_why);
		cp_sip_reply(cp, meta, msg, 400);
		goto fail;
	}
	if (rc != 0) {
		cp_count_drop(cp, CP_D_REG_BAD, 1);
		cp_sip_reply(cp, meta, msg, 400);
		goto fail;
	}
	/* docs/push-encryption.md: only a key that came encrypted is one. */
	rc = cp_push_key_read(msg, sm, meta->tp, &t->bind.rec);
	if (rc == -EPERM) {
		cp_count(cp, CP_C_PUSH_KEY_REFUSED, 1);
		CP_LOG(INFO, "REGISTER for %s refused (403): a push key over %s", t->bind.rec.aor,
		       sw_tp_name(meta->tp));
		cp_sip_reply_why(cp, meta, msg, 403, "Push Key Needs TLS");
		goto fail;
	}
	if (rc != 0) {
		cp_count(cp, CP_C_PUSH_KEY_BAD, 1);
		CP_LOG(INFO, "REGISTER for %s refused (400): a bad push key", t->bind.rec.aor);
		cp_sip_reply_why(cp, meta, msg, 400, "Bad Push Key");
		goto fail;
	}
	if (t->bind.pn_unknown)
		cp_count(cp, CP_C_REG_PUSH_UNKNOWN, 1);
	if (t->bind.pn_unusable) {
		/* Relayed and bound as the app asked; never woken (docs/push-addresses.md). */
		cp_count(cp, CP_C_REG_PUSH_WEBPUSH_BAD, 1);
		CP_LOG(INFO, "REGISTER for %s: Web Push subscription not usable, never pushed: %s",
		       t->bind.rec.aor, t->bind.pn_why);
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
	if (t->bind.rec.push_key_set)
		cp_count(cp, CP_C_PUSH_KEY_RELAYED, 1);
	cp_reg_tx_send(cp, t);
	t->waited = cp_call_waited_for(cp, &t->bind.rec);
	if (t->waited != 0) {
		char ip[SW_IP_PORT_STRLEN];

		cp_call_note(cp, t->waited, "REGISTER from %s relayed to the PBX%s",
			     sw_ip_port_str(&meta->src, meta->sport, ip, sizeof(ip)),
			     t->had_auth ? " (with credentials)" : "");
	}
	return;

fail:
	cp_reg_tx_free(r, t);
}
