/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the workers leave to the wake path (dataplane/dp_fwd.c, docs/design.md §7
 * "Who forwards what"), through the whole pipeline (tests/dp/fwd_harness.h):
 *  - a call in the held-call set (ctx->held): the PBX's INVITE
 *    retransmissions, its CANCEL and its non-2xx ACK go up, never to the
 *    device; what follows our Record-Route (ACK for a 2xx, BYE) still goes
 *    to the device its id names; other calls are not touched;
 *  - wake.policy always-push / parallel: a new INVITE to an alive device
 *    with a push address goes up; one without, or a re-INVITE, does not.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "tests/dp/fwd_harness.h"
#include "tests/dp/sip_msgs.h"

#define HELD_CID  "held-3f9a1c7e@198.18.0.5"
#define OTHER_CID "other-77c2a0b1@198.18.0.5"

/* A request from the PBX; the INVITE, its CANCEL and its non-2xx ACK share
 * the branch and CSeq number (§9.1, §17.1.1.3), the rest have their own. */
struct req {
	const char *method, *ruri; /* ruri NULL: alice's AOR */
	const char *to_tag;	   /* NULL: none (an initial INVITE, its CANCEL) */
	const char *call_id;
	const char *branch;
	unsigned cseq;
	uint64_t swd; /* non-zero: our Route with this device id (in a dialog) */
};

static void send_req(const struct req *r)
{
	char route[128] = "", msg[1024];

	if (r->swd != 0)
		snprintf(route, sizeof(route),
			 "Route: <sip:" SW ":5060;" DP_ROUTE_DEVICE_PARAM "=%016" PRIx64 ";lr>\r\n",
			 r->swd);
	snprintf(msg, sizeof(msg),
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-%s\r\n"
		 "%s"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:1002@example.com>;tag=fh\r\n"
		 "To: <sip:alice@example.com>%s%s\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: %u %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 r->method, r->ruri != NULL ? r->ruri : "sip:alice@example.com", r->branch, route,
		 r->to_tag != NULL ? ";tag=" : "", r->to_tag != NULL ? r->to_tag : "", r->call_id,
		 r->cseq, r->method);
	feed_str(PBX, 5060, msg);
}

/* @p r went to @p ip:@p port, counted as a request to a device. */
static void expect_forwarded(const struct req *r, const char *ip, uint16_t port)
{
	uint64_t fwd = dph_count(&h, DP_C_FWD_REQUESTS_TO_DEVICE);
	struct out o;

	send_req(r);
	take(&o);
	expect_to(&o, ip, port);
	assert_int_equal(strncmp(o.msg, r->method, strlen(r->method)), 0);
	free(o.msg);
	assert_int_equal(dph_count(&h, DP_C_FWD_REQUESTS_TO_DEVICE), fwd + 1);
	nothing_else();
}

/* @p r was handed up, counted by @p c and by nothing else of the forward path. */
static void expect_handed_up(const struct req *r, enum dp_counter c)
{
	static const enum dp_counter others[] = {
		DP_C_FWD_REQUESTS_TO_DEVICE, DP_C_FWD_ASLEEP_HANDED_UP, DP_C_FWD_FORK_HANDED_UP,
		DP_C_FWD_HELD_HANDED_UP,     DP_C_FWD_POLICY_HANDED_UP, DP_C_SIP_404_SENT,
		DP_C_SIP_481_SENT,
	};
	uint64_t before[sizeof(others) / sizeof(others[0])], was = dph_count(&h, c);

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		before[i] = dph_count(&h, others[i]);
	send_req(r);
	expect_up(r->method, c, was);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (others[i] != c)
			assert_int_equal(dph_count(&h, others[i]), before[i]);
}

static int first_id(const struct sw_device *d, void *arg)
{
	*(uint64_t *)arg = d->id;
	return 1;
}

static uint64_t device_id(const char *aor)
{
	uint64_t id = 0;

	sw_bind_foreach_aor(h.ctx->bind, aor, strlen(aor), first_id, &id);
	assert_true(id != 0);
	return id;
}

static uint64_t cid_key(const char *cid)
{
	return sw_callset_key(cid, strlen(cid));
}

