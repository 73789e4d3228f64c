/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cp_register.c's world: the control plane on the worker harness, as
 * bench/bench_reg.c sets it up, the PBX's answers built around a record,
 * what the control plane sent read back (IPv4 fragments joined), and the
 * checks and the reset between inputs (fuzz_cp_register.h).
 */
#define _GNU_SOURCE /* memmem */
#include <strings.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <urcu/urcu-qsbr.h>

#include "controlplane/relay/cp_reg_internal.h"
#include "sip/sip_scan.h"
#include "tests/fuzz/fuzz_cp_register.h"

static struct sip_msg scan_msg; /* scratch */
static void *keep[6];

static void teardown(void)
{
	fprintf(stderr,
		"fuzz_cp_register: %lu inputs, %lu REGISTERs relayed, %lu devices bound, %lu 2xx "
		"to apps\n",
		(unsigned long)F.inputs, (unsigned long)F.relayed, (unsigned long)F.bound,
		(unsigned long)F.app_2xx_all);
	rf_reset();
	cp_free(F.cp);
	F.cp = NULL;
	dph_fini(&F.h); /* the binding tables with it */
}

void rf_setup(void)
{
	struct cp_config cfg;
	char prefix[64];
	struct dph_pkt pk = {.src = DPH_PBX_IP4, .sport = 5060, .payload = "x", .len = 1};
	struct rte_mbuf *m[2];
	int n;

	/* Its own EAL runtime directory: a replay and a fuzzer may run at once. */
	snprintf(prefix, sizeof(prefix), "fuzz_cp_register_%d", (int)getpid());
	CHECK(dph_init(&F.h, prefix) == 0);
	cp_config_defaults(&cfg);
	cfg.max_devices = MAX_DEVICES;
	cfg.max_pending = MAX_PENDING;
	cfg.ping_interval_s = 0;
	/* The ban's failures are counted per second only, and each input's
	 * apps have addresses of their own: no input is banned by another. */
	cfg.auth_ban_failures = 1000;
	cfg.auth_ban_window_s = 0;
	F.h.ctx->p.n_servers = 1;
	F.h.ctx->p.servers[0] = (struct dp_server){.ip = dph_ip(DPH_PBX_IP4), .port = 5060};
	cfg.n_pbx_servers = 1;
	memcpy(cfg.pbx_servers[0].addr, F.h.ctx->p.servers[0].ip.a, 16);
	cfg.pbx_servers[0].port = 5060;
	dp_policy_servers_from(F.h.ctx->policy, &F.h.ctx->p);
	F.h.ctx->bind = sw_bind_create(cfg.max_devices, F.h.ctx->src);
	F.cp = cp_create(dph_link(&F.h), &cfg);
	CHECK(F.h.ctx->bind != NULL && F.cp != NULL);
	/* The dataplane's context is EAL memory, which LeakSanitizer does not
	 * scan: the tables it points to are held here too, or every leak
	 * check (libFuzzer's, after an input) would report them. */
	keep[0] = F.h.ctx->neigh;
	keep[1] = F.h.ctx->src;
	keep[2] = F.h.ctx->banned;
	keep[3] = F.h.ctx->held;
	keep[4] = F.h.ctx->waking;
	keep[5] = F.h.ctx->bind;
	/* No metering: what an input sends all reaches the control plane. */
	F.h.ctx->policy->rates.source = F.h.ctx->policy->rates.global =
		F.h.ctx->policy->rates.prefix = F.h.ctx->policy->rates.expected =
			(struct dp_rate){1000000000, 1000000000};
	/* A frame from the PBX teaches the neighbour table its MAC. */
	n = dph_build(&F.h, &pk, m, 2);
	for (int i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
	atexit(teardown);
}

void rf_feed(const char *ip, uint16_t port, const uint8_t *p, size_t n)
{
	static uint8_t arena[MAX_STEPS * 8192];
	struct dph_pkt pk = {.src = ip, .sport = port, .payload = p, .len = (uint32_t)n};
	struct rte_mbuf *m[8];
	struct reg_sent *r;
	int k;

	CHECK(F.n_regs < MAX_STEPS && n <= 8192);
	if (F.n_regs == 0)
		F.arena_used = 0;
	r = &F.regs[F.n_regs];
	memcpy(arena + F.arena_used, p, n);
	r->p = arena + F.arena_used;
	r->n = n;
	r->src = dph_ip(ip);
	r->port = port;
	r->accepted = false;
	F.arena_used += n;
	F.cur_reg = (int)F.n_regs++;

	/* Over the MTU: fragments, which the worker joins. */
	if (n + 28 > 1500)
		pk.frag = 1480;
	k = dph_build(&F.h, &pk, m, 8);
	if (k > 0)
		dph_rx(&F.h, m, (unsigned)k, rte_rdtsc());
	while ((m[0] = dph_up(&F.h)) != NULL)
		cp_sip_in(F.cp, m[0]);
}

/* The scanner's status of a response (0: not one, or it does not scan). */
static int status_of(const uint8_t *p, size_t n)
{
	if (n > UINT16_MAX || sip_scan(p, (uint32_t)n, &scan_msg) != SIP_SCAN_OK ||
	    scan_msg.is_request)
		return 0;
	return scan_msg.status;
}

void rf_pbx_raw(const uint8_t *p, size_t n)
{
	int st = status_of(p, n);

	if (st >= 200 && st < 300) {
		/* Whichever transaction its branch names may bind: all count
		 * as accepted (the checks get weaker, never wrong). */
		for (unsigned i = 0; i < F.n_relays; i++)
			if (!F.relays[i].answered && F.relays[i].reg >= 0)
				F.regs[F.relays[i].reg].accepted = true;
		F.pbx_2xx++;
		F.stepped_2xx = true;
	}
	rf_feed(DPH_PBX_IP4, 5060, p, n);
}

/* Is the header line [p, p+n) one of @p names ("Via", "v", ...)? */
static bool hdr_is(const char *p, size_t n, const char *const *names)
{
	const char *colon = memchr(p, ':', n);
	size_t l;

	if (colon == NULL)
		return false;
	l = (size_t)(colon - p);
	while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
		l--;
	for (; *names != NULL; names++)
		if (strlen(*names) == l && strncasecmp(p, *names, l) == 0)
			return true;
	return false;
}

static void put(char *b, size_t cap, size_t *o, const void *p, size_t n)
{
	if (*o + n > cap)
		n = cap - *o;
	memcpy(b + *o, p, n);
	*o += n;
}

int rf_pbx_answer(const struct reg_relay *rl, int with_tag, const uint8_t *p, size_t n)
{
	static const char *const copied[] = {"Via", "v", "From", "f", "Call-ID", "i", "CSeq", NULL};
	static const char *const to[] = {"To", "t", NULL};
	static char b[8192];
	const uint8_t *eol = memmem(p, n, "\r\n", 2);
	const char *q = rl->p, *end = rl->p + rl->n;
	size_t o = 0, first = eol ? (size_t)(eol - p) : n;
	int st;

	put(b, sizeof(b), &o, p, first);
	put(b, sizeof(b), &o, "\r\n", 2);
	/* The relayed request's lines after its request line, up to its header end. */
	q = memmem(q, (size_t)(end - q), "\r\n", 2);
	while (q != NULL && q + 2 < end) {
		const char *line = q + 2, *le = memmem(line, (size_t)(end - line), "\r\n", 2);
		size_t l;

		if (le == NULL || le == line)
			break;
		l = (size_t)(le - line);
		if (hdr_is(line, l, copied)) {
			put(b, sizeof(b), &o, line, l);
			put(b, sizeof(b), &o, "\r\n", 2);
		} else if (hdr_is(line, l, to)) {
			put(b, sizeof(b), &o, line, l);
			if (with_tag)
				put(b, sizeof(b), &o, ";tag=pbx", 8);
			put(b, sizeof(b), &o, "\r\n", 2);
		}
		q = le;
	}
	if (eol != NULL)
		put(b, sizeof(b), &o, eol + 2, n - first - 2);
	else
		put(b, sizeof(b), &o, "Content-Length: 0\r\n\r\n", 21);
	st = status_of((const uint8_t *)b, o);
	if (st >= 200 && st < 300)
		F.pbx_2xx++;
	rf_feed(DPH_PBX_IP4, 5060, (const uint8_t *)b, o);
	return st;
}
