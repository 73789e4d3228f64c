/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A single-producer / single-consumer rte_ring on ordinary memory, for the
 * threads of their own (pushd, the streams thread) and the control plane:
 * rte_ring_init() needs no EAL and no hugepages, so those threads' tests
 * and tools run without one (docs/design.md §3).
 */
#ifndef SW_RING_H
#define SW_RING_H

struct rte_ring;

/**
 * A ring of @p size slots (a power of two) named @p name.
 * @param mem  set to the memory to free() when the ring is no longer used.
 * @return the ring, or NULL (bad size, out of memory).
 */
struct rte_ring *sw_ring_plain(unsigned size, const char *name, void **mem);

#endif /* SW_RING_H */
