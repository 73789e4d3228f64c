/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config keys of streams { }: the TCP ports whose segments for our
 * addresses go to the kernel through the exception path (docs/streams.md),
 * and the budgets of SYNs from sources that are not the PBX. Same error
 * contract as cp_config_load.c: file:line, key path, what was expected,
 * what was found.
 */
#include <stdio.h>
#include <string.h>

#include "controlplane/config/cp_config_internal.h"

void cp_config_streams_defaults(struct cp_config *cfg)
{
	cfg->n_stream_ports = 0; /* no exception path: TCP is dropped as before */
	cfg->syn_rate = 5;
	cfg->syn_burst = 10;
	cfg->syn_global_rate = 2000;
	cfg->syn_global_burst = 4000;
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
