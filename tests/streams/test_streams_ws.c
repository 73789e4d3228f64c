/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread over WebSocket (RFC 6455, RFC 7118), plain and over
 * TLS, with a client written here frame by frame: the upgrade and its
 * refusals, messages both ways, ping, close, and the frames a server must
 * refuse (unmasked, too large).
 */
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

/* A client over a socket or TLS. */
struct io {
	int fd;
	SSL *ssl;
};

static void io_send(struct io *io, const void *p, size_t n)
{
	if (io->ssl)
		assert_int_equal(SSL_write(io->ssl, p, (int)n), (int)n);
	else
		sth_send(io->fd, p, n);
}

static size_t io_recv(struct io *io, void *p, size_t n)
{
	return io->ssl ? sth_tls_recv(io->ssl, p, n) : sth_recv(io->fd, p, n);
}

static void io_close(struct io *io)
{
	if (io->ssl)
		sth_tls_free(io->ssl);
	else
		close(io->fd);
}

static struct io io_open(uint8_t tp, uint16_t port)
{
	struct io io = {-1, NULL};

	if (tp == SW_TP_WSS) {
		io.ssl = sth_tls_connect(port, 0, NULL, NULL);
		assert_non_null(io.ssl);
		io.fd = SSL_get_fd(io.ssl);
	} else {
		io.fd = sth_connect(port);
		assert_true(io.fd >= 0);
	}
	return io;
}

