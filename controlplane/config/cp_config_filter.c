/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config keys of the packet filter: pbx.sources (who may start calls toward
 * apps), filter.scanner_user_agents, booleans, interfaces.[N].vlan. Same error contract as
 * cp_config_load.c: file:line, key path, what was expected, what was found.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "controlplane/config/cp_config_internal.h"

/* Tools that sweep the Internet for SIP servers, as their User-Agent says. */
static const char *const default_scanners[] = {
	"friendly-scanner", "sipvicious", "sipcli",    "sip-scan",
	"sipsak",	    "iwar",	  "sundayddr", "vaxsipuseragent",
};

void cp_config_filter_defaults(struct cp_config *cfg)
{
	cfg->n_scanner_uas = SW_ARRAY_LEN(default_scanners);
	for (size_t i = 0; i < SW_ARRAY_LEN(default_scanners); i++)
		snprintf(cfg->scanner_uas[i], CP_PATTERN_LEN, "%s", default_scanners[i]);
	cfg->unknown_rate = 10;
	cfg->unknown_burst = 20;
	cfg->unknown_prefix_rate = 200;
	cfg->unknown_prefix_burst = 400;
	cfg->unknown_global_rate = 2000;
	cfg->unknown_global_burst = 4000;
	cfg->expected_rate = 10;
	cfg->expected_burst = 20;
	cfg->answer_rate = 1000;
	cfg->answer_burst = 2000;
	cfg->rate_sources = 65536;
	cfg->rate_keys = 65536;
}

/* "a.b.c.d[/n]" or "x:y::z[/n]" into @p; NULL when valid, else why not. */
static const char *prefix_of(const char *text, struct cp_prefix *p)
{
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	char buf[INET6_ADDRSTRLEN];
	unsigned len = 0, max;
	uint8_t a[16] = {0};
	bool v4;

	if (alen == 0 || alen >= sizeof(buf))
		return "";
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &a[12]) == 1) {
		a[10] = a[11] = 0xff;
		v4 = true;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		v4 = false;
	} else {
		return "";
	}
	max = v4 ? 32 : 128;
	if (slash) {
		const char *d;

		for (d = slash + 1; isdigit((unsigned char)*d) && len <= max; d++)
			len = len * 10 + (unsigned)(*d - '0');
		if (d == slash + 1 || *d || len > max)
			return v4 ? " (prefix length not in 0..32)"
				  : " (prefix length not in 0..128)";
	} else {
		len = max;
	}
	p->plen = (uint8_t)(v4 ? len + 96 : len);
	for (unsigned bit = p->plen; bit < 128; bit++)
		if (a[bit / 8] & (0x80u >> (bit % 8)))
			return " (host bits set: write the network address)";
	memcpy(p->addr, a, 16);
	return NULL;
}

static const char *prefix_elem(struct sw_cfg *c, int i, const char *text)
{
	return text ? prefix_of(text, &CP_LOADER(c)->cfg->pbx_sources[i]) : "";
}

int cp_cfg_parse_prefixes(struct sw_cfg *c, const config_setting_t *s, const char *path,
			  const struct sw_cfg_key *k)
{
	int n = sw_cfg_strings(c, s, path, CP_MAX_PREFIXES, "prefixes",
			       "a list of addresses or prefixes like [ \"192.0.2.10\", "
			       "\"2001:db8::/64\" ]",
			       "an IPv4 or IPv6 address, optionally with /prefix, like "
			       "\"192.0.2.0/24\"",
			       prefix_elem);

	(void)k;
	if (n < 0)
		return n;
	CP_LOADER(c)->cfg->n_pbx_sources = (unsigned)n;
	return 0;
}

/* Kept lowercase: matched case-insensitively inside User-Agent. */
static const char *pattern_elem(struct sw_cfg *c, int i, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	bool printable = len > 0 && len < CP_PATTERN_LEN;

	for (size_t j = 0; printable && j < len; j++)
		printable = text[j] >= 0x20 && text[j] < 0x7f;
	if (!printable)
		return "";
	for (size_t j = 0; j <= len; j++)
		CP_LOADER(c)->cfg->scanner_uas[i][j] = (char)tolower((unsigned char)text[j]);
	return NULL;
}

int cp_cfg_parse_patterns(struct sw_cfg *c, const config_setting_t *s, const char *path,
			  const struct sw_cfg_key *k)
{
	char elem[128];
	int n;

	(void)k;
	snprintf(elem, sizeof(elem),
		 "a string of 1..%d printable ASCII characters (matched case-insensitively "
		 "inside User-Agent)",
		 CP_PATTERN_LEN - 1);
	n = sw_cfg_strings(c, s, path, CP_MAX_PATTERNS, "patterns",
			   "a list of strings like [ \"friendly-scanner\" ]", elem, pattern_elem);
	if (n < 0)
		return n;
	CP_LOADER(c)->cfg->n_scanner_uas = (unsigned)n;
	return 0;
}

int cp_cfg_parse_vlan(struct sw_cfg *c, const config_setting_t *s, const char *path,
		      const struct sw_cfg_key *k)
{
	struct cp_loader *ld = CP_LOADER(c);
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return sw_cfg_fail(&ld->c, s, path, "expected an 802.1Q VLAN id %lld..%lld, got %s",
				   k->min, k->max, sw_cfg_type_name(s));
	v = config_setting_get_int64(s);
	/* 0 and 4095 are reserved (IEEE 802.1Q §9.6): "untagged" is no vlan key. */
	if (v < k->min || v > k->max)
		return sw_cfg_fail(&ld->c, s, path,
				   "expected an 802.1Q VLAN id %lld..%lld, got %lld (leave the key "
				   "out for untagged frames)",
				   k->min, k->max, v);
	ld->cfg->ifaces[ld->idx].vlan = (uint16_t)v;
	return 0;
}
