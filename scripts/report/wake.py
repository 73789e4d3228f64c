# SPDX-License-Identifier: BSD-3-Clause
"""Step wake: bench/bench_wake, the wake path's percentiles and every
sample (--samples) for the distribution plots."""
import os
import re
import tempfile

from common import BENCH, PD_TESTSRV, sh

FIG = (r"^MEDIAN \(a\) invite_to_push_written\s+p50\s+([\d.]+) us\s+p99\s+([\d.]+) us",
       r"^MEDIAN \(b\) register_200_to_invite_out\s+p50\s+([\d.]+) us\s+p99\s+([\d.]+) us")


def pct(v, p):
    return v[min(len(v) - 1, int((len(v) - 1) * p + 0.5))] if v else None


def parse(out, samples_text=""):
    r = {"median_of_runs": {}, "samples": {"a": [], "b": []}}
    for key, pat in zip("ab", FIG):
        m = re.search(pat, out, re.M)
        if m:
            r["median_of_runs"][key] = {"p50_us": float(m.group(1)), "p99_us": float(m.group(2))}
    for line in samples_text.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "ab":
            r["samples"][f[1]].append(float(f[2]))
    # Percentiles over every sample of every run (the median-of-runs above
    # is bench_wake's own figure); samples kept sorted for the plots.
    r["all_samples"] = {}
    for key, v in r["samples"].items():
        v.sort()
        r["all_samples"][key] = {"n": len(v), "p50_us": pct(v, .5), "p90_us": pct(v, .9),
                                 "p99_us": pct(v, .99), "p999_us": pct(v, .999),
                                 "max_us": v[-1] if v else None}
    m = re.search(r"memory_per_held_rss\s+([\d.]+) B", out)
    r["held_rss_b"] = float(m.group(1)) if m else None
    r["limit"] = {"by": "sipwake", "why": "latency, one call at a time: no load generator in "
                  "the timed path"}
    return r


def run(quick):
    args = ["--smoke", "--held", "0"] if quick else ["--count", "5000", "--runs", "3"]
    with tempfile.NamedTemporaryFile(prefix="bench-wake-", suffix=".txt") as f:
        out = sh([os.path.join(BENCH, "bench_wake"), "--server", PD_TESTSRV, "--samples",
                  f.name] + args, 120 if quick else 1800)
        text = open(f.name).read()
    r = parse(out, text)
    r["args"] = " ".join(args)
    return r
