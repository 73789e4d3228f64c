/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless forwarding on the worker (RFC 3261 §16.11; docs/design.md §7 "Who
 * forwards what"): calls reach apps that are awake without a round trip
 * through the control plane, and their responses and in-dialog requests
 * follow. Whatever needs state or time goes up instead: the wake path, forks,
 * transactions the control plane started.
 *
 *   response      top Via ours with branch z9hG4bK-swS: pop it, send to the
 *                 next Via (received / rport, §18.2.2, RFC 3581); -swC: the
 *                 control plane's; anything else is not ours: dropped
 *   from the PBX  Route pop (§16.4); our Route's device id (swd=): to it;
 *                 a Route left naming a peer edge (up): to that edge;
 *                 else INVITE retransmission, CANCEL or ACK of a call in
 *                 the held set (ctx->held, the wake path's): up; else
 *                 device by push address, contact or AOR; alive: to its
 *                 source, the Request-URI its registered contact (pn-*
 *                 out), but a new INVITE to one with a push address goes
 *                 up under wake.policy always-push / parallel; asleep,
 *                 several devices: up; none: 404 / 481 (ACK dropped)
 *   from a device Route pop; to the next Route, the Request-URI or the active
 *                 pbx.server, and only ever to the PBX (no open relay)
 * Both directions: Max-Forwards checked and decremented (§16.6 step 3), our
 * Via on top with a branch that is the same for a request, its
 * retransmissions, its CANCEL and its non-2xx ACK (§16.11), Record-Route on
 * dialog-creating requests (those lines: dp_fwd_hdrs.c), push parameters
 * (pn-*) taken out of whatever goes anywhere but the PBX's registrar (RFC 8599
 * §4.1.2) and out of the apps' Contacts. This file decides; the message is
 * edits on the received one and its frames are built in dp_fwd_msg.c.
 *
 * Measured (bench_dp --mix fwd, shared 2-vCPU VM at 2.25 GHz, NIC checksums
 * both ways, medians of 5 x 320k frames, whole pipeline per frame): ~3.3k
 * cycles/pkt for a 1 KB INVITE from the PBX to an alive app, ~3.3k for the
 * app's 850-byte 200 back, ~3.0k for the PBX's in-dialog BYE. Of the
 * INVITE's, ~1.1k is this stage (fwd-invite minus the same INVITE handed
 * up). In instructions (callgrind, fwd-call) ~3.9k a message: ~37 % building
 * the frame (dp_fwd_tx), ~14 % our lines, ~9 % a response's next Via parsed
 * again, ~12 % the table lookups (docs/performance.md).
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "common/sw_devices.h"
#include "dataplane/dp_internal.h"

/* ---- addresses ---- */

/* The iface to reach @p dst by (common/sw_ports.h), or -1. */
static inline int iface_for(const struct dp_params *p, const struct sw_ip *dst, unsigned hint)
{
	unsigned ifx;

	return sw_ports_route(&p->ports, dst, (int)hint, &ifx, NULL, NULL) == 0 ? (int)ifx : -1;
}

/* Is @p u sipwake itself: one of our addresses or names, our port or none. */
static bool uri_is_us(const struct dp_params *p, const uint8_t *msg, const struct sip_uri *u)
{
	if (u->scheme != SIP_SCHEME_SIP && u->scheme != SIP_SCHEME_SIPS)
		return false;
	return sw_ports_is_us(&p->ports, sip_ptr(msg, u->host), u->host.len, u->port);
}

/*
 * §16.4: the Routes naming us at the head of the route set are ours to take
 * off: one, or the two RFC 5658 §3.1 has us put on a call that changed
 * family on its way (dp_fwd_our_lines()). The next one (in the same field
 * after a comma, or in the next Route field) is where the request goes:
 * *@p route (@p next when it is not the first; NULL: none). *@p dev: the
 * device our first Route named. False when a Route does not parse.
 */
