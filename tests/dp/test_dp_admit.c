/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The admission classes of unknown sources (dataplane/dp_admit.c,
 * docs/admission.md) through the worker's whole pipeline
 * (tests/dp/dp_harness.h), with budgets small enough to empty and a clock
 * that stands still (no refill) unless a test moves it:
 *  - a REGISTER naming a bound device (push address in any of the three
 *    forms, or +sip.instance) gets in from that device's budget while the
 *    newcomers' is empty, and no further than that budget;
 *  - a device a held call waits for counts as woken; its AOR lets in a
 *    REGISTER that names none of its devices;
 *  - newcomers are metered per source, per /24 and per box, and a prefix
 *    that floods does not shut out another;
 *  - scanners, malformed SIP and requests unknown sources may not send
 *    spend none of those budgets;
 *  - answers to unknown sources (403, 200 to OPTIONS, ICMP echo replies)
 *    come from one budget, and one whose next hop is unknown is marked for
 *    the control plane's stranger quota;
 *  - OPTIONS to sipwake with a user part is answered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tests/dp/dp_harness.h"

#define TOKEN	 "a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01"
#define TOKEN2	 "0badc0ffee0badc0ffee0badc0ffee0badc0ffee0badc0ffee0badc0ffee0bad"
#define INST	 "<urn:uuid:0f9e8d7c-6b5a-4c3d-8e1f-a2b3c4d5e6f7>" /* as the scan keeps it */
#define PN_PARAM "ABCD123456.com.example.voip"

static struct dph h;
static uint64_t now; /* rx time of every frame fed */
static uint64_t alice, bob;

/* ---- frames ---- */

static void feed(const char *src, uint16_t sport, const char *msg)
{
	struct dph_pkt p = {.src = src, .sport = sport, .payload = msg, .len = strlen(msg)};
	struct rte_mbuf *m;

	assert_int_equal(dph_build(&h, &p, &m, 1), 1);
	dph_rx(&h, &m, 1, now);
	urcu_qsbr_quiescent_state();
}

/* A REGISTER of @p user from @p src: Contact URI parameters @p uparams
 * (push address), Contact parameters @p cparams (+sip.instance), extra
 * header lines @p extra. */
static void reg2(const char *src, const char *user, const char *uparams, const char *cparams,
		 const char *extra)
{
	bool v6 = strchr(src, ':') != NULL;
	char msg[2048], host[64];

	snprintf(host, sizeof(host), v6 ? "[%s]" : "%s", src);
	snprintf(msg, sizeof(msg),
		 "REGISTER sip:example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:40000;branch=z9hG4bK-ad%u;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:%s@example.com>;tag=t1\r\n"
		 "To: <sip:%s@example.com>\r\n"
		 "Call-ID: admit-%u@%s\r\n"
		 "CSeq: 1 REGISTER\r\n"
		 "Contact: <sip:%s@%s:40000%s>%s;expires=3600\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 host, (unsigned)rte_rand(), user, user, (unsigned)rte_rand(), host, user, host,
		 uparams, cparams, extra);
	feed(src, 40000, msg);
}

static void reg(const char *src, const char *user, const char *uparams, const char *extra)
{
	reg2(src, user, uparams, "", extra);
}

#define PN_RFC8599 ";pn-provider=apns;pn-prid=" TOKEN ";pn-param=" PN_PARAM
#define CTR(c)	   dph_count(&h, DP_C_##c)
#define DROP(d)	   dph_drop(&h, DP_D_##d)

/* What was handed up since the last call; freed. */
static unsigned ups(void)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	while ((m = dph_up(&h)) != NULL) {
		n++;
		rte_pktmbuf_free(m);
	}
	return n;
}

/* What the port sent since the last call, freed; the first one's UDP
 * payload (or ICMP type) is checked against @p start when not NULL. */
