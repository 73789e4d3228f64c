#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build libFuzzer targets with Debian's clang (needs clang and
# libclang-rt-14-dev; scripts/setup.sh installs both). Each target's sources
# (the code under test, libc- or library-only) are compiled in one clang
# call, all instrumented for coverage, ASan and UBSan (meson's build uses
# gcc); the libraries they call (libosip2, libconfig, jansson) are Debian's,
# not instrumented, but ASan's interceptors still check their string and
# memory calls.
#   tests/fuzz/build.sh [out-dir] [target]    default: build-fuzz scan
# target: a name of tests/fuzz/targets (scan, osip, config, ...), or all.
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

# fuzz_sip_scan.c: the scanner's invariants.
build_scan() {
  "${cc[@]}" sip/*.c tests/fuzz/fuzz_sip_scan.c -o "$out/fuzz_sip_scan"
  echo "$out/fuzz_sip_scan"
}

# fuzz_sip_osip.c: the scanner against libosip2 (libosip2-dev).
build_osip() {
  # shellcheck disable=SC2207
  local osip=($(pkg-config --cflags --libs libosip2))
  "${cc[@]}" -Itests/unit sip/*.c tests/unit/osip_cmp.c tests/fuzz/fuzz_sip_osip.c \
    "${osip[@]}" -o "$out/fuzz_sip_osip"
  echo "$out/fuzz_sip_osip"
}

# fuzz_config.c: the config loader, as --check-config runs it (libconfig;
# DPDK's headers only, for the types cp_config.h names).
build_config() {
  # shellcheck disable=SC2207
  local flags=($(pkg-config --cflags libdpdk libconfig)) libs=($(pkg-config --libs libconfig))
  "${cc[@]}" "${flags[@]}" controlplane/config/cp_config_{load,iface,filter,proxy,streams,cluster}.c \
    common/sw_config.c pushd/pd_config.c tests/fuzz/fuzz_config.c "${libs[@]}" \
    -o "$out/fuzz_config"
  echo "$out/fuzz_config"
}

# fuzz_pd_answer.c: pushd's reading of push-service answers
# (pushd/pd_verdict.c; jansson, and the headers pd_internal.h includes).
build_pd_answer() {
  # shellcheck disable=SC2207
  local flags=($(pkg-config --cflags jansson libnghttp2)) libs=($(pkg-config --libs jansson))
  "${cc[@]}" "${flags[@]}" pushd/pd_verdict.c tests/fuzz/fuzz_pd_answer.c "${libs[@]}" \
    -o "$out/fuzz_pd_answer"
  echo "$out/fuzz_pd_answer"
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

build_frame() { build_meson fuzz_st_frame; }  # SIP framing on a TCP stream
build_ws() { build_meson fuzz_st_ws; }        # WebSocket frames, against a model
build_register() { build_meson fuzz_cp_register; }  # REGISTERs through the control plane

names=$(sed -n 's/^\([a-z_0-9]\+\) .*/\1/p' tests/fuzz/targets)
if [ "$target" = all ]; then
  for t in $names; do "build_$t"; done
elif grep -qx "$target" <<<"$names"; then
  "build_$target"
else
  echo "build.sh: unknown target $target (all ${names//$'\n'/ })" >&2
  exit 2
fi