static bool pop_our_routes(const struct dp_params *p, struct dp_fwd_msg *fm, const uint8_t *msg,
			   const struct sip_msg *sm, struct sip_uri *next,
			   const struct sip_uri **route, uint64_t *dev)
{
	int ir = dp_first_hdr(sm, SIP_H_ROUTE, 0);
	uint32_t vend = (uint32_t)sm->hdrs[ir].value.off + sm->hdrs[ir].value.len;
	uint16_t nx = sm->route_next, cut_to = 0;

	*next = sm->route;
	while (uri_is_us(p, msg, next)) {
		if (*dev == 0)
			*dev = dp_fwd_route_device(msg, next);
		cut_to = nx;
		if (nx < vend) {
			struct sip_slice rest = {.off = nx, .len = (uint16_t)(vend - nx)};

			if (sip_route_first(msg, rest, next, &nx) != SIP_SCAN_OK)
				return false;
			continue;
		}
		dp_fwd_cut_first(fm, sm, (unsigned)ir, nx); /* the whole field */
		cut_to = 0;
		if ((ir = dp_first_hdr(sm, SIP_H_ROUTE, (unsigned)ir + 1)) < 0) {
			*route = NULL;
			return true;
		}
		vend = (uint32_t)sm->hdrs[ir].value.off + sm->hdrs[ir].value.len;
		if (sip_route_first(msg, sm->hdrs[ir].value, next, &nx) != SIP_SCAN_OK)
			return false;
	}
	if (cut_to != 0)
		dp_fwd_cut_first(fm, sm, (unsigned)ir, cut_to); /* ours before a comma */
	*route = next;
	return true;
}

/*
 * The peer edge (cluster.peers, up) a Route left after ours names, or -1.
 * The edge that Record-Routed a dialog is the one that reaches its device;
 * a PBX that sends in-dialog requests elsewhere (an outbound proxy naming
 * every edge, sipp) reaches it through us (docs/cluster.md).
 */
static int route_peer(const struct dp_ctx *ctx, const uint8_t *msg, const struct sip_uri *u)
{
	struct sw_ip ip;

	if (u == NULL || ctx->p.n_peers == 0 ||
	    (u->scheme != SIP_SCHEME_SIP && u->scheme != SIP_SCHEME_SIPS) ||
	    !dp_host_ip(msg, u->host, &ip))
		return -1;
	for (unsigned i = 0; i < ctx->p.n_peers; i++)
		if (sw_ip_eq(&ctx->p.peers[i].ip, &ip) &&
		    (u->port != 0 ? u->port : 5060) == ctx->p.peers[i].port &&
		    (__atomic_load_n(&ctx->peer_up, __ATOMIC_RELAXED) >> i & 1u))
			return (int)i;
	return -1;
}

/* ---- outcomes ---- */

static void answer(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
		   const struct dp_l4info *from, const uint8_t *msg, uint16_t status)
{
	int rc = dp_sip_respond(s, ifx, from, msg, status, false);

	if (rc != 0) {
		dp_drop(s, m, rc == -ENOMEM ? DP_D_NO_MBUF : DP_D_SIP_REPLY_TOO_LARGE);
		return;
	}
	dp_count(s->ctr,
		 status == 483	 ? DP_C_SIP_483_SENT
		 : status == 481 ? DP_C_SIP_481_SENT
				 : DP_C_SIP_404_SENT,
		 1);
	rte_pktmbuf_free(m);
}

static enum dp_fwd_verdict fwd_send(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
				    struct dp_fwd_msg *fm, const struct sw_ip *dst, uint16_t dport,
				    enum dp_counter done)
{
	int rc = dp_fwd_tx(s, ifx, fm, dst, dport);

	switch (rc) {
	case 0:
		dp_count(s->ctr, done, 1);
		rte_pktmbuf_free(m);
		break;
	case -ENOMEM:
		dp_drop(s, m, DP_D_NO_MBUF);
		break;
	case -ENETUNREACH:
		dp_drop(s, m, DP_D_NO_ROUTE);
		break;
	default:
		dp_drop(s, m, DP_D_FWD_TOO_LARGE);
		break;
	}
	return DP_FWD_DONE;
}

/* ---- responses ---- */

