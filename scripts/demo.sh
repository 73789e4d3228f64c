#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install, build, and show sipwake answering real SIP on a virtual network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec /usr/bin/python3 scripts/demo.py "$@"
