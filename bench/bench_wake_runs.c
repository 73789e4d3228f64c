/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_wake's measurements (bench_wake.c describes them): (c) memory per
 * held INVITE, then the timed runs of (a) INVITE in -> push request written
 * and (b) accepted REGISTER -> INVITE out, each run's percentiles, their
 * medians over the runs and the targets.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>

#include "bench/bench_sip.h"
#include "bench/bench_wake_cp.h"
#include "bench/bench_wake_runs.h"
#include "bench/bench_wake_seams.h"
#include "bench/bench_wake_sip.h"
#include "controlplane/calls/cp_call.h"
#include "controlplane/cp_internal.h"
#include "pushd/pd_internal.h"

#define WINDOW 256 /* (c): pushes in flight at most */

/* Up to @max results (each freed), waiting at most @ms for the first:
 * their written_us and ids into @written / @ids (if not NULL). Read here
 * instead of by cp_call_poll_push(), which does nothing with a delivered
 * call push.
 * @return how many (0: none within @ms), -EIO on a push not delivered. */
static int results(uint64_t *written, uint64_t *ids, unsigned max, int ms)
{
	struct pd_result *r[64];
	uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000 * (uint64_t)ms;
	unsigned n;
	int bad = 0;

	while ((n = pd_poll_results(wake.pd, r, RTE_MIN(max, RTE_DIM(r)))) == 0 &&
	       rte_rdtsc() < deadline) {
		struct pollfd p = {.fd = pd_result_fd(wake.pd), .events = POLLIN};
		uint64_t v;

		if (poll(&p, 1, 10) > 0 && read(p.fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: taken by an earlier read */
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (r[i]->status != PD_DELIVERED) {
			fprintf(stderr, "bench_wake: push %" PRIx64 ": %s %s\n", r[i]->id,
				pd_status_name(r[i]->status), r[i]->reason);
			bad = 1;
		}
		if (written != NULL)
			written[i] = r[i]->written_us;
		if (ids != NULL)
			ids[i] = r[i]->id;
		free(r[i]);
	}
	return bad ? -EIO : (int)n;
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

int wake_memory(unsigned n)
{
	uint64_t got = 0, sub0;
	long rss0, rss1;
	size_t heap0, heap1;
	struct cp_call_held hd;
	struct wake_sent s;
	unsigned ok;
	int rc;

	if (wake_cp_new(n, n) != 0)
		return 1;
	ok = wake_register_all(0, n, 0);
	if (ok != n) {
		fprintf(stderr, "bench_wake: %u of %u devices registered\n", ok, n);
		return 1;
	}
	malloc_trim(0);
	rss0 = rss_bytes();
	heap0 = mallinfo2().uordblks;
	sub0 = seams.n_submitted;
	for (unsigned b = 0; b < n; b += BATCH) {
		for (unsigned i = b; i < n && i < b + BATCH; i++)
			wake_send_invite(i, 0, 0);
		wake_up_all();
		wake_drain_down(&s);
		while (seams.n_submitted - sub0 - got > WINDOW) {
			if ((rc = results(NULL, NULL, 64, 5000)) <= 0)
				goto timeout;
			got += (uint64_t)rc;
		}
	}
	while (got < seams.n_submitted - sub0) {
		if ((rc = results(NULL, NULL, 64, 5000)) <= 0)
			goto timeout;
		got += (uint64_t)rc;
	}
	rss1 = rss_bytes();
	heap1 = mallinfo2().uordblks;
	cp_call_tick(wake.cp, rte_rdtsc()); /* the held-call telemetry (no timer is due) */
	cp_call_held(wake.cp, &hd);
	printf("(c) held %u calls (pushes delivered %" PRIu64 ", wake.max_held %u)\n", hd.held, got,
	       hd.max);
	printf("(c) memory_per_held_rss  %.0f B/call (RSS growth / calls)\n",
	       (double)(rss1 - rss0) / n);
	printf("(c) memory_per_held_heap %.0f B/call (malloc'ed: the INVITE copy, %d B here, and "
	       "the 100 Trying kept for retransmissions, %d B)\n",
	       ((double)heap1 - (double)heap0) / n, wake_invite_len, wake_trying_len);
	/* Per slot: the call, two buckets of each index (transactions,
	 * devices), the transaction index's chain link, hash and free-list
	 * entry (common/sw_txidx.h). */
	printf("(c) reserved per wake.max_held slot: about %zu B (struct cp_held_call %zu B, "
	       "index buckets, chain link, hash, free-list entry), touched when used\n",
	       sizeof(struct cp_held_call) + 7 * sizeof(uint32_t), sizeof(struct cp_held_call));
	printf("(c) pushd while a push is in flight: %zu B (struct pd_job) + its JSON body\n",
	       sizeof(struct pd_job));
	fflush(stdout);
	wake_cp_free();
	return hd.held == n ? 0 : 1;

timeout:
	fprintf(stderr,
		"bench_wake: (c) push results missing or failed (%" PRIu64 " of %" PRIu64 ")\n",
		got, seams.n_submitted - sub0);
	wake_dump_counters();
	return 1;
}

struct run {
	double *a, *a_cp, *a_pd, *b, *b_in, *b_commit;
	unsigned na, nb;
};

static double us(uint64_t cycles)
{
	return (double)cycles * 1e6 / (double)rte_get_tsc_hz();
}

/* Calls to devices [i, i + n) (held, one push each): (a). */
static int calls(struct run *r, unsigned i, unsigned n, unsigned call)
{
	struct rte_mbuf *up[MAX_BURST];
	uint64_t t0, written[MAX_BURST], ids[MAX_BURST];
	unsigned got = 0, k;
	struct wake_sent s;
	int rc;

	for (k = 0; k < n; k++)
		wake_send_invite(i + k, call, call);
	if (bench_take_up(&wake.h, up, n) != n)
		return -EINVAL;
	seams.n_subs = 0;
	t0 = rte_rdtsc();
	for (k = 0; k < n; k++)
		cp_sip_in(wake.cp, up[k]);
	wake_drain_down(&s);
	if (seams.n_subs != n || s.trying != n)
		return -EINVAL;
	while (got < n) {
		if ((rc = results(written + got, ids + got, n - got, 5000)) <= 0)
			return -ETIMEDOUT;
		got += (unsigned)rc;
	}
	for (k = 0; k < n; k++)
		for (unsigned j = 0; j < seams.n_subs; j++)
			if (seams.subs[j].id == ids[k]) {
				double c = us(seams.subs[j].tsc - t0), p = (double)written[k];

				r->a_cp[r->na] = c;
				r->a_pd[r->na] = p;
				r->a[r->na++] = c + p;
			}
	return 0;
}

/* Devices [i, i + n) re-REGISTER from generation @gen; the PBX's 200s are
 * handed up in one loop round: (b). */
static int wakes(struct run *r, unsigned i, unsigned n, unsigned gen)
{
	struct rte_mbuf *up[MAX_BURST];
	uint64_t t0, t1;
	unsigned k;
	struct wake_sent s;

	for (k = 0; k < n; k++)
		wake_send_register(i + k, gen);
	wake_up_all();
	wake_drain_down(&s); /* relayed; the PBX's 200s go through the worker */
	if (bench_take_up(&wake.h, up, n) != n)
		return -EINVAL;
	seams.n_inv = 0;
	seams.sync_cycles = 0;
	t0 = rte_rdtsc();
	for (k = 0; k < n; k++)
		cp_sip_in(wake.cp, up[k]);
	t1 = rte_rdtsc();
	cp_reg_flush(wake.cp); /* as cp_run() ends its round */
	if (seams.n_inv != n)
		return -EINVAL;
	for (k = 0; k < n; k++) {
		r->b_in[r->nb] = us(t1 - t0);
		r->b[r->nb] = us(seams.inv_tsc[k] - t0);
		r->b_commit[r->nb++] = us(seams.sync_cycles);
	}
	wake_drain_down(&s);
	for (k = 0; k < n; k++) {
		char ip[24];
		uint16_t port;

		wake_dev_addr(i + k, gen, ip, sizeof(ip), &port);
		if (s.inv_port[k] != port)
			return -EINVAL;
	}
	urcu_qsbr_quiescent_state();
	return s.ok == n && s.invites == n ? 0 : -EINVAL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, unsigned n, double p)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n ? v[(size_t)((double)(n - 1) * p + 0.5)] : 0;
}

static double median(double *v, unsigned n)
{
	return pct(v, n, 0.5);
}

/* The printed figures of one run, in microseconds. */
enum { A50, A99, ACP50, ACP99, APD50, APD99, B50, B99, BI50, BI99, BC50, BC99, N_FIGS };

static void figures(struct run *r, double *f)
{
	double *v[] = {r->a, r->a_cp, r->a_pd, r->b, r->b_in, r->b_commit};

	for (unsigned k = 0; k < RTE_DIM(v); k++) {
		unsigned n = k < 3 ? r->na : r->nb;

		f[2 * k] = pct(v[k], n, .5);
		f[2 * k + 1] = pct(v[k], n, .99);
	}
}

static void print_figs(const char *who, const double *f)
{
	printf("%-6s (a) invite_to_push_written     p50 %7.1f us  p99 %7.1f us  (control plane "
	       "p50 %.1f / p99 %.1f, pushd p50 %.0f / p99 %.0f)\n",
	       who, f[A50], f[A99], f[ACP50], f[ACP99], f[APD50], f[APD99]);
	printf("%-6s (b) register_200_to_invite_out p50 %7.1f us  p99 %7.1f us  (200 taken "
	       "p50 %.1f / p99 %.1f, store commit p50 %.1f / p99 %.1f)\n",
	       who, f[B50], f[B99], f[BI50], f[BI99], f[BC50], f[BC99]);
}

/* Every sample of run @k, one line each: "<run> a|b <us>" (--samples). */
static void dump_samples(FILE *f, unsigned k, const struct run *r)
{
	for (unsigned i = 0; i < r->na; i++)
		fprintf(f, "%u a %.3f\n", k, r->a[i]);
	for (unsigned i = 0; i < r->nb; i++)
		fprintf(f, "%u b %.3f\n", k, r->b[i]);
}

int wake_timed(unsigned count, unsigned runs, unsigned burst, FILE *samples)
{
	double f[MAX_RUNS][N_FIGS], m[N_FIGS], *mem = calloc(6 * (size_t)count, sizeof(double));
	struct run r = {mem,
			mem + count,
			mem + 2 * count,
			mem + 3 * count,
			mem + 4 * count,
			mem + 5 * count,
			0,
			0};
	char who[16];
	int rc = 0;

	if (mem == NULL || wake_cp_new(count, count * runs) != 0 ||
	    wake_register_all(0, count, 0) != count) {
		free(mem);
		return 1;
	}
	for (unsigned k = 0; k < runs && rc == 0; k++) {
		r.na = r.nb = 0;
		for (unsigned i = 0; i < count && rc == 0; i += burst) {
			unsigned n = RTE_MIN(burst, count - i);

			/* Each call from the device's current address (gen k), the
			 * wake from the next one. */
			if ((rc = calls(&r, i, n, k)) != 0)
				fprintf(stderr, "bench_wake: (a) calls %u..: %s\n", i,
					strerror(-rc));
			else if ((rc = wakes(&r, i, n, k + 1)) != 0)
				fprintf(stderr, "bench_wake: (b) wakes %u..: %s\n", i,
					strerror(-rc));
		}
		if (rc != 0)
			break;
		if (samples != NULL)
			dump_samples(samples, k, &r);
		figures(&r, f[k]);
		snprintf(who, sizeof(who), "run %u", k);
		print_figs(who, f[k]);
		fflush(stdout);
	}
	if (rc == 0) {
		for (unsigned j = 0; j < N_FIGS; j++) {
			double v[MAX_RUNS];

			for (unsigned k = 0; k < runs; k++)
				v[k] = f[k][j];
			m[j] = median(v, runs);
		}
		print_figs("MEDIAN", m);
		printf("TARGET (a) p99 <= 1000 us: %s\n", m[A99] <= 1000 ? "met" : "NOT met");
		printf("TARGET (b) p99 <= 100 us: %s\n", m[B99] <= 100 ? "met" : "NOT met");
	}
	free(mem);
	wake_cp_free();
	return rc != 0;
}
