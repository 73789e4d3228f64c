/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The listeners' addresses: every listener on every address, IPv4 and
 * IPv6, and an address not (yet) on the host bound anyway (IP_FREEBIND:
 * the exception path's tap may come up after the streams thread).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/sw_clock.h"

#include "tests/streams/st_harness.h"

static int connect6(uint16_t port, uint16_t *local_port)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin6_addr = in6addr_loopback;
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*local_port = ntohs(sa.sin6_port);
	return fd;
}

static void test_every_address(void **state)
{
	uint16_t p1 = sth_port(), p2 = sth_port(), lport;
	struct sw_ip v4 = sw_ip_from_v4(htonl(INADDR_LOOPBACK)), v6 = {{0}};
	struct st_config cfg;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "addr");
	struct st_up *u;
	int fd;

	(void)state;
	v6.a[15] = 1;
	sth_config(&cfg, SW_TP_TCP, p1);
	cfg.n_addrs = 3;
	cfg.addrs[1] = v6;
	/* TEST-NET-1 (RFC 5737): on no interface here. */
	cfg.addrs[2] = sw_ip_from_v4(htonl(0xc0000201));
	cfg.n_listeners = 2;
	cfg.listeners[1] = cfg.listeners[0];
	cfg.listeners[1].port = p2;
	st = sth_start(&cfg);

	fd = connect6(p2, &lport);
	sth_send(fd, m, n);
	u = sth_wait_sip(st);
	assert_true(sw_ip_eq(&u->peer, &v6));
	assert_true(sw_ip_eq(&u->local, &v6));
	assert_int_equal(u->local_port, p2);
	assert_int_equal(u->peer_port, lport);
	free(u);
	close(fd);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_peer);

	fd = sth_connect(p2);
	sth_send(fd, m, n);
	u = sth_wait_sip(st);
	assert_true(sw_ip_eq(&u->local, &v4));
	assert_int_equal(u->local_port, p2);
	free(u);
	close(fd);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_peer);
	st_free(st);
}

/* Out of descriptors: accept() fails, counted, and the listener pauses
 * instead of spinning; once descriptors are back it accepts again. */
static void test_accept_failed(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	uint16_t port = sth_port();
	struct st_config cfg;
	struct rlimit old, low;
	struct st_stats s;
	struct st *st;
	uint64_t end;
	int fd[4], top;
	char pong[2];

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	st = sth_start(&cfg);
	for (int i = 0; i < 4; i++)
		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
	/* No descriptor left for anyone: the thread's accept() gets EMFILE. */
	top = dup(0);
	close(top);
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)top;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(connect(fd[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	end = sw_mono_ms() + 500;
	while (sw_mono_ms() < end)
		usleep(5000);
	st_stats_get(st, &s);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(s.tp[SW_TP_TCP].accepted, 0);
	/* Paused, not spinning: about one error per 100 ms. */
	assert_true(s.tp[SW_TP_TCP].accept_failed >= 1);
	assert_true(s.tp[SW_TP_TCP].accept_failed <= 10);
	/* Descriptors back: the connections waiting are accepted. */
	sth_send(fd[3], "\r\n\r\n", 4);
	assert_int_equal(sth_recv(fd[3], pong, 2), 2);
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	st_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_address),
		cmocka_unit_test(test_accept_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
