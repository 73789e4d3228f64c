/* SPDX-License-Identifier: BSD-3-Clause */
/* Config loader internals shared by its .c files; not part of the contract. */
#ifndef CP_CONFIG_INTERNAL_H
#define CP_CONFIG_INTERNAL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "controlplane/cp_config.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct loader {
	const char *file; /* main file name for messages: the path or "<string>" */
	const char *text; /* main file's text, to re-read integer literals */
	struct cp_config *cfg;
	char *err;
	size_t errlen;
	unsigned idx;		       /* interfaces.[idx] being parsed */
	const config_setting_t *gw[2]; /* its gateway4, gateway6: checked last */
	char found[160];	       /* scratch for found() */
};

struct key;
typedef int key_parser(struct loader *ld, const config_setting_t *s, const char *path,
		       const struct key *k);

/* One row per key: group "" is the top level, "interface" an entry of
 * interfaces ( ). Integer rows carry their range and their field. */
struct key {
	const char *group, *name;
	key_parser *parse;
	long long min, max;
	bool pow2;
	size_t off, size;
	int af; /* address rows */
};

/* "<file>:<line>: <path>: " + message into ld->err. Always returns -EINVAL. */
__attribute__((format(printf, 4, 5))) int cp_cfg_fail(const struct loader *ld,
						      const config_setting_t *s, const char *path,
						      const char *fmt, ...);

/* What a setting's type is, in words ("a string", "a group { }"). */
const char *cp_cfg_type_name(const config_setting_t *s);

/* What a message says was found: the quoted string plus @why, or the type. */
const char *cp_cfg_found(struct loader *ld, const config_setting_t *s, const char *why);

/* cp_config_filter.c */
key_parser cp_cfg_parse_prefixes, cp_cfg_parse_patterns, cp_cfg_parse_bool, cp_cfg_parse_vlan;
void cp_config_filter_defaults(struct cp_config *cfg);

/* cp_config_proxy.c */
key_parser cp_cfg_parse_servers, cp_cfg_parse_path, cp_cfg_parse_choice;
void cp_config_proxy_defaults(struct cp_config *cfg);

#endif /* CP_CONFIG_INTERNAL_H */
