/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Do two scans of one message say the same? Used to hold the structural
 * index's implementations (sip/sip_index.h: portable, SSSE3, AVX2) to one
 * answer: by the fuzz target (fuzz_sip_scan.c) on every input and by the
 * unit test tests/unit/test_sip_index.c. Field by field, not memcmp: struct
 * padding is not part of the answer. Header-only and libc-only, so both a
 * clang fuzz build and a gcc meson build include it.
 */
#ifndef SIP_SAME_H
#define SIP_SAME_H

#include <stddef.h>

#include "sip/sip_scan.h"

#define SAME_S(a, b) ((a).off == (b).off && (a).len == (b).len)

static inline int sip_same_uri(const struct sip_uri *a, const struct sip_uri *b)
{
	return SAME_S(a->whole, b->whole) && SAME_S(a->user, b->user) && SAME_S(a->host, b->host) &&
	       SAME_S(a->params, b->params) && SAME_S(a->headers, b->headers) &&
	       a->port == b->port && a->scheme == b->scheme && a->host_is_ipv6 == b->host_is_ipv6 &&
	       a->has_headers == b->has_headers;
}

static inline int sip_same_push(const struct sip_push *a, const struct sip_push *b)
{
	return a->form == b->form && a->flags == b->flags && SAME_S(a->provider, b->provider) &&
	       SAME_S(a->prid, b->prid) && SAME_S(a->param, b->param);
}

static inline int sip_same_nameaddr(const struct sip_nameaddr *a, const struct sip_nameaddr *b)
{
	return SAME_S(a->value, b->value) && sip_same_uri(&a->uri, &b->uri) &&
	       SAME_S(a->tag, b->tag);
}

/**
 * NULL when @p a and @p b (scans of one buffer, both SIP_SCAN_OK) agree on
 * every field, else the name of the first that differs.
 */
static inline const char *sip_same_msg(const struct sip_msg *a, const struct sip_msg *b)
{
	const struct sip_via *va = &a->via, *vb = &b->via;
	const struct sip_contact *ca = &a->contact, *cb = &b->contact;

	if (a->is_request != b->is_request || a->method != b->method ||
	    !SAME_S(a->method_name, b->method_name) || a->status != b->status ||
	    !SAME_S(a->reason, b->reason))
		return "start line";
	if (!sip_same_uri(&a->ruri, &b->ruri))
		return "ruri";
	if (!SAME_S(va->value, vb->value) || !SAME_S(va->transport, vb->transport) ||
	    !SAME_S(va->host, vb->host) || !SAME_S(va->branch, vb->branch) ||
	    !SAME_S(va->received, vb->received) || va->port != vb->port ||
	    !SAME_S(va->rport_param, vb->rport_param) || va->rport != vb->rport ||
	    va->host_is_ipv6 != vb->host_is_ipv6)
		return "via";
	if (!sip_same_nameaddr(&a->from, &b->from) || !sip_same_nameaddr(&a->to, &b->to))
		return "from/to";
	if (!SAME_S(a->call_id, b->call_id) || a->cseq != b->cseq ||
	    a->cseq_method != b->cseq_method || !SAME_S(a->cseq_method_name, b->cseq_method_name))
		return "call-id/cseq";
	if (a->max_forwards != b->max_forwards || a->content_length != b->content_length ||
	    a->expires != b->expires || a->expires_bad != b->expires_bad)
		return "scalars";
	if (a->n_contacts != b->n_contacts || a->contact_star != b->contact_star ||
	    a->contact_bad != b->contact_bad)
		return "contacts";
	if (a->n_contacts > 0 &&
	    (!SAME_S(ca->value, cb->value) || !sip_same_uri(&ca->uri, &cb->uri) ||
	     ca->expires != cb->expires || ca->expires_differ != cb->expires_differ ||
	     !SAME_S(ca->instance, cb->instance) || ca->reg_id != cb->reg_id ||
	     !sip_same_push(&ca->pn, &cb->pn)))
		return "contact";
	if (!sip_same_push(&a->xpush, &b->xpush) || !SAME_S(a->xpush_value, b->xpush_value))
		return "x-push";
	if (!sip_same_uri(&a->route, &b->route) || a->route_next != b->route_next ||
	    !sip_same_uri(&a->record_route, &b->record_route))
		return "route";
	if (!SAME_S(a->user_agent, b->user_agent))
		return "user-agent";
	if (a->hdrs_end != b->hdrs_end || !SAME_S(a->body, b->body) || a->msg_len != b->msg_len)
		return "framing";
	if (a->nhdrs != b->nhdrs)
		return "nhdrs";
	for (unsigned i = 0; i < a->nhdrs; i++)
		if (!SAME_S(a->hdrs[i].name, b->hdrs[i].name) ||
		    !SAME_S(a->hdrs[i].value, b->hdrs[i].value) || a->hdrs[i].id != b->hdrs[i].id)
			return "hdrs";
	return NULL;
}

#undef SAME_S

#endif /* SIP_SAME_H */
