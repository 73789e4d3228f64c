/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The header lines the forwarding stage (dp_fwd.c) writes into a request it
 * forwards (RFC 3261 §16.6 steps 3, 4 and 8): our Via right above the
 * sender's, with a branch that is the same for a request and its
 * retransmissions, CANCEL and ACK (§16.11); Record-Route on dialog-creating
 * requests, with the dialog's device in it, after the Vias; Max-Forwards;
 * rport / received on the sender's Via (RFC 3581). And the device read back
 * from our Route when the dialog's next request comes through it. All of it is edits on the received message
 * (dp_fwd_msg.c), written with the shared writer (sip/sip_wbuf.h).
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/sw_hash.h"
#include "dataplane/dp_internal.h"
#include "sip/sip_wbuf.h"

/* @p ip as received= writes it (RFC 3261 §20.42: no brackets), at most
 * INET6_ADDRSTRLEN - 1 bytes: the caller has made sure of the room. */
static void ip_text(struct sip_wbuf *w, const struct sw_ip *ip)
{
	if (sw_ip_is_v4(ip)) {
		for (int i = 12; i < 16; i++) {
			sip_wbuf_u32_unchecked(w, ip->a[i]);
			if (i < 15)
				SIP_WBUF_LIT_UNCHECKED(w, ".");
		}
	} else {
		char t[INET6_ADDRSTRLEN];

		sw_ip_str(ip, t, sizeof(t));
		sip_wbuf_put_unchecked(w, t, strlen(t));
	}
}

/* ip_text() of @p ip, from the worker's one-entry cache when it is the
 * last one written: ~150 instructions less per request from the PBX
 * (callgrind, bench_dp --mix fwd-invite). */
static void rcv_text(struct dp_wstate *s, struct sip_wbuf *w, const struct sw_ip *ip)
{
	_Static_assert(sizeof(s->rcv_txt) >= INET6_ADDRSTRLEN, "rcv_txt[] too small");
	if (s->rcv_len == 0 || !sw_ip_eq(&s->rcv_ip, ip)) {
		struct sip_wbuf t = sip_wbuf_at(s->rcv_txt, sizeof(s->rcv_txt));

		ip_text(&t, ip);
		s->rcv_ip = *ip;
		s->rcv_len = (uint8_t)t.len;
	}
	sip_wbuf_put_unchecked(w, s->rcv_txt, s->rcv_len);
}

/* Our address and port on @p ifx as Via and Record-Route carry them; the
 * ifaces do not change while workers run, so each worker formats them once. */
static const char *our_hostport(struct dp_wstate *s, unsigned ifx, bool v6, uint32_t *len)
{
	const struct sw_iface *ifc = &s->ctx->p.ports.ifaces[ifx];
	char *h = s->host[ifx][v6];

	/* "[" address "]:" port fits whatever the address. */
	_Static_assert(sizeof(s->host[0][0]) >= INET6_ADDRSTRLEN + 8, "host[] too small");
	if (s->host_len[ifx][v6] == 0) {
		struct sw_ip ip = v6 ? ifc->ip6 : sw_ip_from_v4(ifc->ip4);
		struct sip_wbuf w = sip_wbuf_at(h, sizeof(s->host[0][0]));

		if (v6)
			SIP_WBUF_LIT_UNCHECKED(&w, "[");
		ip_text(&w, &ip);
		if (v6)
			SIP_WBUF_LIT_UNCHECKED(&w, "]");
		SIP_WBUF_LIT_UNCHECKED(&w, ":");
		sip_wbuf_u32_unchecked(&w, s->ctx->p.ports.sip_port);
		s->host_len[ifx][v6] = (uint8_t)w.len;
	}
	*len = s->host_len[ifx][v6];
	return h;
}

/*
 * §16.11: a stateless proxy's branch must be the same every time it forwards
 * one request (retransmissions have no state to find it in), and its CANCEL
 * and non-2xx ACK must carry the INVITE's. They share the incoming top Via
 * branch and the Request-URI, which is all that is hashed when the branch
 * is an RFC 3261 one; from an RFC 2543 peer, the transaction is what
 * identifies it there (§17.2.3): the Via, Call-ID, From tag, CSeq number and
 * method (but ACK and CANCEL go with their INVITE; and not the To tag: the
 * ACK has one the INVITE had not).
 */
