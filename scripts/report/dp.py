# SPDX-License-Identifier: BSD-3-Clause
"""Step dp: bench/bench_dp, cycles per message per traffic mix, and the
scanner against libosip2 on the same messages."""
import os
import re

from common import BENCH, num, sh


def parse(out):
    mixes = {}
    for m in re.finditer(r"^(\S+)\s+([\d.]+) cycles/pkt\s+([\d.]+) Mpps \| hw-cksum\s+([\d.]+) "
                         r"cycles/pkt\s+([\d.]+) Mpps\s+\((.*)\)$", out, re.M):
        mixes[m.group(1)] = {"sw_cycles": float(m.group(2)), "sw_mpps": float(m.group(3)),
                             "hw_cycles": float(m.group(4)), "hw_mpps": float(m.group(5)),
                             "what": m.group(6)}
    parse_cost = {}
    for m in re.finditer(r"^  (\S.*?)\s+(\d+) B\s+scanner\s+(\d+)\s+libosip2\s+(\d+)\s+"
                         r"libosip2/scanner\s+([\d.]+)x", out, re.M):
        parse_cost[m.group(1)] = {"bytes": int(m.group(2)), "scanner": int(m.group(3)),
                                  "libosip2": int(m.group(4)), "ratio": float(m.group(5))}
    return {"tsc_ghz": num(r"TSC ([\d.]+) GHz", out), "mixes": mixes, "parse": parse_cost,
            "fwd_stage_hw": num(r"forward stage alone .*?: ([\d.]+) cycles/pkt", out),
            "limit": {"by": "sipwake",
                      "why": "no load generator: prebuilt frames from memory, one core"}}


def run(quick):
    args = ["--packets", "6400", "--runs", "1"] if quick else ["--packets", "320000",
                                                               "--runs", "7"]
    out = sh([os.path.join(BENCH, "bench_dp")] + args, 900 if not quick else 120)
    r = parse(out)
    r["args"] = " ".join(args)
    return r
