/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The filter's stages that read the policy or the tables: source class (PBX
 * prefix, bound source) and scanner signatures. The budgets of unknown
 * sources are dp_admit.c's.
 */
#include <string.h>

#include <rte_common.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dataplane/dp_internal.h"

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

bool dp_is_peer_addr(const struct dp_params *p, const struct sw_ip *ip)
{
	for (unsigned i = 0; i < p->n_peers; i++)
		if (sw_ip_eq(&p->peers[i].ip, ip))
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
	const struct dp_params *p = &s->ctx->p;

	if (in_pbx_prefix(s->pol, &from->src))
		return DP_SRC_PBX;
	/* A few compares when edges are clustered, none when not. */
	for (unsigned i = 0; i < p->n_peers; i++)
		if (sw_ip_eq(&p->peers[i].ip, &from->src) && p->peers[i].port == from->sport)
			return DP_SRC_PEER;
	*bound = sw_src_lookup(s->ctx->src, &from->src, from->sport);
	return *bound != NULL ? DP_SRC_BOUND : DP_SRC_UNKNOWN;
}

/*
 * Lowercase once (ASCII only: patterns are printable ASCII), then look for
 * each pattern's first byte and compare the rest. User-Agent values are
 * short: this beats memmem(), whose setup costs more than the search here
 * (~400 instructions with memmem() on a 16-byte "friendly-scanner", ~235
 * now; callgrind, bench_dp --mix scanner-spoofed).
 */
static bool ua_matches(const struct dp_policy *pol, const uint8_t *ua, uint32_t len)
{
	char low[256];
	uint32_t n = RTE_MIN(len, (uint32_t)sizeof(low));

	for (uint32_t i = 0; i < n; i++)
		low[i] = (char)(ua[i] >= 'A' && ua[i] <= 'Z' ? ua[i] | 0x20 : ua[i]);
	for (unsigned k = 0; k < pol->n_ua; k++) {
		const struct dp_pattern *p = &pol->ua[k];

		if (p->len == 0 || p->len > n)
			continue;
		for (uint32_t i = 0; i + p->len <= n; i++)
			if (low[i] == p->s[0] && memcmp(&low[i + 1], &p->s[1], p->len - 1u) == 0)
				return true;
	}
	return false;
}

bool dp_ua_is_scanner(const struct dp_policy *pol, const uint8_t *msg, struct sip_slice ua)
{
	if (pol->n_ua == 0 || ua.len == 0)
		return false;
	return ua_matches(pol, msg + ua.off, ua.len);
}

/* Where the next line starting with 'U' or 'u' begins (its '\n'), from
 * @p from on; @p len when none. 16 bytes a step with SSE2 (every x86-64
 * has it): a '\n' and, one byte later, 'U' or 'u'. */
static uint32_t next_u_line(const uint8_t *p, uint32_t len, uint32_t from)
{
	uint32_t i = from;

#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), up = _mm_set1_epi8('U'), lo = _mm_set1_epi8('u');

	/* Both loads stay inside [p, p + len): i + 16 < len. */
	for (; i + 17 <= len; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		__m128i u = _mm_or_si128(_mm_cmpeq_epi8(b, up), _mm_cmpeq_epi8(b, lo));
		unsigned bits =
			(unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, nl), u));

		if (bits != 0)
			return i + (uint32_t)__builtin_ctz(bits);
	}
#endif
	for (; i + 1 < len; i++)
		if (p[i] == '\n' && (p[i + 1] | 0x20) == 'u')
			return i;
	return len;
}

/*
 * A scanner's User-Agent before the scan: the first line that starts with
 * "User-Agent:" (any case, as scanners write it: no space before the colon)
 * found without a scan, its value matched. A false "no" only costs the scan
 * (dp_ua_is_scanner() then decides); a false "yes" needs such a line with a
 * scanner's name in it.
 * ~660 instructions on a 403-byte sipvicious OPTIONS (callgrind, bench_dp
 * --mix scanner-spoofed): ~260 the SSE2 search, ~230 the match. The whole
 * frame, L2 to drop: ~340 cycles with NIC checksums.
 */
bool dp_ua_is_scanner_raw(const struct dp_policy *pol, const uint8_t *msg, uint16_t len)
{
	static const char hdr[] = "user-agent:"; /* '-' and ':' have bit 5 set too */
	const uint32_t hl = sizeof(hdr) - 1;

	if (pol->n_ua == 0)
		return false;
	for (uint32_t i = next_u_line(msg, len, 0); i < len; i = next_u_line(msg, len, i + 1)) {
		const uint8_t *p = msg + i + 1, *e, *end = msg + len;
		uint32_t k = 0;

		if (len - i - 1 < hl)
			return false;
		while (k < hl && (p[k] | 0x20) == (uint8_t)hdr[k])
			k++;
		if (k < hl)
			continue;
		for (p += hl; p < end && (*p == ' ' || *p == '\t');)
			p++;
		if (p >= end)
			return false;
		e = memchr(p, '\r', (size_t)(uint32_t)(end - p));
		if (e == NULL)
			e = end;
		return e > p && ua_matches(pol, p, (uint32_t)(e - p));
	}
	return false;
}
