#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The long fuzz runs: each target of tests/fuzz/targets (or those named)
# fuzzed until its fuzzers have used CPU_SECONDS of CPU (default 3600: the
# CPU hour per target tests/README.md asks of a release), in rounds of
# tests/fuzz/run.sh (ROUND_S wall seconds each, default 600, FUZZ_JOBS
# processes, default 1), in the idle scheduling class (chrt --idle: CPU
# only when nothing else wants it) so that other work on the machine goes
# first, each round going on from the corpus the last one grew
# (build-fuzz/long/<target>/). CPU time is what the rounds' processes used
# (user + system, measured by /usr/bin/time), not wall time; it includes
# each round's build of the target (run.sh), a few seconds.
#   tests/fuzz/long.sh [CPU_SECONDS] [target ...]
# One line per target goes to build-fuzz/long.tsv: target, CPU seconds,
# wall seconds, rounds, inputs run, corpus size (committed -> grown), result.
# Each round's log is build-fuzz/long/<target>.round<N>.log, N going on from
# the logs already there.
# FUZZ_JOBS: one process per target, by default. libFuzzer's -fork mode (run.sh
# with FUZZ_JOBS > 1) ran at a tenth of one process's rate here: LeakSanitizer
# stops each short job at its exit. On two CPUs, run two long.sh side by side,
# one target each. Not beside the integration tests or CI: even in the idle
# class, two fuzzers made this VM's namespace set-up (ip link set netns)
# time out and test_ipv6.py take 45-130 s instead of 22 (the VM's CPU share
# is spent whatever the guest's priorities). Stop it (kill) for them and
# start it again later: the corpus stays. Never kill -STOP a fuzzer: on
# -CONT, libFuzzer counts the pause against the input it was running and
# reports a timeout. Nor edit this script while it runs (bash reads it as
# it goes): run it from a worktree of its own.
# A crash, leak or broken invariant stops that target's rounds with run.sh's
# reproducer and message; the other targets still run; exit 1 at the end.
set -uo pipefail
cd "$(dirname "$0")/../.."
cpu_goal=${1:-3600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(grep -v '^#' tests/fuzz/targets | awk 'NF {print $1}')
round_s=${ROUND_S:-600}
export FUZZ_JOBS=${FUZZ_JOBS:-1}
mkdir -p build-fuzz/long
status=0
for t in "${targets[@]}"; do
  export FUZZ_CORPUS=build-fuzz/long/$t
  cpu=0 wall=0 rounds=0 runs=0 result=ok
  while awk -v c="$cpu" -v g="$cpu_goal" 'BEGIN {exit !(c < g)}'; do
    log=build-fuzz/long/$t.round$(ls build-fuzz/long/"$t".round*.log 2>/dev/null | wc -l).log
    # The last round runs only what is left of the goal (and 15 s more, for
    # the build and the corpus load), not a whole ROUND_S past it.
    secs=$(awk -v c="$cpu" -v g="$cpu_goal" -v r="$round_s" \
      'BEGIN {s = g - c + 15; if (s > r) s = r; if (s < 30) s = 30; printf "%.0f", s}')
    /usr/bin/time -f '%e %U %S' -o build-fuzz/long/time.$t chrt --idle 0 \
      tests/fuzz/run.sh "$secs" "$t" >"$log" 2>&1 </dev/null
    rc=$?
    read -r e u s <build-fuzz/long/time.$t
    cpu=$(awk -v c="$cpu" -v u="$u" -v s="$s" 'BEGIN {printf "%.0f", c + u + s}')
    wall=$(awk -v w="$wall" -v e="$e" 'BEGIN {printf "%.0f", w + e}')
    rounds=$((rounds + 1))
    n=$(sed -n 's/^run.sh: .*no crash: \([0-9]*\) runs.*/\1/p' "$log")
    runs=$((runs + ${n:-0}))
    echo "long.sh: $t round $rounds: cpu ${cpu}s of ${cpu_goal}s, exit $rc"
    if [ "$rc" -ne 0 ]; then
      result="failed (round $rounds: $log)"
      tail -n 30 "$log"
      status=1
      break
    fi
  done
  read -r _ corpus _ < <(grep "^$t " tests/fuzz/targets)
  printf '%s\t%s\t%s\t%s\t%s\t%s -> %s\t%s\n' "$t" "$cpu" "$wall" "$rounds" "$runs" \
    "$(ls "tests/fuzz/$corpus" | wc -l)" "$(ls "$FUZZ_CORPUS" | wc -l)" "$result" |
    tee -a build-fuzz/long.tsv
done
exit $status
