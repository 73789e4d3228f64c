# SPDX-License-Identifier: BSD-3-Clause
"""Step cluster: bench/bench_cluster with a redis-server of its own
(--spawn-redis), at scripts/bench-cluster.py --quick's counts (about a
minute; its smoke counts with --quick): feed lag, wake across edges, write
rate, Redis memory per binding, a restarted edge's load. The full-scale
figures (1M bindings) stay with scripts/bench-cluster.py."""
import os
import re

from common import BENCH, sh

# The figures the report shows, in bench_cluster's names.
SHOWN = (("feed_lag_b1_p50", "feed lag p50, batch of 1", "µs"),
         ("feed_lag_b1_p99", "feed lag p99, batch of 1", "µs"),
         ("feed_lag_b64_p99", "feed lag p99, batch of 64", "µs"),
         ("wake_across_p50", "wake across edges p50", "µs"),
         ("wake_across_p99", "wake across edges p99", "µs"),
         ("write_2_changes_per_s", "changes/s Redis takes, 2 edges reading", "/s"),
         ("redis_bytes_per_binding", "Redis memory per binding, without the feed", "B"),
         ("load_s", "restart: bindings loaded in", "s"))


def parse(out):
    f = {}
    for line in out.splitlines():
        m = re.match(r"^([a-z0-9_]+) (-?[0-9.]+)\b", line)
        if m:
            f[m.group(1)] = float(m.group(2))
    return {"figures": f,
            "shown": [[k, what, unit, f.get(k)] for k, what, unit in SHOWN],
            "limit": {"by": "Redis", "why": "one redis-server on the same cores; "
                      "its CPU per change is in the figures"}}


def run(quick):
    args = (["--smoke"] if quick else
            ["--runs", "3", "--count", "100000", "--changes", "2000", "--wakes", "500",
             "--tput", "20000", "--mem", "20000"])
    out = sh([os.path.join(BENCH, "bench_cluster"), "--spawn-redis"] + args,
             120 if quick else 1800)
    r = parse(out)
    r["args"] = " ".join(args)
    return r
