/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control-plane benchmarks (bench_reg, bench_wake) share: handing
 * a datagram through the worker pipeline and taking what it hands up,
 * reading the frames the control plane sent, and a PBX simulated in a few
 * lines.
 */
#ifndef BENCH_SIP_H
#define BENCH_SIP_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

struct dph;

/** Datagram @p text (@p len bytes) from @p src:@p sport through the worker
 *  pipeline of @p h (tests/dp/dp_harness.h), as received now. */
void bench_feed(struct dph *h, const char *src, uint16_t sport, const char *text, int len);

/** Up to @p max mbufs the pipeline of @p h handed up, into @p out (the
 *  caller owns them). @return how many. */
unsigned bench_take_up(struct dph *h, struct rte_mbuf **out, unsigned max);

/** The UDP payload of an unfragmented frame the control plane sent, its
 *  length in @p len and, if @p dport is not NULL, its UDP destination port. */
const char *bench_payload_of(struct rte_mbuf *m, uint16_t *len, uint16_t *dport);

/**
 * The PBX's 200 to a relayed REGISTER @p req: its Vias, From, To with a tag,
 * Call-ID, CSeq, and its contact with expires=300.
 * @return the length written into @p out (truncated to @p cap).
 */
int bench_pbx_answer(const char *req, uint16_t len, char *out, size_t cap);

#endif /* BENCH_SIP_H */
