/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the streams tests share: certificates made at start, a streams
 * thread on 127.0.0.1, plain and OpenSSL clients, bounded waits.
 */
#ifndef ST_HARNESS_H
#define ST_HARNESS_H

#include <openssl/ssl.h>

#include "streams/st.h"

/* Fixed high ports: each test takes its own (sth_port()), none reused
 * within a run, so no TIME_WAIT of an earlier test is in the way. */
#define STH_PORT_BASE 25060

enum sth_file { STH_CRT, STH_KEY, STH_CRT2, STH_KEY2, STH_CA, STH_CLI_CRT, STH_CLI_KEY, STH_N };

struct sth_keys {
	char dir[64];
	char path[STH_N][128];
};

extern struct sth_keys sth_keys;

/** Make the certificates into a temp dir (cmocka group setup). */
int sth_keys_make(void **state);
/** Remove them (group teardown). */
int sth_keys_remove(void **state);

/** A port no earlier test of this process used. */
uint16_t sth_port(void);

/** A config with defaults, 127.0.0.1, and one listener of @p tp on @p port. */
void sth_config(struct st_config *cfg, uint8_t tp, uint16_t port);

/** st_new() + st_start(), asserted. */
struct st *sth_start(const struct st_config *cfg);

/** A blocking TCP client to 127.0.0.1:@p port with 3 s timeouts; -1 on failure. */
int sth_connect(uint16_t port);
/** Send all of @p s. */
void sth_send(int fd, const void *s, size_t n);
/** Read until @p n bytes are in or 3 s pass; returns the count read. */
size_t sth_recv(int fd, void *buf, size_t n);
/** Wait up to 3 s for the peer to close: 1 if it did (EOF or reset). */
int sth_closed(int fd);

/** The next event, waiting up to @p ms; NULL if none came. */
struct st_up *sth_wait_up(struct st *st, unsigned ms);
/** The next event must be ST_UP_SIP: returned (free() it). */
struct st_up *sth_wait_sip(struct st *st);
/** Wait for ST_UP_CLOSED (skipping nothing: it must be the next event); returns why. */
int sth_wait_closed(struct st *st, uint64_t *conn);

/** Poll the stats until @p get returns @p want or 3 s pass; returns the last value. */
uint64_t sth_wait_stat(struct st *st, uint64_t (*get)(const struct st_stats *), uint64_t want);

/** A TLS client: connect, handshake (client cert if @p crt). NULL on failure. */
SSL *sth_tls_connect(uint16_t port, int max_version, const char *crt, const char *key);
/** Free the client and its socket. */
void sth_tls_free(SSL *ssl);
/** Read until @p n bytes or 3 s; returns the count. */
size_t sth_tls_recv(SSL *ssl, void *buf, size_t n);
/** The subject CN of the server's certificate, into @p cn. */
void sth_tls_peer_cn(SSL *ssl, char *cn, size_t n);

/** One small SIP message with Content-Length, @p tag inside. */
size_t sth_msg(char *buf, size_t n, const char *tag);

#endif /* ST_HARNESS_H */
