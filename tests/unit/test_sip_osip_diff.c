/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test of the zero-copy SIP scanner (sip/sip_scan.h)
 * against libosip2's parser, on valid messages of the kinds sipwake sees.
 * Both parsers must accept every message and agree on each field they both
 * expose: request or response, method or status code, reason phrase,
 * Call-ID, CSeq, From and To (URI user/host/port and tag), the top Via
 * (transport, host, port, branch, received, rport), the Request-URI and
 * Content-Length / body. A field libosip2 exposes differently is compared
 * in the form both have, with a comment where the difference is.
 *
 * Our scanner reads an exactly sized heap copy with no NUL after it, so
 * AddressSanitizer catches any read past the message. libosip2 gets its own
 * copy, NUL-terminated: osip_message_parse() takes a length and copies the
 * buffer before parsing (an exactly sized buffer showed no over-read under
 * ASan with 5.3), but libosip2 itself is not instrumented, so it is given
 * the terminator its C-string parsing would look for.
 *
 * One cmocka test per message, named after it; each reports every field
 * that differs before failing. A last test is a negative control: libosip2
 * gets the message with one field changed, and the change must be reported.
 */
#include "sip_test_util.h"

#include <strings.h>

/* osip2/osip.h uses time_t and struct timeval without including their headers. */
#include <sys/time.h>
#include <time.h>

#include <osip2/osip.h>
#include <osipparser2/osip_parser.h>

struct diff_case {
	const char *name;
	const char *text;
};

/* REGISTER with an RFC 8599 push Contact (what sipwake wakes devices for). */
#define REGISTER_PN                                                                          \
	"REGISTER sip:sip.example.com SIP/2.0\r\n"                                           \
	"Via: SIP/2.0/UDP 198.51.100.23:5060;rport;branch=z9hG4bKreg-77a1\r\n"               \
	"Max-Forwards: 70\r\n"                                                               \
	"From: \"Alice\" <sip:alice@sip.example.com>;tag=reg-tag-1\r\n"                      \
	"To: <sip:alice@sip.example.com>\r\n"                                                \
	"Call-ID: 5b7fd2b1-reg@198.51.100.23\r\n"                                            \
	"CSeq: 2 REGISTER\r\n"                                                               \
	"Contact: <sip:alice@198.51.100.23:5060;transport=udp;pn-provider=apns;"             \
	"pn-param=ABCD1234.com.example.voip;pn-prid="                                        \
	"00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0>;"                 \
	"expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"\r\n" \
	"Supported: path, outbound\r\n"                                                      \
	"Expires: 3600\r\n"                                                                  \
	"User-Agent: softphone/1.0\r\n"                                                      \
	"Content-Length: 0\r\n"                                                              \
	"\r\n"

#define OK_200_SDP                                                                             \
	"SIP/2.0 200 OK\r\n"                                                                   \
	"Via: SIP/2.0/UDP pbx.example.net:5060;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n" \
	"To: Alice <sip:alice@example.com>;tag=a6c85cf\r\n"                                    \
	"From: \"Bob B.\" <sip:bob@example.net>;tag=1928301774\r\n"                            \
	"Call-ID: a84b4c76e66710@pc33.example.net\r\n"                                         \
	"CSeq: 314159 INVITE\r\n"                                                              \
	"Contact: <sip:alice@192.0.2.20>\r\n"                                                  \
	"Content-Type: application/sdp\r\n"                                                    \
	"Content-Length: 131\r\n"                                                              \
	"\r\n" SDP_BODY

