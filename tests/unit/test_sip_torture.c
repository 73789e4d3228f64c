/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 4475 torture messages through the SIP scanner (dataplane/sip/sip_scan.h).
 *
 * Every message of RFC 4475 §3 (49, in the RFC's order) is rebuilt from the
 * RFC's text byte for byte: CRLF line ends, <allOneLine> lines joined,
 * <repeat> runs expanded, <hex> runs written as \x escapes (intmeth's quoted
 * BEL/NUL/DEL and UTF-8, unreason's UTF-8 reason, mpart01's 342-byte PKCS#7
 * part with its NUL and bare CR/LF octets). Each Content-Length matches its
 * body, which checks the transcription: mpart01 553, multi01 154 (its body
 * ends with an empty line), invut 40. Each message is scanned from a heap
 * buffer of exactly its length, so AddressSanitizer sees any over-read.
 *
 * The table gives, per message, the verdict the scanner must return and, for
 * accepted ones, the fields the dataplane routes on (method, Request-URI
 * host, Call-ID, CSeq, top Via branch, From and To tags, message length).
 *
 * The scanner frames and classifies; it does not validate every header
 * grammar. Where RFC 4475 calls a message invalid only for a field the
 * scanner never reads, the message is accepted here on purpose and the
 * control plane's full parser (libosip2) judges it when it matters.
 *
 * Invalid per RFC 4475, accepted by the scanner because ...
 *   baddate  (§3.1.2.12) the only error is "EST" in Date; the scanner does
 *            not read Date, and the RFC itself says an element should not
 *            reject for it unless Date matters to its processing.
 *
 * Valid at the syntax level, refused by RFC 4475 only at the transaction or
 * application layer, so accepted by the scanner (the classifier and the
 * control plane decide): badbranch (§3.2.1, branch is the bare magic
 * cookie), unkscm, novelsc, unksm2 (unknown URI schemes), bext01 (Require),
 * invut (unknown Content-Type), regaut01 (unknown auth scheme), bcast
 * (broadcast address in a second Via), zeromf (Max-Forwards 0), cparam01,
 * cparam02, regescrt (Contact forms) and sdp01 (Accept), inv2543 (RFC 2543
 * syntax: no branch, no tags, no Content-Length, no Max-Forwards).
 * regbadct (§3.1.2.13, a Contact addr-spec holding an escaped header, which
 * needs <>) is rejected as sip_bad_contact: the scanner parses Contact.
 * The §3.3 messages that break framing or identity are rejected: insuf
 * (missing To/From/Call-ID), multi01 and mcl01 (repeated single fields).
 *
 * Known deviations (the scanner differs from this table today; each is
 * asserted as it is, and the test fails once the scanner is fixed, so the
 * entry gets updated rather than forgotten):
 *   intmeth  (§3.1.1.2, valid) is rejected with sip_bad_char: its To
 *            display name holds quoted-pairs of 0x07, 0x00 and 0x7F, which
 *            RFC 3261 §25.1 allows (quoted-pair = "\" (%x00-09 / %x0B-0C /
 *            %x0E-7F)), but the header scan refuses every control byte.
 *            test_intmeth_fields checks the rest of the message.
 *            This one stays on purpose: an edge that forwards to a PBX must
 *            not pass NUL or other control bytes into a C stack that may
 *            cut strings there; a message carrying them is dropped whole.
 */
#include <stdbool.h>

#include "sip_test_util.h"

#define LONG4(s)  s s s s
#define LONG5(s)  LONG4(s) s
#define LONG10(s) LONG5(s) LONG5(s)
#define LONG20(s) LONG10(s) LONG10(s)

/* ---- §3.1.1 Valid messages ---------------------------------------------- */

static const char m_wsinv[] =
	"INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
	"TO :\r\n"
	" sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
	"from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n"
	"  ;\r\n"
	"  tag = 98asjd8\r\n"
	"MaX-fOrWaRdS: 0068\r\n"
	"Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
	"Content-Length   : 150\r\n"
	"cseq: 0009\r\n"
	"  INVITE\r\n"
	"Via  : SIP  /   2.0\r\n"
	" /UDP\r\n"
	"    192.0.2.2;branch=390skdjuw\r\n"
	"s :\r\n"
	"NewFangledHeader:   newfangled value\r\n"
	" continued newfangled value\r\n"
	"UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
	"Content-Type: application/sdp\r\n"
	"Route:\r\n"
	" <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\n"
	"v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n"
	"  branch  =   z9hG4bK9ikj8  ,\r\n"
	" SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n"
	" z9hG4bK30239\r\n"
	"m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n"
	"      newvalue ;\r\n"
	"  secondparam ; q = 0.33\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.3\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.4\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n";

static const char m_intmeth[] =
	"!interesting-Method0123456789_*+`.%indeed'~ "
	"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/"
	";;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
	"To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" "
	"<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\r\n"
	"From: token1~` token2'+_ token3*%!.- "
	"<sip:mundane@example.com>;fromParam''~+*_!.-%="
	"\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\";tag=_"
	"token~1'+`*%!-.\r\n"
	"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
	"CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n"
	"Max-Forwards: 255\r\n"
	"extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char m_esc01[] =
	"INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\r\n"
	"To: sip:%75se%72@example.com\r\n"
	"From: <sip:I%20have%20spaces@example.net>;tag=938\r\n"
	"Max-Forwards: 87\r\n"
	"i: esc01.239409asdfakjkn23onasd0-3234\r\n"
	"CSeq: 234234 INVITE\r\n"
	"Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\r\n"
	"C: application/sdp\r\n"
	"Contact:\r\n"
	"  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>\r\n"
	"Content-Length: 150\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n";

static const char m_escnull[] = "REGISTER sip:example.com SIP/2.0\r\n"
				"To: sip:null-%00-null@example.com\r\n"
				"From: sip:null-%00-null@example.com;tag=839923423\r\n"
				"Max-Forwards: 70\r\n"
				"Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd\r\n"
				"CSeq: 14398234 REGISTER\r\n"
				"Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\r\n"
				"Contact: <sip:%00@host5.example.com>\r\n"
				"Contact: <sip:%00%00@host5.example.com>\r\n"
				"L:0\r\n"
				"\r\n";

static const char m_esc02[] = "RE%47IST%45R sip:registrar.example.com SIP/2.0\r\n"
			      "To: \"%Z%45\" <sip:resource@example.com>\r\n"
			      "From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23\r\n"
			      "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\r\n"
			      "Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234\r\n"
			      "CSeq: 29344 RE%47IST%45R\r\n"
			      "Max-Forwards: 70\r\n"
			      "Contact: <sip:alias1@host1.example.com>\r\n"
			      "C%6Fntact: <sip:alias2@host2.example.com>\r\n"
			      "Contact: <sip:alias3@host3.example.com>\r\n"
			      "l: 0\r\n"
			      "\r\n";

static const char m_lwsdisp[] = "OPTIONS sip:user@example.com SIP/2.0\r\n"
				"To: sip:user@example.com\r\n"
				"From: caller<sip:caller@example.com>;tag=323\r\n"
				"Max-Forwards: 70\r\n"
				"Call-ID: lwsdisp.1234abcd@funky.example.com\r\n"
				"CSeq: 60 OPTIONS\r\n"
				"Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\r\n"
				"l: 0\r\n"
				"\r\n";

