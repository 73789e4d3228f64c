/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stream relay (docs/streams.md, "Flows"): what the workers' stateless
 * forwarding does for a device bound over UDP (docs/design.md §1.2), done
 * here for a device on a stream, whose connection only this thread
 * reaches. Stateless as theirs (RFC 3261 §16.11): nothing is kept; our Via
 * branch says where an answer goes.
 *
 *   PBX request in a dialog with the device -> down its connection, our Via
 *     "z9hG4bK-swCf<hash>" in the device's transport, our Routes popped
 *     (one, or the two RFC 5658 put there); no connection: 430 Flow Failed
 *     (RFC 5626 §5.3), and the device is asleep already.
 *   device's answer on such a branch -> our Via off, to the next Via,
 *     which must be the PBX (never a relay to anyone else).
 *   device request (BYE, the ACK of a 2xx, re-INVITE, a new call) -> the
 *     PBX in use, over UDP, our Via "z9hG4bK-swCo<tp><conn><hash>", and two
 *     Record-Routes on a request that makes a dialog: the one facing the
 *     PBX on top, the one facing the device below (RFC 5658 §3.1).
 *   PBX's answer on such a branch -> our Via off, down the connection the
 *     branch names (gone: dropped and counted).
 * A new call from the PBX is not here: the wake path takes it (cp_call.c),
 * calling the device at once down an open connection or pushing it.
 */
#include <inttypes.h>

#include "common/sw_hash.h"
#include "controlplane/output/cp_msg.h"

#define MAX_FORWARDS_DEFAULT 70
#define CONN_HEX	     16

static struct cp_msg out;     /* the control plane is one thread */
static struct sip_msg rescan; /* an answer with our Via off, read again */

/* A Route URI naming sipwake: one of our addresses or names, and our SIP
 * port, a listener's port, or none (RFC 5658's two name two ports). */
static bool route_ours(const struct cp_ctx *cp, const uint8_t *msg, const struct sip_uri *u)
{
	const struct st_config *sc = &cp->cfg.streams;
	bool port_ours = u->port == 0 || u->port == cp->dp->ports.sip_port;

	for (unsigned i = 0; !port_ours && i < sc->n_listeners; i++)
		port_ours = u->port == sc->listeners[i].port;
	return port_ours && sw_ports_is_us(&cp->dp->ports, sip_ptr(msg, u->host), u->host.len, 0);
}

/* One Route field, its values that name us at the head of the route set
 * left out (*@p popping stays true while they do, §16.4). */
static void put_route(const struct cp_ctx *cp, const uint8_t *msg, const struct sip_hdr *h,
		      bool *popping, struct cp_msg *o)
{
	struct sip_slice v = h->value;
	uint32_t end = (uint32_t)v.off + v.len;
	struct sip_uri u;
	uint16_t next;

	while (*popping && v.len > 0 && sip_route_first(msg, v, &u, &next) == SIP_SCAN_OK &&
	       route_ours(cp, msg, &u)) {
		v.len = (uint16_t)(next <= end ? end - next : 0);
		v.off = next;
	}
	if (v.len == 0)
		return;
	*popping = false;
	cp_msg_put(o, msg + h->name.off, h->name.len);
	cp_msg_str(o, ": ");
	cp_msg_put(o, msg + v.off, v.len);
	cp_msg_str(o, "\r\n");
}

/* What our relayed request adds: the Via, and the Record-Routes of a
 * request that makes a dialog (facing the next hop first). */
struct hop {
	uint8_t via_tp;
	uint16_t via_port;
	const struct sw_ip *our;
	const char *branch;
	uint64_t dev;	   /* swd= of our Record-Routes */
	uint8_t rr_tp[2];  /* transports of the two Record-Routes, top first */
	bool record_route; /* a dialog-making request */
};

static void put_rr(const struct cp_ctx *cp, const struct hop *hp, struct cp_msg *o)
{
	for (unsigned i = 0; hp->record_route && i < 2; i++)
		cp_msg_rr(o, hp->rr_tp[i], hp->our, cp_tp_port(cp, hp->rr_tp[i]), hp->dev);
}

/* The request at @p msg relayed one hop (§16.6): our Via on top of the run
 * of Vias, Record-Routes after that run, our Routes popped, Max-Forwards
 * less one (or added); everything else as it came. */
