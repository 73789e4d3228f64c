/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pushd: the one pushd and pd_testsrv its test files share
 * (test_pushd.c: the group, APNs; test_pushd_fcm.c: FCM).
 */
#ifndef TEST_PUSHD_H
#define TEST_PUSHD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/pushd/ts_harness.h"

extern struct ts_srv srv;
extern struct pd *pd;
extern uint64_t next_id;

/* Submit one push to @token and wait for its result (the caller frees it). */
struct pd_result *push(enum pd_provider p, const char *token, enum pd_kind kind,
		       uint64_t deadline_in_ms);
/* @r has status @st (and reason @reason unless NULL). */
void expect(struct pd_result *r, enum pd_status st, const char *reason);

void test_fcm(void **state);
void test_fcm_401_refetches_token(void **state);
void test_fcm_token_refresh_before_expiry(void **state);

#endif /* TEST_PUSHD_H */