enum dp_fwd_verdict dp_fwd_response(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
				    const struct dp_l4info *from, const uint8_t *msg,
				    enum dp_src_class cls)
{
	const struct sip_msg *sm = s->sip;
	const struct sip_via *top = &sm->via;
	const struct dp_params *p = &s->ctx->p;
	struct sip_via next;
	struct dp_fwd_msg fm;
	struct sw_ip ip;
	uint16_t nx;
	uint32_t vend;
	int iv, out;

	(void)from;
	if (top->branch.len <= DP_BRANCH_MAGIC_LEN ||
	    memcmp(sip_ptr(msg, top->branch), DP_BRANCH_MAGIC, DP_BRANCH_MAGIC_LEN) != 0 ||
	    (top->port != 0 && top->port != p->ports.sip_port) ||
	    !dp_host_ip(msg, top->host, &ip) || sw_ports_owner(&p->ports, &ip) < 0) {
		dp_drop(s, m, DP_D_FWD_RESPONSE_NOT_OURS);
		return DP_FWD_DONE;
	}
	switch (msg[top->branch.off + DP_BRANCH_MAGIC_LEN]) {
	case DP_BRANCH_CP:
		return DP_FWD_HAND_UP;
	case DP_BRANCH_STATELESS:
		break;
	default:
		dp_drop(s, m, DP_D_FWD_RESPONSE_NOT_OURS);
		return DP_FWD_DONE;
	}

	/* §16.7 step 3: our via-parm goes; the one after it says where to. */
	dp_fwd_msg_init(&fm, msg, sm);
	iv = dp_first_hdr(sm, SIP_H_VIA, 0);
	vend = (uint32_t)sm->hdrs[iv].value.off + sm->hdrs[iv].value.len;
	nx = (uint16_t)dp_fwd_skip_lws(msg, (uint32_t)top->value.off + top->value.len, vend);
	if (nx < vend && msg[nx] == ',')
		nx = (uint16_t)dp_fwd_skip_lws(msg, nx + 1u, vend);
	dp_fwd_cut_first(&fm, sm, (unsigned)iv, nx);
	if (nx < vend) {
		struct sip_slice rest = {.off = nx, .len = (uint16_t)(vend - nx)};

		if (sip_via_first(msg, rest, &next, &nx) != SIP_SCAN_OK)
			goto bad_via;
	} else {
		iv = dp_first_hdr(sm, SIP_H_VIA, (unsigned)iv + 1);
		if (iv < 0 || sip_via_first(msg, sm->hdrs[iv].value, &next, &nx) != SIP_SCAN_OK)
			goto bad_via;
	}
	/* §18.2.2 with RFC 3581 §4: received= if there, else the sent-by (an
	 * address: the worker resolves no names); rport= if set, else the
	 * sent-by port, else 5060. */
	if (!dp_host_ip(msg, next.received.len != 0 ? next.received : next.host, &ip))
		goto bad_via;
	/* A device answers the PBX's requests (or another edge's, relaying
	 * the PBX's): its responses go nowhere else. */
	if (cls == DP_SRC_BOUND && !dp_is_pbx_addr(s, &ip) && !dp_is_peer_addr(p, &ip)) {
		dp_drop(s, m, DP_D_FWD_NOT_PBX_ROUTE);
		return DP_FWD_DONE;
	}
	out = iface_for(p, &ip, ifx);
	if (out < 0) {
		dp_drop(s, m, DP_D_NO_ROUTE);
		return DP_FWD_DONE;
	}
	if (cls == DP_SRC_BOUND && sm->cseq_method == SIP_M_INVITE && sm->status > 100)
		dp_trace(s, msg, DP_TR_ANSWER, DP_META(m)->device_id, &ip,
			 next.rport > 0 ? (uint16_t)next.rport
			 : next.port	? next.port
					: 5060,
			 sm->status);
	return fwd_send(s, (unsigned)out, m, &fm, &ip,
			next.rport > 0 ? (uint16_t)next.rport
			: next.port    ? next.port
				       : 5060,
			DP_C_FWD_RESPONSES);
bad_via:
	dp_drop(s, m, DP_D_FWD_BAD_VIA);
	return DP_FWD_DONE;
}

/* ---- requests ---- */

