/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: libconfig parses, this file validates. Every group is
 * walked member by member in file order against one table of known keys,
 * so the first error reported is the first one in the file, and a key the
 * table does not know is an error rather than something quietly ignored.
 */
#include "controlplane/config/cp_config.h"
#include "controlplane/config/cp_config_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A sane config is a few KiB; the cap keeps a wrong path (a disk image,
 * /dev/zero) from being read into memory. */
#define MAX_FILE_SIZE (1u << 20)

__attribute__((format(printf, 3, 4))) static void put_err(char *err, size_t errlen, const char *fmt,
							  ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	sw_cfg_one_line(err);
}

/* ---- schema ---------------------------------------------------------- */

#define LOADER_INIT(f, t, o, e, el)                                                               \
	{                                                                                         \
		.file = (f), .text = (t), .obj = (o), .keys = keys, .n_keys = SW_ARRAY_LEN(keys), \
		.err = (e), .errlen = (el)                                                        \
	}

static sw_cfg_parser parse_group, parse_names, parse_log_level, parse_push;

/* clang-format off */
#define ROW(g, n, fn, ...) {.group = g, .name = n, .parse = fn, __VA_ARGS__}
#define INT_KEY(g, n, lo, hi, p2, field) ROW(g, n, sw_cfg_parse_int, .min = lo, .max = hi, .pow2 = p2, \
	.off = offsetof(struct cp_config, field), .size = sizeof(((struct cp_config *)0)->field))
#define BOOL_KEY(g, n, field) ROW(g, n, sw_cfg_parse_bool, .off = offsetof(struct cp_config, field), \
	.size = sizeof(((struct cp_config *)0)->field))

