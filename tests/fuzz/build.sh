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
#   frame  fuzz_st_frame.c: SIP framing on a TCP stream, one write against chunks
#   ws     fuzz_st_ws.c: WebSocket frames on a WS connection, against a model
#   register  fuzz_cp_register.c: REGISTERs and the PBX's answers through the control plane
#   all    every target
# frame, ws and register link DPDK, libevent, wslay, SQLite...: they are built
# by meson with clang in $out/meson, every library instrumented
# (-fsanitize=fuzzer-no-link, ASan, UBSan; tests/fuzz/meson.build).
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

build_meson() { # executable name in tests/fuzz/
  local dir=$out/meson
  if [ ! -f "$dir/build.ninja" ]; then
    CC=${CC_FUZZ:-clang} meson setup "$dir" -Dbuildtype=debug -Doptimization=1 \
      -Db_sanitize=address,undefined -Db_lundef=false \
      -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" >&2 || return 1
  fi
  ninja -C "$dir" -j"${FUZZ_BUILD_JOBS:-2}" "tests/fuzz/$1" >&2 || return 1
  echo "$dir/tests/fuzz/$1"
}

case "$target" in
  scan) build_scan ;;
  osip) build_osip ;;
  frame) build_meson fuzz_st_frame ;;
  ws) build_meson fuzz_st_ws ;;
  register) build_meson fuzz_cp_register ;;
  all)
    build_scan
    build_osip
    build_meson fuzz_st_frame
    build_meson fuzz_st_ws
    build_meson fuzz_cp_register
    ;;
  *) echo "build.sh: unknown target $target (scan, osip, frame, ws, register, all)" >&2; exit 2 ;;
esac