/* Where a request goes, as the routing stages see it. */
enum next_hop {
	HOP_FOUND, /* dst / dport set: build and send */
	HOP_DONE,  /* answered or dropped */
	HOP_UP,	   /* the control plane's */
	HOP_PEER,  /* dst / dport: the edge the device is bound through */
};

/* The devices a Request-URI names: up to DP_CALL_MAX_DEVICES, the first
 * alone for a call forwarded here, all of them for the control plane's. */
struct aor_pick {
	const struct sw_device *d[DP_CALL_MAX_DEVICES];
	unsigned n;
};

static int aor_one(const struct sw_device *d, void *arg)
{
	struct aor_pick *pk = arg;

	pk->d[pk->n++] = d;
	return pk->n == DP_CALL_MAX_DEVICES;
}

/*
 * Hand a request from the PBX up with the worker's decision (docs/design.md
 * §7 "Decided once"): the control plane takes the devices and whether each
 * was alive from here, and looks nothing up again.
 */
static enum next_hop decided(struct dp_wstate *s, struct rte_mbuf *m, enum dp_call_why why,
			     const struct aor_pick *pk, enum dp_counter c)
{
	struct dp_call *call = &DP_META(m)->call;

	call->why = (uint8_t)why;
	call->n = 0;
	call->alive = 0;
	for (unsigned i = 0; pk != NULL && i < pk->n; i++) {
		call->dev[call->n] = pk->d[i]->id;
		if (sw_device_alive(s->ctx->src, pk->d[i], DP_META(m)->rx_tsc,
				    s->ctx->p.alive_window_tsc, NULL))
			call->alive |= (uint8_t)(1u << call->n);
		call->n++;
	}
	dp_count(s->ctr, c, 1);
	return HOP_UP;
}

/*
 * Is this the PBX's INVITE retransmission, CANCEL or ACK of a call the control
 * plane holds (the wake path, common/sw_callset.h)? That call is a
 * transaction the control plane owns (§16: it forks, CANCELs, ACKs its
 * non-2xx): forwarded here as well, a device could get the call twice
 * through two paths. Only requests without our Record-Route's device id get
 * here (the ACK for a 2xx, BYE and re-INVITE follow the dialog's route).
 * While nothing is held (the usual case): ~10 instructions, the method test
 * and a call that is one relaxed load (callgrind, bench_dp fwd-invite); else
 * ~36 cycles to key the Call-ID plus a hash lookup.
 */
static inline bool held_call(const struct dp_ctx *ctx, const uint8_t *msg, const struct sip_msg *sm)
{
	switch (sm->method) {
	case SIP_M_INVITE:
		if (sm->to.tag.len != 0)
			return false; /* a re-INVITE: in a dialog, not the held transaction */
		break;
	case SIP_M_MESSAGE:
		/* A MESSAGE the control plane holds for an asleep device: its
		 * retransmissions must not reach the device once it woke
		 * (cp_msg_held.c), or it would read the message twice. */
		if (sm->to.tag.len != 0)
			return false;
		break;
	case SIP_M_CANCEL:
	case SIP_M_ACK:
		break;
	default:
		return false;
	}
	if (ctx->held == NULL || sw_callset_count(ctx->held) == 0)
		return false;
	return sw_callset_has(ctx->held, sw_callset_key(msg + sm->call_id.off, sm->call_id.len));
}

/* Where a request from the PBX goes: an alive device, or not sent at all.
 * *@p found: the device when the Request-URI named it (not our Route). */
