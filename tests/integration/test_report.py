# SPDX-License-Identifier: BSD-3-Clause
"""The report's renderer (scripts/report/render.py, docs/performance.md,
"The report: scripts/report.sh") on a small report.json
(report_fixture.json: a --quick run's, wake samples thinned, flood points
made up): every section is there, each figure is the fixture's, the ratios
are computed from it, and the plots are PNG files the markdown links to.
A step that did not run or failed says so in its section. No benchmark runs
here (under a second); the whole report at smoke size is
test_report_smoke.py, in the bench-smoke suite."""
import copy
import json
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")
REPORT = os.path.join(REPO, "scripts", "report")

HAVE_MPL = subprocess.run(["/usr/bin/python3", "-c", "import matplotlib"],
                          capture_output=True).returncode == 0

PNG = b"\x89PNG\r\n\x1a\n"


def fixture():
    with open(os.path.join(HERE, "report_fixture.json")) as f:
        return json.load(f)


def render(tmp_path, data, env=None):
    """render.py as a user runs it (its own process: /usr/bin/python3 has
    Debian's matplotlib): the markdown's text and the plot directory."""
    js, md, plots = tmp_path / "report.json", tmp_path / "out" / "report.md", tmp_path / "out" / "p"
    js.write_text(json.dumps(data))
    p = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "report", "render.py"),
                        str(js), "--md", str(md), "--plots", str(plots)],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, **(env or {})))
    assert p.returncode == 0, p.stdout + p.stderr
    return md.read_text(), plots


