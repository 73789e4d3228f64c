/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 4475 torture messages through the SIP scanner (sip/sip_scan.h).
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

#include "rfc4475_valid.h"
#include "rfc4475_invalid.h"

/* One RFC 4475 message and what the scanner must make of it. */
struct torture {
	const char *name;    /* file name in the RFC's archive, without ".dat" */
	const char *section; /* RFC 4475 section */
	const char *bytes;
	size_t len;
	enum sip_verdict want; /* the verdict the scanner must give */
	bool deviation;	       /* known deviation: the scanner gives @now instead */
	enum sip_verdict now;
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
#define REQ(n, sec, m, meth, host, cid, cs, br, ft, tt)                                       \
	{                                                                                     \
		.name = (n), .section = (sec), MSG(m), .want = SIP_SCAN_OK, .method = (meth), \
		.ruri_host = (host), .call_id = (cid), .cseq = (cs), .branch = (br),          \
		.from_tag = (ft), .to_tag = (tt)                                              \
	}
#define RSP(n, sec, m, st, meth, cid, cs, br, ft, tt)                                             \
	{                                                                                         \
		.name = (n), .section = (sec), MSG(m), .want = SIP_SCAN_OK, .method = (meth),     \
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
	 .want = SIP_SCAN_OK,
	 .deviation = true,
	 .now = SIP_ERR_BAD_CHAR},
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
	 .want = SIP_SCAN_OK,
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
	REJECT("badinv01", "3.1.2.1", m_badinv01, SIP_ERR_BAD_VIA),
	REJECT("clerr", "3.1.2.2", m_clerr, SIP_ERR_BAD_CONTENT_LENGTH),
	REJECT("ncl", "3.1.2.3", m_ncl, SIP_ERR_BAD_CONTENT_LENGTH),
	/* CSeq comes before the bad Max-Forwards and Expires: the RFC's 400 is for CSeq. */
	REJECT("scalar02", "3.1.2.4", m_scalar02, SIP_ERR_BAD_CSEQ),
	REJECT("scalarlg", "3.1.2.5", m_scalarlg, SIP_ERR_BAD_CSEQ),
	REJECT("quotbal", "3.1.2.6", m_quotbal, SIP_ERR_BAD_NAMEADDR),
	REJECT("ltgtruri", "3.1.2.7", m_ltgtruri, SIP_ERR_BAD_URI),
	/* The URI ends at the first SP, so "lr SIP/2.0" is not a SIP-Version. */
	REJECT("lwsruri", "3.1.2.8", m_lwsruri, SIP_ERR_BAD_START_LINE),
	REJECT("lwsstart", "3.1.2.9", m_lwsstart, SIP_ERR_BAD_START_LINE),
	REJECT("trws", "3.1.2.10", m_trws, SIP_ERR_BAD_START_LINE),
	REJECT("escruri", "3.1.2.11", m_escruri, SIP_ERR_BAD_URI),
	/* Accepted by design: see the list at the top. */
	REQ("baddate", "3.1.2.12", m_baddate, "INVITE", "example.com",
	    "baddate.239423mnsadf3j23lj42--sedfnm234", 1392934, "z9hG4bKkdjuw", "2234923", ""),
	REJECT("regbadct", "3.1.2.13", m_regbadct, SIP_ERR_BAD_CONTACT),
	REJECT("badaspec", "3.1.2.14", m_badaspec, SIP_ERR_BAD_NAMEADDR),
	REJECT("baddn", "3.1.2.15", m_baddn, SIP_ERR_BAD_NAMEADDR),
	REJECT("badvers", "3.1.2.16", m_badvers, SIP_ERR_BAD_START_LINE),
	REJECT("mismatch01", "3.1.2.17", m_mismatch01, SIP_ERR_BAD_CSEQ),
	REJECT("mismatch02", "3.1.2.18", m_mismatch02, SIP_ERR_BAD_CSEQ),
	REJECT("bigcode", "3.1.2.19", m_bigcode, SIP_ERR_BAD_START_LINE),

	/* §3.2 transaction layer */
	REQ("badbranch", "3.2.1", m_badbranch, "OPTIONS", "example.com",
	    "badbranch.sadonfo23i420jv0as0derf3j3n", 8, "z9hG4bK", "33242", ""),

