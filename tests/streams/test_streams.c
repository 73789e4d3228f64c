/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread over TCP, a real thread on 127.0.0.1 and plain
 * sockets as the apps: messages up byte-exact with their addresses, st_send()
 * and st_close() down, and every way a connection ends or is refused, each
 * counted by reason (docs/streams.md, "The streams thread").
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

static uint16_t local_port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	getsockname(fd, (struct sockaddr *)&sa, &len);
	return ntohs(sa.sin_port);
}

static struct st_tp_stats tcp_stats(struct st *st)
{
	struct st_stats s;

	st_stats_get(st, &s);
	return s.tp[SW_TP_TCP];
}

/* A message split in two, then two in one write: each comes up whole. */
static void test_messages_up_and_down(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m1[512], m2[512], both[1024], reply[64] = "SIP/2.0 200 OK\r\nl: 0\r\n\r\n", got[64];
	size_t n1 = sth_msg(m1, sizeof(m1), "one"), n2 = sth_msg(m2, sizeof(m2), "two");
	struct sw_ip lo = sw_ip_from_v4(htonl(INADDR_LOOPBACK));
	struct st_up *u;
	uint64_t conn;
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	st = sth_start(&cfg);
	fd = sth_connect(port);
	assert_true(fd >= 0);
	sth_send(fd, m1, 10);
	usleep(50 * 1000);
	sth_send(fd, m1 + 10, n1 - 10);
	u = sth_wait_sip(st);
	assert_int_equal(u->len, n1);
	assert_memory_equal(u->data, m1, n1);
	assert_int_equal(u->tp, SW_TP_TCP);
	assert_int_equal(u->conn, 1);
	assert_true(sw_ip_eq(&u->peer, &lo));
	assert_true(sw_ip_eq(&u->local, &lo));
	assert_int_equal(u->local_port, port);
	assert_int_equal(u->peer_port, local_port_of(fd));
	conn = u->conn;
	free(u);

	memcpy(both, m1, n1);
	memcpy(both + n1, m2, n2);
	sth_send(fd, both, n1 + n2);
	u = sth_wait_sip(st);
	assert_memory_equal(u->data, m1, n1);
	free(u);
	u = sth_wait_sip(st);
	assert_int_equal(u->len, n2);
	assert_memory_equal(u->data, m2, n2);
	assert_int_equal(u->conn, conn);
	free(u);

	assert_int_equal(st_send(st, conn, reply, strlen(reply)), 0);
	assert_int_equal(sth_recv(fd, got, strlen(reply)), strlen(reply));
	assert_memory_equal(got, reply, strlen(reply));

	assert_int_equal(st_close(st, conn), 0);
	assert_true(sth_closed(fd));
	assert_int_equal(sth_wait_closed(st, &conn), ST_CLOSE_local);
	assert_int_equal(conn, 1);
	assert_int_equal(tcp_stats(st).accepted, 1);
	assert_int_equal(tcp_stats(st).msgs_in, 3);
	assert_int_equal(tcp_stats(st).msgs_out, 1);
	assert_int_equal(tcp_stats(st).bytes_in, 2 * n1 + n2);
	assert_int_equal(tcp_stats(st).closed[ST_CLOSE_local], 1);
	assert_int_equal(tcp_stats(st).open, 0);
	close(fd);
	st_free(st);
}

/* st_send() then st_close(): the answer goes out before the close. */
static void test_close_after_send(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	static char big[60000];
	static char got[60000];
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "bye");
	struct st_up *u;
	int fd;

	(void)state;
	memset(big, 'z', sizeof(big));
	sth_config(&cfg, SW_TP_TCP, port);
	st = sth_start(&cfg);
	fd = sth_connect(port);
	sth_send(fd, m, n);
	u = sth_wait_sip(st);
	assert_int_equal(st_send(st, u->conn, big, sizeof(big)), 0);
	assert_int_equal(st_close(st, u->conn), 0);
	free(u);
	assert_int_equal(sth_recv(fd, got, sizeof(got)), sizeof(got));
	assert_memory_equal(got, big, sizeof(got));
	assert_true(sth_closed(fd));
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_local);
	close(fd);
	st_free(st);
}

static void test_peer_close_and_ids(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st_stats s;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "p");
	struct st_up *u;
	uint64_t conn;
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	st = sth_start(&cfg);
	for (uint64_t id = 1; id <= 3; id++) {
		fd = sth_connect(port);
		sth_send(fd, m, n);
		u = sth_wait_sip(st);
		assert_int_equal(u->conn, id); /* increasing, never reused */
		free(u);
		close(fd);
		assert_int_equal(sth_wait_closed(st, &conn), ST_CLOSE_peer);
		assert_int_equal(conn, id);
	}
	/* A send to a connection that has ended: dropped, counted. */
	assert_int_equal(st_send(st, 2, "x", 1), 0);
	assert_int_equal(st_send(st, 0, "x", 1), -EINVAL);
	usleep(100 * 1000);
	st_stats_get(st, &s);
	assert_int_equal(s.send_no_conn, 1);
	assert_int_equal(s.tp[SW_TP_TCP].closed[ST_CLOSE_peer], 3);
	st_free(st);
}

