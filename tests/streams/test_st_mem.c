/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory per idle connection, TCP and TLS (docs/streams.md: thousands of
 * apps hold an idle flow each; the target is under 16 KiB per idle TLS
 * connection). The clients run in a child process so that only the streams
 * thread's heap is measured (mallinfo2() over every arena). The numbers
 * printed are where st_internal.h's ST_CONN_MEM_* come from.
 */
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/streams/st_harness.h"

#define N_CONNS 200

/* The child: N_CONNS clients that do their handshake, then sit idle. */
static void clients(uint16_t port, uint8_t tp, int ready_fd)
{
	static SSL *ssl[N_CONNS];
	static int fd[N_CONNS];
	char c = 1;

	for (int i = 0; i < N_CONNS; i++) {
		if (tp == SW_TP_TLS) {
			ssl[i] = sth_tls_connect(port, 0, NULL, NULL);
			if (!ssl[i])
				_exit(1);
		} else {
			fd[i] = sth_connect(port);
			if (fd[i] < 0)
				_exit(1);
		}
	}
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	pause(); /* killed by the parent */
	_exit(0);
}

static uint64_t get_open_tcp(const struct st_stats *s)
{
	return s->tp[SW_TP_TCP].open;
}

static uint64_t get_handshakes(const struct st_stats *s)
{
	return s->tp[SW_TP_TLS].handshakes;
}

static size_t per_conn(uint8_t tp)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct mallinfo2 before, after;
	struct st *st;
	int ready[2];
	pid_t pid;
	char c;

	sth_config(&cfg, tp, port);
	cfg.max_conns_per_source = N_CONNS;
	st = sth_start(&cfg);
	assert_int_equal(pipe(ready), 0);
	usleep(50 * 1000);
	before = mallinfo2();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		clients(port, tp, ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	if (tp == SW_TP_TLS)
		assert_int_equal(sth_wait_stat(st, get_handshakes, N_CONNS), N_CONNS);
	else
		assert_int_equal(sth_wait_stat(st, get_open_tcp, N_CONNS), N_CONNS);
	usleep(100 * 1000);
	after = mallinfo2();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(ready[0]);
	close(ready[1]);
	st_free(st);
	return (after.uordblks - before.uordblks) / N_CONNS;
}

static void test_idle_memory(void **state)
{
	size_t tcp, tls;

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	/* ASan's allocator is not glibc's: mallinfo2() says nothing. */
	skip();
#endif
	tcp = per_conn(SW_TP_TCP);
	tls = per_conn(SW_TP_TLS);
	print_message("bytes per idle connection: tcp %zu, tls %zu\n", tcp, tls);
	assert_true(tls < 16 * 1024);
	assert_true(tcp < tls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_memory),
	};

	return cmocka_run_group_tests(tests, sth_keys_make, sth_keys_remove);
}
