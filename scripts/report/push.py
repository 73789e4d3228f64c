# SPDX-License-Identifier: BSD-3-Clause
"""Step push: bench/pd_bench as scripts/bench-push.sh runs it, pushd against
node-apn on the same pd_testsrv, at RTT 0 and 20 ms. node-apn is the one
scripts/report.sh installs into build/node-apn as bench-push.sh does; without
it, pushd alone (the report says so)."""
import os
import re

from common import BENCH, BUILD, PD_TESTSRV, sh

NODE_DIR = os.path.join(BUILD, "node-apn")


def parse(out):
    runs = {}
    for m in re.finditer(r"^MEDIAN (\S+)\s+rtt=\s*(\d+)ms:\s+([\d.]+) pushes/s\s+p50\s+([\d.]+) ms"
                         r"\s+p99\s+([\d.]+) ms(?:\n\s+([\d.]+) pushes per CPU-second of the "
                         r"pushd thread)?", out, re.M):
        runs.setdefault(m.group(2), {})[m.group(1)] = {
            "pps": float(m.group(3)), "p50_ms": float(m.group(4)), "p99_ms": float(m.group(5)),
            "thread_pps": float(m.group(6)) if m.group(6) else None}
    for m in re.finditer(r"^run \d+ webpush\s+rtt=\s*(\d+)ms: \d+ ok,\s+([\d.]+) pushes/s", out,
                         re.M):
        runs.setdefault(m.group(1), {}).setdefault("webpush_runs", []).append(float(m.group(2)))
    r = {"rtt": {}}
    for rtt, d in runs.items():
        p, n = d.get("pushd"), d.get("node-apn")
        row = {"pushd": p, "sealed": d.get("sealed"), "node_apn": n,
               "ratio": p["pps"] / n["pps"] if p and n and n["pps"] else None}
        if d.get("webpush_runs"):
            w = sorted(d["webpush_runs"])
            row["webpush_pps"] = w[len(w) // 2]
        # What limits pushd: its thread's CPU (pushes/s over pushes per
        # thread CPU-second is the thread's busy share) or, with a delay,
        # the connection's 1000 streams in flight (1000 / RTT).
        if p and p.get("thread_pps"):
            busy = p["pps"] / p["thread_pps"]
            cap = 1000 * 1000.0 / int(rtt) if int(rtt) else None
            if cap and p["pps"] >= 0.8 * cap:
                row["limit"] = {"by": "the protocol", "why": "1000 streams per connection / "
                                "%s ms RTT = %.0f pushes/s cap" % (rtt, cap)}
            elif busy >= 0.9:
                row["limit"] = {"by": "sipwake", "why": "pushd thread %.0f %% busy" % (100 * busy)}
            else:
                row["limit"] = {"by": "load generator or server",
                                "why": "pushd thread %.0f %% busy: it waited for the feeder, "
                                       "pd_testsrv or its window of pushes in flight"
                                       % (100 * busy)}
        r["rtt"][rtt] = row
    return r


def run(quick):
    args = (["--n", "2000", "--runs", "1", "--delays", "0,20", "--node-n", "1000"] if quick
            else ["--n", "100000", "--runs", "3", "--delays", "0,20", "--node-n", "20000"])
    node = os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@parse", "node-apn"))
    cmd = [os.path.join(BENCH, "pd_bench"), "--server", PD_TESTSRV]
    out = sh(cmd + (["--node-dir", NODE_DIR] if node else []) + args, 300 if quick else 2400)
    r = parse(out)
    r["args"] = " ".join(args)
    if not node:
        r["node_apn_missing"] = "node-apn not in build/node-apn (scripts/report.sh installs it)"
    return r
