/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A device's flow (RFC 5626 §3.1; docs/streams.md, "Flows"): the
 * connection a device registered over is where its calls go. When that
 * connection ends, the device is asleep at once: its next call is pushed
 * instead of written into a socket that is gone. The binding itself stays
 * (contact, push address, expiry): only the connection is forgotten, in the
 * tables; the store never held it.
 *
 * The connections open now, as the streams thread has told: each one's
 * first message makes it known, its end forgets it. A REGISTER whose
 * connection ended while the PBX was answering binds the device asleep,
 * not to a connection no later end will ever clear.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <rte_cycles.h>

#include "common/sw_log.h"
#include "controlplane/bindings/cp_bind.h"

/* The set of open connection ids: open addressing, linear probing,
 * backward-shift deletion (no tombstones), doubled past half full. */
struct cp_flows {
	uint64_t *slot; /* 0: empty (ids start at 1) */
	uint32_t mask, n;
};

static uint32_t slot_of(const struct cp_flows *f, uint64_t id)
{
	return (uint32_t)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & f->mask;
}

static int grow(struct cp_flows *f)
{
	uint32_t cap = f->slot != NULL ? (f->mask + 1) * 2 : 1024;
	struct cp_flows g = {calloc(cap, sizeof(uint64_t)), cap - 1, 0};

	if (g.slot == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; f->slot != NULL && i <= f->mask; i++) {
		if (f->slot[i] == 0)
			continue;
		uint32_t j = slot_of(&g, f->slot[i]);

		while (g.slot[j] != 0)
			j = (j + 1) & g.mask;
		g.slot[j] = f->slot[i];
		g.n++;
	}
	free(f->slot);
	*f = g;
	return 0;
}

static int64_t find(const struct cp_flows *f, uint64_t id)
{
	if (f == NULL || f->slot == NULL)
		return -1;
	for (uint32_t i = slot_of(f, id);; i = (i + 1) & f->mask) {
		if (f->slot[i] == id)
			return i;
		if (f->slot[i] == 0)
			return -1;
	}
}

void cp_flow_seen(struct cp_ctx *cp, uint64_t conn)
{
	struct cp_flows *f = cp->flows;
	uint32_t i;

	if (f == NULL && (f = cp->flows = calloc(1, sizeof(*f))) == NULL)
		return;
	if (conn == 0 || find(f, conn) >= 0)
		return;
	if ((f->n + 1) * 2 > (f->slot != NULL ? f->mask + 1 : 0) && grow(f) != 0)
		return; /* out of memory: its REGISTER binds it asleep */
	for (i = slot_of(f, conn); f->slot[i] != 0; i = (i + 1) & f->mask)
		;
	f->slot[i] = conn;
	f->n++;
}

bool cp_flow_open(const struct cp_ctx *cp, uint64_t conn)
{
	return find(cp->flows, conn) >= 0;
}

static void forget(struct cp_flows *f, uint64_t conn)
{
	int64_t at = find(f, conn);
	uint32_t i, j;

	if (at < 0)
		return;
	/* Backward shift: move up each later entry its probe may skip. */
	for (i = (uint32_t)at, j = (i + 1) & f->mask; f->slot[j] != 0; j = (j + 1) & f->mask) {
		uint32_t home = slot_of(f, f->slot[j]);

		if (((j - home) & f->mask) >= ((j - i) & f->mask)) {
			f->slot[i] = f->slot[j];
			i = j;
		}
	}
	f->slot[i] = 0;
	f->n--;
}

void cp_flow_fini(struct cp_ctx *cp)
{
	if (cp->flows != NULL)
		free(cp->flows->slot);
	free(cp->flows);
	cp->flows = NULL;
}

/* Two accounts of one app share a connection; more is odd, and each
 * further device would stay "alive" until its REGISTER comes again. */
#define MAX_ON_CONN 16

unsigned cp_flow_devices(const struct cp_ctx *cp, const struct sw_ip *peer, uint16_t port,
			 uint64_t conn, uint64_t *ids, unsigned max)
{
	uint64_t on[MAX_ON_CONN];
	unsigned n = sw_bind_ids_on_src(cp->dp->bind, peer, port, on, MAX_ON_CONN), got = 0;

	/* Not every device at the address and port: the kernel reuses ports,
	 * so one there may have registered over another connection, since
	 * closed, or since made anew. */
	for (unsigned i = 0; i < n && got < max; i++) {
		const struct sw_device *d = sw_bind_by_id(cp->dp->bind, on[i]);

		if (d != NULL && d->conn == conn)
			ids[got++] = d->id;
	}
	return got;
}

unsigned cp_flow_closed(struct cp_ctx *cp, const struct sw_ip *peer, uint16_t port, uint64_t conn)
{
	uint64_t ids[MAX_ON_CONN];
	unsigned n = cp_flow_devices(cp, peer, port, conn, ids, MAX_ON_CONN), asleep = 0;

	if (cp->flows != NULL)
		forget(cp->flows, conn);
	for (unsigned i = 0; i < n; i++) {
		const struct sw_device *d = sw_bind_by_id(cp->dp->bind, ids[i]);
		struct sw_bind_rec rec;

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
