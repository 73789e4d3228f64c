/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cluster's benchmark (docs/performance.md, "Several edges (Redis)";
 * docs/cluster.md, "Ten million devices"): two or more edges' links to one
 * Redis, driven from one thread as the control plane drives its own (each
 * pass calls cl_run() / cp_store_poll() on every link in turn and sleeps
 * --idle-us, 50 like the control plane's loop, when none did anything).
 *
 *   feed lag     A submits a batch of 1, 8 or 64 changes (realistic
 *                bindings, cp_codec_encode(): ~540-byte values); B's
 *                change() notes each arrival; per change, arrival - submit
 *                (bench_cluster_feed.c). One batch at a time.
 *   write rate   batches of 64, up to 32 in flight, with 2 and --readers
 *                edges tailing the feed: changes/s Redis acknowledges, the
 *                lag at that load, Redis CPU per change.
 *   wake across  the registering edge A's binding written (cp_store_put()
 *                + cp_store_submit(), the round's batch) -> the holding
 *                edge B's store hook change(), the device decoded and put
 *                into B's binding table (sw_bind_put()): what the control
 *                plane does before it sends the held INVITE
 *                (bench_cluster_store.c). Not in it: the REGISTER's relay
 *                and the PBX's 200 on A (bench_reg), the INVITE built and
 *                sent on B (bench_wake (b)), the network between boxes
 *                (all here is 127.0.0.1). Beside it: A's done() (its 200
 *                may leave).
 *   memory       N bindings through A's store: INFO memory used_memory
 *                after - before, per binding, with the feed (trimmed at
 *                about 100000 entries) and after XTRIM MAXLEN 0; again
 *                with hash-max-listpack-value 1024.
 *   restart      --count bindings written into Redis in the link's layout,
 *                then a fresh shared store's cp_store_load() into a real
 *                binding table: seconds until all are in it, how many were
 *                in when cp_store_load() returned, Redis CPU per binding.
 *   codec        cp_codec_encode() / cp_codec_decode() of one binding.
 *
 *   bench_cluster (--redis HOST:PORT | --spawn-redis) [--smoke] [--runs R]
 *       [--changes N] [--wakes N] [--tput N] [--readers R] [--mem N]
 *       [--count N] [--no-load] [--idle-us U]
 *
 * Prints one figure a line ("name value unit", medians of the runs; '#'
 * lines are context), then a table against the targets. Keys go under
 * "swbench:<pid>:" and are deleted at the end.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "bench/bench_cluster.h"

#define LAG_TARGET_US 5000.0
#define LOAD_TARGET_S 10.0
#define MEM_TARGET_B  1024.0
#define REG_TARGET_S  50000.0

/* Every run's figures. */
struct runs {
	struct bc_lag lag[BC_MAX_RUNS];
	struct bc_wake wake[BC_MAX_RUNS];
	struct bc_tput t2[BC_MAX_RUNS], tr[BC_MAX_RUNS];
	struct bc_mem mem[BC_MAX_RUNS];
	struct bc_load load[BC_MAX_RUNS];
	struct bc_codec codec[BC_MAX_RUNS];
};

/* The median over the runs of the double at @p off in each run's struct. */
static double med(const void *base, size_t size, size_t off, unsigned n)
{
	double v[BC_MAX_RUNS];

	for (unsigned i = 0; i < n; i++)
		memcpy(&v[i], (const char *)base + i * size + off, sizeof(double));
	return bc_median(v, n);
}

static unsigned runs_n; /* runs done */

#define MED(arr, field, n) med((arr), sizeof((arr)[0]), offsetof(__typeof__((arr)[0]), field), n)

/* The median feed lag p50 (@p p99 false) or p99 of batch size index @p s. */
static double lag_med(const struct runs *r, bool p99, unsigned s)
{
	return med(r->lag, sizeof(r->lag[0]),
		   (p99 ? offsetof(struct bc_lag, p99) : offsetof(struct bc_lag, p50)) +
			   s * sizeof(double),
		   runs_n);
}

static const char *verdict(bool met)
{
	return met ? "met" : "missed";
}

