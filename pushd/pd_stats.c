/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters and latency percentiles. The pushd thread writes them with
 * relaxed atomic adds; readers (telemetry, tests) take relaxed loads, so a
 * snapshot may mix counts from a few microseconds apart, never torn values.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "pushd/pd_internal.h"

int pd_thread_cpu_us(const struct pd *pd, uint64_t *us)
{
	clockid_t cid;
	struct timespec ts;
	int rc;

	if (!pd->started)
		return -ESRCH;
	rc = pthread_getcpuclockid(pd->thread, &cid);
	if (rc)
		return -rc;
	if (clock_gettime(cid, &ts) != 0)
		return -errno;
	*us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	return 0;
}

int pd_stats_get(const struct pd *pd, enum pd_provider p, struct pd_stats *out)
{
	const struct pd_pstats *s;
	const unsigned per_mille[3] = {500, 900, 990};
	uint64_t pct[3];

	if ((unsigned)p >= PD_N_PROVIDERS)
		return -EINVAL;
	s = &pd->st[p];
	memset(out, 0, sizeof(*out));
#define PD_C_LOAD(n, d) out->n = __atomic_load_n(&s->n, __ATOMIC_RELAXED);
	PD_FOREACH_COUNTER(PD_C_LOAD)
#undef PD_C_LOAD
	out->in_flight = __atomic_load_n(&s->in_flight, __ATOMIC_RELAXED);
	out->connections_up = __atomic_load_n(&s->connections_up, __ATOMIC_RELAXED);
	out->connections_cfg = s->connections_cfg;
	/* pd is never const storage: the lock may be taken through a const view */
	pthread_mutex_lock((pthread_mutex_t *)&pd->alarm_lock);
	memcpy(out->alarm, s->alarm, sizeof(out->alarm));
	out->alarm_ms = s->alarm_ms;
	pthread_mutex_unlock((pthread_mutex_t *)&pd->alarm_lock);
	sw_hist_pct(&s->lat, per_mille, 3, pct);
	out->latency_p50_us = pct[0];
	out->latency_p90_us = pct[1];
	out->latency_p99_us = pct[2];
	return 0;
}

char *pd_stats_json(const struct pd *pd)
{
	json_t *root = json_object();
	char *out;

	for (unsigned p = 0; root && p < PD_N_PROVIDERS; p++) {
		struct pd_stats s;
		json_t *o = json_object();

		pd_stats_get(pd, p, &s);
#define PD_C_JSON(n, d) json_object_set_new(o, #n, json_integer((json_int_t)s.n));
		PD_FOREACH_COUNTER(PD_C_JSON)
#undef PD_C_JSON
		json_object_set_new(o, "in_flight", json_integer((json_int_t)s.in_flight));
		json_object_set_new(o, "connections_up", json_integer(s.connections_up));
		json_object_set_new(o, "connections_configured", json_integer(s.connections_cfg));
		json_object_set_new(o, "latency_p50_us",
				    json_integer((json_int_t)s.latency_p50_us));
		json_object_set_new(o, "latency_p90_us",
				    json_integer((json_int_t)s.latency_p90_us));
		json_object_set_new(o, "latency_p99_us",
				    json_integer((json_int_t)s.latency_p99_us));
		json_object_set_new(root, pd_provider_name(p), o);
	}
	/* Which credential is connected: the first thing an operator asks. */
	json_t *creds = json_array();

	pthread_mutex_lock((pthread_mutex_t *)&pd->cred_lock); /* a reload swaps them */
	for (unsigned i = 0; root && creds && i < pd->n_creds; i++) {
		const struct pd_cred *c = pd->creds[i];
		json_t *o = json_pack("{s:s, s:s, s:i}", "name", c->name, "match", c->param,
				      "connections_up",
				      (int)__atomic_load_n(&c->push_up, __ATOMIC_RELAXED));

		if (o && c->provider == PD_FCM)
			json_object_set_new(
				o, "token_endpoint_up",
				json_integer(__atomic_load_n(&c->token_up, __ATOMIC_RELAXED)));
		json_array_append_new(creds, o);
	}
	pthread_mutex_unlock((pthread_mutex_t *)&pd->cred_lock);
	if (root)
		json_object_set_new(root, "credentials", creds);
	else
		json_decref(creds);
	out = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return out;
}
