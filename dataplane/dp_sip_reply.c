/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless SIP responses built on the worker (RFC 3261 §8.2.6): 200 to
 * OPTIONS for sipwake itself (the health check PBXes and load balancers
 * send), the filter's optional 403 / 503, and the forwarding stage's 404 /
 * 481 / 483 (dp_fwd.c).
 */
#include <arpa/inet.h>
#include <errno.h>

#include <rte_mbuf.h>

#include "common/sw_hash.h"
#include "dataplane/dp_internal.h"
#include "sip/sip_reply.h"

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

#define SERVER "Server: sipwake/" SW_VERSION "\r\n"

/* The lines after CSeq, by status. */
static const char *extra_lines(uint16_t status)
{
	switch (status) {
	case 200:
		return "Allow: " SW_ALLOW "\r\n" SERVER;
	case 503:
		/* RFC 3261 §21.5.4: when to come back; the bucket refills by then. */
		return "Retry-After: 10\r\n" SERVER;
	default:
		return SERVER;
	}
}

/*
 * The workers' answer (sip/sip_reply.h, which the control plane's shares):
 * RFC 3581 §4 applied to the top Via, header lines rewritten, and a To-tag
 * that is a hash of the dialog identifiers, so a retransmitted request gets
 * the same answer.
 */
static int put_response(struct sip_wbuf *w, const uint8_t *msg, const struct sip_msg *sm,
			uint16_t status, const char *src_ip, uint16_t sport)
{
	const struct sip_reply r = {
		.status = status,
		.top_via = SIP_REPLY_VIA_RPORT,
		.source = src_ip,
		.sport = sport,
		.as_written = false,
		.tag = true,
		.to_tag =
			sw_fnv1a(msg + sm->call_id.off, sm->call_id.len,
				 sw_fnv1a(msg + sm->from.tag.off, sm->from.tag.len, SW_FNV1A_SEED)),
		.extra = extra_lines(status),
	};

	return sip_reply_write(w, msg, sm, &r);
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
	if (put_response(&b, msg, sm, status, src_ip, from->sport) != 0) {
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
