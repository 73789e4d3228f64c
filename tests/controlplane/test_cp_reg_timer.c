/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The REGISTER relay's timers (controlplane/relay/cp_reg.c, cp_reg_health.c,
 * cp_reg_tx.c): the app's retransmissions of a pending REGISTER go on to
 * the PBX, but the 408 still comes pbx.timeout_ms after the first send (RFC
 * 3261 §17.1.2.2: Timer F runs from the request, not from its last
 * retransmission); once answered, its retransmissions get the same answer
 * again and never reach the PBX, until Timer J (§17.2.2). The
 * control plane runs on the dataplane harness (tests/dp/dp_harness.h): the
 * app's REGISTER goes through the worker, what the control plane sends is
 * read off the worker's down ring, the PBX never answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_cycles.h>
#include <rte_ring.h>

#include "controlplane/cp_internal.h"
#include "tests/dp/dp_harness.h"

#define APP_IP	   "198.18.0.2"
#define TIMEOUT_MS 100

static struct dph h;
static struct cp_ctx *cp;

static const char reg[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP " APP_IP ":5070;branch=z9hG4bK-timer-1;rport\r\n"
	"Max-Forwards: 70\r\nFrom: <sip:tim@example.com>;tag=f1\r\n"
	"To: <sip:tim@example.com>\r\nCall-ID: reg-timer@app\r\nCSeq: 1 REGISTER\r\n"
	"Contact: <sip:tim@" APP_IP ":5070;pn-provider=apns;pn-prid=00fc13ad;"
	"pn-param=ABCD123456.com.example.voip>;expires=600\r\n"
	"Content-Length: 0\r\n\r\n";

static const char reg_j[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP " APP_IP ":5070;branch=z9hG4bK-timerJ-1;rport\r\n"
	"Max-Forwards: 70\r\nFrom: <sip:jay@example.com>;tag=f2\r\n"
	"To: <sip:jay@example.com>\r\nCall-ID: reg-timerJ@app\r\nCSeq: 1 REGISTER\r\n"
	"Contact: <sip:jay@" APP_IP ":5070;pn-provider=apns;pn-prid=00fc13ae;"
	"pn-param=ABCD123456.com.example.voip>;expires=600\r\n"
	"Content-Length: 0\r\n\r\n";

/* The REGISTER the control plane relayed last (sent()). */
static char relayed[2048];

/* @p text from @p src:@p sport through the worker to the control plane. */
static void deliver(const char *src, uint16_t sport, const char *text)
{
	struct rte_mbuf *m[4];
	struct dph_pkt pk = {.src = src, .sport = sport, .payload = text, .len = strlen(text)};
	int n = dph_build(&h, &pk, m, 4);

	assert_true(n > 0);
	dph_rx(&h, m, (unsigned)n, rte_rdtsc());
	while ((m[0] = dph_up(&h)) != NULL)
		cp_sip_in(cp, m[0]);
}

/* The app's REGISTER (again): through the worker to the control plane. */
static void app_sends(void)
{
	struct rte_mbuf *m[4];
	struct dph_pkt pk = {.src = APP_IP, .sport = 5070, .payload = reg, .len = sizeof(reg) - 1};
	int n = dph_build(&h, &pk, m, 4);

	assert_true(n > 0);
	dph_rx(&h, m, (unsigned)n, rte_rdtsc());
	while ((m[0] = dph_up(&h)) != NULL)
		cp_sip_in(cp, m[0]);
}

/* What the control plane sent since: REGISTERs (to the PBX, the last kept
 * in relayed), 408s and 200s (to the app), counted. */
static void sent_all(unsigned *regs, unsigned *r408, unsigned *r200)
{
	struct rte_mbuf *m;

	*regs = *r408 = *r200 = 0;
	while (rte_ring_sc_dequeue(h.ctx->workers[0].down, (void **)&m) == 0) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		const char *sip = (const char *)p + RTE_ETHER_HDR_LEN + 20 + 8;
		size_t len = rte_pktmbuf_data_len(m) - (RTE_ETHER_HDR_LEN + 20 + 8);

		if (p[12] == 0x08 && p[13] == 0x00) { /* ARP and the like: not ours */
			if (strncmp(sip, "REGISTER ", 9) == 0) {
				*regs += 1;
				assert_true(len < sizeof(relayed));
				memcpy(relayed, sip, len);
				relayed[len] = '\0';
			}
			*r408 += strncmp(sip, "SIP/2.0 408 ", 12) == 0;
			*r200 += strncmp(sip, "SIP/2.0 200 ", 12) == 0;
		}
		rte_pktmbuf_free(m);
	}
}

static void sent(unsigned *regs, unsigned *r408)
{
	unsigned r200;

	sent_all(regs, r408, &r200);
}

/* The PBX's 200 to the REGISTER it got (relayed): its Vias, From, To with
 * a tag, Call-ID, CSeq, the contact granted 600 s. */
static void pbx_answers_200(void)
{
	static char ok[2048];
	size_t n = (size_t)snprintf(ok, sizeof(ok), "SIP/2.0 200 OK\r\n");
	const char *line = strstr(relayed, "\r\n") + 2;

	while (line != NULL && strncmp(line, "\r\n", 2) != 0) {
		const char *end = strstr(line, "\r\n");

		if (strncmp(line, "Via:", 4) == 0 || strncmp(line, "From:", 5) == 0 ||
		    strncmp(line, "Call-ID:", 8) == 0 || strncmp(line, "CSeq:", 5) == 0)
			n += (size_t)snprintf(ok + n, sizeof(ok) - n, "%.*s\r\n", (int)(end - line),
					      line);
		else if (strncmp(line, "To:", 3) == 0)
			n += (size_t)snprintf(ok + n, sizeof(ok) - n, "%.*s;tag=pbx1\r\n",
					      (int)(end - line), line);
		else if (strncmp(line, "Contact:", 8) == 0)
			n += (size_t)snprintf(ok + n, sizeof(ok) - n, "%.*s\r\n", (int)(end - line),
					      line);
		line = end + 2;
	}
	snprintf(ok + n, sizeof(ok) - n, "Content-Length: 0\r\n\r\n");
	deliver(DPH_PBX_IP4, 5060, ok);
}

static void answered_register_is_answered_again_until_timer_j(void **state)
{
	unsigned regs, r408, r200;
	uint64_t repeated = cp_counter(cp, CP_C_REG_ANSWER_REPEATED);
	uint64_t stray = cp_drop_count(cp, CP_D_REG_STRAY_RESPONSE);

	(void)state;
	deliver(APP_IP, 5070, reg_j);
	sent_all(&regs, &r408, &r200);
	assert_int_equal(regs, 1);
	pbx_answers_200();
	cp_reg_flush(cp); /* durable, then relayed */
	sent_all(&regs, &r408, &r200);
	assert_int_equal(r200, 1);
	/* The 200 was lost on its way: the app sends its REGISTER again. It
	 * gets the same 200, and the PBX nothing. */
	deliver(APP_IP, 5070, reg_j);
	sent_all(&regs, &r408, &r200);
	assert_int_equal(regs, 0);
	assert_int_equal(r200, 1);
	assert_int_equal(cp_counter(cp, CP_C_REG_ANSWER_REPEATED), repeated + 1);
	/* The PBX's 200 again: answered already, it goes nowhere. */
	pbx_answers_200();
	cp_reg_flush(cp);
	sent_all(&regs, &r408, &r200);
	assert_int_equal(r200, 0);
	assert_int_equal(cp_drop_count(cp, CP_D_REG_STRAY_RESPONSE), stray + 1);
	/* Timer J over (32 s later): the same branch is a new transaction. */
	cp_reg_tick(cp, rte_rdtsc() + rte_get_tsc_hz() * 33);
	deliver(APP_IP, 5070, reg_j);
	sent_all(&regs, &r408, &r200);
	assert_int_equal(regs, 1);
	assert_int_equal(r200, 0);
	assert_int_equal(cp_counter(cp, CP_C_REG_ANSWER_REPEATED), repeated + 1);
}

static void retransmissions_do_not_put_off_the_408(void **state)
{
	unsigned regs, r408;
	uint64_t t0;

	(void)state;
	t0 = rte_rdtsc();
	app_sends();
	sent(&regs, &r408);
	assert_int_equal(regs, 1);
	/* The app retransmits every 40 ms, faster than pbx.timeout_ms. */
	for (int i = 0; i < 2; i++) {
		usleep(40 * 1000);
		app_sends();
		cp_reg_tick(cp, rte_rdtsc());
		sent(&regs, &r408);
		assert_int_equal(regs, 1); /* relayed again, on the same transaction */
		assert_int_equal(r408, 0);
	}
	assert_int_equal(cp_counter(cp, CP_C_REG_RETRANSMITTED), 2);
	/* 100 ms after the first send, though 20 ms after the last
	 * retransmission: 408. */
	while (rte_rdtsc() < t0 + rte_get_tsc_hz() * (TIMEOUT_MS + 5) / 1000)
		usleep(1000);
	cp_reg_tick(cp, rte_rdtsc());
	sent(&regs, &r408);
	assert_int_equal(r408, 1);
	assert_int_equal(cp_counter(cp, CP_C_REG_TIMEOUTS), 1);
}

static int setup(void **state)
{
	struct cp_config cfg;

	(void)state;
	if (dph_init(&h, "test_cp_reg_timer") != 0)
		return -1;
	cp_config_defaults(&cfg);
	cfg.pbx_timeout_ms = TIMEOUT_MS;
	cfg.ping_interval_s = 0;
	h.ctx->p.n_servers = 1;
	h.ctx->p.servers[0] = (struct dp_server){.ip = dph_ip(DPH_PBX_IP4), .port = 5060};
	cfg.n_pbx_servers = 1;
	memcpy(cfg.pbx_servers[0].addr, h.ctx->p.servers[0].ip.a, 16);
	cfg.pbx_servers[0].port = 5060;
	dp_policy_servers_from(h.ctx->policy, &h.ctx->p);
	h.ctx->bind = sw_bind_create(cfg.max_devices, h.ctx->src);
	cp = cp_create(dph_link(&h), &cfg);
	if (h.ctx->bind == NULL || cp == NULL)
		return -1;
	{
		/* A frame from the PBX teaches the neighbour table its MAC. */
		struct rte_mbuf *m[2];
		struct dph_pkt pk = {.src = DPH_PBX_IP4, .sport = 5060, .payload = "x", .len = 1};
		int n = dph_build(&h, &pk, m, 2);

		for (int i = 0; i < n; i++)
			rte_pktmbuf_free(m[i]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cp_free(cp);
	dph_fini(&h);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(retransmissions_do_not_put_off_the_408),
		cmocka_unit_test(answered_register_is_answered_again_until_timer_j),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
