/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /sipwake/... commands on DPDK's telemetry socket
 * (/var/run/dpdk/<prefix>/dpdk_telemetry.v2; dpdk-telemetry.py -f <prefix>).
 * Callbacks run on DPDK's telemetry thread: they only read counters with
 * relaxed loads, never touch what the workers write beyond that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <rte_ethdev.h>
#include <rte_ring.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>

#include "common/sw_pn.h"
#include "controlplane/bindings/cp_bind.h"
#include "controlplane/bindings/cp_push_addr.h"
#include "controlplane/cp_internal.h"
#include "controlplane/calls/cp_trace.h"
#include "controlplane/telemetry/cp_telemetry_cluster.h"
#include "controlplane/telemetry/cp_telemetry_dp.h"
#include "pushd/pd_seal.h"

/* The telemetry API passes no user data; one control plane per process. */
static struct cp_ctx *tel_cp;

static void add_counters(struct rte_tel_data *d, const struct dp_counters *sum, bool with_cp)
{
	uint64_t dropped = 0;
	char key[RTE_TEL_MAX_STRING_LEN];

	for (unsigned i = 0; i < DP_C_MAX; i++)
		rte_tel_data_add_dict_u64(d, dp_counter_name(i), sum->c[i]);
	if (with_cp)
		for (unsigned i = 0; i < CP_C_MAX; i++)
			rte_tel_data_add_dict_u64(d, cp_counter_names[i],
						  cp_counter(tel_cp, (enum cp_counter)i));
	for (unsigned i = 0; i < DP_D_MAX; i++) {
		snprintf(key, sizeof(key), "drop_%s", dp_drop_name(i));
		rte_tel_data_add_dict_u64(d, key, sum->drop[i]);
		dropped += sum->drop[i];
	}
	if (with_cp)
		for (unsigned i = 0; i < CP_D_MAX; i++) {
			uint64_t v = cp_drop_count(tel_cp, (enum cp_drop)i);

			snprintf(key, sizeof(key), "drop_%s", cp_drop_names[i]);
			rte_tel_data_add_dict_u64(d, key, v);
			dropped += v;
		}
	rte_tel_data_add_dict_u64(d, "dropped", dropped);
}

/* /sipwake/stats: everything summed over workers, plus the control plane.
 * /sipwake/stats,<worker>: one worker's own counters. */
static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_link *dp = tel_cp->dp;
	struct dp_counters sum = {0};
	char *end;

	RTE_SET_USED(cmd);
	if (params != NULL && *params != '\0') {
		unsigned long w = strtoul(params, &end, 10);

		if (*end != '\0' || w >= dp->n_workers)
			return -EINVAL;
		rte_tel_data_start_dict(d);
		dp_counters_add(&sum, dp->workers[w].ctr);
		rte_tel_data_add_dict_int(d, "worker", (int)w);
		rte_tel_data_add_dict_int(d, "lcore", (int)dp->workers[w].lcore_id);
		add_counters(d, &sum, false);
		return 0;
	}
	for (unsigned i = 0; i < dp->n_workers; i++)
		dp_counters_add(&sum, dp->workers[i].ctr);
	rte_tel_data_start_dict(d);
	add_counters(d, &sum, true);
	return 0;
}

/* Every key of /sipwake/stats fits one telemetry dictionary. */
_Static_assert(DP_C_MAX + CP_C_MAX + DP_D_MAX + CP_D_MAX + 1 <= RTE_TEL_MAX_DICT_ENTRIES,
	       "/sipwake/stats has more keys than a telemetry dictionary holds");

/* Keys per /sipwake/describe page: DPDK 22.11 answers at most 16 KiB of
 * JSON per command (MAX_OUTPUT_LEN in its telemetry.c) and silently drops
 * what does not fit; 64 keys of at most 64 + 127 bytes each always fit. */
#define DESCRIBE_PAGE 64