static uint64_t branch_of(const uint8_t *msg, const struct sip_msg *sm)
{
	const struct sip_via *v = &sm->via;
	uint64_t h = sw_hash64_bytes(msg + sm->ruri.whole.off, sm->ruri.whole.len, 0x5357u);

	if (v->branch.len > 7 && memcmp(sip_ptr(msg, v->branch), "z9hG4bK", 7) == 0)
		return sw_fmix64(sw_hash64_bytes(msg + v->branch.off, v->branch.len, h));
	h = sw_hash64_bytes(msg + v->value.off, v->value.len, h);
	h = sw_hash64_bytes(msg + sm->call_id.off, sm->call_id.len, h);
	h = sw_hash64_bytes(msg + sm->from.tag.off, sm->from.tag.len, h);
	if (sm->method == SIP_M_ACK || sm->method == SIP_M_CANCEL)
		h = sw_hash64_bytes("INVITE", 6, h);
	else
		h = sw_hash64_bytes(msg + sm->method_name.off, sm->method_name.len, h);
	return sw_fmix64(h ^ sm->cseq);
}

/* Where a line inserted before header field @p i of @p sm goes (@p i may be
 * sm->nhdrs: after the last field, before the empty line). */
static inline uint32_t before_field(const struct sip_msg *sm, unsigned i)
{
	return i < sm->nhdrs ? sm->hdrs[i].name.off : (uint32_t)sm->hdrs_end - 2;
}

/* One Record-Route of ours at @p host (@p hl bytes). The dialog's device
 * rides in it (a flow token, as RFC 5626 §5.3 does it): the PBX's in-dialog
 * requests name the app by its dialog Contact, which may be any URI, even a
 * private one. */
static void rr_line(struct sip_wbuf *o, const char *host, uint32_t hl, uint64_t dev)
{
	SIP_WBUF_LIT_UNCHECKED(o, "Record-Route: <sip:");
	sip_wbuf_put_unchecked(o, host, hl);
	if (dev != 0) {
		SIP_WBUF_LIT_UNCHECKED(o, ";" DP_ROUTE_DEVICE_PARAM "=");
		sip_wbuf_hex_unchecked(o, dev, 16);
	}
	SIP_WBUF_LIT_UNCHECKED(o, ";lr>\r\n");
}

/*
 * Our lines (§16.6 steps 3, 4, 8): Via with the deterministic branch right
 * above the sender's; Record-Route when the request makes a dialog we must
 * stay in, and Max-Forwards when the request had none, after the run of Via
 * fields (sip_via_run(): a UA that copies the Vias into its answer as one run
 * of lines must find them all there, or its answer cannot come back). The
 * decremented Max-Forwards and the sender's Via (received / rport, §18.2.1,
 * RFC 3581 §4) are edits in place. Two insertion points: the edits are sorted
 * by offset when the frame is built (dp_fwd_msg.c). Against one point before
 * the first line: ~270 instructions more per 1 KB INVITE, ~160 of them in
 * dp_fwd_tx() (callgrind, bench_dp fwd-invite, the Request-URI check
 * included); in cycles, within the bench's noise (~4.4k either way).
 */