static enum next_hop to_device(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
			       const struct dp_l4info *from, const uint8_t *msg, struct sw_ip *dst,
			       uint16_t *dport, int *out, uint64_t *dev,
			       const struct sw_device **found, bool from_peer)
{
	const struct sip_msg *sm = s->sip;
	const struct dp_ctx *ctx = s->ctx;
	const struct sw_device *d;
	struct aor_pick pk;

	pk.n = 0;
	/* Before any lookup: the control plane's call, whatever the tables say. */
	if (*dev == 0 && held_call(ctx, msg, sm)) {
		/* A sender may reuse a held MESSAGE's Call-ID for its next
		 * one: the new one's devices come up with it. */
		if (sm->method == SIP_M_MESSAGE && ctx->bind != NULL)
			sw_devices_of(ctx->bind, msg, sm, aor_one, &pk);
		return decided(s, m, DP_CALL_HELD, &pk, DP_C_FWD_HELD_HANDED_UP);
	}
	if (ctx->bind == NULL)
		return HOP_UP; /* no binding tables (tests): nothing to decide with */
	if (*dev != 0 && (d = sw_bind_by_id(ctx->bind, *dev)) != NULL) {
		/* In a dialog our Record-Route named: to the device's source now,
		 * asleep or not (it spoke in this dialog moments ago); over a
		 * stream, down its connection, which only the control plane
		 * reaches (docs/streams.md, "Flows"). */
		if (d->tp != SW_TP_UDP) {
			pk.d[pk.n++] = d;
			return decided(s, m, DP_CALL_STREAM, &pk, DP_C_FWD_STREAM_HANDED_UP);
		}
		*dst = d->src;
		*dport = d->sport;
		*out = d->iface < ctx->p.ports.n_ifaces ? d->iface : iface_for(&ctx->p, dst, ifx);
		return HOP_FOUND;
	}
	sw_devices_of(ctx->bind, msg, sm, aor_one, &pk);
	if (pk.n > 1)
		return decided(s, m, DP_CALL_FORK, &pk, DP_C_FWD_FORK_HANDED_UP);
	if (pk.n == 0) {
		if (sm->method == SIP_M_ACK)
			dp_drop(s, m, DP_D_FWD_NO_DEVICE); /* §17.1.1.3: never answered */
		else if (sm->method == SIP_M_INVITE && sm->to.tag.len == 0) {
			dp_trace(s, msg, DP_TR_INVITE_NO_DEVICE, 0, &from->src, from->sport, 404);
			answer(s, ifx, m, from, msg, 404);
		} else
			/* §12.2.2, §9.2: a dialog or a transaction we cannot have */
			answer(s, ifx, m, from, msg,
			       sm->to.tag.len != 0 || sm->method == SIP_M_CANCEL ? 481 : 404);
		return HOP_DONE;
	}
	d = pk.d[0];
	/* Bound through another edge that answers: that edge reaches it (its
	 * NAT binding, its connection) and decides alive or asleep there
	 * (docs/cluster.md). A peer's own request is never relayed on: no
	 * loop between edges whatever their tables say. */
	if (d->peer != 0 && d->peer <= ctx->p.n_peers && !from_peer &&
	    (__atomic_load_n(&ctx->peer_up, __ATOMIC_RELAXED) >> (d->peer - 1) & 1u)) {
		const struct dp_server *pr = &ctx->p.peers[d->peer - 1];

		*dst = pr->ip;
		*dport = pr->port;
		*out = iface_for(&ctx->p, dst, ifx);
		*dev = 0;
		return HOP_PEER;
	}
	if (!sw_device_alive(ctx->src, d, DP_META(m)->rx_tsc, ctx->p.alive_window_tsc, NULL))
		return decided(s, m, DP_CALL_ASLEEP, &pk, DP_C_FWD_ASLEEP_HANDED_UP);
	/* wake.policy always-push / parallel: a new call to a device that can be
	 * pushed takes the wake path even while it is alive (the control plane
	 * pushes, and with parallel sends the INVITE to the last contact too).
	 * Asleep, it went up above and counts as asleep; a device without a
	 * push address, or an INVITE in a dialog, is forwarded as with ping. */
	if (ctx->p.wake_policy != DP_WAKE_PING && d->pn_form != SW_PN_NONE &&
	    sm->method == SIP_M_INVITE && sm->to.tag.len == 0)
		return decided(s, m, DP_CALL_POLICY, &pk, DP_C_FWD_POLICY_HANDED_UP);
	if (d->tp != SW_TP_UDP)
		return decided(s, m, DP_CALL_STREAM, &pk, DP_C_FWD_STREAM_HANDED_UP);
	*dst = d->src;
	*dport = d->sport;
	*out = d->iface < ctx->p.ports.n_ifaces ? d->iface : iface_for(&ctx->p, dst, ifx);
	*dev = d->id;
	*found = d;
	if (sm->method == SIP_M_INVITE && sm->to.tag.len == 0)
		dp_trace(s, msg, DP_TR_INVITE_FWD, d->id, dst, *dport, 0);
	return HOP_FOUND;
}

