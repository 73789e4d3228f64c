/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 / IPv6 reassembly (SIP INVITEs with SDP often exceed the MTU), with
 * DPDK's rte_ip_frag: one table per worker, bounded in flows, fragments per
 * datagram (RTE_LIBRTE_IP_FRAG_MAX_FRAG) and time. Fragments of a datagram
 * carry no UDP ports, so they meet in one table only because RSS hashes the
 * IP pair alone (dp_port.c; docs/design.md §7).
 *
 * A complete datagram comes back from rte_ip_frag as a chain of the fragment
 * mbufs; it is linearised into one buffer of the jumbo pool before anything
 * reads it, so the scanner and the control plane see one contiguous message.
 *
 * Exact duplicates. rte_ip_frag (DPDK 22.11, lib/ip_frag/ip_frag_internal.c,
 * ip_frag_process) adds every fragment's length to the datagram's and gives
 * up when a first or last fragment comes twice or the sum passes the total:
 * one duplicated fragment loses the whole datagram. The network may
 * duplicate packets, and IPv4 reassembly tolerates it: RFC 791 §3.2's
 * reassembly procedure copies each fragment into place and marks its
 * 8-octet blocks in a bit table, so a fragment that comes twice sets the
 * same bits again. For IPv6, RFC 8200 §4.5 (which keeps RFC 5722's rule
 * that overlapping fragments abandon the datagram) lets a node "detect this
 * case and drop exact duplicate fragments while keeping the other
 * fragments belonging to the same packet". So both families: a fragment whose datagram
 * key, flags and offset, length and bytes (CRC32C) match one seen within
 * reassembly_timeout_ms is dropped here as ip_frag_duplicate and never
 * reaches rte_ip_frag; one with the same offset and other bytes or length
 * still goes there and the datagram is refused (ip_frag_rejected). The
 * memory of seen fragments is a direct-mapped cache per worker: a
 * duplicate whose entry was overwritten meanwhile is refused as before.
 *
 * Timeouts are counted when they expire: dp_frag_tick() runs once per
 * worker round, packets or not (dp_worker.c), and before each fragment, so
 * rte_ip_frag never meets a stale entry itself (it would free it silently
 * while looking up the next fragment, and we would count it as rejected).
 */
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "common/sw_hash.h"
#include "common/sw_log.h"
#include "dataplane/dp_internal.h"

#define FRAG_BUCKET_ENTRIES 16
/* Fragments remembered per worker for duplicate detection (power of two):
 * 24 bytes each, 96 KiB a worker; a train holds at most 8 of them. */
#define SEEN_SLOTS 4096

struct seen_slot {
	uint64_t key; /* CRC32C digest of addresses, id, protocol, flags and offset */
	uint64_t tsc; /* when it was seen */
	uint32_t crc; /* sw_hash64() of its payload */
	uint32_t len; /* of its payload */
};

/** What dp_frag.c remembers of recent fragments, one per worker. */
struct dp_frag_seen {
	uint64_t ttl; /* reassembly_timeout_ms in TSC cycles */
	struct seen_slot slot[SEEN_SLOTS];
};
/* Largest reassembled frame: MAX_FRAG fragments of a jumbo-less MTU fit. */
#define JUMBO_DATA_ROOM (16384 + RTE_PKTMBUF_HEADROOM)

