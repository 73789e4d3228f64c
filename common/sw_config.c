/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader's common steps (common/sw_config.h): error messages,
 * the walk over a group's members, and the integer, boolean and string rows
 * both the control plane's and pushd's tables use.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_config.h"

void sw_cfg_one_line(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int sw_cfg_fail(const struct sw_cfg *c, const config_setting_t *s, const char *path,
		const char *fmt, ...)
{
	const char *file = config_setting_source_file(s) ? config_setting_source_file(s) : c->file;
	/* The root group has line 0; a key missing at top level is "line 1". */
	unsigned line = config_setting_source_line(s) ? config_setting_source_line(s) : 1;
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%u: %s: ", file, line, path);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* Values come from the user and may hold "\n" escapes. */
	sw_cfg_one_line(c->err);
	return -EINVAL;
}

const char *sw_cfg_type_name(const config_setting_t *s)
{
	static const char *const names[] = {
		[CONFIG_TYPE_INT] = "an integer",     [CONFIG_TYPE_INT64] = "an integer",
		[CONFIG_TYPE_FLOAT] = "a float",      [CONFIG_TYPE_STRING] = "a string",
		[CONFIG_TYPE_BOOL] = "a boolean",     [CONFIG_TYPE_GROUP] = "a group { }",
		[CONFIG_TYPE_ARRAY] = "an array [ ]", [CONFIG_TYPE_LIST] = "a list ( )",
	};
	unsigned t = (unsigned)config_setting_type(s);

	return t < SW_ARRAY_LEN(names) && names[t] ? names[t] : "nothing";
}

const char *sw_cfg_found(struct sw_cfg *c, const config_setting_t *s, const char *why)
{
	const char *text = config_setting_get_string(s);

	if (!text)
		return sw_cfg_type_name(s);
	if (!*text)
		return "an empty string";
	snprintf(c->found, sizeof(c->found), "\"%.120s\"%s", text, why ? why : "");
	return c->found;
}

int sw_cfg_strings(struct sw_cfg *c, const config_setting_t *s, const char *path, int max,
		   const char *what, const char *list, const char *elem, sw_cfg_elem *each)
{
	int n = config_setting_length(s);
	char epath[112];

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return sw_cfg_fail(c, s, path, "expected %s, got %s", list, sw_cfg_type_name(s));
	if (n > max)
		return sw_cfg_fail(c, s, path, "expected at most %d %s, got %d", max, what, n);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *why = each(c, i, config_setting_get_string(e));

		if (why == NULL)
			continue;
		snprintf(epath, sizeof(epath), "%s.[%d]", path, i);
		return sw_cfg_fail(c, e, epath, "expected %s, got %s", elem,
				   sw_cfg_found(c, e, why));
	}
	return n;
}

int sw_cfg_members(struct sw_cfg *c, const config_setting_t *g, const char *group,
		   const char *prefix)
{
	char path[128], known[256];

	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct sw_cfg_key *k = NULL;
		size_t used = 0;
		int rc;

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
			 name ? name : "?");
		for (size_t j = 0; j < c->n_keys && !k; j++)
			if (!strcmp(c->keys[j].group, group) && name &&
			    !strcmp(c->keys[j].name, name))
				k = &c->keys[j];
		if (!k) {
			known[0] = '\0';
			for (size_t j = 0; j < c->n_keys; j++)
				if (!strcmp(c->keys[j].group, group) && used < sizeof(known))
					used += (size_t)snprintf(known + used, sizeof(known) - used,
								 "%s%s", used ? ", " : "",
								 c->keys[j].name);
			return sw_cfg_fail(c, s, path, "unknown key (known: %s)", known);
		}
		rc = k->parse(c, s, path, k);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * libconfig 1.5 reads an integer literal without an L suffix into an int
 * and drops the high bits, so "mbufs = 4294983679;" arrives as a valid
 * 16383. Re-read the literal from its source line to catch that: returns
 * its length (and @lit) if it is not @v, else 0. Only the main file's text
 * is at hand: values in @include'd files or split across lines are not
 * re-checked.
 */