static int build_request(const struct cp_ctx *cp, const uint8_t *msg, const struct sip_msg *sm,
			 const struct hop *hp, struct cp_msg *o)
{
	unsigned first_via, rr_at = sip_via_run(sm, &first_via);
	bool popping = true;

	o->len = 0;
	o->overflow = false;
	cp_msg_put(o, msg, sm->nhdrs > 0 ? sm->hdrs[0].name.off : sm->hdrs_end);
	for (unsigned i = 0; i <= sm->nhdrs; i++) {
		if (i == first_via)
			cp_msg_via(o, hp->via_tp, hp->our, hp->via_port, hp->branch);
		if (i == rr_at) {
			put_rr(cp, hp, o);
			if (sm->max_forwards < 0)
				cp_msg_fmt(o, "Max-Forwards: %d\r\n", MAX_FORWARDS_DEFAULT - 1);
		}
		if (i == sm->nhdrs)
			break;

		const struct sip_hdr *h = &sm->hdrs[i];
		struct sip_slice l = cp_hdr_line(h);

		if (h->id == SIP_H_MAX_FORWARDS)
			cp_msg_fmt(o, "Max-Forwards: %d\r\n", sm->max_forwards - 1);
		else if (h->id == SIP_H_ROUTE)
			put_route(cp, msg, h, &popping, o);
		else {
			cp_msg_put(o, msg + l.off, l.len);
			cp_msg_str(o, "\r\n");
		}
	}
	cp_msg_str(o, "\r\n");
	cp_msg_put(o, msg + sm->hdrs_end, (size_t)(sm->msg_len - sm->hdrs_end));
	return o->overflow ? -EMSGSIZE : 0;
}

/* A stateless branch (§16.11): the same for a request's retransmissions,
 * its CANCEL and the ACK of a non-2xx answer, which carry the same branch
 * (§9.1, §17.1.1.3), so the next hop matches them to its transaction. */
static uint32_t branch_hash(const uint8_t *msg, const struct sip_msg *sm)
{
	uint32_t h = sw_fnv1a(sip_ptr(msg, sm->via.branch), sm->via.branch.len, 2166136261u);

	return sw_fnv1a(sip_ptr(msg, sm->call_id), sm->call_id.len, h);
}

/* Is @p ip the PBX: a pbx.servers address or inside pbx.sources? */
static bool is_pbx(const struct cp_ctx *cp, const struct sw_ip *ip)
{
	for (unsigned i = 0; i < cp->n_servers; i++)
		if (sw_ip_eq(&cp->servers[i].ip, ip))
			return true;
	for (unsigned i = 0; i < cp->cfg.n_pbx_sources; i++) {
		struct sw_ip net;

		memcpy(net.a, cp->cfg.pbx_sources[i].addr, 16);
		if (sw_ip_prefix_eq(&net, ip, cp->cfg.pbx_sources[i].plen))
			return true;
	}
	return false;
}

static bool dialog_making(const struct sip_msg *sm)
{
	if (sm->to.tag.len != 0)
		return false;
	return sm->method == SIP_M_INVITE || sm->method == SIP_M_SUBSCRIBE ||
	       sm->method == SIP_M_REFER || sm->method == SIP_M_NOTIFY;
}

void cp_stream_to_device(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	const struct sw_device *d =
		meta->call.n > 0 ? sw_bind_by_id(cp->dp->bind, meta->call.dev[0]) : NULL;
	char branch[48];
	struct sw_ip our, nh;
	unsigned ifx;

	if (d == NULL || d->conn == 0 || cp->st == NULL) {
		/* RFC 5626 §5.3: the flow is gone. */
		cp_count_drop(cp, CP_D_STREAM_NO_CONN, 1);
		if (sm->method != SIP_M_ACK)
			cp_sip_reply(cp, meta, msg, d == NULL ? 481 : 430);
		return;
	}
	if (sm->max_forwards == 0) {
		if (sm->method != SIP_M_ACK)
			cp_sip_reply(cp, meta, msg, 483);
		return;
	}
	if (cp_route(cp, &d->src, &ifx, &our, &nh) != 0)
		our = meta->dst;
	snprintf(branch, sizeof(branch), DP_BRANCH_MAGIC "%c%c%08" PRIx32, DP_BRANCH_CP,
		 CP_BRANCH_TO_DEVICE, branch_hash(msg, sm));
	const struct hop hp = {
		.via_tp = d->tp, .via_port = cp_tp_port(cp, d->tp), .our = &our, .branch = branch};
	const struct cp_dest to = cp_dest_dev(d);

	if (build_request(cp, msg, sm, &hp, &out) != 0) {
		if (sm->method != SIP_M_ACK)
			cp_sip_reply(cp, meta, msg, 513);
		return;
	}
	if (cp_dest_send(cp, &to, out.b, out.len) == 0)
		cp_count(cp, CP_C_STREAM_TO_DEVICE, 1);
}