static const struct diff_case cases[] = {
	{"options_sipp", SIPP_OPTIONS},
	{"invite_sdp", INVITE},
	{"register_pn_contact", REGISTER_PN},
	{"response_200_invite", OK_200},
	{"response_200_invite_sdp", OK_200_SDP},
	{"response_180_ringing",
	 "SIP/2.0 180 Ringing\r\n"
	 "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
	 "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
	 "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
	 "Call-ID: a84b4c76e66710\r\n"
	 "Contact: <sip:bob@192.0.2.4>\r\n"
	 "CSeq: 314159 INVITE\r\n"
	 "Content-Length: 0\r\n"
	 "\r\n"},
	{"response_401_unauthorized",
	 "SIP/2.0 401 Unauthorized\r\n"
	 "Via: SIP/2.0/UDP 198.51.100.23:5060;rport=5060;branch=z9hG4bKreg-77a1;"
	 "received=203.0.113.50\r\n"
	 "From: \"Alice\" <sip:alice@sip.example.com>;tag=reg-tag-1\r\n"
	 "To: <sip:alice@sip.example.com>;tag=as1f2e3d4c\r\n"
	 "Call-ID: 5b7fd2b1-reg@198.51.100.23\r\n"
	 "CSeq: 1 REGISTER\r\n"
	 "WWW-Authenticate: Digest realm=\"sip.example.com\", "
	 "nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", algorithm=MD5, qop=\"auth\"\r\n"
	 "Server: sipwake\r\n"
	 "Content-Length: 0\r\n"
	 "\r\n"},
	{"response_486_busy",
	 "SIP/2.0 486 Busy Here\r\n"
	 "Via: SIP/2.0/TCP client.atlanta.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101\r\n"
	 "From: Alice <sip:alice@atlanta.com>;tag=9fxced76sl\r\n"
	 "To: Bob <sip:bob@biloxi.com>;tag=314159\r\n"
	 "Call-ID: 3848276298220188511@atlanta.com\r\n"
	 "CSeq: 2 INVITE\r\n"
	 "Content-Length: 0\r\n"
	 "\r\n"},
	{"compact_forms", "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
			  "v: SIP/2.0/TCP client.atlanta.com:5060;branch=z9hG4bK74b\r\n"
			  "f: <sip:alice@atlanta.com>;tag=9fxced76sl\r\n"
			  "t: <sip:bob@biloxi.com>\r\n"
			  "i: 3848276298220188511@atlanta.com\r\n"
			  "CSeq: 2 INVITE\r\n"
			  "m: <sip:alice@client.atlanta.com;transport=tcp>\r\n"
			  "c: application/sdp\r\n"
			  "k: path\r\n"
			  "l: 4\r\n"
			  "\r\n"
			  "v=0\n"},
	{"folded_headers", "OPTIONS sip:x@h.example SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP h.example\r\n"
			   "   ;branch=z9hG4bK1\r\n"
			   "From: <sip:a@h.example>\r\n"
			   "\t;tag=1\r\n"
			   "To:\r\n <sip:b@h.example>\r\n"
			   "Call-ID: c1\r\n"
			   "CSeq: 1\r\n OPTIONS\r\n"
			   "Subject: I know you're there,\r\n"
			   "  pick up the phone\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n"},
	{"multiple_vias",
	 "BYE sip:alice@pc33.atlanta.com SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP proxy2.example.net:5070;branch=z9hG4bK-top-1, "
	 "SIP/2.0/UDP proxy1.example.net;branch=z9hG4bK-mid-2\r\n"
	 "v: SIP/2.0/TCP second.example;branch=z9hG4bK2\r\n"
	 "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds10;received=192.0.2.4\r\n"
	 "Max-Forwards: 68\r\n"
	 "From: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
	 "To: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
	 "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
	 "CSeq: 231 BYE\r\n"
	 "Route: <sip:proxy1.example.net;lr>\r\n"
	 "Content-Length: 0\r\n"
	 "\r\n"},
	{"ipv6_via_and_ruri", "INVITE sip:bob@[2001:db8::7]:5080;transport=udp SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK-v6-1\r\n"
			      "Max-Forwards: 70\r\n"
			      "From: <sip:alice@[2001:db8::1]:5062>;tag=v6from\r\n"
			      "To: <sip:bob@[2001:db8::7]:5080>\r\n"
			      "Call-ID: v6call@2001-db8--1\r\n"
			      "CSeq: 10 INVITE\r\n"
			      "Contact: <sip:alice@[2001:db8::1]:5062>\r\n"
			      "Content-Length: 0\r\n"
			      "\r\n"},
	{"via_rport_received",
	 "SIP/2.0 404 Not Found\r\n"
	 "Via: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1;rport=5061;received=198.51.100.7\r\n"
	 "From: <sip:ping@10.0.0.1>;tag=x\r\n"
	 "To: <sip:sipwake@10.0.0.2>;tag=y\r\n"
	 "Call-ID: abc\r\n"
	 "CSeq: 7 OPTIONS\r\n"
	 "Content-Length: 0\r\n"
	 "\r\n"},
	{"via_rport_request", "SUBSCRIBE sip:presence@example.com:5060 SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.77:40123;branch=z9hG4bKsub;rport\r\n"
			      "Max-Forwards: 70\r\n"
			      "From: <sip:watcher@example.com>;tag=w1\r\n"
			      "To: <sip:presence@example.com>\r\n"
			      "Call-ID: sub-1@192.0.2.77\r\n"
			      "CSeq: 101 SUBSCRIBE\r\n"
			      "Event: presence\r\n"
			      "Expires: 600\r\n"
			      "Content-Length: 0\r\n"
			      "\r\n"},
	{"message_text_body", "MESSAGE sip:user2@domain.com SIP/2.0\r\n"
			      "Via: SIP/2.0/TCP user1pc.domain.com;branch=z9hG4bK776sgdkse\r\n"
			      "Max-Forwards: 70\r\n"
			      "From: sip:user1@domain.com;tag=49583\r\n"
			      "To: sip:user2@domain.com\r\n"
			      "Call-ID: asd88asd77a@1.2.3.4\r\n"
			      "CSeq: 1 MESSAGE\r\n"
			      "Content-Type: text/plain\r\n"
			      "Content-Length: 18\r\n"
			      "\r\n"
			      "Watson, come here."},
	{"ack_no_content_length", "ACK sip:bob@192.0.2.4 SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds9\r\n"
				  "Max-Forwards: 70\r\n"
				  "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
				  "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
				  "Call-ID: a84b4c76e66710\r\n"
				  "CSeq: 314159 ACK\r\n"
				  "\r\n"},
	{"invite_no_content_length", INVITE_HEAD "\r\n" SDP_BODY},
	{"mixed_case_names", "REGISTER sip:registrar.example.com SIP/2.0\r\n"
			     "VIA: SIP/2.0/udp 192.0.2.5:5060;BRANCH=z9hG4bKnashds7\r\n"
			     "fRoM: <sip:bob@example.com>;TAG=456248\r\n"
			     "TO: <sip:bob@example.com>\r\n"
			     "call-ID: 843817637684230@998sdasdh09\r\n"
			     "cseq: 1826 REGISTER\r\n"
			     "MAX-FORWARDS: 70\r\n"
			     "CONTENT-length: 0\r\n"
			     "\r\n"},
	{"whitespace_around_colon",
	 "OPTIONS sip:x@h.example SIP/2.0\r\n"
	 "Via \t :  SIP / 2.0 / UDP  h.example : 5060 ; branch = z9hG4bK1 ; rport\r\n"
	 "From:<sip:a@h.example>;tag=1\r\n"
	 "To\t:\t<sip:b@h.example> \t\r\n"
	 "Call-ID   :   c1   \r\n"
	 "CSeq: 1   OPTIONS\r\n"
	 "\r\n"},
	{"leading_crlf", "\r\n\r\n" SIPP_OPTIONS},
	{"surplus_after_body", INVITE "SURPLUS"},
	{"ruri_params_headers",
	 "INVITE sips:+12125551212;npdi@gw.example:5061;user=phone;transport=tls "
	 "SIP/2.0\r\n"
	 "Via: SIP/2.0/TLS 192.0.2.9:5061;branch=z9hG4bK-tls-1\r\n"
	 "From: \"A \\\"q\\\" <x>;\" <sips:a@h.example;transport=tls>;tag=88;x=\"y\"\r\n"
	 "To: tel:+12125551212\r\n"
	 "Call-ID: tls-1\r\n"
	 "CSeq: 5 INVITE\r\n"
	 "Content-Length: 0\r\n"
	 "\r\n"},
	/* Fields libosip2 normalises: an escaped user, a CSeq number with leading
	 * zeros; plus a quoted comma in a display name, an IPv6 received= and
	 * extra Via and name-addr parameters. */
	{"escaped_user_zero_cseq",
	 "OPTIONS sip:%61lice@atlanta.com SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP "
	 "[2001:db8::1]:5062;branch=z9hG4bK-p1;received=[2001:db8::9];maddr=239.1.1.1;ttl=5\r\n"
	 "From: \"Bob, Jr.\" <sip:bob@biloxi.com>;tag=x;foo=bar\r\n"
	 "To: Carol <sip:carol@chicago.com;transport=udp>;tag=y\r\n"
	 "Call-ID: 0ha0isndaksdj@10.0.0.1\r\n"
	 "CSeq: 007 OPTIONS\r\n"
	 "Content-Length: 0\r\n"
	 "\r\n"},
	{"response_404_utf8_reason", "SIP/2.0 404 Not \xc3\x9c Found\r\n"
				     "Via: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1;rport\r\n"
				     "From: <sip:ping@10.0.0.1>;tag=x\r\n"
				     "To: <sip:sipwake@10.0.0.2>;tag=y\r\n"
				     "Call-ID: abc\r\n"
				     "CSeq: 7 OPTIONS\r\n"
				     "\r\n"},
	{"sips_ruri_without_user", "OPTIONS sips:h.example;maddr=239.255.255.1;ttl=15 SIP/2.0\r\n"
				   "Via: SIP/2.0/TLS h.example:5061;branch=z9hG4bK-p2\r\n"
				   "From: <sips:a@h.example>;tag=1\r\n"
				   "To: <sips:b@h.example>\r\n"
				   "Call-ID: c\r\n"
				   "CSeq: 1 OPTIONS\r\n"
				   "\r\n"},
	/* Upper-case scheme and a password in the R-URI, a Via field folded
	 * between two values, addr-spec From/To, Content-Length with zeros. */
	{"ruri_password_folded_via",
	 "INVITE SIP:alice:pw@Example.COM:5070;Transport=UDP SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK-a,\r\n"
	 " SIP/2.0/TCP b.example;branch=z9hG4bK-b\r\n"
	 "From: sip:a@h.example;transport=udp;tag=1\r\n"
	 "To: sip:b@h.example:5080\r\n"
	 "Call-ID: X\r\n"
	 "CSeq: 1 INVITE\r\n"
	 "Content-Type: text/plain\r\n"
	 "Content-Length: 0004\r\n"
	 "\r\n"
	 "ab\r\n"},
	/* WSS transport, empty quoted display name, body without Content-Length. */
	{"notify_wss_no_content_length",
	 "NOTIFY sip:sub@192.0.2.9:5060;ob SIP/2.0\r\n"
	 "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf;rport\r\n"
	 "From: <sip:presence@example.com>;tag=n1\r\n"
	 "To: \"\" <sip:sub@example.com>;tag=w1\r\n"
	 "Call-ID: sub-1@192.0.2.77\r\n"
	 "CSeq: 1 NOTIFY\r\n"
	 "Event: presence\r\n"
	 "Subscription-State: active;expires=600\r\n"
	 "Content-Type: application/pidf+xml\r\n"
	 "\r\n"
	 "<x/>"},
	/* A Call-ID word with DQUOTEs (RFC 3261 §25.1 allows them). */
	{"response_100_quoted_call_id",
	 "SIP/2.0 100 Trying\r\n"
	 "Via: SIP/2.0/UDP h.example:5060;branch=z9hG4bK1;received=10.1.1.1;rport=1234\r\n"
	 "From: Anonymous <sip:anonymous@anonymous.invalid>;tag=1\r\n"
	 "To: <sip:b@h.example>\r\n"
	 "Call-ID: abc-\"quoted\"\r\n"
	 "CSeq: 1 INVITE\r\n"
	 "\r\n"},
	/* Extension method; a quoted Via param with , and ; in it; tag= inside
	 * the <URI> is a URI parameter, not the header's tag. */
	{"extension_method_uri_tag_params",
	 "FOO sip:x@h.example SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP h.example;branch=z9hG4bK1;x=\"a,b;c\";rport\r\n"
	 "From: \"x\" <sip:a@h.example;tag=inner>;tag=outer\r\n"
	 "To: <sip:b@h.example;tag=inner2>\r\n"
	 "Call-ID: abc@[::1]\r\n"
	 "CSeq: 4294 FOO\r\n"
	 "\r\n"},
	/* URI headers (To: a Request-URI may not carry them, §19.1.1), a tel:
	 * From, the largest CSeq (2^31 - 1). */
	{"uri_headers_tel_from", "INVITE sip:bob@biloxi.com;user=phone SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.1\r\n"
				 "From: <tel:+1-201-555-0123>;tag=t1\r\n"
				 "To: <sip:bob@biloxi.com?Subject=Hi&Priority=urgent>\r\n"
				 "Call-ID: q\r\n"
				 "CSeq: 2147483647 INVITE\r\n"
				 "Content-Length: 0\r\n"
				 "\r\n"},
	/* IPv6 everywhere, IPv4-mapped Via sent-by, no Content-Length. */
	{"ipv6_register_v4mapped_via", "REGISTER sip:[2001:db8::10] SIP/2.0\r\n"
				       "Via: SIP/2.0/UDP [::ffff:192.0.2.1];branch=z9hG4bK9\r\n"
				       "From: <sip:u@[2001:db8::10]>;tag=a\r\n"
				       "To: <sip:u@[2001:db8::10]>\r\n"
				       "Call-ID: r@[2001:db8::10]\r\n"
				       "CSeq: 3 REGISTER\r\n"
				       "\r\n"},
};

