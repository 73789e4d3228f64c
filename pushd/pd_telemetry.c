/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /sipwake/push in DPDK telemetry: {"apns": {...}, "fcm": {...}, "webpush": {...}} with the
 * counters of PD_FOREACH_COUNTER, so names cannot drift from the code.
 */
#include <errno.h>
#include <rte_telemetry.h>

#include "pushd/pd_internal.h"

static struct pd *tel_pd;

static int push_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned p = 0; p < PD_N_PROVIDERS && tel_pd; p++) {
		struct rte_tel_data *o = rte_tel_data_alloc();
		struct pd_stats s;

		if (!o)
			return -ENOMEM;
		pd_stats_get(tel_pd, p, &s);
		rte_tel_data_start_dict(o);
#define PD_C_TEL(n, d) rte_tel_data_add_dict_u64(o, #n, s.n);
		PD_FOREACH_COUNTER(PD_C_TEL)
#undef PD_C_TEL
		rte_tel_data_add_dict_u64(o, "in_flight", s.in_flight);
		rte_tel_data_add_dict_u64(o, "connections_up", s.connections_up);
		rte_tel_data_add_dict_u64(o, "connections_configured", s.connections_cfg);
		rte_tel_data_add_dict_u64(o, "latency_p50_us", s.latency_p50_us);
		rte_tel_data_add_dict_u64(o, "latency_p90_us", s.latency_p90_us);
		rte_tel_data_add_dict_u64(o, "latency_p99_us", s.latency_p99_us);
		rte_tel_data_add_dict_string(o, "config_alarm", s.alarm);
		rte_tel_data_add_dict_u64(o, "config_alarm_ms", (uint64_t)s.alarm_ms);
		rte_tel_data_add_dict_container(d, pd_provider_name(p), o, 0);
	}
	if (tel_pd) {
		/* "apns_0" (push.apns.[0]) -> push connections up; telemetry
		 * names allow only letters, digits and '_'. */
		struct rte_tel_data *c = rte_tel_data_alloc();
		char key[32];

		if (!c)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		pthread_mutex_lock(&tel_pd->cred_lock); /* a reload swaps them */
		for (unsigned i = 0; i < tel_pd->n_creds; i++) {
			const struct pd_cred *cr = tel_pd->creds[i];

			snprintf(key, sizeof(key), "%s_%u", pd_provider_name(cr->provider),
				 cr->index);
			rte_tel_data_add_dict_u64(c, key,
						  __atomic_load_n(&cr->push_up, __ATOMIC_RELAXED));
		}
		pthread_mutex_unlock(&tel_pd->cred_lock);
		rte_tel_data_add_dict_container(d, "credentials", c, 0);
	}
	return 0;
}

int pd_telemetry_register(struct pd *pd)
{
	tel_pd = pd;
	return rte_telemetry_register_cmd("/sipwake/push", push_cb,
					  "pushd counters per provider (apns, fcm, webpush)");
}

void pd_telemetry_forget(const struct pd *pd)
{
	if (tel_pd == pd)
		tel_pd = NULL;
}
