/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * STUN keepalives on the SIP port (RFC 5626 §4.4.2, §8.1): a device behind
 * NAT sends Binding requests to its edge proxy; the edge answers with the
 * address it saw (XOR-MAPPED-ADDRESS, RFC 5389 §15.2), so the device learns
 * when its NAT binding changed. Only bound devices are answered.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "dataplane/dp_internal.h"

#define STUN_HDR	 20
#define STUN_MAGIC	 0x2112A442u
#define STUN_BINDING_REQ 0x0001
#define STUN_BINDING_OK	 0x0101
#define STUN_XOR_MAPPED	 0x0020
#define STUN_FINGERPRINT 0x8028

bool dp_is_stun(const uint8_t *p, uint16_t len)
{
	uint32_t cookie;

	/* RFC 5389 §6: top two bits zero, the magic cookie, length a multiple of 4.
	 * A SIP message starts with a letter or CR, so it can never match. */
	if (len < STUN_HDR || (p[0] & 0xc0) != 0)
		return false;
	memcpy(&cookie, p + 4, 4);
	return cookie == rte_cpu_to_be_32(STUN_MAGIC);
}

int dp_stun_answer(struct dp_wstate *s, unsigned ifx, const struct dp_l4info *from,
		   const uint8_t *req, uint16_t len)
{
	uint16_t type = (uint16_t)(req[0] << 8 | req[1]);
	uint16_t mlen = (uint16_t)(req[2] << 8 | req[3]);
	uint16_t hdr_len = dp_udp_hdr_len(from->v6);
	uint16_t alen = from->v6 ? 20 : 8;
	uint16_t xport = (uint16_t)(from->sport ^ (STUN_MAGIC >> 16));
	struct rte_mbuf *m;
	uint8_t *p;

	if (type != STUN_BINDING_REQ || (mlen & 3) != 0 || mlen != len - STUN_HDR)
		return -EINVAL;
	m = rte_pktmbuf_alloc(s->ctx->pool);
	if (m == NULL)
		return -ENOMEM;
	p = rte_pktmbuf_mtod_offset(m, uint8_t *, hdr_len);
	p[0] = STUN_BINDING_OK >> 8;
	p[1] = STUN_BINDING_OK & 0xff;
	p[2] = 0;
	p[3] = (uint8_t)(4 + alen);
	memcpy(p + 4, req + 4, 16); /* cookie and transaction id */
	p[20] = STUN_XOR_MAPPED >> 8;
	p[21] = STUN_XOR_MAPPED & 0xff;
	p[22] = 0;
	p[23] = (uint8_t)alen;
	p[24] = 0;
	p[25] = from->v6 ? 0x02 : 0x01;
	p[26] = (uint8_t)(xport >> 8);
	p[27] = (uint8_t)xport;
	/* X-Address: the address XOR the cookie (IPv4), or XOR cookie || transaction id. */
	if (from->v6) {
		for (unsigned i = 0; i < 16; i++)
			p[28 + i] = from->src.a[i] ^ req[4 + i];
	} else {
		for (unsigned i = 0; i < 4; i++)
			p[28 + i] = from->src.a[12 + i] ^ req[4 + i];
	}
	dp_udp_finish(s, m, from, from->sport, (uint16_t)(STUN_HDR + 4 + alen));
	dp_tx_ip(s, ifx, m, &from->src);
	return 0;
}
