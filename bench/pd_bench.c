/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pushd benchmark: N VoIP pushes through pushd's rings over ONE HTTP/2
 * connection to pd_testsrv, at each injected server delay (emulated RTT),
 * plain and sealed (docs/push-encryption.md: AES-256-GCM of the metadata,
 * a fresh nonce each) on the same connection, then N Web Push pushes the
 * same way (each payload encrypted, RFC 8291; the server verifies and
 * decrypts every one as push service and browser), and the same load from
 * node-apn against the same server. Prints every run, then medians and
 * ratios against the targets (docs/performance.md).
 *
 *   pd_bench --server build/tests/pushd/pd_testsrv [--n 100000] [--runs 3]
 *            [--delays 0,20] [--node-dir build/node-apn] [--node-n 20000]
 *            [--window 2000] [--no-webpush]
 *
 * Both clients keep at most --window pushes in flight (closed loop). The
 * default, twice the server's 1000 streams, keeps the connection's streams
 * busy while the feeder refills, so latency includes up to one round trip
 * queued in the client; --window 1000 gives per-push latency instead.
 *
 * Without --node-dir node-apn is skipped. scripts/bench-push.sh runs it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pushd/pd_seal.h"
#include "tests/pushd/ts_harness.h"

#define MAX_RUNS 16

struct run {
	double pps, p50_ms, p99_ms, cpu_pps, thread_pps;
	unsigned ok;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void drain(struct pd *pd, uint64_t *lat, unsigned *got, unsigned *ok)
{
	struct pd_result *r[64];
	unsigned n;

	while ((n = pd_poll_results(pd, r, 64)) > 0)
		for (unsigned i = 0; i < n; i++) {
			lat[(*got)++] = r[i]->latency_us;
			*ok += r[i]->status == PD_DELIVERED;
			free(r[i]);
		}
}

/* N pushes, at most @window in flight (closed loop, so latency is the
 * push's own and not time spent queued behind the other N), sealed under a
 * device key when @sealed; returns 0 or -ETIMEDOUT. */
static int pushd_run(struct pd *pd, const struct pd_request *tmpl, unsigned n, unsigned window,
		     bool sealed, struct run *out)
{
	uint64_t *lat = calloc(n, sizeof(*lat));
	struct pd_request q = *tmpl;
	unsigned sent = 0, got = 0, ok = 0;
	double t0, c0, t1, deadline;
	uint64_t th0 = 0, th1 = 0;

	if (!lat)
		return -ENOMEM;
	q.deadline_ms = 0; /* now + wake window */
	if (sealed) {
		for (unsigned i = 0; i < sizeof(q.seal_key); i++)
			q.seal_key[i] = (uint8_t)(i * 7 + 1);
		pd_seal_kid(q.seal_key, q.seal_kid);
	}
	t0 = now_s();
	c0 = cpu_s();
	pd_thread_cpu_us(pd, &th0);
	deadline = t0 + 120;
	while (got < n && now_s() < deadline) {
		while (sent < n && sent - got < window) {
			q.id = sent;
			snprintf(q.call_id, sizeof(q.call_id), "call-%u@pbx", sent);
			if (pd_submit(pd, &q) != 0)
				break;
			sent++;
		}
		drain(pd, lat, &got, &ok);
		if (got < sent) {
			struct pollfd p = {.fd = pd_result_fd(pd), .events = POLLIN};
			uint64_t v;

			if (poll(&p, 1, 10) > 0 && read(p.fd, &v, sizeof(v)) < 0) {
				/* EAGAIN */
			}
		}
	}
	t1 = now_s();
	pd_thread_cpu_us(pd, &th1);
	out->thread_pps = th1 > th0 ? ok / ((double)(th1 - th0) / 1e6) : 0;
	qsort(lat, got, sizeof(*lat), cmp_u64);
	out->ok = ok;
	out->pps = ok / (t1 - t0);
	out->cpu_pps = ok / (cpu_s() - c0);
	out->p50_ms = got ? (double)lat[got / 2] / 1000 : 0;
	out->p99_ms = got ? (double)lat[(size_t)(got * 0.99)] / 1000 : 0;
	free(lat);
	return got == n ? 0 : -ETIMEDOUT;
}

static int node_run(const char *node_dir, const struct ts_keys *k, unsigned port, unsigned n,
		    unsigned window, struct run *out)
{
	char cmd[2048], line[256];
	unsigned ok = 0, failed = 0;
	double secs = 0;
	FILE *p;
	int found = 0;

	snprintf(cmd, sizeof(cmd),
		 "NODE_PATH=%s/node_modules timeout 300 node %s/node_apn_bench.js %u %s %s %s %s "
		 "%s %u %u",
		 node_dir, BENCH_DIR, port, k->path[K_P8], TS_KID, TS_TEAM, TS_BUNDLE,
		 k->path[K_TLS_CRT], n, window);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "RESULT %u %lf %lf %lf %u", &ok, &secs, &out->p50_ms, &out->p99_ms,
			   &failed) == 5)
			found = 1;
	pclose(p);
	if (!found || secs <= 0)
		return -EIO;
	out->ok = ok;
	out->pps = ok / secs;
	out->cpu_pps = 0;
	out->thread_pps = 0;
	return 0;
}