static const char m_longreq[] =
	"INVITE sip:user@example.com SIP/2.0\r\n"
	"To: \"I have a user name of "
	"extremeextremeextremeextremeextremeextremeextremeextremeextremeextreme "
	"proportion\"<sip:user@example.com:6000;unknownparam1="
	"verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglongvalue;"
	"longparamnamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamen"
	"amenamenamenamename=shortvalue;"
	"verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglo"
	"nglonglonglongParameterNameWithNoValue>\r\n"
	"F: "
	"sip:"
	"amazinglylongcallernameamazinglylongcallernameamazinglylongcallernameamazinglylongcallerna"
	"meamazinglylongcallername@example.net;tag="
	"129829829829829829829829829829829829829829829829829829829829829829829829829829829829829829"
	"82982982982982982982982982982982982982982982982982982982982982424;"
	"unknownheaderparamnamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamename"
	"namename="
	"unknowheaderparamvaluevaluevaluevaluevaluevaluevaluevaluevaluevaluevaluevaluevaluevalueval"
	"ue;"
	"unknownValuelessparamnameparamnameparamnameparamnameparamnameparamnameparamnameparamnamepa"
	"ramnameparamname\r\n"
	"Call-ID: "
	"longreq."
	"onereallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyrea"
	"llyreallyreallyreallyreallyreallylongcallid\r\n"
	"CSeq: 3882340 INVITE\r\n"
	"Unknown-LongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLongLong-"
	"Name: "
	"unknown-longlonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong-"
	"value; "
	"unknown-longlonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong-"
	"parameter-name = "
	"unknown-longlonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong-"
	"parameter-value\r\n"
	"Via: SIP/2.0/TCP sip33.example.com\r\n"
	"v: SIP/2.0/TCP sip32.example.com\r\n"
	"V: SIP/2.0/TCP sip31.example.com\r\n"
	"Via: SIP/2.0/TCP sip30.example.com\r\n"
	"ViA: SIP/2.0/TCP sip29.example.com\r\n"
	"VIa: SIP/2.0/TCP sip28.example.com\r\n"
	"VIA: SIP/2.0/TCP sip27.example.com\r\n"
	"via: SIP/2.0/TCP sip26.example.com\r\n"
	"viA: SIP/2.0/TCP sip25.example.com\r\n"
	"vIa: SIP/2.0/TCP sip24.example.com\r\n"
	"vIA: SIP/2.0/TCP sip23.example.com\r\n"
	"V :  SIP/2.0/TCP sip22.example.com\r\n"
	"v :  SIP/2.0/TCP sip21.example.com\r\n"
	"V  : SIP/2.0/TCP sip20.example.com\r\n"
	"v  : SIP/2.0/TCP sip19.example.com\r\n"
	"Via : SIP/2.0/TCP sip18.example.com\r\n"
	"Via  : SIP/2.0/TCP sip17.example.com\r\n"
	"Via: SIP/2.0/TCP sip16.example.com\r\n"
	"Via: SIP/2.0/TCP sip15.example.com\r\n"
	"Via: SIP/2.0/TCP sip14.example.com\r\n"
	"Via: SIP/2.0/TCP sip13.example.com\r\n"
	"Via: SIP/2.0/TCP sip12.example.com\r\n"
	"Via: SIP/2.0/TCP sip11.example.com\r\n"
	"Via: SIP/2.0/TCP sip10.example.com\r\n"
	"Via: SIP/2.0/TCP sip9.example.com\r\n"
	"Via: SIP/2.0/TCP sip8.example.com\r\n"
	"Via: SIP/2.0/TCP sip7.example.com\r\n"
	"Via: SIP/2.0/TCP sip6.example.com\r\n"
	"Via: SIP/2.0/TCP sip5.example.com\r\n"
	"Via: SIP/2.0/TCP sip4.example.com\r\n"
	"Via: SIP/2.0/TCP sip3.example.com\r\n"
	"Via: SIP/2.0/TCP sip2.example.com\r\n"
	"Via: SIP/2.0/TCP sip1.example.com\r\n"
	"Via: SIP/2.0/TCP "
	"host.example.com;received=192.0.2.5;branch="
	"verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglo"
	"nglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong"
	"longlonglonglonglonglongbranchvalue\r\n"
	"Max-Forwards: 70\r\n"
	"Contact: "
	"<sip:"
	"amazinglylongcallernameamazinglylongcallernameamazinglylongcallernameamazinglylongcallerna"
	"meamazinglylongcallername@host5.example.net>\r\n"
	"Content-Type: application/sdp\r\n"
	"l: 150\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n";

static const char m_dblreq[] = "REGISTER sip:example.com SIP/2.0\r\n"
			       "To: sip:j.user@example.com\r\n"
			       "From: sip:j.user@example.com;tag=43251j3j324\r\n"
			       "Max-Forwards: 8\r\n"
			       "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412\r\n"
			       "Contact: sip:j.user@host.example.com\r\n"
			       "CSeq: 8 REGISTER\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\r\n"
			       "Content-Length: 0\r\n"
			       "\r\n"
			       "\r\n"
			       "INVITE sip:joe@example.com SIP/2.0\r\n"
			       "t: sip:joe@example.com\r\n"
			       "From: sip:caller@example.net;tag=141334\r\n"
			       "Max-Forwards: 8\r\n"
			       "Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15\r\n"
			       "CSeq: 8 INVITE\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\r\n"
			       "Content-Type: application/sdp\r\n"
			       "Content-Length: 150\r\n"
			       "\r\n"
			       "v=0\r\n"
			       "o=mhandley 29739 7272939 IN IP4 192.0.2.15\r\n"
			       "s=-\r\n"
			       "c=IN IP4 192.0.2.15\r\n"
			       "t=0 0\r\n"
			       "m=audio 49217 RTP/AVP 0 12\r\n"
			       "m =video 3227 RTP/AVP 31\r\n"
			       "a=rtpmap:31 LPC\r\n"
			       "\r\n";

static const char m_semiuri[] = "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\r\n"
				"To: sip:j_user@example.com\r\n"
				"From: sip:caller@example.org;tag=33242\r\n"
				"Max-Forwards: 3\r\n"
				"Call-ID: semiuri.0ha0isndaksdj\r\n"
				"CSeq: 8 OPTIONS\r\n"
				"Accept: application/sdp, application/pkcs7-mime,\r\n"
				"        multipart/mixed, multipart/signed,\r\n"
				"        message/sip, message/sipfrag\r\n"
				"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\r\n"
				"l: 0\r\n"
				"\r\n";

static const char m_transports[] = "OPTIONS sip:user@example.com SIP/2.0\r\n"
				   "To: sip:user@example.com\r\n"
				   "From: <sip:caller@example.com>;tag=323\r\n"
				   "Max-Forwards: 70\r\n"
				   "Call-ID:  transports.kijh4akdnaqjkwendsasfdj\r\n"
				   "Accept: application/sdp\r\n"
				   "CSeq: 60 OPTIONS\r\n"
				   "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw\r\n"
				   "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\r\n"
				   "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\r\n"
				   "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en\r\n"
				   "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee\r\n"
				   "l: 0\r\n"
				   "\r\n";

static const char m_mpart01[] =
	"MESSAGE sip:kumiko@example.org SIP/2.0\r\n"
	"Via: SIP/2.0/UDP "
	"127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport\r\n"
	"Max-Forwards: 70\r\n"
	"Route: <sip:127.0.0.1:5080>\r\n"
	"Identity: "
	"r5mwreLuyDRYBi/0TiPwEsY3rEVsk/"
	"G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+"
	"fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=\r\n"
	"Contact: <sip:fluffy@127.0.0.1:5070>\r\n"
	"To: <sip:kumiko@example.org>\r\n"
	"From: <sip:fluffy@example.com>;tag=2fb0dcc9\r\n"
	"Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Content-Transfer-Encoding: binary\r\n"
	"Content-Type: multipart/mixed;boundary=7a9cbec02ceef655\r\n"
	"Date: Sat, 15 Oct 2005 04:44:56 GMT\r\n"
	"User-Agent: SIPimp.org/0.2.5 (curses)\r\n"
	"Content-Length: 553\r\n"
	"\r\n"
	"--7a9cbec02ceef655\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Transfer-Encoding: binary\r\n"
	"\r\n"
	"Hello\r\n"
	"--7a9cbec02ceef655\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: binary\r\n"
	"\r\n"
	"\x30\x82\x01\x52\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0"
	"\x82\x01\x43\x30\x82\x01\x3f\x02\x01\x01\x31\x09\x30\x07\x06\x05"
	"\x2b\x0e\x03\x02\x1a\x30\x0b\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01"
	"\x07\x01\x31\x82\x01\x20\x30\x82\x01\x1c\x02\x01\x01\x30\x7c\x30"
	"\x70\x31\x0b\x30\x09\x06\x03\x55\x04\x06\x13\x02\x55\x53\x31\x13"
	"\x30\x11\x06\x03\x55\x04\x08\x13\x0a\x43\x61\x6c\x69\x66\x6f\x72"
	"\x6e\x69\x61\x31\x11\x30\x0f\x06\x03\x55\x04\x07\x13\x08\x53\x61"
	"\x6e\x20\x4a\x6f\x73\x65\x31\x0e\x30\x0c\x06\x03\x55\x04\x0a\x13"
	"\x05\x73\x69\x70\x69\x74\x31\x29\x30\x27\x06\x03\x55\x04\x0b\x13"
	"\x20\x53\x69\x70\x69\x74\x20\x54\x65\x73\x74\x20\x43\x65\x72\x74"
	"\x69\x66\x69\x63\x61\x74\x65\x20\x41\x75\x74\x68\x6f\x72\x69\x74"
	"\x79\x02\x08\x01\x95\x00\x71\x02\x33\x01\x13\x30\x07\x06\x05\x2b"
	"\x0e\x03\x02\x1a\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01"
	"\x01\x05\x00\x04\x81\x80\x8e\xf4\x66\xf9\x48\xf0\x52\x2d\xd2\xe5"
	"\x97\x8e\x9d\x95\xaa\xe9\xf2\xfe\x15\xa0\x66\x59\x71\x62\x92\xe8"
	"\xda\x2a\xa8\xd8\x35\x0a\x68\xce\xff\xae\x3c\xbd\x2b\xff\x16\x75"
	"\xdd\xd5\x64\x8e\x59\x3d\xd6\x47\x28\xf2\x62\x20\xf7\xe9\x41\x74"
	"\x9e\x33\x0d\x9a\x15\xed\xab\xdb\x93\xd1\x0c\x42\x10\x2e\x7b\x72"
	"\x89\xd2\x9c\xc0\xc9\xae\x2e\xfb\xc7\xc0\xcf\xf9\x17\x2f\x3b\x02"
	"\x7e\x4f\xc0\x27\xe1\x54\x6d\xe4\xb6\xaa\x3a\xbb\x3e\x66\xcc\xcb"
	"\x5d\xd6\xc6\x4b\x83\x83\x14\x9c\xb8\xe6\xff\x18\x2d\x94\x4f\xe5"
	"\x7b\x65\xbc\x99\xd0\x05"
	"\r\n"
	"--7a9cbec02ceef655--\r\n";