static const struct sw_cfg_key keys[] = {
	ROW("", "sip", parse_group),
	ROW("", "interfaces", cp_cfg_parse_interfaces),
	ROW("", "dataplane", parse_group),
	ROW("", "neighbours", parse_group),
	ROW("", "pbx", parse_group),
	ROW("", "filter", parse_group),
	ROW("", "bindings", parse_group),
	ROW("", "wake", parse_group),
	ROW("", "streams", parse_group),
	ROW("", "cluster", cp_cfg_parse_cluster),
	ROW("", "log", parse_group),
	ROW("", "push", parse_push),
	INT_KEY("sip", "port", 1, 65535, false, sip_port),
	ROW("sip", "names", parse_names),
	ROW("interface", "device", cp_cfg_parse_device),
	ROW("interface", "ipv4", cp_cfg_parse_address, .af = AF_INET),
	ROW("interface", "gateway4", cp_cfg_defer_gateway, .af = AF_INET),
	ROW("interface", "ipv6", cp_cfg_parse_address, .af = AF_INET6),
	ROW("interface", "gateway6", cp_cfg_defer_gateway, .af = AF_INET6),
	ROW("interface", "vlan", cp_cfg_parse_vlan, .min = 1, .max = 4094),
	/* 2^n - 1 mbufs is the mempool's sweet spot, hence the odd maximum. */
	INT_KEY("dataplane", "mbufs", 1024, 1048575, false, mbufs),
	/* NICs and rte_ring index with a mask: powers of 2 only. */
	INT_KEY("dataplane", "rx_desc", 64, 16384, true, rx_desc),
	INT_KEY("dataplane", "tx_desc", 64, 16384, true, tx_desc),
	INT_KEY("dataplane", "ring_size", 64, 65536, true, ring_size),
	INT_KEY("dataplane", "idle_sleep_us", 0, 100000, false, idle_sleep_us),
	INT_KEY("dataplane", "reassembly_flows", 64, 1048576, false, frag_flows),
	INT_KEY("dataplane", "reassembly_timeout_ms", 100, 60000, false, frag_timeout_ms),
	INT_KEY("dataplane", "reassembly_buffers", 63, 65535, false, frag_buffers),
	INT_KEY("neighbours", "max", 16, 1048576, false, neigh_max),
	INT_KEY("neighbours", "queue", 1, 64, false, neigh_queue),
	INT_KEY("neighbours", "retry_ms", 10, 60000, false, neigh_retry_ms),
	INT_KEY("neighbours", "probes", 1, 10, false, neigh_probes),
	INT_KEY("neighbours", "lifetime_s", 10, 86400, false, neigh_lifetime_s),
	ROW("pbx", "sources", cp_cfg_parse_prefixes),
	ROW("pbx", "servers", cp_cfg_parse_servers),
	INT_KEY("pbx", "timeout_ms", 100, 60000, false, pbx_timeout_ms),
	INT_KEY("pbx", "check_interval_s", 1, 3600, false, pbx_check_s),
	INT_KEY("pbx", "auth_ban_failures", 1, 1000, false, auth_ban_failures),
	INT_KEY("pbx", "auth_ban_window_s", 1, 86400, false, auth_ban_window_s),
	INT_KEY("pbx", "auth_ban_s", 1, 604800, false, auth_ban_s),
	ROW("filter", "scanner_user_agents", cp_cfg_parse_patterns),
	INT_KEY("filter", "unknown_rate", 1, 1000000, false, unknown_rate),
	INT_KEY("filter", "unknown_burst", 1, 1000000, false, unknown_burst),
	INT_KEY("filter", "unknown_prefix_rate", 1, 100000000, false, unknown_prefix_rate),
	INT_KEY("filter", "unknown_prefix_burst", 1, 100000000, false, unknown_prefix_burst),
	INT_KEY("filter", "unknown_global_rate", 1, 100000000, false, unknown_global_rate),
	INT_KEY("filter", "unknown_global_burst", 1, 100000000, false, unknown_global_burst),
	INT_KEY("filter", "expected_rate", 1, 1000000, false, expected_rate),
	INT_KEY("filter", "expected_burst", 1, 1000000, false, expected_burst),
	INT_KEY("filter", "answer_rate", 1, 100000000, false, answer_rate),
	INT_KEY("filter", "answer_burst", 1, 100000000, false, answer_burst),
	INT_KEY("filter", "rate_sources", 256, 16777216, false, rate_sources),
	INT_KEY("filter", "rate_keys", 256, 16777216, false, rate_keys),
	BOOL_KEY("filter", "reply_403", reply_403),
	BOOL_KEY("filter", "reply_503", reply_503),
	INT_KEY("bindings", "max_sources", 16, 16777216, false, max_sources),
	INT_KEY("bindings", "max_devices", 16, 16777216, false, max_devices),
	ROW("bindings", "store", cp_cfg_parse_path, .off = offsetof(struct cp_config, store)),
	ROW("bindings", "store_sync", cp_cfg_parse_choice),
	INT_KEY("bindings", "ping_interval_s", 0, 86400, false, ping_interval_s),
	INT_KEY("bindings", "alive_window_s", 1, 86400, false, alive_window_s),
	INT_KEY("bindings", "max_pending", 16, 1048576, false, max_pending),
	ROW("wake", "policy", cp_cfg_parse_choice),
	INT_KEY("wake", "timeout_s", 1, 600, false, wake_timeout_s),
	INT_KEY("wake", "device_timeout_min_s", 1, 600, false, wake_device_timeout_min_s),
	INT_KEY("wake", "device_timeout_max_s", 1, 600, false, wake_device_timeout_max_s),
	ROW("wake", "provisional", cp_cfg_parse_choice),
	ROW("wake", "cancelled_call", cp_cfg_parse_choice),
	INT_KEY("wake", "max_held", 16, 1048576, false, max_held),
	INT_KEY("wake", "late_window_s", 0, 3600, false, wake_late_window_s),
	INT_KEY("wake", "message_window_s", 1, 32, false, wake_message_window_s),
	INT_KEY("wake", "max_messages", 16, 1048576, false, wake_max_messages),
	INT_KEY("wake", "max_messages_per_aor", 1, 1024, false, wake_max_messages_per_aor),
	INT_KEY("wake", "refresh_before_s", 0, 86400, false, refresh_before_s),
	ROW("streams", "ports", cp_cfg_parse_stream_ports),
	INT_KEY("streams", "syn_rate", 1, 1000000, false, syn_rate),
	INT_KEY("streams", "syn_burst", 1, 1000000, false, syn_burst),
	INT_KEY("streams", "syn_global_rate", 1, 100000000, false, syn_global_rate),
	INT_KEY("streams", "syn_global_burst", 1, 100000000, false, syn_global_burst),
	INT_KEY("streams", "syn_challenge_rate", 0, 100000000, false, syn_challenge_rate),
	INT_KEY("streams", "syn_challenge_burst", 1, 100000000, false, syn_challenge_burst),
	ROW("streams", "tcp", cp_cfg_parse_listener, .min = SW_TP_TCP),
	ROW("streams", "tls", cp_cfg_parse_listener, .min = SW_TP_TLS),
	ROW("streams", "ws", cp_cfg_parse_listener, .min = SW_TP_WS),
	ROW("streams", "wss", cp_cfg_parse_listener, .min = SW_TP_WSS),
	INT_KEY("streams", "max_conns", 1, 10000000, false, streams.max_conns),
	INT_KEY("streams", "max_conns_per_source", 1, 10000000, false, streams.max_conns_per_source),
	INT_KEY("streams", "max_message", 1024, 65535, false, streams.max_message),
	INT_KEY("streams", "max_out", 4096, 67108864, false, streams.max_out),
	INT_KEY("streams", "handshake_s", 1, 600, false, streams.handshake_s),
	INT_KEY("streams", "header_s", 1, 600, false, streams.header_s),
	INT_KEY("streams", "idle_s", 10, 604800, false, streams.idle_s),
	INT_KEY("streams", "ring_size", 64, 1048576, true, streams.ring_size),
	INT_KEY("streams", "msg_rate", 1, 1000000, false, streams.msg_rate),
	INT_KEY("streams", "msg_burst", 1, 1000000, false, streams.msg_burst),
	ROW("cluster", "edge", sw_cfg_parse_str, .off = offsetof(struct cp_config, cl.edge),
	    .size = sizeof(((struct cp_config *)0)->cl.edge), .charset = CP_NAME_CHARS),
	ROW("cluster", "redis", cp_cfg_parse_redis_addr),
	ROW("cluster", "sentinels", cp_cfg_parse_sentinels),
	ROW("cluster", "peers", cp_cfg_parse_peers),
	ROW("cluster", "path", sw_cfg_parse_str, .off = offsetof(struct cp_config, cl_path),
	    .size = sizeof(((struct cp_config *)0)->cl_path), .charset = CP_NAME_CHARS),
	ROW("cluster", "master", sw_cfg_parse_str, .off = offsetof(struct cp_config, cl.master),
	    .size = sizeof(((struct cp_config *)0)->cl.master), .charset = CP_NAME_CHARS),
	ROW("cluster", "password", sw_cfg_parse_str, .off = offsetof(struct cp_config, cl.password),
	    .size = sizeof(((struct cp_config *)0)->cl.password)),
	ROW("cluster", "prefix", sw_cfg_parse_str, .off = offsetof(struct cp_config, cl.prefix),
	    .size = sizeof(((struct cp_config *)0)->cl.prefix), .charset = CP_NAME_CHARS ":"),
	INT_KEY("cluster", "timeout_ms", 10, 60000, false, cl.timeout_ms),
	INT_KEY("cluster", "retry_ms", 10, 60000, false, cl.retry_ms),
	INT_KEY("cluster", "wait_replicas", 0, 16, false, cl.wait_replicas),
	INT_KEY("cluster", "wait_ms", 1, 60000, false, cl.wait_ms),
	INT_KEY("cluster", "feed_maxlen", 1000, 100000000, false, cl.feed_maxlen),
	INT_KEY("cluster", "max_inflight", 1, 1048576, false, cl.max_inflight),
	ROW("listener", "port", cp_cfg_parse_listener_key),
	ROW("listener", "cert", cp_cfg_parse_listener_key),
	ROW("listener", "key", cp_cfg_parse_listener_key),
	ROW("listener", "ca", cp_cfg_parse_listener_key),
	ROW("listener", "path", cp_cfg_parse_listener_key),
	ROW("log", "level", parse_log_level),
};
/* clang-format on */

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};