static void summary(const char *who, unsigned delay, struct run *r, unsigned runs, double *med_pps);

/* The same load as Web Push (one subscription on pd_testsrv, the VAPID JWT
 * signed once for its origin, every payload encrypted): its median next to
 * APNs' @apns_pps. 0 or 1. */
static int webpush_runs(struct ts_srv *srv, const struct ts_keys *keys, unsigned n, unsigned runs,
			unsigned window, unsigned delay, double apns_pps)
{
	struct run wr[MAX_RUNS], warm;
	struct pd_config cfg;
	struct pd_request tmpl;
	char ep[512], k[PD_PARAM_LEN], err[256];
	double wmed = 0;
	struct pd *pd;
	int rc = 0;

	if (ts_srv_wpsub(srv, "bench", ep, sizeof(ep), k, sizeof(k)) != 0)
		return 1;
	pd_config_defaults(&cfg);
	ts_pd_webpush(&cfg, keys);
	cfg.ring_size = 65536;
	cfg.wake_window_s = 120;
	pd = pd_new(&cfg, err, sizeof(err));
	if (!pd || pd_start(pd) != 0) {
		fprintf(stderr, "pd_bench: %s\n", err);
		pd_free(pd);
		return 1;
	}
	ts_request(&tmpl, PD_WEBPUSH, ep, 0);
	snprintf(tmpl.param, sizeof(tmpl.param), "%s", k);
	pushd_run(pd, &tmpl, 100, window, false, &warm);
	for (unsigned i = 0; i < runs && !rc; i++) {
		rc = pushd_run(pd, &tmpl, n, window, false, &wr[i]) ? 1 : 0;
		printf("run %u webpush  rtt=%2ums: %u ok, %9.0f pushes/s, p50 %.2f ms, p99 "
		       "%.2f ms, %.0f pushes per pushd-thread CPU-second\n",
		       i, delay, wr[i].ok, wr[i].pps, wr[i].p50_ms, wr[i].p99_ms, wr[i].thread_pps);
		fflush(stdout);
	}
	pd_free(pd);
	if (rc)
		return rc;
	summary("webpush", delay, wr, runs, &wmed);
	printf("RATIO    webpush/apns rtt=%2ums: %.2fx (payload encryption: an ECDH and an AES-GCM "
	       "per push)\n",
	       delay, apns_pps > 0 ? wmed / apns_pps : 0);
	return 0;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n ? v[n / 2] : 0;
}

