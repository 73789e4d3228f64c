/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * push { } config group. Walked member by member in file order against one
 * table of known keys by the one loader (common/sw_config.h), as the control
 * plane's groups are, so the first error is
 * the first in the file and unknown keys are errors.
 */
#include "pushd/pd_config.h"

#include "common/sw_config.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pushd's loader state: the common one (common/sw_config.h) first, so the
 * rows' parsers reach it from the struct sw_cfg they are given. */
struct ld {
	struct sw_cfg c;
	struct pd_config *cfg;
	bool sandbox;
};

#define LD(c) ((struct ld *)(c))

static sw_cfg_parser parse_list, parse_endpoint, parse_sandbox;

/* group "" is push { } itself; "apns" / "fcm" / "webpush" an entry of those lists. */
/* clang-format off */
#define INT(n, lo, hi, p2, f) {"", n, sw_cfg_parse_int, lo, hi, p2, offsetof(struct pd_config, f), \
	sizeof(((struct pd_config *)0)->f), 0, NULL}
#define STR(g, t, n, f, cs) {g, n, sw_cfg_parse_str, 0, 0, false, offsetof(t, f), \
	sizeof(((t *)0)->f), 0, cs}
#define WINT(n, lo, hi, f) {"webpush", n, sw_cfg_parse_int, lo, hi, false, \
	offsetof(struct pd_webpush_cfg, f), sizeof(((struct pd_webpush_cfg *)0)->f), 0, NULL}
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
static const struct sw_cfg_key keys[] = {
	{"", "apns", parse_list, 0, 0, false, 0, 0, 0, NULL},
	{"", "fcm", parse_list, 0, 0, false, 0, 0, 0, NULL},
	{"", "webpush", parse_list, 0, 0, false, 0, 0, 0, NULL},
	INT("wake_window_s", 1, 3600, false, wake_window_s),
	INT("ring_size", 64, 65536, true, ring_size),
	/* APNs refuses tokens older than 1 h and renewals more often than 20 min. */
	INT("jwt_renew_s", 1200, 3300, false, jwt_renew_s),
	INT("ping_interval_s", 1, 3600, false, ping_interval_s),
	INT("retry_base_ms", 10, 10000, false, retry_base_ms),
	INT("retry_max_ms", 100, 60000, false, retry_max_ms),
	INT("max_connections", 1, 16, false, max_connections),
	INT("max_pending", 64, 1048576, false, max_pending),
	{"", "apns_expire_now", sw_cfg_parse_bool, 0, 1, false,
	 offsetof(struct pd_config, apns_expire_now), sizeof(uint32_t), 0, NULL},
	STR("apns", struct pd_apns_cfg, "team_id", team_id, ALNUM),
	STR("apns", struct pd_apns_cfg, "bundle_id", bundle_id, ALNUM ".-_"),
	STR("apns", struct pd_apns_cfg, "key_id", key_id, ALNUM),
	STR("apns", struct pd_apns_cfg, "key_file", key_file, NULL),
	STR("apns", struct pd_apns_cfg, "cert_file", cert_file, NULL),
	STR("apns", struct pd_apns_cfg, "cert_key_file", cert_key_file, NULL),
	STR("apns", struct pd_apns_cfg, "ca_file", ca_file, NULL),
	{"apns", "endpoint", parse_endpoint, 0, 0, false, 0, 0, 0, NULL},
	{"apns", "sandbox", parse_sandbox, 0, 0, false, 0, 0, 0, NULL},
	STR("fcm", struct pd_fcm_cfg, "project", project, ALNUM "-_"),
	STR("fcm", struct pd_fcm_cfg, "package", package, ALNUM "._"),
	STR("fcm", struct pd_fcm_cfg, "service_account_file", service_account_file, NULL),
	STR("fcm", struct pd_fcm_cfg, "token_url", token_url, NULL),
	STR("fcm", struct pd_fcm_cfg, "ca_file", ca_file, NULL),
	{"fcm", "endpoint", parse_endpoint, 0, 0, false, 0, 0, 0, NULL},
	STR("webpush", struct pd_webpush_cfg, "vapid_key", vapid_key, NULL),
	STR("webpush", struct pd_webpush_cfg, "subject", subject, NULL),
	STR("webpush", struct pd_webpush_cfg, "ca_file", ca_file, NULL),
	WINT("max_origins", 1, 1024, max_origins),
	WINT("origin_idle_s", 5, 3600, origin_idle_s),
};
/* clang-format on */

