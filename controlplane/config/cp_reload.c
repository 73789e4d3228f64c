/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config reload (SIGHUP or /sipwake/reload). The whole file is loaded and
 * validated first; only a file that loads replaces anything. What workers
 * read (the filter policy) is a new object swapped in with
 * rcu_assign_pointer() and the old one freed after a grace period, never
 * edited in place. Sizes fixed at start (ports, pools, rings, tables) need a
 * restart: a change to them is reported and the rest is applied.
 */
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/cp_internal.h"
#include "streams/st.h"
#include "pushd/pd.h"

/* Set from a signal handler or the telemetry thread, taken by the control plane. */
static bool reload_requested;

void cp_request_reload(void)
{
	__atomic_store_n(&reload_requested, true, __ATOMIC_RELEASE);
}

void cp_set_config_file(struct cp_ctx *cp, const char *path)
{
	snprintf(cp->cfg_path, sizeof(cp->cfg_path), "%s", path != NULL ? path : "");
}

void cp_policy_from_config(const struct cp_config *cfg, struct dp_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->n_pbx = RTE_MIN(cfg->n_pbx_sources, (unsigned)DP_MAX_PREFIXES);
	for (unsigned i = 0; i < pol->n_pbx; i++)
		dp_prefix_set(&pol->pbx[i], cfg->pbx_sources[i].addr, cfg->pbx_sources[i].plen);
	pol->n_ua = RTE_MIN(cfg->n_scanner_uas, (unsigned)DP_MAX_PATTERNS);
	for (unsigned i = 0; i < pol->n_ua; i++) {
		size_t n = strnlen(cfg->scanner_uas[i], DP_PATTERN_LEN - 1);

		memcpy(pol->ua[i].s, cfg->scanner_uas[i], n);
		pol->ua[i].len = (uint8_t)n;
	}
	pol->rates = (struct dp_rates){
		.source = {cfg->unknown_rate, cfg->unknown_burst},
		.prefix = {cfg->unknown_prefix_rate, cfg->unknown_prefix_burst},
		.global = {cfg->unknown_global_rate, cfg->unknown_global_burst},
		.expected = {cfg->expected_rate, cfg->expected_burst},
		.answer = {cfg->answer_rate, cfg->answer_burst},
		.syn = {cfg->syn_rate, cfg->syn_burst},
		.syn_global = {cfg->syn_global_rate, cfg->syn_global_burst},
		.syn_challenge = {cfg->syn_challenge_rate, cfg->syn_challenge_burst},
	};
	pol->reply_403 = cfg->reply_403;
	pol->reply_503 = cfg->reply_503;
	pol->n_servers = cp_servers_from_config(cfg, pol->servers);
}

unsigned cp_servers_from_config(const struct cp_config *cfg, struct dp_server *out)
{
	unsigned n = RTE_MIN(cfg->n_pbx_servers, (unsigned)DP_MAX_SERVERS);

	for (unsigned i = 0; i < n; i++) {
		memcpy(out[i].ip.a, cfg->pbx_servers[i].addr, 16);
		out[i].port = cfg->pbx_servers[i].port;
	}
	return n;
}

#define SAME(field) (memcmp(&a->field, &b->field, sizeof(a->field)) == 0)

