/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding benchmark: N devices in the binding tables (common/sw_bind.h) and
 * the source table sized for N, then the store (controlplane/store/cp_store.h).
 *
 * Records look like real ones: AOR "u<i>@example.com", a ~90-byte contact
 * with RFC 8599 parameters, +sip.instance "urn:uuid:<36-char UUID>", half
 * APNs (64-hex token, "<team>.<bundle>.voip") and half FCM (~160-char
 * token, project id), a distinct IPv4 source each (bench/bench_gen.c). They are generated in
 * chunks outside the timed regions; what is timed is sw_bind_put(), the
 * lookups, or cp_store_put() + cp_store_commit().
 *
 * Usage: bench_bind [--smoke] [--count N] [--runs R]
 *   --smoke: 2000 bindings, one run, small store passes (the test suite).
 * Prints one figure a line, "name value unit"; lines starting with '#' are
 * context. The machine is shared: read medians and ratios.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "bench/bench_gen.h"
#include "common/sw_bind.h"
#include "controlplane/store/cp_store.h"

#define CHUNK	  1024
#define TARGET_GB 1.0 /* memory target for the bindings of one box: 1 GiB */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_bind: %s: %s\n", what, strerror(-rc));
	exit(1);
}

/* Insert bindings 0..n-1; returns the seconds spent in sw_bind_put(). */
static double insert_all(struct sw_bind_table *t, unsigned n, struct bench_gen *g,
			 double *str_bytes)
{
	double put = 0, bytes = 0;

	for (unsigned base = 0; base < n; base += CHUNK) {
		unsigned m = n - base < CHUNK ? n - base : CHUNK;
		double t0;

		for (unsigned k = 0; k < m; k++) {
			bench_gen(base + k, &g[k]);
			bytes += g[k].r.aor_len + g[k].r.contact_len + g[k].r.instance_len +
				 g[k].r.pn_provider_len + g[k].r.pn_prid_len + g[k].r.pn_param_len;
		}
		t0 = now_s();
		for (unsigned k = 0; k < m; k++) {
			int rc = sw_bind_put(t, &g[k].r, 1, NULL);

			if (rc != 0)
				die("sw_bind_put", rc);
		}
		put += now_s() - t0;
	}
	if (str_bytes != NULL)
		*str_bytes = bytes / n;
	return put;
}

/* Random lookups by push key (@by_pn) or by contact; lookups/s. */
static double lookups(struct sw_bind_table *t, unsigned n, unsigned count, bool by_pn,
		      struct bench_gen *g)
{
	static char keys[CHUNK][SW_PN_KEY_MAX];
	static int klen[CHUNK];
	double spent = 0;
	unsigned miss = 0;

	for (unsigned done = 0; done < count; done += CHUNK) {
		unsigned m = count - done < CHUNK ? count - done : CHUNK;
		double t0;

		for (unsigned k = 0; k < m; k++) {
			bench_gen(bench_mix(done + k + (by_pn ? 7 : 11)) % n, &g[k]);
			if (by_pn)
				klen[k] = sw_pn_key(keys[k], sizeof(keys[k]), g[k].r.pn_provider,
						    g[k].r.pn_provider_len, g[k].r.pn_prid,
						    g[k].r.pn_prid_len, g[k].r.pn_param,
						    g[k].r.pn_param_len);
		}
		t0 = now_s();
		for (unsigned k = 0; k < m; k++) {
			const struct sw_device *d =
				by_pn ? sw_bind_by_pn(t, keys[k], (size_t)klen[k])
				      : sw_bind_by_contact(t, g[k].contact, g[k].r.contact_len);

			/* The answer is used (and checked), so the lookup is not elided. */
			miss += d == NULL || d->aor_len != g[k].r.aor_len ||
				memcmp(d->aor, g[k].aor, d->aor_len) != 0;
		}
		spent += now_s() - t0;
		urcu_qsbr_quiescent_state();
	}
	if (miss != 0) {
		fprintf(stderr, "bench_bind: %u lookups missed\n", miss);
		exit(1);
	}
	return count / spent;
}

struct store_pass {
	const char *name;
	unsigned batch;
	bool sync_full;
	unsigned count;
};