/* "host:port" or "[v6]:port"; the port may be omitted (443). */
static int split_endpoint(const char *v, char *host, size_t hcap, uint16_t *port)
{
	const char *colon, *h = v, *hend;
	long p = 443;
	char *end;

	if (*v == '[') {
		h = v + 1;
		hend = strchr(h, ']');
		if (!hend)
			return -EINVAL;
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (hend[1] && !colon)
			return -EINVAL;
	} else {
		colon = strrchr(v, ':');
		hend = colon ? colon : v + strlen(v);
	}
	if (hend == h || (size_t)(hend - h) >= hcap)
		return -EINVAL;
	if (colon) {
		p = strtol(colon + 1, &end, 10);
		if (*end || p < 1 || p > 65535)
			return -EINVAL;
	}
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static int parse_endpoint(struct sw_cfg *c, const config_setting_t *s, const char *path,
			  const struct sw_cfg_key *k)
{
	struct ld *ld = LD(c);
	const char *v = config_setting_get_string(s);
	bool apns = !strcmp(k->group, "apns");
	char *host = apns ? ((struct pd_apns_cfg *)ld->c.obj)->host
			  : ((struct pd_fcm_cfg *)ld->c.obj)->host;
	uint16_t *port = apns ? &((struct pd_apns_cfg *)ld->c.obj)->port
			      : &((struct pd_fcm_cfg *)ld->c.obj)->port;

	if (!v || split_endpoint(v, host, PD_HOST_LEN, port) != 0)
		return sw_cfg_fail(&ld->c, s, path,
				   "expected \"host:port\" like \"api.push.apple.com:443\", got %s",
				   v ? v : sw_cfg_type_name(s));
	return 0;
}

static int parse_sandbox(struct sw_cfg *c, const config_setting_t *s, const char *path,
			 const struct sw_cfg_key *k)
{
	struct ld *ld = LD(c);
	(void)k;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return sw_cfg_fail(&ld->c, s, path, "expected true or false, got %s",
				   sw_cfg_type_name(s));
	ld->sandbox = config_setting_get_bool(s);
	return 0;
}

static int check_apns(struct ld *ld, const config_setting_t *e, const char *path,
		      struct pd_apns_cfg *a)
{
	bool tok = a->key_file[0] || a->key_id[0], cert = a->cert_file[0] || a->cert_key_file[0];

	if (!a->team_id[0])
		return sw_cfg_fail(&ld->c, e, path,
				   "expected team_id (10-character Apple team id), got none");
	if (!a->bundle_id[0])
		return sw_cfg_fail(&ld->c, e, path,
				   "expected bundle_id (the app's bundle id), got none");
	if (tok == cert)
		return sw_cfg_fail(&ld->c, e, path,
				   "expected either key_id + key_file (token auth) or cert_file + "
				   "cert_key_file (certificate auth), got %s",
				   tok ? "both" : "neither");
	if (tok && (!a->key_file[0] || !a->key_id[0]))
		return sw_cfg_fail(&ld->c, e, path,
				   "expected both key_id and key_file, got only %s",
				   a->key_id[0] ? "key_id" : "key_file");
	if (cert && (!a->cert_file[0] || !a->cert_key_file[0]))
		return sw_cfg_fail(&ld->c, e, path,
				   "expected both cert_file and cert_key_file, got only %s",
				   a->cert_file[0] ? "cert_file" : "cert_key_file");
	if (!a->host[0]) {
		snprintf(a->host, sizeof(a->host), "%s",
			 ld->sandbox ? "api.sandbox.push.apple.com" : "api.push.apple.com");
		a->port = 443;
	}
	return 0;
}

/* RFC 8292 §2.1: "sub" is a mailto: or https: URI the push service may
 * use to reach the operator. */
static int parse_webpush(struct ld *ld, const config_setting_t *e, const char *path,
			 struct pd_webpush_cfg *w)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->max_origins = 64;
	w->origin_idle_s = 120;
	ld->c.obj = w;
	rc = sw_cfg_members(&ld->c, e, "webpush", path);
	if (rc)
		return rc;
	if (!w->vapid_key[0])
		return sw_cfg_fail(&ld->c, e, path,
				   "expected vapid_key (P-256 private key PEM), got none");
	if (strncmp(w->subject, "mailto:", 7) != 0 && strncmp(w->subject, "https://", 8) != 0)
		return sw_cfg_fail(&ld->c, e, path,
				   "expected subject = \"mailto:...\" or \"https://...\" (RFC 8292 "
				   "sub), got %s",
				   w->subject[0] ? w->subject : "none");
	return 0;
}

