/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * REGISTER throughput of the control plane (docs/performance.md, "bench_reg"): the
 * relay and the commit, on one core, with the SQLite store in the loop.
 *
 * Each round: BATCH apps' REGISTERs go through the worker pipeline (not
 * timed) and are handed to the control plane (timed: splice, pending
 * transaction, send); the relayed REGISTERs are read off the down ring and
 * answered 200 by a PBX simulated here (not timed); the answers go through
 * the worker again (not timed) and to the control plane (timed: match, bind,
 * store write), then one group commit and the 200s to the apps (timed).
 * Prints REGISTER/s of the timed part, median of --runs, and what one
 * REGISTER costs in TSC cycles.
 *
 *   bench_reg [--smoke] [--count N] [--batch B] [--runs R] [--sync-full] [--no-store]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "bench/bench_sip.h"
#include "controlplane/cp_internal.h"
#include "controlplane/store/cp_store.h"
#include "tests/dp/dp_harness.h"

#define APP_IP "198.18.0.2"

static struct dph h;
static struct cp_ctx *cp;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint64_t one_round(unsigned base, unsigned batch, unsigned *done)
{
	static char text[2048], ans[2048];
	struct rte_mbuf *up[1024], *m;
	uint64_t t, spent = 0;
	unsigned n;

	for (unsigned i = 0; i < batch; i++) {
		unsigned u = base + i;
		int len = snprintf(
			text, sizeof(text),
			"REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP " APP_IP ":%u;branch=z9hG4bK-b%u;rport\r\n"
			"Max-Forwards: 70\r\nFrom: <sip:u%u@example.com>;tag=f%u\r\n"
			"To: <sip:u%u@example.com>\r\nCall-ID: reg-%u@bench\r\nCSeq: 1 REGISTER\r\n"
			"Contact: <sip:u%u@" APP_IP ":%u;pn-provider=apns;pn-prid=%064x;"
			"pn-param=ABCD123456.com.example.voip>;+sip.instance=\"<urn:uuid:%08x-0000-"
			"1000-8000-000000000001>\";expires=600\r\n"
			"User-Agent: bench\r\nContent-Length: 0\r\n\r\n",
			10000 + u % 50000, u, u, u, u, u, u, 10000 + u % 50000, u, u);

		bench_feed(&h, APP_IP, (uint16_t)(10000 + u % 50000), text, len);
	}
	n = bench_take_up(&h, up, RTE_DIM(up));
	t = rte_rdtsc();
	for (unsigned i = 0; i < n; i++)
		cp_sip_in(cp, up[i]);
	spent += rte_rdtsc() - t;

	/* The PBX answers what reached it. */
	while (rte_ring_sc_dequeue(h.ctx->workers[0].down, (void **)&m) == 0) {
		uint16_t len;
		const char *req = bench_payload_of(m, &len, NULL);

		if (len > 9 && memcmp(req, "REGISTER ", 9) == 0) {
			int alen = bench_pbx_answer(req, len, ans, sizeof(ans));

			bench_feed(&h, DPH_PBX_IP4, 5060, ans, alen);
		}
		rte_pktmbuf_free(m);
	}
	n = bench_take_up(&h, up, RTE_DIM(up));
	t = rte_rdtsc();
	for (unsigned i = 0; i < n; i++)
		cp_sip_in(cp, up[i]);
	cp_reg_flush(cp); /* the group commit, then the 200s to the apps */
	spent += rte_rdtsc() - t;

	while (rte_ring_sc_dequeue(h.ctx->workers[0].down, (void **)&m) == 0) {
		uint16_t len;

		if (memcmp(bench_payload_of(m, &len, NULL), "SIP/2.0 200", 11) == 0)
			(*done)++;
		rte_pktmbuf_free(m);
	}
	return spent;
}

