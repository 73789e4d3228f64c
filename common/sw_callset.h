/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The calls the control plane proxies statefully (docs/design.md §7 "Who forwards
 * what"): a set of Call-ID keys the workers read without locks.
 *
 * A call on the wake path is a transaction the control plane owns: while its
 * Call-ID is in this set, a worker hands up the PBX's INVITE retransmissions,
 * its CANCEL and its ACK for a non-2xx answer (none of which carries our
 * Record-Route's device id) instead of forwarding them statelessly, so a
 * device never gets a call twice through two paths. Requests that follow our
 * Record-Route (ACK for 2xx, BYE, re-INVITE) still go by the device id.
 *
 * Keys are 64-bit hashes of the Call-ID bytes (sw_callset_key()): a collision
 * only hands up a request the control plane then forwards itself. Entries are
 * counted (one per transaction of the call); the control plane is the only
 * writer. Capacity is fixed at creation.
 */
#ifndef SW_CALLSET_H
#define SW_CALLSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sw_hash.h"

struct sw_callset;

/**
 * The key of a Call-ID (its bytes as on the wire, any alignment). Never 0.
 * It reads every byte (~36 cycles for a 36-byte Call-ID, sw_hash64()): on
 * a hot path, see sw_callset_count() != 0 before computing it.
 */
uint64_t sw_callset_key(const void *call_id, size_t len);

/** Key of bound device @p id in a set of devices (dp_ctx.waking). Never 0. */
static inline uint64_t sw_wake_key_device(uint64_t id)
{
	uint64_t k = sw_hash64(&id, sizeof(id), 0x6465766963652d69ull /* "device-i" */);

	return k != 0 ? k : 1;
}

/** Key of a canonical AOR (sw_aor_canon()) in the same set. Never 0. */
static inline uint64_t sw_wake_key_aor(const char *aor, size_t len)
{
	uint64_t k = sw_hash64(aor, len, 0x616f722d6b657921ull /* "aor-key!" */);

	return k != 0 ? k : 1;
}

/** A set for at most @p max distinct keys. @return it, or NULL (out of memory). */
struct sw_callset *sw_callset_create(unsigned max);

/** Free the set. No reader may run. NULL: no-op. */
void sw_callset_free(struct sw_callset *s);

/**
 * Writer: take a reference on @p key (insert it at the first).
 * @return 0, -ENOSPC (@p max distinct keys already), -ENOMEM.
 */
int sw_callset_add(struct sw_callset *s, uint64_t key);

/** Writer: drop a reference (remove the key at the last). @return 0 or -ENOENT. */
int sw_callset_del(struct sw_callset *s, uint64_t key);

/**
 * Read side (an online QSBR thread): is @p key in the set?
 * One relaxed load when the set is empty (the usual case on a worker).
 */
bool sw_callset_has(const struct sw_callset *s, uint64_t key);

/** Distinct keys in the set (relaxed; either side). */
unsigned sw_callset_count(const struct sw_callset *s);

#endif /* SW_CALLSET_H */
