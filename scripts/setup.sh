#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install everything sipwake needs on Debian 12 (apt-get, by package name) and
# build it. Idempotent and quiet: packages already present are not touched.
#   scripts/setup.sh            build ./build
#   scripts/setup.sh --asan     also build ./build-asan (ASan + UBSan)
#   scripts/setup.sh --bench    also install node + npm (node-apn side of scripts/bench-push.sh)
#                               and valgrind (scripts/bench-kamailio.py --callgrind)
#                               and kamailio-tls-modules (scripts/bench-tls.py)
#                               and python3-matplotlib (scripts/report.sh's plots)
set -euo pipefail
cd "$(dirname "$0")/.."

# Why each package is here: README.md, "Dependencies".
PKGS=(
  meson ninja-build pkg-config gcc clang-format
  dpdk dpdk-dev libdpdk-dev libosip2-dev liburcu-dev libnghttp2-dev libssl-dev
  libconfig-dev libsqlite3-dev libmnl-dev libcmocka-dev clang libclang-rt-14-dev libevent-dev libjansson-dev openssl curl
  sip-tester python3 python3-pytest python3-prometheus-client python3-websockets iproute2 iputils-ping ethtool procps
  systemd
  # The streams thread's WebSocket framing (RFC 7118, streams/st_ws.c).
  libwslay-dev
  # SipHash-2-4, the keyed hash of the workers' SYN challenges (dataplane/dp_admit.c).
  libsodium-dev
  # Bindings shared by several edges (cluster/, docs/cluster.md): the Redis
  # client library; the tests start their own redis-server and
  # redis-sentinel (the packages' services are disabled below).
  libhiredis-dev redis-server redis-sentinel
  # Tests and benchmarks only: the real registrar the integration tests
  # compare sipwake against (tests/integration/kamailio/registrar.cfg) and
  # the stateless benchmark peer (stateless.cfg), both run from a temp dir.
  kamailio
  # Tests only: real softphones over TLS through sipwake
  # (tests/integration/test_softphones_tls.py).
  linphone-cli baresip-core
  # Tests only: the reference decryptor of sealed pushes
  # (tests/integration/pushseal.py, docs/push-encryption.md).
  python3-cryptography
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs packages; the tests create network namespaces)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm only for the benchmark; a node from another repository may bring its own npm.
if [ "${1:-}" = "--bench" ] && ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
# valgrind only for scripts/bench-kamailio.py --callgrind (instructions per message).
if [ "${1:-}" = "--bench" ] && ! command -v valgrind >/dev/null; then
  missing+=(valgrind)
fi
# Kamailio's tls module only for scripts/bench-tls.py, Kamailio as the TLS
# edge sipwake's streams are measured against (tls_edge.cfg).
if [ "${1:-}" = "--bench" ] && ! dpkg-query -W -f='${Status}' kamailio-tls-modules 2>/dev/null \
    | grep -q "install ok installed"; then
  missing+=(kamailio-tls-modules)
fi
# matplotlib only for the plots of scripts/report.sh (scripts/report/plots.py).
if [ "${1:-}" = "--bench" ] && ! dpkg-query -W -f='${Status}' python3-matplotlib 2>/dev/null \
    | grep -q "install ok installed"; then
  missing+=(python3-matplotlib)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The tests start their own kamailio; the package's service (enabled on
# install, a SIP server on the host's 5060) must not run.
if [ -e /lib/systemd/system/kamailio.service ] && systemctl is-enabled kamailio >/dev/null 2>&1; then
  systemctl disable --now kamailio >/dev/null 2>&1 || true
fi

# Likewise Redis: the tests start their own servers and sentinels.
for svc in redis-server redis-sentinel; do
  if [ -e /lib/systemd/system/$svc.service ] && systemctl is-enabled $svc >/dev/null 2>&1; then
    systemctl disable --now $svc >/dev/null 2>&1 || true
  fi
done

build() { # dir, meson options...
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
  ninja -C "$dir" >/dev/null
}
build build
if [ "${1:-}" = "--asan" ]; then
  # b_lundef=false: sanitizer runtimes and DPDK's constructors link lazily.
  build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fi
echo "setup.sh: built $(./build/app/sipwake --version | head -1)"
