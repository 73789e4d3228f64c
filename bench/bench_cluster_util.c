/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_cluster's helpers (bench_cluster.h): changes ready to send, the
 * control plane's loop over links, percentiles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_cluster.h"
#include "common/sw_clock.h"
#include "controlplane/store/cp_store_codec.h"

int bc_item(uint64_t i, struct bc_item *it)
{
	int64_t now = sw_wall_s();
	int k, v;

	bench_gen(i, &it->g);
	it->g.r.registered_at = now;
	it->g.r.expires_at = now + 3600;
	k = cp_store_device_key(&it->g.r, it->key, sizeof(it->key));
	v = cp_codec_encode(&it->g.r, it->val, sizeof(it->val));
	if (k < 0 || v < 0) {
		fprintf(stderr, "bench_cluster: binding %llu does not encode\n",
			(unsigned long long)i);
		return -1;
	}
	it->key_len = (size_t)k;
	it->val_len = (size_t)v;
	return 0;
}

struct cl_binding bc_binding(const struct bc_item *it)
{
	return (struct cl_binding){.aor = it->g.r.aor,
				   .aor_len = it->g.r.aor_len,
				   .key = it->key,
				   .key_len = it->key_len,
				   .val = it->val,
				   .val_len = it->val_len,
				   .stamp = it->g.r.registered_at,
				   .expires_at = it->g.r.expires_at};
}

void bc_cfg(const struct bc_opts *o, struct cl_config *c, const char *edge, const char *prefix)
{
	cl_config_defaults(c);
	snprintf(c->edge, sizeof(c->edge), "%s", edge);
	snprintf(c->redis.host, sizeof(c->redis.host), "%s", o->rd.host);
	c->redis.port = o->rd.port;
	snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
	c->timeout_ms = 5000; /* a loaded shared machine must not fail a batch */
}

uint64_t bc_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void idle(const struct bc_opts *o)
{
	struct timespec ts = {0, (long)o->idle_us * 1000};

	if (o->idle_us > 0)
		nanosleep(&ts, NULL);
}

unsigned bc_pump(const struct bc_opts *o, struct cl *const *l, unsigned n)
{
	uint64_t now = sw_mono_ms();
	unsigned w = 0;

	for (unsigned i = 0; i < n; i++)
		w += cl_run(l[i], now);
	if (w == 0)
		idle(o);
	return w;
}

unsigned bc_pump_stores(const struct bc_opts *o, struct cp_store *const *s, unsigned n)
{
	unsigned w = 0;

	for (unsigned i = 0; i < n; i++)
		w += cp_store_poll(s[i]);
	if (w == 0)
		idle(o);
	return w;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bc_pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p / 100 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

double bc_median(double *v, unsigned n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bc_aor_id(const char *aor, size_t len)
{
	uint64_t id = 0;
	size_t i = 1;

	if (len < 2 || aor[0] != 'u')
		return UINT64_MAX;
	for (; i < len && aor[i] >= '0' && aor[i] <= '9'; i++)
		id = id * 10 + (uint64_t)(aor[i] - '0');
	return i > 1 && i < len && aor[i] == '@' ? id : UINT64_MAX;
}
