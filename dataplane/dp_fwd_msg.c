/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The message a worker forwards (dp_fwd.c decides what goes in it).
 *
 * The received message is read-only input. What goes out is described as a
 * short list of edits on it (a range removed, or replaced by a few bytes of
 * our own: our Via, Record-Route, Max-Forwards, received=); dp_fwd_tx()
 * applies them while it copies the pieces straight into the frames that
 * leave, so every byte is copied once and nothing is built twice.
 *
 * Frames are single-segment mbufs of ctx->pool. A datagram whose IP packet
 * exceeds the interface MTU (SIP INVITEs with SDP grow past it once our Via
 * and Record-Route are in; a reassembled one can be 16 KiB) is cut into IP
 * fragments here (RFC 791 §2.3; RFC 8200 §4.5 with a fragment header),
 * at min(MTU, what one mbuf holds): the port never sees a chain, so no
 * multi-segment TX offload is needed. The UDP checksum covers the whole
 * datagram, so it is summed over every fragment's piece and written into the
 * first one last.
 */
#include <errno.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/dp_internal.h"
#include "sip/sip_wbuf.h"

#define TTL_OUT 64
/* 64 KiB of UDP in the smallest fragments (IPv6 minimum MTU 1280) is 54. */
#define MAX_FRAGS 56

void dp_fwd_msg_init(struct dp_fwd_msg *fm, const uint8_t *msg, const struct sip_msg *sm)
{
	uint32_t start = 0;

	/* §7.5: the CRLFs a start line may follow are not forwarded. */
	while (start + 1 < sm->msg_len && msg[start] == '\r' && msg[start + 1] == '\n')
		start += 2;
	fm->msg = msg;
	fm->start = (uint16_t)start;
	fm->end = sm->msg_len; /* surplus after the body (§18.3) is not forwarded */
	fm->n = 0;
	fm->overflow = false;
	fm->used = 0;
}

uint32_t dp_fwd_skip_lws(const uint8_t *msg, uint32_t pos, uint32_t end)
{
	for (;;) {
		if (pos < end && (msg[pos] == ' ' || msg[pos] == '\t'))
			pos++;
		else if (pos + 3 <= end && msg[pos] == '\r' && msg[pos + 1] == '\n' &&
			 (msg[pos + 2] == ' ' || msg[pos + 2] == '\t'))
			pos += 3;
		else
			return pos;
	}
}

/* First byte of the line after header field @p i (its folds included). */
static uint32_t line_end(const struct sip_msg *sm, unsigned i)
{
	return i + 1u < sm->nhdrs ? sm->hdrs[i + 1].name.off : (uint32_t)sm->hdrs_end - 2;
}

void dp_fwd_cut_first(struct dp_fwd_msg *fm, const struct sip_msg *sm, unsigned i, uint32_t next)
{
	const struct sip_hdr *h = &sm->hdrs[i];

	if (next < (uint32_t)h->value.off + h->value.len)
		dp_fwd_edit(fm, h->value.off, next, NULL, 0);
	else
		dp_fwd_edit(fm, h->name.off, line_end(sm, i), NULL, 0);
}

/* One parameter of a ";" list: [s, e), its name [s, name_end). */
struct param {
	uint32_t s, name_end, e;
};

/* First @p a or @p b in [pos, end), or end: 16 bytes a step (parameter lists
 * run to 100+ bytes with push tokens in them). */
static inline uint32_t find2(const uint8_t *msg, uint32_t pos, uint32_t end, uint8_t a, uint8_t b)
{
#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);

	for (; pos + 16 <= end; pos += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(msg + pos));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));

		if (m != 0)
			return pos + (uint32_t)__builtin_ctz(m);
	}
#endif
	while (pos < end && msg[pos] != a && msg[pos] != b)
		pos++;
	return pos;
}

/*
 * The parameter at *pos of the ";" list [*pos, end), LWS before it skipped;
 * *pos moves past its ";". A quoted value (field parameters such as
 * +sip.instance) may hold ";": it is stepped over.
 */
static inline bool next_param(const uint8_t *msg, uint32_t *pos, uint32_t end, struct param *p)
{
	uint32_t e;

	if (*pos >= end)
		return false;
	p->s = dp_fwd_skip_lws(msg, *pos, end);
	e = find2(msg, p->s, end, ';', '"');
	while (e < end && msg[e] == '"') {
		for (e++; e < end && msg[e] != '"'; e++)
			if (msg[e] == '\\')
				e++;
		e = e < end ? find2(msg, e + 1, end, ';', '"') : end;
	}
	p->e = e < end ? e : end;
	/* The name runs to "=" or to the LWS before it. */
	p->name_end = find2(msg, p->s, p->e, '=', ' ');
	while (p->name_end > p->s && (msg[p->name_end - 1] == '\t' || msg[p->name_end - 1] == '\r'))
		p->name_end--;
	*pos = p->e + 1;
	return true;
}