static unsigned sent(const char *start)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	while ((m = dph_sent(&h)) != NULL) {
		if (n++ == 0 && start != NULL) {
			const char *p = rte_pktmbuf_mtod_offset(m, const char *,
								RTE_ETHER_HDR_LEN + 20 + 8);

			assert_memory_equal(p, start, strlen(start));
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

static void set_rates(struct dp_rates r)
{
	h.ctx->policy->rates = r;
}

/* Default-ish rates with one class made small. */
static struct dp_rates rates(void)
{
	return (struct dp_rates){.source = {1000, 1000},
				 .prefix = {1000, 1000},
				 .global = {1000, 1000},
				 .expected = {1000, 1000},
				 .answer = {1000, 1000}};
}

/* ---- set-up ---- */

static uint64_t bind_device(const char *aor, const char *contact, const char *instance,
			    const char *prid, const char *ip)
{
	struct sw_bind_rec r = {
		.aor = aor,
		.aor_len = (uint16_t)strlen(aor),
		.contact = contact,
		.contact_len = (uint16_t)strlen(contact),
		.instance = instance,
		.instance_len = (uint16_t)strlen(instance),
		.src = dph_ip(ip),
		.sport = 5078,
		.expires_at = INT64_MAX,
	};
	uint64_t id;

	if (prid != NULL) {
		r.pn_form = SW_PN_RFC8599;
		r.pn_provider = "apns";
		r.pn_provider_len = 4;
		r.pn_prid = prid;
		r.pn_prid_len = (uint16_t)strlen(prid);
		r.pn_param = PN_PARAM;
		r.pn_param_len = sizeof(PN_PARAM) - 1;
	}
	assert_int_equal(sw_bind_put(h.ctx->bind, &r, now, &id), 0);
	return id;
}

static int setup(void **state)
{
	char prefix[64];

	(void)state;
	snprintf(prefix, sizeof(prefix), "dpadm%d", (int)getpid());
	if (dph_init(&h, prefix) != 0)
		return -1;
	now = rte_rdtsc() + 1000 * rte_get_tsc_hz();
	h.ctx->bind = sw_bind_create(64, h.ctx->src);
	if (h.ctx->bind == NULL)
		return -1;
	/* alice: push address and instance; bob: instance only. Both bound at
	 * 198.18.0.2; their REGISTERs below come from elsewhere. */
	alice = bind_device("alice@example.com", "sip:alice@198.18.0.2:5078" PN_RFC8599, INST,
			    TOKEN, "198.18.0.2");
	bob = bind_device("bob@example.com", "sip:bob@198.18.0.2:5079", "<urn:uuid:b0b>", NULL,
			  "198.18.0.2");
	/* Strangers off-link are answered through the gateway, resolved. */
	{
		struct sw_ip gw = dph_ip("198.18.0.254");

		if (sw_neigh_update(h.ctx->neigh, h.port, &gw, &h.peer_mac, now) != 0)
			return -1;
	}
	urcu_qsbr_quiescent_state();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dph_fini(&h);
	return 0;
}

/* Each test starts with full buckets: a new clock far ahead refills all. */
static int fresh(void **state)
{
	(void)state;
	now += 3600 * rte_get_tsc_hz();
	h.ctx->policy->reply_403 = h.ctx->policy->reply_503 = false;
	set_rates(rates());
	ups();
	sent(NULL);
	return 0;
}

/* ---- expected REGISTERs ---- */

static void test_expected_while_newcomers_are_shut_out(void **state)
{
	struct dp_rates r = rates();
	uint64_t exp0 = CTR(SIP_REG_EXPECTED), glob0 = DROP(FILTER_RATE_GLOBAL);

	(void)state;
	r.global = (struct dp_rate){1, 1};
	set_rates(r);
	reg("203.0.113.7", "carl", "", "");
	assert_int_equal(ups(), 1); /* the box's one token */
	reg("203.0.113.8", "dora", "", "");
	assert_int_equal(ups(), 0);
	assert_int_equal(DROP(FILTER_RATE_GLOBAL), glob0 + 1);
	/* alice, woken on a new address, by her push address; bob by instance. */
	reg("100.64.9.9", "alice", PN_RFC8599, "");
	reg2("100.64.9.10", "bob", "", ";+sip.instance=\"<urn:uuid:b0b>\"", "");
	assert_int_equal(ups(), 2);
	assert_int_equal(CTR(SIP_REG_EXPECTED), exp0 + 2);
	assert_int_equal(DROP(FILTER_RATE_GLOBAL), glob0 + 1);
}

static void test_instance_with_a_new_token(void **state)
{
	uint64_t exp0 = CTR(SIP_REG_EXPECTED), new0 = CTR(SIP_REG_NEWCOMER);

	(void)state;
	/* A reinstalled app: a token sipwake never saw, the same instance. */
	reg2("100.64.9.11", "alice", ";pn-provider=apns;pn-prid=" TOKEN2 ";pn-param=" PN_PARAM,
	     ";+sip.instance=\"" INST "\"", "");
	assert_int_equal(ups(), 1);
	assert_int_equal(CTR(SIP_REG_EXPECTED), exp0 + 1);
	/* The same token without the instance names nobody: a newcomer. */
	reg("100.64.9.12", "alice", ";pn-provider=apns;pn-prid=" TOKEN2 ";pn-param=" PN_PARAM, "");
	assert_int_equal(ups(), 1);
	assert_int_equal(CTR(SIP_REG_EXPECTED), exp0 + 1);
	assert_int_equal(CTR(SIP_REG_NEWCOMER), new0 + 1);
}

static void test_legacy_and_xpush_forms(void **state)
{
	uint64_t exp0 = CTR(SIP_REG_EXPECTED);

	(void)state;
	/* The registrar keeps "apns" for pn-type=ios and X-Push device-os=ios
	 * (sw_pn_provider_alias()): the workers must key them the same. */
	reg("100.64.9.13", "alice", ";pn-type=ios;pn-tok=" TOKEN ";app-id=" PN_PARAM, "");
	reg("100.64.9.14", "alice", "",
	    "X-Push: device-os=iOS;device-uid=" TOKEN ";app-id=" PN_PARAM "\r\n");
	assert_int_equal(ups(), 2);
	assert_int_equal(CTR(SIP_REG_EXPECTED), exp0 + 2);
}

static void test_expected_budget_per_device(void **state)
{
	struct dp_rates r = rates();
	uint64_t exp0 = CTR(SIP_REG_EXPECTED), over0 = DROP(FILTER_RATE_EXPECTED);
	char src[32];

	(void)state;
	r.expected = (struct dp_rate){1, 3};
	set_rates(r);
	/* A known token replayed from ten spoofed sources: three get in. */
	for (unsigned i = 0; i < 10; i++) {
		snprintf(src, sizeof(src), "100.65.0.%u", i + 1);
		reg(src, "alice", PN_RFC8599, "");
	}
	assert_int_equal(ups(), 3);
	assert_int_equal(DROP(FILTER_RATE_EXPECTED), over0 + 7);
	/* bob's budget is his own; a second later alice has one more token. */
	reg2("100.65.1.1", "bob", "", ";+sip.instance=\"<urn:uuid:b0b>\"", "");
	assert_int_equal(ups(), 1);
	now += rte_get_tsc_hz();
	reg("100.65.1.2", "alice", PN_RFC8599, "");
	reg("100.65.1.3", "alice", PN_RFC8599, "");
	assert_int_equal(ups(), 1);
	assert_int_equal(CTR(SIP_REG_EXPECTED), exp0 + 5);
}

static void test_woken_device_and_waking_aor(void **state)
{
	uint64_t woken0 = CTR(SIP_REG_WOKEN), aor0 = CTR(SIP_REG_AOR_WAKING);
	uint64_t new0 = CTR(SIP_REG_NEWCOMER), dk = sw_wake_key_device(alice);
	uint64_t ak = sw_wake_key_aor("alice@example.com", 17);

	(void)state;
	/* As the control plane marks a pushed branch (cp_call.c). */
	assert_int_equal(sw_callset_add(h.ctx->waking, dk), 0);
	assert_int_equal(sw_callset_add(h.ctx->waking, ak), 0);
	reg("100.64.10.1", "alice", PN_RFC8599, "");
	assert_int_equal(ups(), 1);
	assert_int_equal(CTR(SIP_REG_WOKEN), woken0 + 1);
	/* A REGISTER of alice's AOR naming none of her devices: let in while
	 * a call waits on her, from the AOR's budget. */
	reg("100.64.10.2", "alice", "", "");
	assert_int_equal(ups(), 1);
	assert_int_equal(CTR(SIP_REG_AOR_WAKING), aor0 + 1);
	assert_int_equal(CTR(SIP_REG_NEWCOMER), new0);
	assert_int_equal(sw_callset_del(h.ctx->waking, dk), 0);
	assert_int_equal(sw_callset_del(h.ctx->waking, ak), 0);
	urcu_qsbr_quiescent_state();
	/* No call waits any more: the same REGISTER is a newcomer's. */
	reg("100.64.10.3", "alice", "", "");
	assert_int_equal(ups(), 1);
	assert_int_equal(CTR(SIP_REG_AOR_WAKING), aor0 + 1);
	assert_int_equal(CTR(SIP_REG_NEWCOMER), new0 + 1);
	reg("100.64.10.4", "alice", PN_RFC8599, "");
	assert_int_equal(ups(), 1);
	assert_int_equal(CTR(SIP_REG_WOKEN), woken0 + 1);
}

/* ---- newcomers ---- */

static void test_newcomers_per_prefix(void **state)
{
	struct dp_rates r = rates();
	uint64_t pfx0 = DROP(FILTER_RATE_PREFIX), src0 = DROP(FILTER_RATE_SOURCE);
	char src[32], user[16];

	(void)state;
	r.source = (struct dp_rate){1, 2};
	r.prefix = (struct dp_rate){1, 5};
	set_rates(r);
	/* One /24 floods from 20 addresses: five of its REGISTERs get in. */
	for (unsigned i = 0; i < 20; i++) {
		snprintf(src, sizeof(src), "203.0.113.%u", i + 10);
		snprintf(user, sizeof(user), "u%u", i);
		reg(src, user, "", "");
	}
	assert_int_equal(ups(), 5);
	assert_int_equal(DROP(FILTER_RATE_PREFIX), pfx0 + 15);
	/* Another /24 is not shut out; one source of it still meets its own
	 * bucket (2), refunded nothing by the prefix's refusals. */
	for (unsigned i = 0; i < 3; i++)
		reg("198.51.100.7", "newphone", "", "");
	assert_int_equal(ups(), 2);
	assert_int_equal(DROP(FILTER_RATE_SOURCE), src0 + 1);
	/* IPv6: the /48 is the prefix. */
	r.prefix = (struct dp_rate){1, 1};
	set_rates(r);
	reg("2001:db8:77:1::1", "v6a", "", "");
	reg("2001:db8:77:2::1", "v6b", "", "");
	reg("2001:db8:78::1", "v6c", "", "");
	assert_int_equal(ups(), 2);
	assert_int_equal(DROP(FILTER_RATE_PREFIX), pfx0 + 16);
}

static void test_junk_spends_no_budget(void **state)
{
	struct dp_rates r = rates();
	uint64_t scan0 = DROP(FILTER_SCANNER), trunc0 = DROP(TRUNCATED);
	uint64_t req0 = DROP(FILTER_UNKNOWN_REQUEST), bad0 = DROP(BAD_START_LINE);
	char src[32], msg[512];

	(void)state;
	r.source = r.prefix = r.global = (struct dp_rate){1, 2};
	set_rates(r);
	for (unsigned i = 0; i < 200; i++) {
		snprintf(src, sizeof(src), "203.0.%u.%u", 114 + i / 200, i % 200 + 1);
		/* A scanner as sipvicious writes it, one lower-casing the
		 * header name (found after the scan), a truncated REGISTER,
		 * an INVITE, UDP junk. */
		reg(src, "100", "", "User-Agent: friendly-scanner\r\n");
		reg(src, "101", "", "user-agent: sipvicious\r\n");
		snprintf(msg, sizeof(msg),
			 "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP "
			 "%s;branch=z9hG4bK-x\r\n"
			 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n",
			 src);
		feed(src, 5060, msg);
		snprintf(msg, sizeof(msg),
			 "INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP %s\r\n\r\n",
			 src);
		feed(src, 5060, msg);
		feed(src, 5060, "\x17\x03\x03junkjunkjunkjunk");
	}
	assert_int_equal(ups(), 0);
	assert_int_equal(DROP(FILTER_SCANNER), scan0 + 400);
	assert_int_equal(DROP(TRUNCATED), trunc0 + 200);
	assert_int_equal(DROP(FILTER_UNKNOWN_REQUEST), req0 + 200);
	assert_int_equal(DROP(BAD_START_LINE), bad0 + 200);
	/* Every budget is still full: two newcomers get in. */
	reg("192.0.2.10", "fresh1", "", "");
	reg("198.51.100.200", "fresh2", "", "");
	assert_int_equal(ups(), 2);
}

/* ---- answers ---- */

static void ping(const char *src)
{
	uint8_t pkt[64] = {0};
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	struct sw_ip a = dph_ip(src), b = dph_ip(DPH_SW_IP4);
	struct rte_mbuf *m = rte_pktmbuf_alloc(h.ctx->pool);
	struct rte_ether_hdr *eth;

	*ip = (struct rte_ipv4_hdr){.version_ihl = RTE_IPV4_VHL_DEF,
				    .total_length = rte_cpu_to_be_16(20 + 8 + 16),
				    .time_to_live = 64,
				    .next_proto_id = IPPROTO_ICMP,
				    .src_addr = sw_ip_v4(&a),
				    .dst_addr = sw_ip_v4(&b)};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + 16);
	sw_neigh_update(h.ctx->neigh, h.port, &a, &h.peer_mac, now);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + 44);
	eth->dst_addr = h.ctx->p.ports.ifaces[0].mac;
	eth->src_addr = h.peer_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memcpy(eth + 1, pkt, 44);
	dph_rx(&h, &m, 1, now);
}

