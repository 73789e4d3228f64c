/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small pieces of the SIP messages the control plane writes: hosts,
 * header lines, a response relayed one hop back, its own OPTIONS, the
 * stateless answer to a request it refuses (RFC 3261 §8.2.6), and a contact
 * without its push parameters.
 */
#include "common/sw_hash.h"
#include "controlplane/output/cp_msg.h"
#include "sip/sip_reply.h"

#define SERVER "Server: sipwake\r\n"

/* @p ip as a SIP host: dotted quad, or an IPv6 reference in [ ]. */
static const char *host_text(const struct sw_ip *ip, char out[INET6_ADDRSTRLEN + 2])
{
	if (sw_ip_is_v4(ip))
		return inet_ntop(AF_INET, &ip->a[12], out, INET6_ADDRSTRLEN + 2);
	out[0] = '[';
	inet_ntop(AF_INET6, ip->a, out + 1, INET6_ADDRSTRLEN);
	strcat(out, "]");
	return out;
}

void cp_msg_host(struct cp_msg *o, const struct sw_ip *ip)
{
	char s[INET6_ADDRSTRLEN + 2];

	cp_msg_str(o, host_text(ip, s));
}

void cp_msg_received(struct cp_msg *o, const struct sw_ip *ip)
{
	char s[INET6_ADDRSTRLEN];

	cp_msg_str(o, ";received=");
	cp_msg_str(o, sw_ip_str(ip, s, sizeof(s)));
}

void cp_msg_via(struct cp_msg *o, uint8_t tp, const struct sw_ip *our, uint16_t port,
		const char *branch)
{
	cp_msg_fmt(o, "Via: SIP/2.0/%s ", sw_tp_via(tp));
	cp_msg_host(o, our);
	cp_msg_fmt(o, ":%u;branch=%s%s\r\n", port, branch, tp == SW_TP_UDP ? ";rport" : "");
}

void cp_msg_rr(struct cp_msg *o, uint8_t tp, const struct sw_ip *our, uint16_t port, uint64_t dev)
{
	cp_msg_str(o, "Record-Route: <sip:");
	cp_msg_host(o, our);
	cp_msg_fmt(o, ":%u", port);
	if (tp != SW_TP_UDP)
		cp_msg_fmt(o, ";transport=%s", sw_tp_name(tp));
	cp_msg_fmt(o, ";" DP_ROUTE_DEVICE_PARAM "=%016" PRIx64 ";lr>\r\n", dev);
}

struct sip_slice cp_hdr_line(const struct sip_hdr *h)
{
	return sip_hdr_line(h);
}

void cp_answer(struct cp_ctx *cp, const uint8_t *msg, const struct sip_msg *sm, unsigned status,
	       const struct cp_answer_how *how)
{
	static struct cp_msg scratch; /* the control plane is one thread */

	const struct cp_dest to = {*how->dst, how->dport, how->tp, how->conn, false};

	if (cp_answer_into(msg, sm, status, how, &scratch) == 0)
		cp_dest_send(cp, &to, scratch.b, scratch.len);
}

/*
 * The control plane's answer (sip/sip_reply.h, which the workers' shares):
 * header lines copied as written, the top via-parm stamped with received=
 * (its rport= filled in, RFC 3581), or no top Via when it is our own;
 * Retry-After: 30 on 503 and a Server line without version.
 */
int cp_answer_into(const uint8_t *msg, const struct sip_msg *sm, unsigned status,
		   const struct cp_answer_how *how, struct cp_msg *o)
{
	char host[INET6_ADDRSTRLEN], extra[64];
	const struct sip_reply r = {
		.status = status,
		.top_via = how->stamp != NULL ? SIP_REPLY_VIA_STAMP : SIP_REPLY_VIA_DROP,
		/* received= as the workers write it (cp_msg_received()). */
		.source = how->stamp != NULL ? sw_ip_str(how->stamp, host, sizeof(host)) : NULL,
		.sport = how->stamp_port,
		.as_written = true,
		.tag = !how->no_tag,
		.to_tag = how->tag,
		.extra = extra,
		.reason = how->reason,
	};
	struct sip_wbuf w = sip_wbuf_at(o->b, sizeof(o->b));
	int rc;

	if (how->retry_after != 0 || status == 503)
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n" SERVER,
			 how->retry_after != 0 ? how->retry_after : 30u);
	else
		snprintf(extra, sizeof(extra), "%s", SERVER);
	rc = sip_reply_write(&w, msg, sm, &r);

	cp_msg_end(o, &w);
	return rc;
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

/* A stateless answer of ours, its reason phrase and Retry-After chosen. */
static void cp_sip_reply_as(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
			    unsigned status, const char *reason, uint16_t retry_after)
{
	const struct cp_answer_how how = {
		.stamp = &meta->src,
		.stamp_port = meta->sport,
		.tag = sw_fnv1a(msg + meta->sip.call_id.off, meta->sip.call_id.len, status),
		.dst = &meta->src,
		.dport = meta->sport,
		.tp = meta->tp,
		.conn = meta->conn,
		.reason = reason,
		.retry_after = retry_after,
	};

	cp_answer(cp, msg, &meta->sip, status, &how);
}

void cp_sip_reply(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		  unsigned status)
{
	cp_sip_reply_as(cp, meta, msg, status, NULL, 0);
}

void cp_sip_reply_why(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
		      unsigned status, const char *reason)
{
	cp_sip_reply_as(cp, meta, msg, status, reason, 0);
}

void cp_sip_reply_retry(struct cp_ctx *cp, const struct dp_meta *meta, const uint8_t *msg,
			unsigned status, uint16_t retry_after)
{
	cp_sip_reply_as(cp, meta, msg, status, NULL, retry_after);
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
	if (opt->ruri != NULL) {
		cp_msg_fmt(&o, "OPTIONS %s", opt->ruri);
	} else {
		cp_msg_str(&o, "OPTIONS sip:");
		cp_msg_host(&o, dst);
		cp_msg_fmt(&o, ":%u", dport);
	}
	cp_msg_str(&o, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
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

int cp_uri_without_pn(const char *uri, size_t len, char *out, size_t cap)
{
	/* The same pieces as the workers send (dataplane/dp_fwd.c): one rule. */
	struct sip_slice pc[CP_URI_PIECES];
	int np = len <= UINT16_MAX ? sip_uri_without_pn(uri, (uint32_t)len, pc, CP_URI_PIECES)
				   : -E2BIG;
	size_t n = 0;

	for (int i = 0; i < np; i++) {
		if (n + pc[i].len >= cap)
			return -E2BIG;
		memcpy(out + n, uri + pc[i].off, pc[i].len);
		n += pc[i].len;
	}
	if (np < 0 || n >= cap)
		return np < 0 ? np : -E2BIG;
	out[n] = '\0';
	return (int)n;
}
