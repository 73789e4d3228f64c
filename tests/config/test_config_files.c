/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_config on files and buffers: a missing file, a directory, a file the
 * loader may not read (as nobody, in a child), errors that name the file
 * as given, and an error buffer too short or absent.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/config/config_test.h"

void test_missing_file(void **state)
{
	static const char path[] = "/nonexistent/sipwake-test.conf";
	struct cp_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(cp_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	print_message("    %s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, strerror(ENOENT)));
}

void test_directory(void **state)
{
	struct cp_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(cp_config_load("/", &cfg, err, sizeof(err)), -EISDIR);
	print_message("    %s\n", err);
}

/*
 * Root reads a mode 000 file (CAP_DAC_OVERRIDE), and root is how the suite
 * runs: the loader runs in a child that drops to nobody first, so the case
 * the message is for happens and the tests after this one keep their
 * privileges. The child's exit status is the loader's errno (0: it read the
 * file), its message comes through a pipe.
 */
#define NOBODY 65534
enum { CHILD_NO_DROP = 200, CHILD_OTHER = 201 }; /* above any errno */

void test_unreadable_file(void **state)
{
	char path[] = "/tmp/sipwake-test-XXXXXX", err[512] = "";
	size_t len = 0;
	int fd, pfd[2], status;
	ssize_t got;
	pid_t pid;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0), 0);
	close(fd);
	if (geteuid() != 0 && access(path, R_OK) == 0) {
		unlink(path);
		skip(); /* not root, yet a capability reads it: nothing to drop */
	}
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cp_config cfg;
		char msg[sizeof(err)] = "";
		int rc;

		close(pfd[0]);
		/* Groups first: after setuid() nothing else can be dropped. */
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)) {
			snprintf(msg, sizeof(msg), "%s", strerror(errno));
			rc = -CHILD_NO_DROP;
		} else {
			rc = cp_config_load(path, &cfg, msg, sizeof(msg));
		}
		if (write(pfd[1], msg, strlen(msg)) < 0)
			_exit(CHILD_OTHER);
		/* _exit: no atexit handlers or stdio buffers of the parent's. */
		_exit(rc == 0 ? 0 : rc < 0 && -rc <= CHILD_NO_DROP ? -rc : CHILD_OTHER);
	}
	close(pfd[1]);
	while (len < sizeof(err) - 1 && (got = read(pfd[0], err + len, sizeof(err) - 1 - len)) > 0)
		len += (size_t)got;
	err[len] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_NO_DROP)
		fail_msg("could not drop to uid/gid %d: %s", NOBODY, err);
	print_message("    %s\n", err);
	assert_int_equal(WEXITSTATUS(status), EACCES);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": cannot read: "));
}

/* Errors in a file name the file, as given, not "<string>". */
void test_file_errors_name_file(void **state)
{
	static const char *const texts[] = {
		"sip: { port = 5060; };\nsip2: 5;\n" IFACE,
		"sip: { port = 5060; };\nlog: {\n  level = \"info\";\n",
	};
	char path[] = "/tmp/sipwake-test-XXXXXX", err[512];
	struct cp_config cfg;
	size_t i;
	FILE *f;
	int fd, rc;

	(void)state;
	for (i = 0; i < ARRAY_LEN(texts); i++) {
		strcpy(path, "/tmp/sipwake-test-XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		assert_non_null(f);
		fputs(texts[i], f);
		fclose(f);
		rc = cp_config_load(path, &cfg, err, sizeof(err));
		unlink(path);
		expect_error(rc, -EINVAL, err, path, i ? 4 : 2, i ? NULL : "sip2",
			     i ? "syntax error" : "unknown key");
	}
}

/* A short buffer truncates the message; a NULL one is allowed. */
void test_small_err_buffer(void **state)
{
	struct cp_config cfg;
	char err[8];

	(void)state;
	assert_int_equal(cp_config_load_string("sip: { port = 0; };\n", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "<string");
	assert_int_equal(cp_config_load_string("sip: { port = 0; };\n", &cfg, NULL, 0), -EINVAL);
	assert_int_equal(cp_config_load_string("sip: {\n", &cfg, NULL, 0), -EINVAL);
	assert_int_equal(cp_config_load("/nonexistent", &cfg, NULL, 0), -ENOENT);
}
