#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The report's steps, in one go (scripts/report.sh runs this): each step
runs a benchmark that already exists and parses its output into a dict;
all of them go to build/report/report.json (written again after every
step, so a late failure keeps the earlier figures), then render.py writes
the markdown and the plots from that JSON.

  scripts/report/run.py [--quick] [--steps dp,kamailio,...] [--out build/report]
        [--md docs/report.md] [--plots docs/report]

A step that fails is recorded as "failed: <why>" and the others still run.
"""
import argparse
import datetime
import fcntl
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import render  # noqa: E402

# In the order they run. e2e and flood use the integration lab's
# namespaces: they take /tmp/sw-integration.lock while they run (tls's
# bench-tls.py is run under it too, from tls.py).
STEPS = ("dp", "kamailio", "tls", "e2e", "push", "wake", "reg", "cluster", "flood")
LAB_STEPS = ("e2e",)


def run_step(name, quick, outdir):
    mod = __import__(name)
    if name == "flood":
        return mod.run(quick, outdir)
    if name in LAB_STEPS:
        with open("/tmp/sw-integration.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return mod.run(quick)
    return mod.run(quick)


def write(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="every step at smoke size")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--out", default=os.path.join(common.BUILD, "report"))
    ap.add_argument("--md", default=os.path.join(common.REPO, "docs", "report.md"))
    ap.add_argument("--plots", default=os.path.join(common.REPO, "docs", "report"))
    a = ap.parse_args()
    # SIGTERM ends the run like ^C: the steps' context managers (the lab's
    # namespaces, Kamailio, redis-server) clean up on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    steps = [s for s in a.steps.split(",") if s]
    bad = [s for s in steps if s not in STEPS]
    if bad:
        sys.exit("report: unknown step(s) %s; steps: %s" % (",".join(bad), ",".join(STEPS)))
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "report.json")
    data = {"meta": {"date": datetime.datetime.now(datetime.timezone.utc)
                     .strftime("%Y-%m-%d %H:%M"), "commit": common.commit(),
                     "machine": common.machine(), "sipwake": common.sipwake_version(),
                     "quick": a.quick, "steps": {}}}
    for name in STEPS:
        if name not in steps:
            data[name] = {"not_run": "left out (--steps)"}
            data["meta"]["steps"][name] = {"status": "not run"}
            continue
        t0 = time.monotonic()
        print("report: step %s" % name, flush=True)
        try:
            data[name] = run_step(name, a.quick, a.out)
            status = "not run" if "not_run" in data[name] else "ok"
        except Exception as e:  # noqa: BLE001 - the report says why and goes on
            data[name] = {"failed": "%s: %s" % (type(e).__name__, str(e)[:600])}
            status = "failed"
        data["meta"]["steps"][name] = {"status": status, "secs": time.monotonic() - t0}
        print("report: step %s %s (%.0f s)" % (name, status, time.monotonic() - t0), flush=True)
        write(path, data)
    write(path, data)
    made = render.render(data, a.md, a.plots)
    print("report: %s, %s and %d plot(s) in %s" % (path, a.md, len(made), a.plots))
    failed = [k for k, v in data["meta"]["steps"].items() if v["status"] == "failed"]
    if failed:
        print("report: failed step(s): %s (see the report)" % ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
