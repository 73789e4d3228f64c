#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmarks, full runs (the test suite runs only a smoke pass of each):
#   bench_dp  the worker pipeline on prebuilt frames, per traffic mix (the
#             stateless forward path too: fwd-invite, fwd-200, fwd-bye,
#             fwd-call; --mix fwd runs those alone), and libosip2 parsing
#             the same SIP messages, in one run.
#   bench_bind  1M bindings in the binding tables (memory, put and lookup
#               rates) and the SQLite store (put + commit per batch size);
#               BENCH_BIND_ARGS passes its options (e.g. "--count 200000").
#   bench_reg   REGISTER relay + commit through the control plane on one core
#               (a simulated PBX answers 200; SQLite store in the loop);
#               BENCH_REG_ARGS passes its options (--count, --batch, --sync-full,
#               --no-store).
#   bench_wake  the wake path: INVITE in -> push request written,
#               the PBX's 200 to a re-REGISTER -> INVITE out (store commit in
#               the loop), memory per held INVITE with 100k held; pushd sends
#               to build/tests/pushd/pd_testsrv answering at once;
#               BENCH_WAKE_ARGS passes its options (--count, --runs, --held,
#               --burst, --no-store).
#   bench-kamailio.py  the fwd messages through Kamailio (stateless, registrar)
#               and the ratio to bench_dp (BENCH_KAMAILIO_ARGS).
# Needs root (DPDK EAL, --no-huge). Extra arguments go to bench_dp
# (--packets N, --runs R). The machine is shared: read medians and ratios.
# bench_dp and bench-kamailio.py end with a targets table (target, measured
# median, met / missed; measured, not asserted).
#
# Before and after from one run, and where the cycles go, are a separate
# script (docs/performance.md, "Targets of the structural scanner and the
# lean forward path"); it takes /tmp/sw-bench.lock itself:
#   scripts/bench-targets.py --against REV [--rounds K] [--runs R] [--packets N]
#             REV built in a temporary worktree (removed afterwards), its
#             bench_dp and this tree's run alternately (REV, now, REV, now ...),
#             one table: figure | target | REV | now | now/REV | met/missed.
#   scripts/bench-targets.py --profile MIX [--tool auto|perf|callgrind|both]
#             the top functions of bench_dp --mix MIX with their share (perf
#             cpu-clock sampling; callgrind where perf cannot sample).
#   scripts/bench.sh --against REV [bench-targets.py options]
#             the same, in place of the plain bench_dp run: the targets table
#             with REV's figures (e.g. f824d3e) beside this tree's, then the
#             other benchmarks as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
if [ "${1:-}" = --against ]; then
  /usr/bin/python3 scripts/bench-targets.py "$@"
else
  build/bench/bench_dp "$@"
fi
echo
# shellcheck disable=SC2086 # word splitting of the options is wanted
build/bench/bench_bind ${BENCH_BIND_ARGS:-}
echo
# shellcheck disable=SC2086
build/bench/bench_reg ${BENCH_REG_ARGS:-}
echo
# shellcheck disable=SC2086
build/bench/bench_wake --server build/tests/pushd/pd_testsrv ${BENCH_WAKE_ARGS:-}
echo
# Kamailio from Debian on the same messages (docs/performance.md);
# BENCH_KAMAILIO_ARGS passes its options (--calls N, --callgrind).
# shellcheck disable=SC2086
/usr/bin/python3 scripts/bench-kamailio.py ${BENCH_KAMAILIO_ARGS:-}