static void test_answers_to_strangers_bounded(void **state)
{
	struct dp_rates r = rates();
	uint64_t sup0 = CTR(ANSWERS_SUPPRESSED), s403 = CTR(SIP_403_SENT);
	uint64_t ans0 = DROP(FILTER_RATE_ANSWER), echo0 = CTR(ICMP_ECHO_ANSWERED);
	char src[32], msg[512];

	(void)state;
	r.answer = (struct dp_rate){1, 3};
	set_rates(r);
	h.ctx->policy->reply_403 = true;
	for (unsigned i = 0; i < 10; i++) {
		snprintf(src, sizeof(src), "203.0.113.%u", i + 1);
		snprintf(msg, sizeof(msg),
			 "INVITE sip:alice@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-i%u\r\n"
			 "From: <sip:x@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n"
			 "Call-ID: i%u\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
			 src, i, i);
		feed(src, 5060, msg);
	}
	assert_int_equal(sent("SIP/2.0 403 Forbidden\r\n"), 3);
	assert_int_equal(CTR(SIP_403_SENT), s403 + 3);
	assert_int_equal(CTR(ANSWERS_SUPPRESSED), sup0 + 7);
	/* The budget is spent: a stranger's ping is not answered, the PBX's is. */
	ping("203.0.113.99");
	assert_int_equal(DROP(FILTER_RATE_ANSWER), ans0 + 1);
	ping(DPH_PBX_IP4);
	assert_int_equal(CTR(ICMP_ECHO_ANSWERED), echo0 + 1);
	assert_int_equal(sent(NULL), 1);
}