/* The i-th key of /sipwake/stats, in its order, and what it means. */
static bool describe_key(unsigned i, char *key, size_t cap, const char **desc)
{
	if (i < DP_C_MAX) {
		snprintf(key, cap, "%s", dp_counter_name(i));
		*desc = dp_counter_desc(i);
		return true;
	}
	i -= DP_C_MAX;
	if (i < CP_C_MAX) {
		snprintf(key, cap, "%s", cp_counter_names[i]);
		*desc = cp_counter_descs[i];
		return true;
	}
	i -= CP_C_MAX;
	if (i < DP_D_MAX) {
		snprintf(key, cap, "drop_%s", dp_drop_name(i));
		*desc = dp_drop_desc(i);
		return true;
	}
	i -= DP_D_MAX;
	if (i < CP_D_MAX) {
		snprintf(key, cap, "drop_%s", cp_drop_names[i]);
		*desc = cp_drop_descs[i];
		return true;
	}
	if (i == CP_D_MAX) {
		snprintf(key, cap, "dropped");
		*desc = "every drop above, summed";
		return true;
	}
	return false;
}

/* /sipwake/describe[,<page>]: what each key of /sipwake/stats means, from
 * the same X-macro lists, so exporters and docs never drift from the code;
 * DESCRIBE_PAGE keys a page, page 0 without a parameter, an empty
 * dictionary past the last one (a reader asks page after page until then).
 * DPDK 22.11's telemetry does not escape strings into JSON: descriptions
 * stay printable ASCII without quotes or backslashes (test_exporter.py
 * parses every one). */
static int tel_describe(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char key[RTE_TEL_MAX_STRING_LEN];
	unsigned long page = 0;
	const char *desc;
	char *end;

	RTE_SET_USED(cmd);
	if (params != NULL && *params != '\0') {
		page = strtoul(params, &end, 10);
		if (*end != '\0' || page > 64)
			return -EINVAL;
	}
	rte_tel_data_start_dict(d);
	/* Descriptions longer than a telemetry string (128) arrive cut short. */
	for (unsigned i = (unsigned)page * DESCRIBE_PAGE; i < (page + 1) * DESCRIBE_PAGE; i++) {
		if (!describe_key(i, key, sizeof(key), &desc))
			break;
		rte_tel_data_add_dict_string(d, key, desc);
	}
	return 0;
}

/* /sipwake/reload: the same as SIGHUP; the outcome shows in config_reloads /
 * config_reload_refused and in the log. */
static int tel_reload(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	cp_request_reload();
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "reload", "requested");
	return 0;
}

/* pbx.servers' health (relay/cp_reg_health.c): how many answer, and each
 * one's state ("unchecked" until its first health check or REGISTER). */
static void add_pbx(struct rte_tel_data *d, const struct cp_ctx *cp)
{
	uint32_t up = __atomic_load_n(&cp->pbx_up, __ATOMIC_RELAXED);
	uint32_t known = __atomic_load_n(&cp->pbx_known, __ATOMIC_RELAXED);
	struct rte_tel_data *o = rte_tel_data_alloc();
	char key[16];

	if (o == NULL)
		return;
	rte_tel_data_start_dict(o);
	rte_tel_data_add_dict_u64(o, "up", (uint64_t)__builtin_popcount(up));
	for (unsigned i = 0; i < cp->n_servers && i < DP_MAX_SERVERS; i++) {
		snprintf(key, sizeof(key), "server%u", i);
		rte_tel_data_add_dict_string(o, key,
					     (up >> i) & 1	? "up"
					     : (known >> i) & 1 ? "down"
								: "unchecked");
	}
	if (rte_tel_data_add_dict_container(d, "pbx", o, 0) != 0)
		rte_tel_data_free(o);
}