static const char m_unreason[] =
	"SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe "
	"\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe "
	"\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd1\x82\xd1\x8c - "
	"\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd0\xb5\r\n"
	"Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\r\n"
	"Call-ID: unreason.1234ksdfak3j2erwedfsASdf\r\n"
	"CSeq: 35 INVITE\r\n"
	"From: sip:user@example.com;tag=11141343\r\n"
	"To: sip:user@example.edu;tag=2229\r\n"
	"Content-Length: 154\r\n"
	"Content-Type: application/sdp\r\n"
	"Contact: <sip:user@host198.example.com>\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.198\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.198\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n";

static const char m_noreason[] = "SIP/2.0 100 \r\n"
				 "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\r\n"
				 "Call-ID: noreason.asndj203insdf99223ndf\r\n"
				 "CSeq: 35 INVITE\r\n"
				 "From: <sip:user@example.com>;tag=39ansfi3\r\n"
				 "To: <sip:user@example.edu>;tag=902jndnke3\r\n"
				 "Content-Length: 0\r\n"
				 "Contact: <sip:user@host105.example.com>\r\n"
				 "\r\n";

/* ---- §3.1.2 Invalid messages -------------------------------------------- */

static const char m_badinv01[] = "INVITE sip:user@example.com SIP/2.0\r\n"
				 "To: sip:j.user@example.com\r\n"
				 "From: sip:caller@example.net;tag=134161461246\r\n"
				 "Max-Forwards: 7\r\n"
				 "Call-ID: badinv01.0ha0isndaksdjasdf3234nas\r\n"
				 "CSeq: 8 INVITE\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"
				 "Contact: \"Joe\" <sip:joe@example.org>;;;;\r\n"
				 "Content-Length: 152\r\n"
				 "Content-Type: application/sdp\r\n"
				 "\r\n"
				 "v=0\r\n"
				 "o=mhandley 29739 7272939 IN IP4 192.0.2.15\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.15\r\n"
				 "t=0 0\r\n"
				 "m=audio 49217 RTP/AVP 0 12\r\n"
				 "m=video 3227 RTP/AVP 31\r\n"
				 "a=rtpmap:31 LPC\r\n";

static const char m_clerr[] = "INVITE sip:user@example.com SIP/2.0\r\n"
			      "Max-Forwards: 80\r\n"
			      "To: sip:j.user@example.com\r\n"
			      "From: sip:caller@example.net;tag=93942939o2\r\n"
			      "Contact: <sip:caller@hungry.example.net>\r\n"
			      "Call-ID: clerr.0ha0isndaksdjweiafasdk3\r\n"
			      "CSeq: 8 INVITE\r\n"
			      "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523\r\n"
			      "Content-Type: application/sdp\r\n"
			      "Content-Length: 9999\r\n"
			      "\r\n"
			      "v=0\r\n"
			      "o=mhandley 29739 7272939 IN IP4 192.0.2.155\r\n"
			      "s=-\r\n"
			      "c=IN IP4 192.0.2.155\r\n"
			      "t=0 0\r\n"
			      "m=audio 49217 RTP/AVP 0 12\r\n"
			      "m=video 3227 RTP/AVP 31\r\n"
			      "a=rtpmap:31 LPC\r\n";

static const char m_ncl[] = "INVITE sip:user@example.com SIP/2.0\r\n"
			    "Max-Forwards: 254\r\n"
			    "To: sip:j.user@example.com\r\n"
			    "From: sip:caller@example.net;tag=32394234\r\n"
			    "Call-ID: ncl.0ha0isndaksdj2193423r542w35\r\n"
			    "CSeq: 0 INVITE\r\n"
			    "Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw\r\n"
			    "Contact: <sip:caller@example53.example.net>\r\n"
			    "Content-Type: application/sdp\r\n"
			    "Content-Length: -999\r\n"
			    "\r\n"
			    "v=0\r\n"
			    "o=mhandley 29739 7272939 IN IP4 192.0.2.53\r\n"
			    "s=-\r\n"
			    "c=IN IP4 192.0.2.53\r\n"
			    "t=0 0\r\n"
			    "m=audio 49217 RTP/AVP 0 12\r\n"
			    "m=video 3227 RTP/AVP 31\r\n"
			    "a=rtpmap:31 LPC\r\n";

static const char m_scalar02[] = "REGISTER sip:example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\r\n"
				 "To: <sip:user@example.com>\r\n"
				 "From: <sip:user@example.com>;tag=239232jh3\r\n"
				 "CSeq: 36893488147419103232 REGISTER\r\n"
				 "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\r\n"
				 "Max-Forwards: 300\r\n"
				 "Expires: "
				 "10000000000000000000000000000000000000000000000000000000000000000"
				 "000000000000000000000000000000000000\r\n"
				 "Contact: <sip:user@host129.example.com>\r\n"
				 "  ;expires=280297596632815\r\n"
				 "Content-Length: 0\r\n"
				 "\r\n";

static const char m_scalarlg[] =
	"SIP/2.0 503 Service Unavailable\r\n"
	"Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129\r\n"
	"To: <sip:user@example.com>\r\n"
	"From: <sip:other@example.net>;tag=2easdjfejw\r\n"
	"CSeq: 9292394834772304023312 OPTIONS\r\n"
	"Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r\r\n"
	"Retry-After: 949302838503028349304023988\r\n"
	"Warning: 1812 overture \"In Progress\"\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char m_quotbal[] = "INVITE sip:user@example.com SIP/2.0\r\n"
				"To: \"Mr. J. User <sip:j.user@example.com>\r\n"
				"From: sip:caller@example.net;tag=93334\r\n"
				"Max-Forwards: 10\r\n"
				"Call-ID: quotbal.aksdj\r\n"
				"Contact: <sip:caller@host59.example.net>\r\n"
				"CSeq: 8 INVITE\r\n"
				"Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234\r\n"
				"Content-Type: application/sdp\r\n"
				"Content-Length: 152\r\n"
				"\r\n"
				"v=0\r\n"
				"o=mhandley 29739 7272939 IN IP4 192.0.2.15\r\n"
				"s=-\r\n"
				"c=IN IP4 192.0.2.15\r\n"
				"t=0 0\r\n"
				"m=audio 49217 RTP/AVP 0 12\r\n"
				"m=video 3227 RTP/AVP 31\r\n"
				"a=rtpmap:31 LPC\r\n";