static int usage(const char *me)
{
	fprintf(stderr,
		"usage: %s (--redis HOST:PORT | --spawn-redis) [--smoke] [--runs R] "
		"[--changes N] [--wakes N] [--tput N] [--readers R] [--mem N] [--count N] "
		"[--no-load] [--idle-us U]\n",
		me);
	return 2;
}

static int parse(int argc, char **argv, struct bc_opts *o, bool *spawn, bool *no_load)
{
	static const struct option lo[] = {{"redis", required_argument, NULL, 'R'},
					   {"spawn-redis", no_argument, NULL, 'S'},
					   {"smoke", no_argument, NULL, 's'},
					   {"runs", required_argument, NULL, 'r'},
					   {"changes", required_argument, NULL, 'c'},
					   {"wakes", required_argument, NULL, 'w'},
					   {"tput", required_argument, NULL, 't'},
					   {"readers", required_argument, NULL, 'p'},
					   {"mem", required_argument, NULL, 'm'},
					   {"count", required_argument, NULL, 'n'},
					   {"no-load", no_argument, NULL, 'L'},
					   {"idle-us", required_argument, NULL, 'i'},
					   {NULL, 0, NULL, 0}};
	bool have = false;
	int opt;

	*o = (struct bc_opts){.runs = 3,
			      .changes = 20000,
			      .wakes = 5000,
			      .tput = 100000,
			      .readers = 8,
			      .mem = 100000,
			      .load = 1000000,
			      .idle_us = 50};
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long v = optarg != NULL ? strtoul(optarg, NULL, 10) : 0;

		switch (opt) {
		case 'R':
			if (bench_redis_parse(&o->rd, optarg) != 0)
				return usage(argv[0]);
			have = true;
			break;
		case 'S':
			*spawn = have = true;
			break;
		case 's':
			o->runs = 1;
			o->changes = 64;
			o->wakes = 20;
			o->tput = 640;
			o->readers = 3;
			o->mem = 500;
			o->load = 2000;
			break;
		case 'r':
			o->runs = (unsigned)v;
			break;
		case 'c':
			o->changes = (unsigned)v;
			break;
		case 'w':
			o->wakes = (unsigned)v;
			break;
		case 't':
			o->tput = (unsigned)v;
			break;
		case 'p':
			o->readers = (unsigned)v;
			break;
		case 'm':
			o->mem = (unsigned)v;
			break;
		case 'n':
			o->load = (unsigned)v;
			break;
		case 'L':
			*no_load = true;
			break;
		case 'i':
			o->idle_us = (unsigned)v;
			break;
		default:
			return usage(argv[0]);
		}
	}
	if (!have || o->runs < 1 || o->runs > BC_MAX_RUNS || o->changes < 1 || o->wakes < 1 ||
	    o->tput < 1 || o->readers < 2 || o->readers > BC_MAX_READERS || o->mem < 1 ||
	    o->load < 1 || o->load > (1u << 24) || o->idle_us > 100000)
		return usage(argv[0]);
	return 0;
}

static int one_run(struct bc_opts *o, struct runs *r, unsigned i)
{
	if (bc_run_codec(o, &r->codec[i]) != 0 || bc_run_lag(o, &r->lag[i]) != 0 ||
	    bc_run_wake(o, &r->wake[i]) != 0 || bc_run_tput(o, 2, &r->t2[i]) != 0 ||
	    bc_run_tput(o, o->readers, &r->tr[i]) != 0 || bc_run_mem(o, &r->mem[i]) != 0)
		return -1;
	printf("# run %u: lag p99 %.0f / %.0f / %.0f us, wake p99 %.0f us, %.0f / %.0f "
	       "changes/s, %.0f B/binding\n",
	       i + 1, r->lag[i].p99[0], r->lag[i].p99[1], r->lag[i].p99[2], r->wake[i].p99,
	       r->t2[i].changes_s, r->tr[i].changes_s, r->mem[i].without_feed);
	fflush(stdout);
	return 0;
}