void dp_fwd_strip_pn(struct dp_fwd_msg *fm, uint32_t off, uint32_t end)
{
	const uint8_t *msg = fm->msg;
	uint32_t app_s = 0, app_e = 0, pos = off;
	bool legacy = false;
	struct param p;

	while (next_param(msg, &pos, end, &p)) {
		switch (sip_pn_name(msg + p.s, p.name_end - p.s)) {
		case SIP_PN_NAME_TYPE:
			legacy = true;
			/* fall through */
		case SIP_PN_NAME_ALWAYS:
			/* With the ";" before it: every parameter of the list has one. */
			dp_fwd_edit(fm, p.s - 1, p.e, NULL, 0);
			break;
		case SIP_PN_NAME_APP_ID:
			app_s = p.s - 1;
			app_e = p.e;
			break;
		default:
			break;
		}
	}
	if (legacy && app_e != 0)
		dp_fwd_edit(fm, app_s, app_e, NULL, 0);
}

/* Edits in input order; a handful, so insertion sort. An insertion sorts
 * before a removal at the same offset (off == end sorts first). */
static void sort_edits(struct dp_fwd_msg *fm)
{
	for (unsigned i = 1; i < fm->n; i++) {
		struct dp_fwd_edit e = fm->e[i];
		unsigned j = i;

		while (j > 0 && (fm->e[j - 1].off > e.off ||
				 (fm->e[j - 1].off == e.off && fm->e[j - 1].end > e.end))) {
			fm->e[j] = fm->e[j - 1];
			j--;
		}
		fm->e[j] = e;
	}
}

/*
 * Writes the UDP datagram across the fragments' payload areas: a writer
 * (sip/sip_wbuf.h) on one fragment's area, the next fragment's when it is
 * full. dp_fwd_tx() sized the fragments for the whole datagram before it
 * took them: no append needs a check.
 */
struct wcur {
	struct sip_wbuf w;
	struct rte_mbuf **pk;
	unsigned k, nf;
	uint32_t hdr; /* bytes before the payload area (L2 + L3 + frag) */
};

static inline void put(struct wcur *c, const void *src, uint32_t n)
{
	const uint8_t *p = src;

	while (n > 0) {
		uint32_t take = RTE_MIN(n, sip_wbuf_room(&c->w));

		sip_wbuf_put_unchecked(&c->w, p, take);
		p += take;
		n -= take;
		if (sip_wbuf_room(&c->w) == 0 && c->k + 1 < c->nf) {
			c->k++;
			c->w = sip_wbuf_at(rte_pktmbuf_mtod_offset(c->pk[c->k], char *, c->hdr),
					   c->w.cap);
		}
	}
}

/*
 * One's-complement sum (RFC 1071) of [p, p + n) as 16-bit words in memory
 * order, as rte_raw_cksum() gives it, but 16 bytes a step (its word loop
 * took a third of the forward path on a 1 KB INVITE). Each 32-bit lane
 * gains at most 2 * 0xffff a step: no carry is lost below 2 GB.
 */
static uint32_t sum16(const uint8_t *p, uint32_t n)
{
	uint64_t a = 0;

#ifdef __SSE2__
	__m128i acc = _mm_setzero_si128();
	const __m128i z = _mm_setzero_si128();
	uint32_t lane[4];

	for (; n >= 16; p += 16, n -= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

		acc = _mm_add_epi32(
			acc, _mm_add_epi32(_mm_unpacklo_epi16(v, z), _mm_unpackhi_epi16(v, z)));
	}
	_mm_storeu_si128((__m128i *)(void *)lane, acc);
	a = (uint64_t)lane[0] + lane[1] + lane[2] + lane[3];
#endif
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		a += (w & 0xffffffffu) + (w >> 32);
	}
	for (; n >= 2; p += 2, n -= 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		a += v;
	}
	if (n == 1) {
		uint16_t v = 0;

		memcpy(&v, p, 1); /* the last byte, zero-padded in memory order */
		a += v;
	}
	a = (a & 0xffffffffu) + (a >> 32);
	a = (a & 0xffffffffu) + (a >> 32);
	a = (a & 0xffff) + (a >> 16);
	a = (a & 0xffff) + (a >> 16);
	return (uint32_t)a;
}