void cp_stream_to_pbx(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	unsigned active = __atomic_load_n(cp->dp->pbx_active, __ATOMIC_RELAXED), ifx;
	const struct dp_server *pbx;
	struct sw_ip our, nh;
	char branch[64];

	if (cp->n_servers == 0) {
		cp_count_drop(cp, CP_D_REG_NO_PBX, 1);
		if (sm->method != SIP_M_ACK)
			cp_sip_reply(cp, meta, msg, 503);
		return;
	}
	if (sm->max_forwards == 0) {
		if (sm->method != SIP_M_ACK)
			cp_sip_reply(cp, meta, msg, 483);
		return;
	}
	/* An app's requests go to the PBX and nowhere else (docs/design.md §1
	 * step 8): the server in use, whatever its Route or Request-URI say. */
	pbx = &cp->servers[active < cp->n_servers ? active : 0];
	if (cp_route(cp, &pbx->ip, &ifx, &our, &nh) != 0) {
		cp_count_drop(cp, CP_D_CP_NO_ROUTE, 1);
		return;
	}
	snprintf(branch, sizeof(branch), DP_BRANCH_MAGIC "%c%c%u%0*" PRIx64 "%08" PRIx32,
		 DP_BRANCH_CP, CP_BRANCH_TO_PBX, meta->tp, CONN_HEX, meta->conn,
		 branch_hash(msg, sm));
	const struct hop hp = {.via_tp = SW_TP_UDP,
			       .via_port = cp->dp->ports.sip_port,
			       .our = &our,
			       .branch = branch,
			       .dev = meta->device_id,
			       .rr_tp = {SW_TP_UDP, meta->tp},
			       .record_route = dialog_making(sm)};

	if (build_request(cp, msg, sm, &hp, &out) != 0) {
		if (sm->method != SIP_M_ACK)
			cp_sip_reply(cp, meta, msg, 513);
		return;
	}
	if (cp_udp_send(cp, &pbx->ip, pbx->port, out.b, out.len) == 0)
		cp_count(cp, CP_C_STREAM_TO_PBX, 1);
}

void cp_stream_answer_from_device(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_via *v = &rescan.via;
	struct sw_ip dst;
	uint16_t port;

	/* §16.7 step 3 / §18.2.2: our Via off; the next one says where. */
	if (cp_msg_unvia(msg, &meta->sip, NULL, &out) != 0 ||
	    sip_scan((const uint8_t *)out.b, out.len, &rescan) != SIP_SCAN_OK) {
		cp_count_drop(cp, CP_D_STREAM_NOT_OURS, 1);
		return;
	}
	const struct sip_slice host = v->received.len != 0 ? v->received : v->host;

	if (sw_ip_parse(sip_ptr((const uint8_t *)out.b, host), host.len, &dst) != 0 ||
	    !is_pbx(cp, &dst)) {
		cp_count_drop(cp, CP_D_STREAM_NOT_OURS, 1);
		return;
	}
	port = v->rport > 0 ? (uint16_t)v->rport : v->port != 0 ? v->port : 5060;
	if (cp_udp_send(cp, &dst, port, out.b, out.len) == 0)
		cp_count(cp, CP_C_STREAM_TO_PBX, 1);
}

void cp_stream_answer_from_pbx(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg)
{
	const struct sip_msg *sm = &meta->sip;
	const char *b = sip_ptr(msg, sm->via.branch) + DP_BRANCH_MAGIC_LEN + 2;
	struct cp_dest to = {0};

	/* <tp><16 hex: the connection><hash>: written by cp_stream_to_pbx(). */
	if (sm->via.branch.len < DP_BRANCH_MAGIC_LEN + 3 + CONN_HEX || b[0] < '1' ||
	    b[0] >= '0' + SW_TP_N || !cp_hex_u64(b + 1, CONN_HEX, &to.conn) ||
	    meta->src_class != DP_SRC_PBX) {
		cp_count_drop(cp, CP_D_STREAM_NOT_OURS, 1);
		return;
	}
	to.tp = (uint8_t)(b[0] - '0');
	if (cp_msg_unvia(msg, sm, NULL, &out) != 0)
		return;
	if (cp_dest_send(cp, &to, out.b, out.len) == 0)
		cp_count(cp, CP_C_STREAM_TO_DEVICE, 1);
}