/* What the running config decides that an operator asks about first. */
static void add_config(struct rte_tel_data *d, const struct cp_ctx *cp)
{
	static const char *const policy[] = {"ping", "always-push", "parallel"};
	const struct cp_config *c = &cp->cfg;
	struct rte_tel_data *o = rte_tel_data_alloc();

	if (o == NULL)
		return;
	rte_tel_data_start_dict(o);
	rte_tel_data_add_dict_u64(o, "pbx_servers", c->n_pbx_servers);
	rte_tel_data_add_dict_u64(o, "pbx_active",
				  __atomic_load_n(cp->dp->pbx_active, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(o, "pbx_sources", c->n_pbx_sources);
	rte_tel_data_add_dict_u64(o, "max_devices", c->max_devices);
	rte_tel_data_add_dict_u64(o, "alive_window_s", c->alive_window_s);
	rte_tel_data_add_dict_u64(o, "ping_interval_s", c->ping_interval_s);
	rte_tel_data_add_dict_string(
		o, "wake_policy", c->wake_policy < RTE_DIM(policy) ? policy[c->wake_policy] : "?");
	rte_tel_data_add_dict_u64(o, "wake_timeout_s", c->wake_timeout_s);
	rte_tel_data_add_dict_u64(o, "max_held", c->max_held);
	rte_tel_data_add_dict_u64(o, "push_apns", c->push.n_apns);
	rte_tel_data_add_dict_u64(o, "push_fcm", c->push.n_fcm);
	rte_tel_data_add_dict_u64(o, "push_webpush", c->push.n_webpush);
	if (rte_tel_data_add_dict_container(d, "config", o, 0) != 0)
		rte_tel_data_free(o);
}

static int tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_link *dp = tel_cp->dp;
	char buf[INET6_ADDRSTRLEN + 8], key[32];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", SW_VERSION);
	rte_tel_data_add_dict_string(d, "dpdk", rte_version());
	rte_tel_data_add_dict_int(d, "workers", (int)dp->n_workers);
	rte_tel_data_add_dict_int(d, "sip_port", dp->ports.sip_port);
	rte_tel_data_add_dict_u64(d, "neighbours", sw_neigh_count(dp->neigh));
	rte_tel_data_add_dict_u64(d, "config_generation",
				  __atomic_load_n(&tel_cp->cfg_generation, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "bound_sources", sw_src_count(dp->src));
	for (unsigned i = 0; i < dp->ports.n_ifaces; i++) {
		const struct sw_iface *ifc = &dp->ports.ifaces[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char dev[RTE_ETH_NAME_MAX_LEN] = "?";

		if (c == NULL)
			return -ENOMEM;
		rte_eth_dev_get_name_by_port(ifc->port_id, dev);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "device", dev);
		rte_tel_data_add_dict_int(c, "port", ifc->port_id);
		snprintf(buf, sizeof(buf), RTE_ETHER_ADDR_PRT_FMT, RTE_ETHER_ADDR_BYTES(&ifc->mac));
		rte_tel_data_add_dict_string(c, "mac", buf);
		if (ifc->has_v4) {
			inet_ntop(AF_INET, &ifc->ip4, buf, sizeof(buf));
			rte_tel_data_add_dict_string(c, "ipv4", buf);
		}
		if (ifc->has_v6) {
			rte_tel_data_add_dict_string(c, "ipv6",
						     sw_ip_str(&ifc->ip6, buf, sizeof(buf)));
			rte_tel_data_add_dict_string(c, "ipv6_ll",
						     sw_ip_str(&ifc->ll6, buf, sizeof(buf)));
		}
		snprintf(key, sizeof(key), "iface%u", i);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	cp_telemetry_add_rings(d, dp);
	cp_telemetry_add_pools(d);
	add_config(d, tel_cp);
	add_pbx(d, tel_cp);
	return 0;
}

/* Telemetry runs each client connection on a thread of its own that ends
 * when the client goes: a reader registers with QSBR for one command and
 * unregisters before returning, never leaving a dead thread registered. */
static void rcu_reader_enter(void)
{
	urcu_qsbr_register_thread();
}

static void rcu_reader_leave(void)
{
	urcu_qsbr_unregister_thread();
}

struct tel_bind_arg {
	struct rte_tel_data *d;
	const struct dp_link *dp;
	uint64_t now_tsc;
	int64_t now_s;
	unsigned n, alive;
};

static bool device_alive(const struct dp_link *dp, const struct sw_device *dv, uint64_t now,
			 uint64_t *heard)
{
	uint64_t last;
	bool alive = sw_device_alive(dp->src, dv, now, dp->alive_window_tsc, &last);

	*heard = last != 0 && now > last ? (now - last) / rte_get_tsc_hz() : 0;
	return alive;
}

static int count_alive(const struct sw_device *dv, void *arg)
{
	struct tel_bind_arg *a = arg;
	uint64_t heard;

	a->alive += device_alive(a->dp, dv, a->now_tsc, &heard);
	return 0;
}

/* "abcdef12...89abcd": tokens are credentials, shown only by their ends. */
static void truncated(char *out, size_t cap, const char *s, size_t len)
{
	if (len <= 16)
		snprintf(out, cap, "%.*s", (int)len, s);
	else
		snprintf(out, cap, "%.8s...%.6s", s, s + len - 6);
}

/* Each token of the push address: its kind, the token cut, live or dead. */
static void add_tokens(struct rte_tel_data *c, const struct sw_device *dv)
{
	struct sw_pn_addr a;
	const char *why;
	char key[32], buf[64], tok[32];

	if (sw_pn_parse(dv->pn_form, dv->pn_provider, dv->pn_prid, dv->pn_prid_len, dv->pn_param,
			dv->pn_param_len, &a, &why) != 0)
		return;
	for (unsigned i = 0; i < a.n; i++) {
		truncated(tok, sizeof(tok), a.t[i].token, a.t[i].token_len);
		snprintf(buf, sizeof(buf), "%s %s", sw_pn_tok_name(a.t[i].tok), tok);
		snprintf(key, sizeof(key), "push_token%u", i);
		rte_tel_data_add_dict_string(c, key, buf);
		snprintf(key, sizeof(key), "push_token%u_state", i);
		rte_tel_data_add_dict_string(c, key, (dv->pn_dead >> i) & 1 ? "dead" : "live");
	}
}

static int add_device(const struct sw_device *dv, void *arg)
{
	struct tel_bind_arg *a = arg;
	struct rte_tel_data *c = rte_tel_data_alloc();
	char buf[RTE_TEL_MAX_STRING_LEN], key[16];
	const char *why;
	uint64_t heard;
	size_t ulen = strcspn(dv->contact, ";?");

	if (c == NULL || a->n >= 32) {
		rte_tel_data_free(c);
		return 1;
	}
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_u64(c, "id", dv->id);
	/* The contact without its parameters: they hold the push token. */
	snprintf(buf, sizeof(buf), "%.*s", (int)RTE_MIN(ulen, sizeof(buf) - 1), dv->contact);
	rte_tel_data_add_dict_string(c, "contact", buf);
	if (dv->instance_len > 0) {
		snprintf(buf, sizeof(buf), "%.100s", dv->instance);
		rte_tel_data_add_dict_string(c, "instance", buf);
	}
	rte_tel_data_add_dict_string(c, "source",
				     sw_ip_port_str(&dv->src, dv->sport, buf, sizeof(buf)));
	/* Over a stream: its connection (0 once closed: asleep; always 0 over
	 * UDP). Connections themselves are the streams thread's (/sipwake/conns). */
	rte_tel_data_add_dict_string(c, "transport", sw_tp_name(dv->tp));
	/* Several edges: the one it is bound through ("": this one). */
	rte_tel_data_add_dict_string(c, "peer",
				     dv->peer != 0 && dv->peer <= tel_cp->cfg.n_peers
					     ? tel_cp->cfg.peers[dv->peer - 1].edge
					     : "");
	rte_tel_data_add_dict_u64(c, "connection", dv->conn);
	rte_tel_data_add_dict_int(c, "connection_age_s",
				  dv->conn != 0 ? (int)(a->now_s - dv->conn_since) : 0);
	rte_tel_data_add_dict_string(
		c, "state", device_alive(a->dp, dv, a->now_tsc, &heard) ? "alive" : "asleep");
	rte_tel_data_add_dict_u64(c, "last_heard_s_ago", heard);
	rte_tel_data_add_dict_int(c, "expires_in_s", (int)(dv->expires_at - a->now_s));
	if (dv->pn_form != SW_PN_NONE) {
		static const char *const forms[] = {"none", "rfc8599", "legacy", "x-push"};

		rte_tel_data_add_dict_string(c, "push_form", forms[dv->pn_form & 3]);
		snprintf(buf, sizeof(buf), "%.60s", dv->pn_provider);
		rte_tel_data_add_dict_string(c, "push_provider", buf);
		truncated(buf, sizeof(buf), dv->pn_prid, dv->pn_prid_len);
		rte_tel_data_add_dict_string(c, "push_prid", buf);
		/* Web Push: the auth secret is the app's and ours, not the
		 * operator's: its p256dh alone. */
		if (strcmp(dv->pn_provider, "webpush") == 0 && strchr(dv->pn_param, '.') != NULL)
			snprintf(buf, sizeof(buf), "%.*s.<auth>",
				 (int)RTE_MIN(strcspn(dv->pn_param, "."), 100u), dv->pn_param);
		else
			snprintf(buf, sizeof(buf), "%.100s", dv->pn_param);
		rte_tel_data_add_dict_string(c, "push_param", buf);
		add_tokens(c, dv);
	}
	/* The push key is a secret: only its id (docs/push-encryption.md). */
	if (dv->push_key_set) {
		char kid[PD_SEAL_KID_LEN + 1];

		pd_seal_kid(dv->push_key, kid);
		rte_tel_data_add_dict_string(c, "push_kid", kid);
	} else {
		rte_tel_data_add_dict_string(c, "push_kid", "");
	}
	why = cp_push_addr_unwakeable(dv);
	snprintf(buf, sizeof(buf), "%s", why != NULL ? why : "yes");
	rte_tel_data_add_dict_string(c, "wake", buf);
	snprintf(key, sizeof(key), "device%u", a->n++);
	rte_tel_data_add_dict_container(a->d, key, c, 0);
	return 0;
}

/* /sipwake/bindings: how many devices, how many alive.
 * /sipwake/bindings,<aor>: that AOR's devices ("user@host"). */
static int tel_bindings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_link *dp = tel_cp->dp;
	struct tel_bind_arg a = {.d = d, .dp = dp, .now_tsc = rte_rdtsc(), .now_s = sw_wall_s()};

	RTE_SET_USED(cmd);
	rte_tel_data_start_dict(d);
	rcu_reader_enter();
	if (params != NULL && *params != '\0') {
		size_t len = strlen(params);

		rte_tel_data_add_dict_string(d, "aor", params);
		sw_bind_foreach_aor(dp->bind, params, len, add_device, &a);
		rte_tel_data_add_dict_u64(d, "devices", a.n);
	} else {
		rte_tel_data_add_dict_u64(d, "count", sw_bind_count(dp->bind));
		rte_tel_data_add_dict_u64(d, "max", sw_bind_max(dp->bind));
		rte_tel_data_add_dict_u64(d, "bytes", sw_bind_bytes(dp->bind));
		rte_tel_data_add_dict_u64(d, "bound_sources", sw_src_count(dp->src));
		sw_bind_foreach(dp->bind, count_alive, &a);
		rte_tel_data_add_dict_u64(d, "alive", a.alive);
		rte_tel_data_add_dict_u64(d, "asleep", sw_bind_count(dp->bind) - a.alive);
	}
	rcu_reader_leave();
	return 0;
}

/* One latency as {"samples", "p50_us", "p90_us", "p99_us"}. */
static void add_latency(struct rte_tel_data *d, const char *name, uint64_t n, const uint64_t *us)
{
	struct rte_tel_data *l = rte_tel_data_alloc();

	if (l == NULL)
		return;
	rte_tel_data_start_dict(l);
	rte_tel_data_add_dict_u64(l, "samples", n);
	rte_tel_data_add_dict_u64(l, "p50_us", us[0]);
	rte_tel_data_add_dict_u64(l, "p90_us", us[1]);
	rte_tel_data_add_dict_u64(l, "p99_us", us[2]);
	if (rte_tel_data_add_dict_container(d, name, l, 0) != 0)
		rte_tel_data_free(l);
}

/* /sipwake/held: calls on the wake path now, their outcomes, latencies. */
static int tel_held(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const enum cp_counter outcomes[] = {
		CP_C_WAKE_CALLS,     CP_C_WAKE_PUSHES,	  CP_C_WAKE_WOKEN,
		CP_C_WAKE_ANSWERED,  CP_C_WAKE_TIMED_OUT, CP_C_WAKE_REJECTED,
		CP_C_WAKE_CANCELLED, CP_C_WAKE_FAILED,	  CP_C_WAKE_NO_DEVICE,
		CP_C_WAKE_RING_FULL, CP_C_WAKE_SHUTDOWN,  CP_C_WAKE_INTERRUPTED,
	};
	struct cp_call_held h;

	(void)cmd;
	(void)params;
	cp_call_held(tel_cp, &h);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "held", h.held);
	rte_tel_data_add_dict_u64(d, "transactions", h.transactions);
	rte_tel_data_add_dict_u64(d, "max", h.max);
	rte_tel_data_add_dict_u64(d, "oldest_age_ms", h.oldest_age_ms);
	for (unsigned i = 0; i < RTE_DIM(outcomes); i++)
		rte_tel_data_add_dict_u64(d, cp_counter_names[outcomes[i]] + 5 /* "wake_" */,
					  cp_counter(tel_cp, outcomes[i]));
	add_latency(d, "push_to_register", h.n_push_to_reg, h.push_to_reg_us);
	add_latency(d, "invite_to_device", h.n_invite_to_branch, h.invite_to_branch_us);
	return 0;
}

/* /sipwake/trace,<call-id>: what the control plane did with that call. */
static int tel_trace(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static char lines[CP_TRACE_MAX_PER_CALL][CP_TRACE_TEXT + 16];
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* lines[] is shared */
	struct rte_tel_data *ev;
	int64_t t0;
	unsigned n;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -EINVAL;
	ev = rte_tel_data_alloc();
	if (ev == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_start_array(ev, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&mu);
	n = cp_trace_get(tel_cp, sw_callset_key(params, strlen(params)), lines,
			 CP_TRACE_MAX_PER_CALL, &t0);
	for (unsigned i = 0; i < n; i++)
		rte_tel_data_add_array_string(ev, lines[i]);
	pthread_mutex_unlock(&mu);
	rte_tel_data_add_dict_u64(d, "events", n);
	/* Wall clock of the first event, ms since the epoch (0: none kept). */
	rte_tel_data_add_dict_u64(d, "start_ms", (uint64_t)t0);
	if (n == 0)
		rte_tel_data_add_dict_string(
			d, "note",
			"nothing kept: a worker forwarded it (device alive) or dropped it "
			"(/sipwake/stats), or newer calls pushed it out");
	if (rte_tel_data_add_dict_container(d, "trace", ev, 0) != 0)
		rte_tel_data_free(ev);
	return 0;
}

int cp_telemetry_register(struct cp_ctx *cp)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{"/sipwake/stats", tel_stats,
		 "Counters and drops by reason, summed over workers. "
		 "Parameters: int worker id (optional)"},
		{"/sipwake/info", tel_info,
		 "Version, workers, SIP port, interfaces. No parameters"},
		{"/sipwake/reload", tel_reload,
		 "Re-read the config file, as SIGHUP. No parameters"},
		{"/sipwake/describe", tel_describe,
		 "What each /sipwake/stats key means, 64 keys a page. Parameters: int page "
		 "(optional, 0 first; an empty answer past the last)"},
		{"/sipwake/bindings", tel_bindings,
		 "Bindings: count, alive, asleep. Parameters: string AOR user@host (optional: "
		 "that AOR's devices)"},
		{"/sipwake/held", tel_held,
		 "Wake path: held calls, outcomes, latencies. No parameters"},
		{"/sipwake/trace", tel_trace,
		 "What happened to one call. Parameters: string Call-ID"},
	};
	int rc = 0;

	tel_cp = cp;
	for (size_t i = 0; i < RTE_DIM(cmds) && rc == 0; i++)
		rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);
	return rc != 0 ? rc : cp_telemetry_cluster_register(cp);
}
