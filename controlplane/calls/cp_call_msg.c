/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The requests the wake path sends to devices (RFC 3261 §16.6, §9.1,
 * §17.1.1.3), and the caller details a push carries, spliced from the
 * scanned bytes of what they answer or follow:
 * nothing is re-parsed, every header sipwake does not own is copied as is.
 */
#include <arpa/inet.h>
#include <strings.h>

#include "controlplane/calls/cp_call.h"
#include "pushd/pd.h"

#define MAX_FORWARDS_DEFAULT 70

void cp_call_branch_id(char *out, size_t cap, uint64_t call_id, unsigned br)
{
	snprintf(out, cap, DP_BRANCH_MAGIC "%c%c%016" PRIx64 "%x", DP_BRANCH_CP,
		 CP_CALL_BRANCH_KIND, call_id, br & 0xf);
}

/* Does the Route URI @p r name sipwake (one of our addresses or names, our
 * port or none)? The same answer as the workers' Route pop (dp_fwd.c). */
static bool route_is_ours(const struct cp_ctx *cp, const uint8_t *msg, const struct sip_uri *r)
{
	return r->whole.len != 0 &&
	       sw_ports_is_us(&cp->dp->ports, sip_ptr(msg, r->host), r->host.len, r->port);
}

static void put_line(struct cp_msg *o, const uint8_t *msg, const struct sip_hdr *h)
{
	struct sip_slice l = cp_hdr_line(h);

	cp_msg_put(o, msg + l.off, l.len);
	cp_msg_str(o, "\r\n");
}

/* §16.6 step 8: our Via, above every other, in the device's transport. */
static void our_via(const struct cp_ctx *cp, const struct sw_ip *our, const char *branch,
		    uint8_t tp, struct cp_msg *o)
{
	cp_msg_via(o, tp, our, cp_tp_port(cp, tp), branch);
}

/* §16.6 step 4: stay in the dialog; the device rides in our route (a flow
 * token, as the workers write it: dataplane/dp_fwd_hdrs.c). Toward a
 * device on a stream, or in the other family than the PBX's (@p back: our
 * address facing the PBX), two: the one facing the device on top (its
 * route set starts with it), then the one facing the PBX, which reads the
 * list the other way (RFC 5658 §3.1). Step 3: a Max-Forwards when the PBX
 * sent none. */
static void our_route(const struct cp_ctx *cp, const struct sip_msg *sm, const struct sw_ip *our,
		      const struct sw_ip *back, uint64_t dev, uint8_t tp, struct cp_msg *o)
{
	bool other_family = back != NULL && sw_ip_is_v4(back) != sw_ip_is_v4(our);

	/* dev 0: through another edge, which Record-Routes (docs/cluster.md). */
	if (dev != 0 && tp != SW_TP_UDP)
		cp_msg_rr(o, tp, our, cp_tp_port(cp, tp), dev);
	else if (dev != 0 && other_family)
		cp_msg_rr(o, SW_TP_UDP, our, cp->dp->ports.sip_port, dev);
	if (dev != 0)
		cp_msg_rr(o, SW_TP_UDP, other_family ? back : our, cp->dp->ports.sip_port, dev);
	if (sm->max_forwards < 0)
		cp_msg_fmt(o, "Max-Forwards: %d\r\n", MAX_FORWARDS_DEFAULT - 1);
}

int cp_call_build_invite(const struct cp_ctx *cp, const uint8_t *inv, const struct sip_msg *sm,
			 const char *target, const struct sw_ip *our, const struct sw_ip *back,
			 const char *branch, uint64_t dev, uint8_t tp, struct cp_msg *o)
{
	bool pop = route_is_ours(cp, inv, &sm->route), first_route = true;
	unsigned first_via, rr_at = sip_via_run(sm, &first_via);

	o->len = 0;
	o->overflow = false;
	/* The held request's own method: INVITE, or MESSAGE (cp_msg_held.c). */
	cp_msg_fmt(o, "%s %s SIP/2.0\r\n", sm->method == SIP_M_MESSAGE ? "MESSAGE" : "INVITE",
		   target);
	/* Our Via joins the PBX's run of Vias and the Record-Route goes after
	 * it, as the workers place them (sip_via_run()). */
	for (unsigned i = 0; i <= sm->nhdrs; i++) {
		if (i == first_via)
			our_via(cp, our, branch, tp, o);
		if (i == rr_at)
			our_route(cp, sm, our, back, dev, tp, o);
		if (i == sm->nhdrs)
			break;

		const struct sip_hdr *h = &sm->hdrs[i];

		switch (h->id) {
		case SIP_H_MAX_FORWARDS:
			cp_msg_fmt(o, "Max-Forwards: %d\r\n",
				   sm->max_forwards > 0 ? sm->max_forwards - 1 : 0);
			break;
		case SIP_H_ROUTE:
			if (pop && first_route) {
				/* §16.4: ours is the first value; keep the rest of
				 * its field, if any. */
				uint32_t lend = (uint32_t)h->value.off + h->value.len;

				first_route = false;
				if (sm->route_next < lend) {
					cp_msg_put(o, inv + h->name.off, h->name.len);
					cp_msg_str(o, ": ");
					cp_msg_put(o, inv + sm->route_next, lend - sm->route_next);
					cp_msg_str(o, "\r\n");
				}
				break;
			}
			put_line(o, inv, h);
			break;
		default:
			put_line(o, inv, h);
		}
	}
	cp_msg_str(o, "\r\n");
	cp_msg_put(o, inv + sm->hdrs_end, (size_t)(sm->msg_len - sm->hdrs_end));
	return o->overflow ? -EMSGSIZE : 0;
}

