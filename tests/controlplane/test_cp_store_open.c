/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binding store (controlplane/store/cp_store.h): paths and files it cannot
 * use are refused with a message that names them (a path under a regular
 * file, a directory where the file should be, a file that is not SQLite).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/controlplane/cp_store_test.h"

void test_bad_paths(void **state)
{
	char path[128], file[128], err[512];
	int fd;

	(void)state;
	/* A path under a regular file. */
	tpath(file, sizeof(file), "plain");
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	tpath(path, sizeof(path), "plain/sub/b.db");
	err[0] = '\0';
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, "bindings.store "));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "Not a directory"));
	tpath(path, sizeof(path), "plain/b.db");
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "plain is not a directory"));
	/* A directory where the file should be. */
	tpath(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	/* No err buffer: still NULL, no crash. */
	assert_null(cp_store_open(path, false, NULL, 0));
}

void test_not_a_database(void **state)
{
	char path[128], err[512];
	char junk[4096];
	int fd;

	(void)state;
	tpath(path, sizeof(path), "junk.db");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_null(cp_store_open(path, false, err, sizeof(err)));
	print_message("%s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a database"));
}
