# SPDX-License-Identifier: BSD-3-Clause
"""Step flood: legitimate calls' success and set-up latency against the
junk rate, and the same under the floods of the other transports and of
several edges.

tests/integration/test_flood_calls.py (a sipp PBX placing calls at a steady
rate while tests/flood/sw_flood sends junk; tests/integration/floodkit.py)
writes build/test_flood_calls.json. This step runs it once per junk rate and
collects the points. The interface it relies on:

  environment   FLOOD_RATE  sw_flood --rate, junk frames/s (0: as fast as
                            the sender goes), floodkit.flood_rate()
  JSON          junk_pps (the rate sw_flood reached), calls.attempted,
                calls.succeeded, setup_ms.p50 / .p99; or, from another
                writer, one point or {"points": [...]} with junk_rate,
                success (0..1), p50_ms, p99_ms

The test's own assertions (junk at ten times the legitimate frames, every
call as planned) may fail at a low junk rate or under a heavy one: the
point is still taken from the JSON it wrote first, with the test's outcome
beside it. Without the test in the tree the step is "not run" with the
reason; it never blocks the rest of the report.

Then (not with --quick) each test of OTHERS once at its own rate: the apps
over TLS, WSS and TCP through a SYN flood and half-open handshakes
(test_flood_streams.py), and two edges flooded at once (test_flood_edges.py),
each a row of "others" with its point (the same keys) and, for streams, the
SYN rate and the challenges and proofs it counted.
"""
import json
import os
import time

from common import BUILD, REPO, StepError, log, sh

TEST = os.path.join(REPO, "tests", "integration", "test_flood_calls.py")
DEFAULT_JSON = os.path.join(BUILD, "test_flood_calls.json")
# (name, test, what it floods): each writes build/<test>.json.
OTHERS = (("streams", "test_flood_streams.py",
           "TLS, WSS and TCP apps; a SYN flood and half-open handshakes"),
          ("edges", "test_flood_edges.py", "two edges sharing Redis, both flooded"))
KEYS = {"junk_rate": ("junk_rate", "junk_pps"),
        "success": ("success", "success_ratio", "ok_ratio"),
        "p50_ms": ("latency_p50_ms", "p50_ms"),
        "p99_ms": ("latency_p99_ms", "p99_ms")}


def point(raw, asked=None):
    p = {}
    for k, names in KEYS.items():
        p[k] = next((raw[n] for n in names if isinstance(raw.get(n), (int, float))), None)
    calls, setup = raw.get("calls"), raw.get("setup_ms")
    if p["success"] is None and isinstance(calls, dict) and calls.get("attempted"):
        p["success"] = calls.get("succeeded", 0) / calls["attempted"]
    if isinstance(setup, dict):
        p["p50_ms"] = p["p50_ms"] if p["p50_ms"] is not None else setup.get("p50")
        p["p99_ms"] = p["p99_ms"] if p["p99_ms"] is not None else setup.get("p99")
    if p["junk_rate"] is None:
        p["junk_rate"] = asked
    p["asked"] = asked
    p["raw"] = {k: v for k, v in raw.items() if isinstance(v, (int, float, str, bool))}
    return p


def points_of(doc, asked):
    if isinstance(doc, dict) and isinstance(doc.get("points"), list):
        return [point(x, None) for x in doc["points"] if isinstance(x, dict)]
    if isinstance(doc, dict):
        return [point(doc, asked)]
    raise StepError("%s: neither a point nor {\"points\": [...]}" % DEFAULT_JSON)


def one(rate, quick, out_json, test=TEST):
    """@test (at FLOOD_RATE @rate; None: its own) once: its points, the
    JSON it wrote kept as @out_json."""
    name = os.path.basename(test)
    js = os.path.join(BUILD, name.replace(".py", ".json"))
    if os.path.exists(js):
        os.unlink(js)
    t0 = time.monotonic()
    outcome = "passed"
    try:
        sh(["flock", "/tmp/sw-integration.lock", "/usr/bin/python3", "-m", "pytest", "-q",
            "-p", "no:cacheprovider", test],
           600 if quick else 1200, cwd=os.path.join(REPO, "tests", "integration"),
           env={} if rate is None else {"FLOOD_RATE": str(rate)})
    except StepError as e:
        outcome = "failed: " + str(e)[-300:]
    log("%s at %s junk frames/s: test %s" % (name, "its own" if rate is None else rate or "max",
                                            outcome[:6]), time.monotonic() - t0)
    if os.path.exists(js):
        with open(js) as fh:
            pts = points_of(json.load(fh), rate)
        os.replace(js, out_json)
        for p in pts:
            p["test"] = outcome
        return pts
    raise StepError("%s wrote no %s (%s)" % (name, js, outcome))


def others(outdir):
    """One row per OTHERS test: its point, what it floods, and for the
    streams the SYNs' figures (tcp: syn_challenged, proofs, proven)."""
    rows = []
    for name, test, what in OTHERS:
        path = os.path.join(REPO, "tests", "integration", test)
        if not os.path.exists(path):
            rows.append({"name": name, "what": what, "test": "not in this tree"})
            continue
        out = os.path.join(outdir, "flood-%s.json" % name)
        try:
            (p,) = one(None, False, out, path)
        except (StepError, ValueError) as e:
            rows.append({"name": name, "what": what, "test": "failed: %s" % str(e)[-300:]})
            continue
        with open(out) as fh:
            doc = json.load(fh)
        p.update(name=name, what=what, syn_pps=doc.get("syn_pps"),
                 tcp=doc.get("tcp") if isinstance(doc.get("tcp"), dict) else None)
        rows.append(p)
    return rows


def run(quick, outdir):
    if not os.path.exists(TEST):
        return {"not_run": "tests/integration/test_flood_calls.py is not in this tree"}
    # 0 last: as fast as sw_flood goes. --quick: that alone (one run of
    # the test, ~40 s).
    rates = [0] if quick else [20000, 50000, 100000, 200000, 0]
    pts = []
    for rate in rates:
        got = one(rate, quick, os.path.join(outdir, "flood-%d.json" % rate))
        pts += got
        if len(got) > 1:  # the test ran its own list of rates
            break
    pts.sort(key=lambda p: (p["junk_rate"] is None, p["junk_rate"] or 0))
    return {"rates_asked": rates, "points": pts, "others": [] if quick else others(outdir),
            "limit": {"by": "the junk sender at the top rate",
                      "why": "sw_flood's reached rate (junk_pps) is each point's x; at "
                             "FLOOD_RATE 0 it is as fast as one sender core goes"}}
