/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control plane's server transactions by their RFC 3261 §17.2.3 key:
 * the sender's address and port and its top Via branch (REGISTERs relayed,
 * INVITEs held). A fixed array of slots, owned by the caller, each holding
 * a struct sw_txkey at the same offset; this index adds hash chains over
 * them and a stack of free slots. No allocation after sw_txidx_init(), no
 * lock: one thread (the control plane) owns it.
 */
#ifndef SW_TXIDX_H
#define SW_TXIDX_H

#include <stddef.h>
#include <stdint.h>

#include "common/sw_ip.h"

#define SW_TX_NONE	 UINT32_MAX
#define SW_TX_BRANCH_MAX 64

/** A server transaction's key, embedded in the caller's slot. */
struct sw_txkey {
	struct sw_ip ip;
	uint16_t port;
	uint8_t branch_len;
	char branch[SW_TX_BRANCH_MAX];
};

struct sw_txidx {
	uint32_t max, mask, free_top;
	uint32_t n_used; /* slots taken; other threads may read it (relaxed load) */
	uint32_t *buckets, *next, *hash, *free_slots;
	const uint8_t *keys; /* slot i's key: keys + i * stride */
	size_t stride;
};

/**
 * Index @p max slots whose keys are at @p keys, @p stride bytes apart
 * (SW_TXIDX_INIT() works both out from an array and a member).
 * @return 0 or -ENOMEM.
 */
int sw_txidx_init(struct sw_txidx *x, uint32_t max, const void *keys, size_t stride);
#define SW_TXIDX_INIT(x, max, array, member)                                             \
	sw_txidx_init((x), (max),                                                        \
		      (const uint8_t *)(array) + offsetof(__typeof__(*(array)), member), \
		      sizeof(*(array)))
void sw_txidx_fini(struct sw_txidx *x);

/** The slot whose key is (@p ip, @p port, @p branch), or SW_TX_NONE. */
uint32_t sw_txidx_find(const struct sw_txidx *x, const struct sw_ip *ip, uint16_t port,
		       const char *branch, size_t len);

/** A free slot, taken (its key still to be written), or SW_TX_NONE when all are used. */
uint32_t sw_txidx_take(struct sw_txidx *x);
/** Index slot @p slot by the key now written in it. */
void sw_txidx_link(struct sw_txidx *x, uint32_t slot);
/** Unlink slot @p slot (if linked) and give it back. */
void sw_txidx_put(struct sw_txidx *x, uint32_t slot);

/** Write a key into @p k. @return 0, or -E2BIG for a branch too long to keep. */
int sw_txkey_set(struct sw_txkey *k, const struct sw_ip *ip, uint16_t port, const char *branch,
		 size_t len);

#endif /* SW_TXIDX_H */