_Static_assert(N(cases) >= 12, "at least 12 messages");

struct diff {
	const char *name;
	const uint8_t *buf; /* our exact copy, for slices */
	int bad;	    /* fields that differed */
	int quiet;	    /* the negative control expects differences: do not print them */
};

static void differs(struct diff *d, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void differs(struct diff *d, const char *field, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!d->quiet)
		print_error("%s: %s differs: %s\n", d->name, field, what);
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
	char *dec = malloc((size_t)ours.len + 1);
	size_t n = 0;

	assert_non_null(dec);
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
		char *whole = malloc(need);

		assert_non_null(whole);
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
		char *userinfo = malloc(need);

		assert_non_null(userinfo);
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
	 * for a non-empty body); every message here with a body has one. */
	if (m->body.len != n || (n != 0 && memcmp(d->buf + m->body.off, body->body, n) != 0))
		differs(d, "body", "ours %u bytes \"%.*s\", libosip2 %zu bytes \"%.*s\"",
			m->body.len, (int)m->body.len, (const char *)d->buf + m->body.off, n,
			(int)n, n == 0 ? "" : body->body);
	body = NULL;
	if (osip_message_get_body(msg, 1, &body) >= 0)
		differs(d, "body", "libosip2 split the body into several parts");
}

/*
 * Scan @p ours_text with our scanner and @p theirs_text with libosip2 (the same
 * text, except in the negative control) and compare. Returns the number of
 * fields that differ, or -1 when either parser rejects its message.
 */