static int parse_list(struct sw_cfg *c, const config_setting_t *s, const char *path,
		      const struct sw_cfg_key *k)
{
	struct ld *ld = LD(c);
	bool apns = !strcmp(k->name, "apns"), webpush = !strcmp(k->name, "webpush");
	int n = config_setting_length(s);
	char epath[128];

	if (!config_setting_is_list(s))
		return sw_cfg_fail(&ld->c, s, path,
				   "expected a list of groups like %s = ( { ... } ), got %s",
				   k->name, sw_cfg_type_name(s));
	if (n > PD_MAX_CREDS)
		return sw_cfg_fail(&ld->c, s, path, "expected at most %d credentials, got %d",
				   PD_MAX_CREDS, n);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		int rc;

		snprintf(epath, sizeof(epath), "%s.[%d]", path, i);
		if (!config_setting_is_group(e))
			return sw_cfg_fail(&ld->c, e, epath, "expected a group { ... }, got %s",
					   sw_cfg_type_name(e));
		ld->sandbox = false;
		if (apns) {
			struct pd_apns_cfg *a = &ld->cfg->apns[i];

			memset(a, 0, sizeof(*a));
			ld->c.obj = a;
			rc = sw_cfg_members(&ld->c, e, "apns", epath);
			if (!rc)
				rc = check_apns(ld, e, epath, a);
		} else if (webpush) {
			rc = parse_webpush(ld, e, epath, &ld->cfg->webpush[i]);
		} else {
			struct pd_fcm_cfg *f = &ld->cfg->fcm[i];

			memset(f, 0, sizeof(*f));
			ld->c.obj = f;
			rc = sw_cfg_members(&ld->c, e, "fcm", epath);
			if (!rc && !f->project[0])
				rc = sw_cfg_fail(
					&ld->c, e, epath,
					"expected project (Firebase project id), got none");
			if (!rc && !f->service_account_file[0])
				rc = sw_cfg_fail(
					&ld->c, e, epath,
					"expected service_account_file (service-account JSON), "
					"got none");
			if (!rc && !f->host[0]) {
				snprintf(f->host, sizeof(f->host), "fcm.googleapis.com");
				f->port = 443;
			}
		}
		if (rc)
			return rc;
	}
	ld->c.obj = ld->cfg; /* the top level's rows again */
	if (apns)
		ld->cfg->n_apns = (unsigned)n;
	else if (webpush)
		ld->cfg->n_webpush = (unsigned)n;
	else
		ld->cfg->n_fcm = (unsigned)n;
	return 0;
}

void pd_config_defaults(struct pd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->wake_window_s = 30;
	cfg->ring_size = 1024;
	cfg->jwt_renew_s = 3000;
	cfg->ping_interval_s = 30;
	cfg->retry_base_ms = 100;
	cfg->retry_max_ms = 5000;
	cfg->max_connections = 4;
	cfg->max_pending = 65536;
}

int pd_config_parse(const void *setting, const char *file, struct pd_config *cfg, char *err,
		    size_t errlen)
{
	const config_setting_t *s = setting;
	struct ld ld = {.c = {.file = file,
			      .obj = cfg,
			      .keys = keys,
			      .n_keys = SW_ARRAY_LEN(keys),
			      .err = err,
			      .errlen = errlen},
			.cfg = cfg};

	if (!config_setting_is_group(s))
		return sw_cfg_fail(&ld.c, s, "push", "expected a group like push: { ... }, got %s",
				   sw_cfg_type_name(s));
	return sw_cfg_members(&ld.c, s, "", "push");
}

int pd_config_load_file(const char *path, struct pd_config *cfg, char *err, size_t errlen)
{
	config_t c;
	const config_setting_t *s;
	int rc;

	config_init(&c);
	if (config_read_file(&c, path) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s",
			 config_error_file(&c) ? config_error_file(&c) : path,
			 config_error_line(&c), config_error_text(&c));
		config_destroy(&c);
		return -EINVAL;
	}
	s = config_lookup(&c, "push");
	if (!s) {
		snprintf(err, errlen, "%s:1: push: expected a group push: { ... }, got none", path);
		config_destroy(&c);
		return -ENOENT;
	}
	rc = pd_config_parse(s, path, cfg, err, errlen);
	config_destroy(&c);
	return rc;
}
