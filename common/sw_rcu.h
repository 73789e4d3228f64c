/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What every RCU table of common/ does the same way: a liburcu QSBR hash
 * table of fixed size, and waiting for the frees it deferred.
 */
#ifndef SW_RCU_H
#define SW_RCU_H

struct cds_lfht;

/**
 * A QSBR cds_lfht with a fixed bucket count for @p max entries (a power of
 * 2, at least 16): no resize threads, memory bounded and known at start-up.
 * @return the table, or NULL (out of memory).
 */
struct cds_lfht *sw_lfht_new(unsigned max);

/**
 * Wait for every pending RCU free (urcu_qsbr_barrier()). Callable from an
 * online QSBR thread: it goes offline meanwhile, since an online reader
 * would hold up the very grace period the barrier waits for.
 */
void sw_rcu_barrier(void);

#endif /* SW_RCU_H */