static void summary(const char *who, unsigned delay, struct run *r, unsigned runs, double *med_pps)
{
	double pps[MAX_RUNS], p50[MAX_RUNS], p99[MAX_RUNS], cpu[MAX_RUNS], thr[MAX_RUNS];

	for (unsigned i = 0; i < runs; i++) {
		pps[i] = r[i].pps;
		p50[i] = r[i].p50_ms;
		p99[i] = r[i].p99_ms;
		cpu[i] = r[i].cpu_pps;
		thr[i] = r[i].thread_pps;
	}
	*med_pps = median(pps, runs);
	printf("MEDIAN %-8s rtt=%2ums: %9.0f pushes/s  p50 %7.2f ms  p99 %7.2f ms", who, delay,
	       *med_pps, median(p50, runs), median(p99, runs));
	if (cpu[0] > 0)
		printf("\n         %-8s          %9.0f pushes per CPU-second of the pushd thread, "
		       "%.0f of "
		       "the whole process (feeder + pushd)",
		       "", median(thr, runs), median(cpu, runs));
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", 1, NULL, 's'}, {"n", 1, NULL, 'n'},		{"runs", 1, NULL, 'r'},
		{"delays", 1, NULL, 'd'}, {"node-dir", 1, NULL, 'N'},	{"node-n", 1, NULL, 'm'},
		{"window", 1, NULL, 'w'}, {"no-webpush", 0, NULL, 'W'}, {NULL, 0, NULL, 0},
	};
	bool webpush = true;
	const char *server = NULL, *node_dir = NULL;
	char delays[64] = "0,20", args[64];
	unsigned n = 100000, runs = 3, node_n = 20000, streams = 1000, window = 2000;
	struct ts_keys keys;
	struct ts_srv srv;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		case 'r':
			runs = (unsigned)atoi(optarg);
			break;
		case 'd':
			snprintf(delays, sizeof(delays), "%s", optarg);
			break;
		case 'N':
			node_dir = optarg;
			break;
		case 'm':
			node_n = (unsigned)atoi(optarg);
			break;
		case 'w':
			window = (unsigned)atoi(optarg);
			break;
		case 'W':
			webpush = false;
			break;
		default:
			fprintf(stderr, "see the comment at the top of bench/pd_bench.c\n");
			return 2;
		}
	}
	if (!server || !n || !runs || runs > MAX_RUNS) {
		fprintf(stderr, "usage: pd_bench --server PD_TESTSRV [--n N] [--runs R] "
				"[--delays 0,20] [--node-dir DIR] [--node-n N]\n");
		return 2;
	}
	if (ts_keys_make(&keys) != 0) {
		fprintf(stderr, "pd_bench: cannot make test keys\n");
		return 1;
	}
	snprintf(args, sizeof(args), "--max-streams %u", streams);
	if (ts_srv_start(&srv, server, &keys, 0, args) != 0 || ts_srv_cmd(&srv, "events off")) {
		fprintf(stderr, "pd_bench: cannot start %s\n", server);
		ts_keys_remove(&keys);
		return 1;
	}
	printf("pd_bench: %u pushes per run (node-apn: %u), %u runs, at most %u in flight, server "
	       "cap %u streams, one connection\n",
	       n, node_n, runs, window, streams);
	for (char *save = NULL, *d = strtok_r(delays, ",", &save); d && !rc;
	     d = strtok_r(NULL, ",", &save)) {
		unsigned delay = (unsigned)atoi(d);
		struct run pr[MAX_RUNS], sr[MAX_RUNS], nr[MAX_RUNS];
		struct pd_config cfg;
		struct pd_request tmpl;
		struct pd *pd;
		struct run warm;
		double pmed = 0, smed = 0, nmed = 0;
		char err[256];

		ts_srv_cmd(&srv, "delay %u", delay);
		ts_pd_config(&cfg, &keys, srv.port);
		cfg.n_apns = 1; /* one credential, one connection */
		cfg.max_connections = 1;
		cfg.n_fcm = 0;
		cfg.ring_size = 65536;
		cfg.wake_window_s = 120;
		pd = pd_new(&cfg, err, sizeof(err));
		if (!pd || pd_start(pd) != 0) {
			fprintf(stderr, "pd_bench: %s\n", err);
			rc = 1;
			break;
		}
		ts_request(&tmpl, PD_APNS, "ab01", 0);
		pushd_run(pd, &tmpl, 100, window, false, &warm); /* connect and handshake untimed */
		/* Plain and sealed runs alternate on the one connection: both see
		 * the same server, the same warm-up, the same drift. */
		for (unsigned i = 0; i < runs && !rc; i++) {
			for (int s = 0; s < 2 && !rc; s++) {
				struct run *r = s ? &sr[i] : &pr[i];

				rc = pushd_run(pd, &tmpl, n, window, s, r) ? 1 : 0;
				printf("run %u %-8s rtt=%2ums: %u ok, %9.0f pushes/s, p50 %.2f ms, "
				       "p99 %.2f ms, %.0f pushes per pushd-thread CPU-second\n",
				       i, s ? "sealed" : "pushd", delay, r->ok, r->pps, r->p50_ms,
				       r->p99_ms, r->thread_pps);
				fflush(stdout);
			}
		}
		pd_free(pd);
		if (rc)
			break;
		summary("pushd", delay, pr, runs, &pmed);
		summary("sealed", delay, sr, runs, &smed);
		printf("RATIO    sealed/plain rtt=%2ums: %.2fx pushes/s (APNs sealed vs plain)\n",
		       delay, pmed > 0 ? smed / pmed : 0);
		if (delay)
			printf("TARGET   pushd    rtt=%2ums: >= 0.8 x streams/RTT = %.0f pushes/s: "
			       "%s\n",
			       delay, 0.8 * streams * 1000.0 / delay,
			       pmed >= 0.8 * streams * 1000.0 / delay ? "met" : "NOT met");
		else
			printf("TARGET   pushd    rtt= 0ms: >= 50000 pushes/s: %s\n",
			       pmed >= 50000 ? "met" : "NOT met");
		if (webpush && !rc)
			rc = webpush_runs(&srv, &keys, n, runs, window, delay, pmed);
		if (!node_dir || rc)
			continue;
		for (unsigned i = 0; i < runs; i++) {
			if (node_run(node_dir, &keys, srv.port, node_n, window, &nr[i]) != 0) {
				fprintf(stderr, "pd_bench: node-apn run failed\n");
				rc = 1;
				break;
			}
			printf("run %u node-apn rtt=%2ums: %u ok, %9.0f pushes/s, p50 %.2f ms, p99 "
			       "%.2f ms\n",
			       i, delay, nr[i].ok, nr[i].pps, nr[i].p50_ms, nr[i].p99_ms);
			fflush(stdout);
		}
		if (rc)
			break;
		summary("node-apn", delay, nr, runs, &nmed);
		printf("RATIO    pushd/node-apn rtt=%2ums: %.1fx (target >= 5x: %s)\n", delay,
		       nmed > 0 ? pmed / nmed : 0,
		       nmed > 0 && pmed >= 5 * nmed ? "met" : "NOT met");
	}
	if (ts_srv_stop(&srv) != 0)
		rc = 1;
	ts_keys_remove(&keys);
	return rc;
}