static int diff_texts(const char *name, const char *ours_text, const char *theirs_text, int quiet)
{
	size_t len = strlen(ours_text), tlen = strlen(theirs_text);
	uint8_t *ours = sip_test_memdup(ours_text, len);
	char *theirs = malloc(tlen + 1);
	struct sip_msg *m = calloc(1, sizeof(*m));
	struct diff d = {.name = name, .buf = ours, .quiet = quiet};
	osip_message_t *msg = NULL;
	enum sip_verdict v;
	int rc;

	assert_non_null(theirs);
	assert_non_null(m);
	memcpy(theirs, theirs_text, tlen + 1);

	v = sip_scan(ours, (uint32_t)len, m);
	assert_int_equal(osip_message_init(&msg), 0);
	rc = osip_message_parse(msg, theirs, tlen);
	if (v != SIP_SCAN_OK || rc != 0) {
		print_error("%s: ours %s, libosip2 returned %d\n", name, sip_verdict_name(v), rc);
		d.bad = -1;
		goto out;
	}

	cmp_num(&d, "is_request", m->is_request, MSG_IS_REQUEST(msg) ? 1 : 0);
	if (m->is_request && MSG_IS_REQUEST(msg)) {
		cmp_str(&d, "method", m->method_name, msg->sip_method);
		cmp_uri(&d, "R-URI", &m->ruri, msg->req_uri);
	} else if (!m->is_request && MSG_IS_RESPONSE(msg)) {
		cmp_num(&d, "status", m->status, osip_message_get_status_code(msg));
		cmp_str(&d, "reason", m->reason, msg->reason_phrase);
		/* A response has no method of its own: ours is the CSeq method, libosip2
		 * leaves sip_method NULL. Compare ours with libosip2's CSeq method. */
		cmp_str(&d, "method (response)", m->method_name,
			msg->cseq == NULL ? NULL : osip_cseq_get_method(msg->cseq));
		if (msg->sip_method != NULL)
			differs(&d, "method (response)", "libosip2 set sip_method \"%s\"",
				msg->sip_method);
	}

	if (msg->call_id == NULL) {
		differs(&d, "Call-ID", "libosip2 has none");
	} else {
		/* libosip2 cuts the Call-ID at '@' into number and host; rejoin them. */
		const char *num_part = osip_call_id_get_number(msg->call_id);
		const char *host = osip_call_id_get_host(msg->call_id);
		size_t need = strlen(num_part == NULL ? "" : num_part) +
			      (host == NULL ? 0 : strlen(host) + 1) + 1;
		char *cid = malloc(need);

		assert_non_null(cid);
		snprintf(cid, need, "%s%s%s", num_part == NULL ? "" : num_part,
			 host == NULL ? "" : "@", host == NULL ? "" : host);
		cmp_str(&d, "Call-ID", m->call_id, cid);
		free(cid);
	}

	if (msg->cseq == NULL) {
		differs(&d, "CSeq", "libosip2 has none");
	} else {
		/* libosip2 keeps the number as text, leading zeros and all ("007");
		 * ours is a uint32_t. Compare the values. */
		cmp_num(&d, "CSeq number", (long)m->cseq,
			osip_num(osip_cseq_get_number(msg->cseq)));
		cmp_str(&d, "CSeq method", m->cseq_method_name, osip_cseq_get_method(msg->cseq));
	}

	cmp_nameaddr(&d, "From", &m->from, msg->from);
	cmp_nameaddr(&d, "To", &m->to, msg->to);
	cmp_via(&d, &m->via, msg);
	cmp_contact(&d, m, msg);
	cmp_body(&d, m, msg);

out:
	osip_message_free(msg);
	free(theirs);
	free(ours);
	free(m);
	return d.bad;
}