/* The upgrade with RFC 6455 §1.3's key; the answer's head into @p resp. */
static void upgrade(struct io *io, const char *path, const char *proto, char *resp, size_t n)
{
	char req[512];
	size_t got = 0;

	snprintf(
		req, sizeof(req),
		"GET %s HTTP/1.1\r\nHost: sip.example.com\r\nUpgrade: websocket\r\n"
		"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Protocol: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		path, proto);
	io_send(io, req, strlen(req));
	/* Byte by byte: what follows the head is frames, not ours to read here. */
	while (got + 1 < n && io_recv(io, resp + got, 1) == 1) {
		got++;
		if (got >= 4 && memcmp(resp + got - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	resp[got] = '\0';
}

static void upgraded(struct io *io, const char *path)
{
	char resp[512];

	upgrade(io, path, "sip", resp, sizeof(resp));
	assert_non_null(strstr(resp, "HTTP/1.1 101 "));
	assert_non_null(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	assert_non_null(strstr(resp, "Sec-WebSocket-Protocol: sip\r\n"));
}

/* One frame, FIN set, masked as a client must (unless @p masked is 0). */
static void ws_send(struct io *io, uint8_t opcode, const void *p, size_t n, int masked)
{
	static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
	uint8_t *f = malloc(n + 14);
	size_t h = 0;

	f[h++] = (uint8_t)(0x80 | opcode);
	if (n < 126) {
		f[h++] = (uint8_t)((masked ? 0x80 : 0) | n);
	} else {
		f[h++] = (uint8_t)((masked ? 0x80 : 0) | 126);
		f[h++] = (uint8_t)(n >> 8);
		f[h++] = (uint8_t)n;
	}
	if (masked) {
		memcpy(f + h, key, 4);
		h += 4;
	}
	for (size_t i = 0; i < n; i++)
		f[h + i] = ((const uint8_t *)p)[i] ^ (masked ? key[i % 4] : 0);
	io_send(io, f, h + n);
	free(f);
}

/* One frame from the server (unmasked): its opcode, payload into @p p. */
static int ws_recv(struct io *io, void *p, size_t max, size_t *n)
{
	uint8_t h[8];
	size_t len;

	if (io_recv(io, h, 2) != 2)
		return -1;
	assert_int_equal(h[1] & 0x80, 0);
	len = h[1] & 0x7f;
	if (len == 126) {
		assert_int_equal(io_recv(io, h + 2, 2), 2);
		len = (size_t)h[2] << 8 | h[3];
	}
	assert_true(len <= max);
	assert_int_equal(io_recv(io, p, len), len);
	*n = len;
	return h[0] & 0x0f;
}

static struct st *start(uint8_t tp, uint16_t port, uint32_t max_message)
{
	struct st_config cfg;

	sth_config(&cfg, tp, port);
	snprintf(cfg.listeners[0].ws_path, ST_WS_PATH_MAX, "/sip");
	if (max_message)
		cfg.max_message = max_message;
	return sth_start(&cfg);
}

static struct st_tp_stats stats(struct st *st, uint8_t tp)
{
	struct st_stats s;

	st_stats_get(st, &s);
	return s.tp[tp];
}

/* RFC 7118 §5.1: one message per frame, Content-Length optional. */
static void messages(uint8_t tp)
{
	static const char m[] = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d."
				"invalid;branch=z9hG4bK56sdasks\r\n\r\n";
	static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	uint16_t port = sth_port();
	struct st *st = start(tp, port, 0);
	struct io io = io_open(tp, port);
	char buf[256];
	struct st_up *u;
	size_t n;

	upgraded(&io, "/sip");
	ws_send(&io, 0x1, m, sizeof(m) - 1, 1);
	u = sth_wait_sip(st);
	assert_int_equal(u->tp, tp);
	assert_int_equal(u->len, sizeof(m) - 1);
	assert_memory_equal(u->data, m, sizeof(m) - 1);
	assert_int_equal(st_send(st, u->conn, reply, sizeof(reply) - 1), 0);
	free(u);
	assert_int_equal(ws_recv(&io, buf, sizeof(buf), &n), 0x1);
	assert_int_equal(n, sizeof(reply) - 1);
	assert_memory_equal(buf, reply, n);
	/* Binary frames carry SIP too. */
	ws_send(&io, 0x2, m, sizeof(m) - 1, 1);
	free(sth_wait_sip(st));
	assert_int_equal(stats(st, tp).handshakes, 1);
	assert_int_equal(stats(st, tp).msgs_in, 2);
	assert_int_equal(stats(st, tp).msgs_out, 1);
	/* Ping: the same payload back in a pong. */
	ws_send(&io, 0x9, "hi", 2, 1);
	assert_int_equal(ws_recv(&io, buf, sizeof(buf), &n), 0xa);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(stats(st, tp).ws_pings, 1);
	/* Close: answered with a close, counted as the peer's. */
	ws_send(&io, 0x8, "\x03\xe8", 2, 1);
	assert_int_equal(ws_recv(&io, buf, sizeof(buf), &n), 0x8);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_peer);
	io_close(&io);
	st_free(st);
}

static void test_ws_messages(void **state)
{
	(void)state;
	messages(SW_TP_WS);
}

static void test_wss_messages(void **state)
{
	(void)state;
	messages(SW_TP_WSS);
}

static void refused(const char *path, const char *proto)
{
	uint16_t port = sth_port();
	struct st *st = start(SW_TP_WS, port, 0);
	struct io io = io_open(SW_TP_WS, port);
	char resp[512];

	upgrade(&io, path, proto, resp, sizeof(resp));
	assert_non_null(strstr(resp, "HTTP/1.1 400 "));
	assert_true(sth_closed(io.fd));
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_ws_failed);
	assert_int_equal(stats(st, SW_TP_WS).handshaking, 0);
	io_close(&io);
	st_free(st);
}

static void test_ws_refused(void **state)
{
	(void)state;
	refused("/other", "sip");
	refused("/sipx", "sip");
	refused("/sip", "chat");
	refused("/sip", "SIP");
}

/* A frame the server must refuse: its close frame, then the close. */
static void bad_frame(int masked, size_t n, uint32_t max_message)
{
	uint16_t port = sth_port();
	struct st *st = start(SW_TP_WS, port, max_message);
	struct io io = io_open(SW_TP_WS, port);
	char *m = malloc(n), buf[256];
	size_t got;

	memset(m, 'a', n);
	upgraded(&io, "/sip");
	ws_send(&io, 0x1, m, n, masked);
	assert_int_equal(ws_recv(&io, buf, sizeof(buf), &got), 0x8);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_bad_frame);
	assert_true(sth_closed(io.fd));
	io_close(&io);
	free(m);
	st_free(st);
}

static void test_ws_unmasked(void **state)
{
	(void)state;
	bad_frame(0, 10, 0);
}

static void test_ws_too_large(void **state)
{
	(void)state;
	bad_frame(1, 2000, 1024);
}

static void test_ws_handshake_timeout(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	int fd;

	(void)state;
	sth_config(&cfg, SW_TP_WS, port);
	cfg.handshake_s = 1;
	st = sth_start(&cfg);
	fd = sth_connect(port);
	sth_send(fd, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_handshake_timeout);
	close(fd);
	st_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_messages),  cmocka_unit_test(test_wss_messages),
		cmocka_unit_test(test_ws_refused),   cmocka_unit_test(test_ws_unmasked),
		cmocka_unit_test(test_ws_too_large), cmocka_unit_test(test_ws_handshake_timeout),
	};

	return cmocka_run_group_tests(tests, sth_keys_make, sth_keys_remove);
}