int dp_frag_init(struct dp_ctx *ctx)
{
	uint32_t flows = RTE_MAX(ctx->frag_flows / ctx->n_workers, (uint32_t)FRAG_BUCKET_ENTRIES);
	uint64_t ttl = rte_get_tsc_hz() / 1000 * ctx->frag_timeout_ms;

	ctx->jumbo = rte_pktmbuf_pool_create(
		DP_JUMBO_POOL_NAME, ctx->frag_buffers, 0,
		(uint16_t)RTE_ALIGN(sizeof(struct dp_meta), RTE_MBUF_PRIV_ALIGN), JUMBO_DATA_ROOM,
		(int)rte_socket_id());
	if (ctx->jumbo == NULL) {
		DP_LOG(ERR, "cannot create %u reassembly buffers of %u bytes: %s (raise -m)",
		       ctx->frag_buffers, JUMBO_DATA_ROOM, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < ctx->n_workers; i++) {
		struct dp_worker *w = &ctx->workers[i];

		w->frag = rte_ip_frag_table_create(
			rte_align32pow2((flows + FRAG_BUCKET_ENTRIES - 1) / FRAG_BUCKET_ENTRIES),
			FRAG_BUCKET_ENTRIES, flows, ttl, (int)rte_socket_id());
		w->dr = rte_zmalloc("sw_frag_dr", sizeof(*w->dr), RTE_CACHE_LINE_SIZE);
		w->seen = rte_zmalloc("sw_frag_seen", sizeof(*w->seen), RTE_CACHE_LINE_SIZE);
		if (w->frag == NULL || w->dr == NULL || w->seen == NULL) {
			DP_LOG(ERR, "cannot create a reassembly table of %u flows for worker %u",
			       flows, i);
			return -ENOMEM;
		}
		w->seen->ttl = ttl;
	}
	return 0;
}

void dp_frag_fini(struct dp_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->n_workers; i++) {
		struct dp_worker *w = &ctx->workers[i];

		if (w->dr != NULL)
			rte_ip_frag_free_death_row(w->dr, 0);
		if (w->frag != NULL) /* rte_ip_frag_table_destroy(NULL) faults */
			rte_ip_frag_table_destroy(w->frag);
		rte_free(w->dr);
		rte_free(w->seen);
		w->frag = NULL;
		w->dr = NULL;
		w->seen = NULL;
	}
	rte_mempool_free(ctx->jumbo);
	ctx->jumbo = NULL;
}

/* The chain @p r as one contiguous frame of the jumbo pool; NULL if dropped. */
static struct rte_mbuf *linearise(struct dp_wstate *s, struct rte_mbuf *r)
{
	struct rte_mbuf *j;
	const void *p;
	void *dst;

	if (r->nb_segs == 1)
		return r;
	if (r->pkt_len > JUMBO_DATA_ROOM - RTE_PKTMBUF_HEADROOM) {
		dp_drop(s, r, DP_D_IP_FRAG_TOO_BIG);
		return NULL;
	}
	j = rte_pktmbuf_alloc(s->ctx->jumbo);
	if (j == NULL) {
		dp_drop(s, r, DP_D_NO_MBUF);
		return NULL;
	}
	dst = rte_pktmbuf_mtod(j, void *);
	p = rte_pktmbuf_read(r, 0, r->pkt_len, dst);
	if (p != dst)
		memcpy(dst, p, r->pkt_len);
	j->data_len = (uint16_t)r->pkt_len;
	j->pkt_len = r->pkt_len;
	j->port = r->port;
	DP_META(j)->rx_tsc = DP_META(r)->rx_tsc;
	rte_pktmbuf_free(r);
	return j;
}

/* Drop datagrams older than reassembly_timeout_ms: their fragments go. */
static void expire(struct dp_wstate *s, uint64_t now)
{
	struct rte_ip_frag_death_row *dr = s->w->dr;
	uint32_t before = dr->cnt;

	rte_ip_frag_table_del_expired_entries(s->w->frag, dr, now);
	if (dr->cnt != before)
		dp_count_drops(s->ctr, DP_D_IP_FRAG_TIMEOUT, dr->cnt - before);
}

/*
 * True if @p m is an exact duplicate of a fragment seen within the timeout
 * (then it is dropped and counted); else it is remembered. @p addr and
 * @p alen: source and destination addresses, adjacent in the header;
 * @p id, @p fo: identification and flags + offset as on the wire; @p hlen:
 * bytes of headers (L2, L3, fragment header) before the payload.
 * Only fragments pay it: one sw_hash64() over the addresses and one over
 * the payload (16 bytes a step), one cache line; not measured yet.
 */
