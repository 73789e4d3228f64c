/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /sipwake/push through DPDK's real telemetry socket: EAL without hugepages
 * or PCI (tests/README.md), pushd with one APNs and one FCM credential that
 * point at a closed port (no server needed: the counters are what is read).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <rte_eal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/pushd/ts_harness.h"

static char prefix[64];

static void rm_runtime_dir(void)
{
	char dir[128], path[512];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* One request on the telemetry socket; the answer in @out. */
static int tel_query(const char *cmd, char *out, size_t cap)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct pollfd p;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	if (fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/var/run/dpdk/%s/dpdk_telemetry.v2", prefix);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto fail;
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 3000) != 1 || read(fd, out, cap - 1) <= 0) /* greeting */
		goto fail;
	if (write(fd, cmd, strlen(cmd)) < 0 || poll(&p, 1, 3000) != 1)
		goto fail;
	n = read(fd, out, cap - 1);
	if (n <= 0)
		goto fail;
	out[n] = '\0';
	close(fd);
	return 0;
fail:
	close(fd);
	return -EIO;
}

static void test_telemetry_push(void **state)
{
	static char out[16384];
	struct ts_keys keys;
	struct pd_config cfg;
	struct pd_request q;
	struct pd *pd;
	char err[256];

	(void)state;
	assert_int_equal(ts_keys_make(&keys), 0);
	ts_pd_config(&cfg, &keys, 1); /* port 1: nothing listens */
	cfg.n_apns = 1;
	pd = pd_new(&cfg, err, sizeof(err));
	assert_non_null(pd);
	assert_int_equal(pd_telemetry_register(pd), 0);
	ts_request(&q, PD_APNS, "aa", 1);
	snprintf(q.param, sizeof(q.param), "NOBODY.com.nobody");
	assert_int_equal(pd_submit(pd, &q), 0);
	assert_int_equal(pd_start(pd), 0);
	free(ts_wait_result(pd, 1, 3000));
	assert_int_equal(tel_query("/sipwake/push", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"/sipwake/push\""));
	assert_non_null(strstr(out, "\"apns\""));
	assert_non_null(strstr(out, "\"fcm\""));
	assert_non_null(strstr(out, "\"submitted\":1"));
	assert_non_null(strstr(out, "\"no_credential\":1"));
	assert_non_null(strstr(out, "\"connections_configured\":1"));
	assert_non_null(strstr(out, "\"credentials\":{\"apns_0\":0,\"fcm_0\":0}"));
	pd_free(pd);
	ts_keys_remove(&keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_telemetry_push),
	};
	char pfx[96];
	char *argv[] = {"pdtel", "--no-huge", "-m",	     "64",	"--no-pci",
			"-l",	 "0",	      "--log-level", "*:error", pfx};
	int rc;

	snprintf(prefix, sizeof(prefix), "pd_tel_%d", (int)getpid());
	snprintf(pfx, sizeof(pfx), "--file-prefix=%s", prefix);
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		rm_runtime_dir();
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	rm_runtime_dir();
	return rc;
}
