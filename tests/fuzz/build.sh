#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build a libFuzzer target for the SIP scanner with Debian's clang (needs
# clang and libclang-rt-14-dev; scripts/setup.sh installs both). The scanner
# is libc-only, so its sources and the target are compiled in one clang call,
# all instrumented for coverage, ASan and UBSan (meson's build uses gcc).
#   tests/fuzz/build.sh [out-dir] [target]    default: build-fuzz scan
# Targets:
#   scan   fuzz_sip_scan.c: the scanner's invariants
#   osip   fuzz_sip_osip.c: the scanner against libosip2 (libosip2-dev; the
#          library itself is Debian's, not instrumented, but ASan's
#          interceptors still check its string and memory calls)
#   all    both
# Prints the path of each binary built.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build-fuzz}
target=${2:-scan}
mkdir -p "$out"
# The vector spans, as meson builds them (dataplane/meson.build).
simd=()
[ "$(uname -m)" = x86_64 ] && simd=(-mssse3)
cc=("${CC_FUZZ:-clang}" -g -O1 -std=gnu11 -Wall -Wextra -Werror "${simd[@]}"
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I.)

build_scan() {
  "${cc[@]}" sip/*.c tests/fuzz/fuzz_sip_scan.c -o "$out/fuzz_sip_scan"
  echo "$out/fuzz_sip_scan"
}

build_osip() {
  # shellcheck disable=SC2207
  local osip=($(pkg-config --cflags --libs libosip2))
  "${cc[@]}" -Itests/unit sip/*.c tests/unit/osip_cmp.c tests/fuzz/fuzz_sip_osip.c \
    "${osip[@]}" -o "$out/fuzz_sip_osip"
  echo "$out/fuzz_sip_osip"
}

case "$target" in
  scan) build_scan ;;
  osip) build_osip ;;
  all) build_scan; build_osip ;;
  *) echo "build.sh: unknown target $target (scan, osip, all)" >&2; exit 2 ;;
esac
