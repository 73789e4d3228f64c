/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixture table for the fields a registrar and a router read: Contact (URI,
 * expires, +sip.instance, reg-id, several values, "*"), push addresses in
 * each syntax (RFC 8599, legacy pn-type / pn-tok, X-Push), Expires, first
 * Route / Record-Route, User-Agent. Each row is {name, headers, verdict,
 * expected fields}; the headers go into a REGISTER (or INVITE) skeleton.
 * Then a registrar's answers, which may repeat expires or carry a Contact
 * or Expires that does not parse and still reach the control plane.
 */
#include "sip_test_util.h"

/* Rows list only the fields they check; the rest are zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define REG_HEAD                                                      \
	"REGISTER sip:example.com SIP/2.0\r\n"                        \
	"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-r1;rport\r\n" \
	"From: <sip:alice@example.com>;tag=f1\r\n"                    \
	"To: <sip:alice@example.com>\r\n"                             \
	"Call-ID: reg-1@192.0.2.7\r\n"                                \
	"CSeq: 7 REGISTER\r\n"                                        \
	"Max-Forwards: 70\r\n"
#define TAIL "Content-Length: 0\r\n\r\n"
/* From on, for requests whose start line and Via the test writes itself. */
#define REG_HEAD_TAIL                                                                     \
	"From: <sip:b@example.com>;tag=f1\r\nTo: <sip:a@example.com>\r\nCall-ID: p-1\r\n" \
	"CSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n"

struct want_pn {
	uint8_t form;
	const char *provider, *prid, *param;
	uint8_t flags; /* SIP_PN_DUP */
};

struct row {
	const char *name;
	const char *hdrs; /* inserted between REG_HEAD and TAIL */
	enum sip_verdict verdict;
	/* expectations, checked when verdict is SIP_SCAN_OK */
	unsigned n_contacts;
	const char *contact_uri; /* NULL: not checked */
	int32_t c_expires, reg_id;
	const char *instance;
	struct want_pn pn, xpush;
	int32_t expires;
	const char *route, *rr, *ua;
	uint8_t star;
};