#define OPTIONS(ruri, via)                                                                 \
	"OPTIONS " ruri " SIP/2.0\r\nVia: SIP/2.0/UDP " via ";branch=z9hG4bK-o7;rport\r\n" \
	"From: <sip:monitor@example.net>;tag=m1\r\nTo: <" ruri ">\r\nCall-ID: probe-1\r\n" \
	"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

static void test_options_probe_with_a_user(void **state)
{
	uint64_t ok0 = CTR(SIP_OPTIONS_ANSWERED);

	(void)state;
	feed("192.0.2.50", 5060, OPTIONS("sip:ping@198.18.0.1", "192.0.2.50"));
	feed("192.0.2.50", 5060, OPTIONS("sip:nagios@edge.sipwake.test", "192.0.2.50"));
	feed(DPH_PBX_IP4, 5060, OPTIONS("sip:ping@198.18.0.1:5060", DPH_PBX_IP4));
	assert_int_equal(sent("SIP/2.0 200 OK\r\n"), 3);
	assert_int_equal(CTR(SIP_OPTIONS_ANSWERED), ok0 + 3);
	/* A bound device's OPTIONS to a user at our name is for that user. */
	feed("198.18.0.2", 5078, OPTIONS("sip:bob@edge.sipwake.test", "198.18.0.2:5078"));
	assert_int_equal(CTR(SIP_OPTIONS_ANSWERED), ok0 + 3);
	ups();
	sent(NULL);
}

