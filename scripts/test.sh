#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite: installs and builds (scripts/setup.sh), then
#   1. unit tests (C, cmocka) on the normal build,
#   2. integration tests (pytest: sipwake on net_af_packet in network
#      namespaces it creates and removes, sipp, ping, kernel sockets),
#   3. the unit tests again under ASan + UBSan,
#   4. 20 s of libFuzzer on the SIP scanner (tests/fuzz/run.sh), one test,
#   5. the integration tests against the ASan + UBSan sipwake (a sanitizer
#      report or a leak makes sipwake exit non-zero: every test asserts 0),
# and prints "N passed, N failed" last. Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --asan || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
count_meson() { # build dir: add its testlog.json results
  local r
  r=$(/usr/bin/python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r != "SKIP": f += 1
print(p, f)
PY
)
  passed=$((passed + ${r% *})); failed=$((failed + ${r#* }))
}

echo "== unit tests"
meson test -C build --suite unit --print-errorlogs; count_meson build

count_pytest() { # junit xml
  local r
  r=$(/usr/bin/python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot()
s = s if s.tag == "testsuite" else s.find("testsuite")
t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
print(t - f - e - k, f + e if t else 1)
PY
) || r="0 1"
  passed=$((passed + ${r% *})); failed=$((failed + ${r#* }))
}

echo "== integration tests"
pytest-3 -q -p no:cacheprovider --junitxml=build/integration.xml tests/integration
count_pytest build/integration.xml

echo "== unit tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --print-errorlogs; count_meson build-asan

echo "== fuzz: SIP scanner, 20 s (tests/fuzz/run.sh)"
# Only the tail: libFuzzer's progress lines would drown the log.
if tests/fuzz/run.sh 20 >build/fuzz.log 2>&1; then
  passed=$((passed + 1)); tail -n 1 build/fuzz.log
else
  failed=$((failed + 1)); tail -n 60 build/fuzz.log
fi

echo "== integration tests against the ASan + UBSan sipwake"
SIPWAKE_BIN=$PWD/build-asan/app/sipwake ASAN_OPTIONS=detect_leaks=1 \
  pytest-3 -q -p no:cacheprovider --junitxml=build-asan/integration.xml tests/integration
count_pytest build-asan/integration.xml

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
