/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-side helpers: test keys and certificates made with the openssl CLI,
 * pd_testsrv as a child process driven over its stdin/stdout control
 * protocol, and pushd configured against it. Every wait is bounded.
 */
#ifndef TS_HARNESS_H
#define TS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "pushd/pd.h"

#define TS_TEAM	   "TEAM123456"
#define TS_KID	   "KEY1234567"
#define TS_BUNDLE  "com.example.app"
#define TS_PROJECT "test-project"
#define TS_EMAIL   "pushd@test-project.iam.gserviceaccount.com"

struct ts_keys {
	char dir[64];
	char path[16][128]; /* indexed by enum below */
};
/* K_CA_CRT signs the APNs client certificates pd_testsrv accepts (its
 * --client-ca): K_CLI_CRT has subject UID = TS_BUNDLE; K_CLI_CA2_CRT the same
 * subject from another CA; K_CLI_TOPIC_CRT UID "com.other.app". All three
 * go with K_CLI_KEY. */
enum {
	K_TLS_CRT,
	K_TLS_KEY,
	K_P8,
	K_P8_PUB,
	K_RSA,
	K_RSA_PUB,
	K_SA_JSON,
	K_CLI_CRT,
	K_CLI_KEY,
	K_CA_CRT,
	K_CLI_CA2_CRT,
	K_CLI_TOPIC_CRT,
};

struct ts_srv {
	int pid, in, out; /* child, its stdin (we write), its stdout (we read) */
	unsigned port;
	char buf[1 << 16];
	size_t len;
	char **lines;
	size_t n_lines, cap_lines, cursor;
};

int ts_keys_make(struct ts_keys *k);
void ts_keys_remove(struct ts_keys *k);

/* Starts @bin (client certificates checked against K_CA_CRT); port 0 = any.
 * extra: more arguments, space separated (or NULL). */
int ts_srv_start(struct ts_srv *s, const char *bin, const struct ts_keys *k, unsigned port,
		 const char *extra);
/* Ends the server (EOF on its stdin); returns its exit status (0 = clean). */
int ts_srv_stop(struct ts_srv *s);
/* Sends one control line and waits for its "OK". */
int ts_srv_cmd(struct ts_srv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Next line (after the cursor) containing @needle, within @timeout_ms; NULL if none. */
const char *ts_srv_wait(struct ts_srv *s, const char *needle, int timeout_ms);
/* Lines received so far containing @needle. */
unsigned ts_srv_count(struct ts_srv *s, const char *needle);

/* Mints Web Push subscription @id on the server ("wpsub"): its endpoint
 * URL and its keys "<p256dh>.<auth>". 0 or -ETIMEDOUT. */
int ts_srv_wpsub(struct ts_srv *s, const char *id, char *endpoint, size_t ecap, char *keys,
		 size_t kcap);
/* Adds a Web Push credential (VAPID key K_P8, CA K_TLS_CRT) to @cfg. */
void ts_pd_webpush(struct pd_config *cfg, const struct ts_keys *k);

/* A config with one APNs token credential, one APNs certificate credential
 * (team "CERTTEAM01") and one FCM credential, all pointing at @port. */
void ts_pd_config(struct pd_config *cfg, const struct ts_keys *k, unsigned port);
/* A request with defaults for @provider ("call" kind). */
void ts_request(struct pd_request *r, enum pd_provider p, const char *token, uint64_t id);
/* Waits for the result of request @id (others are dropped); NULL on timeout. */
struct pd_result *ts_wait_result(struct pd *pd, uint64_t id, int timeout_ms);
/* Waits for @n results of any ids; returns how many were delivered, -1 on timeout. */
int ts_wait_n(struct pd *pd, unsigned n, int timeout_ms);

#endif /* TS_HARNESS_H */
