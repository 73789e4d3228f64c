/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the SIP scanner (sip/sip_scan.h) and libosip2 make of one message,
 * compared field by field, each field in the form both parsers have (a
 * comment where libosip2's differs). Shared by the unit differential test
 * (tests/unit/osip_diff.c) and the differential fuzz target
 * (tests/fuzz/fuzz_sip_osip.c), so it needs libc and libosip2 only: no
 * cmocka; an allocation failure aborts.
 */
#include "osip_cmp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct diff {
	const uint8_t *buf; /* our copy of the message, for slices */
	int bad;	    /* fields that differed */
	osip_cmp_fn fn;
	void *user;
};

/* Test code: an allocation failure ends the run, like a failed assertion. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		abort();
	return p;
}

static void differs(struct diff *d, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void differs(struct diff *d, const char *field, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	d->fn(d->user, field, what);
	d->bad++;
}

/* Our slice against libosip2's string; an absent field is len 0 or NULL / "". */
static void cmp_str(struct diff *d, const char *field, struct sip_slice ours, const char *theirs)
{
	size_t n = theirs == NULL ? 0 : strlen(theirs);

	if (ours.len != n || (n != 0 && memcmp(d->buf + ours.off, theirs, n) != 0))
		differs(d, field, "ours \"%.*s\", libosip2 %s%s%s", (int)ours.len,
			(const char *)d->buf + ours.off, theirs == NULL ? "" : "\"",
			theirs == NULL ? "(null)" : theirs, theirs == NULL ? "" : "\"");
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* As cmp_str(), with each %HH of our slice decoded first (RFC 3261 §19.1.2). */
static void cmp_unescaped(struct diff *d, const char *field, struct sip_slice ours,
			  const char *theirs)
{
	const uint8_t *p = d->buf + ours.off;
	char *dec = xmalloc((size_t)ours.len + 1);
	size_t n = 0;

	for (size_t i = 0; i < ours.len; i++) {
		if (p[i] == '%' && i + 2 < ours.len && hexval(p[i + 1]) >= 0 &&
		    hexval(p[i + 2]) >= 0) {
			dec[n++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
		} else {
			dec[n++] = (char)p[i];
		}
	}
	dec[n] = '\0';
	if (strcmp(dec, theirs == NULL ? "" : theirs) != 0)
		differs(d, field, "ours \"%.*s\" (unescaped \"%s\"), libosip2 %s%s%s",
			(int)ours.len, (const char *)p, dec, theirs == NULL ? "" : "\"",
			theirs == NULL ? "(null)" : theirs, theirs == NULL ? "" : "\"");
	free(dec);
}

/* libosip2's decimal string, -1 when absent; -2 when it is not a plain number. */
static long osip_num(const char *s)
{
	char *end;
	long v;

	if (s == NULL)
		return -1;
	v = strtol(s, &end, 10);
	return end == s || *end != '\0' || v < 0 ? -2 : v;
}

/* libosip2's scheme string as our enum sip_scheme. */
static long osip_scheme(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcasecmp(s, "sip") == 0)
		return SIP_SCHEME_SIP;
	if (strcasecmp(s, "sips") == 0)
		return SIP_SCHEME_SIPS;
	if (strcasecmp(s, "tel") == 0)
		return SIP_SCHEME_TEL;
	return SIP_SCHEME_OTHER;
}

static void cmp_num(struct diff *d, const char *field, long ours, long theirs)
{
	if (ours != theirs)
		differs(d, field, "ours %ld, libosip2 %ld", ours, theirs);
}

/* A URI's user, host and port (port 0 when absent, as ours). */
static void cmp_uri(struct diff *d, const char *what, const struct sip_uri *ours,
		    const osip_uri_t *theirs)
{
	char field[64];

	if (theirs == NULL) {
		differs(d, what, "libosip2 has no URI");
		return;
	}
	snprintf(field, sizeof(field), "%s scheme", what);
	cmp_num(d, field, ours->scheme, osip_scheme(theirs->scheme));
	if (osip_scheme(theirs->scheme) != SIP_SCHEME_SIP &&
	    osip_scheme(theirs->scheme) != SIP_SCHEME_SIPS) {
		/* libosip2 parses only sip: and sips: URIs; any other scheme (tel:) is
		 * kept as scheme + opaque string, with no user/host/port, while we cut
		 * a tel: URI's subscriber into user. Compare the whole URI instead. */
		size_t need = strlen(theirs->scheme) + 1 +
			      (theirs->string == NULL ? 0 : strlen(theirs->string)) + 1;
		char *whole = xmalloc(need);

		snprintf(whole, need, "%s:%s", theirs->scheme,
			 theirs->string == NULL ? "" : theirs->string);
		snprintf(field, sizeof(field), "%s (non-SIP URI)", what);
		cmp_str(d, field, ours->whole, whole);
		free(whole);
		return;
	}
	/* libosip2 splits userinfo into username and password, we keep it whole:
	 * rejoin them with ':'. libosip2 also unescapes %HH in both, while we
	 * return the bytes as sent (zero-copy): compare our userinfo unescaped. */
	snprintf(field, sizeof(field), "%s user", what);
	if (theirs->password == NULL) {
		cmp_unescaped(d, field, ours->user, theirs->username);
	} else {
		size_t need = strlen(theirs->username == NULL ? "" : theirs->username) +
			      strlen(theirs->password) + 2;
		char *userinfo = xmalloc(need);

		snprintf(userinfo, need, "%s:%s", theirs->username == NULL ? "" : theirs->username,
			 theirs->password);
		cmp_unescaped(d, field, ours->user, userinfo);
		free(userinfo);
	}
	/* Both drop the [ ] of an IPv6 reference. */
	snprintf(field, sizeof(field), "%s host", what);
	cmp_str(d, field, ours->host, theirs->host);
	snprintf(field, sizeof(field), "%s port", what);
	cmp_num(d, field, ours->port, theirs->port == NULL ? 0 : osip_num(theirs->port));
}

static void cmp_nameaddr(struct diff *d, const char *what, const struct sip_nameaddr *ours,
			 osip_from_t *theirs)
{
	osip_generic_param_t *tag = NULL;
	char field[64];

	if (theirs == NULL) {
		differs(d, what, "libosip2 has no header");
		return;
	}
	cmp_uri(d, what, &ours->uri, theirs->url);
	snprintf(field, sizeof(field), "%s tag", what);
	/* osip_from_get_tag() is osip_uri_param_get_byname() on gen_params, "tag". */
	osip_uri_param_get_byname(&theirs->gen_params, "tag", &tag);
	cmp_str(d, field, ours->tag, tag == NULL ? NULL : tag->gvalue);
}

/* First Contact's URI and expires=, the number of Contact values, and Expires. */
static void cmp_contact(struct diff *d, const struct sip_msg *m, osip_message_t *msg)
{
	osip_contact_t *c = NULL;
	osip_generic_param_t *exp = NULL;
	osip_header_t *eh = NULL;

	if (osip_message_get_expires(msg, 0, &eh) >= 0 && eh != NULL)
		cmp_num(d, "Expires", m->expires, eh->hvalue == NULL ? -1 : atol(eh->hvalue));
	else
		cmp_num(d, "Expires", m->expires, -1);
	if (m->contact_star)
		return; /* libosip2 keeps "*" as a display name: nothing comparable */
	cmp_num(d, "Contact count", m->n_contacts, osip_list_size(&msg->contacts));
	if (m->n_contacts == 0 || osip_message_get_contact(msg, 0, &c) < 0 || c == NULL)
		return;
	cmp_uri(d, "Contact", &m->contact.uri, c->url);
	osip_uri_param_get_byname(&c->gen_params, "expires", &exp);
	cmp_num(d, "Contact expires", m->contact.expires,
		exp == NULL || exp->gvalue == NULL ? -1 : atol(exp->gvalue));
}

static void cmp_via(struct diff *d, const struct sip_via *ours, osip_message_t *msg)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *p = NULL;
	long rport;

	if (osip_message_get_via(msg, 0, &via) < 0 || via == NULL) {
		differs(d, "Via", "libosip2 has no Via");
		return;
	}
	cmp_str(d, "Via transport", ours->transport, via_get_protocol(via));
	/* Both drop the [ ] of an IPv6 sent-by. */
	cmp_str(d, "Via host", ours->host, via_get_host(via));
	cmp_num(d, "Via port", ours->port,
		via_get_port(via) == NULL ? 0 : osip_num(via_get_port(via)));
	osip_via_param_get_byname(via, "branch", &p);
	cmp_str(d, "Via branch", ours->branch, p == NULL ? NULL : p->gvalue);
	p = NULL;
	osip_via_param_get_byname(via, "received", &p);
	cmp_str(d, "Via received", ours->received, p == NULL ? NULL : p->gvalue);
	p = NULL;
	osip_via_param_get_byname(via, "rport", &p);
	/* Ours: -1 absent, 0 without a value; libosip2: no param, or a NULL value. */
	rport = p == NULL ? -1 : p->gvalue == NULL ? 0 : osip_num(p->gvalue);
	cmp_num(d, "Via rport", ours->rport, rport);
}

