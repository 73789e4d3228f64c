/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wake path's overhead inside sipwake (docs/performance.md, "bench_wake"): the control
 * plane on this thread with the worker pipeline harness (tests/dp), the
 * SQLite store, a PBX simulated here, and pushd on its thread sending to
 * pd_testsrv, which answers at once (no injected delay). As in sipwake, the
 * push thread shares the main lcore's CPU with the control plane.
 *
 * (a) INVITE in -> push request written. From the control plane taking the
 *     handed-up INVITE (cp_sip_in() called) until pushd has handed the last
 *     frame (END_STREAM) of that push's HTTP/2 request to TLS. Two parts,
 *     summed per INVITE: the control plane's, until it calls pd_submit()
 *     (timed through the link seam below: lookups, 100 Trying, the INVITE
 *     copied, the push request filled); pushd's, pd_result.written_us (from
 *     pd_submit() to the request written: the ring, waking the push thread,
 *     JSON body, HPACK, nghttp2). Not in it: the worker and the up ring
 *     before (bench_dp), and TLS encrypting and write(2)ing the frames,
 *     which libevent does on the push loop's next pass.
 * (b) accepted REGISTER -> INVITE out. From the control plane taking the
 *     PBX's 200 to the device's REGISTER (from a new port) until the INVITE
 *     for the held call is on the worker's down ring, to the new port: the
 *     200 matched and bound, one loop round's store commit (cp_reg_flush():
 *     durable before relayed), the 200 relayed to the app, the INVITE built.
 *     Printed apart: the 200 taken (cp_sip_in(): matched, bound, written to
 *     the store's open transaction) and the commit.
 * (c) memory per held INVITE: --held calls held at once (one device each,
 *     each pushed to pd_testsrv, at most 256 pushes in flight so pushd's
 *     transient jobs stay small): RSS growth / calls, malloc'ed bytes growth
 *     / calls, and what the control plane reserves per wake.max_held slot.
 *
 * A run: --count devices each get a call (a), one at a time (the push's
 * answer is awaited: latency, not throughput), then each re-REGISTERs from a
 * new port and its INVITE goes out (b), one per loop round. --burst B hands
 * B INVITEs / B 200s up per loop round instead, each timed from the round's
 * start. Prints each run, the median over --runs of each percentile, and the
 * targets (docs/performance.md, "Targets"). (c) runs once, first, with a clean heap (--held 0: not at
 * all).
 *
 *   bench_wake --server build/tests/pushd/pd_testsrv [--smoke] [--count N]
 *              [--runs R] [--held N] [--burst B] [--no-store] [--samples FILE]
 *
 * --samples FILE writes every timed sample of (a) and (b), one line each,
 * "<run> a|b <microseconds>", for distributions (scripts/report/wake.py).
 * --no-store runs without the SQLite store, to show its share (sipwake
 * always has one).
 *
 * Link seams (bench/meson.build, -Wl,--wrap; bench_wake_seams.c): pd_submit,
 * cp_udp_send and cp_bind_sync are timed where the control plane calls them;
 * they run as is.
 *
 * This file is main: options, pd_testsrv, EAL and pushd, then the runs
 * (bench_wake_runs.c), which drive the devices and the PBX
 * (bench_wake_sip.c) and the control plane under test (bench_wake_cp.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench_wake_cp.h"
#include "bench/bench_wake_runs.h"
#include "bench/bench_wake_sip.h"
#include "pushd/pd.h"
#include "tests/dp/dp_harness.h"
#include "tests/pushd/ts_harness.h"

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"server", 1, NULL, 'S'},   {"smoke", 0, NULL, 's'},   {"count", 1, NULL, 'c'},
		{"runs", 1, NULL, 'r'},	    {"held", 1, NULL, 'H'},    {"burst", 1, NULL, 'b'},
		{"no-store", 0, NULL, 'n'}, {"samples", 1, NULL, 'o'}, {NULL, 0, NULL, 0}};
	unsigned count = 5000, runs = 3, held = 100000, burst = 1;
	const char *server = NULL, *samples_path = NULL;
	FILE *samples = NULL;
	struct pd_config pcfg;
	struct ts_keys keys;
	struct ts_srv srv;
	char err[256];
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'S':
			server = optarg;
			break;
		case 's':
			count = 200;
			runs = 1;
			held = 2000;
			break;
		case 'c':
			count = (unsigned)atoi(optarg);
			break;
		case 'r':
			runs = (unsigned)atoi(optarg);
			break;
		case 'H':
			held = (unsigned)atoi(optarg);
			break;
		case 'b':
			burst = (unsigned)atoi(optarg);
			break;
		case 'n':
			wake.no_store = true;
			break;
		case 'o':
			samples_path = optarg;
			break;
		default:
			return 2;
		}
	}
	if (server == NULL || count < 1 || runs < 1 || runs > MAX_RUNS || burst < 1 ||
	    burst > MAX_BURST || count > 200 * DEV_PER_IP || held > 200 * DEV_PER_IP) {
		fprintf(stderr,
			"usage: bench_wake --server PD_TESTSRV [--smoke] [--count N] "
			"[--runs R<=%u] [--held N] [--burst B<=%u] [--no-store] [--samples FILE]\n",
			MAX_RUNS, MAX_BURST);
		return 2;
	}
	if (samples_path != NULL && (samples = fopen(samples_path, "w")) == NULL) {
		perror(samples_path);
		return 1;
	}
	if (ts_keys_make(&keys) != 0) {
		fprintf(stderr, "bench_wake: cannot make test keys\n");
		goto fail_samples;
	}
	if (ts_srv_start(&srv, server, &keys, 0, NULL) != 0 || ts_srv_cmd(&srv, "events off")) {
		fprintf(stderr, "bench_wake: cannot start %s\n", server);
		goto fail_keys;
	}
	if (dph_init(&wake.h, "bench_wake") != 0 || wake_stores_make() != 0)
		goto fail_eal;
	/* After EAL, as sipwake starts it (app/main.c): the push thread inherits
	 * the main lcore's affinity and shares its core with the control plane. */
	ts_pd_config(&pcfg, &keys, srv.port);
	pcfg.n_apns = 1; /* one token credential, one connection */
	pcfg.n_fcm = 0;
	pcfg.max_connections = 1;
	pcfg.ring_size = 4096;
	wake.pd = pd_new(&pcfg, err, sizeof(err));
	if (wake.pd == NULL || pd_start(wake.pd) != 0) {
		fprintf(stderr, "bench_wake: pushd: %s\n", wake.pd ? "cannot start" : err);
		goto fail_pd;
	}
	wake.h.ctx->p.n_servers = 1;
	wake.h.ctx->p.servers[0] = (struct dp_server){.ip = dph_ip(DPH_PBX_IP4), .port = 5060};
	dp_policy_servers_from(wake.h.ctx->policy, &wake.h.ctx->p);
	/* Every app is new (unknown source): no metering in this benchmark. */
	wake.h.ctx->policy->rates.source = wake.h.ctx->policy->rates.global =
		wake.h.ctx->policy->rates.prefix = wake.h.ctx->policy->rates.expected =
			(struct dp_rate){1000000000, 1000000000};
	/* alive_window 0: a device is asleep as soon as its REGISTER is past. */
	wake.h.ctx->p.alive_window_tsc = 0;
	{
		/* Building a frame from the PBX teaches the neighbour table its MAC. */
		struct rte_mbuf *m[2];
		struct dph_pkt pk = {.src = DPH_PBX_IP4, .sport = 5060, .payload = "x", .len = 1};
		int n = dph_build(&wake.h, &pk, m, 2);

		for (int i = 0; i < n; i++)
			rte_pktmbuf_free(m[i]);
	}
	printf("bench_wake: pd_testsrv answering at once, one HTTP/2 connection; (c) %u held; "
	       "(a)/(b) %u calls per run, %u run(s), %u per loop round; store %s\n",
	       held, count, runs, burst, wake.no_store ? "none" : "SQLite, synchronous=NORMAL");
	fflush(stdout);
	rc = (held > 0 && wake_memory(held)) || wake_timed(count, runs, burst, samples);
fail_pd:
	pd_free(wake.pd);
	wake_stores_remove();
fail_eal:
	dph_fini(&wake.h);
	if (ts_srv_stop(&srv) != 0)
		rc = 1;
fail_keys:
	ts_keys_remove(&keys);
fail_samples:
	if (samples != NULL && fclose(samples) != 0)
		rc = 1;
	return rc;
}
