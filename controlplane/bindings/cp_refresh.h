/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which registrations already had their pre-expiry refresh push (RFC 8599
 * §5.6.1.1; cp_bind.c sends them): one entry per device id, naming the
 * registration pushed (registered_at, expires_at) and when. A refresh or a
 * re-registration gives the device another registration, so the entry no
 * longer matches it and the next one is pushed again. Internal to
 * controlplane/; one thread (the control plane).
 *
 * Bounded: an entry is live until the expiry of the registration it names
 * (a device has at most one), and dead ones are dropped whenever the table
 * is three quarters used, so it holds about bindings.max_devices entries in
 * a table of twice that many slots (32 bytes each: 4 MB at the default
 * 65536 devices). No DPDK: the unit test links it alone.
 */
#ifndef CP_REFRESH_H
#define CP_REFRESH_H

#include <stdint.h>

/** One device's last refresh push. */
struct cp_refresh_entry {
	uint64_t id;	       /**< device id (sw_device.id); never 0 */
	int64_t registered_at; /**< the registration pushed (wall clock, s) */
	int64_t expires_at;    /**< ... and its expiry: the entry is dead after it */
	int64_t sent_at;       /**< when the push went (wall clock, s) */
};

struct cp_refresh;

/** A table for @p max_devices devices. @return it, or NULL (out of memory). */
struct cp_refresh *cp_refresh_create(unsigned max_devices);

/** Free @p r. NULL is a no-op. */
void cp_refresh_free(struct cp_refresh *r);

/**
 * The entry of device @p id, live or not (the caller compares registrations),
 * or NULL. Borrowed: valid until the next cp_refresh_note().
 */
const struct cp_refresh_entry *cp_refresh_find(const struct cp_refresh *r, uint64_t id);

/**
 * Note @p e (copied), replacing the entry of its device.
 * @param now_s  wall clock: entries whose expires_at <= it may be dropped.
 * @return 0, -EINVAL (id 0), -ENOSPC (the table is full of live entries:
 *         more devices in their refresh window than it was made for) or
 *         -ENOMEM (while dropping dead entries).
 */
int cp_refresh_note(struct cp_refresh *r, const struct cp_refresh_entry *e, int64_t now_s);

/** Forget device @p id's entry (a push that could not be sent after all). */
void cp_refresh_forget(struct cp_refresh *r, uint64_t id);

/** Slots in use, live or dead (tests). */
unsigned cp_refresh_used(const struct cp_refresh *r);

#endif /* CP_REFRESH_H */
