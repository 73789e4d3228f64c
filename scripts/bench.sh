#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmarks, full runs (the test suite runs only a smoke pass of each):
#   bench_dp  the worker pipeline on prebuilt frames, per traffic mix (the
#             stateless forward path too: fwd-invite, fwd-200, fwd-bye,
#             fwd-call; --mix fwd runs those alone), and libosip2 parsing
#             the same SIP messages, in one run.
# Needs root (DPDK EAL, --no-huge). Extra arguments go to bench_dp
# (--packets N, --runs R). The machine is shared: read medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
exec build/bench/bench_dp "$@"
