/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the cp_config tests (test_config*.c, one executable) share: a line
 * of config that loads, the check of an error message, the table of bad
 * configs main() makes one test each of, and the tests each file gives
 * main() in test_config.c. It includes cmocka and its prerequisites itself.
 */
#ifndef CONFIG_TEST_H
#define CONFIG_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "controlplane/config/cp_config.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* One line that loads: device plus ipv4, for cases about other keys. */
#define IFACE "interfaces = ( { device = \"net_af_packet0\"; ipv4 = \"198.18.0.1/24\"; } );\n"

/* Checks rc, that err is one line starting "<file>:<line>: <path>: ", and
 * that it contains @needle. @path NULL: a syntax error, no key path. */
static inline void expect_error(int rc, int want_rc, const char *err, const char *file, int line,
				const char *path, const char *needle)
{
	char prefix[256];

	print_message("    %s\n", err);
	assert_int_equal(rc, want_rc);
	snprintf(prefix, sizeof(prefix), "%s:%d: %s%s", file, line, path ? path : "",
		 path ? ": " : "");
	if (strncmp(err, prefix, strlen(prefix)))
		fail_msg("error does not start with '%s'", prefix);
	if (!strstr(err, needle))
		fail_msg("error does not contain '%s'", needle);
	assert_null(strchr(err, '\n'));
}

struct bad {
	const char *name;
	int line;
	const char *path;
	const char *needle;
	const char *text;
};

/* test_config_bad.c: one bad config a row, each run by test_bad_config()
 * with its row as the state; a list one interface too long. */
extern const struct bad bad_configs[];
extern const size_t n_bad_configs;
void test_bad_config(void **state);
void test_too_many_interfaces(void **state);

/* test_config_files.c: files that are missing, unreadable or not files,
 * errors that name the file, short error buffers. */
void test_missing_file(void **state);
void test_directory(void **state);
void test_unreadable_file(void **state);
void test_file_errors_name_file(void **state);
void test_small_err_buffer(void **state);

#endif /* CONFIG_TEST_H */
