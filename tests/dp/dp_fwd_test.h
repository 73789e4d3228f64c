/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tests the other test_dp_fwd_*.c files give main() in test_dp_fwd.c
 * (one dp_fwd executable, one harness: fwd_harness.h).
 */
#ifndef DP_FWD_TEST_H
#define DP_FWD_TEST_H

/* test_dp_fwd_resp.c: responses from devices, to the PBX or dropped. */
void test_response_to_pbx(void **state);
void test_responses_not_forwarded(void **state);

/* test_dp_fwd_device.c: requests from devices, to the PBX or dropped. */
void test_bye_from_device_to_pbx(void **state);
void test_invite_from_device_to_active_pbx(void **state);
void test_device_never_relayed(void **state);

/* test_dp_fwd_branch.c: the branch we put in our Via (RFC 3261 §16.11). */
void test_branch_deterministic(void **state);

/* test_dp_fwd_frag.c: forwarded messages too big for one packet. */
void test_fragmented_ipv4(void **state);
void test_fragmented_ipv6(void **state);

#endif /* DP_FWD_TEST_H */
