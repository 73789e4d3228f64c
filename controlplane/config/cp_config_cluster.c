/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config keys of cluster { }: this edge's name and where Redis is, directly
 * or through Sentinel (docs/cluster.md). Same error contract as
 * cp_config_load.c: file:line, key path, what was expected, what was found.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controlplane/config/cp_config_internal.h"

int cp_cfg_parse_cluster(struct sw_cfg *c, const config_setting_t *s, const char *path,
			 const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);

	(void)k;
	if (!config_setting_is_group(s))
		return sw_cfg_fail(&ld->c, s, path,
				   "expected a group like cluster = { edge = \"edge-1\"; redis = "
				   "\"10.0.0.1:6379\"; }, got %s",
				   sw_cfg_type_name(s));
	ld->cfg->cluster = 1;
	return sw_cfg_members(&ld->c, s, "cluster", path);
}

/* "host:port", "[v6]:port" or a bare host (port 6379, or 26379 for a
 * sentinel) into @p a. Names are allowed: Redis is reached through the
 * host's resolver, never the DPDK ports. NULL when good, else why not. */
static const char *addr_of(const char *text, uint16_t dflt, struct cl_addr *a)
{
	const char *colon, *end, *host = text;
	size_t hlen;

	if (text[0] == '[') {
		end = strchr(text, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return " (a bracketed IPv6 address looks like \"[2001:db8::1]:6379\")";
		host = text + 1;
		hlen = (size_t)(end - host);
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(text, ':');
		if (colon != NULL && strchr(text, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		hlen = colon != NULL ? (size_t)(colon - text) : strlen(text);
	}
	if (hlen == 0 || hlen >= sizeof(a->host))
		return " (no host)";
	for (size_t i = 0; i < hlen; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:",
			    host[i]))
			return " (not a host name or address)";
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	a->port = dflt;
	if (colon != NULL) {
		char *e;
		long v = strtol(colon + 1, &e, 10);

		if (e == colon + 1 || *e != '\0' || v < 1 || v > 65535)
			return " (port not in 1..65535)";
		a->port = (uint16_t)v;
	}
	return NULL;
}

int cp_cfg_parse_redis_addr(struct sw_cfg *c, const config_setting_t *s, const char *path,
			    const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	const char *text = config_setting_get_string(s), *why;

	(void)k;
	why = text != NULL ? addr_of(text, 6379, &ld->cfg->cl.redis) : "";
	if (why != NULL)
		return sw_cfg_fail(&ld->c, s, path,
				   "expected a Redis address like \"10.0.0.1:6379\" or "
				   "\"[2001:db8::1]:6379\", got %s",
				   sw_cfg_found(&ld->c, s, why));
	return 0;
}

static const char *sentinel_elem(struct sw_cfg *c, int i, const char *text)
{
	return text != NULL ? addr_of(text, 26379, &CP_LOADER(c)->cfg->cl.sentinels[i]) : "";
}

int cp_cfg_parse_sentinels(struct sw_cfg *c, const config_setting_t *s, const char *path,
			   const struct sw_cfg_key *k)
{
	int n = sw_cfg_strings(c, s, path, CL_MAX_SENTINELS, "sentinels",
			       "a list of Sentinel addresses like [ \"10.0.0.1:26379\", "
			       "\"10.0.0.2:26379\" ]",
			       "a Sentinel address like \"10.0.0.1:26379\"", sentinel_elem);

	(void)k;
	if (n < 0)
		return n;
	CP_LOADER(c)->cfg->cl.n_sentinels = (unsigned)n;
	return 0;
}

#define EXPECT_PEERS                                                                            \
	"a list of the other edges like ( { edge = \"edge-2\"; address = \"192.0.2.12\"; } ), " \
	"at most %d, got "

/* One peer: { edge = "name"; address = "ip[:port]"; }, nothing else. */
static int peer(struct cp_loader *ld, const config_setting_t *g, unsigned i)
{
	struct cp_peer_cfg *p = &ld->cfg->peers[i];
	char path[64], kpath[80];
	const char *why;

	snprintf(path, sizeof(path), "cluster.peers.[%u]", i);
	if (!config_setting_is_group(g))
		return sw_cfg_fail(&ld->c, g, path,
				   "expected a group like { edge = \"edge-2\"; address = "
				   "\"192.0.2.12\"; }, got %s",
				   sw_cfg_type_name(g));
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)k);
		const char *name = config_setting_name(m), *text = config_setting_get_string(m);

		snprintf(kpath, sizeof(kpath), "%s.%s", path, name);
		if (strcmp(name, "edge") == 0) {
			size_t n = text != NULL ? strlen(text) : 0;

			if (n == 0 || n >= sizeof(p->edge) || strspn(text, CP_NAME_CHARS) != n)
				return sw_cfg_fail(
					&ld->c, m, kpath,
					"expected an edge name of 1..%zu characters from "
					"[%s], got %s",
					sizeof(p->edge) - 1, CP_NAME_CHARS,
					sw_cfg_found(&ld->c, m, NULL));
			snprintf(p->edge, sizeof(p->edge), "%s", text);
		} else if (strcmp(name, "address") == 0) {
			why = text != NULL ? cp_cfg_server_of(text, &p->addr) : "";
			if (why != NULL)
				return sw_cfg_fail(
					&ld->c, m, kpath,
					"expected the edge's SIP address like "
					"\"192.0.2.12\" or \"[2001:db8::12]:5060\", got %s",
					sw_cfg_found(&ld->c, m, why));
		} else {
			return sw_cfg_fail(&ld->c, m, kpath, "unknown key (known: edge, address)");
		}
	}
	if (p->edge[0] == '\0' || p->addr.port == 0)
		return sw_cfg_fail(&ld->c, g, path, "expected edge and address, got %s missing",
				   p->edge[0] == '\0' ? "edge" : "address");
	return 0;
}