static const char m_ltgtruri[] = "INVITE <sip:user@example.com> SIP/2.0\r\n"
				 "To: sip:user@example.com\r\n"
				 "From: sip:caller@example.net;tag=39291\r\n"
				 "Max-Forwards: 23\r\n"
				 "Call-ID: ltgtruri.1@192.0.2.5\r\n"
				 "CSeq: 1 INVITE\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.5\r\n"
				 "Contact: <sip:caller@host5.example.net>\r\n"
				 "Content-Type: application/sdp\r\n"
				 "Content-Length: 159\r\n"
				 "\r\n"
				 "v=0\r\n"
				 "o=mhandley 29739 7272939 IN IP4 192.0.2.5\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.5\r\n"
				 "t=3149328700 0\r\n"
				 "m=audio 49217 RTP/AVP 0 12\r\n"
				 "m=video 3227 RTP/AVP 31\r\n"
				 "a=rtpmap:31 LPC\r\n";

static const char m_lwsruri[] = "INVITE sip:user@example.com; lr SIP/2.0\r\n"
				"To: sip:user@example.com;tag=3xfe-9921883-z9f\r\n"
				"From: sip:caller@example.net;tag=231413434\r\n"
				"Max-Forwards: 5\r\n"
				"Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423\r\n"
				"CSeq: 2130706432 INVITE\r\n"
				"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395\r\n"
				"Contact: <sip:caller@host1.example.net>\r\n"
				"Content-Type: application/sdp\r\n"
				"Content-Length: 159\r\n"
				"\r\n"
				"v=0\r\n"
				"o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
				"s=-\r\n"
				"c=IN IP4 192.0.2.1\r\n"
				"t=3149328700 0\r\n"
				"m=audio 49217 RTP/AVP 0 12\r\n"
				"m=video 3227 RTP/AVP 31\r\n"
				"a=rtpmap:31 LPC\r\n";

static const char m_lwsstart[] = "INVITE  sip:user@example.com  SIP/2.0\r\n"
				 "Max-Forwards: 8\r\n"
				 "To: sip:user@example.com\r\n"
				 "From: sip:caller@example.net;tag=8814\r\n"
				 "Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com\r\n"
				 "CSeq: 1893884 INVITE\r\n"
				 "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923\r\n"
				 "Contact: <sip:caller@host1.example.net>\r\n"
				 "Content-Type: application/sdp\r\n"
				 "Content-Length: 150\r\n"
				 "\r\n"
				 "v=0\r\n"
				 "o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.1\r\n"
				 "t=0 0\r\n"
				 "m=audio 49217 RTP/AVP 0 12\r\n"
				 "m=video 3227 RTP/AVP 31\r\n"
				 "a=rtpmap:31 LPC\r\n";

static const char m_trws[] = "OPTIONS sip:remote-target@example.com SIP/2.0  \r\n"
			     "Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093\r\n"
			     "To: <sip:remote-target@example.com>\r\n"
			     "From: <sip:local-resource@example.com>;tag=329429089\r\n"
			     "Call-ID: trws.oicu34958239neffasdhr2345r\r\n"
			     "Accept: application/sdp\r\n"
			     "CSeq: 238923 OPTIONS\r\n"
			     "Max-Forwards: 70\r\n"
			     "Content-Length: 0\r\n"
			     "\r\n";

static const char m_escruri[] =
	"INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0\r\n"
	"To: sip:user@example.com\r\n"
	"From: sip:caller@example.net;tag=341518\r\n"
	"Max-Forwards: 7\r\n"
	"Contact: <sip:caller@host39923.example.net>\r\n"
	"Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5\r\n"
	"CSeq: 149209342 INVITE\r\n"
	"Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 150\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n";

static const char m_baddate[] = "INVITE sip:user@example.com SIP/2.0\r\n"
				"To: sip:user@example.com\r\n"
				"From: sip:caller@example.net;tag=2234923\r\n"
				"Max-Forwards: 70\r\n"
				"Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234\r\n"
				"CSeq: 1392934 INVITE\r\n"
				"Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw\r\n"
				"Date: Fri, 01 Jan 2010 16:00:00 EST\r\n"
				"Contact: <sip:caller@host5.example.net>\r\n"
				"Content-Type: application/sdp\r\n"
				"Content-Length: 150\r\n"
				"\r\n"
				"v=0\r\n"
				"o=mhandley 29739 7272939 IN IP4 192.0.2.5\r\n"
				"s=-\r\n"
				"c=IN IP4 192.0.2.5\r\n"
				"t=0 0\r\n"
				"m=audio 49217 RTP/AVP 0 12\r\n"
				"m=video 3227 RTP/AVP 31\r\n"
				"a=rtpmap:31 LPC\r\n";

static const char m_regbadct[] = "REGISTER sip:example.com SIP/2.0\r\n"
				 "To: sip:user@example.com\r\n"
				 "From: sip:user@example.com;tag=998332\r\n"
				 "Max-Forwards: 70\r\n"
				 "Call-ID: regbadct.k345asrl3fdbv@10.0.0.1\r\n"
				 "CSeq: 1 REGISTER\r\n"
				 "Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw\r\n"
				 "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\r\n"
				 "l: 0\r\n"
				 "\r\n";

static const char m_badaspec[] =
	"OPTIONS sip:user@example.org SIP/2.0\r\n"
	"Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234\r\n"
	"Max-Forwards: 70\r\n"
	"From: \"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423\r\n"
	"To: \"Watson, Thomas\" < sip:t.watson@example.org >\r\n"
	"Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3\r\n"
	"Accept: application/sdp\r\n"
	"CSeq: 3923239 OPTIONS\r\n"
	"l: 0\r\n"
	"\r\n";

static const char m_baddn[] = "OPTIONS sip:t.watson@example.org SIP/2.0\r\n"
			      "Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw\r\n"
			      "Max-Forwards:      70\r\n"
			      "From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43\r\n"
			      "To:      Watson, Thomas <sip:t.watson@example.org>\r\n"
			      "Call-ID: baddn.31415@c.example.com\r\n"
			      "Accept: application/sdp\r\n"
			      "CSeq:    3923239 OPTIONS\r\n"
			      "l: 0\r\n"
			      "\r\n";

static const char m_badvers[] = "OPTIONS sip:t.watson@example.org SIP/7.0\r\n"
				"Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n"
				"Max-Forwards:     70\r\n"
				"From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\r\n"
				"To:      T. Watson <sip:t.watson@example.org>\r\n"
				"Call-ID: badvers.31417@c.example.com\r\n"
				"CSeq:    1 OPTIONS\r\n"
				"l: 0\r\n"
				"\r\n";

static const char m_mismatch01[] = "OPTIONS sip:user@example.com SIP/2.0\r\n"
				   "To: sip:j.user@example.com\r\n"
				   "From: sip:caller@example.net;tag=34525\r\n"
				   "Max-Forwards: 6\r\n"
				   "Call-ID: mismatch01.dj0234sxdfl3\r\n"
				   "CSeq: 8 INVITE\r\n"
				   "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw\r\n"
				   "l: 0\r\n"
				   "\r\n";

static const char m_mismatch02[] = "NEWMETHOD sip:user@example.com SIP/2.0\r\n"
				   "To: sip:j.user@example.com\r\n"
				   "From: sip:caller@example.net;tag=34525\r\n"
				   "Max-Forwards: 6\r\n"
				   "Call-ID: mismatch02.dj0234sxdfl3\r\n"
				   "CSeq: 8 INVITE\r\n"
				   "Contact: <sip:caller@host.example.net>\r\n"
				   "Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw\r\n"
				   "Content-Type: application/sdp\r\n"
				   "l: 138\r\n"
				   "\r\n"
				   "v=0\r\n"
				   "o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
				   "c=IN IP4 192.0.2.1\r\n"
				   "m=audio 49217 RTP/AVP 0 12\r\n"
				   "m=video 3227 RTP/AVP 31\r\n"
				   "a=rtpmap:31 LPC\r\n";

static const char m_bigcode[] = "SIP/2.0 4294967301 better not break the receiver\r\n"
				"Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\r\n"
				"Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i\r\n"
				"CSeq: 353494 INVITE\r\n"
				"From: <sip:user@example.com>;tag=39ansfi3\r\n"
				"To: <sip:user@example.edu>;tag=902jndnke3\r\n"
				"Content-Length: 0\r\n"
				"Contact: <sip:user@host105.example.com>\r\n"
				"\r\n";

/* ---- §3.2 Transaction layer, §3.3 application layer, §3.4 RFC 2543 ------ */