/* cp_store_put + cp_store_commit every @batch bindings; bindings/s. */
static void store_pass(const char *dir, const struct store_pass *p, struct bench_gen *g)
{
	char path[512], err[512];
	struct cp_store *s;
	struct cp_store_stats st;
	double spent = 0, commit_s = 0;
	unsigned commits = 0;

	snprintf(path, sizeof(path), "%s/%s.db", dir, p->name);
	s = cp_store_open(path, p->sync_full, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "bench_bind: %s\n", err);
		exit(1);
	}
	for (unsigned base = 0; base < p->count; base += CHUNK) {
		unsigned m = p->count - base < CHUNK ? p->count - base : CHUNK;
		double t0;

		for (unsigned k = 0; k < m; k++)
			bench_gen(base + k, &g[k]);
		t0 = now_s();
		for (unsigned k = 0; k < m; k++) {
			int rc = cp_store_put(s, &g[k].r);

			if (rc != 0)
				die(cp_store_error(s), rc);
			if ((base + k + 1) % p->batch == 0 || base + k + 1 == p->count) {
				double c0 = now_s();

				if (cp_store_commit(s) != 0)
					die(cp_store_error(s), -EIO);
				commit_s += now_s() - c0;
				commits++;
			}
		}
		spent += now_s() - t0;
	}
	cp_store_get_stats(s, &st);
	cp_store_close(s);
	printf("store_%s_rate %.0f bindings/s\n", p->name, p->count / spent);
	printf("store_%s_commit_mean %.1f us\n", p->name, commit_s * 1e6 / commits);
	printf("store_%s_commit_max %llu us\n", p->name, (unsigned long long)st.max_commit_us);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"smoke", no_argument, NULL, 's'},
					     {"count", required_argument, NULL, 'n'},
					     {"runs", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	unsigned n = 1000000, runs = 3;
	bool smoke = false;
	struct sw_src_table *src;
	struct sw_bind_table *t;
	struct bench_gen *g;
	double rates[15], str_bytes, t0;
	long rss0, rss1;
	size_t bytes;
	char dir[256];
	const char *tmp;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			smoke = true;
			n = 2000;
			runs = 1;
			break;
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: %s [--smoke] [--count N] [--runs R]\n", argv[0]);
			return 2;
		}
	}
	if (n < 1 || n > (1u << 24) || runs < 1 || runs > 15) {
		fprintf(stderr, "count must be 1..16777216 (distinct IPv4 sources), runs 1..15\n");
		return 2;
	}
	g = calloc(CHUNK, sizeof(*g));
	if (g == NULL)
		die("calloc", -ENOMEM);
	urcu_qsbr_register_thread();
	t0 = now_s();

	/* Run 1 also measures memory: RSS before the tables and after N puts. */
	rss0 = rss_kb();
	src = sw_src_create(n);
	t = src != NULL ? sw_bind_create(n, src) : NULL;
	if (t == NULL)
		die("create", -ENOMEM);
	rates[0] = n / insert_all(t, n, g, &str_bytes);
	rss1 = rss_kb();
	bytes = sw_bind_bytes(t);
	printf("# bench_bind: %u bindings, %u run(s)%s; strings %.0f bytes/binding\n", n, runs,
	       smoke ? " (smoke)" : "", str_bytes);
	printf("bind_count %u bindings\n", sw_bind_count(t));
	printf("bind_bytes_per_binding %.0f bytes\n", (double)bytes / n);
	printf("bind_bytes_total %.1f MiB\n", (double)bytes / (1 << 20));
	printf("rss_growth_total %.1f MiB\n", (double)(rss1 - rss0) / 1024);
	printf("rss_growth_per_binding %.0f bytes\n", (double)(rss1 - rss0) * 1024 / n);
	printf("rss_growth_vs_1GiB_target %.1f %%\n",
	       (double)(rss1 - rss0) * 100 / (TARGET_GB * 1024 * 1024));
	/* What N at this cost per binding would fill the target. */
	printf("rss_bindings_per_1GiB %.0f bindings\n",
	       TARGET_GB * 1024 * 1024 * 1024 / ((double)(rss1 - rss0) * 1024 / n));

	printf("lookup_pn_rate %.0f lookups/s\n", lookups(t, n, smoke ? 2000 : 1000000, true, g));
	printf("lookup_contact_rate %.0f lookups/s\n",
	       lookups(t, n, smoke ? 2000 : 1000000, false, g));
	sw_bind_free(t);
	sw_src_free(src);

	for (unsigned r = 1; r < runs; r++) {
		src = sw_src_create(n);
		t = src != NULL ? sw_bind_create(n, src) : NULL;
		if (t == NULL)
			die("create", -ENOMEM);
		rates[r] = n / insert_all(t, n, g, NULL);
		sw_bind_free(t);
		sw_src_free(src);
	}
	printf("bind_put_rate %.0f puts/s\n", median(rates, runs));

	/* The store: a real directory (not tmpfs), so commits cost what they will. */
	tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/var/tmp";
	snprintf(dir, sizeof(dir), "%s/bench_bind.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", -errno);
	printf("# store: SQLite WAL in %s\n", dir);
	{
		unsigned big = n < 200000 ? n : 200000;
		const struct store_pass passes[] = {
			{"b1", 1, false, smoke ? 200 : 20000},
			{"b64", 64, false, big},
			{"b1024", 1024, false, big},
			{"b1_full", 1, true, smoke ? 50 : 2000},
			{"b64_full", 64, true, smoke ? 640 : 64000},
		};

		for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++)
			store_pass(dir, &passes[i], g);
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("# total %.1f s\n", now_s() - t0);
	free(g);
	urcu_qsbr_unregister_thread();
	return 0;
}
