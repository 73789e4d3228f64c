/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP around the control plane that bench_reg and bench_wake drive:
 * datagrams in through the worker pipeline, what it hands up, the frames
 * the control plane sent, and the PBX's 200 to a relayed REGISTER.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>

#include "bench/bench_sip.h"
#include "tests/dp/dp_harness.h"

void bench_feed(struct dph *h, const char *src, uint16_t sport, const char *text, int len)
{
	struct rte_mbuf *m[4];
	struct dph_pkt pk = {.src = src, .sport = sport, .payload = text, .len = (uint32_t)len};
	int n = dph_build(h, &pk, m, 4);

	if (n > 0)
		dph_rx(h, m, (unsigned)n, rte_rdtsc());
}

unsigned bench_take_up(struct dph *h, struct rte_mbuf **out, unsigned max)
{
	unsigned n = 0;
	struct rte_mbuf *m;

	while (n < max && (m = dph_up(h)) != NULL)
		out[n++] = m;
	return n;
}

const char *bench_payload_of(struct rte_mbuf *m, uint16_t *len, uint16_t *dport)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	unsigned l3 = (p[12] == 0x86 && p[13] == 0xdd) ? 40 : 20;
	const uint8_t *udp = p + RTE_ETHER_HDR_LEN + l3;

	*len = (uint16_t)(rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN - l3 - 8);
	if (dport != NULL)
		*dport = (uint16_t)(udp[2] << 8 | udp[3]);
	return (const char *)udp + 8;
}

int bench_pbx_answer(const char *req, uint16_t len, char *out, size_t cap)
{
	const char *p = req, *end = req + len;
	int n = snprintf(out, cap, "SIP/2.0 200 OK\r\n");

	while (p < end && (size_t)n < cap) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t l;

		if (eol == NULL || eol == p)
			break;
		l = (size_t)(eol - p);
		if (strncmp(p, "Via:", 4) == 0 || strncmp(p, "From:", 5) == 0 ||
		    strncmp(p, "Call-ID:", 8) == 0 || strncmp(p, "CSeq:", 5) == 0)
			n += snprintf(out + n, cap - (size_t)n, "%.*s\r\n", (int)l, p);
		else if (strncmp(p, "To:", 3) == 0)
			n += snprintf(out + n, cap - (size_t)n, "%.*s;tag=pbx\r\n", (int)l, p);
		else if (strncmp(p, "Contact:", 8) == 0) {
			const char *gt = memchr(p, '>', l);

			n += snprintf(out + n, cap - (size_t)n, "%.*s;expires=300\r\n",
				      (int)(gt ? gt + 1 - p : (long)l), p);
		}
		p = eol + 2;
	}
	if ((size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "Content-Length: 0\r\n\r\n");
	return (size_t)n < cap ? n : (int)cap - 1;
}