int cp_cfg_parse_peers(struct sw_cfg *c, const config_setting_t *s, const char *path,
		       const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	int n = config_setting_length(s);

	(void)k;
	if (!config_setting_is_list(s))
		return sw_cfg_fail(&ld->c, s, path, EXPECT_PEERS "%s", CP_MAX_PEERS,
				   sw_cfg_type_name(s));
	if (n > CP_MAX_PEERS)
		return sw_cfg_fail(&ld->c, s, path, EXPECT_PEERS "%d", CP_MAX_PEERS, n);
	memset(ld->cfg->peers, 0, sizeof(ld->cfg->peers));
	for (int i = 0; i < n; i++) {
		int rc = peer(ld, config_setting_get_elem(s, (unsigned)i), (unsigned)i);

		if (rc != 0)
			return rc;
	}
	ld->cfg->n_peers = (unsigned)n;
	return 0;
}

/* What one key cannot say alone: a name, and exactly one way to Redis. */
int cp_config_cluster_finish(struct cp_config *cfg, char *why, size_t cap)
{
	const struct cl_config *cl = &cfg->cl;

	if (cl->edge[0] == '\0') {
		snprintf(why, cap,
			 "expected edge = \"<this edge's name, unique among the edges>\", got "
			 "nothing (key missing)");
		return -EINVAL;
	}
	if (cl->redis.host[0] == '\0' && cl->n_sentinels == 0) {
		snprintf(why, cap,
			 "expected redis = \"host:port\" or sentinels = [ \"host:port\", ... ], "
			 "got neither");
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_peers; i++) {
		if (strcmp(cfg->peers[i].edge, cl->edge) == 0) {
			snprintf(why, cap,
				 "expected peers other than this edge, got peers.[%u] named \"%s\" "
				 "as edge is",
				 i, cl->edge);
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++)
			if (strcmp(cfg->peers[i].edge, cfg->peers[j].edge) == 0 ||
			    memcmp(&cfg->peers[i].addr, &cfg->peers[j].addr,
				   sizeof(cfg->peers[i].addr)) == 0) {
				snprintf(why, cap,
					 "expected each peer once, got peers.[%u] and peers.[%u] "
					 "with the same name or address",
					 j, i);
				return -EINVAL;
			}
	}
	if (cfg->cl_path[0] != '\0') {
		bool known = false;

		for (unsigned i = 0; i < cfg->n_names; i++)
			known |= strcasecmp(cfg->names[i], cfg->cl_path) == 0;
		if (!known) {
			snprintf(why, cap,
				 "expected path to be one of sip.names (each edge must take "
				 "the name as its own), got \"%s\"",
				 cfg->cl_path);
			return -EINVAL;
		}
	}
	if (cl->redis.host[0] != '\0' && cl->n_sentinels > 0) {
		snprintf(why, cap,
			 "expected redis or sentinels, got both (with Sentinel the master is "
			 "asked of the sentinels)");
		return -EINVAL;
	}
	return 0;
}
