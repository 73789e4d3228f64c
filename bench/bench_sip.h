/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control-plane benchmarks (bench_reg, bench_wake) share: reading
 * the frames the control plane sent, and a PBX simulated in a few lines.
 */
#ifndef BENCH_SIP_H
#define BENCH_SIP_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

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
