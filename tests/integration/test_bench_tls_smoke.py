# SPDX-License-Identifier: BSD-3-Clause
"""The smoke pass of scripts/bench-tls.py (docs/performance.md,
"bench-tls.py"): tiny counts, once, so the benchmark cannot rot. It checks
that the benchmark ran and printed its table with figures, not what they
are: benchmarks assert no target (docs/design.md §7). Kamailio's part is
left out only when its tls module (kamailio-tls-modules) is missing.

Counted with the benchmark smoke passes, not with sipwake's tests: the
meson test bench_tls_smoke (suite 'bench-smoke', bench/meson.build) runs
this file with SW_BENCH_SMOKE=1; in the integration suite it is skipped."""
import json
import os
import subprocess

import pytest

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TLS_MOD = "/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so"
GEN = os.path.join(os.path.dirname(os.environ.get("SIPWAKE_BIN", os.path.join(
    REPO, "build", "app", "sipwake"))), "..", "bench", "bench_tls")

pytestmark = [pytest.mark.skipif(not os.environ.get("SW_BENCH_SMOKE"),
                                 reason="a benchmark's smoke pass: meson suite bench-smoke"),
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
              pytest.mark.skipif(not os.path.exists(GEN), reason="bench/bench_tls not built")]


def test_bench_tls_smoke():
    p = subprocess.run([os.path.join(REPO, "scripts", "bench-tls.py"), "--smoke"],
                       capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr[-3000:]
    assert p.returncode == 0, out
    assert "| TLS handshakes/s |" in p.stdout, out
    res = json.loads(p.stdout.split("RESULTS ", 1)[1].splitlines()[0])
    edges = ["sipwake"] + (["kamailio"] if os.path.exists(TLS_MOD) else [])
    for e in edges:
        (r,) = res[e]
        for k in ("hs", "msg", "mem_per_conn", "idle_held"):
            assert r[k] > 0, (e, k, out)
