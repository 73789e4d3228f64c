/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The targets table of bench_dp: the figures the structural scanner and the
 * lean forward path are to reach (docs/performance.md, "Targets of the
 * structural scanner and the lean forward path"), each next to what this run
 * measured. Performance is measured here, not asserted: a missed target is
 * printed, never an error.
 */
#ifndef BENCH_TARGETS_H
#define BENCH_TARGETS_H

/** The figures bench_dp measures, one row of the table each. */
enum bt_fig {
	BT_SCAN_INVITE,	     /**< scanner, INVITE with SDP: cycles/message */
	BT_SCAN_INVITE_BYTE, /**< the same per byte */
	BT_SCAN_VS_OSIP,     /**< libosip2 / scanner on that INVITE */
	BT_FWD_CALL,	     /**< fwd-call mix, NIC checksums: cycles/message */
	BT_REGISTER,	     /**< register mix, NIC checksums */
	BT_INVITE,	     /**< invite-sdp mix, NIC checksums */
	BT_JUNK,	     /**< junk-64B mix, NIC checksums */
	BT_FLOOD,	     /**< scanner-flood mix, NIC checksums */
	BT_N
};

/** Marks every figure of @p m as not measured (NAN). */
void bt_clear(double m[BT_N]);

/**
 * Prints the table: per figure its key, what it is, the target, the
 * measured median (or "-" if this run did not measure it) and "met",
 * "missed" or "not run". Stable format, read by scripts/bench-targets.py
 * and bench/bench_dp_smoke.py:
 *
 *     targets (medians of R runs; measured, not asserted):
 *       KEY  LABEL  <=|>= TARGET  MEASURED  met|missed|not run
 *
 * @param m     the medians, borrowed; NAN where not measured
 * @param runs  how many runs each median is of
 */
void bt_print(const double m[BT_N], unsigned runs);

#endif
