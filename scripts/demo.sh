#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install, build, and show sipwake answering real SIP on a virtual network.
# --edges 2: two edges sharing their bindings through Redis instead
# (scripts/demo_cluster.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec /usr/bin/python3 scripts/demo.py "$@"