/* One's-complement sum of the UDP pseudo header (RFC 768, RFC 8200 §8.1). */
static uint32_t pseudo_sum(const struct sw_ip *src, const struct sw_ip *dst, bool v6,
			   uint32_t udp_len)
{
	uint32_t sum;

	if (!v6) {
		sum = rte_raw_cksum(&src->a[12], 4) + rte_raw_cksum(&dst->a[12], 4);
		sum += rte_cpu_to_be_16((uint16_t)udp_len);
	} else {
		sum = rte_raw_cksum(src->a, 16) + rte_raw_cksum(dst->a, 16);
		sum += rte_cpu_to_be_16((uint16_t)(udp_len >> 16)) +
		       rte_cpu_to_be_16((uint16_t)udp_len);
	}
	return sum + rte_cpu_to_be_16(IPPROTO_UDP);
}

/*
 * Does the port compute this frame's checksums (struct sw_iface.tx_offload)?
 * One frame only: a fragmented datagram's UDP checksum spans frames, which
 * no NIC sums, so it is summed here.
 */
static inline bool nic_cksum(const struct sw_iface *ifc, bool v6, unsigned nf)
{
	const uint64_t need =
		RTE_ETH_TX_OFFLOAD_UDP_CKSUM | (v6 ? 0 : RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);

	return nf == 1 && (ifc->tx_offload & need) == need;
}

/* The NIC's part (DPDK's TX checksum offload contract): IPv4 header checksum
 * 0, the UDP checksum field seeded with the pseudo header's sum. */
static inline void nic_cksum_set(struct rte_mbuf *m, void *l3p, bool v6, struct rte_udp_hdr *udp)
{
	m->l2_len = RTE_ETHER_HDR_LEN;
	if (!v6) {
		struct rte_ipv4_hdr *ip = l3p;

		m->ol_flags |=
			RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
		m->l3_len = sizeof(*ip);
		ip->hdr_checksum = 0;
		udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		m->ol_flags |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
		m->l3_len = sizeof(struct rte_ipv6_hdr);
		udp->dgram_cksum = rte_ipv6_phdr_cksum(l3p, m->ol_flags);
	}
}

/* ~1.7k instructions, ~400 cycles for the 1.1 KB INVITE (bench_dp --mix fwd,
 * callgrind / perf): edits sorted, pieces copied, the sum, headers, TX
 * buffer. With NIC checksums the datagram is not read again after the copy:
 * ~650 instructions fewer (callgrind, bench_dp --mix fwd-invite, hw-cksum). */