	/* §3.3 application layer */
	REJECT("insuf", "3.3.1", m_insuf, SIP_ERR_MISSING_HEADER),
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
	REJECT("multi01", "3.3.8", m_multi01, SIP_ERR_DUP_HEADER),
	REJECT("mcl01", "3.3.9", m_mcl01, SIP_ERR_DUP_HEADER),
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

static void check_field(const struct torture *t, const uint8_t *buf, struct sip_slice sl,
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
static void check_accepted(const struct torture *t, const uint8_t *buf, const struct sip_msg *m)
{
	uint32_t msg_len = t->msg_len != 0 ? t->msg_len : (uint32_t)t->len;

	assert_int_equal(m->is_request, t->status == 0);
	if (m->is_request) {
		check_field(t, buf, m->method_name, "method", t->method);
		assert_int_equal(m->method,
				 sip_method_from((const uint8_t *)t->method, strlen(t->method)));
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
	assert_true(m->nhdrs > 0 && m->nhdrs <= SIP_MAX_HDRS);
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
	struct sip_msg *m = calloc(1, sizeof(*m));
	enum sip_verdict v;

	assert_non_null(m);
	v = sip_scan(buf, (uint32_t)t->len, m);
	if (t->deviation) {
		if (v == t->want) {
			print_error("%s (RFC 4475 §%s): known deviation fixed (now %s): "
				    "drop .deviation and add its fields\n",
				    t->name, t->section, sip_verdict_name(v));
			fail();
		}
		if (v != t->now) {
			print_error("%s (RFC 4475 §%s): verdict %s, known deviation gave %s "
				    "(RFC: %s)\n",
				    t->name, t->section, sip_verdict_name(v),
				    sip_verdict_name(t->now), sip_verdict_name(t->want));
			fail();
		}
		print_message("%s: known deviation: %s, RFC 4475 expects %s\n", t->name,
			      sip_verdict_name(v), sip_verdict_name(t->want));
	} else {
		if (v != t->want) {
			print_error("%s (RFC 4475 §%s): verdict %s, expected %s\n", t->name,
				    t->section, sip_verdict_name(v), sip_verdict_name(t->want));
			fail();
		}
		if (v == SIP_SCAN_OK)
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
	struct sip_msg *m = calloc(1, sizeof(*m));

	(void)state;
	assert_non_null(m);
	for (size_t i = 0; i < N(cases); i++) {
		const struct torture *t = &cases[i];
		uint32_t whole = t->msg_len != 0 ? t->msg_len : (uint32_t)t->len;

		for (size_t n = 0; n < t->len; n++) {
			uint8_t *buf = sip_test_memdup(t->bytes, n);
			enum sip_verdict v = sip_scan(buf, (uint32_t)n, m);

			if (v == SIP_SCAN_OK && t->want == SIP_SCAN_OK && !t->deviation &&
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
	const struct sip_msg *m = &s->msg;
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
	assert_verdict(scan_mem(s, tmp, sizeof(tmp) - 1), SIP_SCAN_OK);
	assert_int_equal(m->method, SIP_M_OTHER);
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
	const struct sip_msg *m = &s->msg;

	assert_verdict(scan_mem(s, m_wsinv, sizeof(m_wsinv) - 1), SIP_SCAN_OK);
	assert_slice(s, m->ruri.params, "unknownparam");
	assert_int_equal(m->max_forwards, 68);
	assert_int_equal(m->cseq_method, SIP_M_INVITE);
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
	assert_int_equal(m->hdrs[12].id, SIP_H_VIA);
	assert_slice(s, m->hdrs[12].name, "v");
	assert_int_equal(m->hdrs[13].id, SIP_H_CONTACT);
	assert_slice(s, m->hdrs[13].name, "m");
}

/* esc02: "%" escapes nothing in a method or a header name (C%6Fntact is not Contact). */
static void test_esc02_percent_is_not_an_escape(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	unsigned contacts = 0;

	assert_verdict(scan_mem(s, m_esc02, sizeof(m_esc02) - 1), SIP_SCAN_OK);
	assert_int_equal(m->method, SIP_M_OTHER);
	for (unsigned i = 0; i < m->nhdrs; i++)
		contacts += m->hdrs[i].id == SIP_H_CONTACT;
	assert_int_equal(contacts, 2);
	assert_slice(s, m->hdrs[7].name, "C%6Fntact");
	assert_int_equal(m->hdrs[7].id, SIP_H_OTHER);
}

/* mpart01: the body, NULs and all, is framed by Content-Length alone. */
static void test_mpart01_binary_body(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	static const char tail[] = "\r\n--7a9cbec02ceef655--\r\n";

	assert_verdict(scan_mem(s, m_mpart01, sizeof(m_mpart01) - 1), SIP_SCAN_OK);
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
	const struct sip_msg *m = &s->msg;

	assert_verdict(scan_mem(s, m_inv2543, sizeof(m_inv2543) - 1), SIP_SCAN_OK);
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