static const char m_badbranch[] = "OPTIONS sip:user@example.com SIP/2.0\r\n"
				  "To: sip:user@example.com\r\n"
				  "From: sip:caller@example.org;tag=33242\r\n"
				  "Max-Forwards: 3\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK\r\n"
				  "Accept: application/sdp\r\n"
				  "Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n\r\n"
				  "CSeq: 8 OPTIONS\r\n"
				  "l: 0\r\n"
				  "\r\n";

static const char m_insuf[] = "INVITE sip:user@example.com SIP/2.0\r\n"
			      "CSeq: 193942 INVITE\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
			      "Content-Type: application/sdp\r\n"
			      "l: 152\r\n"
			      "\r\n"
			      "v=0\r\n"
			      "o=mhandley 29739 7272939 IN IP4 192.0.2.95\r\n"
			      "s=-\r\n"
			      "c=IN IP4 192.0.2.95\r\n"
			      "t=0 0\r\n"
			      "m=audio 49217 RTP/AVP 0 12\r\n"
			      "m=video 3227 RTP/AVP 31\r\n"
			      "a=rtpmap:31 LPC\r\n";

static const char m_unkscm[] = "OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0\r\n"
			       "To: sip:user@example.com\r\n"
			       "From: sip:caller@example.net;tag=384\r\n"
			       "Max-Forwards: 3\r\n"
			       "Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34\r\n"
			       "CSeq: 3923423 OPTIONS\r\n"
			       "Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234\r\n"
			       "Content-Length: 0\r\n"
			       "\r\n";

static const char m_novelsc[] = "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\r\n"
				"To: sip:user@example.com\r\n"
				"From: sip:caller@example.net;tag=384\r\n"
				"Max-Forwards: 3\r\n"
				"Call-ID: novelsc.asdfasser0q239nwsdfasdkl34\r\n"
				"CSeq: 3923423 OPTIONS\r\n"
				"Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234\r\n"
				"Content-Length: 0\r\n"
				"\r\n";

static const char m_unksm2[] = "REGISTER sip:example.com SIP/2.0\r\n"
			       "To: isbn:2983792873\r\n"
			       "From: <http://www.example.com>;tag=3234233\r\n"
			       "Call-ID: unksm2.daksdj@hyphenated-host.example.com\r\n"
			       "CSeq: 234902 REGISTER\r\n"
			       "Max-Forwards: 70\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\r\n"
			       "Contact: <name:John_Smith>\r\n"
			       "l: 0\r\n"
			       "\r\n";

static const char m_bext01[] =
	"OPTIONS sip:user@example.com SIP/2.0\r\n"
	"To: sip:j_user@example.com\r\n"
	"From: sip:caller@example.net;tag=242etr\r\n"
	"Max-Forwards: 6\r\n"
	"Call-ID: bext01.0ha0isndaksdj\r\n"
	"Require: nothingSupportsThis, nothingSupportsThisEither\r\n"
	"Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis\r\n"
	"CSeq: 8 OPTIONS\r\n"
	"Via: SIP/2.0/TLS fold-and-staple.example.com;branch=z9hG4bKkdjuw\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char m_invut[] = "INVITE sip:user@example.com SIP/2.0\r\n"
			      "Contact: <sip:caller@host5.example.net>\r\n"
			      "To: sip:j.user@example.com\r\n"
			      "From: sip:caller@example.net;tag=8392034\r\n"
			      "Max-Forwards: 70\r\n"
			      "Call-ID: invut.0ha0isndaksdjadsfij34n23d\r\n"
			      "CSeq: 235448 INVITE\r\n"
			      "Via: SIP/2.0/UDP somehost.example.com;branch=z9hG4bKkdjuw\r\n"
			      "Content-Type: application/unknownformat\r\n"
			      "Content-Length: 40\r\n"
			      "\r\n"
			      "<audio>\r\n"
			      " <pcmu port=\"443\"/>\r\n"
			      "</audio>\r\n";

static const char m_regaut01[] = "REGISTER sip:example.com SIP/2.0\r\n"
				 "To: sip:j.user@example.com\r\n"
				 "From: sip:j.user@example.com;tag=87321hj23128\r\n"
				 "Max-Forwards: 8\r\n"
				 "Call-ID: regaut01.0ha0isndaksdj\r\n"
				 "CSeq: 9338 REGISTER\r\n"
				 "Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKkdjuw\r\n"
				 "Authorization: NoOneKnowsThisScheme opaque-data=here\r\n"
				 "Content-Length:0\r\n"
				 "\r\n";

static const char m_multi01[] = "INVITE sip:user@company.com SIP/2.0\r\n"
				"Contact: <sip:caller@host25.example.net>\r\n"
				"Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw\r\n"
				"Max-Forwards: 70\r\n"
				"CSeq: 5 INVITE\r\n"
				"Call-ID: multi01.98asdh@192.0.2.1\r\n"
				"CSeq: 59 INVITE\r\n"
				"Call-ID: multi01.98asdh@192.0.2.2\r\n"
				"From: sip:caller@example.com;tag=3413415\r\n"
				"To: sip:user@example.com\r\n"
				"To: sip:other@example.net\r\n"
				"From: sip:caller@example.net;tag=2923420123\r\n"
				"Content-Type: application/sdp\r\n"
				"l: 154\r\n"
				"Contact: <sip:caller@host36.example.net>\r\n"
				"Max-Forwards: 5\r\n"
				"\r\n"
				"v=0\r\n"
				"o=mhandley 29739 7272939 IN IP4 192.0.2.25\r\n"
				"s=-\r\n"
				"c=IN IP4 192.0.2.25\r\n"
				"t=0 0\r\n"
				"m=audio 49217 RTP/AVP 0 12\r\n"
				"m=video 3227 RTP/AVP 31\r\n"
				"a=rtpmap:31 LPC\r\n"
				"\r\n";

static const char m_mcl01[] = "OPTIONS sip:user@example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423\r\n"
			      "To: sip:user@example.com\r\n"
			      "From: sip:other@example.net;tag=3923942\r\n"
			      "Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf\r\n"
			      "CSeq: 15932 OPTIONS\r\n"
			      "Content-Length: 13\r\n"
			      "Max-Forwards: 60\r\n"
			      "Content-Length: 5\r\n"
			      "Content-Type: text/plain\r\n"
			      "\r\n"
			      "There's no way to know how many octets are supposed to be here.\r\n"
			      "\r\n";

static const char m_bcast[] = "SIP/2.0 200 OK\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\r\n"
			      "Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23\r\n"
			      "Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf\r\n"
			      "CSeq: 35 INVITE\r\n"
			      "From: sip:user@example.com;tag=11141343\r\n"
			      "To: sip:user@example.edu;tag=2229\r\n"
			      "Content-Length: 154\r\n"
			      "Content-Type: application/sdp\r\n"
			      "Contact: <sip:user@host28.example.com>\r\n"
			      "\r\n"
			      "v=0\r\n"
			      "o=mhandley 29739 7272939 IN IP4 192.0.2.198\r\n"
			      "s=-\r\n"
			      "c=IN IP4 192.0.2.198\r\n"
			      "t=0 0\r\n"
			      "m=audio 49217 RTP/AVP 0 12\r\n"
			      "m=video 3227 RTP/AVP 31\r\n"
			      "a=rtpmap:31 LPC\r\n";

static const char m_zeromf[] = "OPTIONS sip:user@example.com SIP/2.0\r\n"
			       "To: sip:user@example.com\r\n"
			       "From: sip:caller@example.net;tag=3ghsd41\r\n"
			       "Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas\r\n"
			       "CSeq: 39234321 OPTIONS\r\n"
			       "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i\r\n"
			       "Max-Forwards: 0\r\n"
			       "Content-Length: 0\r\n"
			       "\r\n";

static const char m_cparam01[] = "REGISTER sip:example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe\r\n"
				 "To: sip:watson@example.com\r\n"
				 "Call-ID: cparam01.70710@saturn.example.com\r\n"
				 "CSeq: 2 REGISTER\r\n"
				 "Contact: sip:+19725552222@gw1.example.net;unknownparam\r\n"
				 "l: 0\r\n"
				 "\r\n";

static const char m_cparam02[] = "REGISTER sip:example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: sip:watson@example.com;tag=838293\r\n"
				 "To: sip:watson@example.com\r\n"
				 "Call-ID: cparam02.70710@saturn.example.com\r\n"
				 "CSeq: 3 REGISTER\r\n"
				 "Contact: <sip:+19725552222@gw1.example.net;unknownparam>\r\n"
				 "l: 0\r\n"
				 "\r\n";

