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
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
