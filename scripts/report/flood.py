# SPDX-License-Identifier: BSD-3-Clause
"""Step flood: legitimate calls' success and latency against the junk rate.

tests/integration/test_flood_calls.py (sipp calls at a steady rate while
tests/flood/sw_flood sends junk at --rate) writes build/test_flood_calls.json.
This step runs it once per junk rate and collects the points. What it hands
the test, and what it reads back (the interface the report expects):

  environment   SW_FLOOD_JUNK_RATE   junk frames/s for sw_flood --rate
                SW_FLOOD_CALLS_JSON  where to write the JSON (else the test's
                                     default, build/test_flood_calls.json)
                SW_FLOOD_QUICK       1: smoke size (scripts/report.sh --quick)
  JSON          one point, or {"points": [...]} of several; a point's keys
                (first found): junk rate  junk_rate | junk_pps | rate;
                success  success | success_ratio | ok_ratio (0..1);
                latency  latency_p50_ms | p50_ms, latency_p99_ms | p99_ms

A test that runs its own list of junk rates and writes {"points": [...]}
is run once. Without the test in the tree the step is "not run" with the
reason; it never blocks the rest of the report.
"""
import json
import os
import time

from common import BUILD, REPO, StepError, log, sh

TEST = os.path.join(REPO, "tests", "integration", "test_flood_calls.py")
DEFAULT_JSON = os.path.join(BUILD, "test_flood_calls.json")
KEYS = {"junk_rate": ("junk_rate", "junk_pps", "rate"),
        "success": ("success", "success_ratio", "ok_ratio"),
        "p50_ms": ("latency_p50_ms", "p50_ms"),
        "p99_ms": ("latency_p99_ms", "p99_ms")}


def point(raw, asked=None):
    p = {}
    for k, names in KEYS.items():
        p[k] = next((raw[n] for n in names if isinstance(raw.get(n), (int, float))), None)
    if p["junk_rate"] is None:
        p["junk_rate"] = asked
    p["raw"] = {k: v for k, v in raw.items() if isinstance(v, (int, float, str, bool))}
    return p


def points_of(doc, asked):
    if isinstance(doc, dict) and isinstance(doc.get("points"), list):
        return [point(x, None) for x in doc["points"] if isinstance(x, dict)]
    if isinstance(doc, dict):
        return [point(doc, asked)]
    raise StepError("%s: neither a point nor {\"points\": [...]}" % DEFAULT_JSON)


def one(rate, quick, out_json):
    for f in (out_json, DEFAULT_JSON):
        if os.path.exists(f):
            os.unlink(f)
    t0 = time.monotonic()
    sh(["flock", "/tmp/sw-integration.lock", "/usr/bin/python3", "-m", "pytest", "-q",
        "-p", "no:cacheprovider", TEST],
       300 if quick else 1200, cwd=os.path.join(REPO, "tests", "integration"),
       env={"SW_FLOOD_JUNK_RATE": str(rate), "SW_FLOOD_CALLS_JSON": out_json,
            "SW_FLOOD_QUICK": "1" if quick else "0"})
    log("flood at %d junk frames/s" % rate, time.monotonic() - t0)
    for f in (out_json, DEFAULT_JSON):
        if os.path.exists(f):
            with open(f) as fh:
                return points_of(json.load(fh), rate)
    raise StepError("test_flood_calls.py passed but wrote no JSON (%s)" % DEFAULT_JSON)


def run(quick, outdir):
    if not os.path.exists(TEST):
        return {"not_run": "tests/integration/test_flood_calls.py is not in this tree"}
    rates = [0, 20000] if quick else [0, 10000, 50000, 100000, 200000, 400000]
    pts = []
    for rate in rates:
        got = one(rate, quick, os.path.join(outdir, "flood-%d.json" % rate))
        pts += got
        if len(got) > 1:  # the test ran its own list of rates
            break
    pts.sort(key=lambda p: (p["junk_rate"] is None, p["junk_rate"] or 0))
    return {"rates_asked": rates, "points": pts,
            "limit": {"by": "see the points", "why": "sw_flood's achieved rate is in each "
                      "point's raw figures when the test reports it"}}
