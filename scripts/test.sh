#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite: installs and builds (scripts/setup.sh), then runs
# sipwake's tests:
#   1. unit tests (C, cmocka; meson suite 'unit') on the normal build,
#   2. integration tests (pytest, tests/integration: sipwake on
#      net_af_packet in network namespaces it creates and removes, sipp,
#      ping, kernel sockets),
#   3. the unit tests again under ASan + UBSan,
#   4. a short pass of libFuzzer on each target of tests/fuzz/targets
#      (tests/fuzz/run.sh, 10-20 s each), one test per target,
#   5. the integration tests against the ASan + UBSan sipwake (a sanitizer
#      report or a leak makes sipwake exit non-zero: every test asserts 0);
# then what does not test sipwake, counted apart so that it cannot pass for
# sipwake's tests:
#   6. the test peers checked against each other: pd_testsrv's self-test
#      (meson suite 'peers', plain and under ASan + UBSan), the sipp
#      scenarios and Kamailio configs in pairs and the lab for several
#      edges with its Redis (pytest, tests/peers),
#   7. a smoke pass of each benchmark (meson suite 'bench-smoke', plain and
#      under ASan + UBSan): they still run, nothing is measured.
# Each run prints "<run>: N passed, N failed"; those lines are repeated
# together at the end, and the last line is "N passed, N failed" over all
# of them, so a failure anywhere fails the run. Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --asan || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0; counts=()
tally() { # run name, "passed failed"
  local p=${2% *} f=${2#* }
  passed=$((passed + p)); failed=$((failed + f))
  counts+=("$(printf '%-45s %d passed, %d failed' "$1:" "$p" "$f")")
  echo "${counts[-1]}"
}

meson_counts() { # testlog .json: "passed failed"; a missing log is a failure
  /usr/bin/python3 - "$1" <<'PY' || echo "0 1"
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r != "SKIP": f += 1
print(p, f)
PY
}

pytest_counts() { # junit xml: "passed failed"; a missing report is a failure
  /usr/bin/python3 - "$1" <<'PY' || echo "0 1"
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot()
s = s if s.tag == "testsuite" else s.find("testsuite")
t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
print(t - f - e - k, f + e if t else 1)
PY
}

# meson_suite build dir, suite, run name: each suite logs to its own
# meson-logs/<suite>.json, so a later run cannot hide an earlier one's result.
meson_suite() {
  rm -f "$1/meson-logs/$2.json"
  meson test -C "$1" --suite "$2" --logbase "$2" --print-errorlogs
  tally "$3" "$(meson_counts "$1/meson-logs/$2.json")"
}

asan() { # a command with the sanitizers' options
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$@"
}

echo "== sipwake unit tests"
meson_suite build unit "sipwake unit"

echo "== sipwake integration tests"
pytest-3 -q -p no:cacheprovider --junitxml=build/integration.xml tests/integration
tally "sipwake integration" "$(pytest_counts build/integration.xml)"

echo "== sipwake unit tests under ASan + UBSan"
asan meson_suite build-asan unit "sipwake unit, ASan + UBSan"

echo "== fuzz: a short pass of every target (tests/fuzz/targets, tests/fuzz/run.sh)"
# One test per target, passed when run.sh exits 0; only the tail of its log:
# libFuzzer's progress lines would drown the log.
fp=0; ff=0
while read -r t _ _ _ secs; do
  if tests/fuzz/run.sh "$secs" "$t" >"build/fuzz-$t.log" 2>&1 </dev/null; then
    tail -n 1 "build/fuzz-$t.log"; fp=$((fp + 1))
  else
    tail -n 60 "build/fuzz-$t.log"; ff=$((ff + 1))
  fi
done < <(grep -v '^#' tests/fuzz/targets)
[ $((fp + ff)) -gt 0 ] || ff=1 # no target run is a failure
tally "sipwake fuzz, every target" "$fp $ff"

echo "== sipwake integration tests against the ASan + UBSan sipwake"
SIPWAKE_BIN=$PWD/build-asan/app/sipwake ASAN_OPTIONS=detect_leaks=1 \
  pytest-3 -q -p no:cacheprovider --junitxml=build-asan/integration.xml tests/integration
tally "sipwake integration, ASan + UBSan sipwake" "$(pytest_counts build-asan/integration.xml)"

echo "== test peers: pd_testsrv's self-test"
meson_suite build peers "test peers, C"
asan meson_suite build-asan peers "test peers, C, ASan + UBSan"

echo "== test peers: sipp scenarios and Kamailio configs in pairs, the cluster lab"
pytest-3 -q -p no:cacheprovider --junitxml=build/peers.xml tests/peers
tally "test peers, sipp, Kamailio, cluster lab" "$(pytest_counts build/peers.xml)"

echo "== benchmark smoke passes"
meson_suite build bench-smoke "benchmark smoke"
asan meson_suite build-asan bench-smoke "benchmark smoke, ASan + UBSan"

echo "== counts"
printf '%s\n' "${counts[@]}"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