/*
 * Where a device's request goes: the PBX only (docs/design.md §1 step 8). A Route (what
 * is left after ours) or an address Request-URI is followed when it is the
 * PBX, and is never followed anywhere else: an app does not get an open
 * relay. A Request-URI naming a host (the app's SIP domain, one of ours, tel:)
 * is the PBX's to route: the worker resolves no names.
 */
static enum next_hop to_pbx(struct dp_wstate *s, struct rte_mbuf *m, const uint8_t *msg,
			    const struct sip_uri *route, struct sw_ip *dst, uint16_t *dport)
{
	const struct sip_msg *sm = s->sip;
	const struct dp_params *p = &s->ctx->p;
	const struct sip_uri *u = route != NULL ? route : &sm->ruri;
	bool sip = u->scheme == SIP_SCHEME_SIP || u->scheme == SIP_SCHEME_SIPS;

	if (sip && dp_host_ip(msg, u->host, dst) &&
	    (route != NULL || sw_ports_owner(&p->ports, dst) < 0)) {
		if (!dp_is_pbx_addr(s, dst)) {
			dp_drop(s, m, DP_D_FWD_NOT_PBX_ROUTE);
			return HOP_DONE;
		}
		*dport = u->port != 0 ? u->port : 5060;
		return HOP_FOUND;
	}
	if (route != NULL) {
		dp_drop(s, m, DP_D_FWD_NOT_PBX_ROUTE);
		return HOP_DONE;
	}
	/* The server list is the policy's: a reload swaps it under RCU. */
	const struct dp_policy *pol = s->pol;

	if (pol->n_servers == 0) {
		dp_drop(s, m, DP_D_FWD_NO_PBX);
		return HOP_DONE;
	}
	uint32_t a = __atomic_load_n(&s->ctx->pbx_active, __ATOMIC_RELAXED);
	const struct dp_server *srv = &pol->servers[a < pol->n_servers ? a : 0];

	*dst = srv->ip;
	*dport = srv->port != 0 ? srv->port : 5060;
	return HOP_FOUND;
}

/*
 * The Request-URI a device gets from the PBX, the same on both paths (the
 * wake path's is cp_call_send_branch()): its contact as it registered it,
 * push parameters out (RFC 8599 §4.1.2). A PBX that sends to the AOR or to
 * the push address is retargeted (RFC 3261 §16.5, as a registrar's proxy
 * does): apps that check the Request-URI against their own contact refuse
 * anything else. One that is the contact already gets the same bytes. The
 * new URI is the binding's (struct sw_device.ruri, made when it bound: no
 * parameter is read here), copied when the frame is built: the binding
 * outlives this packet (the worker is online, common/sw_rcu.h). ~40
 * instructions against ~900 when the Request-URI's parameters were walked
 * per call (callgrind, bench_dp --mix fwd-invite).
 */
static void retarget(struct dp_fwd_msg *fm, const struct sip_msg *sm, const struct sw_device *d)
{
	const struct sip_uri *u = &sm->ruri;
	uint32_t off = u->whole.off, end = off + u->whole.len;

	if (d != NULL && d->ruri_len != 0) {
		/* Already what goes out (a contact without push parameters): no edit. */
		if (u->whole.len != d->ruri_len || memcmp(fm->msg + off, d->ruri, d->ruri_len) != 0)
			dp_fwd_edit(fm, off, end, d->ruri, d->ruri_len);
		return;
	}
	if (u->params.len != 0)
		dp_fwd_strip_pn(fm, u->params.off, (uint32_t)u->params.off + u->params.len);
}

