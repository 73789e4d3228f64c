/* SPDX-License-Identifier: BSD-3-Clause */
/* The streams tests' harness (st_harness.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/sw_clock.h"
#include "tests/streams/st_harness.h"

#define WAIT_MS 3000

struct sth_keys sth_keys;
static uint16_t next_port = STH_PORT_BASE;

int sth_keys_make(void **state)
{
	static const char *const names[STH_N] = {"a.crt",  "a.key",   "b.crt",	"b.key",
						 "ca.crt", "cli.crt", "cli.key"};
	char cmd[2048];

	(void)state;
	snprintf(sth_keys.dir, sizeof(sth_keys.dir), "/tmp/st_test.XXXXXX");
	if (!mkdtemp(sth_keys.dir))
		return -1;
	for (int i = 0; i < STH_N; i++)
		snprintf(sth_keys.path[i], sizeof(sth_keys.path[i]), "%s/%s", sth_keys.dir,
			 names[i]);
	/* Two server certificates told apart by their CN (reload), a CA and a
	 * client certificate it signed. */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && for n in a b; do openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.crt -days 2 "
		 "-subj /CN=server-$n 2>/dev/null || exit 1; done"
		 " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca 2>/dev/null"
		 " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout cli.key -out cli.csr -subj /CN=client 2>/dev/null"
		 " && openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -set_serial 1 "
		 "-days 2 -out cli.crt 2>/dev/null",
		 sth_keys.dir);
	return system(cmd) == 0 ? 0 : -1;
}

int sth_keys_remove(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", sth_keys.dir);
	return system(cmd) == 0 ? 0 : -1;
}

uint16_t sth_port(void)
{
	return next_port++;
}

void sth_config(struct st_config *cfg, uint8_t tp, uint16_t port)
{
	st_config_defaults(cfg);
	cfg->n_addrs = 1;
	cfg->addrs[0] = sw_ip_from_v4(htonl(INADDR_LOOPBACK));
	cfg->n_listeners = 1;
	cfg->listeners[0].tp = tp;
	cfg->listeners[0].port = port;
	if (tp == SW_TP_TLS || tp == SW_TP_WSS) {
		snprintf(cfg->listeners[0].cert, ST_PATH_MAX, "%s", sth_keys.path[STH_CRT]);
		snprintf(cfg->listeners[0].key, ST_PATH_MAX, "%s", sth_keys.path[STH_KEY]);
	}
}

struct st *sth_start(const struct st_config *cfg)
{
	char err[256] = "";
	struct st *st = st_new(cfg, err, sizeof(err));

	if (!st)
		fail_msg("st_new: %s", err);
	if (st_start(st, err, sizeof(err)) != 0)
		fail_msg("st_start: %s", err);
	return st;
}

int sth_connect(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {3, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void sth_send(int fd, const void *s, size_t n)
{
	const char *p = s;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

size_t sth_recv(int fd, void *buf, size_t n)
{
	uint64_t end = sw_mono_ms() + WAIT_MS;
	size_t got = 0;

	while (got < n && sw_mono_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv(fd, (char *)buf + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int sth_closed(int fd)
{
	uint64_t end = sw_mono_ms() + WAIT_MS;
	char b[4096];

	while (sw_mono_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv(fd, b, sizeof(b), 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
	return 0;
}

struct st_up *sth_wait_up(struct st *st, unsigned ms)
{
	uint64_t end = sw_mono_ms() + ms;
	struct st_up *u;

	do {
		if (st_poll(st, &u, 1) == 1)
			return u;
		usleep(2000);
	} while (sw_mono_ms() < end);
	return NULL;
}

struct st_up *sth_wait_sip(struct st *st)
{
	struct st_up *u = sth_wait_up(st, WAIT_MS);

	assert_non_null(u);
	if (u->kind != ST_UP_SIP)
		fail_msg("expected a message, got kind %u why %s", u->kind,
			 st_close_name((enum st_close_why)u->why));
	return u;
}

int sth_wait_closed(struct st *st, uint64_t *conn)
{
	struct st_up *u = sth_wait_up(st, WAIT_MS);
	int why;

	assert_non_null(u);
	assert_int_equal(u->kind, ST_UP_CLOSED);
	why = u->why;
	if (conn)
		*conn = u->conn;
	free(u);
	return why;
}

uint64_t sth_wait_stat(struct st *st, uint64_t (*get)(const struct st_stats *), uint64_t want)
{
	uint64_t end = sw_mono_ms() + WAIT_MS, v;
	struct st_stats s;

	for (;;) {
		st_stats_get(st, &s);
		v = get(&s);
		if (v == want || sw_mono_ms() >= end)
			return v;
		usleep(5000);
	}
}

SSL *sth_tls_connect(uint16_t port, int max_version, const char *crt, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int fd = sth_connect(port);
	SSL *ssl;

	if (!ctx || fd < 0)
		goto fail;
	/* The servers' certificates are self-signed: the tests look at them,
	 * they do not verify them. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (max_version) {
		SSL_CTX_set_min_proto_version(ctx, 0);
		SSL_CTX_set_max_proto_version(ctx, max_version);
		/* TLS 1.1 needs SHA-1 signatures: allowed at level 0 only. */
		SSL_CTX_set_security_level(ctx, 0);
	}
	if (crt && (SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
		goto fail;
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL holds it */
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_clear_error();
		sth_tls_free(ssl);
		return NULL;
	}
	return ssl;
fail:
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return NULL;
}

void sth_tls_free(SSL *ssl)
{
	int fd;

	if (!ssl)
		return;
	fd = SSL_get_fd(ssl);
	SSL_free(ssl);
	close(fd);
}

size_t sth_tls_recv(SSL *ssl, void *buf, size_t n)
{
	uint64_t end = sw_mono_ms() + WAIT_MS;
	size_t got = 0;

	/* The socket has a 3 s receive timeout: SSL_read() does not hang. */
	while (got < n && sw_mono_ms() < end) {
		int r = SSL_read(ssl, (char *)buf + got, (int)(n - got));

		if (r <= 0) {
			ERR_clear_error();
			break;
		}
		got += (size_t)r;
	}
	return got;
}

void sth_tls_peer_cn(SSL *ssl, char *cn, size_t n)
{
	X509 *x = SSL_get1_peer_certificate(ssl);

	cn[0] = '\0';
	if (!x)
		return;
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)n);
	X509_free(x);
}

size_t sth_msg(char *buf, size_t n, const char *tag)
{
	static const char body[] = "v=0\r\n";

	return (size_t)snprintf(buf, n,
				"OPTIONS sip:%s@example.com SIP/2.0\r\n"
				"Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-%s\r\n"
				"Content-Length: %zu\r\n\r\n%s",
				tag, tag, sizeof(body) - 1, body);
}