static void diff_one(void **state)
{
	const struct diff_case *c = *state;
	int bad = diff_texts(c->name, c->text, c->text, 0);

	if (bad != 0) {
		if (bad > 0)
			print_error("%s: %d difference(s)\n", c->name, bad);
		fail();
	}
}

/*
 * Negative control: the comparison is not vacuous. libosip2 parses the base
 * message with one field changed; each change must be reported.
 */
static void test_diff_detects_changes(void **state)
{
	static const char base[] = OK_200_SDP;
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"200 OK", "200 Fine"},
		{"200 OK", "202 OK"},
		{"CSeq: 314159 INVITE", "CSeq: 314158 INVITE"},
		{"CSeq: 314159 INVITE", "CSeq: 314159 BYE"},
		{"a84b4c76e66710@pc33", "a84b4c76e66711@pc33"},
		{"a84b4c76e66710@pc33.example.net", "a84b4c76e66710"},
		{"tag=a6c85cf", "tag=a6c85cg"},
		{"tag=1928301774", "tag=1928301775"},
		{"<sip:alice@example.com>", "<sip:alicf@example.com>"},
		{"<sip:bob@example.net>", "<sip:bob@example.net:5070>"},
		{"UDP pbx.example.net:5060", "TCP pbx.example.net:5060"},
		{"UDP pbx.example.net:5060", "UDP pbx.example.org:5060"},
		{"UDP pbx.example.net:5060", "UDP pbx.example.net:5061"},
		{"z9hG4bK776asdhds", "z9hG4bK776asdhdt"},
		{"received=192.0.2.1", "received=192.0.2.2"},
		{"received=192.0.2.1", "received=192.0.2.1;rport=5060"},
		{"a=rtpmap:0 PCMU", "a=rtpmap:0 PCMA"},
		{"Contact: <sip:alice@192.0.2.20>", "Contact: <sip:alice@192.0.2.21>"},
		{"Contact: <sip:alice@192.0.2.20>", "Contact: <sip:alice@192.0.2.20>;expires=60"},
		{"Contact: <sip:alice@192.0.2.20>", "Contact: <sip:alice@192.0.2.20>, <sip:a@h>"},
		{"Content-Length: 131\r\n\r\n" SDP_BODY, "Content-Length: 3\r\n\r\n" SDP_BODY},
	};
	char *theirs = malloc(sizeof(base) + 64);

	(void)state;
	assert_non_null(theirs);
	assert_int_equal(diff_texts("control (unchanged)", base, base, 0), 0);
	for (size_t i = 0; i < N(edits); i++) {
		const char *at = strstr(base, edits[i].from);
		size_t head, flen = strlen(edits[i].from), tlen = strlen(edits[i].to);

		assert_non_null(at);
		assert_true(sizeof(base) - flen + tlen <= sizeof(base) + 64);
		head = (size_t)(at - base);
		memcpy(theirs, base, head);
		memcpy(theirs + head, edits[i].to, tlen);
		memcpy(theirs + head + tlen, at + flen, sizeof(base) - head - flen);
		if (diff_texts("control", base, theirs, 1) <= 0) {
			print_error("control: \"%s\" -> \"%s\" not reported\n", edits[i].from,
				    edits[i].to);
			fail();
		}
	}
	free(theirs);
}

int main(void)
{
	struct CMUnitTest tests[N(cases) + 1];

	for (size_t i = 0; i < N(cases); i++)
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = diff_one,
			.initial_state = (void *)&cases[i],
		};
	tests[N(cases)] = (struct CMUnitTest){
		.name = "diff_detects_changes",
		.test_func = test_diff_detects_changes,
	};
	if (parser_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