enum dp_fwd_verdict dp_fwd_request(struct dp_wstate *s, unsigned ifx, struct rte_mbuf *m,
				   const struct dp_l4info *from, const uint8_t *msg,
				   enum dp_src_class cls)
{
	const struct sip_msg *sm = s->sip;
	const struct dp_params *p = &s->ctx->p;
	const struct sip_uri *route = NULL;
	struct sip_uri next_route;
	enum next_hop hop;
	struct dp_fwd_msg fm;
	struct sw_ip dst;
	uint16_t dport = 0;
	int out = -1, peer;
	uint64_t dev = 0;
	const struct sw_device *found = NULL;

	/* §16.3 step 3 */
	if (sm->max_forwards == 0) {
		if (sm->method == SIP_M_ACK)
			dp_drop(s, m, DP_D_FWD_MAX_FORWARDS);
		else
			answer(s, ifx, m, from, msg, 483);
		return DP_FWD_DONE;
	}
	dp_fwd_msg_init(&fm, msg, sm);
	if (sm->route.whole.len != 0 && !pop_our_routes(p, &fm, msg, sm, &next_route, &route, &dev))
		goto bad_route;

	if (cls == DP_SRC_PBX && (peer = route_peer(s->ctx, msg, route)) >= 0) {
		/* In a dialog another edge Record-Routed: to it, Via only; its
		 * Route stays for it to take off (a peer's request is never
		 * relayed on: from a peer this is not followed). */
		dst = p->peers[peer].ip;
		dport = p->peers[peer].port;
		out = iface_for(p, &dst, ifx);
		hop = HOP_PEER;
	} else if (cls == DP_SRC_PBX || cls == DP_SRC_PEER) {
		/* Nothing decided until to_device() says (struct dp_call). */
		DP_META(m)->call.why = DP_CALL_NONE;
		DP_META(m)->call.n = 0;
		/* Devices are reached by their binding only: a Route left after
		 * ours stays in the message, it does not pick the device. */
		hop = to_device(s, ifx, m, from, msg, &dst, &dport, &out, &dev, &found,
				cls == DP_SRC_PEER);
		if (hop != HOP_FOUND && hop != HOP_PEER)
			return hop == HOP_UP ? DP_FWD_HAND_UP : DP_FWD_DONE;
		/* To a peer: the Request-URI as the PBX wrote it, which the peer
		 * looks up; the edge that reaches the device retargets it. */
		if (hop == HOP_FOUND)
			retarget(&fm, sm, found);
	} else {
		hop = to_pbx(s, m, msg, route, &dst, &dport);
		if (hop != HOP_FOUND)
			return DP_FWD_DONE;
		dev = DP_META(m)->device_id; /* the bound source's device */
		out = iface_for(p, &dst, ifx);
		if (sm->n_contacts != 0) {
			const struct sip_contact *c = &sm->contact;
			uint32_t ue = (uint32_t)c->uri.whole.off + c->uri.whole.len;
			uint32_t ce = (uint32_t)c->value.off + c->value.len;

			/* <uri;params>: the URI's; a bare URI: the field's (§20.10). */
			if (c->uri.whole.off > 0 && msg[c->uri.whole.off - 1] == '<')
				dp_fwd_strip_pn(&fm, c->uri.params.off,
						(uint32_t)c->uri.params.off + c->uri.params.len);
			else if (ue < ce && msg[ue] == ';')
				dp_fwd_strip_pn(&fm, ue + 1, ce);
		}
	}
	if (out < 0) {
		dp_drop(s, m, DP_D_NO_ROUTE);
		return DP_FWD_DONE;
	}
	/* Relayed to a peer: Via only. The edge that reaches the device
	 * Record-Routes; in-dialog requests then go to it straight, and a
	 * peer's request is always for a device (docs/cluster.md). */
	dp_fwd_our_lines(s, (unsigned)out, !sw_ip_is_v4(&dst), ifx, &fm, msg, sm, from, dev,
			 hop != HOP_PEER);
	return fwd_send(s, (unsigned)out, m, &fm, &dst, dport,
			hop == HOP_PEER	      ? DP_C_FWD_TO_PEER
			: cls != DP_SRC_BOUND ? DP_C_FWD_REQUESTS_TO_DEVICE
					      : DP_C_FWD_REQUESTS_TO_PBX);
bad_route:
	dp_drop(s, m, DP_D_BAD_ROUTE);
	return DP_FWD_DONE;
}
