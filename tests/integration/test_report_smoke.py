# SPDX-License-Identifier: BSD-3-Clause
"""The smoke pass of scripts/report.sh (docs/performance.md, "The report:
scripts/report.sh"): scripts/report/run.py --quick, every step at smoke size
(~50 s here), into a temporary directory, so the report cannot rot. It
checks that each step ran and its parser found the figures its section
shows, not what they are: benchmarks assert no target (docs/design.md §7).
The flood step is left out: it runs tests/integration/test_flood_calls.py,
a test of its own.

Counted with the benchmark smoke passes: the meson test report_smoke (suite
'bench-smoke', bench/meson.build) runs this file with SW_BENCH_SMOKE=1; in
the integration suite it is skipped."""
import json
import os
import re
import signal
import subprocess

import pytest

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
RUN = os.path.join(REPO, "scripts", "report", "run.py")
STEPS = "dp,kamailio,tls,e2e,push,wake,reg,cluster"

pytestmark = [pytest.mark.skipif(not os.environ.get("SW_BENCH_SMOKE"),
                                 reason="a benchmark's smoke pass: meson suite bench-smoke"),
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root (DPDK EAL, namespaces)"),
              # The report runs build/'s benchmarks whichever build's suite
              # runs this: once, from the plain build, is enough.
              pytest.mark.skipif("build-asan" in os.environ.get("SIPWAKE_BIN", ""),
                                 reason="the report runs build/'s binaries: not again for ASan")]


def run(cmd, timeout):
    """@cmd in a session of its own, ended whole (SIGTERM, then SIGKILL) if
    it outlives @timeout: (exit code, stdout + stderr)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        pytest.fail("report.sh --quick did not end within %d s:\n%s" % (timeout, out[-4000:]))
    return p.returncode, out


def test_report_quick(tmp_path):
    md, plots, out = tmp_path / "report.md", tmp_path / "plots", tmp_path / "out"
    # ~50 s of benchmarks; the rest of the bound is for the locks (the
    # benchmark lock, and the integration lock the lab steps take), which
    # other runs on a shared machine may hold.
    rc, log = run(["flock", "/tmp/sw-bench.lock", "/usr/bin/python3", RUN, "--quick",
                   "--steps", STEPS, "--out", str(out), "--md", str(md), "--plots", str(plots)],
                  540)
    assert rc == 0, log[-6000:]
    with open(out / "report.json") as f:
        data = json.load(f)
    for step in STEPS.split(","):
        assert data["meta"]["steps"][step]["status"] == "ok", (step, data[step], log)
    assert data["meta"]["steps"]["flood"]["status"] == "not run"
    mixes = data["dp"]["mixes"]
    assert {"junk-64B", "fwd-call", "realistic"} <= set(mixes), mixes
    assert all(m["sw_cycles"] > 0 and m["hw_cycles"] > 0 for m in mixes.values()), mixes
    kam = data["kamailio"]
    assert kam["sipwake_sw"] > 0 and set(kam["modes"]) == {"stateless", "registrar"}, kam
    assert data["tls"]["edges"]["sipwake"]["hs"] > 0, data["tls"]
    for edge in ("sipwake", "kamailio"):
        e = data["e2e"][edge]
        assert e.get("best_rate", 0) > 0, (edge, e)
    assert data["push"]["rtt"]["0"]["pushd"]["pps"] > 0, data["push"]
    wake = data["wake"]
    assert len(wake["samples"]["a"]) == len(wake["samples"]["b"]) == 200, wake["all_samples"]
    assert wake["median_of_runs"]["a"]["p99_us"] > 0, wake["median_of_runs"]
    reg = data["reg"]["backends"]
    assert all(reg[b]["per_s"] > 0 for b in ("sqlite", "none", "redis", "redis16")), reg
    assert all(v is not None for _, _, _, v in data["cluster"]["shown"]), data["cluster"]
    text = md.read_text()
    assert len(re.findall(r"^## ", text, re.M)) == 11, text[:3000]
    # Every step ran; only node-apn may be missing: scripts/report.sh installs
    # it (npm), the test command does not.
    before_flood = text.split("## Calls under a junk flood")[0]
    assert "not run: " not in re.sub(r"node-apn not run: [^\n]*", "", before_flood), text
    have_mpl = subprocess.run(["/usr/bin/python3", "-c", "import matplotlib"]).returncode == 0
    if have_mpl:
        assert sorted(os.listdir(plots)) == ["cycles.png", "e2e.png", "wake.png"]
    else:
        assert "plots not drawn" in text and not os.path.exists(plots)
