/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The streams thread over TLS, with OpenSSL clients: messages both ways,
 * handshakes that time out or fail (garbage, TLS 1.1, no client
 * certificate where one is asked), certificates reloaded without dropping
 * connections, and the start-up errors that name their file or port.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/streams/st_harness.h"

static struct st_tp_stats tls_stats(struct st *st)
{
	struct st_stats s;

	st_stats_get(st, &s);
	return s.tp[SW_TP_TLS];
}

static void tls_write(SSL *ssl, const void *p, size_t n)
{
	assert_int_equal(SSL_write(ssl, p, (int)n), (int)n);
}

/* A message over a TLS connection, and the answer back through it. */
static void roundtrip(struct st *st, SSL *ssl, const char *tag)
{
	static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	char m[512], got[64];
	size_t n = sth_msg(m, sizeof(m), tag);
	struct st_up *u;

	tls_write(ssl, m, n);
	u = sth_wait_sip(st);
	assert_int_equal(u->tp, SW_TP_TLS);
	assert_int_equal(u->len, n);
	assert_memory_equal(u->data, m, n);
	assert_int_equal(st_send(st, u->conn, reply, sizeof(reply) - 1), 0);
	free(u);
	assert_int_equal(sth_tls_recv(ssl, got, sizeof(reply) - 1), sizeof(reply) - 1);
	assert_memory_equal(got, reply, sizeof(reply) - 1);
}

static void test_tls_messages(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char cn[64];
	SSL *ssl;

	(void)state;
	sth_config(&cfg, SW_TP_TLS, port);
	st = sth_start(&cfg);
	ssl = sth_tls_connect(port, 0, NULL, NULL);
	assert_non_null(ssl);
	sth_tls_peer_cn(ssl, cn, sizeof(cn));
	assert_string_equal(cn, "server-a");
	roundtrip(st, ssl, "tls1");
	roundtrip(st, ssl, "tls2");
	assert_int_equal(tls_stats(st).handshakes, 1);
	assert_int_equal(tls_stats(st).handshaking, 0);
	assert_int_equal(tls_stats(st).msgs_in, 2);
	sth_tls_free(ssl);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_peer);
	st_free(st);
}

/* A TLS connection that sends @p bytes (NULL: nothing) is closed with @p why. */
static void expect_hs_close(const char *bytes, int why)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	int fd;

	sth_config(&cfg, SW_TP_TLS, port);
	cfg.handshake_s = 1;
	st = sth_start(&cfg);
	fd = sth_connect(port);
	if (bytes)
		sth_send(fd, bytes, strlen(bytes));
	assert_int_equal(sth_wait_closed(st, NULL), why);
	assert_true(sth_closed(fd));
	assert_int_equal(tls_stats(st).closed[why], 1);
	assert_int_equal(tls_stats(st).handshaking, 0);
	assert_int_equal(tls_stats(st).handshakes, 0);
	close(fd);
	st_free(st);
}

static void test_handshake_timeout(void **state)
{
	(void)state;
	expect_hs_close(NULL, ST_CLOSE_handshake_timeout);
}

static void test_garbage(void **state)
{
	(void)state;
	expect_hs_close("OPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n", ST_CLOSE_tls_failed);
}

static void test_tls11_refused(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	SSL *ssl;

	(void)state;
	sth_config(&cfg, SW_TP_TLS, port);
	st = sth_start(&cfg);
	ssl = sth_tls_connect(port, TLS1_1_VERSION, NULL, NULL);
	assert_null(ssl);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_tls_failed);
	/* TLS 1.2 is the floor, not a ceiling. */
	ssl = sth_tls_connect(port, TLS1_2_VERSION, NULL, NULL);
	assert_non_null(ssl);
	assert_int_equal(SSL_version(ssl), TLS1_2_VERSION);
	roundtrip(st, ssl, "tls12");
	sth_tls_free(ssl);
	st_free(st);
}

static void test_client_ca(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	struct st *st;
	char b[16];
	SSL *ssl;

	(void)state;
	sth_config(&cfg, SW_TP_TLS, port);
	snprintf(cfg.listeners[0].ca, ST_PATH_MAX, "%s", sth_keys.path[STH_CA]);
	st = sth_start(&cfg);
	/* TLS 1.3: the client's side may finish before the server refuses;
	 * either way nothing gets through. */
	ssl = sth_tls_connect(port, 0, NULL, NULL);
	if (ssl)
		assert_int_equal(sth_tls_recv(ssl, b, 1), 0);
	sth_tls_free(ssl);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_tls_failed);
	/* A certificate from another issuer (a self-signed server one). */
	ssl = sth_tls_connect(port, 0, sth_keys.path[STH_CRT2], sth_keys.path[STH_KEY2]);
	if (ssl)
		assert_int_equal(sth_tls_recv(ssl, b, 1), 0);
	sth_tls_free(ssl);
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_tls_failed);
	ssl = sth_tls_connect(port, 0, sth_keys.path[STH_CLI_CRT], sth_keys.path[STH_CLI_KEY]);
	assert_non_null(ssl);
	roundtrip(st, ssl, "cli");
	sth_tls_free(ssl);
	assert_int_equal(tls_stats(st).closed[ST_CLOSE_tls_failed], 2);
	st_free(st);
}

