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
 * --redis HOST:PORT (or --spawn-redis: a redis-server started here): the
 * store shared through Redis (docs/cluster.md), its journal in the same
 * SQLite file. The round's batch goes to Redis (cp_store_submit()) and its
 * 200s leave when Redis acknowledges it: the benchmark drives
 * cp_store_poll() once after the flush, as the control plane's loop does,
 * then waits (timed, cp_store_poll() in a loop) until the 200s of all but
 * the last --inflight - 1 rounds are out. --inflight 1 (the default): each
 * round waits for its own; more lets rounds overlap Redis as the control
 * plane's loop does (it never waits).
 *
 *   bench_reg [--smoke] [--count N] [--batch B] [--runs R] [--sync-full] [--no-store]
 *             [--redis HOST:PORT | --spawn-redis] [--inflight N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "bench/bench_redis.h"
#include "bench/bench_sip.h"
#include "cluster/cl.h"
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

/* The shared store (--redis), and how far rounds may run ahead of it. */
static struct cp_store *shared;
static unsigned inflight = 1;
static unsigned sent, ok200; /* REGISTERs handed to the control plane, 200s out */
static uint64_t wait_cycles; /* of the timed cycles, those spent waiting on Redis */
/* Where the timed cycles go: requests relayed, answers taken (bound, the
 * store's batch written), the flush (commit or submit, 200s relayed), the
 * shared store polled (its link's traffic: acks, the feed read back). */
enum { SPLIT_REQ, SPLIT_ANS, SPLIT_FLUSH, SPLIT_POLL, SPLIT_N };
static uint64_t split[SPLIT_N];

/* What the control plane sent: REGISTERs are answered 200 by the PBX (fed
 * back through the worker), 200s to the apps counted. */
static void drain_down(void)
{
	static char ans[2048];
	struct rte_mbuf *m;

	while (rte_ring_sc_dequeue(h.ctx->workers[0].down, (void **)&m) == 0) {
		uint16_t len;
		const char *p = bench_payload_of(m, &len, NULL);

		if (len > 9 && memcmp(p, "REGISTER ", 9) == 0) {
			int alen = bench_pbx_answer(p, len, ans, sizeof(ans));

			bench_feed(&h, DPH_PBX_IP4, 5060, ans, alen);
		} else if (len > 11 && memcmp(p, "SIP/2.0 200", 11) == 0) {
			ok200++;
		}
		rte_pktmbuf_free(m);
	}
}

/* Shared store: drive it until at most @p ahead REGISTERs wait for their
 * 200 (timed by the caller). @return false after 10 s without. */
static bool wait_redis(unsigned ahead)
{
	uint64_t t = rte_rdtsc(), end = t + 10 * rte_get_tsc_hz();

	while (sent - ok200 > ahead) {
		uint64_t p = rte_rdtsc();

		cp_store_poll(shared);
		split[SPLIT_POLL] += rte_rdtsc() - p;
		drain_down();
		if (rte_rdtsc() > end)
			return false;
	}
	wait_cycles += rte_rdtsc() - t;
	return true;
}

static uint64_t one_round(unsigned base, unsigned batch)
{
	static char text[2048];
	struct rte_mbuf *up[1024];
	uint64_t t, t1, t2, spent = 0;
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
	sent += n;
	t = rte_rdtsc();
	for (unsigned i = 0; i < n; i++)
		cp_sip_in(cp, up[i]);
	split[SPLIT_REQ] += rte_rdtsc() - t;
	spent += rte_rdtsc() - t;

	drain_down(); /* the PBX answers what reached it */
	n = bench_take_up(&h, up, RTE_DIM(up));
	t = rte_rdtsc();
	for (unsigned i = 0; i < n; i++)
		cp_sip_in(cp, up[i]);
	t1 = rte_rdtsc();
	cp_reg_flush(cp); /* the group commit (or the batch to Redis), then the 200s */
	t2 = rte_rdtsc();
	if (shared != NULL)
		cp_store_poll(shared); /* as the loop's next pass: the batch goes out */
	spent += rte_rdtsc() - t;
	split[SPLIT_ANS] += t1 - t;
	split[SPLIT_FLUSH] += t2 - t1;
	split[SPLIT_POLL] += rte_rdtsc() - t2;
	drain_down();
	if (shared != NULL) {
		t = rte_rdtsc();
		if (!wait_redis((inflight - 1) * batch))
			fprintf(stderr, "bench_reg: no answer from Redis in 10 s\n");
		spent += rte_rdtsc() - t;
	}
	return spent;
}

static void dump_counters(void)
{
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
}

/* The control plane, its tables and the PBX in the harness. */
static int setup(unsigned max_devices)
{
	struct cp_config cfg;

	if (dph_init(&h, "bench_reg") != 0)
		return -1;
	cp_config_defaults(&cfg);
	cfg.max_devices = max_devices;
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
	if (h.ctx->bind == NULL || cp == NULL)
		return -1;
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
	return 0;
}

/* The store: SQLite at @p db, or shared through @p rd (prefix @p prefix). */
static struct cp_store *open_store(const char *db, bool sync_full, const struct bench_redis *rd,
				   const char *prefix)
{
	char err[256] = "";
	struct cp_store *st;
	struct cl_config cl;

	if (rd == NULL) {
		st = cp_store_open(db, sync_full, err, sizeof(err));
	} else {
		cl_config_defaults(&cl);
		snprintf(cl.edge, sizeof(cl.edge), "bench");
		snprintf(cl.redis.host, sizeof(cl.redis.host), "%s", rd->host);
		cl.redis.port = rd->port;
		snprintf(cl.prefix, sizeof(cl.prefix), "%s", prefix);
		st = cp_store_open_shared(db, sync_full, &cl, err, sizeof(err));
	}
	if (st == NULL)
		fprintf(stderr, "bench_reg: store: %s\n", err);
	return st;
}

static void rm_store(const char *dir)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	char f[96];

	for (unsigned i = 0; i < RTE_DIM(ext); i++) {
		snprintf(f, sizeof(f), "%s/bindings.db%s", dir, ext[i]);
		unlink(f);
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	unsigned count = 100000, batch = 32, runs = 3;
	bool sync_full = false, no_store = false, spawn = false, use_redis = false;
	double rates[16], waits[16];
	char path[] = "/var/tmp/bench_reg.XXXXXX", db[64], prefix[32], where[160];
	struct bench_redis rd = {0};
	struct cp_store *store;
	int opt;
	static const struct option lo[] = {
		{"smoke", no_argument, NULL, 's'},	    {"count", required_argument, NULL, 'c'},
		{"batch", required_argument, NULL, 'b'},    {"runs", required_argument, NULL, 'r'},
		{"sync-full", no_argument, NULL, 'f'},	    {"no-store", no_argument, NULL, 'n'},
		{"redis", required_argument, NULL, 'R'},    {"spawn-redis", no_argument, NULL, 'S'},
		{"inflight", required_argument, NULL, 'i'}, {NULL, 0, NULL, 0}};

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
		case 'R':
			use_redis = true;
			if (bench_redis_parse(&rd, optarg) != 0) {
				fprintf(stderr, "bench_reg: --redis HOST:PORT\n");
				return 2;
			}
			break;
		case 'S':
			use_redis = spawn = true;
			break;
		case 'i':
			inflight = (unsigned)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (batch < 1 || batch > 1000)
		batch = 32;
	if (runs < 1 || runs > RTE_DIM(rates))
		runs = 3;
	if (inflight < 1 || inflight > 1024)
		inflight = 1;
	if (use_redis && no_store) {
		fprintf(stderr, "bench_reg: --redis and --no-store exclude each other\n");
		return 2;
	}
	if (spawn && bench_redis_spawn(&rd) != 0)
		return 1;
	if (setup(count * runs + 16) != 0 || mkdtemp(path) == NULL) {
		fprintf(stderr, "bench_reg: set-up failed\n");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/bindings.db", path);
	bench_redis_prefix(prefix, sizeof(prefix), "reg");
	store = open_store(db, sync_full, use_redis ? &rd : NULL, prefix);
	if (store == NULL)
		return 1;
	/* --no-store: the relay alone, to see what the store costs. */
	if (no_store) {
		cp_store_close(store);
	} else {
		cp_set_store(cp, store);
		shared = use_redis ? store : NULL;
	}

	for (unsigned r = 0; r < runs; r++) {
		uint64_t cycles = 0, t;

		sent = ok200 = 0;
		wait_cycles = 0;
		memset(split, 0, sizeof(split));
		for (unsigned base = 0; base < count; base += batch)
			cycles += one_round(r * count + base, RTE_MIN(batch, count - base));
		t = rte_rdtsc();
		if (shared != NULL && !wait_redis(0))
			fprintf(stderr, "bench_reg: no answer from Redis in 10 s\n");
		cycles += rte_rdtsc() - t;
		if (ok200 != count) {
			fprintf(stderr, "bench_reg: %u of %u REGISTERs answered 200\n", ok200,
				count);
			dump_counters();
			return 1;
		}
		rates[r] = (double)count * (double)rte_get_tsc_hz() / (double)cycles;
		waits[r] = (double)wait_cycles * 100 / (double)cycles;
		urcu_qsbr_quiescent_state();
	}
	qsort(rates, runs, sizeof(rates[0]), cmp_double);
	qsort(waits, runs, sizeof(waits[0]), cmp_double);
	if (use_redis)
		snprintf(where, sizeof(where), "redis %s:%u, %u round(s) in flight", rd.host,
			 rd.port, inflight);
	else
		snprintf(where, sizeof(where), "%s",
			 no_store    ? "none"
			 : sync_full ? "synchronous=FULL"
				     : "synchronous=NORMAL");
	printf("register_relay_commit_per_s %.0f REGISTER/s (median of %u, batch %u, store %s, "
	       "one core)\n",
	       rates[runs / 2], runs, batch, where);
	printf("register_cycles %.0f cycles/REGISTER (request + 200, %s included)\n",
	       (double)rte_get_tsc_hz() / rates[runs / 2],
	       use_redis ? "waiting for Redis" : "commit");
	if (use_redis)
		printf("register_redis_wait %.1f %% of the timed cycles (polling until Redis "
		       "answers)\n",
		       waits[runs / 2]);
	printf("register_cycles_split %.0f requests / %.0f answers / %.0f flush / %.0f store "
	       "poll cycles/REGISTER (last run)\n",
	       (double)split[SPLIT_REQ] / count, (double)split[SPLIT_ANS] / count,
	       (double)split[SPLIT_FLUSH] / count, (double)split[SPLIT_POLL] / count);
	printf("register_target 50000 REGISTER/s: %s\n",
	       rates[runs / 2] >= 50000 ? "met" : "missed");
	printf("bindings %u\n", sw_bind_count(h.ctx->bind));
	cp_free(cp);
	sw_bind_free(h.ctx->bind);
	h.ctx->bind = NULL;
	dph_fini(&h);
	rm_store(path);
	if (use_redis) {
		redisContext *c = bench_redis_cli(&rd);

		if (c != NULL) {
			bench_redis_drop(c, prefix);
			redisFree(c);
		}
		bench_redis_stop(&rd);
	}
	return 0;
}