static void cmp_body(struct diff *d, const struct sip_msg *m, osip_message_t *msg)
{
	osip_body_t *body = NULL;
	size_t n = 0;

	if (m->content_length >= 0)
		cmp_num(d, "Content-Length", m->content_length,
			msg->content_length == NULL ? -1 : osip_num(msg->content_length->value));
	else
		/* Without a Content-Length (allowed over UDP, RFC 3261 §18.3) ours is
		 * -1 and the body runs to the datagram's end; libosip2 instead adds a
		 * Content-Length of the body it found ("0" when none). Compare that
		 * value with our body's length. */
		cmp_num(d, "Content-Length (absent)", m->body.len,
			msg->content_length == NULL ? 0 : osip_num(msg->content_length->value));
	if (osip_message_get_body(msg, 0, &body) >= 0 && body != NULL)
		n = body->length;
	/* libosip2 stores an absent or empty body as no body at all. It also
	 * drops a body that has no Content-Type (RFC 3261 §20.15 requires one
	 * for a non-empty body); every message here with a body has one. And it
	 * splits a multipart body (RFC 2046 §5.1) into its parts, boundaries
	 * left out; no message here is multipart. tests/fuzz/fuzz_sip_osip.c,
	 * whose messages may be either, excepts both. */
	if (m->body.len != n || (n != 0 && memcmp(d->buf + m->body.off, body->body, n) != 0))
		differs(d, "body", "ours %u bytes \"%.*s\", libosip2 %zu bytes \"%.*s\"",
			m->body.len, (int)m->body.len, (const char *)d->buf + m->body.off, n,
			(int)n, n == 0 ? "" : body->body);
	body = NULL;
	if (osip_message_get_body(msg, 1, &body) >= 0)
		differs(d, "body", "libosip2 split the body into several parts");
}