static void report(const struct bc_opts *o, struct runs *r, bool no_load, double wr_s, double wr_b)
{
	static const unsigned sizes[3] = {1, 8, 64};
	unsigned n = o->runs;
	double lag99 = 0;

	runs_n = n;
	for (unsigned s = 0; s < 3; s++) {
		double p50 = lag_med(r, 0, s), p99 = lag_med(r, 1, s);

		printf("feed_lag_b%u_p50 %.0f us\nfeed_lag_b%u_p99 %.0f us\n", sizes[s], p50,
		       sizes[s], p99);
		lag99 = p99 > lag99 ? p99 : lag99;
	}
	printf("feed_value_bytes %.0f bytes\n", MED(r->lag, val_bytes, n));
	printf("wake_across_p50 %.0f us\nwake_across_p99 %.0f us\n", MED(r->wake, p50, n),
	       MED(r->wake, p99, n));
	printf("wake_ack_p50 %.0f us\nwake_ack_p99 %.0f us\n", MED(r->wake, ack_p50, n),
	       MED(r->wake, ack_p99, n));
	printf("write_2_changes_per_s %.0f changes/s\nwrite_2_lag_p50 %.0f us\n"
	       "write_2_lag_p99 %.0f us\nwrite_2_redis_cpu %.2f us/change\n",
	       MED(r->t2, changes_s, n), MED(r->t2, lag_p50, n), MED(r->t2, lag_p99, n),
	       MED(r->t2, redis_us, n));
	printf("write_%u_changes_per_s %.0f changes/s\nwrite_%u_lag_p50 %.0f us\n"
	       "write_%u_lag_p99 %.0f us\nwrite_%u_redis_cpu %.2f us/change\n",
	       o->readers, MED(r->tr, changes_s, n), o->readers, MED(r->tr, lag_p50, n), o->readers,
	       MED(r->tr, lag_p99, n), o->readers, MED(r->tr, redis_us, n));
	printf("codec_encode %.2f us/binding\ncodec_decode %.2f us/binding\n",
	       MED(r->codec, encode_us, n), MED(r->codec, decode_us, n));
	printf("redis_bytes_per_binding_listpack %.0f bytes (without the feed, "
	       "hash-max-listpack-value 1024)\n",
	       MED(r->mem, listpack, n));
	printf("redis_bytes_per_binding %.0f bytes (without the feed)\n"
	       "redis_bytes_per_binding_with_feed %.0f bytes (%u bindings, feed of %.0f "
	       "entries)\nredis_bytes_per_feed_entry %.0f bytes\n",
	       MED(r->mem, without_feed, n), MED(r->mem, with_feed, n), o->mem,
	       (double)r->mem[0].feed_len, MED(r->mem, feed_entry, n));
	printf("redis_feed_entries %u entries (after %u bindings, feed_maxlen 100000)\n",
	       r->mem[0].feed_len, o->mem);
	if (!no_load) {
		bool waited = false;

		for (unsigned i = 0; i < n; i++)
			waited |= r->load[i].waited_out;
		printf("load_write_s %.2f s (%u bindings pipelined straight into Redis, once)\n",
		       wr_s, o->load);
		printf("load_redis_bytes_per_binding %.0f bytes (%u bindings, no feed)\n", wr_b,
		       o->load);
		printf("load_waited_out %d (1: cp_store_load() returned at its 10 s limit with "
		       "part "
		       "of the bindings; the rest came through the feed reader's resync)\n",
		       waited);
		printf("load_s %.2f s (%u bindings, cp_store_open_shared() to the last in the "
		       "table%s)\nload_per_s %.0f bindings/s\n",
		       MED(r->load, seconds, n), o->load,
		       waited ? "; cp_store_load() stopped waiting at 10 s" : "",
		       MED(r->load, per_s, n));
		printf("load_at_return %.0f bindings (in the table when cp_store_load() returned, "
		       "after %.2f s)\n",
		       MED(r->load, at_return, n), MED(r->load, return_s, n));
		printf("load_redis_cpu %.2f us/binding (Redis CPU, user + sys, over the load)\n",
		       MED(r->load, redis_us, n));
	}
	printf("\n| figure (median of %u) | measured | target | |\n|---|---|---|---|\n", n);
	printf("| feed lag, batch 1 / 8 / 64, p50 | %.0f / %.0f / %.0f µs | | |\n",
	       lag_med(r, 0, 0), lag_med(r, 0, 1), lag_med(r, 0, 2));
	printf("| feed lag, batch 1 / 8 / 64, p99 | %.0f / %.0f / %.0f µs | p99 < 5 ms | %s |\n",
	       lag_med(r, 1, 0), lag_med(r, 1, 1), lag_med(r, 1, 2),
	       verdict(lag99 < LAG_TARGET_US));
	printf("| wake across edges p50 / p99 | %.0f / %.0f µs | | |\n", MED(r->wake, p50, n),
	       MED(r->wake, p99, n));
	printf("| writes, 2 / %u edges reading | %.0f / %.0f changes/s | | |\n", o->readers,
	       MED(r->t2, changes_s, n), MED(r->tr, changes_s, n));
	printf("| Redis memory per binding | %.0f B (%.0f with a %u-entry feed) | ≤ 1 KiB | %s "
	       "|\n",
	       MED(r->mem, without_feed, n), MED(r->mem, with_feed, n), r->mem[0].feed_len,
	       verdict(MED(r->mem, without_feed, n) <= MEM_TARGET_B));
	printf("| the same, hash-max-listpack-value 1024 | %.0f B | ≤ 1 KiB | %s |\n",
	       MED(r->mem, listpack, n), verdict(MED(r->mem, listpack, n) <= MEM_TARGET_B));
	if (!no_load)
		printf("| restart: %u bindings loaded | %.2f s (%.0f/s) | < 10 s for 1M | %s |\n",
		       o->load, MED(r->load, seconds, n), MED(r->load, per_s, n),
		       o->load < 1000000 ? "not judged: fewer than 1M"
					 : verdict(MED(r->load, seconds, n) < LOAD_TARGET_S));
	printf("| record encode / decode per binding (cp_store_codec.c) | %.1f / %.1f µs | | |\n",
	       MED(r->codec, encode_us, n), MED(r->codec, decode_us, n));
}