int dp_fwd_tx(struct dp_wstate *s, unsigned ifx, struct dp_fwd_msg *fm, const struct sw_ip *dst,
	      uint16_t dport)
{
	const struct sw_iface *ifc = &s->ctx->p.ports.ifaces[ifx];
	const bool v6 = !sw_ip_is_v4(dst);
	const uint32_t l3 = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	struct rte_mbuf *pk[MAX_FRAGS];
	uint32_t len, udp_len, max_ip, chunk, fh = 0, cur, sum;
	struct sw_ip src;
	struct wcur c;
	unsigned nf;
	uint16_t ip_id;
	bool hw;

	if (fm->overflow)
		return -E2BIG;
	if (v6 ? !ifc->has_v6 : !ifc->has_v4)
		return -ENETUNREACH;
	src = v6 ? ifc->ip6 : sw_ip_from_v4(ifc->ip4);
	sort_edits(fm);
	len = (uint32_t)(fm->end - fm->start);
	cur = fm->start;
	for (unsigned i = 0; i < fm->n; i++) {
		const struct dp_fwd_edit *e = &fm->e[i];

		if (e->off < cur || e->end < e->off || e->end > fm->end)
			return -EINVAL;
		len = len + e->rep_len - (uint32_t)(e->end - e->off);
		cur = e->end;
	}
	udp_len = (uint32_t)sizeof(struct rte_udp_hdr) + len;
	if (udp_len + (v6 ? 0 : l3) > UINT16_MAX)
		return -EMSGSIZE;

	/* One frame if the IP packet fits the MTU and one mbuf, else fragments of
	 * multiples of 8 bytes (both RFCs count offsets in 8-byte units). */
	max_ip = RTE_MIN((uint32_t)ifc->mtu, (uint32_t)rte_pktmbuf_data_room_size(s->ctx->pool) -
						     RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN);
	if (l3 + udp_len <= max_ip) {
		nf = 1;
		chunk = udp_len;
	} else {
		fh = v6 ? sizeof(struct rte_ipv6_fragment_ext) : 0;
		chunk = (max_ip - l3 - fh) & ~7u;
		nf = (udp_len + chunk - 1) / chunk;
		if (nf > MAX_FRAGS)
			return -EMSGSIZE;
	}
	if (rte_pktmbuf_alloc_bulk(s->ctx->pool, pk, nf) != 0)
		return -ENOMEM;
	hw = nic_cksum(ifc, v6, nf);

	c = (struct wcur){
		.w = sip_wbuf_at(
			rte_pktmbuf_mtod_offset(pk[0], char *, RTE_ETHER_HDR_LEN + l3 + fh), chunk),
		.pk = pk,
		.nf = nf,
		.hdr = RTE_ETHER_HDR_LEN + l3 + fh};
	c.w.len = sizeof(struct rte_udp_hdr); /* written last, once the sum is known */
	cur = fm->start;
	for (unsigned i = 0; i < fm->n; i++) {
		const struct dp_fwd_edit *e = &fm->e[i];

		put(&c, fm->msg + cur, e->off - cur);
		put(&c, e->rep, e->rep_len);
		cur = e->end;
	}
	put(&c, fm->msg + cur, fm->end - cur);

	struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(pk[0], struct rte_udp_hdr *, c.hdr);

	*udp = (struct rte_udp_hdr){.src_port = rte_cpu_to_be_16(s->ctx->p.ports.sip_port),
				    .dst_port = rte_cpu_to_be_16(dport),
				    .dgram_len = rte_cpu_to_be_16((uint16_t)udp_len)};
	/* Every piece but the last is a multiple of 8 bytes: their sums add up. */
	sum = hw ? 0 : pseudo_sum(&src, dst, v6, udp_len);
	ip_id = s->w->ip_id++;
	for (unsigned k = 0; k < nf; k++) {
		uint32_t off = k * chunk, n = RTE_MIN(chunk, udp_len - off);
		uint8_t *l3p = rte_pktmbuf_mtod_offset(pk[k], uint8_t *, RTE_ETHER_HDR_LEN);
		bool more = k + 1 < nf;

		if (!hw)
			sum += sum16(l3p + l3 + fh, n);
		if (!v6) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3p;

			*ip = (struct rte_ipv4_hdr){
				.version_ihl = RTE_IPV4_VHL_DEF,
				.total_length = rte_cpu_to_be_16((uint16_t)(l3 + n)),
				.packet_id = rte_cpu_to_be_16(ip_id),
				.fragment_offset = rte_cpu_to_be_16(
					(uint16_t)(off / 8 | (more ? RTE_IPV4_HDR_MF_FLAG : 0))),
				.time_to_live = TTL_OUT,
				.next_proto_id = IPPROTO_UDP,
				.src_addr = ifc->ip4,
				.dst_addr = sw_ip_v4(dst),
			};
			if (!hw)
				ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3p;

			*ip = (struct rte_ipv6_hdr){
				.vtc_flow = rte_cpu_to_be_32(6u << 28),
				.payload_len = rte_cpu_to_be_16((uint16_t)(fh + n)),
				.proto = nf > 1 ? IPPROTO_FRAGMENT : IPPROTO_UDP,
				.hop_limits = TTL_OUT,
			};
			memcpy(ip->src_addr, src.a, 16);
			memcpy(ip->dst_addr, dst->a, 16);
			if (nf > 1) {
				struct rte_ipv6_fragment_ext *fx =
					(struct rte_ipv6_fragment_ext *)(ip + 1);

				/* Identification: unique per source and worker (RFC 8200 §4.5). */
				*fx = (struct rte_ipv6_fragment_ext){
					.next_header = IPPROTO_UDP,
					.frag_data = rte_cpu_to_be_16((uint16_t)(off | more)),
					.id = rte_cpu_to_be_32(s->w->id << 16 | ip_id),
				};
			}
		}
		pk[k]->data_len = (uint16_t)(RTE_ETHER_HDR_LEN + l3 + fh + n);
		pk[k]->pkt_len = pk[k]->data_len;
	}
	if (hw) {
		nic_cksum_set(pk[0], rte_pktmbuf_mtod_offset(pk[0], void *, RTE_ETHER_HDR_LEN), v6,
			      udp);
	} else {
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		udp->dgram_cksum = (uint16_t)~sum;
		if (udp->dgram_cksum == 0)
			udp->dgram_cksum = 0xffff; /* RFC 768: 0 would mean "no checksum" */
	}
	if (nf > 1) {
		dp_count(s->ctr, DP_C_TX_FRAGMENTED, 1);
		dp_count(s->ctr, DP_C_TX_FRAGMENTS, nf);
	}
	for (unsigned k = 0; k < nf; k++)
		dp_tx_ip(s, ifx, pk[k], dst);
	return 0;
}