static int wrapped_literal(const struct sw_cfg *c, const config_setting_t *s, long long v,
			   const char **lit)
{
	const char *name = config_setting_name(s), *line = c->text, *p, *q, *eol;
	size_t nlen = strlen(name);
	long long parsed;
	unsigned n;
	char *end;

	if (!line || config_setting_source_file(s) || config_setting_type(s) != CONFIG_TYPE_INT)
		return 0;
	for (n = 1; n < config_setting_source_line(s) && line; n++)
		if ((line = strchr(line, '\n')))
			line++;
	if (!line)
		return 0;
	eol = strchr(line, '\n');
	for (p = line; (p = strstr(p, name)) && (!eol || p < eol); p += nlen) {
		if (p > line && (isalnum((unsigned char)p[-1]) || strchr("_-*", p[-1])))
			continue; /* "max" inside "neigh_max" */
		q = p + nlen + strspn(p + nlen, " \t");
		if (*q != '=' && *q != ':')
			continue;
		*lit = q + 1 + strspn(q + 1, " \t");
		q = *lit + (**lit == '-' || **lit == '+');
		errno = 0;
		parsed = strtoll(*lit, &end, q[0] == '0' && (q[1] | 0x20) == 'x' ? 16 : 10);
		if (end == *lit || (errno != ERANGE && parsed == v))
			return 0;
		return (int)strspn(*lit, "-+0123456789abcdefxABCDEFX");
	}
	return 0;
}

int sw_cfg_parse_int(struct sw_cfg *c, const config_setting_t *s, const char *path,
		     const struct sw_cfg_key *k)
{
	const char *what = k->pow2 ? "a power of 2 in" : "an integer", *lit;
	long long v;
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return sw_cfg_fail(c, s, path, "expected %s %lld..%lld, got %s", what, k->min,
				   k->max, sw_cfg_type_name(s));
	v = config_setting_get_int64(s);
	n = wrapped_literal(c, s, v, &lit);
	if (n)
		return sw_cfg_fail(c, s, path, "expected %s %lld..%lld, got %.*s", what, k->min,
				   k->max, n, lit);
	if (v < k->min || v > k->max || (k->pow2 && (v & (v - 1))))
		return sw_cfg_fail(c, s, path, "expected %s %lld..%lld, got %lld", what, k->min,
				   k->max, v);
	/* The row's offset and size come from the field itself, so these casts are exact. */
	if (k->size == sizeof(uint16_t))
		*(uint16_t *)((char *)c->obj + k->off) = (uint16_t)v;
	else
		*(uint32_t *)((char *)c->obj + k->off) = (uint32_t)v;
	return 0;
}

int sw_cfg_parse_bool(struct sw_cfg *c, const config_setting_t *s, const char *path,
		      const struct sw_cfg_key *k)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return sw_cfg_fail(c, s, path, "expected true or false, got %s",
				   sw_cfg_type_name(s));
	if (k->size == sizeof(uint32_t))
		*(uint32_t *)((char *)c->obj + k->off) = (uint32_t)config_setting_get_bool(s);
	else
		*((uint8_t *)c->obj + k->off) = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

int sw_cfg_parse_str(struct sw_cfg *c, const config_setting_t *s, const char *path,
		     const struct sw_cfg_key *k)
{
	const char *v = config_setting_get_string(s);
	size_t len = v ? strlen(v) : 0;

	if (!v)
		return sw_cfg_fail(c, s, path, "expected a string, got %s", sw_cfg_type_name(s));
	if (!len || len >= k->size)
		return sw_cfg_fail(c, s, path, "expected a string of 1..%zu characters, got %zu",
				   k->size - 1, len);
	for (const char *p = v; *p; p++)
		if ((k->charset && !strchr(k->charset, *p)) || !isprint((unsigned char)*p))
			return sw_cfg_fail(c, s, path,
					   "expected characters from [%s], got \"%.64s\"",
					   k->charset ? k->charset : "printable", v);
	memcpy((char *)c->obj + k->off, v, len + 1);
	return 0;
}
