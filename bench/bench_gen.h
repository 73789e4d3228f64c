/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Realistic bindings for the benchmarks (bench_bind, bench_cluster): number
 * i is the same record every time it is asked for. AOR "u<i>@example.com",
 * a ~90-byte contact with RFC 8599 parameters, +sip.instance "urn:uuid:<36
 * chars>", half APNs (64-hex token, "<team>.<bundle>.voip") and half FCM
 * (~160-char token, project id), a distinct IPv4 source each (i < 2^24).
 */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include <stdint.h>

#include "common/sw_bind.h"

/** One record and the strings it points into. */
struct bench_gen {
	char aor[32], contact[128], instance[48], prid[192], param[40];
	struct sw_bind_rec r;
};

/** A 64-bit mix (splitmix64's finaliser). */
uint64_t bench_mix(uint64_t x);

/** Binding number @p i into @p g; registered 1700000000, for an hour. */
void bench_gen(uint64_t i, struct bench_gen *g);

#endif /* BENCH_GEN_H */
