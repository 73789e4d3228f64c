/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The REGISTER relay's timer (controlplane/relay/cp_reg.c, cp_reg_health.c):
 * the app's retransmissions of a pending REGISTER go on to the PBX, but the
 * 408 still comes pbx.timeout_ms after the first send (RFC 3261 §17.1.2.2:
 * Timer F runs from the request, not from its last retransmission). The
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

/* What the control plane sent since: REGISTERs (to the PBX) and 408s (to
 * the app), counted. */
static void sent(unsigned *regs, unsigned *r408)
{
	struct rte_mbuf *m;

	*regs = *r408 = 0;
	while (rte_ring_sc_dequeue(h.ctx->workers[0].down, (void **)&m) == 0) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		const char *sip = (const char *)p + RTE_ETHER_HDR_LEN + 20 + 8;

		if (p[12] == 0x08 && p[13] == 0x00) { /* ARP and the like: not ours */
			*regs += strncmp(sip, "REGISTER ", 9) == 0;
			*r408 += strncmp(sip, "SIP/2.0 408 ", 12) == 0;
		}
		rte_pktmbuf_free(m);
	}
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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
