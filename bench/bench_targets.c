/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The targets table of bench_dp (bench_targets.h). The targets are those of
 * the SIMD structural-index scanner and the lean forward path; the Kamailio
 * rows are printed by scripts/bench-kamailio.py in the same format.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "bench_targets.h"

struct bt_target {
	const char *key;   /* stable name, for scripts */
	const char *label; /* what is measured, with its unit */
	bool at_most;	   /* met when measured <= target (else >=) */
	double target;
	int prec; /* decimals of the figures */
};

static const struct bt_target targets[BT_N] = {
	[BT_SCAN_INVITE] = {"scan-invite", "scanner, INVITE with SDP (1020 B), cycles/msg", true,
			    500, 0},
	[BT_SCAN_INVITE_BYTE] = {"scan-invite-byte", "scanner, INVITE with SDP, cycles/byte", true,
				 0.5, 2},
	[BT_SCAN_VS_OSIP] = {"scan-vs-libosip2", "libosip2 / scanner, same INVITE, x", false, 30,
			     1},
	[BT_FWD_CALL] = {"fwd-call", "forward path per msg (INVITE, 200, BYE), NIC cksum, cycles",
			 true, 1000, 0},
	[BT_REGISTER] = {"register", "REGISTER from known sources, scan+classify+lookup, cycles",
			 true, 600, 0},
	[BT_INVITE] = {"invite-sdp", "INVITE from known sources, scan+classify+lookup, cycles",
		       true, 600, 0},
	[BT_JUNK] = {"junk-64B", "64-byte junk, unknown sources, NIC cksum, cycles", true, 45, 0},
	[BT_FLOOD] = {"scanner-flood", "sipvicious OPTIONS flood, NIC cksum, cycles", true, 100, 0},
};

void bt_clear(double m[BT_N])
{
	for (unsigned i = 0; i < BT_N; i++)
		m[i] = NAN;
}

void bt_print(const double m[BT_N], unsigned runs)
{
	printf("targets (medians of %u runs; measured, not asserted):\n", runs);
	printf("  %-17s %-60s %9s %9s  %s\n", "figure", "what", "target", "measured", "verdict");
	for (unsigned i = 0; i < BT_N; i++) {
		const struct bt_target *t = &targets[i];
		bool met = t->at_most ? m[i] <= t->target : m[i] >= t->target;

		printf("  %-17s %-60s %s %6.*f ", t->key, t->label,
		       t->at_most ? "<=" : ">=", t->prec, t->target);
		if (isnan(m[i]))
			printf("%9s  not run\n", "-");
		else
			printf("%9.*f  %s\n", t->prec, m[i], met ? "met" : "missed");
	}
}
