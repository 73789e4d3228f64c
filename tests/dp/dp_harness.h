/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A dataplane without a NIC, for tests and benchmarks: EAL with --no-huge,
 * one net_ring port whose TX ring the caller reads, and the worker's own
 * pipeline (dp_rx_one) run on the calling thread on frames built here.
 * What the pipeline hands up is on ctx->workers[0].up, what it sends on
 * dph.tx; counters are ctx->workers[0].ctr. ctx->bind is NULL unless the
 * caller creates binding tables (dph_fini() frees them); ctx->banned,
 * ctx->held and ctx->waking are there, empty, as sipwake runs.
 */
#ifndef DP_HARNESS_H
#define DP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp_internal.h"

#define DPH_SW_IP4  "198.18.0.1"
#define DPH_SW_IP6  "2001:db8:5e::1"
#define DPH_PBX_IP4 "198.18.0.5"
#define DPH_PBX_IP6 "2001:db8:5e::5"

struct dph {
	struct dp_ctx *ctx;
	struct dp_wstate s; /* the worker's private state, on this thread */
	struct rte_ring *rx, *tx;
	uint16_t port;
	struct rte_ether_addr peer_mac;
};

/** EAL (once per process) and a one-worker dataplane with the default policy. 0 or -errno. */
int dph_init(struct dph *h, const char *prefix);
void dph_fini(struct dph *h);

/** What a frame carries. */
struct dph_pkt {
	const char *src; /* source address, v4 or v6 text */
	uint16_t sport;
	uint16_t dport; /* 0: 5060 */
	const void *payload;
	uint32_t len;
	uint16_t vlan;	/* 0: untagged, else 802.1Q VID */
	uint16_t frag;	/* 0: one frame, else IP payload bytes per fragment (multiple of 8) */
	bool bad_cksum; /* corrupt the UDP checksum */
};

/**
 * Build the frames of @p p (several when fragmented) into @p out.
 * @return the number of frames (<= max), or -errno.
 */
int dph_build(struct dph *h, const struct dph_pkt *p, struct rte_mbuf **out, unsigned max);

/** Run @p n frames through the worker pipeline at time @p tsc, then flush TX. */
void dph_rx(struct dph *h, struct rte_mbuf **m, unsigned n, uint64_t tsc);

/** Dequeue one frame the pipeline sent (NULL if none). Caller frees it. */
struct rte_mbuf *dph_sent(struct dph *h);

/** Dequeue one mbuf the pipeline handed up (NULL if none). Caller frees it. */
struct rte_mbuf *dph_up(struct dph *h);

/** The control plane's handle of the harness's dataplane, filled again from
 *  h->ctx (a test or benchmark may have set ctx->bind, ctx->p, ... after
 *  dph_init()). */
struct dp_link *dph_link(struct dph *h);

/** Counter snapshot helpers. */
uint64_t dph_drop(const struct dph *h, enum dp_drop d);
uint64_t dph_count(const struct dph *h, enum dp_counter c);

/** Text address into sw_ip. */
struct sw_ip dph_ip(const char *text);

#endif /* DP_HARNESS_H */
