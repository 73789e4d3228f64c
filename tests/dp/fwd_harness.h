/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the forwarding tests (test_dp_fwd*.c) share: a one-worker dataplane
 * (dp_harness.h) with a binding table holding the devices below, every peer's
 * MAC known, two pbx.servers (PBX, PBX2), and helpers that feed frames and
 * read back what the port sent or the pipeline handed up. Failures are
 * cmocka assertions.
 *
 * Devices (alive unless said): alice (ALICE:5078, push address apns, found
 * by it), bob (BOB:5080, by contact), carol (behind a NAT: CAROL:40000, by
 * AOR), dave (DAVE:5070, asleep), eve (two devices, EVE1 and EVE2), gina
 * (GINA6:5078, IPv6).
 */
#ifndef FWD_HARNESS_H
#define FWD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/dp/dp_harness.h"

#define SW	"198.18.0.1"
#define PBX	DPH_PBX_IP4
#define PBX2	"198.18.0.8" /* a pbx.server outside the pbx.sources prefixes */
#define ALICE	"198.18.0.2"
#define BOB	"198.18.0.3"
#define CAROL	"198.18.0.4"
#define DAVE	"198.18.0.6"
#define EVE1	"198.18.0.10"
#define EVE2	"198.18.0.11"
#define GINA6	"2001:db8:5e::7"
#define OUR_VIA "Via: SIP/2.0/UDP " SW ":5060;branch=z9hG4bK-swS"
#define OUR_RR	"Record-Route: <sip:" SW ":5060;lr>\r\n"
#define BR_LEN	16 /* hex digits after z9hG4bK-swS */

/* A request from the PBX to @p ruri (Call-ID "cp-<method>"). */
#define PBX_REQ(method, ruri, to_tag, extra)                                     \
	method " " ruri " SIP/2.0\r\n"                                           \
	       "Via: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK-p" method "\r\n" \
	       "From: <sip:1002@example.com>;tag=fp\r\n"                         \
	       "To: <" ruri ">" to_tag "\r\n"                                    \
	       "Call-ID: cp-" method "\r\n"                                      \
	       "CSeq: 5 " method "\r\n" extra "Content-Length: 0\r\n\r\n"

extern struct dph h; /* the harness fwd_setup() starts */
/* Frames sent with their checksums left to the port (take() completes them). */
extern unsigned nic_cksum_frames;
extern uint64_t T0; /* "now" of every frame fed */

/** cmocka group set-up / tear-down: the harness and the devices above. */
int fwd_setup(void **state);
int fwd_teardown(void **state);

/* ---- frames in ---- */

/** @p len bytes of @p msg from @p src:@p sport, in IP fragments of @p frag bytes (0: one). */
void feed(const char *src, uint16_t sport, const char *msg, size_t len, uint16_t frag);
void feed_str(const char *src, uint16_t sport, const char *msg);

/* ---- frames out ---- */

struct out {
	bool v6;
	struct sw_ip src, dst;
	uint16_t sport, dport;
	unsigned frames;
	char *msg; /* the UDP payload, NUL-terminated (caller frees) */
	uint32_t len;
	bool nic_cksum; /* the checksums were left to the port (struct sw_iface.tx_offload) */
};

/** Every frame the pipeline sent for one datagram, checked and reassembled. */
void take(struct out *o);
/** It went to @p ip:@p port from our address of that family, port 5060. */
void expect_to(const struct out *o, const char *ip, uint16_t port);
/** The branch we put in the message's top Via (16 hex digits). */
void fwd_branch_of(const struct out *o, char br[BR_LEN + 1]);
/** The message must be exactly @p fmt with our branch in place of its one "%s". */
void expect_msg(const struct out *o, const char *fmt, char br[BR_LEN + 1]);
/** Nothing more was sent or handed up. */
void nothing_else(void);
/** One message from the PBX was handed up, and counter @p c is @p before + 1. */
void expect_up(const char *what, enum dp_counter c, uint64_t before);
/** A stateless answer to the PBX starting with @p status_line; @p c is @p before + 1. */
void expect_answer(const char *status_line, enum dp_counter c, uint64_t before);

#endif /* FWD_HARNESS_H */
