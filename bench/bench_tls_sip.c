/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The messages of bench_tls (bench_tls_sip.h). They look like a push-capable
 * app's: an RFC 8599 Contact (APNs token, TeamID.BundleID.voip), an RFC 5626
 * +sip.instance, transport=tls, so sipwake relays and binds them as it does
 * a real app's; Kamailio forwards the same bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench_tls_sip.h"

#define DOMAIN	 "example.com"
#define PN_PARAM "ABCD123456.com.example.voip"
#define MAX_BODY 65536 /* what sipwake's framer takes (docs/streams.md) */

static const char sdp[] = "v=0\r\no=app 1 1 IN IP4 198.18.0.2\r\ns=-\r\nc=IN IP4 198.18.0.2\r\n"
			  "t=0 0\r\nm=audio 42000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

static int fit(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int bt_register(char *buf, size_t cap, const struct bt_app *a, uint32_t cseq)
{
	/* One device per connection, fixed per device number: a refresh
	 * keeps its Call-ID and raises its CSeq (RFC 3261 §10.2.4). */
	return fit(snprintf(buf, cap,
			    "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
			    "Via: SIP/2.0/TLS %s:%u;branch=z9hG4bK-r%u-%u;rport\r\n"
			    "Max-Forwards: 70\r\n"
			    "From: <sip:d%u@" DOMAIN ">;tag=r%u\r\n"
			    "To: <sip:d%u@" DOMAIN ">\r\n"
			    "Call-ID: reg-%u@bench\r\n"
			    "CSeq: %u REGISTER\r\n"
			    "Contact: <sip:d%u@%s:%u;transport=tls;pn-provider=apns;"
			    "pn-prid=%064x;pn-param=" PN_PARAM ">;"
			    "+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-%012x>\";"
			    "expires=3600\r\n"
			    "Content-Length: 0\r\n\r\n",
			    a->ip, a->port, a->dev, cseq, a->dev, a->dev, a->dev, a->dev, cseq,
			    a->dev, a->ip, a->port, a->dev + 1, a->dev),
		   cap);
}

int bt_invite(char *buf, size_t cap, const struct bt_app *a, uint64_t call)
{
	return fit(snprintf(buf, cap,
			    "INVITE sip:+15550002222@" DOMAIN " SIP/2.0\r\n"
			    "Via: SIP/2.0/TLS %s:%u;branch=z9hG4bK-i%lu;rport\r\n"
			    "Max-Forwards: 70\r\n"
			    "From: <sip:d%u@" DOMAIN ">;tag=c%lu\r\n"
			    "To: <sip:+15550002222@" DOMAIN ">\r\n"
			    "Call-ID: call-%lu@bench\r\n"
			    "CSeq: 1 INVITE\r\n"
			    "Contact: <sip:d%u@%s:%u;transport=tls>\r\n"
			    "Content-Type: application/sdp\r\n"
			    "Content-Length: %zu\r\n\r\n%s",
			    a->ip, a->port, (unsigned long)call, a->dev, (unsigned long)call,
			    (unsigned long)call, a->dev, a->ip, a->port, sizeof(sdp) - 1, sdp),
		   cap);
}

int bt_bye(char *buf, size_t cap, const struct bt_app *a, uint64_t call, const char *to_tag)
{
	/* No Route: both edges send an app's requests to the PBX whatever
	 * their Route says (docs/design.md §1), so the BYE need not carry the
	 * Record-Route set back. */
	return fit(snprintf(buf, cap,
			    "BYE sip:+15550002222@198.18.0.5:5060 SIP/2.0\r\n"
			    "Via: SIP/2.0/TLS %s:%u;branch=z9hG4bK-b%lu;rport\r\n"
			    "Max-Forwards: 70\r\n"
			    "From: <sip:d%u@" DOMAIN ">;tag=c%lu\r\n"
			    "To: <sip:+15550002222@" DOMAIN ">;tag=%s\r\n"
			    "Call-ID: call-%lu@bench\r\n"
			    "CSeq: 2 BYE\r\n"
			    "Content-Length: 0\r\n\r\n",
			    a->ip, a->port, (unsigned long)call, a->dev, (unsigned long)call,
			    to_tag, (unsigned long)call),
		   cap);
}

/* The value of header @name (or its compact form @c) in @head, or NULL. */
static const char *header(const char *head, const char *end, const char *name, char c, size_t *vlen)
{
	size_t n = strlen(name);

	for (const char *p = memchr(head, '\n', (size_t)(end - head)); p != NULL && p + 1 < end;
	     p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
		const char *h = p + 1, *v;

		if ((size_t)(end - h) > n && strncasecmp(h, name, n) == 0 && h[n] == ':')
			v = h + n + 1;
		else if (end - h > 2 && (h[0] | 0x20) == c && (h[1] == ':' || h[1] == ' '))
			v = memchr(h, ':', (size_t)(end - h)) + 1;
		else
			continue;
		while (v < end && *v == ' ')
			v++;
		const char *e = memchr(v, '\r', (size_t)(end - v));

		*vlen = (size_t)((e != NULL ? e : end) - v);
		return v;
	}
	return NULL;
}

int bt_frame(const char *buf, size_t len, struct bt_answer *out)
{
	size_t skip = 0, vlen, hlen;
	const char *v, *eoh;
	long clen;

	/* RFC 5626 §4.4.1: CRLFs between messages are keepalives. */
	while (skip + 1 < len && buf[skip] == '\r' && buf[skip + 1] == '\n')
		skip += 2;
	buf += skip;
	len -= skip;
	eoh = memmem(buf, len, "\r\n\r\n", 4);
	if (eoh == NULL)
		return len > MAX_BODY ? -EPROTO : 0;
	hlen = (size_t)(eoh - buf) + 4;
	v = header(buf, eoh, "Content-Length", 'l', &vlen);
	if (v == NULL)
		return -EPROTO;
	clen = strtol(v, NULL, 10);
	if (clen < 0 || clen > MAX_BODY)
		return -EPROTO;
	if (hlen + (size_t)clen > len)
		return 0;
	memset(out, 0, sizeof(*out));
	if (strncmp(buf, "SIP/2.0 ", 8) == 0)
		out->status = atoi(buf + 8);
	v = header(buf, eoh, "CSeq", 0, &vlen);
	if (v != NULL) {
		const char *m = memchr(v, ' ', vlen);

		if (m != NULL)
			snprintf(out->method, sizeof(out->method), "%.*s", (int)(v + vlen - m - 1),
				 m + 1);
	}
	v = header(buf, eoh, "Call-ID", 'i', &vlen);
	if (v != NULL && vlen > 5 && strncmp(v, "call-", 5) == 0)
		out->call = strtoull(v + 5, NULL, 10);
	v = header(buf, eoh, "To", 't', &vlen);
	if (v != NULL) {
		const char *t = memmem(v, vlen, ";tag=", 5);

		if (t != NULL) {
			size_t tl = strcspn(t + 5, ";\r>");

			snprintf(out->to_tag, sizeof(out->to_tag), "%.*s", (int)tl, t + 5);
		}
	}
	return (int)(skip + hlen + (size_t)clen);
}