static uint64_t get_refused_source(const struct st_stats *s)
{
	return s->tp[SW_TP_TCP].refused_source;
}

static uint64_t get_refused_total(const struct st_stats *s)
{
	return s->tp[SW_TP_TCP].refused_total;
}

/* The 4th connection from one address is closed at once; the others work. */
static void test_per_source_limit(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "src");
	struct st_up *u;
	int fd[4];

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	cfg.max_conns_per_source = 3;
	st = sth_start(&cfg);
	for (int i = 0; i < 3; i++) {
		fd[i] = sth_connect(port);
		sth_send(fd[i], m, n);
		free(sth_wait_sip(st));
	}
	fd[3] = sth_connect(port);
	assert_true(fd[3] >= 0); /* the kernel accepts; the thread closes it */
	assert_true(sth_closed(fd[3]));
	assert_int_equal(sth_wait_stat(st, get_refused_source, 1), 1);
	for (int i = 0; i < 3; i++) {
		sth_send(fd[i], m, n);
		u = sth_wait_sip(st);
		assert_int_equal(u->conn, (uint64_t)i + 1);
		free(u);
	}
	/* A refused connection never existed for the control plane: no event. */
	assert_null(sth_wait_up(st, 100));
	/* One closes: the source may open one more. */
	close(fd[0]);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_peer);
	fd[0] = sth_connect(port);
	sth_send(fd[0], m, n);
	free(sth_wait_sip(st));
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	st_free(st);
}

static void test_total_limit(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "tot");
	int fd[3];

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	cfg.max_conns = 2;
	st = sth_start(&cfg);
	for (int i = 0; i < 2; i++) {
		fd[i] = sth_connect(port);
		sth_send(fd[i], m, n);
		free(sth_wait_sip(st));
	}
	fd[2] = sth_connect(port);
	assert_true(sth_closed(fd[2]));
	assert_int_equal(sth_wait_stat(st, get_refused_total, 1), 1);
	assert_int_equal(tcp_stats(st).refused_source, 0);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	st_free(st);
}

static void test_idle(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "idle");
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	cfg.idle_s = 1;
	st = sth_start(&cfg);
	fd = sth_connect(port);
	sth_send(fd, m, n);
	free(sth_wait_sip(st));
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_idle);
	assert_true(sth_closed(fd));
	close(fd);
	st_free(st);
}

/* Slowloris: a byte every 200 ms keeps the connection from idling, not
 * its message from timing out. */
static void test_header_timeout(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st_up *u = NULL;
	struct st *st;
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	cfg.header_s = 1;
	cfg.idle_s = 1;
	st = sth_start(&cfg);
	fd = sth_connect(port);
	sth_send(fd, "OPTIONS sip:", 12);
	for (int i = 0; i < 20 && !u; i++) {
		send(fd, "a", 1, MSG_NOSIGNAL);
		u = sth_wait_up(st, 200);
	}
	assert_non_null(u);
	assert_int_equal(u->kind, ST_UP_CLOSED);
	assert_int_equal(u->why, ST_CLOSE_header_timeout);
	free(u);
	close(fd);
	st_free(st);
}

/* Each broken stream: closed with its reason, the peer sees the close. */
static void expect_close(struct st_config *cfg, const char *bytes, size_t n, int why)
{
	struct st *st = sth_start(cfg);
	int fd = sth_connect(cfg->listeners[0].port);

	sth_send(fd, bytes, n);
	assert_int_equal(sth_wait_closed(st, NULL), why);
	assert_true(sth_closed(fd));
	assert_int_equal(tcp_stats(st).closed[why], 1);
	close(fd);
	st_free(st);
}

static void test_broken_streams(void **state)
{
	static const char bad[] = "OPTIONS sip:a SIP/2.0\r\nContent-Length: abc\r\n\r\n";
	static const char neg[] = "OPTIONS sip:a SIP/2.0\r\nContent-Length: -3\r\n\r\n";
	static const char none[] = "OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n";
	static const char big[] = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 2000\r\n\r\n";
	char huge[3000];
	struct st_config cfg;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, sth_port());
	expect_close(&cfg, bad, sizeof(bad) - 1, ST_CLOSE_bad_length);
	sth_config(&cfg, SW_TP_TCP, sth_port());
	expect_close(&cfg, neg, sizeof(neg) - 1, ST_CLOSE_bad_length);
	sth_config(&cfg, SW_TP_TCP, sth_port());
	expect_close(&cfg, none, sizeof(none) - 1, ST_CLOSE_no_length);
	sth_config(&cfg, SW_TP_TCP, sth_port());
	cfg.max_message = 1024;
	expect_close(&cfg, big, sizeof(big) - 1, ST_CLOSE_too_large);
	/* A header block that never ends within max_message. */
	memset(huge, 'a', sizeof(huge));
	sth_config(&cfg, SW_TP_TCP, sth_port());
	cfg.max_message = 1024;
	expect_close(&cfg, huge, sizeof(huge), ST_CLOSE_too_large);
}

