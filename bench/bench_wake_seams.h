/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What bench_wake's link seams (bench_wake_seams.c) saw: when the control
 * plane handed each push to pushd, when each INVITE to a device was on the
 * down ring, and the time spent committing the store. The runs reset the
 * counts they time.
 */
#ifndef BENCH_WAKE_SEAMS_H
#define BENCH_WAKE_SEAMS_H

#include <stdint.h>

#include "bench/bench_wake_sip.h"

struct wake_seams {
	struct {
		uint64_t id, tsc;
	} subs[MAX_BURST * 2];
	unsigned n_subs;      /* submits recorded since the last reset */
	uint64_t n_submitted; /* all pushes handed to pushd */
	uint64_t inv_tsc[MAX_BURST * 2];
	unsigned n_inv;	      /* INVITEs to devices since the last reset */
	uint64_t sync_cycles; /* in cp_bind_sync() since the last reset */
};
extern struct wake_seams seams;

#endif /* BENCH_WAKE_SEAMS_H */