/* The INVITE, its CANCEL and its non-2xx ACK of call @p cid to alice. */
#define INVITE(cid)                                                               \
	{                                                                         \
		.method = "INVITE", .call_id = (cid), .branch = "inv1", .cseq = 1 \
	}
#define CANCEL(cid)                                                               \
	{                                                                         \
		.method = "CANCEL", .call_id = (cid), .branch = "inv1", .cseq = 1 \
	}
#define ACK_NON2XX(cid)                                                                          \
	{                                                                                        \
		.method = "ACK", .to_tag = "a486", .call_id = (cid), .branch = "inv1", .cseq = 1 \
	}

/* ---- the held-call set ---- */

static void test_empty_set_unchanged(void **state)
{
	const struct req inv = INVITE(HELD_CID), cancel = CANCEL(HELD_CID),
			 ack = ACK_NON2XX(HELD_CID);
	struct sw_callset *held = h.ctx->held;
	uint64_t up = dph_count(&h, DP_C_FWD_HELD_HANDED_UP);

	(void)state;
	assert_non_null(held);
	assert_int_equal(sw_callset_count(held), 0);
	expect_forwarded(&inv, ALICE, 5078);
	expect_forwarded(&cancel, ALICE, 5078);
	expect_forwarded(&ack, ALICE, 5078);
	/* No set at all: the same. */
	h.ctx->held = NULL;
	expect_forwarded(&inv, ALICE, 5078);
	expect_forwarded(&ack, ALICE, 5078);
	h.ctx->held = held;
	assert_int_equal(dph_count(&h, DP_C_FWD_HELD_HANDED_UP), up);
}

static void test_held_call_handed_up(void **state)
{
	const struct req inv = INVITE(HELD_CID), cancel = CANCEL(HELD_CID),
			 ack = ACK_NON2XX(HELD_CID);
	/* The same call named by a contact or an AOR with no device, and to an
	 * asleep one: the set is asked before any lookup. */
	const struct req nobody = {.method = "CANCEL",
				   .ruri = "sip:nobody@example.com",
				   .call_id = HELD_CID,
				   .branch = "inv1",
				   .cseq = 1};
	const struct req asleep = {.method = "INVITE",
				   .ruri = "sip:dave@example.com",
				   .call_id = HELD_CID,
				   .branch = "inv1",
				   .cseq = 1};

	(void)state;
	assert_int_equal(sw_callset_add(h.ctx->held, cid_key(HELD_CID)), 0);
	urcu_qsbr_quiescent_state();
	expect_handed_up(&inv, DP_C_FWD_HELD_HANDED_UP); /* the retransmission */
	expect_handed_up(&inv, DP_C_FWD_HELD_HANDED_UP);
	expect_handed_up(&cancel, DP_C_FWD_HELD_HANDED_UP);
	expect_handed_up(&ack, DP_C_FWD_HELD_HANDED_UP);
	expect_handed_up(&nobody, DP_C_FWD_HELD_HANDED_UP);
	expect_handed_up(&asleep, DP_C_FWD_HELD_HANDED_UP);

	/* Let go: forwarded again. */
	assert_int_equal(sw_callset_del(h.ctx->held, cid_key(HELD_CID)), 0);
	urcu_qsbr_quiescent_state();
	expect_forwarded(&inv, ALICE, 5078);
	expect_forwarded(&cancel, ALICE, 5078);
}