static const char m_regescrt[] = "REGISTER sip:example.com SIP/2.0\r\n"
				 "To: sip:user@example.com\r\n"
				 "From: sip:user@example.com;tag=8\r\n"
				 "Max-Forwards: 70\r\n"
				 "Call-ID: regescrt.k345asrl3fdbv@192.0.2.1\r\n"
				 "CSeq: 14398234 REGISTER\r\n"
				 "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\r\n"
				 "M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>\r\n"
				 "L:0\r\n"
				 "\r\n";

static const char m_sdp01[] = "INVITE sip:user@example.com SIP/2.0\r\n"
			      "To: sip:j_user@example.com\r\n"
			      "Contact: <sip:caller@host15.example.net>\r\n"
			      "From: sip:caller@example.net;tag=234\r\n"
			      "Max-Forwards: 5\r\n"
			      "Call-ID: sdp01.ndaksdj9342dasdd\r\n"
			      "Accept: text/nobodyKnowsThis\r\n"
			      "CSeq: 8 INVITE\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw\r\n"
			      "Content-Length: 150\r\n"
			      "Content-Type: application/sdp\r\n"
			      "\r\n"
			      "v=0\r\n"
			      "o=mhandley 29739 7272939 IN IP4 192.0.2.5\r\n"
			      "s=-\r\n"
			      "c=IN IP4 192.0.2.5\r\n"
			      "t=0 0\r\n"
			      "m=audio 49217 RTP/AVP 0 12\r\n"
			      "m=video 3227 RTP/AVP 31\r\n"
			      "a=rtpmap:31 LPC\r\n";

static const char m_inv2543[] = "INVITE sip:UserB@example.com SIP/2.0\r\n"
				"Via: SIP/2.0/UDP iftgw.example.com\r\n"
				"From: <sip:+13035551111@ift.client.example.net;user=phone>\r\n"
				"Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>\r\n"
				"To: sip:+16505552222@ss1.example.net;user=phone\r\n"
				"Call-ID: inv2543.1717@ift.client.example.com\r\n"
				"CSeq: 56 INVITE\r\n"
				"Content-Type: application/sdp\r\n"
				"\r\n"
				"v=0\r\n"
				"o=mhandley 29739 7272939 IN IP4 192.0.2.5\r\n"
				"s=-\r\n"
				"c=IN IP4 192.0.2.5\r\n"
				"t=0 0\r\n"
				"m=audio 49217 RTP/AVP 0\r\n";

/* One RFC 4475 message and what the scanner must make of it. */
struct torture {
	const char *name;    /* file name in the RFC's archive, without ".dat" */
	const char *section; /* RFC 4475 section */
	const char *bytes;
	size_t len;
	enum dp_sip_verdict want; /* the verdict the scanner must give */
	bool deviation;		  /* known deviation: the scanner gives @now instead */
	enum dp_sip_verdict now;
	/* Accepted messages only; "" means the field must be absent. */
	const char *method; /* Request-Line method, or the CSeq method of a response */
	uint16_t status;    /* responses */
	const char *ruri_host;
	const char *call_id;
	uint32_t cseq;
	const char *branch;
	const char *from_tag;
	const char *to_tag;
	uint16_t msg_len; /* 0: the whole datagram (no surplus bytes) */
};

#define MSG(m) .bytes = (m), .len = sizeof(m) - 1
#define REJECT(n, sec, m, v)                                       \
	{                                                          \
		.name = (n), .section = (sec), MSG(m), .want = (v) \
	}
/* A request the scanner accepts, with its routing fields. */
#define REQ(n, sec, m, meth, host, cid, cs, br, ft, tt)                                     \
	{                                                                                   \
		.name = (n), .section = (sec), MSG(m), .want = DP_SIP_OK, .method = (meth), \
		.ruri_host = (host), .call_id = (cid), .cseq = (cs), .branch = (br),        \
		.from_tag = (ft), .to_tag = (tt)                                            \
	}
#define RSP(n, sec, m, st, meth, cid, cs, br, ft, tt)                                             \
	{                                                                                         \
		.name = (n), .section = (sec), MSG(m), .want = DP_SIP_OK, .method = (meth),       \
		.status = (st), .call_id = (cid), .cseq = (cs), .branch = (br), .from_tag = (ft), \
		.to_tag = (tt)                                                                    \
	}