static void copy(enum sth_file from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp %s %s", sth_keys.path[from], to);
	assert_int_equal(system(cmd), 0);
}

static uint64_t get_reloads(const struct st_stats *s)
{
	return s->cert_reloads;
}

static void expect_cn(uint16_t port, const char *want)
{
	SSL *ssl = sth_tls_connect(port, 0, NULL, NULL);
	char cn[64];

	assert_non_null(ssl);
	sth_tls_peer_cn(ssl, cn, sizeof(cn));
	assert_string_equal(cn, want);
	sth_tls_free(ssl);
}

/* SIGHUP: new handshakes get the new certificate, open connections stay. */
static void test_reload(void **state)
{
	uint16_t port = sth_port();
	char crt[256], key[256], err[512] = "";
	struct st_config cfg;
	struct st *st;
	SSL *old;

	(void)state;
	snprintf(crt, sizeof(crt), "%s/r.crt", sth_keys.dir);
	snprintf(key, sizeof(key), "%s/r.key", sth_keys.dir);
	copy(STH_CRT, crt);
	copy(STH_KEY, key);
	sth_config(&cfg, SW_TP_TLS, port);
	snprintf(cfg.listeners[0].cert, ST_PATH_MAX, "%s", crt);
	snprintf(cfg.listeners[0].key, ST_PATH_MAX, "%s", key);
	st = sth_start(&cfg);
	old = sth_tls_connect(port, 0, NULL, NULL);
	assert_non_null(old);
	roundtrip(st, old, "before");

	copy(STH_CRT2, crt);
	copy(STH_KEY2, key);
	assert_int_equal(st_reload_certs(st, err, sizeof(err)), 0);
	assert_int_equal(sth_wait_stat(st, get_reloads, 1), 1);
	expect_cn(port, "server-b");
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_peer);
	roundtrip(st, old, "after");

	/* A file that does not load: refused, named, nothing changes. */
	assert_int_equal(unlink(key), 0);
	assert_int_equal(st_reload_certs(st, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, key));
	assert_non_null(strstr(err, "listener 0"));
	usleep(100 * 1000);
	assert_int_equal(sth_wait_stat(st, get_reloads, 1), 1);
	expect_cn(port, "server-b");
	assert_int_equal(sth_wait_closed(st, NULL), ST_CLOSE_peer);
	roundtrip(st, old, "still");
	sth_tls_free(old);
	unlink(crt);
	st_free(st);
}

static void test_start_errors(void **state)
{
	uint16_t port = sth_port();
	struct st_config cfg;
	char err[512] = "", want[32];
	struct st *st, *st2;

	(void)state;
	sth_config(&cfg, SW_TP_TLS, port);
	snprintf(cfg.listeners[0].cert, ST_PATH_MAX, "%s/missing.crt", sth_keys.dir);
	assert_null(st_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "missing.crt"));
	assert_non_null(strstr(err, "listener 0"));

	sth_config(&cfg, SW_TP_TLS, port);
	snprintf(cfg.listeners[0].key, ST_PATH_MAX, "%s", sth_keys.path[STH_KEY2]);
	assert_null(st_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, sth_keys.path[STH_KEY2]));
	assert_non_null(strstr(err, "mismatch"));

	sth_config(&cfg, SW_TP_TLS, port);
	snprintf(cfg.listeners[0].ca, ST_PATH_MAX, "%s/missing-ca.crt", sth_keys.dir);
	assert_null(st_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "missing-ca.crt"));

	/* A port taken: st_start() names it. */
	sth_config(&cfg, SW_TP_TCP, port);
	st = sth_start(&cfg);
	st2 = st_new(&cfg, err, sizeof(err));
	assert_non_null(st2);
	assert_int_equal(st_start(st2, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want), "port %u", port);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "127.0.0.1"));
	st_free(st2);
	st_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_messages), cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_garbage),	     cmocka_unit_test(test_tls11_refused),
		cmocka_unit_test(test_client_ca),    cmocka_unit_test(test_reload),
		cmocka_unit_test(test_start_errors),
	};

	return cmocka_run_group_tests(tests, sth_keys_make, sth_keys_remove);
}