/* The keys that size or wire something at start: names of those that differ. */
static void restart_keys(const struct cp_config *a, const struct cp_config *b, char *out,
			 size_t len)
{
	static const char sep[] = ", ";
	size_t used = 0;

	out[0] = '\0';
#define NOTE(cond, name)                                                                          \
	do {                                                                                      \
		if (!(cond) && used < len)                                                        \
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? sep : "", \
						 name);                                           \
	} while (0)
	NOTE(SAME(sip_port) && SAME(n_names) && SAME(names), "sip");
	NOTE(SAME(n_ifaces) && SAME(ifaces), "interfaces");
	NOTE(SAME(mbufs) && SAME(rx_desc) && SAME(tx_desc) && SAME(ring_size) &&
		     SAME(idle_sleep_us) && SAME(frag_flows) && SAME(frag_timeout_ms) &&
		     SAME(frag_buffers),
	     "dataplane");
	NOTE(SAME(neigh_max), "neighbours.max");
	NOTE(SAME(rate_sources), "filter.rate_sources");
	NOTE(SAME(rate_keys), "filter.rate_keys");
	NOTE(SAME(max_sources), "bindings.max_sources");
	/* Workers read the alive window from dp_params. */
	NOTE(SAME(max_devices) && SAME(store) && SAME(store_sync_full) && SAME(max_pending) &&
		     SAME(alive_window_s),
	     "bindings (but ping_interval_s)");
	/* Workers read the wake policy from dp_params; the held table is sized once. */
	NOTE(SAME(wake_policy), "wake.policy");
	NOTE(SAME(max_held), "wake.max_held");
	NOTE(SAME(wake_max_messages), "wake.max_messages");
	/* The taps are made at start; the SYN budgets reload with the policy. */
	NOTE(SAME(n_stream_ports) && SAME(stream_ports), "streams.ports");
	/* The streams thread's listeners and limits are set once; only the
	 * certificates' files are read again (st_reload_certs()). */
	NOTE(SAME(streams.n_listeners) && SAME(streams.listeners), "streams listeners");
	NOTE(SAME(streams.max_conns) && SAME(streams.max_conns_per_source) &&
		     SAME(streams.max_message) && SAME(streams.max_out) &&
		     SAME(streams.handshake_s) && SAME(streams.header_s) && SAME(streams.idle_s) &&
		     SAME(streams.ring_size) && SAME(streams.msg_rate) && SAME(streams.msg_burst),
	     "streams limits");
	/* The link to Redis and the peers (the workers' copy) are set once. */
	NOTE(SAME(cluster) && SAME(cl) && SAME(cl_path) && SAME(n_peers) && SAME(peers), "cluster");
	/* pushd's rings are made once; its credentials reload (pd_reload()). */
	NOTE(SAME(push.ring_size), "push.ring_size");
#undef NOTE
}

