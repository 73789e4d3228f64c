/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the streams thread hands the control plane (streams/st.h,
 * docs/streams.md). Each whole SIP message from a connection is scanned
 * here with the workers' scanner into a struct dp_meta, as a worker's
 * hand-off would be, marked with its transport and connection, and taken
 * by the paths a datagram takes: a REGISTER by the relay (the app's answers
 * go back down its connection, its binding remembers it), a device's
 * answer on a wake-path branch by the wake path, the rest of a bound
 * device's traffic by the stream relay (cp_stream_fwd.c). The end of a
 * connection makes its devices asleep at once (bindings/cp_flow.c).
 *
 * The checks the workers make of a datagram's source are made here of the
 * connection's peer: banned sources get nothing but their REGISTERs
 * refused by the relay, and only bound devices (the device the source
 * names, on this very connection) may send anything but REGISTER.
 */
#include <stdlib.h>

#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/calls/cp_call.h"
#include "controlplane/cp_internal.h"
#include "streams/st.h"

/* A dp_meta holds a whole scan result: one, reused, on this thread. */
static struct dp_meta scratch;

/* Is the Request-URI sipwake itself (an OPTIONS keepalive, RFC 3261 §11)? */
static bool ruri_is_us(const struct cp_ctx *cp, const uint8_t *msg, const struct sip_msg *sm)
{
	return sw_ports_is_us(&cp->dp->ports, sip_ptr(msg, sm->ruri.host), sm->ruri.host.len, 0);
}

static void fill_meta(struct cp_ctx *cp, const struct st_up *u, struct dp_meta *m)
{
	int ifx = sw_ports_owner(&cp->dp->ports, &u->local);

	m->rx_tsc = rte_rdtsc();
	m->kind = DP_UP_SIP;
	m->worker = 0;
	m->iface = ifx >= 0 ? (uint8_t)ifx : 0;
	m->stranger = 0;
	m->sip_off = 0;
	m->sip_len = (uint16_t)u->len;
	m->v6 = !sw_ip_is_v4(&u->peer);
	m->sport = u->peer_port;
	m->src = u->peer;
	m->dst = u->local;
	m->tp = u->tp;
	m->local_port = u->local_port;
	m->conn = u->conn;
	memset(&m->call, 0, sizeof(m->call));
	/* Bound: a device whose flow is this very connection (not merely one
	 * at its address and port: bindings/cp_flow.c). */
	m->device_id = 0;
	m->src_class = cp_flow_devices(cp, &u->peer, u->peer_port, u->conn, &m->device_id, 1) != 0
			       ? DP_SRC_BOUND
			       : DP_SRC_UNKNOWN;
}

static void stream_sip(struct cp_ctx *cp, const struct st_up *u)
{
	struct dp_meta *m = &scratch;
	const uint8_t *msg = u->data;
	const struct sip_msg *sm = &m->sip;
	char kind;

	/* The framer cut one message by its Content-Length; the scanner must
	 * read exactly that one, or the stream is out of step: closed. */
	if (u->len > UINT16_MAX || sip_scan(msg, u->len, &m->sip) != SIP_SCAN_OK ||
	    m->sip.msg_len != u->len) {
		cp_count_drop(cp, CP_D_STREAM_BAD_SIP, 1);
		st_close(cp->st, u->conn);
		return;
	}
	cp_flow_seen(cp, u->conn);
	fill_meta(cp, u, m);
	cp_count(cp, CP_C_STREAM_MSGS_IN, 1);
	if (!sm->is_request) {
		kind = cp_branch_kind(msg, sm);
		if (kind == CP_CALL_BRANCH_KIND && m->src_class == DP_SRC_BOUND)
			cp_call_response(cp, m, msg);
		else if (kind == CP_BRANCH_TO_DEVICE && m->src_class == DP_SRC_BOUND)
			cp_stream_answer_from_device(cp, m, msg);
		else
			/* Answers to the relay's, pings' or health checks'
			 * branches come from the PBX over UDP, never here. */
			cp_count_drop(cp, CP_D_STREAM_NOT_OURS, 1);
		return;
	}
	if (sm->method == SIP_M_REGISTER) {
		cp_reg_request(cp, m, msg);
	} else if (sm->method == SIP_M_OPTIONS && sm->to.tag.len == 0 && ruri_is_us(cp, msg, sm)) {
		/* An app's keepalive or a probe: answered, as over UDP. */
		cp_count(cp, CP_C_STREAM_KEEPALIVE_PONGS, 1);
		cp_sip_reply(cp, m, msg, 200);
	} else if (m->src_class == DP_SRC_BOUND) {
		cp_stream_to_pbx(cp, m, msg);
	} else if (sm->method != SIP_M_ACK) {
		cp_count_drop(cp, CP_D_STREAM_NOT_BOUND, 1);
		cp_sip_reply(cp, m, msg, 403);
	} else {
		cp_count_drop(cp, CP_D_STREAM_NOT_BOUND, 1);
	}
}

unsigned cp_stream_poll(struct cp_ctx *cp)
{
	struct st_up *ev[CP_BURST];
	unsigned n;

	if (cp->st == NULL)
		return 0;
	n = st_poll(cp->st, ev, CP_BURST);
	for (unsigned i = 0; i < n; i++) {
		if (ev[i]->kind == ST_UP_SIP)
			stream_sip(cp, ev[i]);
		else if (ev[i]->kind == ST_UP_CLOSED)
			cp_flow_closed(cp, &ev[i]->peer, ev[i]->peer_port, ev[i]->conn);
		free(ev[i]);
	}
	return n;
}
