/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_wake's measurements (bench_wake_runs.c), as main runs them.
 */
#ifndef BENCH_WAKE_RUNS_H
#define BENCH_WAKE_RUNS_H

#include <stdio.h>

#define MAX_RUNS 15 /* a device's port per run: GENS apart */

/* (c): @n calls held at once. 0, or 1 on failure. */
int wake_memory(unsigned n);
/* (a) and (b): @runs runs of @count calls, @burst per loop round, and their
 * medians; every sample also written to @samples unless NULL (borrowed).
 * 0, or 1 on failure. */
int wake_timed(unsigned count, unsigned runs, unsigned burst, FILE *samples);

#endif /* BENCH_WAKE_RUNS_H */
