/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A device's flow (RFC 5626 §3.1; docs/streams.md, "Flows"): the
 * connection a device registered over is where its calls go. When that
 * connection ends, the device is asleep at once: its next call is pushed
 * instead of written into a socket that is gone. The binding itself stays
 * (contact, push address, expiry): only the connection is forgotten, in the
 * tables; the store never held it.
 */
#include <inttypes.h>

#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"

/* Two accounts of one app share a connection; more is odd, and each
 * further device would stay "alive" until its REGISTER comes again. */
#define MAX_ON_CONN 16

unsigned cp_flow_closed(struct cp_ctx *cp, const struct sw_ip *peer, uint16_t port, uint64_t conn)
{
	uint64_t ids[MAX_ON_CONN];
	unsigned n = sw_bind_ids_on_src(cp->dp->bind, peer, port, ids, MAX_ON_CONN), asleep = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct sw_device *d = sw_bind_by_id(cp->dp->bind, ids[i]);
		struct sw_bind_rec rec;

		/* Registered since over another connection from the same
		 * address and port (a reconnect the kernel gave the same
		 * port): that one is its flow now. */
		if (d == NULL || d->conn != conn)
			continue;
		sw_bind_rec_of(d, &rec);
		rec.conn = 0;
		if (sw_bind_replace(cp->dp->bind, d->id, &rec, rte_rdtsc()) == 0) {
			asleep++;
			CP_LOG(DEBUG, "%s (device %" PRIu64 ") asleep: its %s connection closed",
			       d->aor, d->id, sw_tp_name(d->tp));
		}
	}
	cp_count(cp, CP_C_STREAM_CLOSED_ASLEEP, asleep);
	return asleep;
}
