#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pushd benchmark (not a test): N VoIP pushes through pushd over ONE HTTP/2
# connection to pd_testsrv at RTT 0 and with 20 ms injected delay, then N
# Web Pushes (payload encrypted) the same way, and the same APNs load from
# node-apn (@parse/node-apn, installed with npm into build/node-apn) against
# the same server. Prints each run, medians, ratios.
#   scripts/bench-push.sh [--n 100000] [--runs 3] [--delays 0,20] [--node-n 20000] [--no-webpush]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench >/dev/null
if [ ! -d build/node-apn/node_modules/@parse/node-apn ]; then
  mkdir -p build/node-apn
  (cd build/node-apn && npm install --no-audit --no-fund --silent @parse/node-apn@8 >/dev/null)
fi
exec build/bench/pd_bench --server build/tests/pushd/pd_testsrv --node-dir build/node-apn "$@"