static void test_held_call_in_dialog_forwarded(void **state)
{
	uint64_t alice = device_id("alice@example.com");
	const struct req ack2xx = {.method = "ACK",
				   .ruri = "sip:app@10.9.8.7:5999",
				   .to_tag = "a486",
				   .call_id = HELD_CID,
				   .branch = "ack2",
				   .cseq = 1,
				   .swd = alice};
	const struct req bye = {.method = "BYE",
				.ruri = "sip:app@10.9.8.7:5999",
				.to_tag = "a486",
				.call_id = HELD_CID,
				.branch = "bye1",
				.cseq = 2,
				.swd = alice};
	const struct req reinv = {.method = "INVITE",
				  .ruri = "sip:app@10.9.8.7:5999",
				  .to_tag = "a486",
				  .call_id = HELD_CID,
				  .branch = "reinv1",
				  .cseq = 3,
				  .swd = alice};
	/* A re-INVITE is never the held transaction, even without our Route. */
	const struct req reinv_no_route = {.method = "INVITE",
					   .to_tag = "a486",
					   .call_id = HELD_CID,
					   .branch = "reinv2",
					   .cseq = 4};
	uint64_t up = dph_count(&h, DP_C_FWD_HELD_HANDED_UP);

	(void)state;
	assert_int_equal(sw_callset_add(h.ctx->held, cid_key(HELD_CID)), 0);
	urcu_qsbr_quiescent_state();
	/* The dialog's requests name the device in our Route: to it. */
	expect_forwarded(&ack2xx, ALICE, 5078);
	expect_forwarded(&bye, ALICE, 5078);
	expect_forwarded(&reinv, ALICE, 5078);
	expect_forwarded(&reinv_no_route, ALICE, 5078);
	assert_int_equal(dph_count(&h, DP_C_FWD_HELD_HANDED_UP), up);
	assert_int_equal(sw_callset_del(h.ctx->held, cid_key(HELD_CID)), 0);
	urcu_qsbr_quiescent_state();
}

static void test_other_call_forwarded(void **state)
{
	const struct req inv = INVITE(OTHER_CID), cancel = CANCEL(OTHER_CID),
			 ack = ACK_NON2XX(OTHER_CID);
	const struct req bob = {.method = "INVITE",
				.ruri = "sip:bob@198.18.0.3:5080;transport=udp",
				.call_id = OTHER_CID "-b",
				.branch = "bob1",
				.cseq = 1};
	uint64_t up = dph_count(&h, DP_C_FWD_HELD_HANDED_UP);

	(void)state;
	/* Held calls (and one held twice: two transactions) are not this one. */
	assert_int_equal(sw_callset_add(h.ctx->held, cid_key(HELD_CID)), 0);
	assert_int_equal(sw_callset_add(h.ctx->held, cid_key(HELD_CID)), 0);
	assert_int_equal(sw_callset_add(h.ctx->held, cid_key("yet-another@pbx")), 0);
	urcu_qsbr_quiescent_state();
	expect_forwarded(&inv, ALICE, 5078);
	expect_forwarded(&cancel, ALICE, 5078);
	expect_forwarded(&ack, ALICE, 5078);
	expect_forwarded(&bob, BOB, 5080);
	assert_int_equal(dph_count(&h, DP_C_FWD_HELD_HANDED_UP), up);

	/* One reference of the held call dropped: still held. */
	assert_int_equal(sw_callset_del(h.ctx->held, cid_key(HELD_CID)), 0);
	urcu_qsbr_quiescent_state();
	expect_handed_up(&(struct req)CANCEL(HELD_CID), DP_C_FWD_HELD_HANDED_UP);
	assert_int_equal(sw_callset_del(h.ctx->held, cid_key(HELD_CID)), 0);
	assert_int_equal(sw_callset_del(h.ctx->held, cid_key("yet-another@pbx")), 0);
	assert_int_equal(sw_callset_count(h.ctx->held), 0);
	urcu_qsbr_quiescent_state();
}

/* ---- wake.policy ---- */

