# SPDX-License-Identifier: BSD-3-Clause
"""Step kamailio: scripts/bench-kamailio.py, Kamailio as a stateless edge
and as registrar + lookup on bench_dp's fwd messages, with the ratios."""
import os
import re

from common import REPO, limit, sh


def parse(out):
    r = {"modes": {}}
    m = re.search(r"sipwake fwd-call .*?: ([\d.]+) cycles/msg \(([\d.]+) with NIC", out)
    if m:
        r["sipwake_sw"], r["sipwake_hw"] = float(m.group(1)), float(m.group(2))
    for m in re.finditer(r"^kamailio (\S+)\s+one worker: (\d+) messages forwarded in ([\d.]+) s "
                         r"CPU: ([\d.]+) cycles/msg, ([\d.]+) msg/s per core \((.*)\)$", out, re.M):
        mode, cpu = m.group(1), float(m.group(3))
        secs = re.search(r"'secs': ([\d.]+)", m.group(6))
        busy = cpu / float(secs.group(1)) if secs and float(secs.group(1)) > 0 else None
        d = {"messages": int(m.group(2)), "cpu_s": cpu, "cycles": float(m.group(4)),
             "msg_per_core_s": float(m.group(5)), "kamailio_busy": busy}
        if "sipwake_sw" in r:
            d["ratio"] = d["cycles"] / r["sipwake_sw"]
        # Kamailio's cycles per message come from its CPU time, so they hold
        # whatever the sender does; its messages/s would not: a Python sender
        # paces it, and Kamailio short of a full core was waiting for it.
        if busy is not None and busy < 0.9:
            d["limit"] = {"by": "load generator",
                          "why": "Kamailio busy %.0f %% of the wall time: the Python sender "
                                 "paces it (cycles/msg, from its CPU time, still hold)"
                                 % (100 * busy)}
        else:
            d["limit"] = limit("the Python sender", None) if busy is None else {
                "by": "the edge", "why": "Kamailio busy %.0f %% of the wall time" % (100 * busy)}
        r["modes"][mode] = d
    m = re.search(r"callgrind: kamailio stateless ([\d.]+) instructions/msg, sipwake fwd-call "
                  r"([\d.]+)", out)
    if m:
        r["callgrind"] = {"kamailio": float(m.group(1)), "sipwake": float(m.group(2))}
    return r


def run(quick):
    args = ["--calls", "1000", "--packets", "6400"] if quick else ["--calls", "50000"]
    out = sh(["/usr/bin/python3", os.path.join(REPO, "scripts", "bench-kamailio.py")] + args,
             300 if quick else 1800)
    r = parse(out)
    r["args"] = " ".join(args)
    return r
