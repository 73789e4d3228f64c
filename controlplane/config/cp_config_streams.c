/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config keys of streams { }: the TCP ports whose segments for our
 * addresses go to the kernel through the exception path (docs/streams.md),
 * and the budgets of SYNs from sources that are not the PBX. Same error
 * contract as cp_config_load.c: file:line, key path, what was expected,
 * what was found.
 */
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "controlplane/config/cp_config_internal.h"

void cp_config_streams_defaults(struct cp_config *cfg)
{
	cfg->n_stream_ports = 0; /* no exception path: TCP is dropped as before */
	cfg->syn_rate = 5;
	cfg->syn_burst = 10;
	cfg->syn_global_rate = 2000;
	cfg->syn_global_burst = 4000;
	cfg->syn_challenge_rate = 1000000;
	cfg->syn_challenge_burst = 100000;
	st_config_defaults(&cfg->streams);
}

/* ---- listeners: streams.tcp / tls / ws / wss = { port; cert; key; ca; path; } ---- */

static const char *const tp_key[SW_TP_N] = {"udp", "tcp", "tls", "ws", "wss"};

/* The listener being parsed: the last one added (cp_cfg_parse_listener). */
static struct st_listener *cur(struct cp_loader *ld)
{
	return &ld->cfg->streams.listeners[ld->cfg->streams.n_listeners - 1];
}

static bool has_tls(uint8_t tp)
{
	return tp == SW_TP_TLS || tp == SW_TP_WSS;
}

int cp_cfg_parse_listener(struct sw_cfg *c, const config_setting_t *s, const char *path,
			  const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	struct st_config *sc = &ld->cfg->streams;
	uint8_t tp = (uint8_t)k->min;
	struct st_listener *l;
	char kpath[64];
	int rc;

	if (!config_setting_is_group(s))
		return sw_cfg_fail(&ld->c, s, path,
				   "expected a group like %s = { port = %d; %s}, got %s", k->name,
				   tp == SW_TP_TLS   ? 5061
				   : tp == SW_TP_TCP ? 5060
						     : 443,
				   has_tls(tp) ? "cert = \"...\"; key = \"...\"; " : "",
				   sw_cfg_type_name(s));
	if (sc->n_listeners == ST_MAX_LISTENERS)
		return sw_cfg_fail(&ld->c, s, path, "expected at most %d listeners",
				   ST_MAX_LISTENERS);
	l = &sc->listeners[sc->n_listeners++];
	memset(l, 0, sizeof(*l));
	l->tp = tp;
	l->port = tp == SW_TP_TCP ? 5060 : tp == SW_TP_TLS ? 5061 : 0;
	if (tp == SW_TP_WS || tp == SW_TP_WSS)
		snprintf(l->ws_path, sizeof(l->ws_path), "/");
	rc = sw_cfg_members(&ld->c, s, "listener", path);
	if (rc)
		return rc;
	snprintf(kpath, sizeof(kpath), "%s.port", path);
	if (l->port == 0)
		return sw_cfg_fail(&ld->c, s, kpath,
				   "expected a TCP port 1..65535, got nothing (key missing)");
	for (unsigned i = 0; i + 1 < sc->n_listeners; i++)
		if (sc->listeners[i].port == l->port)
			return sw_cfg_fail(
				&ld->c, s, kpath,
				"expected a port no other listener uses, got %u (streams.%s)",
				l->port, tp_key[sc->listeners[i].tp]);
	if (has_tls(tp) && (l->cert[0] == 0 || l->key[0] == 0)) {
		snprintf(kpath, sizeof(kpath), "%s.%s", path, l->cert[0] == 0 ? "cert" : "key");
		return sw_cfg_fail(
			&ld->c, s, kpath,
			"expected a PEM file path (TLS needs a certificate and its key), "
			"got nothing (key missing)");
	}
	return 0;
}

