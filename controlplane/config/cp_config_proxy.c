/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config keys of the proxy, the registrar and the wake path: pbx.servers
 * (where REGISTERs and the apps' own requests go, in failover order),
 * bindings.store and bindings.store_sync (the persistent binding store), and
 * the string choices of bindings and wake { }.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/config/cp_config_internal.h"

void cp_config_proxy_defaults(struct cp_config *cfg)
{
	cfg->pbx_timeout_ms = 2000;
	cfg->pbx_check_s = 10;
	cfg->auth_ban_failures = 10;
	cfg->auth_ban_window_s = 60;
	cfg->auth_ban_s = 600;
	cfg->max_devices = 65536;
	snprintf(cfg->store, sizeof(cfg->store), "%s", "/var/lib/sipwake/bindings.db");
	cfg->store_sync_full = 0;
	cfg->ping_interval_s = 30;
	cfg->alive_window_s = 75;
	cfg->max_pending = 4096;
	cfg->wake_policy = 0; /* DP_WAKE_PING */
	cfg->wake_timeout_s = 15;
	cfg->wake_device_timeout_min_s = 5;
	cfg->wake_device_timeout_max_s = 60;
	cfg->wake_provisional = 0;
	cfg->wake_cancel_alert = 0;
	cfg->max_held = 4096;
	cfg->wake_late_window_s = 60;
	cfg->wake_message_window_s = 30;
	cfg->wake_max_messages = 1024;
	cfg->wake_max_messages_per_aor = 16;
	cfg->refresh_before_s = 120;
}

/* "192.0.2.5", "192.0.2.5:5080", "[2001:db8::5]:5080" or "2001:db8::5";
 * NULL when valid, else why not. */
const char *cp_cfg_server_of(const char *text, struct cp_server *sv)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *end;
	size_t alen;
	struct in_addr a4;

	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end)
			return " (missing ])";
		alen = (size_t)(end - text - 1);
		text++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return " (expected :port after ])";
	} else {
		const char *colon = strchr(text, ':');

		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* bare IPv6 address */
		alen = colon ? (size_t)(colon - text) : strlen(text);
		port = colon ? colon + 1 : NULL;
	}
	if (alen == 0 || alen >= sizeof(buf))
		return "";
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	memset(sv, 0, sizeof(*sv));
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		sv->addr[10] = sv->addr[11] = 0xff;
		memcpy(&sv->addr[12], &a4, 4);
	} else if (inet_pton(AF_INET6, buf, sv->addr) != 1) {
		return " (not an IP address: names are not resolved)";
	}
	sv->port = 5060;
	if (port) {
		char *e;
		long v = strtol(port, &e, 10);

		if (e == port || *e || v < 1 || v > 65535)
			return " (port not in 1..65535)";
		sv->port = (uint16_t)v;
	}
	return NULL;
}

static const char *server_elem(struct sw_cfg *c, int i, const char *text)
{
	return text ? cp_cfg_server_of(text, &CP_LOADER(c)->cfg->pbx_servers[i]) : "";
}

int cp_cfg_parse_servers(struct sw_cfg *c, const config_setting_t *s, const char *path,
			 const struct sw_cfg_key *k)
{
	int n = sw_cfg_strings(c, s, path, CP_MAX_SERVERS, "servers",
			       "a list of addresses like [ \"192.0.2.5:5060\", "
			       "\"[2001:db8::5]:5060\" ]",
			       "an IP address with optional port, like \"192.0.2.5:5060\" or "
			       "\"[2001:db8::5]:5060\"",
			       server_elem);

	(void)k;
	if (n < 0)
		return n;
	CP_LOADER(c)->cfg->n_pbx_servers = (unsigned)n;
	return 0;
}

int cp_cfg_parse_path(struct sw_cfg *c, const config_setting_t *s, const char *path,
		      const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	const char *text = config_setting_get_string(s);
	char *dst = (char *)ld->cfg + k->off;

	if (!text || text[0] != '/' || strlen(text) >= CP_PATH_LEN)
		return sw_cfg_fail(&ld->c, s, path,
				   "expected an absolute file path shorter than %d bytes, like "
				   "\"/var/lib/sipwake/bindings.db\", got %s",
				   CP_PATH_LEN, sw_cfg_found(&ld->c, s, NULL));
	snprintf(dst, CP_PATH_LEN, "%s", text);
	return 0;
}

/* One row per string key: its words, in the order of the values they set. */
static const struct choice {
	const char *group, *name;
	const char *words[4];
	const unsigned values[4];
} choices[] = {
	{"bindings", "store_sync", {"normal", "full"}, {0, 1}},
	/* enum dp_wake_policy */
	{"wake", "policy", {"ping", "always-push", "parallel"}, {0, 1, 2}},
	{"wake", "provisional", {"none", "180", "110"}, {0, 180, 110}},
	{"wake", "cancelled_call", {"invite-cancel", "alert"}, {0, 1}},
};

static void choice_set(struct cp_config *cfg, const struct choice *c, unsigned v)
{
	if (!strcmp(c->name, "store_sync"))
		cfg->store_sync_full = (uint8_t)v;
	else if (!strcmp(c->name, "policy"))
		cfg->wake_policy = (uint8_t)v;
	else if (!strcmp(c->name, "provisional"))
		cfg->wake_provisional = (uint16_t)v;
	else
		cfg->wake_cancel_alert = (uint8_t)v;
}

int cp_cfg_parse_choice(struct sw_cfg *c, const config_setting_t *s, const char *path,
			const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	const char *text = config_setting_get_string(s);
	char expected[128] = "";
	size_t used = 0;

	for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		const struct choice *ch = &choices[i];

		if (strcmp(ch->group, k->group) || strcmp(ch->name, k->name))
			continue;
		for (unsigned w = 0; w < 4 && ch->words[w]; w++) {
			if (text && !strcmp(text, ch->words[w])) {
				choice_set(ld->cfg, ch, ch->values[w]);
				return 0;
			}
			used += (size_t)snprintf(expected + used, sizeof(expected) - used,
						 "%s\"%s\"", w ? " or " : "", ch->words[w]);
		}
		break;
	}
	return sw_cfg_fail(&ld->c, s, path, "expected %s, got %s", expected,
			   sw_cfg_found(&ld->c, s, NULL));
}