int osip_cmp_msg(const uint8_t *buf, const struct sip_msg *m, osip_message_t *msg, osip_cmp_fn fn,
		 void *user)
{
	struct diff dd = {.buf = buf, .fn = fn, .user = user}, *d = &dd;

	cmp_num(d, "is_request", m->is_request, MSG_IS_REQUEST(msg) ? 1 : 0);
	if (m->is_request && MSG_IS_REQUEST(msg)) {
		cmp_str(d, "method", m->method_name, msg->sip_method);
		cmp_uri(d, "R-URI", &m->ruri, msg->req_uri);
	} else if (!m->is_request && MSG_IS_RESPONSE(msg)) {
		cmp_num(d, "status", m->status, osip_message_get_status_code(msg));
		cmp_str(d, "reason", m->reason, msg->reason_phrase);
		/* A response has no method of its own: ours is the CSeq method, libosip2
		 * leaves sip_method NULL. Compare ours with libosip2's CSeq method. */
		cmp_str(d, "method (response)", m->method_name,
			msg->cseq == NULL ? NULL : osip_cseq_get_method(msg->cseq));
		if (msg->sip_method != NULL)
			differs(d, "method (response)", "libosip2 set sip_method \"%s\"",
				msg->sip_method);
	}

	if (msg->call_id == NULL) {
		differs(d, "Call-ID", "libosip2 has none");
	} else {
		/* libosip2 cuts the Call-ID at '@' into number and host; rejoin them. */
		const char *num_part = osip_call_id_get_number(msg->call_id);
		const char *host = osip_call_id_get_host(msg->call_id);
		size_t need = strlen(num_part == NULL ? "" : num_part) +
			      (host == NULL ? 0 : strlen(host) + 1) + 1;
		char *cid = xmalloc(need);

		snprintf(cid, need, "%s%s%s", num_part == NULL ? "" : num_part,
			 host == NULL ? "" : "@", host == NULL ? "" : host);
		cmp_str(d, "Call-ID", m->call_id, cid);
		free(cid);
	}

	if (msg->cseq == NULL) {
		differs(d, "CSeq", "libosip2 has none");
	} else {
		/* libosip2 keeps the number as text, leading zeros and all ("007");
		 * ours is a uint32_t. Compare the values. */
		cmp_num(d, "CSeq number", (long)m->cseq, osip_num(osip_cseq_get_number(msg->cseq)));
		cmp_str(d, "CSeq method", m->cseq_method_name, osip_cseq_get_method(msg->cseq));
	}

	cmp_nameaddr(d, "From", &m->from, msg->from);
	cmp_nameaddr(d, "To", &m->to, msg->to);
	cmp_via(d, &m->via, msg);
	cmp_contact(d, m, msg);
	cmp_body(d, m, msg);
	return d->bad;
}
