/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sipwake's clocks, one of each: monotonic time for timers and latencies
 * (never jumps), wall-clock time for what is stored or shown (binding
 * expiry, trace lines). Packet times are TSC (rte_rdtsc()), not here.
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdint.h>
#include <time.h>

/** Monotonic microseconds. */
static inline uint64_t sw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/** Monotonic milliseconds. */
static inline uint64_t sw_mono_ms(void)
{
	return sw_mono_us() / 1000u;
}

/** Wall-clock seconds since the epoch. */
static inline int64_t sw_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/** Wall-clock milliseconds since the epoch. */
static inline int64_t sw_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* SW_CLOCK_H */
