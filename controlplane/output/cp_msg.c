/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small pieces of the SIP messages the control plane writes: hosts,
 * header lines, and the stateless
 * answer to a request it refuses (RFC 3261 §8.2.6).
 */
#include "common/sw_hash.h"
#include "controlplane/output/cp_msg.h"

void cp_msg_host(struct cp_msg *o, const struct sw_ip *ip)
{
	char s[INET6_ADDRSTRLEN];

	if (sw_ip_is_v4(ip)) {
		inet_ntop(AF_INET, &ip->a[12], s, sizeof(s));
		cp_msg_str(o, s);
	} else {
		inet_ntop(AF_INET6, ip->a, s, sizeof(s));
		cp_msg_fmt(o, "[%s]", s);
	}
}

struct sip_slice cp_hdr_line(const struct sip_hdr *h)
{
	/* The whole field: name through the end of its (possibly folded) value. */
	return (struct sip_slice){h->name.off,
				  (uint16_t)(h->value.off + h->value.len - h->name.off)};
}

void cp_answer(struct cp_ctx *cp, const uint8_t *msg, const struct sip_msg *sm, unsigned status,
	       const struct cp_answer_how *how)
{
	static struct cp_msg scratch; /* the control plane is one thread */

	if (cp_answer_into(msg, sm, status, how, &scratch) == 0)
		cp_udp_send(cp, how->dst, how->dport, scratch.b, scratch.len);
}

int cp_answer_into(const uint8_t *msg, const struct sip_msg *sm, unsigned status,
		   const struct cp_answer_how *how, struct cp_msg *o)
{
	bool top = true;

	o->len = 0;
	o->overflow = false;
	cp_msg_fmt(o, "SIP/2.0 %u %s\r\n", status, sip_reason(status));
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];
		struct sip_slice l = cp_hdr_line(h);

		switch (h->id) {
		case SIP_H_VIA:
			if (top) {
				top = false;
				if (how->stamp == NULL)
					break; /* our own Via: the answer stops here */
				/* §18.2.1 / RFC 3581: where the request really came from. */
				cp_msg_str(o, "Via: ");
				cp_msg_put(o, msg + h->value.off, h->value.len);
				cp_msg_str(o, ";received=");
				cp_msg_host(o, how->stamp);
				if (sm->via.rport >= 0)
					cp_msg_fmt(o, ";rport=%u", how->stamp_port);
				cp_msg_str(o, "\r\n");
				break;
			}
			/* fall through */
		case SIP_H_FROM:
		case SIP_H_CALL_ID:
		case SIP_H_CSEQ:
			cp_msg_put(o, msg + l.off, l.len);
			cp_msg_str(o, "\r\n");
			break;
		case SIP_H_TO:
			cp_msg_put(o, msg + l.off, l.len);
			if (sm->to.tag.len == 0 && !how->no_tag)
				cp_msg_fmt(o, ";tag=sw%08x", how->tag);
			cp_msg_str(o, "\r\n");
			break;
		default:
			break;
		}
	}
	if (status == 503)
		cp_msg_str(o, "Retry-After: 30\r\n");
	cp_msg_str(o, "Server: sipwake\r\nContent-Length: 0\r\n\r\n");
	return o->overflow ? -EMSGSIZE : 0;
}

int cp_msg_unvia(const uint8_t *msg, const struct sip_msg *sm, const char *extra, struct cp_msg *o)
{
	bool top = true;
	uint16_t start_end = sm->nhdrs > 0 ? sm->hdrs[0].name.off : sm->hdrs_end;

	o->len = 0;
	o->overflow = false;
	cp_msg_put(o, msg, start_end);
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];
		struct sip_slice l = cp_hdr_line(h);

		if (h->id == SIP_H_VIA && top) {
			uint32_t vend = (uint32_t)sm->via.value.off + sm->via.value.len;
			uint32_t lend = (uint32_t)l.off + l.len;

			top = false;
			/* "Via: ours, theirs": keep the field with the rest. */
			while (vend < lend && (msg[vend] == ' ' || msg[vend] == '\t' ||
					       msg[vend] == '\r' || msg[vend] == '\n'))
				vend++;
			if (vend < lend && msg[vend] == ',') {
				cp_msg_put(o, msg + h->name.off, h->name.len);
				cp_msg_str(o, ": ");
				cp_msg_put(o, msg + vend + 1, lend - vend - 1);
				cp_msg_str(o, "\r\n");
			}
			continue;
		}
		cp_msg_put(o, msg + l.off, l.len);
		cp_msg_str(o, "\r\n");
	}
	if (extra != NULL)
		cp_msg_str(o, extra);
	cp_msg_str(o, "\r\n");
	cp_msg_put(o, msg + sm->hdrs_end, (size_t)(sm->msg_len - sm->hdrs_end));
	return o->overflow ? -EMSGSIZE : 0;
}

void cp_sip_reply(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		  unsigned status)
{
	const struct cp_answer_how how = {
		.stamp = &meta->src,
		.stamp_port = meta->sport,
		.tag = sw_fnv1a(msg + meta->sip.call_id.off, meta->sip.call_id.len, status),
		.dst = &meta->src,
		.dport = meta->sport,
	};

	cp_answer(cp, msg, &meta->sip, status, &how);
}

int cp_send_options(struct cp_ctx *cp, const struct sw_ip *dst, uint16_t dport,
		    const struct cp_options *opt)
{
	struct cp_msg o = {0};
	struct sw_ip our, nh;
	unsigned ifx;
	int rc = cp_route(cp, dst, &ifx, &our, &nh);

	if (rc != 0)
		return rc;
	cp_msg_str(&o, "OPTIONS sip:");
	cp_msg_host(&o, dst);
	cp_msg_fmt(&o, ":%u SIP/2.0\r\nVia: SIP/2.0/UDP ", dport);
	cp_msg_host(&o, &our);
	cp_msg_fmt(&o, ":%u;branch=" DP_BRANCH_MAGIC "%c%c%s;rport\r\n", cp->dp->ports.sip_port,
		   DP_BRANCH_CP, opt->kind, opt->branch_tail);
	cp_msg_str(&o, "Max-Forwards: 70\r\nFrom: <sip:sipwake@");
	cp_msg_host(&o, &our);
	cp_msg_fmt(&o,
		   ">;tag=%s\r\nTo: <sip:%s>\r\nCall-ID: %s@sipwake\r\nCSeq: %u OPTIONS\r\n"
		   "Content-Length: 0\r\n\r\n",
		   opt->tag, opt->to, opt->call_id, opt->cseq);
	if (o.overflow)
		return -EMSGSIZE;
	return cp_udp_send(cp, dst, dport, o.b, o.len);
}