def in_report(code):
    """@code run with scripts/report/ importable, in a process of its own
    (its modules' plain names, common, flood, ..., stay out of pytest's);
    what it prints, as JSON."""
    p = subprocess.run(["/usr/bin/python3", "-c", "import json, sys; sys.path.insert(0, %r)\n%s"
                        % (REPORT, code)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def headings():
    return in_report("import render\nprint(json.dumps([h for h, _ in render.SECTIONS]))")


PLOTS = ["cycles.png", "e2e.png", "flood.png", "wake.png"]


def section(md, heading):
    body = md.split("## " + heading + "\n", 1)[1]
    return body.split("\n## ", 1)[0]


@pytest.mark.skipif(not HAVE_MPL, reason="python3-matplotlib missing (scripts/setup.sh --bench)")
def test_every_section_and_plot_from_the_fixture(tmp_path):
    data = fixture()
    # sipp times set-up in whole ms: 0 is a call set up within one.
    data["flood"]["points"][0]["p50_ms"] = 0.0
    md, plots = render(tmp_path, data)
    heads = re.findall(r"^## (.+)$", md, re.M)
    assert heads == headings(), heads
    # Machine, date and commit come from the JSON.
    mach = section(md, "Machine and run")
    for v in (data["meta"]["date"], data["meta"]["machine"]["cpu"],
              data["meta"]["machine"]["kernel"], "`fixture`"):
        assert str(v) in mach, (v, mach)
    # Every plot written, a PNG, and linked from the markdown by a path
    # that resolves from the markdown's directory.
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", md)
    assert sorted(os.path.basename(x) for x in links) == PLOTS, links
    for link in links:
        path = os.path.join(tmp_path, "out", link)
        with open(path, "rb") as f:
            assert f.read(8) == PNG, link
        assert os.path.getsize(path) > 5000, link  # axes and bars, not an empty canvas
    assert sorted(os.listdir(plots)) == PLOTS
    # Figures are the fixture's; ratios are computed from them.
    dp = section(md, "Dataplane: bench_dp per traffic mix")
    for name, m in data["dp"]["mixes"].items():
        assert re.search(r"^\| %s \|.*\| %.0f \| %.0f \|" % (re.escape(name), m["sw_cycles"],
                                                            m["hw_cycles"]), dp, re.M), name
    kam = data["kamailio"]
    st = kam["modes"]["stateless"]
    assert "%.1f×" % (st["cycles"] / kam["sipwake_sw"]) in section(
        md, "Kamailio on the same messages")
    reg = data["reg"]["backends"]
    assert "%.2f×" % (reg["redis"]["per_s"] / reg["sqlite"]["per_s"]) in section(
        md, "REGISTER/s per store backend (bench_reg)")
    e2e = section(md, "End-to-end calls per second (sipp)")
    assert re.search(r"^\| sipwake \| %d \|" % data["e2e"]["sipwake"]["best_rate"], e2e, re.M)
    wake = section(md, "The wake path (bench_wake)")
    a = data["wake"]["all_samples"]["a"]
    assert "| %d | %.1f | %.1f |" % (len(data["wake"]["samples"]["a"]), a["p50_us"],
                                     a["p90_us"]) in wake, wake
    flood = section(md, "Calls under a junk flood")
    assert "| 19870 | 20000 | 100.00 % | < 1 | 10 | passed |" in flood, flood
    assert "| 412000 | max | 99.80 % | 4 | 22 | failed: made up |" in flood, flood
    # The streams' and the edges' floods, a row each.
    assert ("| TLS, WSS and TCP apps; a SYN flood and half-open handshakes | 99999 | 72492 | "
            "100.00 % | 56 | 272 | 924148 / 109 | passed |") in flood, flood
    assert ("| two edges sharing Redis, both flooded | — | — | — | — | — | — | "
            "failed: made up too |") in flood, flood
    # Each limit the steps found is in the closing table.
    lim = section(md, "What limits each figure")
    assert lim.count("\n| ") - 1 >= 10, lim
    assert "load generator (Kamailio busy" in lim


def test_without_matplotlib_every_section_and_no_plot(tmp_path):
    """Where python3-matplotlib is missing (it comes with scripts/setup.sh
    --bench), the report still renders with every figure and says why it has
    no plots: a matplotlib that cannot be imported shadows Debian's."""
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    md, plots = render(tmp_path, fixture(), env={"PYTHONPATH": str(tmp_path / "fake")})
    assert re.findall(r"^## (.+)$", md, re.M) == headings()
    assert "**plots not drawn: no matplotlib here (scripts/setup.sh --bench installs " \
        "python3-matplotlib).**" in md, md[:1500]
    assert "![" not in md and not os.path.exists(plots)
    assert "| fwd-call |" in section(md, "Dataplane: bench_dp per traffic mix")


@pytest.mark.skipif(not HAVE_MPL, reason="python3-matplotlib missing (scripts/setup.sh --bench)")
def test_steps_not_run_or_failed_say_why(tmp_path):
    data = copy.deepcopy(fixture())
    data["flood"] = {"not_run": "tests/integration/test_flood_calls.py is not in this tree"}
    data["wake"] = {"failed": "StepError: bench_wake exited 1: cannot start pd_testsrv"}
    data["dp"] = {"not_run": "left out (--steps)"}
    md, plots = render(tmp_path, data)
    assert section(md, "Calls under a junk flood").strip() == \
        "not run: tests/integration/test_flood_calls.py is not in this tree"
    assert section(md, "The wake path (bench_wake)").strip().startswith(
        "failed: StepError: bench_wake exited 1")
    assert section(md, "Dataplane: bench_dp per traffic mix").strip() == \
        "not run: left out (--steps)"
    # Only the plots whose figures are there; the markdown links no other.
    assert sorted(os.listdir(plots)) == ["e2e.png"]
    assert re.findall(r"!\[[^]]*\]\(([^)]+)\)", md) == ["p/e2e.png"]


def test_flood_point_from_test_flood_calls_json():
    """The flood step reads build/test_flood_calls.json as
    tests/integration/test_flood_calls.py writes it (junk_pps, calls,
    setup_ms): success from the calls, latency from the set-up times."""
    summary = {"junk_pps": 151234.5, "calls": {"attempted": 60, "succeeded": 57, "failed": 3},
               "setup_ms": {"n": 57, "p50": 2.5, "p90": 4.0, "p99": 11.0, "max": 30.0},
               "flood": {"sent": {"junk": 1}}, "lost": 0}
    (p,) = in_report("import flood\nprint(json.dumps(flood.points_of(%r, 150000)))" % summary)
    assert (p["junk_rate"], p["asked"], p["p50_ms"], p["p99_ms"]) == (151234.5, 150000, 2.5, 11.0)
    assert p["success"] == 57 / 60
    # Another writer's list of points, each with the report's own keys.
    other = {"points": [{"junk_rate": 0, "success": 1.0, "p50_ms": 1.0},
                        {"junk_rate": 9e5, "success_ratio": 0.5}]}
    pts = in_report("import flood\nprint(json.dumps(flood.points_of(%r, None)))" % other)
    assert [(x["junk_rate"], x["success"], x["p50_ms"]) for x in pts] == [
        (0, 1.0, 1.0), (9e5, 0.5, None)]
