/* SPDX-License-Identifier: BSD-3-Clause */
/* Control-plane internals shared by its .c files; not part of the contract. */
#ifndef CP_INTERNAL_H
#define CP_INTERNAL_H

#include <rte_mbuf.h>

#include "controlplane/cp.h"

#define CP_HOLD_MAX 64 /* upper bound of neighbours.queue */

/** A next hop being resolved, with the frames waiting for it. */
struct cp_pending {
	bool used;
	bool refresh; /* re-probing a known but stale entry; nothing held */
	uint8_t iface;
	uint8_t worker; /* whose down ring sends the held frames */
	uint8_t probes; /* sent so far */
	uint8_t n;
	struct sw_ip ip;
	struct rte_ether_addr known_mac; /* refresh: probe unicast to it */
	uint64_t next_probe_tsc;
	struct rte_mbuf *held[CP_HOLD_MAX];
};

struct cp_ctx {
	struct dp_ctx *dp;
	struct cp_config cfg;
	uint64_t hz;
	uint64_t retry_tsc, lifetime_tsc;
	unsigned n_pending_max;
	struct cp_pending *pending;
	char cfg_path[4096];	 /* config file, for reloads */
	uint64_t cfg_generation; /* reloads applied; telemetry reads it relaxed */
	uint64_t c[CP_C_MAX];	 /* single writer: this thread */
	uint64_t drop[CP_D_MAX];
};

static inline void cp_count(struct cp_ctx *cp, enum cp_counter c, uint64_t n)
{
	__atomic_store_n(&cp->c[c], cp->c[c] + n, __ATOMIC_RELAXED);
}

static inline void cp_count_drop(struct cp_ctx *cp, enum cp_drop d, uint64_t n)
{
	__atomic_store_n(&cp->drop[d], cp->drop[d] + n, __ATOMIC_RELAXED);
}

/* cp_loop.c */
void cp_send(struct cp_ctx *cp, unsigned worker, unsigned ifx, struct rte_mbuf *m);

/* cp_neigh.c */
int cp_neigh_init(struct cp_ctx *cp);
void cp_neigh_fini(struct cp_ctx *cp);
void cp_neigh_arp_in(struct cp_ctx *cp, struct rte_mbuf *m);
void cp_neigh_nd_in(struct cp_ctx *cp, struct rte_mbuf *m);
void cp_neigh_hold(struct cp_ctx *cp, struct rte_mbuf *m);

/* cp_reload.c: run a requested reload, if any (control-plane thread). */
void cp_reload_poll(struct cp_ctx *cp);

/* cp_sip.c: a DP_UP_SIP entry from a worker; takes @p m. */
void cp_sip_in(struct cp_ctx *cp, struct rte_mbuf *m);
void cp_neigh_tick(struct cp_ctx *cp, uint64_t now);
void cp_neigh_age(struct cp_ctx *cp, uint64_t now);

#endif /* CP_INTERNAL_H */