static void test_keepalive(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m[512], buf[600], pong[4];
	size_t n = sth_msg(m, sizeof(m), "ka");
	struct st_up *u;
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	st = sth_start(&cfg);
	fd = sth_connect(port);
	sth_send(fd, "\r\n\r\n", 4);
	assert_int_equal(sth_recv(fd, pong, 2), 2);
	assert_memory_equal(pong, "\r\n", 2);
	assert_int_equal(tcp_stats(st).keepalives, 1);
	/* A stray CRLF before a message is dropped, not handed up. */
	memcpy(buf, "\r\n", 2);
	memcpy(buf + 2, m, n);
	sth_send(fd, buf, n + 2);
	u = sth_wait_sip(st);
	assert_int_equal(u->len, n);
	assert_memory_equal(u->data, m, n);
	free(u);
	close(fd);
	st_free(st);
}

/* A flood of messages over one connection: msg_burst go up, then it closes. */
static void test_message_rate(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "flood");
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	cfg.msg_rate = 1;
	cfg.msg_burst = 3;
	st = sth_start(&cfg);
	fd = sth_connect(port);
	for (int i = 0; i < 5; i++)
		sth_send(fd, m, n);
	for (int i = 0; i < 3; i++)
		free(sth_wait_sip(st));
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_msg_rate);
	assert_true(sth_closed(fd));
	close(fd);
	st_free(st);
}

/* An app that never reads: what is queued toward it is bounded by max_out. */
static void test_slow_reader(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "slow");
	static char chunk[60000];
	struct st_up *u = NULL;
	uint64_t conn;
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	cfg.max_out = 65536;
	st = sth_start(&cfg);
	fd = sth_connect(port);
	sth_send(fd, m, n);
	u = sth_wait_sip(st);
	conn = u->conn;
	free(u);
	u = NULL;
	memset(chunk, 'x', sizeof(chunk));
	/* The kernel's buffers take some megabytes first. */
	for (int i = 0; i < 2000 && !u; i++) {
		st_send(st, conn, chunk, sizeof(chunk));
		if (i % 50 == 49)
			u = sth_wait_up(st, 20);
	}
	if (!u)
		u = sth_wait_up(st, 3000);
	assert_non_null(u);
	assert_int_equal(u->kind, ST_UP_CLOSED);
	assert_int_equal(u->why, ST_CLOSE_slow_reader);
	free(u);
	close(fd);
	st_free(st);
}

static uint64_t get_ring_full(const struct st_stats *s)
{
	return s->up_ring_full;
}

/* The control plane does not poll: a message that finds the up ring full
 * closes its connection (ring_full), and that ST_UP_CLOSED still comes up
 * once there is room. */
static void test_up_ring_full(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char m[512];
	size_t n = sth_msg(m, sizeof(m), "full");
	struct st_up *u;
	int fd[4];

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	cfg.ring_size = 4; /* room for 3 */
	st = sth_start(&cfg);
	for (int i = 0; i < 4; i++) {
		fd[i] = sth_connect(port);
		sth_send(fd[i], m, n);
		usleep(50 * 1000);
	}
	/* The message refused, then its connection's CLOSED. */
	assert_int_equal(sth_wait_stat(st, get_ring_full, 2), 2);
	assert_true(sth_closed(fd[3]));
	for (uint64_t id = 1; id <= 3; id++) {
		u = sth_wait_sip(st);
		assert_int_equal(u->conn, id);
		free(u);
	}
	u = sth_wait_up(st, 1000);
	assert_non_null(u);
	assert_int_equal(u->kind, ST_UP_CLOSED);
	assert_int_equal(u->why, ST_CLOSE_ring_full);
	assert_int_equal(u->conn, 4);
	free(u);
	assert_null(sth_wait_up(st, 50));
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	st_free(st);
}

static uint64_t get_oldest(const struct st_stats *s)
{
	return s->oldest_s >= 1 && s->mem_bytes > 0;
}

/* Once a second: the oldest connection's age and the memory held. */
static void test_ages_and_memory(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	struct st_stats s;
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_TCP, port);
	st = sth_start(&cfg);
	fd = sth_connect(port);
	sth_send(fd, "OPTIONS", 7);
	assert_int_equal(sth_wait_stat(st, get_oldest, 1), 1);
	st_stats_get(st, &s);
	assert_true(s.idlest_s >= 1);
	assert_int_equal(s.tp[SW_TP_TCP].open, 1);
	close(fd);
	st_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_up_and_down),
		cmocka_unit_test(test_close_after_send),
		cmocka_unit_test(test_peer_close_and_ids),
		cmocka_unit_test(test_per_source_limit),
		cmocka_unit_test(test_total_limit),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_header_timeout),
		cmocka_unit_test(test_broken_streams),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_message_rate),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_up_ring_full),
		cmocka_unit_test(test_ages_and_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