static int parse_group(struct sw_cfg *c, const config_setting_t *s, const char *path,
		       const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	if (!config_setting_is_group(s))
		return sw_cfg_fail(&ld->c, s, path, "expected a group like %s: { ... }, got %s",
				   k->name, sw_cfg_type_name(s));
	return sw_cfg_members(&ld->c, s, k->name, path);
}

/* RFC 1123 host names: labels of 1..63 letters, digits and inner hyphens.
 * A trailing dot is refused: the SIP URIs compared against it carry none. */
static bool valid_hostname(const char *h)
{
	size_t label = 0;

	if (!h || !*h || strlen(h) >= CP_NAME_LEN)
		return false;
	for (; *h; h++) {
		if (*h == '.' && label && h[-1] != '-')
			label = 0;
		else if (!isalnum((unsigned char)*h) && (*h != '-' || !label))
			return false;
		else if (++label > 63)
			return false;
	}
	return label && h[-1] != '-';
}

static int parse_names(struct sw_cfg *c, const config_setting_t *s, const char *path,
		       const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	int i, n = config_setting_length(s);
	char epath[112];

	(void)k;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return sw_cfg_fail(
			&ld->c, s, path,
			"expected a list of host names like [ \"edge.example.net\" ], got %s",
			sw_cfg_type_name(s));
	if (n > CP_MAX_NAMES)
		return sw_cfg_fail(&ld->c, s, path, "expected at most %d names, got %d",
				   CP_MAX_NAMES, n);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *h = config_setting_get_string(e);

		snprintf(epath, sizeof(epath), "%s.[%d]", path, i);
		if (!valid_hostname(h))
			return sw_cfg_fail(
				&ld->c, e, epath,
				"expected a host name string like \"edge.example.net\" (letters, "
				"digits, '-', '.'; labels of 1..63; under %d characters), got %s",
				CP_NAME_LEN, sw_cfg_found(&ld->c, e, NULL));
		memcpy(ld->cfg->names[i], h, strlen(h) + 1);
	}
	ld->cfg->n_names = (unsigned)n;
	return 0;
}