static void reload(struct cp_ctx *cp)
{
	struct cp_config *next = malloc(sizeof(*next));
	struct dp_policy *pol = malloc(sizeof(*pol)), *old;
	char err[1024], fixed[256];

	if (next == NULL || pol == NULL) {
		CP_LOG(ERR, "config reload refused: out of memory; the running config stays");
		goto refused;
	}
	if (cp->cfg_path[0] == '\0') {
		CP_LOG(ERR, "config reload refused: sipwake was not started from a config file");
		goto refused;
	}
	if (cp_config_load(cp->cfg_path, next, err, sizeof(err)) != 0) {
		CP_LOG(ERR, "config reload refused: %s; the running config stays in force", err);
		goto refused;
	}
	/* Push credentials load first (keys, certificates, service accounts):
	 * one that does not load refuses the whole file, nothing changed yet.
	 * Loaded on every reload, so a key replaced under the same file name
	 * is picked up; an unchanged credential keeps its connections. */
	/* Certificates too, before anything changes: new handshakes get the
	 * new ones, open connections keep theirs (docs/streams.md). */
	if (cp->st != NULL && st_reload_certs(cp->st, err, sizeof(err)) != 0) {
		CP_LOG(ERR, "config reload refused: streams: %s; the running config stays in force",
		       err);
		goto refused;
	}
	if (cp->pd != NULL && pd_reload(cp->pd, &next->push, err, sizeof(err)) != 0) {
		CP_LOG(ERR, "config reload refused: %s; the running config stays in force", err);
		goto refused;
	}
	restart_keys(&cp->cfg, next, fixed, sizeof(fixed));

	cp_policy_from_config(next, pol);
	old = *cp->dp->policy;
	rcu_assign_pointer(*cp->dp->policy, pol);
	/* Workers pass a quiescent state every poll round (microseconds). */
	urcu_qsbr_synchronize_rcu();
	free(old);

	/* pbx.servers: the workers' copy came with the policy; the control
	 * plane's (REGISTER relay, health checks) is its own. */
	if (next->n_pbx_servers != cp->cfg.n_pbx_servers ||
	    memcmp(next->pbx_servers, cp->cfg.pbx_servers, sizeof(next->pbx_servers)) != 0) {
		cp->cfg.n_pbx_servers = next->n_pbx_servers;
		memcpy(cp->cfg.pbx_servers, next->pbx_servers, sizeof(next->pbx_servers));
		cp->n_servers = pol->n_servers;
		memcpy(cp->servers, pol->servers, sizeof(cp->servers));
		cp_reg_servers_changed(cp);
	}
	/* Control-plane-only settings: no reader but this thread. */
	cp->cfg.neigh_queue = next->neigh_queue;
	cp->cfg.neigh_retry_ms = next->neigh_retry_ms;
	cp->cfg.neigh_probes = next->neigh_probes;
	cp->cfg.neigh_lifetime_s = next->neigh_lifetime_s;
	cp->retry_tsc = cp->hz * next->neigh_retry_ms / 1000;
	cp->lifetime_tsc = cp->hz * next->neigh_lifetime_s;
	cp->cfg.log_level = next->log_level;
	sw_log_set_level((int)next->log_level);
	cp->cfg.n_pbx_sources = next->n_pbx_sources;
	memcpy(cp->cfg.pbx_sources, next->pbx_sources, sizeof(next->pbx_sources));
	cp->cfg.n_scanner_uas = next->n_scanner_uas;
	memcpy(cp->cfg.scanner_uas, next->scanner_uas, sizeof(next->scanner_uas));
	cp->cfg.unknown_rate = next->unknown_rate;
	cp->cfg.unknown_burst = next->unknown_burst;
	cp->cfg.unknown_prefix_rate = next->unknown_prefix_rate;
	cp->cfg.unknown_prefix_burst = next->unknown_prefix_burst;
	cp->cfg.unknown_global_rate = next->unknown_global_rate;
	cp->cfg.unknown_global_burst = next->unknown_global_burst;
	cp->cfg.expected_rate = next->expected_rate;
	cp->cfg.expected_burst = next->expected_burst;
	cp->cfg.answer_rate = next->answer_rate;
	cp->cfg.answer_burst = next->answer_burst;
	cp->cfg.reply_403 = next->reply_403;
	cp->cfg.reply_503 = next->reply_503;
	cp->cfg.pbx_timeout_ms = next->pbx_timeout_ms;
	cp->cfg.pbx_check_s = next->pbx_check_s;
	cp->cfg.auth_ban_failures = next->auth_ban_failures;
	cp->cfg.auth_ban_window_s = next->auth_ban_window_s;
	cp->cfg.auth_ban_s = next->auth_ban_s;
	cp->cfg.ping_interval_s = next->ping_interval_s;
	/* The wake path reads these per call: the next call sees them. */
	cp->cfg.wake_timeout_s = next->wake_timeout_s;
	cp->cfg.wake_device_timeout_min_s = next->wake_device_timeout_min_s;
	cp->cfg.wake_device_timeout_max_s = next->wake_device_timeout_max_s;
	cp->cfg.wake_provisional = next->wake_provisional;
	cp->cfg.wake_cancel_alert = next->wake_cancel_alert;
	cp->cfg.wake_late_window_s = next->wake_late_window_s;
	cp->cfg.wake_message_window_s = next->wake_message_window_s;
	cp->cfg.wake_max_messages_per_aor = next->wake_max_messages_per_aor;
	cp->cfg.refresh_before_s = next->refresh_before_s;
	/* For /sipwake/info; pushd has its own copy (applied by its thread). */
	{
		uint32_t ring = cp->cfg.push.ring_size;

		cp->cfg.push = next->push;
		cp->cfg.push.ring_size = ring;
	}

	__atomic_store_n(&cp->cfg_generation, cp->cfg_generation + 1, __ATOMIC_RELAXED);
	cp_count(cp, CP_C_CONFIG_RELOADS, 1);
	if (fixed[0] != '\0')
		CP_LOG(WARNING,
		       "config reloaded from %s (generation %lu), except %s: those need a "
		       "restart and keep their running values",
		       cp->cfg_path, (unsigned long)cp->cfg_generation, fixed);
	else
		CP_LOG(NOTICE, "config reloaded from %s (generation %lu)", cp->cfg_path,
		       (unsigned long)cp->cfg_generation);
	free(next);
	return;

refused:
	cp_count(cp, CP_C_CONFIG_RELOAD_REFUSED, 1);
	free(next);
	free(pol);
}

void cp_reload_poll(struct cp_ctx *cp)
{
	if (__atomic_load_n(&reload_requested, __ATOMIC_ACQUIRE) &&
	    __atomic_exchange_n(&reload_requested, false, __ATOMIC_ACQ_REL))
		reload(cp);
}
