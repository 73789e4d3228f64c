#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmarks, full runs (the test suite runs only a smoke pass of each):
#   bench_dp    the worker pipeline on prebuilt frames, per traffic mix, and
#               libosip2 parsing the same SIP messages, in one run.
#   bench_bind  1M bindings in the binding tables (memory, put and lookup
#               rates) and the SQLite store (put + commit per batch size);
#               BENCH_BIND_ARGS passes its options (e.g. "--count 200000").
# Needs root (DPDK EAL, --no-huge). Extra arguments go to bench_dp
# (--packets N, --runs R). The machine is shared: read medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
build/bench/bench_dp "$@"
echo
# shellcheck disable=SC2086 # word splitting of the options is wanted
build/bench/bench_bind ${BENCH_BIND_ARGS:-}