/* Start line, our Via (the INVITE's first, a line of its own), its Route,
 * From, Call-ID and Max-Forwards: what CANCEL and ACK share (§9.1, §17.1.1.3). */
static void hop_request(const char *method, const uint8_t *inv, const struct sip_msg *sm,
			struct cp_msg *o)
{
	bool via = false;

	o->len = 0;
	o->overflow = false;
	cp_msg_fmt(o, "%s ", method);
	cp_msg_put(o, inv + sm->ruri.whole.off, sm->ruri.whole.len);
	cp_msg_str(o, " SIP/2.0\r\n");
	for (unsigned i = 0; i < sm->nhdrs; i++) {
		const struct sip_hdr *h = &sm->hdrs[i];

		if ((h->id == SIP_H_VIA && !via) || h->id == SIP_H_ROUTE || h->id == SIP_H_FROM ||
		    h->id == SIP_H_CALL_ID)
			put_line(o, inv, h);
		via |= h->id == SIP_H_VIA;
	}
	cp_msg_fmt(o, "Max-Forwards: %d\r\n", MAX_FORWARDS_DEFAULT);
}

static const struct sip_hdr *hdr_of(const struct sip_msg *sm, enum sip_hdr_id id)
{
	for (unsigned i = 0; i < sm->nhdrs; i++)
		if (sm->hdrs[i].id == id)
			return &sm->hdrs[i];
	return NULL;
}

int cp_call_build_cancel(const uint8_t *inv, const struct sip_msg *sm, const char *reason,
			 struct cp_msg *o)
{
	const struct sip_hdr *to = hdr_of(sm, SIP_H_TO);

	hop_request("CANCEL", inv, sm, o);
	if (to != NULL)
		put_line(o, inv, to);
	cp_msg_fmt(o, "CSeq: %u CANCEL\r\n", sm->cseq);
	if (reason != NULL)
		cp_msg_fmt(o, "Reason: %s\r\n", reason);
	cp_msg_str(o, "Content-Length: 0\r\n\r\n");
	return o->overflow ? -EMSGSIZE : 0;
}

int cp_call_build_ack(const uint8_t *inv, const struct sip_msg *sm, const uint8_t *resp,
		      const struct sip_msg *rsm, struct cp_msg *o)
{
	const struct sip_hdr *to = hdr_of(rsm, SIP_H_TO);

	hop_request("ACK", inv, sm, o);
	if (to != NULL)
		put_line(o, resp, to); /* with the answer's tag */
	cp_msg_fmt(o, "CSeq: %u ACK\r\nContent-Length: 0\r\n\r\n", sm->cseq);
	return o->overflow ? -EMSGSIZE : 0;
}

int cp_call_build_in_dialog(const uint8_t *inv, const struct sip_msg *sm, const uint8_t *resp,
			    const struct sip_msg *rsm, bool bye, const struct sw_ip *our,
			    uint16_t port, uint8_t tp, const char *branch, struct cp_msg *o)
{
	const struct sip_hdr *from = hdr_of(sm, SIP_H_FROM), *to = hdr_of(rsm, SIP_H_TO);
	const struct sip_hdr *cid = hdr_of(sm, SIP_H_CALL_ID);

	if (rsm->n_contacts == 0 || from == NULL || to == NULL || cid == NULL)
		return -EINVAL;
	o->len = 0;
	o->overflow = false;
	cp_msg_str(o, bye ? "BYE " : "ACK ");
	cp_msg_put(o, resp + rsm->contact.uri.whole.off, rsm->contact.uri.whole.len);
	cp_msg_str(o, " SIP/2.0\r\n");
	cp_msg_via(o, tp, our, port, branch);
	cp_msg_fmt(o, "Max-Forwards: %d\r\n", MAX_FORWARDS_DEFAULT);
	put_line(o, inv, from);
	put_line(o, resp, to);
	put_line(o, inv, cid);
	cp_msg_fmt(o, "CSeq: %u %s\r\n", sm->cseq + (bye ? 1 : 0), bye ? "BYE" : "ACK");
	if (bye)
		cp_msg_str(o,
			   "Reason: SIP;cause=487;text=\"Call ended before it was answered\"\r\n");
	cp_msg_str(o, "Content-Length: 0\r\n\r\n");
	return o->overflow ? -EMSGSIZE : 0;
}

/* Caller details for the push (the app shows them in CallKit / its UI). */
void cp_call_caller_of(const uint8_t *msg, const struct sip_msg *sm, struct pd_request *rq)
{
	const struct sip_nameaddr *f = &sm->from;
	const char *v = sip_ptr(msg, f->value), *lt = memchr(v, '<', f->value.len);
	size_t n = lt != NULL ? (size_t)(lt - v) : 0;

	snprintf(rq->call_id, sizeof(rq->call_id), "%.*s", sm->call_id.len,
		 sip_ptr(msg, sm->call_id));
	snprintf(rq->caller_number, sizeof(rq->caller_number), "%.*s", f->uri.user.len,
		 sip_ptr(msg, f->uri.user));
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '"'))
		n--;
	while (n > 0 && (*v == ' ' || *v == '"'))
		v++, n--;
	snprintf(rq->caller_name, sizeof(rq->caller_name), "%.*s", (int)n, v);
}