static const struct row rows[] = {
	{"rfc8599",
	 "Contact: <sip:alice@192.0.2.7:5062;transport=udp;pn-provider=apns;"
	 "pn-prid=00fc13adff78512;pn-param=ABCD1234.com.example.voip>;expires=600\r\n",
	 SIP_SCAN_OK,
	 1,
	 "sip:alice@192.0.2.7:5062;transport=udp;pn-provider=apns;pn-prid=00fc13adff78512;"
	 "pn-param=ABCD1234.com.example.voip",
	 600,
	 -1,
	 NULL,
	 {SIP_PN_RFC8599, "apns", "00fc13adff78512", "ABCD1234.com.example.voip"}},
	{"rfc8599 fcm, names in upper case",
	 "m: <sip:bob@198.51.100.9;PN-Provider=fcm;PN-PRID=tok:1;PN-Param=proj-7>\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {SIP_PN_RFC8599, "fcm", "tok:1", "proj-7"}},
	{"legacy linphone",
	 "Contact: <sip:carol@203.0.113.5:41000;app-id=org.linphone.phone;"
	 "pn-type=apple;pn-tok=abcdef0123;pn-timeout=0>\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {SIP_PN_LEGACY, "apple", "abcdef0123", "org.linphone.phone"}},
	{"standard wins over legacy",
	 "Contact: <sip:d@h;pn-type=apple;pn-tok=old;pn-provider=apns;pn-prid=new>\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {SIP_PN_RFC8599, "apns", "new", NULL}},
	{"addr-spec: pn params are header params",
	 "Contact: sip:e@192.0.2.1;pn-provider=apns;pn-prid=t1;expires=30\r\n",
	 SIP_SCAN_OK,
	 1,
	 "sip:e@192.0.2.1",
	 30,
	 -1,
	 NULL,
	 {SIP_PN_RFC8599, "apns", "t1", NULL}},
	{"x-push",
	 "Contact: <sip:f@192.0.2.8:5060>\r\n"
	 "X-Push: "
	 "device-os=ios;device-uid=deadbeef;allow-call-push=true;app-id=com.portsip.app\r\n",
	 SIP_SCAN_OK,
	 1,
	 "sip:f@192.0.2.8:5060",
	 -1,
	 -1,
	 NULL,
	 {0, NULL, NULL, NULL},
	 {SIP_PN_XPUSH, "ios", "deadbeef", "com.portsip.app"}},
	{"x-push refusing call pushes",
	 "Contact: <sip:f@192.0.2.8>\r\n"
	 "x-push: device-os=android;device-uid=t;allow-call-push=false\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0, NULL, NULL, NULL},
	 {SIP_PN_NONE, NULL, NULL, NULL}},
	{"outbound instance and reg-id",
	 "Contact: \"Alice\" <sip:alice@192.0.2.7:5062;ob>;reg-id=1;"
	 "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";expires=3600\r\n",
	 SIP_SCAN_OK, 1, "sip:alice@192.0.2.7:5062;ob", 3600, 1,
	 "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"},
	{"two values, two fields",
	 "Contact: <sip:a@h1>;expires=10, <sip:a@h2>\r\nContact: sip:a@h3\r\n", SIP_SCAN_OK, 3,
	 "sip:a@h1", 10, -1},
	{"folded contact list", "Contact: <sip:a@h1>;\r\n expires=5,\r\n\t<sip:a@h2>\r\n",
	 SIP_SCAN_OK, 2, "sip:a@h1", 5, -1},
	{"star with Expires 0",
	 "Contact: *\r\nExpires: 0\r\n",
	 SIP_SCAN_OK,
	 0,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0},
	 {0},
	 0,
	 NULL,
	 NULL,
	 NULL,
	 1},
	{"Expires header",
	 "Contact: <sip:a@h>\r\nExpires: 3600\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0},
	 {0},
	 3600},
	{"Expires saturates",
	 "Expires: 99999999999\r\n",
	 SIP_SCAN_OK,
	 0,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0},
	 {0},
	 INT32_MAX},
	{"route, record-route, user-agent",
	 "Route: <sip:edge.example.com;lr>, <sip:pbx.example.com;lr>\r\n"
	 "Record-Route: <sip:rr1.example.com;lr;ftag=x>\r\nRecord-Route: <sip:rr2;lr>\r\n"
	 "User-Agent: Acme Phone/1.2 (iOS 17)\r\n",
	 SIP_SCAN_OK,
	 0,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0},
	 {0},
	 -1,
	 "sip:edge.example.com;lr",
	 "sip:rr1.example.com;lr;ftag=x",
	 "Acme Phone/1.2 (iOS 17)"},
	/* malformed */
	{"star and a contact", "Contact: *, <sip:a@h>\r\n", SIP_ERR_BAD_CONTACT},
	{"star after a contact", "Contact: <sip:a@h>\r\nContact: *\r\n", SIP_ERR_BAD_CONTACT},
	{"contact without URI", "Contact: \"x\"\r\n", SIP_ERR_BAD_CONTACT},
	{"contact unclosed <", "Contact: <sip:a@h;expires=1\r\n", SIP_ERR_BAD_CONTACT},
	{"contact expires not a number", "Contact: <sip:a@h>;expires=soon\r\n",
	 SIP_ERR_BAD_CONTACT},
	{"contact expires twice", "Contact: <sip:a@h>;expires=1;expires=2\r\n",
	 SIP_ERR_BAD_CONTACT},
	{"reg-id zero", "Contact: <sip:a@h>;reg-id=0\r\n", SIP_ERR_BAD_CONTACT},
	{"instance unquoted", "Contact: <sip:a@h>;+sip.instance=urn\r\n", SIP_ERR_BAD_CONTACT},
	{"empty list element", "Contact: <sip:a@h>,,<sip:b@h>\r\n", SIP_ERR_BAD_CONTACT},
	{"trailing comma", "Contact: <sip:a@h>,\r\n", SIP_ERR_BAD_CONTACT},
	{"bad URI host", "Contact: <sip:a@bad host>\r\n", SIP_ERR_BAD_CONTACT},
	{"Expires not a number", "Expires: 10s\r\n", SIP_ERR_BAD_EXPIRES},
	{"Expires twice", "Expires: 10\r\nExpires: 20\r\n", SIP_ERR_DUP_HEADER},
	/* PortSIP's SDKs send x-p-push and portsip-push with one value: taken.
	 * Two that differ are flagged, for the registrar to refuse. */
	{"x-p-push and portsip-push, one value",
	 "Contact: <sip:f@192.0.2.8>\r\n"
	 "x-p-push: device-os=ios;device-uid=aa|bb;app-id=com.p\r\n"
	 "portsip-push: device-os=ios;device-uid=aa|bb;app-id=com.p\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0, NULL, NULL, NULL, 0},
	 {SIP_PN_XPUSH, "ios", "aa|bb", "com.p", 0}},
	{"X-Push twice, values differ",
	 "Contact: <sip:f@192.0.2.8>\r\n"
	 "X-Push: device-os=ios;device-uid=a\r\nX-Push: device-os=ios;device-uid=b\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0, NULL, NULL, NULL, 0},
	 {SIP_PN_XPUSH, "ios", "a", NULL, SIP_PN_DUP}},
	{"pn-prid twice",
	 "Contact: <sip:a@192.0.2.7;pn-provider=apns;pn-prid=aa;pn-param=T.b.voip;pn-prid=bb>\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {SIP_PN_RFC8599, "apns", "bb", "T.b.voip", SIP_PN_DUP}},
	{"device-uid twice in one X-Push",
	 "Contact: <sip:f@192.0.2.8>\r\n"
	 "X-Push: device-os=ios;device-uid=a;device-uid=b\r\n",
	 SIP_SCAN_OK,
	 1,
	 NULL,
	 -1,
	 -1,
	 NULL,
	 {0, NULL, NULL, NULL, 0},
	 {SIP_PN_XPUSH, "ios", "b", NULL, SIP_PN_DUP}},
	{"route without brackets", "Route: sip:p1;lr\r\n", SIP_ERR_BAD_ROUTE},
	{"record-route garbage after", "Record-Route: <sip:p1;lr> junk\r\n", SIP_ERR_BAD_ROUTE},
};

static void check_pn(struct sc *s, const struct sip_push *got, const struct want_pn *w,
		     const char *name)
{
	if (got->form != w->form) {
		print_error("%s: push form %u, expected %u\n", name, got->form, w->form);
		fail();
	}
	if (w->provider != NULL)
		assert_slice(s, got->provider, w->provider);
	if (w->prid != NULL)
		assert_slice(s, got->prid, w->prid);
	if (w->param != NULL)
		assert_slice(s, got->param, w->param);
	if (got->flags != w->flags) {
		print_error("%s: push flags %u, expected %u\n", name, got->flags, w->flags);
		fail();
	}
}

static void test_rows(void **state)
{
	struct sc *s = *state;

	for (size_t i = 0; i < N(rows); i++) {
		const struct row *r = &rows[i];
		const struct sip_msg *m = &s->msg;
		char text[2048];
		int n = snprintf(text, sizeof(text), "%s%s%s", REG_HEAD, r->hdrs, TAIL);
		enum sip_verdict v;

		assert_true(n > 0 && (size_t)n < sizeof(text));
		v = scan(s, text);
		if (v != r->verdict) {
			print_error("row \"%s\": verdict %s, expected %s\n", r->name,
				    sip_verdict_name(v), sip_verdict_name(r->verdict));
			fail();
		}
		if (v != SIP_SCAN_OK)
			continue;
		assert_int_equal(m->n_contacts, r->n_contacts);
		assert_int_equal(m->contact_star, r->star);
		if (r->contact_uri != NULL)
			assert_slice(s, m->contact.uri.whole, r->contact_uri);
		if (r->n_contacts > 0) {
			assert_int_equal(m->contact.expires, r->c_expires);
			assert_int_equal(m->contact.reg_id, r->reg_id);
			assert_slice(s, m->contact.instance, r->instance ? r->instance : "");
			check_pn(s, &m->contact.pn, &r->pn, r->name);
		}
		check_pn(s, &m->xpush, &r->xpush, r->name);
		assert_int_equal(m->expires, r->expires == 0 && !r->star ? -1 : r->expires);
		assert_slice(s, m->route.whole, r->route ? r->route : "");
		assert_slice(s, m->record_route.whole, r->rr ? r->rr : "");
		assert_slice(s, m->user_agent, r->ua ? r->ua : "");
	}
}

/* What a stateless proxy reads beyond the scan: the Via and Route values
 * below the first, where the rport and the second Route value are, and the
 * push address of a Request-URI (dataplane/dp_fwd.c). */
static void test_proxy_helpers(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	struct sip_via via;
	struct sip_uri uri;
	struct sip_push pn;
	uint16_t next;

	assert_verdict(scan(s, "INVITE sip:a@192.0.2.1;transport=udp;pn-provider=fcm;"
			       "pn-prid=t%3A1;pn-param=proj SIP/2.0\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.9;rport;branch=z9hG4bK-1 , "
			       "SIP/2.0/UDP [2001:db8::5]:5070;rport=5071;received=2001:db8::6;"
			       "branch=z9hG4bK-2\r\n"
			       "Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK-3\r\n"
			       "Route: <sip:192.0.2.1;lr>;x=\"a,b\",\r\n <sip:192.0.2.5;lr>\r\n"
			       "Route: <sip:192.0.2.6;lr>\r\n" REG_HEAD_TAIL),
		       SIP_SCAN_OK);
	assert_slice(s, m->via.rport_param, "rport");
	assert_int_equal(m->via.rport, 0);
	/* The second via-parm of the top field. */
	assert_int_equal(sip_via_first(s->buf, m->hdrs[0].value, &via, &next), SIP_SCAN_OK);
	assert_slice(s, via.branch, "z9hG4bK-1");
	assert_int_equal(
		sip_via_first(s->buf,
			      (struct sip_slice){next, (uint16_t)(m->hdrs[0].value.off +
								  m->hdrs[0].value.len - next)},
			      &via, &next),
		SIP_SCAN_OK);
	assert_slice(s, via.host, "2001:db8::5");
	assert_slice(s, via.received, "2001:db8::6");
	assert_slice(s, via.rport_param, "rport=5071");
	assert_int_equal(via.rport, 5071);
	assert_int_equal(via.port, 5070);
	assert_int_equal(next, m->hdrs[0].value.off + m->hdrs[0].value.len);
	assert_int_equal(sip_via_first(s->buf, m->hdrs[1].value, &via, &next), SIP_SCAN_OK);
	assert_slice(s, via.host, "h.example.com");
	/* Route: the value after the first (a quoted "," in a parameter is not a comma). */
	assert_slice(s, m->route.host, "192.0.2.1");
	assert_int_equal(
		sip_route_first(s->buf,
				(struct sip_slice){m->route_next, (uint16_t)(m->hdrs[2].value.off +
									     m->hdrs[2].value.len -
									     m->route_next)},
				&uri, &next),
		SIP_SCAN_OK);
	assert_slice(s, uri.whole, "sip:192.0.2.5;lr");
	assert_int_equal(next, m->hdrs[2].value.off + m->hdrs[2].value.len);
	assert_int_equal(sip_route_first(s->buf, m->hdrs[3].value, &uri, &next), SIP_SCAN_OK);
	assert_slice(s, uri.host, "192.0.2.6");
	assert_int_equal(next, m->hdrs[3].value.off + m->hdrs[3].value.len);
	/* The Request-URI's push address, escapes left as written. */
	sip_push_from_params(s->buf, m->ruri.params, &pn);
	assert_int_equal(pn.form, SIP_PN_RFC8599);
	assert_slice(s, pn.provider, "fcm");
	assert_slice(s, pn.prid, "t%3A1");
	assert_slice(s, pn.param, "proj");
	sip_push_from_params(s->buf, (struct sip_slice){m->ruri.params.off, 13}, &pn);
	assert_int_equal(pn.form, SIP_PN_NONE); /* "transport=udp" alone */
	/* A single Route value: route_next is the field's end. */
	assert_verdict(scan(s, "INVITE sip:a@192.0.2.1 SIP/2.0\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-1\r\n"
			       "Route: <sip:192.0.2.1;lr>\r\n" REG_HEAD_TAIL),
		       SIP_SCAN_OK);
	assert_int_equal(m->route_next, m->hdrs[1].value.off + m->hdrs[1].value.len);
	assert_int_equal(m->via.rport, -1);
	assert_int_equal(m->via.rport_param.len, 0);
}

/* A registrar's answer: the fields a response to REGISTER may get wrong
 * without being refused (contact_bad, expires_bad), and what any other
 * response still is refused for. */
#define ANSWER_HEAD(cseq_method)                                   \
	"SIP/2.0 200 OK\r\n"                                       \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-swCr1\r\n" \
	"From: <sip:alice@example.com>;tag=f1\r\n"                 \
	"To: <sip:alice@example.com>;tag=t1\r\n"                   \
	"Call-ID: reg-1@192.0.2.7\r\n"                             \
	"CSeq: 7 " cseq_method "\r\n"

static void test_register_answers(void **state)
{
	struct sc *s = *state;
	const struct sip_msg *m = &s->msg;
	struct sip_contact cs[4];

	/* expires= repeated: the smallest, and whether they differ. */
	assert_verdict(
		scan(s, ANSWER_HEAD(
				"REGISTER") "Contact: <sip:a@h>;expires=600;expires=3600\r\n" TAIL),
		SIP_SCAN_OK);
	assert_int_equal(m->contact.expires, 600);
	assert_int_equal(m->contact.expires_differ, 1);
	assert_int_equal(m->contact_bad, 0);
	assert_verdict(
		scan(s,
		     ANSWER_HEAD("REGISTER") "Contact: <sip:a@h>;expires=300;EXPIRES=300\r\n" TAIL),
		SIP_SCAN_OK);
	assert_int_equal(m->contact.expires, 300);
	assert_int_equal(m->contact.expires_differ, 0);
	assert_int_equal(sip_contacts(s->buf, m->hdrs[5].value, cs, 4), 1);
	assert_int_equal(cs[0].expires, 300);
	/* Any response may repeat it (3xx give expires= too, §20.10). */
	assert_verdict(
		scan(s, ANSWER_HEAD("INVITE") "Contact: <sip:a@h>;expires=9;expires=8\r\n" TAIL),
		SIP_SCAN_OK);
	assert_int_equal(m->contact.expires, 8);
	/* A Contact that does not parse: kept as a fault, for REGISTER only. */
	assert_verdict(
		scan(s,
		     ANSWER_HEAD("REGISTER") "Contact: <sip:a@h>;expires=1;expires=soon\r\n" TAIL),
		SIP_SCAN_OK);
	assert_int_equal(m->contact_bad, 1);
	assert_int_equal(m->n_contacts, 0);
	assert_int_equal(sip_contacts(s->buf, m->hdrs[5].value, cs, 4), -1);
	assert_verdict(scan(s, ANSWER_HEAD("REGISTER") "Contact: <sip:a@h>, <sip:b@bad host>\r\n"
						       "Contact: *\r\n" TAIL),
		       SIP_SCAN_OK);
	assert_int_equal(m->contact_bad, 1);
	assert_int_equal(m->n_contacts, 0);
	assert_int_equal(m->contact_star, 0);
	assert_verdict(scan(s, ANSWER_HEAD("INVITE") "Contact: <sip:a@bad host>\r\n" TAIL),
		       SIP_ERR_BAD_CONTACT);
	/* The CSeq after the fault: judged when it comes, the first fault named. */
	assert_verdict(scan(s, "SIP/2.0 200 OK\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-swCr1\r\n"
			       "Contact: <sip:a@bad host>\r\nExpires: x\r\n"
			       "From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c\r\n"
			       "CSeq: 1 OPTIONS\r\n" TAIL),
		       SIP_ERR_BAD_CONTACT);
	assert_verdict(scan(s, "SIP/2.0 200 OK\r\n"
			       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-swCr1\r\n"
			       "Contact: <sip:a@bad host>\r\nFrom: <sip:a@h>;tag=1\r\n"
			       "From: <sip:a@h>;tag=2\r\n" TAIL),
		       SIP_ERR_BAD_CONTACT);
	/* Expires: one that does not parse, two that do (the smallest), two where one does not. */
	assert_verdict(
		scan(s, ANSWER_HEAD("REGISTER") "Contact: <sip:a@h>\r\nExpires: soon\r\n" TAIL),
		SIP_SCAN_OK);
	assert_int_equal(m->expires_bad, 1);
	assert_int_equal(m->expires, -1);
	assert_int_equal(m->n_contacts, 1);
	assert_verdict(scan(s, ANSWER_HEAD("REGISTER") "Expires: 240\r\nExpires: 60\r\n" TAIL),
		       SIP_SCAN_OK);
	assert_int_equal(m->expires_bad, 0);
	assert_int_equal(m->expires, 60);
	assert_verdict(scan(s, ANSWER_HEAD("REGISTER") "Expires: 240\r\nExpires: 6x\r\n" TAIL),
		       SIP_SCAN_OK);
	assert_int_equal(m->expires_bad, 1);
	assert_int_equal(m->expires, -1);
	assert_verdict(scan(s, ANSWER_HEAD("INVITE") "Expires: 240\r\nExpires: 60\r\n" TAIL),
		       SIP_ERR_DUP_HEADER);
	/* Requests are refused as before: two hops must read one binding. */
	assert_verdict(scan(s, REG_HEAD "Contact: <sip:a@h>;expires=1;expires=1\r\n" TAIL),
		       SIP_ERR_BAD_CONTACT);
	assert_verdict(scan(s, REG_HEAD "Expires: 1\r\nExpires: 1\r\n" TAIL), SIP_ERR_DUP_HEADER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows, sc_setup, sc_teardown),
		cmocka_unit_test_setup_teardown(test_proxy_helpers, sc_setup, sc_teardown),
		cmocka_unit_test_setup_teardown(test_register_answers, sc_setup, sc_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
