/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the REGISTER path: apps' REGISTERs and the PBX's
 * answers as datagrams through the worker pipeline (tests/dp/dp_harness.h:
 * EAL --no-huge, a net_ring port) into the control plane (cp_sip_in(): the
 * relay, controlplane/relay/; the grant and the bindings,
 * controlplane/bindings/), then one round's cp_reg_flush(), as the control
 * plane's loop runs them. No store (its durability has its own tests), one
 * PBX server. Set up once; every input starts from no binding and no
 * pending transaction (rf_reset()).
 *
 * Input: up to MAX_STEPS records [kind][len hi][len lo][bytes]:
 *   kind & 3 == 0  a datagram from app (kind >> 2) & 3: usually a REGISTER;
 *           1  the PBX's answer to a REGISTER relayed to it (the
 *              (kind >> 2) & 3-th not yet answered): the record's first
 *              line is the status line, then the relayed request's Vias,
 *              From, To (with a tag unless kind & 0x10), Call-ID and CSeq
 *              (fuzz_cp_register_env.c), then the record's other lines,
 *              its Contact, Expires, header end and body;
 *           2  a datagram from the PBX as it is (stray answers);
 *           3  the last app datagram again (an app's retransmission).
 * Each app of an input has its own address (they rotate across inputs so
 * that the authentication-failure ban of one input does not reach another).
 *
 * Checked after every step, beyond ASan / UBSan / LSan:
 *  - the bindings change only in a step that gave the PBX's 2xx;
 *  - every device is one of an accepted REGISTER's: a REGISTER of this
 *    input (whoever sent it: the PBX's own is relayed too) answered 2xx by
 *    the PBX, from the device's address and port,
 *    whose bytes carry the device's contact as it is, and, for an RFC 8599
 *    push address, its pn-provider, pn-prid and pn-param (unescaped);
 *  - devices and pending transactions within bindings.max_devices and
 *    bindings.max_pending; the table's count is what it holds;
 *  - the control plane sends only to the PBX (REGISTERs) and to the
 *    addresses apps sent from, and never more 2xx to apps than the PBX gave
 *    (and than it answered again to retransmissions: Timer J).
 * After the input: rf_reset() must find the 2xx queue empty after a
 * flush, and leave no device, transaction or source behind; at exit (the
 * replay) everything is freed, and LSan checks nothing leaked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "controlplane/relay/cp_reg_internal.h"
#include "tests/fuzz/fuzz_cp_register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reg_fuzz F;

/* The app addresses of this input: 198.18.0.[16, 240), rotating. */
static void apps_for_input(void)
{
	static unsigned next;

	for (unsigned i = 0; i < N_APPS; i++) {
		snprintf(F.apps[i].ip, sizeof(F.apps[i].ip), "198.18.0.%u", 16 + next);
		F.apps[i].sip = dph_ip(F.apps[i].ip);
		F.apps[i].port = (uint16_t)(5060 + i);
		next = (next + 1) % 224;
	}
}

/* An app's REGISTER (or anything it sends). */
static void app_step(unsigned app, const uint8_t *p, size_t n)
{
	rf_feed(F.apps[app].ip, F.apps[app].port, p, n);
	F.last_app = F.cur_reg;
}

static void pbx_step(unsigned sel, int with_tag, const uint8_t *p, size_t n)
{
	unsigned open = 0, pick;
	struct reg_relay *rl = NULL;
	int status;

	for (unsigned i = 0; i < F.n_relays; i++)
		open += !F.relays[i].answered;
	if (open == 0) {
		rf_pbx_raw(p, n);
		return;
	}
	pick = sel % open;
	for (unsigned i = 0; i < F.n_relays; i++)
		if (!F.relays[i].answered && pick-- == 0) {
			rl = &F.relays[i];
			break;
		}
	status = rf_pbx_answer(rl, with_tag, p, n);
	if (status >= 200) {
		rl->answered = true;
		if (status < 300 && rl->reg >= 0) {
			F.regs[rl->reg].accepted = true;
			F.stepped_2xx = true;
		}
	}
}

static void step(uint8_t kind, const uint8_t *p, size_t n)
{
	unsigned sel = (kind >> 2) & 3;

	F.stepped_2xx = false;
	switch (kind & 3) {
	case 0:
		app_step(sel, p, n);
		break;
	case 1:
		pbx_step(sel, !(kind & 0x10), p, n);
		break;
	case 2:
		rf_pbx_raw(p, n);
		break;
	default:
		if (F.last_app >= 0) {
			const struct reg_sent *r = &F.regs[F.last_app];
			unsigned a = 0;

			while (a + 1 < N_APPS && !sw_ip_eq(&F.apps[a].sip, &r->src))
				a++;
			app_step(a, r->p, r->n);
		} else {
			app_step(sel, p, n);
		}
		break;
	}
	rf_round();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	unsigned steps = 0;

	if (F.cp == NULL) {
		rte_log_set_global_level(RTE_LOG_ERR);
		rf_setup();
	}
	F.inputs++;
	apps_for_input();
	F.n_regs = F.n_relays = 0;
	F.cur_reg = F.last_app = -1;
	F.pbx_2xx = F.app_2xx = 0;
	F.repeated0 = cp_counter(F.cp, CP_C_REG_ANSWER_REPEATED);
	rf_snapshot(&F.before);
	while (off + 3 <= size && steps++ < MAX_STEPS) {
		uint8_t kind = data[off];
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		if (n > size - off)
			n = size - off;
		if (n > MAX_REC)
			n = MAX_REC;
		step(kind, data + off, n);
		off += n;
		rf_check();
	}
	rf_reset();
	return 0;
}
