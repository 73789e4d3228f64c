/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The valid messages of the kinds sipwake sees that the scanner and
 * libosip2 must both accept and agree on (test_sip_osip_diff.c makes one
 * cmocka test of each, named after it).
 */
#include "osip_diff.h"

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

const struct diff_case cases[] = {
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

const size_t n_cases = N(cases);
