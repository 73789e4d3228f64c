/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the pushd lifecycle tests (test_pushd_life*.c, one executable)
 * share: the binaries main() was given, the keys made once for the group,
 * one push sent and waited for, and the tests each file gives main() in
 * test_pushd_life.c. It includes cmocka and its prerequisites itself.
 */
#ifndef PUSHD_LIFE_H
#define PUSHD_LIFE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/pushd/ts_harness.h"

/* pd_testsrv (argv[1]) and sipwake-push (argv[2], NULL: its test skips). */
extern const char *srv_bin, *cli_bin;
/* Made by group_setup(), removed by group_teardown(). */
extern struct ts_keys keys;

/* cmocka group set-up / tear-down: the test keys and certificates. */
int group_setup(void **state);
int group_teardown(void **state);

/* One APNs push for @p token, deadline @p ms from now; its result (NULL
 * if none came within @p ms + 3 s; the caller frees it). */
struct pd_result *push_one(struct pd *pd, const char *token, uint64_t id, unsigned ms);

/* test_pushd_life_conn.c: connections: provider tokens, reconnects, names
 * and certificates, a refused service account, PINGs. */
void test_jwt_reused_then_renewed(void **state);
void test_reconnect_after_server_restart(void **state);
void test_hostname_and_certificate_check(void **state);
void test_fcm_token_refused(void **state);
void test_ping_idle_and_dead_connection(void **state);

/* test_pushd_life_queue.c: pushes waiting their turn, and refused. */
void test_queue_before_connect_and_past_stream_cap(void **state);
void test_max_pending(void **state);
void test_server_killed_mid_write(void **state);
void test_ring_full(void **state);

/* test_pushd_life_start.c: a token-auth APNs connection's first request. */
void test_apns_one_stream_until_accepted(void **state);
void test_apns_start_after_403_and_400(void **state);
void test_apns_start_after_a_stall(void **state);

/* test_pushd_life_expiry.c: apns-expiration and FCM ttl from the deadline. */
void test_expiry_follows_deadline(void **state);

/* test_pushd_life_cert.c: APNs client certificates checked as APNs does. */
void test_apns_client_certificate(void **state);

/* test_pushd_life_cli.c: the sipwake-push command line tool. */
void test_cli(void **state);

#endif /* PUSHD_LIFE_H */
