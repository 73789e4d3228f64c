#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer target for the SIP scanner with Debian's clang (needs
# clang and libclang-rt-14-dev; scripts/setup.sh installs both). The scanner
# is libc-only, so its sources and the target are compiled in one clang call,
# all instrumented for coverage, ASan and UBSan (meson's build uses gcc).
#   tests/fuzz/build.sh [out-dir]     default: build-fuzz
# Prints the path of the binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build-fuzz}
mkdir -p "$out"
# The vector spans, as meson builds them (dataplane/meson.build).
simd=()
[ "$(uname -m)" = x86_64 ] && simd=(-mssse3)
"${CC_FUZZ:-clang}" -g -O1 -std=gnu11 -Wall -Wextra -Werror "${simd[@]}" \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. sip/*.c tests/fuzz/fuzz_sip_scan.c -o "$out/fuzz_sip_scan"
echo "$out/fuzz_sip_scan"