int cp_cfg_parse_listener_key(struct sw_cfg *c, const config_setting_t *s, const char *path,
			      const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	struct st_listener *l = cur(ld);
	const char *text;
	char *dst;
	size_t cap;

	if (strcmp(k->name, "port") == 0) {
		long long v;

		if (config_setting_type(s) != CONFIG_TYPE_INT &&
		    config_setting_type(s) != CONFIG_TYPE_INT64)
			return sw_cfg_fail(&ld->c, s, path, "expected a TCP port 1..65535, got %s",
					   sw_cfg_type_name(s));
		v = config_setting_get_int64(s);
		if (v < 1 || v > 65535)
			return sw_cfg_fail(&ld->c, s, path,
					   "expected a TCP port 1..65535, got %lld", v);
		l->port = (uint16_t)v;
		return 0;
	}
	if (strcmp(k->name, "path") == 0) {
		if (l->tp != SW_TP_WS && l->tp != SW_TP_WSS)
			return sw_cfg_fail(&ld->c, s, path,
					   "expected no path here (only ws and wss take one)");
		dst = l->ws_path;
		cap = sizeof(l->ws_path);
		text = config_setting_get_string(s);
		if (text == NULL || text[0] != '/' || strlen(text) >= cap ||
		    strpbrk(text, " \t\r\n?#"))
			return sw_cfg_fail(
				&ld->c, s, path,
				"expected an HTTP path like \"/\" or \"/sip\" (no query, "
				"shorter than %zu bytes), got %s",
				cap, sw_cfg_found(&ld->c, s, NULL));
		snprintf(dst, cap, "%s", text);
		return 0;
	}
	if (!has_tls(l->tp))
		return sw_cfg_fail(&ld->c, s, path,
				   "expected no %s here (only tls and wss take certificates)",
				   k->name);
	dst = strcmp(k->name, "cert") == 0 ? l->cert : strcmp(k->name, "key") == 0 ? l->key : l->ca;
	cap = ST_PATH_MAX;
	text = config_setting_get_string(s);
	if (text == NULL || text[0] != '/' || strlen(text) >= cap)
		return sw_cfg_fail(
			&ld->c, s, path,
			"expected an absolute path of a PEM file shorter than %zu bytes, "
			"got %s",
			cap, sw_cfg_found(&ld->c, s, NULL));
	snprintf(dst, cap, "%s", text);
	return 0;
}

/* Every listener's port goes through the exception path: listed in
 * streams.ports or not, its segments must reach the kernel. */
int cp_config_streams_finish(struct cp_config *cfg, char *why, size_t cap)
{
	for (unsigned i = 0; i < cfg->streams.n_listeners; i++) {
		uint16_t p = cfg->streams.listeners[i].port;
		bool listed = false;

		for (unsigned j = 0; j < cfg->n_stream_ports; j++)
			listed |= cfg->stream_ports[j] == p;
		if (listed)
			continue;
		if (cfg->n_stream_ports == CP_MAX_STREAM_PORTS) {
			snprintf(why, cap,
				 "expected at most %d ports with the listeners', got more",
				 CP_MAX_STREAM_PORTS);
			return -EINVAL;
		}
		cfg->stream_ports[cfg->n_stream_ports++] = p;
	}
	return 0;
}

int cp_cfg_parse_stream_ports(struct sw_cfg *c, const config_setting_t *s, const char *path,
			      const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	int n = config_setting_length(s);
	char epath[112];

	(void)k;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return sw_cfg_fail(&ld->c, s, path,
				   "expected a list of TCP ports like [ 5060, 5061 ], got %s",
				   sw_cfg_type_name(s));
	if (n > CP_MAX_STREAM_PORTS)
		return sw_cfg_fail(&ld->c, s, path, "expected at most %d ports, got %d",
				   CP_MAX_STREAM_PORTS, n);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		long long v;

		snprintf(epath, sizeof(epath), "%s.[%d]", path, i);
		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64)
			return sw_cfg_fail(&ld->c, e, epath, "expected a TCP port 1..65535, got %s",
					   sw_cfg_type_name(e));
		v = config_setting_get_int64(e);
		if (v < 1 || v > 65535)
			return sw_cfg_fail(&ld->c, e, epath,
					   "expected a TCP port 1..65535, got %lld", v);
		for (int j = 0; j < i; j++)
			if (ld->cfg->stream_ports[j] == v)
				return sw_cfg_fail(&ld->c, e, epath,
						   "expected each port once, got %lld again", v);
		ld->cfg->stream_ports[i] = (uint16_t)v;
	}
	ld->cfg->n_stream_ports = (unsigned)n;
	return 0;
}
