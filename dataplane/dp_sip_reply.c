/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless SIP responses built on the worker (RFC 3261 §8.2.6): 200 to
 * OPTIONS for sipwake itself (the health check PBXes and load balancers
 * send), the filter's optional 403 / 503, and the forwarding stage's 404 /
 * 481 / 483 (dp_fwd.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <strings.h>

#include <rte_mbuf.h>

#include "common/sw_hash.h"
#include "dataplane/dp_internal.h"
#include "sip/sip_wbuf.h"

/* Methods sipwake answers itself (RFC 3261 §11.2: Allow in 200 to OPTIONS). */
#define SW_ALLOW "OPTIONS"

bool dp_ruri_is_us(const struct dp_params *p, const uint8_t *msg, const struct sip_msg *sm,
		   bool any_user)
{
	const struct sip_uri *u = &sm->ruri;

	if ((u->user.len != 0 && !any_user) ||
	    (u->scheme != SIP_SCHEME_SIP && u->scheme != SIP_SCHEME_SIPS))
		return false;
	return sw_ports_is_us(&p->ports, sip_ptr(msg, u->host), u->host.len, u->port);
}

/* The top via-parm with RFC 3581 §4 applied: a bare rport gets the source
 * port, and received= is added when rport was asked for or the sent-by host
 * is not the source address (RFC 3261 §18.2.1). */
static void put_top_via(struct sip_wbuf *b, const uint8_t *msg, const struct sip_via *via,
			const char *src_ip, uint16_t sport)
{
	const char *v = (const char *)msg + via->value.off;
	uint32_t n = via->value.len, i = 0, start = 0;
	bool in_quotes = false, first = true;

	/* Copy param by param; params are ';'-separated after the sent-by. */
	for (i = 0; i <= n; i++) {
		if (i < n && v[i] == '"')
			in_quotes = !in_quotes;
		if (i < n && (v[i] != ';' || in_quotes))
			continue;
		if (!first && i - start == 5 && strncasecmp(v + start, "rport", 5) == 0) {
			SIP_WBUF_LIT(b, "rport=");
			sip_wbuf_u32(b, sport);
		} else {
			sip_wbuf_put(b, v + start, i - start);
		}
		if (i < n)
			SIP_WBUF_LIT(b, ";");
		first = false;
		start = i + 1;
	}
	if (via->received.len == 0 &&
	    (via->rport >= 0 || via->host.len != strlen(src_ip) ||
	     strncasecmp((const char *)msg + via->host.off, src_ip, via->host.len) != 0)) {
		SIP_WBUF_LIT(b, ";received=");
		sip_wbuf_str(b, src_ip);
	}
}

/* RFC 3261 §8.2.6.2: the response copies Via (all, in order), From, To
 * (adding a tag), Call-ID and CSeq. The tag is a hash of the dialog
 * identifiers, so a retransmitted request gets the same answer. */
static void put_response(struct sip_wbuf *b, const uint8_t *msg, const struct sip_msg *sm,
			 uint16_t status, const char *src_ip, uint16_t sport)
{
	bool top_done = false;

	SIP_WBUF_LIT(b, "SIP/2.0 ");
	sip_wbuf_u32(b, status);
	SIP_WBUF_LIT(b, " ");
	sip_wbuf_str(b, sip_reason(status));
	SIP_WBUF_LIT(b, "\r\n");
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];
		uint32_t h_end = (uint32_t)h->value.off + h->value.len;
		uint32_t v_end = (uint32_t)sm->via.value.off + sm->via.value.len;

		if (h->id != SIP_H_VIA)
			continue;
		SIP_WBUF_LIT(b, "Via: ");
		if (!top_done && sm->via.value.off >= h->value.off && v_end <= h_end) {
			/* This field holds the top via-parm; the ones after
			 * its comma are copied as they are. */
			put_top_via(b, msg, &sm->via, src_ip, sport);
			sip_wbuf_put(b, msg + v_end, h_end - v_end);
			top_done = true;
		} else {
			sip_wbuf_slice(b, msg, h->value);
		}
		SIP_WBUF_LIT(b, "\r\n");
	}
	SIP_WBUF_LIT(b, "From: ");
	sip_wbuf_slice(b, msg, sm->from.value);
	SIP_WBUF_LIT(b, "\r\nTo: ");
	sip_wbuf_slice(b, msg, sm->to.value);
	if (sm->to.tag.len == 0) {
		uint32_t h =
			sw_fnv1a(msg + sm->call_id.off, sm->call_id.len,
				 sw_fnv1a(msg + sm->from.tag.off, sm->from.tag.len, SW_FNV1A_SEED));
		SIP_WBUF_LIT(b, ";tag=sw");
		sip_wbuf_hex(b, h, 8);
	}
	SIP_WBUF_LIT(b, "\r\nCall-ID: ");
	sip_wbuf_slice(b, msg, sm->call_id);
	SIP_WBUF_LIT(b, "\r\nCSeq: ");
	sip_wbuf_u32(b, sm->cseq);
	SIP_WBUF_LIT(b, " ");
	sip_wbuf_slice(b, msg, sm->cseq_method_name);
	SIP_WBUF_LIT(b, "\r\n");
	if (status == 200)
		SIP_WBUF_LIT(b, "Allow: " SW_ALLOW "\r\n");
	else if (status == 503)
		/* RFC 3261 §21.5.4: when to come back; the bucket refills by then. */
		SIP_WBUF_LIT(b, "Retry-After: 10\r\n");
	SIP_WBUF_LIT(b, "Server: sipwake/" SW_VERSION "\r\nContent-Length: 0\r\n\r\n");
}

int dp_sip_respond(struct dp_wstate *s, unsigned ifx, const struct dp_l4info *from,
		   const uint8_t *msg, uint16_t status, bool stranger)
{
	const struct sw_iface *ifc = &s->ctx->p.ports.ifaces[ifx];
	const struct sip_msg *sm = s->sip;
	uint16_t hdr_len = dp_udp_hdr_len(from->v6);
	uint16_t ip_hdrs = (uint16_t)(hdr_len - RTE_ETHER_HDR_LEN);
	char src_ip[INET6_ADDRSTRLEN];
	struct rte_mbuf *m;
	struct sip_wbuf b;
	uint16_t dport;

	m = rte_pktmbuf_alloc(s->ctx->pool);
	if (m == NULL)
		return -ENOMEM;
	sw_ip_str(&from->src, src_ip, sizeof(src_ip));
	/* One frame, no fragmentation yet: the answer must fit the MTU. */
	b = sip_wbuf_at(
		rte_pktmbuf_mtod_offset(m, char *, hdr_len),
		RTE_MIN((uint32_t)rte_pktmbuf_tailroom(m) - hdr_len, (uint32_t)ifc->mtu - ip_hdrs));
	put_response(&b, msg, sm, status, src_ip, from->sport);
	if (b.overflow) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	/* RFC 3261 §18.2.2 with RFC 3581 §4: to the source port when rport
	 * was asked for, else to the sent-by port (default 5060), always at
	 * the source address. */
	dport = sm->via.rport >= 0 ? from->sport : (sm->via.port != 0 ? sm->via.port : 5060);
	dp_udp_finish(s, m, from, dport, (uint16_t)b.len);
	if (stranger)
		dp_tx_stranger(s, ifx, m, &from->src);
	else
		dp_tx_ip(s, ifx, m, &from->src);
	return 0;
}
