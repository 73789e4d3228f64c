/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The filter's stages that need state or tables: source class (PBX prefix,
 * bound source), token buckets for unknown sources, scanner signatures.
 *
 * Token buckets are per worker and need no lock: RSS hashes the IP pair only
 * (dp_port.c), so every datagram of one source IP reaches the same worker,
 * and its bucket there is exact. The global bucket is split evenly over
 * the workers (filter.unknown_global_rate / workers each).
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "dataplane/dp_internal.h"

#define RL_WAYS 4

struct rl_entry {
	struct sw_ip ip;
	uint64_t last_tsc; /* 0: free */
	uint64_t credit;   /* in TSC ticks: cost ticks buy one request */
};

struct dp_ratelimit {
	uint32_t set_mask;
	uint64_t hz;
	/* Rates the costs below were computed from: a new policy recomputes. */
	uint32_t rate, burst, grate, gburst;
	uint64_t cost, cap;
	uint64_t g_cost, g_cap, g_credit, g_last;
	unsigned n_workers;
	struct rl_entry e[];
};

struct dp_ratelimit *dp_ratelimit_create(uint32_t entries, unsigned n_workers, int socket)
{
	uint32_t sets = rte_align32pow2(RTE_MAX(entries / RL_WAYS, 1u));
	struct dp_ratelimit *rl;

	rl = rte_zmalloc_socket("sw_rl", sizeof(*rl) + (size_t)sets * RL_WAYS * sizeof(rl->e[0]),
				RTE_CACHE_LINE_SIZE, socket);
	if (rl == NULL)
		return NULL;
	rl->set_mask = sets - 1;
	rl->hz = rte_get_tsc_hz();
	rl->n_workers = n_workers;
	return rl;
}

void dp_ratelimit_free(struct dp_ratelimit *rl)
{
	rte_free(rl);
}

static void rl_configure(struct dp_ratelimit *rl, const struct dp_policy *pol)
{
	uint32_t grate = RTE_MAX(pol->global_rate / rl->n_workers, 1u);
	uint32_t gburst = RTE_MAX(pol->global_burst / rl->n_workers, 1u);

	rl->rate = pol->unknown_rate;
	rl->burst = pol->unknown_burst;
	rl->grate = pol->global_rate;
	rl->gburst = pol->global_burst;
	rl->cost = rl->hz / pol->unknown_rate;
	rl->cap = rl->cost * pol->unknown_burst;
	rl->g_cost = rl->hz / grate;
	rl->g_cap = rl->g_cost * gburst;
	rl->g_credit = rl->g_cap;
}

static inline bool bucket_take(uint64_t *credit, uint64_t *last, uint64_t now, uint64_t cost,
			       uint64_t cap)
{
	uint64_t c = *credit + (now - *last);

	*last = now;
	if (c > cap)
		c = cap;
	if (c < cost) {
		*credit = c;
		return false;
	}
	*credit = c - cost;
	return true;
}

enum dp_drop dp_ratelimit_take(struct dp_ratelimit *rl, const struct dp_policy *pol,
			       const struct sw_ip *ip, uint64_t now)
{
	struct rl_entry *set, *e = NULL, *victim;

	if (unlikely(rl->rate != pol->unknown_rate || rl->burst != pol->unknown_burst ||
		     rl->grate != pol->global_rate || rl->gburst != pol->global_burst))
		rl_configure(rl, pol);

	set = &rl->e[(rte_jhash_32b((const uint32_t *)(const void *)ip->a, 4, 0) & rl->set_mask) *
		     RL_WAYS];
	victim = &set[0];
	for (unsigned i = 0; i < RL_WAYS; i++) {
		if (set[i].last_tsc != 0 && memcmp(set[i].ip.a, ip->a, 16) == 0) {
			e = &set[i];
			break;
		}
		/* Free slots have last_tsc 0, so they are the oldest of all. */
		if (set[i].last_tsc < victim->last_tsc)
			victim = &set[i];
	}
	if (e == NULL) {
		/* A source we do not track (new, or evicted as the oldest): full bucket. */
		e = victim;
		e->ip = *ip;
		e->last_tsc = now;
		e->credit = rl->cap;
	}
	if (!bucket_take(&e->credit, &e->last_tsc, now, rl->cost, rl->cap))
		return DP_D_FILTER_RATE_SOURCE;
	if (!bucket_take(&rl->g_credit, &rl->g_last, now, rl->g_cost, rl->g_cap)) {
		/* Refund: the source's own bucket did not cause this drop. */
		e->credit += rl->cost;
		return DP_D_FILTER_RATE_GLOBAL;
	}
	return DP_D_MAX;
}

static inline bool in_pbx_prefix(const struct dp_policy *pol, const struct sw_ip *ip)
{
	uint64_t w[2];

	memcpy(w, ip->a, 16);
	/* ~2 cycles per prefix: two masked 64-bit compares. */
	for (unsigned i = 0; i < pol->n_pbx; i++) {
		const struct dp_prefix *p = &pol->pbx[i];

		if ((w[0] & p->mask[0]) == p->net[0] && (w[1] & p->mask[1]) == p->net[1])
			return true;
	}
	return false;
}

bool dp_is_pbx_addr(const struct dp_wstate *s, const struct sw_ip *ip)
{
	const struct dp_policy *pol = s->pol;

	if (in_pbx_prefix(pol, ip))
		return true;
	for (unsigned i = 0; i < pol->n_servers; i++)
		if (sw_ip_eq(&pol->servers[i].ip, ip))
			return true;
	return false;
}

void dp_policy_servers_from(struct dp_policy *pol, const struct dp_params *p)
{
	pol->n_servers = p->n_servers;
	memcpy(pol->servers, p->servers, sizeof(pol->servers));
}

enum dp_src_class dp_src_classify(const struct dp_wstate *s, const struct dp_l4info *from,
				  struct sw_src **bound)
{
	if (in_pbx_prefix(s->pol, &from->src))
		return DP_SRC_PBX;
	*bound = sw_src_lookup(s->ctx->src, &from->src, from->sport);
	return *bound != NULL ? DP_SRC_BOUND : DP_SRC_UNKNOWN;
}

bool dp_ua_is_scanner(const struct dp_policy *pol, const uint8_t *msg, struct dp_sip_slice ua)
{
	char low[256];
	uint32_t n = RTE_MIN((uint32_t)ua.len, (uint32_t)sizeof(low));

	if (pol->n_ua == 0 || n == 0)
		return false;
	/* Lowercase once (ASCII only: patterns are printable ASCII), then memmem. */
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = msg[ua.off + i];

		low[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	for (unsigned i = 0; i < pol->n_ua; i++)
		if (memmem(low, n, pol->ua[i].s, pol->ua[i].len) != NULL)
			return true;
	return false;
}

void dp_prefix_set(struct dp_prefix *p, const uint8_t addr[16], uint8_t plen)
{
	uint8_t mask[16] = {0};

	for (unsigned bit = 0; bit < plen && bit < 128; bit++)
		mask[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	memcpy(p->mask, mask, 16);
	memcpy(p->net, addr, 16);
	p->net[0] &= p->mask[0];
	p->net[1] &= p->mask[1];
}