static void policy_hands_up(enum dp_wake_policy pol)
{
	const struct req alice = INVITE("pol-alice@pbx");
	const struct req alice_by_pn = {.method = "INVITE",
					.ruri = "sip:alice@198.18.0.2:5078;transport=udp;"
						"pn-provider=apns;pn-prid=6b1f0a4e2d;"
						"pn-param=ABCDE12345.com.example.phone.voip",
					.call_id = "pol-alice-pn@pbx",
					.branch = "pol2",
					.cseq = 1};
	const struct req bob = {.method = "INVITE",
				.ruri = "sip:bob@example.com",
				.call_id = "pol-bob@pbx",
				.branch = "pol3",
				.cseq = 1};
	const struct req dave = {.method = "INVITE",
				 .ruri = "sip:dave@example.com",
				 .call_id = "pol-dave@pbx",
				 .branch = "pol4",
				 .cseq = 1};
	/* Not an initial INVITE: a re-INVITE by the dialog's route or without
	 * it, a CANCEL, a non-2xx ACK. */
	const struct req reinv = {.method = "INVITE",
				  .ruri = "sip:app@10.9.8.7:5999",
				  .to_tag = "a486",
				  .call_id = "pol-alice@pbx",
				  .branch = "pol5",
				  .cseq = 2,
				  .swd = device_id("alice@example.com")};
	const struct req reinv_no_route = {.method = "INVITE",
					   .to_tag = "a486",
					   .call_id = "pol-alice@pbx",
					   .branch = "pol6",
					   .cseq = 3};

	h.ctx->p.wake_policy = (uint8_t)pol;
	/* alice is alive and has a push address: up, by the policy. */
	expect_handed_up(&alice, DP_C_FWD_POLICY_HANDED_UP);
	expect_handed_up(&alice_by_pn, DP_C_FWD_POLICY_HANDED_UP);
	/* bob is alive, without one: forwarded as with ping. */
	expect_forwarded(&bob, BOB, 5080);
	/* dave is asleep: up as before, counted as asleep. */
	expect_handed_up(&dave, DP_C_FWD_ASLEEP_HANDED_UP);
	expect_forwarded(&reinv, ALICE, 5078);
	expect_forwarded(&reinv_no_route, ALICE, 5078);
	expect_forwarded(&(struct req)CANCEL("pol-alice@pbx"), ALICE, 5078);
	expect_forwarded(&(struct req)ACK_NON2XX("pol-alice@pbx"), ALICE, 5078);
	/* A held call's retransmission counts as held, not as policy. */
	assert_int_equal(sw_callset_add(h.ctx->held, cid_key("pol-alice@pbx")), 0);
	urcu_qsbr_quiescent_state();
	expect_handed_up(&alice, DP_C_FWD_HELD_HANDED_UP);
	assert_int_equal(sw_callset_del(h.ctx->held, cid_key("pol-alice@pbx")), 0);
	urcu_qsbr_quiescent_state();

	/* ping: alive devices get their calls at once. */
	h.ctx->p.wake_policy = DP_WAKE_PING;
	expect_forwarded(&alice, ALICE, 5078);
	expect_forwarded(&alice_by_pn, ALICE, 5078);
}

static void test_policy_always_push(void **state)
{
	(void)state;
	policy_hands_up(DP_WAKE_ALWAYS_PUSH);
}

static void test_policy_parallel(void **state)
{
	(void)state;
	policy_hands_up(DP_WAKE_PARALLEL);
}

/* ---- counters ---- */

/* /sipwake/describe lists every counter with its description; DPDK 22.11's
 * telemetry neither escapes strings nor keeps more than 127 bytes. */
static void test_counters_described(void **state)
{
	(void)state;
	for (unsigned i = 0; i < DP_C_MAX; i++) {
		const char *name = dp_counter_name(i), *desc = dp_counter_desc(i);

		assert_non_null(name);
		assert_non_null(desc);
		assert_true(strlen(name) > 0 && strlen(desc) > 0);
		if (strlen(desc) >= 128 || strpbrk(desc, "\"\\") != NULL)
			fail_msg("counter %s: description not fit for telemetry", name);
	}
	assert_string_equal(dp_counter_name(DP_C_FWD_HELD_HANDED_UP), "fwd_held_handed_up");
	assert_string_equal(dp_counter_name(DP_C_FWD_POLICY_HANDED_UP), "fwd_policy_handed_up");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_set_unchanged),
		cmocka_unit_test(test_held_call_handed_up),
		cmocka_unit_test(test_held_call_in_dialog_forwarded),
		cmocka_unit_test(test_other_call_forwarded),
		cmocka_unit_test(test_policy_always_push),
		cmocka_unit_test(test_policy_parallel),
		cmocka_unit_test(test_counters_described),
	};

	return cmocka_run_group_tests(tests, fwd_setup, fwd_teardown);
}