int main(int argc, char **argv)
{
	unsigned count = 100000, batch = 32, runs = 3, done;
	bool sync_full = false, no_store = false;
	double rates[16];
	char path[] = "/var/tmp/bench_reg.XXXXXX", db[64], err[256];
	struct cp_config cfg;
	struct cp_store *store;
	int opt;
	static const struct option lo[] = {{"smoke", no_argument, NULL, 's'},
					   {"count", required_argument, NULL, 'c'},
					   {"batch", required_argument, NULL, 'b'},
					   {"runs", required_argument, NULL, 'r'},
					   {"sync-full", no_argument, NULL, 'f'},
					   {"no-store", no_argument, NULL, 'n'},
					   {NULL, 0, NULL, 0}};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			count = 256;
			runs = 1;
			break;
		case 'c':
			count = (unsigned)atoi(optarg);
			break;
		case 'b':
			batch = (unsigned)atoi(optarg);
			break;
		case 'r':
			runs = (unsigned)atoi(optarg);
			break;
		case 'f':
			sync_full = true;
			break;
		case 'n':
			no_store = true;
			break;
		default:
			return 2;
		}
	}
	if (batch < 1 || batch > 1000)
		batch = 32;
	if (runs < 1 || runs > RTE_DIM(rates))
		runs = 3;
	if (dph_init(&h, "bench_reg") != 0 || mkdtemp(path) == NULL)
		return 1;
	cp_config_defaults(&cfg);
	cfg.max_devices = count * runs + 16;
	cfg.max_pending = 4096;
	cfg.ping_interval_s = 0;
	h.ctx->p.n_servers = 1;
	h.ctx->p.servers[0] = (struct dp_server){.ip = dph_ip(DPH_PBX_IP4), .port = 5060};
	cfg.n_pbx_servers = 1; /* the control plane's copy (REGISTER relay) */
	memcpy(cfg.pbx_servers[0].addr, h.ctx->p.servers[0].ip.a, 16);
	cfg.pbx_servers[0].port = 5060;
	dp_policy_servers_from(h.ctx->policy, &h.ctx->p);
	h.ctx->bind = sw_bind_create(cfg.max_devices, h.ctx->src);
	cp = cp_create(dph_link(&h), &cfg);
	snprintf(db, sizeof(db), "%s/bindings.db", path);
	store = cp_store_open(db, sync_full, err, sizeof(err));
	if (h.ctx->bind == NULL || cp == NULL || store == NULL) {
		fprintf(stderr, "bench_reg: set-up failed: %s\n", store ? "" : err);
		return 1;
	}
	/* --no-store: the relay alone, to see what the store costs. */
	if (no_store)
		cp_store_close(store);
	else
		cp_set_store(cp, store);
	/* Every app is new (unknown source): no metering in this benchmark. */
	h.ctx->policy->rates.source = h.ctx->policy->rates.global = h.ctx->policy->rates.prefix =
		h.ctx->policy->rates.expected = (struct dp_rate){1000000000, 1000000000};
	{
		/* Building a frame from the PBX teaches the neighbour table its MAC. */
		struct rte_mbuf *m[2];
		struct dph_pkt pk = {.src = DPH_PBX_IP4, .sport = 5060, .payload = "x", .len = 1};
		int n = dph_build(&h, &pk, m, 2);

		for (int i = 0; i < n; i++)
			rte_pktmbuf_free(m[i]);
	}

	for (unsigned r = 0; r < runs; r++) {
		uint64_t cycles = 0;

		done = 0;
		for (unsigned base = 0; base < count; base += batch)
			cycles += one_round(r * count + base, RTE_MIN(batch, count - base), &done);
		if (done != count) {
			fprintf(stderr, "bench_reg: %u of %u REGISTERs answered 200\n", done,
				count);
			for (unsigned i = 0; i < CP_C_MAX; i++)
				if (cp_counter(cp, i))
					fprintf(stderr, "  %s %lu\n", cp_counter_names[i],
						(unsigned long)cp_counter(cp, i));
			for (unsigned i = 0; i < CP_D_MAX; i++)
				if (cp_drop_count(cp, i))
					fprintf(stderr, "  drop_%s %lu\n", cp_drop_names[i],
						(unsigned long)cp_drop_count(cp, i));
			for (unsigned i = 0; i < DP_D_MAX; i++)
				if (dph_drop(&h, i))
					fprintf(stderr, "  dp drop_%s %lu\n", dp_drop_name(i),
						(unsigned long)dph_drop(&h, i));
			return 1;
		}
		rates[r] = (double)count * (double)rte_get_tsc_hz() / (double)cycles;
		urcu_qsbr_quiescent_state();
	}
	qsort(rates, runs, sizeof(rates[0]), cmp_double);
	printf("register_relay_commit_per_s %.0f REGISTER/s (median of %u, batch %u, store %s, "
	       "one core)\n",
	       rates[runs / 2], runs, batch,
	       no_store	   ? "none"
	       : sync_full ? "synchronous=FULL"
			   : "synchronous=NORMAL");
	printf("register_cycles %.0f cycles/REGISTER (request + 200, commit included)\n",
	       (double)rte_get_tsc_hz() / rates[runs / 2]);
	printf("register_target 50000 REGISTER/s: %s\n",
	       rates[runs / 2] >= 50000 ? "met" : "missed");
	printf("bindings %u\n", sw_bind_count(h.ctx->bind));
	cp_free(cp);
	sw_bind_free(h.ctx->bind);
	h.ctx->bind = NULL;
	dph_fini(&h);
	unlink(db);
	snprintf(db, sizeof(db), "%s/bindings.db-wal", path);
	unlink(db);
	snprintf(db, sizeof(db), "%s/bindings.db-shm", path);
	unlink(db);
	rmdir(path);
	return 0;
}
