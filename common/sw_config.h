/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The one libconfig loader of sipwake's config file (the control plane's
 * groups and pushd's push { }): a group is walked member by member in file
 * order against a table of known keys, so the first error reported is the
 * first in the file, unknown keys are errors, and every message reads
 * "<file>:<line>: <key path>: expected ..., got ..." on one line.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#define SW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct sw_cfg_key;

/** A load in progress. A caller with more state embeds it first in its own. */
struct sw_cfg {
	const char *file; /**< main file name for messages ("<string>" for a text) */
	const char *text; /**< main file's text, to re-read integer literals; may be NULL */
	void *obj;	  /**< what integer, boolean and string rows write into (key->off) */
	const struct sw_cfg_key *keys; /**< the table of known keys */
	size_t n_keys;
	char *err; /**< the message of the first error (caller's buffer) */
	size_t errlen;
	char found[160]; /**< scratch of sw_cfg_found() */
};

/** Parse setting @p s, found at @p path, by row @p k. @return 0 or -EINVAL. */
typedef int sw_cfg_parser(struct sw_cfg *c, const config_setting_t *s, const char *path,
			  const struct sw_cfg_key *k);

/** One known key: group "" is the top level of what is walked. */
struct sw_cfg_key {
	const char *group, *name;
	sw_cfg_parser *parse;
	long long min, max;  /**< integer rows: the range */
	bool pow2;	     /**< integer rows: powers of 2 only */
	size_t off, size;    /**< where in c->obj, and how wide */
	int af;		     /**< address rows: AF_INET or AF_INET6 */
	const char *charset; /**< string rows: allowed characters (NULL: printable) */
};

/** "<file>:<line>: <path>: " + the message into c->err, control bytes made
 *  '?'. @return -EINVAL, always. */
__attribute__((format(printf, 4, 5))) int sw_cfg_fail(const struct sw_cfg *c,
						      const config_setting_t *s, const char *path,
						      const char *fmt, ...);

/** What a setting's type is, in words ("a string", "a group { }"). */
const char *sw_cfg_type_name(const config_setting_t *s);

/** What a message says was found: the quoted string plus @p why, or the type. */
const char *sw_cfg_found(struct sw_cfg *c, const config_setting_t *s, const char *why);

/** Control bytes of @p s made '?': one line per error. */
void sw_cfg_one_line(char *s);

/**
 * Walk group @p g in file order: each member must be a row of @p group in
 * c->keys, parsed by its row; paths are @p prefix "." name.
 * @return 0, or the first error (-EINVAL).
 */
int sw_cfg_members(struct sw_cfg *c, const config_setting_t *g, const char *group,
		   const char *prefix);

/** One element of a list of strings, at index @p i: @p text is NULL when
 *  the element is not a string. @return NULL when it is good, else why not
 *  (appended to the quoted text in the error; "" says nothing more). */
typedef const char *sw_cfg_elem(struct sw_cfg *c, int i, const char *text);

/**
 * A list (or array) of at most @p max strings at @p s, each handed to
 * @p each in order. The errors name the key: not a list ("expected " @p list
 * ", got <type>"), too long ("expected at most <max> " @p what ", got <n>"),
 * a bad element (at "<path>.[i]": "expected " @p elem ", got <found>").
 * @return the number of elements, or -EINVAL.
 */
int sw_cfg_strings(struct sw_cfg *c, const config_setting_t *s, const char *path, int max,
		   const char *what, const char *list, const char *elem, sw_cfg_elem *each);

/** An integer in [min, max] (and a power of 2 when pow2) into a field of
 *  size 2 or 4. libconfig's silent 32-bit wrap of a literal is caught. */
sw_cfg_parser sw_cfg_parse_int;
/** true / false into a field of size 1 or 4. */
sw_cfg_parser sw_cfg_parse_bool;
/** A string of 1..size-1 characters of the row's charset into a char array. */
sw_cfg_parser sw_cfg_parse_str;

#endif /* SW_CONFIG_H */
