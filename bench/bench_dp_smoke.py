#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The smoke pass of bench_dp (meson test bench_dp_smoke): runs
`bench_dp --smoke` once and checks that it still prints what scripts read:
a line per mix, the SIP parse costs, and the targets table with a numeric
measured value in every row. Whether a target is met is not checked:
performance is measured, not asserted.

  bench/bench_dp_smoke.py BENCH_DP
"""
import re
import subprocess
import sys

MIXES = ("junk-64B", "scanner-flood", "register", "invite-sdp", "realistic", "fwd-invite",
         "fwd-200", "fwd-bye", "fwd-call", "scanner-spoofed", "expected-in-flood")
ROW = re.compile(r"^  (\S+) +(.+?) +(<=|>=) +([\d.]+) +([\d.]+|-)  (met|missed|not run)$")


def main():
    out = subprocess.run([sys.argv[1], "--smoke"], capture_output=True, text=True,
                         timeout=110)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    if out.returncode != 0:
        sys.exit("bench_dp --smoke exited %d" % out.returncode)
    lines = out.stdout.splitlines()
    bad = [m for m in MIXES
           if not any(re.match(r"%s +[\d.]+ cycles/pkt .* hw-cksum +[\d.]+ cycles/pkt"
                               % re.escape(m), ln) for ln in lines)]
    if bad:
        sys.exit("no cycles/pkt line for %s" % ", ".join(bad))
    if not any(re.match(r"  INVITE with SDP +\d+ B +scanner +\d+ +libosip2 +\d+", ln)
               for ln in lines):
        sys.exit("no SIP parse cost line for the INVITE")
    head = [i for i, ln in enumerate(lines) if ln.startswith("targets (medians of ")]
    if len(head) != 1:
        sys.exit("no targets table")
    rows = [ROW.match(ln) for ln in lines[head[0] + 2:]]
    rows = [r for r in rows if r]
    if len(rows) != 8:
        sys.exit("targets table: %d rows, 8 expected" % len(rows))
    for r in rows:
        if r.group(5) == "-" or r.group(6) == "not run":
            sys.exit("targets table: %s has no measured value" % r.group(1))
        float(r.group(5))
    print("bench_dp_smoke: %d mixes, targets table with %d measured rows"
          % (len(MIXES), len(rows)))


if __name__ == "__main__":
    main()