void dp_fwd_our_lines(struct dp_wstate *s, unsigned out, bool v6, unsigned in,
		      struct dp_fwd_msg *fm, const uint8_t *msg, const struct sip_msg *sm,
		      const struct dp_l4info *from, uint64_t dev, bool rr)
{
	const struct sip_via *v = &sm->via;
	uint32_t hl, vend = (uint32_t)v->value.off + v->value.len;
	const char *host = our_hostport(s, out, v6, &hl);
	bool in_v6 = !sw_ip_is_v4(&from->src);
	/* The room for all of them at their longest: no check per append
	 * (56 bytes a host at most, s->host[][]). */
	uint32_t most = 2 * hl + 56 + 182;
	char *b = dp_fwd_scratch(fm, most);
	uint64_t br = branch_of(msg, sm);
	unsigned first_via, after_vias = sip_via_run(sm, &first_via);
	struct sip_wbuf o;
	struct sw_ip ip;
	uint32_t via_len;

	if (b == NULL)
		return;
	o = sip_wbuf_at(b, most);
	SIP_WBUF_LIT_UNCHECKED(&o, "Via: SIP/2.0/UDP ");
	sip_wbuf_put_unchecked(&o, host, hl);
	SIP_WBUF_LIT_UNCHECKED(&o, ";branch=" DP_BRANCH_MAGIC);
	sip_wbuf_byte_unchecked(&o, DP_BRANCH_STATELESS);
	sip_wbuf_hex_unchecked(&o, br, 16);
	SIP_WBUF_LIT_UNCHECKED(&o, "\r\n");
	via_len = o.len;
	dp_fwd_edit(fm, before_field(sm, first_via), before_field(sm, first_via), b, via_len);
	/* §16.6 step 4, §12.1.1: dialog-creating requests (RFC 6665 NOTIFY and
	 * RFC 3515 REFER included), so in-dialog ones come back through us. */
	if (rr && sm->to.tag.len == 0 &&
	    (sm->method == SIP_M_INVITE || sm->method == SIP_M_SUBSCRIBE ||
	     sm->method == SIP_M_REFER || sm->method == SIP_M_NOTIFY)) {
		rr_line(&o, host, hl, dev);
		/* A call that changed family on its way: the sender cannot reach
		 * the address above, so ours facing it goes below, where its route
		 * set (the list reversed) starts (RFC 5658 §3.1). Its next request
		 * brings both back as Routes, both popped (dp_fwd.c). */
		if (in_v6 != v6) {
			uint32_t il;
			const char *ih = our_hostport(s, in, in_v6, &il);

			rr_line(&o, ih, il, dev);
		}
	}
	if (sm->max_forwards < 0)
		SIP_WBUF_LIT_UNCHECKED(&o, "Max-Forwards: 70\r\n");
	if (o.len > via_len)
		dp_fwd_edit(fm, before_field(sm, after_vias), before_field(sm, after_vias),
			    b + via_len, o.len - via_len);

	if (sm->max_forwards > 0) {
		const struct sip_hdr *h = &sm->hdrs[dp_first_hdr(sm, SIP_H_MAX_FORWARDS, 0)];

		b = dp_fwd_scratch(fm, 3);
		if (b != NULL) {
			o = sip_wbuf_at(b, 3);
			sip_wbuf_u32_unchecked(&o, (uint32_t)sm->max_forwards - 1);
			dp_fwd_edit(fm, h->value.off, (uint32_t)h->value.off + h->value.len, b,
				    o.len);
		}
	}
	if (v->rport == 0) {
		b = dp_fwd_scratch(fm, 11);
		if (b != NULL) {
			o = sip_wbuf_at(b, 11);
			SIP_WBUF_LIT_UNCHECKED(&o, "rport=");
			sip_wbuf_u32_unchecked(&o, from->sport);
			dp_fwd_edit(fm, v->rport_param.off,
				    (uint32_t)v->rport_param.off + v->rport_param.len, b, o.len);
		}
	}
	if (v->received.len == 0 &&
	    (v->rport >= 0 || !dp_host_ip(msg, v->host, &ip) || !sw_ip_eq(&ip, &from->src))) {
		b = dp_fwd_scratch(fm, 10 + INET6_ADDRSTRLEN);
		if (b != NULL) {
			o = sip_wbuf_at(b, 10 + INET6_ADDRSTRLEN);
			SIP_WBUF_LIT_UNCHECKED(&o, ";received=");
			rcv_text(s, &o, &from->src);
			dp_fwd_edit(fm, vend, vend, b, o.len);
		}
	}
}

/* What dp_fwd_our_lines() put in our Record-Route, as the dialog's requests
 * bring it back in their Route. */
uint64_t dp_fwd_route_device(const uint8_t *msg, const struct sip_uri *r)
{
	static const char tag[] = DP_ROUTE_DEVICE_PARAM "=";
	const char *p = sip_ptr(msg, r->params), *end = p + r->params.len;
	uint64_t id = 0;

	for (; p + sizeof(tag) - 1 <= end; p++) {
		if ((p != sip_ptr(msg, r->params) && p[-1] != ';') ||
		    memcmp(p, tag, sizeof(tag) - 1) != 0)
			continue;
		for (p += sizeof(tag) - 1; p < end && *p != ';'; p++) {
			int c = *p, v = c >= '0' && c <= '9'   ? c - '0'
					: c >= 'a' && c <= 'f' ? c - 'a' + 10
							       : -1;

			if (v < 0 || id >> 60 != 0)
				return 0;
			id = id << 4 | (uint64_t)v;
		}
		return id;
	}
	return 0;
}
