#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The performance report (docs/performance.md, "The report: scripts/report.sh"):
# the benchmarks that exist, in one go on this machine, into one report.
#   scripts/report.sh [--quick] [--steps dp,kamailio,tls,e2e,push,wake,reg,cluster,flood]
#                     [--md docs/report.md] [--plots docs/report] [--out build/report]
# Root (DPDK EAL, namespaces). --quick: every step at smoke size (about two
# minutes in all; figures for development, not results); a full run takes
# ~15 min. Writes build/report/report.json, then docs/report.md and its
# PNG plots under docs/report/ (scripts/report/render.py re-renders them
# from the JSON without running anything). Holds /tmp/sw-bench.lock for the
# whole run; the lab steps also take /tmp/sw-integration.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench >/dev/null
# node-apn for the push step, as scripts/bench-push.sh installs it.
if [ ! -d build/node-apn/node_modules/@parse/node-apn ]; then
  mkdir -p build/node-apn
  (cd build/node-apn && npm install --no-audit --no-fund --silent @parse/node-apn@8 >/dev/null)
fi
exec flock /tmp/sw-bench.lock /usr/bin/python3 scripts/report/run.py "$@"