static int parse_log_level(struct sw_cfg *c, const config_setting_t *s, const char *path,
			   const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	const char *text = config_setting_get_string(s);
	size_t i;

	(void)k;
	for (i = 0; text && i < SW_ARRAY_LEN(level_names); i++)
		if (!strcmp(text, level_names[i])) {
			ld->cfg->log_level = (enum cp_log_level)(CP_LOG_ERR + (int)i);
			return 0;
		}
	return sw_cfg_fail(
		&ld->c, s, path,
		"expected one of \"error\", \"warning\", \"notice\", \"info\", \"debug\", got %s",
		sw_cfg_found(&ld->c, s, NULL));
}

/* push { } belongs to pushd, which validates it with the same message style. */
static int parse_push(struct sw_cfg *c, const config_setting_t *s, const char *path,
		      const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	(void)path;
	(void)k;
	return pd_config_parse(s, ld->c.file, &ld->cfg->push, ld->c.err, ld->c.errlen);
}

/* ---- interfaces -------------------------------------------------------- */

void cp_config_defaults(struct cp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sip_port = 5060;
	cfg->mbufs = 16383;
	cfg->rx_desc = 1024;
	cfg->tx_desc = 1024;
	cfg->ring_size = 1024;
	cfg->idle_sleep_us = 0;
	cfg->frag_flows = 4096;
	cfg->frag_timeout_ms = 2000;
	cfg->frag_buffers = 511;
	cfg->neigh_max = 4096;
	cfg->neigh_queue = 4;
	cfg->neigh_retry_ms = 1000;
	cfg->neigh_probes = 3;
	cfg->neigh_lifetime_s = 300;
	cfg->log_level = CP_LOG_INFO;
	cp_config_filter_defaults(cfg);
	cfg->max_sources = 65536;
	cp_config_proxy_defaults(cfg);
	cp_config_streams_defaults(cfg);
	cfg->cluster = 0;
	cl_config_defaults(&cfg->cl);
	pd_config_defaults(&cfg->push);
}

const char *cp_log_level_name(enum cp_log_level l)
{
	if (l < CP_LOG_ERR || l > CP_LOG_DEBUG)
		return "unknown";
	return level_names[l - CP_LOG_ERR];
}

