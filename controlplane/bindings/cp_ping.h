/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pings (docs/design.md §1.1, "Alive or asleep"): OPTIONS to each bound
 * device's registered contact, at its source; the answers to them are
 * cp_ping_answer() (cp_internal.h). Internal to controlplane/.
 */
#ifndef CP_PING_H
#define CP_PING_H

#include <stdint.h>

#include "controlplane/cp_internal.h"

/**
 * Ping device @p d if its turn in bindings.ping_interval_s has come at wall
 * second @p now (devices are spread over the interval by id). Counts
 * pings_sent. @p d is borrowed (the caller is on the read side).
 */
void cp_ping_device(struct cp_ctx *cp, const struct sw_device *d, int64_t now);

#endif /* CP_PING_H */
