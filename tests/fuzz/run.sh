#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build a fuzz target (tests/fuzz/build.sh) and run it for a while on a copy
# of its seed corpus in a temporary directory, so the repo's corpus stays as
# committed.
#   tests/fuzz/run.sh [seconds] [target]    default 30 scan
# target: a name of tests/fuzz/targets (scan, osip, config, ...), whose line
# gives its corpus, dictionary and longest input. For osip
# (fuzz_sip_osip.c, the scanner against libosip2), the first inputs of each
# kind of disagreement are kept in $SIP_OSIP_DISAGREE_DIR (default
# build-fuzz/osip-disagree/, emptied first) and their counts are printed at
# the end.
# Exits non-zero on a crash, leak, timeout, out-of-memory or broken
# invariant; the reproducer is then copied to build-fuzz/ and printed as
# hex, ready to be added to the target's corpus once the code is fixed.
# FUZZ_JOBS=N runs N fuzzing processes in parallel (default 1).
# FUZZ_CORPUS=DIR fuzzes DIR (seeded with the committed corpus when it is
# empty) and keeps what it grows there, for runs in rounds (tests/fuzz/long.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
target=${2:-scan}
# shellcheck disable=SC2034
read -r _ corpus dict max_len _ < <(grep "^$target " tests/fuzz/targets) ||
  { echo "run.sh: unknown target $target (tests/fuzz/targets)" >&2; exit 2; }
bin=$(tests/fuzz/build.sh build-fuzz "$target") || exit 1
if [ "$target" = osip ]; then
  if [ -z "${SIP_OSIP_DISAGREE_DIR:-}" ]; then
    export SIP_OSIP_DISAGREE_DIR=build-fuzz/osip-disagree
    rm -rf "$SIP_OSIP_DISAGREE_DIR"
  fi
  mkdir -p "$SIP_OSIP_DISAGREE_DIR"
fi
# A library's own leaks are not ours (tests/fuzz/lsan_<target>.supp says whose).
if [ -f "tests/fuzz/lsan_$target.supp" ]; then
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan_$target.supp}
fi
work=$(mktemp -d /tmp/sipwake-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/artifacts"
if [ -n "${FUZZ_CORPUS:-}" ]; then
  mkdir -p "$FUZZ_CORPUS"
  [ -n "$(ls -A "$FUZZ_CORPUS")" ] || cp "tests/fuzz/$corpus"/* "$FUZZ_CORPUS/"
  ln -s "$(realpath "$FUZZ_CORPUS")" "$work/corpus"
else
  mkdir -p "$work/corpus"
  cp "tests/fuzz/$corpus"/* "$work/corpus/"
fi

# malloc_limit_mb: one allocation over 256 MiB is a crash (an unbounded
# allocation driven by the input), as is the whole process over 1 GiB.
args=(-max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -malloc_limit_mb=256
      -max_len="$max_len" -dict="tests/fuzz/$dict" -print_final_stats=1
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
  echo "run.sh: $target: fuzzing failed (exit $rc)"
  exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
# -fork prints no final stats: its last status line has the count.
[ -n "$runs" ] || runs=$(grep -ao '^#[0-9]*:' "$work/log" | tail -n 1 | tr -d '#:')
[ -n "$rate" ] || rate=$(grep -ao 'exec/s [0-9]*' "$work/log" | tail -n 1 | cut -d' ' -f2)
echo "run.sh: $target: no crash: ${runs:-?} runs in ${secs} s (${rate:-?} exec/s)," \
  "corpus $(ls "tests/fuzz/$corpus" | wc -l) -> $(ls "$work/corpus" | wc -l) inputs"