static int load_text(struct cp_loader *ld, const char *include_dir)
{
	config_t c;
	int rc;

	config_init(&c);
	if (include_dir)
		config_set_include_dir(&c, include_dir);
	if (!config_read_string(&c, ld->c.text)) {
		const char *msg = config_error_text(&c);

		put_err(ld->c.err, ld->c.errlen, "%s:%d: %s%s",
			config_error_file(&c) ? config_error_file(&c) : ld->c.file,
			config_error_line(&c), msg,
			strcmp(msg, "syntax error") ? ""
						    : " (settings look like name = value; groups "
						      "{ ... }, lists ( ... ), arrays [ ... ])");
		rc = -EINVAL;
		goto out;
	}
	cp_config_defaults(ld->cfg);
	rc = sw_cfg_members(&ld->c, config_root_setting(&c), "", "");
	if (!rc && !ld->cfg->n_ifaces)
		rc = sw_cfg_fail(&ld->c, config_root_setting(&c), "interfaces",
				 CP_EXPECT_IFACES "nothing (key missing)", CP_MAX_IFACES);
	if (!rc) {
		char why[96];

		if (cp_config_streams_finish(ld->cfg, why, sizeof(why)) != 0)
			rc = sw_cfg_fail(&ld->c, config_lookup(&c, "streams"), "streams.ports",
					 "%s", why);
	}
	if (!rc && ld->cfg->cluster) {
		char why[160];

		if (cp_config_cluster_finish(ld->cfg, why, sizeof(why)) != 0)
			rc = sw_cfg_fail(&ld->c, config_lookup(&c, "cluster"), "cluster", "%s",
					 why);
	}
	if (!rc && ld->cfg->wake_device_timeout_min_s > ld->cfg->wake_device_timeout_max_s) {
		const config_setting_t *w = config_lookup(&c, "wake");
		const config_setting_t *k = config_setting_get_member(w, "device_timeout_max_s");

		rc = sw_cfg_fail(&ld->c, k != NULL ? k : w, "wake.device_timeout_max_s",
				 "expected at least wake.device_timeout_min_s (%u), got %u",
				 ld->cfg->wake_device_timeout_min_s,
				 ld->cfg->wake_device_timeout_max_s);
	}
out:
	config_destroy(&c);
	return rc;
}

int cp_config_load_string(const char *text, struct cp_config *cfg, char *err, size_t errlen)
{
	struct cp_loader ld = {.c = LOADER_INIT("<string>", text, cfg, err, errlen), .cfg = cfg};

	return load_text(&ld, NULL);
}

/*
 * The file is read here rather than by config_read_file() so that the errno
 * of a failed open reaches the caller, a directory or a huge file is refused
 * before the parser sees it (flex exit()s on a read error), and
 * wrapped_literal() has the text. Open errors other than -ENOENT/-EACCES
 * (-EISDIR, -ENAMETOOLONG, ...) are returned as they are.
 */
int cp_config_load(const char *path, struct cp_config *cfg, char *err, size_t errlen)
{
	struct cp_loader ld = {.c = LOADER_INIT(path, NULL, cfg, err, errlen), .cfg = cfg};
	char *buf = NULL, dir[PATH_MAX], *slash;
	size_t len = 0, got;
	struct stat st;
	FILE *f;
	int rc;

	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		goto fail;
	}
	rc = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode) ? -EISDIR : 0;
	if (!rc && !(buf = malloc(MAX_FILE_SIZE + 1)))
		rc = -ENOMEM;
	while (!rc && (got = fread(buf + len, 1, MAX_FILE_SIZE + 1 - len, f)) > 0)
		len += got;
	if (!rc && ferror(f))
		rc = -EIO;
	fclose(f);
	if (rc)
		goto fail;
	if (len > MAX_FILE_SIZE || memchr(buf, '\0', len)) {
		put_err(err, errlen, "%s: expected a text file under %u bytes, got %s", path,
			MAX_FILE_SIZE, len > MAX_FILE_SIZE ? "a larger one" : "a NUL byte");
		free(buf);
		return -EINVAL;
	}
	buf[len] = '\0';
	/* @include paths are relative to the including file, not to the cwd. */
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	ld.c.text = buf;
	rc = load_text(&ld, slash ? dir : NULL);
	free(buf);
	return rc;
fail:
	free(buf);
	put_err(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	return rc;
}