static bool duplicate(struct dp_wstate *s, struct rte_mbuf *m, const void *addr, uint32_t alen,
		      uint32_t id, uint32_t fo, uint32_t hlen, uint64_t now)
{
	struct dp_frag_seen *seen = s->w->seen;
	uint32_t len = rte_pktmbuf_data_len(m) - hlen;
	/* sw_hash64(): memcpy loads. rte_hash_crc() loads words through casts,
	 * misaligned on packet data (UBSan stops the sanitizer build there). */
	uint64_t key = sw_hash64(addr, alen, (uint64_t)id << 32 | fo);
	uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
	uint32_t crc =
		(uint32_t)sw_hash64(rte_pktmbuf_mtod_offset(m, const void *, hlen), len, 0x5eed);
	struct seen_slot *e = &seen->slot[(lo ^ hi ^ fo) & (SEEN_SLOTS - 1)];

	if (e->key == key && e->len == len && e->crc == crc && now - e->tsc <= seen->ttl) {
		dp_drop(s, m, DP_D_IP_FRAG_DUPLICATE);
		return true;
	}
	*e = (struct seen_slot){.key = key, .tsc = now, .crc = crc, .len = len};
	return false;
}

/* Fragments the reassembler put on the death row while handling one packet. */
static struct rte_mbuf *reassembled(struct dp_wstate *s, struct rte_mbuf *r, uint32_t dr_before)
{
	uint32_t rejected = s->w->dr->cnt - dr_before;

	if (rejected != 0)
		dp_count_drops(s->ctr, DP_D_IP_FRAG_REJECTED, rejected);
	if (r == NULL)
		return NULL;
	dp_count(s->ctr, DP_C_IP_REASSEMBLED, 1);
	return linearise(s, r);
}

struct rte_mbuf *dp_frag_ipv4(struct dp_wstate *s, struct rte_mbuf *m, uint32_t ihl)
{
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint64_t now = DP_META(m)->rx_tsc;
	uint32_t before;
	struct rte_mbuf *r;

	dp_count(s->ctr, DP_C_IP_FRAGMENTS, 1);
	expire(s, now);
	if (duplicate(s, m, &ip->src_addr, 8, ip->packet_id | (uint32_t)ip->next_proto_id << 16,
		      ip->fragment_offset, RTE_ETHER_HDR_LEN + ihl, now))
		return NULL;
	before = s->w->dr->cnt;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = ihl;
	r = reassembled(
		s, rte_ipv4_frag_reassemble_packet(s->w->frag, s->w->dr, m, DP_META(m)->rx_tsc, ip),
		before);
	if (r != NULL) {
		/* rte_ip_frag rewrote length and offset; the checksum is ours to redo. */
		ip = rte_pktmbuf_mtod_offset(r, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return r;
}

struct rte_mbuf *dp_frag_ipv6(struct dp_wstate *s, struct rte_mbuf *m, uint32_t plen)
{
	struct rte_ipv6_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, RTE_ETHER_HDR_LEN);
	struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	uint64_t now = DP_META(m)->rx_tsc;
	uint32_t before;

	if (plen < sizeof(*fh)) {
		dp_drop(s, m, DP_D_IP_MALFORMED);
		return NULL;
	}
	dp_count(s->ctr, DP_C_IP_FRAGMENTS, 1);
	expire(s, now);
	if (duplicate(s, m, ip->src_addr, 32, fh->id ^ fh->next_header, fh->frag_data,
		      RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*fh), now))
		return NULL;
	before = s->w->dr->cnt;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip) + sizeof(*fh);
	return reassembled(s,
			   rte_ipv6_frag_reassemble_packet(s->w->frag, s->w->dr, m,
							   DP_META(m)->rx_tsc, ip, fh),
			   before);
}

void dp_frag_tick(struct dp_wstate *s, uint64_t now)
{
	struct rte_ip_frag_death_row *dr = s->w->dr;

	/* Walks the LRU list from its oldest entry and stops at the first one
	 * not expired: a few cycles when nothing is due, so every round. */
	expire(s, now);
	if (dr->cnt != 0)
		rte_ip_frag_free_death_row(dr, 3);
}