static void test_unresolved_answer_marked_stranger(void **state)
{
	struct sw_ip a = dph_ip("198.18.0.77"), pbx = dph_ip(DPH_PBX_IP4);
	struct dph_pkt p = {.src = "198.18.0.77",
			    .sport = 5060,
			    .payload = OPTIONS("sip:198.18.0.1", "198.18.0.77"),
			    .len = sizeof(OPTIONS("sip:198.18.0.1", "198.18.0.77")) - 1};
	struct dph_pkt q = {.src = DPH_PBX_IP4,
			    .sport = 5060,
			    .payload = OPTIONS("sip:198.18.0.1", DPH_PBX_IP4),
			    .len = sizeof(OPTIONS("sip:198.18.0.1", DPH_PBX_IP4)) - 1};
	struct rte_mbuf *m;

	(void)state;
	/* Neither MAC is known (the harness learns the source's: forget it). */
	assert_int_equal(dph_build(&h, &p, &m, 1), 1);
	sw_neigh_remove(h.ctx->neigh, h.port, &a);
	dph_rx(&h, &m, 1, now);
	m = dph_up(&h);
	assert_non_null(m);
	assert_int_equal(DP_META(m)->kind, DP_UP_UNRESOLVED);
	assert_int_equal(DP_META(m)->stranger, 1);
	rte_pktmbuf_free(m);
	assert_int_equal(dph_build(&h, &q, &m, 1), 1);
	sw_neigh_remove(h.ctx->neigh, h.port, &pbx);
	dph_rx(&h, &m, 1, now);
	m = dph_up(&h);
	assert_non_null(m);
	assert_int_equal(DP_META(m)->kind, DP_UP_UNRESOLVED);
	assert_int_equal(DP_META(m)->stranger, 0);
	rte_pktmbuf_free(m);
	urcu_qsbr_quiescent_state();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_expected_while_newcomers_are_shut_out, fresh),
		cmocka_unit_test_setup(test_instance_with_a_new_token, fresh),
		cmocka_unit_test_setup(test_legacy_and_xpush_forms, fresh),
		cmocka_unit_test_setup(test_expected_budget_per_device, fresh),
		cmocka_unit_test_setup(test_woken_device_and_waking_aor, fresh),
		cmocka_unit_test_setup(test_newcomers_per_prefix, fresh),
		cmocka_unit_test_setup(test_junk_spends_no_budget, fresh),
		cmocka_unit_test_setup(test_answers_to_strangers_bounded, fresh),
		cmocka_unit_test_setup(test_options_probe_with_a_user, fresh),
		cmocka_unit_test_setup(test_unresolved_answer_marked_stranger, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