static const struct torture cases[] = {
	/* §3.1.1 valid */
	REQ("wsinv", "3.1.1.1", m_wsinv, "INVITE", "chair-dnrc.example.com",
	    "wsinv.ndaksdj@192.0.2.1", 9, "390skdjuw", "98asjd8", "1918181833n"),
	{.name = "intmeth",
	 .section = "3.1.1.2",
	 MSG(m_intmeth),
	 .want = DP_SIP_OK,
	 .deviation = true,
	 .now = DP_SIP_ERR_BAD_CHAR},
	REQ("esc01", "3.1.1.3", m_esc01, "INVITE", "example.net",
	    "esc01.239409asdfakjkn23onasd0-3234", 234234, "z9hG4bKkdjuw", "938", ""),
	REQ("escnull", "3.1.1.4", m_escnull, "REGISTER", "example.com",
	    "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd", 14398234, "z9hG4bKkdjuw", "839923423",
	    ""),
	REQ("esc02", "3.1.1.5", m_esc02, "RE%47IST%45R", "registrar.example.com",
	    "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", 29344, "z9hG4bK209%fzsnel234",
	    "f232jadfj23", ""),
	REQ("lwsdisp", "3.1.1.6", m_lwsdisp, "OPTIONS", "example.com",
	    "lwsdisp.1234abcd@funky.example.com", 60, "z9hG4bKkdjuw", "323", ""),
	/* The top Via (sip33) has no branch: only the last of the 34 has one. */
	REQ("longreq", "3.1.1.7", m_longreq, "INVITE", "example.com",
	    "longreq.one" LONG20("really") "longcallid", 3882340, "",
	    "12" LONG10(LONG5("982")) "424", ""),
	/* §18.3: the INVITE after the REGISTER's empty body is surplus. */
	{.name = "dblreq",
	 .section = "3.1.1.8",
	 MSG(m_dblreq),
	 .want = DP_SIP_OK,
	 .method = "REGISTER",
	 .ruri_host = "example.com",
	 .call_id = "dblreq.0ha0isndaksdj99sdfafnl3lk233412",
	 .cseq = 8,
	 .branch = "z9hG4bKkdjuw23492",
	 .from_tag = "43251j3j324",
	 .to_tag = "",
	 .msg_len = 300},
	REQ("semiuri", "3.1.1.9", m_semiuri, "OPTIONS", "example.com", "semiuri.0ha0isndaksdj", 8,
	    "z9hG4bKkdjuw", "33242", ""),
	REQ("transports", "3.1.1.10", m_transports, "OPTIONS", "example.com",
	    "transports.kijh4akdnaqjkwendsasfdj", 60, "z9hG4bKkdjuw", "323", ""),
	REQ("mpart01", "3.1.1.11", m_mpart01, "MESSAGE", "example.org",
	    "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", 1,
	    "z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-", "2fb0dcc9", ""),
	RSP("unreason", "3.1.1.12", m_unreason, 200, "INVITE", "unreason.1234ksdfak3j2erwedfsASdf",
	    35, "z9hG4bK1324923", "11141343", "2229"),
	RSP("noreason", "3.1.1.13", m_noreason, 100, "INVITE", "noreason.asndj203insdf99223ndf", 35,
	    "z9hG4bK2398ndaoe", "39ansfi3", "902jndnke3"),

	/* §3.1.2 invalid */
	REJECT("badinv01", "3.1.2.1", m_badinv01, DP_SIP_ERR_BAD_VIA),
	REJECT("clerr", "3.1.2.2", m_clerr, DP_SIP_ERR_BAD_CONTENT_LENGTH),
	REJECT("ncl", "3.1.2.3", m_ncl, DP_SIP_ERR_BAD_CONTENT_LENGTH),
	/* CSeq comes before the bad Max-Forwards and Expires: the RFC's 400 is for CSeq. */
	REJECT("scalar02", "3.1.2.4", m_scalar02, DP_SIP_ERR_BAD_CSEQ),
	REJECT("scalarlg", "3.1.2.5", m_scalarlg, DP_SIP_ERR_BAD_CSEQ),
	REJECT("quotbal", "3.1.2.6", m_quotbal, DP_SIP_ERR_BAD_NAMEADDR),
	REJECT("ltgtruri", "3.1.2.7", m_ltgtruri, DP_SIP_ERR_BAD_URI),
	/* The URI ends at the first SP, so "lr SIP/2.0" is not a SIP-Version. */
	REJECT("lwsruri", "3.1.2.8", m_lwsruri, DP_SIP_ERR_BAD_START_LINE),
	REJECT("lwsstart", "3.1.2.9", m_lwsstart, DP_SIP_ERR_BAD_START_LINE),
	REJECT("trws", "3.1.2.10", m_trws, DP_SIP_ERR_BAD_START_LINE),
	REJECT("escruri", "3.1.2.11", m_escruri, DP_SIP_ERR_BAD_URI),
	/* Accepted by design: see the list at the top. */
	REQ("baddate", "3.1.2.12", m_baddate, "INVITE", "example.com",
	    "baddate.239423mnsadf3j23lj42--sedfnm234", 1392934, "z9hG4bKkdjuw", "2234923", ""),
	REJECT("regbadct", "3.1.2.13", m_regbadct, DP_SIP_ERR_BAD_CONTACT),
	REJECT("badaspec", "3.1.2.14", m_badaspec, DP_SIP_ERR_BAD_NAMEADDR),
	REJECT("baddn", "3.1.2.15", m_baddn, DP_SIP_ERR_BAD_NAMEADDR),
	REJECT("badvers", "3.1.2.16", m_badvers, DP_SIP_ERR_BAD_START_LINE),
	REJECT("mismatch01", "3.1.2.17", m_mismatch01, DP_SIP_ERR_BAD_CSEQ),
	REJECT("mismatch02", "3.1.2.18", m_mismatch02, DP_SIP_ERR_BAD_CSEQ),
	REJECT("bigcode", "3.1.2.19", m_bigcode, DP_SIP_ERR_BAD_START_LINE),

	/* §3.2 transaction layer */
	REQ("badbranch", "3.2.1", m_badbranch, "OPTIONS", "example.com",
	    "badbranch.sadonfo23i420jv0as0derf3j3n", 8, "z9hG4bK", "33242", ""),

	/* §3.3 application layer */
	REJECT("insuf", "3.3.1", m_insuf, DP_SIP_ERR_MISSING_HEADER),
	/* Not a sip: URI: there is no host to report. */
	REQ("unkscm", "3.3.2", m_unkscm, "OPTIONS", "", "unkscm.nasdfasser0q239nwsdfasdkl34",
	    3923423, "z9hG4bKkdjuw39234", "384", ""),
	REQ("novelsc", "3.3.3", m_novelsc, "OPTIONS", "", "novelsc.asdfasser0q239nwsdfasdkl34",
	    3923423, "z9hG4bKkdjuw39234", "384", ""),
	REQ("unksm2", "3.3.4", m_unksm2, "REGISTER", "example.com",
	    "unksm2.daksdj@hyphenated-host.example.com", 234902, "z9hG4bKkdjuw", "3234233", ""),
	REQ("bext01", "3.3.5", m_bext01, "OPTIONS", "example.com", "bext01.0ha0isndaksdj", 8,
	    "z9hG4bKkdjuw", "242etr", ""),
	REQ("invut", "3.3.6", m_invut, "INVITE", "example.com", "invut.0ha0isndaksdjadsfij34n23d",
	    235448, "z9hG4bKkdjuw", "8392034", ""),
	REQ("regaut01", "3.3.7", m_regaut01, "REGISTER", "example.com", "regaut01.0ha0isndaksdj",
	    9338, "z9hG4bKkdjuw", "87321hj23128", ""),
	REJECT("multi01", "3.3.8", m_multi01, DP_SIP_ERR_DUP_HEADER),
	REJECT("mcl01", "3.3.9", m_mcl01, DP_SIP_ERR_DUP_HEADER),
	RSP("bcast", "3.3.10", m_bcast, 200, "INVITE", "bcast.0384840201234ksdfak3j2erwedfsASdf",
	    35, "z9hG4bK1324923", "11141343", "2229"),
	REQ("zeromf", "3.3.11", m_zeromf, "OPTIONS", "example.com",
	    "zeromf.jfasdlfnm2o2l43r5u0asdfas", 39234321, "z9hG4bKkdjuw2349i", "3ghsd41", ""),
	REQ("cparam01", "3.3.12", m_cparam01, "REGISTER", "example.com",
	    "cparam01.70710@saturn.example.com", 2, "z9hG4bKkdjuw", "DkfVgjkrtMwaerKKpe", ""),
	REQ("cparam02", "3.3.13", m_cparam02, "REGISTER", "example.com",
	    "cparam02.70710@saturn.example.com", 3, "z9hG4bKkdjuw", "838293", ""),
	REQ("regescrt", "3.3.14", m_regescrt, "REGISTER", "example.com",
	    "regescrt.k345asrl3fdbv@192.0.2.1", 14398234, "z9hG4bKkdjuw", "8", ""),
	REQ("sdp01", "3.3.15", m_sdp01, "INVITE", "example.com", "sdp01.ndaksdj9342dasdd", 8,
	    "z9hG4bKkdjuw", "234", ""),

	/* §3.4 backward compatibility */
	REQ("inv2543", "3.4.1", m_inv2543, "INVITE", "example.com",
	    "inv2543.1717@ift.client.example.com", 56, "", "", ""),
};

static void check_field(const struct torture *t, const uint8_t *buf, struct dp_sip_slice sl,
			const char *field, const char *want)
{
	size_t n = strlen(want);

	if (sl.len != n || memcmp(buf + sl.off, want, n) != 0) {
		print_error("%s (RFC 4475 §%s): %s \"%.*s\", expected \"%s\"\n", t->name,
			    t->section, field, (int)sl.len, (const char *)buf + sl.off, want);
		fail();
	}
}

/* The fields of an accepted message, and that every slice stays inside it. */
static void check_accepted(const struct torture *t, const uint8_t *buf, const struct dp_sip_msg *m)
{
	uint32_t msg_len = t->msg_len != 0 ? t->msg_len : (uint32_t)t->len;

	assert_int_equal(m->is_request, t->status == 0);
	if (m->is_request) {
		check_field(t, buf, m->method_name, "method", t->method);
		assert_int_equal(m->method,
				 dp_sip_method_from((const uint8_t *)t->method, strlen(t->method)));
		check_field(t, buf, m->ruri.host, "Request-URI host", t->ruri_host);
	} else {
		assert_int_equal(m->status, t->status);
		assert_int_equal(m->ruri.whole.len, 0);
	}
	check_field(t, buf, m->cseq_method_name, "CSeq method", t->method);
	check_field(t, buf, m->call_id, "Call-ID", t->call_id);
	assert_int_equal(m->cseq, t->cseq);
	check_field(t, buf, m->via.branch, "top Via branch", t->branch);
	check_field(t, buf, m->from.tag, "From tag", t->from_tag);
	check_field(t, buf, m->to.tag, "To tag", t->to_tag);

	assert_int_equal(m->msg_len, msg_len);
	assert_int_equal(m->body.off, m->hdrs_end);
	assert_int_equal(m->body.off + m->body.len, m->msg_len);
	if (m->content_length >= 0)
		assert_int_equal(m->body.len, m->content_length);
	assert_true(m->nhdrs > 0 && m->nhdrs <= DP_SIP_MAX_HDRS);
	for (unsigned i = 0; i < m->nhdrs; i++) {
		assert_true(m->hdrs[i].name.len > 0);
		assert_true(m->hdrs[i].value.off + m->hdrs[i].value.len <= m->hdrs_end);
	}
}