int main(int argc, char **argv)
{
	struct bc_opts o;
	struct runs *r = calloc(1, sizeof(*r));
	bool spawn = false, no_load = false;
	double wr_s = 0, wr_b = 0;
	int rc;

	if (r == NULL)
		return 1;
	rc = parse(argc, argv, &o, &spawn, &no_load);
	if (rc != 0)
		return rc;
	if (spawn && bench_redis_spawn(&o.rd) != 0)
		return 1;
	snprintf(o.dir, sizeof(o.dir), "/var/tmp/bench_cluster.XXXXXX");
	if (mkdtemp(o.dir) == NULL) {
		perror("bench_cluster: mkdtemp");
		return 1;
	}
	urcu_qsbr_register_thread();
	printf("# bench_cluster: Redis %s:%u%s; %u run(s); one thread drives every link "
	       "(cl_run() / cp_store_poll() on each in turn, %u us sleep when a pass did "
	       "nothing, as the control plane's loop)\n",
	       o.rd.host, o.rd.port, spawn ? " (started here)" : "", o.runs, o.idle_us);
	fflush(stdout);
	rc = 0;
	for (unsigned i = 0; rc == 0 && i < o.runs; i++)
		if (one_run(&o, r, i) != 0)
			rc = 1;
	/* Last: a link's resync SCANs the whole keyspace, the other phases'
	 * links too; --count bindings there would slow them down. */
	if (rc == 0 && !no_load && bc_load_write(&o, &wr_s, &wr_b) != 0)
		rc = 1;
	for (unsigned i = 0; rc == 0 && !no_load && i < o.runs; i++) {
		if (bc_run_load(&o, &r->load[i]) != 0)
			rc = 1;
		else
			printf("# load %u: %.2f s\n", i + 1, r->load[i].seconds);
		fflush(stdout);
	}
	if (rc == 0)
		report(&o, r, no_load, wr_s, wr_b);
	if (!no_load)
		bc_load_drop(&o);
	urcu_qsbr_unregister_thread();
	rmdir(o.dir);
	bench_redis_stop(&o.rd);
	free(r);
	return rc;
}
