/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What bench_wake's parts run on (bench_wake_cp.c): the worker pipeline
 * harness, the control plane under test with its store, and pushd.
 */
#ifndef BENCH_WAKE_CP_H
#define BENCH_WAKE_CP_H

#include <stdbool.h>

#include "tests/dp/dp_harness.h"

struct cp_ctx;
struct pd;

/* Set up by main and by wake_cp_new(). */
struct wake {
	struct dph h;	   /* the worker pipeline harness (tests/dp) */
	struct cp_ctx *cp; /* the control plane, from wake_cp_new() */
	struct pd *pd;	   /* pushd, started by main */
	bool no_store;	   /* --no-store: (b) without SQLite, for comparison only */
};
extern struct wake wake;

/* A control plane with binding tables for @devices and @held calls, a fresh
 * store (synchronous=NORMAL, as sipwake's default) and pushd. 0 or -errno. */
int wake_cp_new(unsigned devices, unsigned held);
void wake_cp_free(void);
/* What went wrong, from the counters (to stderr). */
void wake_dump_counters(void);
/* The directory of the stores: made before the first wake_cp_new(), removed
 * with every store in it at the end. */
int wake_stores_make(void);
void wake_stores_remove(void);

#endif /* BENCH_WAKE_CP_H */
