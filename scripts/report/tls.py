# SPDX-License-Identifier: BSD-3-Clause
"""Step tls: scripts/bench-tls.py, sipwake's TLS streams against Kamailio's
tls module (handshakes/s, SIP messages/s, memory per idle connection)."""
import json
import os
import statistics

from common import REPO, StepError, limit, sh

FIGURES = (("hs", "TLS handshakes/s", "higher"),
           ("hs_per_cpu", "handshakes per edge CPU-second", "higher"),
           ("msg", "SIP messages/s over TLS", "higher"),
           ("msg_per_cpu", "messages per edge CPU-second", "higher"),
           ("mem_per_conn", "memory per idle TLS connection (B)", "lower"),
           ("idle_held", "idle TLS connections held", "higher"))


def med(rows, key):
    v = [r[key] for r in rows if key in r]
    return statistics.median(v) if v else None


def parse(out):
    line = [x for x in out.splitlines() if x.startswith("RESULTS ")]
    if not line:
        raise StepError("bench-tls.py printed no RESULTS line")
    res = json.loads(line[-1][len("RESULTS "):])
    r = {"edges": {}, "figures": []}
    for edge, rows in res.items():
        r["edges"][edge] = {k: med(rows, k) for k in
                            [f[0] for f in FIGURES] + ["hs_gen_load", "msg_gen_load",
                                                       "unanswered", "sink_load"]}
    sw, km = r["edges"].get("sipwake", {}), r["edges"].get("kamailio", {})
    for key, what, better in FIGURES:
        s, k = sw.get(key), km.get(key)
        r["figures"].append({"key": key, "what": what, "better": better, "sipwake": s,
                             "kamailio": k, "ratio": s / k if s and k else None})
    # The generator (bench/bench_tls, one thread) at a full core limits the
    # rate it measures, for whichever edge it drives.
    r["limits"] = {}
    for phase, key in (("handshakes", "hs_gen_load"), ("messages", "msg_gen_load")):
        r["limits"][phase] = {e: limit("the generator bench_tls", v.get(key), e)
                              for e, v in r["edges"].items()}
    return r


def run(quick):
    args = ["--smoke"] if quick else ["--runs", "3"]
    out = sh(["flock", "/tmp/sw-integration.lock", "/usr/bin/python3",
              os.path.join(REPO, "scripts", "bench-tls.py")] + args, 300 if quick else 2400)
    r = parse(out)
    r["args"] = " ".join(args)
    return r