/* One table entry, from a heap buffer of exactly its length. */
static void test_torture(void **state)
{
	const struct torture *t = *state;
	uint8_t *buf = sip_test_memdup(t->bytes, t->len);
	struct dp_sip_msg *m = calloc(1, sizeof(*m));
	enum dp_sip_verdict v;

	assert_non_null(m);
	v = dp_sip_scan(buf, (uint32_t)t->len, m);
	if (t->deviation) {
		if (v == t->want) {
			print_error("%s (RFC 4475 §%s): known deviation fixed (now %s): "
				    "drop .deviation and add its fields\n",
				    t->name, t->section, dp_sip_verdict_name(v));
			fail();
		}
		if (v != t->now) {
			print_error("%s (RFC 4475 §%s): verdict %s, known deviation gave %s "
				    "(RFC: %s)\n",
				    t->name, t->section, dp_sip_verdict_name(v),
				    dp_sip_verdict_name(t->now), dp_sip_verdict_name(t->want));
			fail();
		}
		print_message("%s: known deviation: %s, RFC 4475 expects %s\n", t->name,
			      dp_sip_verdict_name(v), dp_sip_verdict_name(t->want));
	} else {
		if (v != t->want) {
			print_error("%s (RFC 4475 §%s): verdict %s, expected %s\n", t->name,
				    t->section, dp_sip_verdict_name(v),
				    dp_sip_verdict_name(t->want));
			fail();
		}
		if (v == DP_SIP_OK)
			check_accepted(t, buf, m);
	}
	free(m);
	free(buf);
}

/*
 * Every prefix of every message is a truncated datagram: none may be
 * accepted unless it still holds the whole message (dblreq's surplus, or
 * bodies without Content-Length), and none may be read past its end.
 */
static void test_torture_prefixes(void **state)
{
	struct dp_sip_msg *m = calloc(1, sizeof(*m));

	(void)state;
	assert_non_null(m);
	for (size_t i = 0; i < N(cases); i++) {
		const struct torture *t = &cases[i];
		uint32_t whole = t->msg_len != 0 ? t->msg_len : (uint32_t)t->len;

		for (size_t n = 0; n < t->len; n++) {
			uint8_t *buf = sip_test_memdup(t->bytes, n);
			enum dp_sip_verdict v = dp_sip_scan(buf, (uint32_t)n, m);

			if (v == DP_SIP_OK && t->want == DP_SIP_OK && !t->deviation &&
			    m->content_length >= 0 && n < whole) {
				print_error("%s: prefix of %zu bytes accepted\n", t->name, n);
				fail();
			}
			free(buf);
		}
	}
	free(m);
}

/*
 * intmeth with its three quoted control bytes replaced by letters: what is
 * left (a method and a Request-URI password built from every allowed
 * character, token display names, a UTF-8 header parameter and header
 * value) must scan with the right fields.
 */
static void test_intmeth_fields(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
	char tmp[sizeof(m_intmeth)];
	const char *to = strstr(m_intmeth, "To: ");
	size_t patched = 0;

	memcpy(tmp, m_intmeth, sizeof(tmp));
	for (size_t i = (size_t)(to - m_intmeth); tmp[i] != '\r'; i++) {
		if (tmp[i] == 0x07 || tmp[i] == 0x00 || tmp[i] == 0x7f) {
			tmp[i] = 'x';
			patched++;
		}
	}
	assert_int_equal(patched, 3);
	assert_verdict(scan_mem(s, tmp, sizeof(tmp) - 1), DP_SIP_OK);
	assert_int_equal(m->method, DP_SIP_M_OTHER);
	assert_slice(s, m->method_name, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_slice(s, m->cseq_method_name, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_int_equal(m->cseq, 139122385);
	/* The scanner does not split user and password: userinfo is all of it. */
	assert_slice(s, m->ruri.user,
		     "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_"
		     "too.(doesn't-it)");
	assert_slice(s, m->ruri.host, "example.com");
	assert_slice(s, m->via.transport, "TCP");
	assert_slice(s, m->via.branch, "z9hG4bK-.!%66*_+`'~");
	assert_slice(s, m->to.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_slice(s, m->from.uri.user, "mundane");
	assert_slice(s, m->from.tag, "_token~1'+`*%!-.");
	assert_slice(s, m->call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	assert_int_equal(m->max_forwards, 255);
	assert_int_equal(m->content_length, 0);
	assert_slice(s, m->hdrs[6].name, "extensionHeader-!.%*+_`'~");
	assert_slice(s, m->hdrs[6].value, "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb");
}

/* wsinv beyond the table: folds, odd spacing, compact names, leading zeros. */
static void test_wsinv_fields(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;

	assert_verdict(scan_mem(s, m_wsinv, sizeof(m_wsinv) - 1), DP_SIP_OK);
	assert_slice(s, m->ruri.params, "unknownparam");
	assert_int_equal(m->max_forwards, 68);
	assert_int_equal(m->cseq_method, DP_SIP_M_INVITE);
	assert_int_equal(m->content_length, 150);
	assert_slice(s, m->via.transport, "UDP");
	assert_slice(s, m->via.host, "192.0.2.2");
	assert_int_equal(m->via.port, 0);
	assert_slice(s, m->to.uri.host, "chair-dnrc.example.com");
	assert_slice(s, m->from.uri.user, "jdrosen");
	assert_int_equal(m->nhdrs, 14);
	/* "s :" is an empty Subject; a folded value keeps its fold (zero copy). */
	assert_slice(s, m->hdrs[7].name, "s");
	assert_int_equal(m->hdrs[7].value.len, 0);
	assert_slice(s, m->hdrs[8].value, "newfangled value\r\n continued newfangled value");
	assert_slice(s, m->hdrs[9].value, ";;,,;;,;");
	assert_int_equal(m->hdrs[12].id, DP_SIP_H_VIA);
	assert_slice(s, m->hdrs[12].name, "v");
	assert_int_equal(m->hdrs[13].id, DP_SIP_H_CONTACT);
	assert_slice(s, m->hdrs[13].name, "m");
}

/* esc02: "%" escapes nothing in a method or a header name (C%6Fntact is not Contact). */
static void test_esc02_percent_is_not_an_escape(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
	unsigned contacts = 0;

	assert_verdict(scan_mem(s, m_esc02, sizeof(m_esc02) - 1), DP_SIP_OK);
	assert_int_equal(m->method, DP_SIP_M_OTHER);
	for (unsigned i = 0; i < m->nhdrs; i++)
		contacts += m->hdrs[i].id == DP_SIP_H_CONTACT;
	assert_int_equal(contacts, 2);
	assert_slice(s, m->hdrs[7].name, "C%6Fntact");
	assert_int_equal(m->hdrs[7].id, DP_SIP_H_OTHER);
}

/* mpart01: the body, NULs and all, is framed by Content-Length alone. */
static void test_mpart01_binary_body(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;
	static const char tail[] = "\r\n--7a9cbec02ceef655--\r\n";

	assert_verdict(scan_mem(s, m_mpart01, sizeof(m_mpart01) - 1), DP_SIP_OK);
	assert_int_equal(m->body.len, 553);
	assert_non_null(memchr(s->buf + m->body.off, 0, m->body.len));
	assert_memory_equal(s->buf + m->msg_len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	assert_int_equal(m->via.rport, 0);
	assert_int_equal(m->via.port, 5070);
}

/* inv2543: no Content-Length over UDP, so the body is the rest of the datagram. */
static void test_inv2543_body_to_end(void **state)
{
	struct sc *s = *state;
	const struct dp_sip_msg *m = &s->msg;

	assert_verdict(scan_mem(s, m_inv2543, sizeof(m_inv2543) - 1), DP_SIP_OK);
	assert_int_equal(m->content_length, -1);
	assert_int_equal(m->max_forwards, -1);
	assert_int_equal(m->body.len, 105);
	assert_int_equal(m->msg_len, sizeof(m_inv2543) - 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, sc_setup, sc_teardown)
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_torture_prefixes),
		T(test_intmeth_fields),
		T(test_wsinv_fields),
		T(test_esc02_percent_is_not_an_escape),
		T(test_mpart01_binary_body),
		T(test_inv2543_body_to_end),
	};
#undef T
	struct CMUnitTest tests[N(cases) + N(fixed)];
	char names[N(cases)][32];

	/* One cmocka test per message, named after it, so a failure names the message. */
	for (size_t i = 0; i < N(cases); i++) {
		snprintf(names[i], sizeof(names[i]), "rfc4475_%s", cases[i].name);
		tests[i] = (struct CMUnitTest){.name = names[i],
					       .test_func = test_torture,
					       .initial_state = (void *)(uintptr_t)&cases[i]};
	}
	for (size_t i = 0; i < N(fixed); i++)
		tests[N(cases) + i] = fixed[i];
	return _cmocka_run_group_tests("sip_torture", tests, N(tests), NULL, NULL);
}
