#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build a SIP scanner fuzz target (tests/fuzz/build.sh) and run it for a
# while on a copy of the seed corpus in a temporary directory, so the repo's
# corpus/ stays as committed.
#   tests/fuzz/run.sh [seconds] [target]    default 30 scan
# target: scan (fuzz_sip_scan.c, the scanner's invariants) or osip
# (fuzz_sip_osip.c, the scanner against libosip2), or one of build.sh's
# other targets (frame, ws, register), each on its own corpus directory
# (tests/README.md, "Fuzz targets over the streams and the REGISTER
# relay"). For osip, the first inputs
# of each kind of disagreement are kept in $SIP_OSIP_DISAGREE_DIR (default
# build-fuzz/osip-disagree/, emptied first) and their counts are printed at
# the end.
# Exits non-zero on a crash, leak, timeout or broken invariant; the
# reproducer is then copied to build-fuzz/ and printed as hex, ready to be
# added to tests/fuzz/corpus/ once the scanner is fixed.
# FUZZ_JOBS=N runs N fuzzing processes in parallel (default 1).
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
target=${2:-scan}
bin=$(tests/fuzz/build.sh build-fuzz "$target") || exit 1
if [ "$target" = osip ]; then
  if [ -z "${SIP_OSIP_DISAGREE_DIR:-}" ]; then
    export SIP_OSIP_DISAGREE_DIR=build-fuzz/osip-disagree
    rm -rf "$SIP_OSIP_DISAGREE_DIR"
  fi
  mkdir -p "$SIP_OSIP_DISAGREE_DIR"
  # libosip2's own leaks are not ours (lsan_osip.supp).
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan_osip.supp}
fi
corpus=tests/fuzz/corpus
case "$target" in
  frame) corpus=tests/fuzz/corpus_stream ;;
  ws) corpus=tests/fuzz/corpus_ws ;;
  register) corpus=tests/fuzz/corpus_register ;;
esac
work=$(mktemp -d /tmp/sipwake-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp "$corpus"/* "$work/corpus/"

args=(-max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -max_len=4096
      -dict=tests/fuzz/sip.dict -print_final_stats=1
      -artifact_prefix="$work/artifacts/")
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
  args+=(-fork="$FUZZ_JOBS")
fi
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin" "${args[@]}" "$work/corpus" 2>&1 |
  tee "$work/log"
rc=${PIPESTATUS[0]}

found=0
for f in "$work"/artifacts/*; do
  [ -e "$f" ] || continue
  found=1
  cp "$f" build-fuzz/
  echo "run.sh: reproducer build-fuzz/$(basename "$f") ($(stat -c %s "$f") bytes):"
  od -A d -t x1z -v "$f" | head -40
done
if [ "$target" = osip ]; then
  echo "run.sh: disagreements kept in $SIP_OSIP_DISAGREE_DIR:"
  grep -a '^fuzz_sip_osip: ' "$work/log" | grep -av 'new kind' | tail -n 70
fi
if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
  echo "run.sh: fuzzing failed (exit $rc)"
  exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
echo "run.sh: no crash: ${runs:-?} runs in ${secs} s (${rate:-?} exec/s)," \
  "corpus $(ls "$corpus" | wc -l) -> $(ls "$work/corpus" | wc -l) inputs"
