# SPDX-License-Identifier: BSD-3-Clause
"""Step reg: bench/bench_reg, REGISTER/s through the control plane on one
core with each store backend: SQLite, Redis (a redis-server this step
starts and kills, scripts/bench-cluster.py's), and none (--no-store)."""
import importlib.util
import os

from common import BENCH, REPO, StepError, num, sh


def bench_cluster():
    spec = importlib.util.spec_from_file_location(
        "bench_cluster", os.path.join(REPO, "scripts", "bench-cluster.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse(out):
    m = num(r"^register_relay_commit_per_s ([\d.]+)", out)
    if m is None:
        raise StepError("bench_reg printed no register_relay_commit_per_s")
    return {"per_s": m, "cycles": num(r"^register_cycles ([\d.]+)", out),
            "redis_wait_pct": num(r"^register_redis_wait ([\d.]+)", out)}


def run(quick):
    args = ["--count", "2000", "--runs", "1"] if quick else ["--count", "100000", "--runs", "3"]
    binary = os.path.join(BENCH, "bench_reg")
    r = {"backends": {}, "args": " ".join(args),
         "limit": {"by": "sipwake", "why": "the control plane's part alone is timed (the "
                   "worker pipeline and the simulated PBX are not)"}}
    r["backends"]["sqlite"] = parse(sh([binary] + args, 120 if quick else 900))
    r["backends"]["none"] = parse(sh([binary, "--no-store"] + args, 120 if quick else 900))
    bc = bench_cluster()
    if not os.path.exists("/usr/bin/redis-server"):
        r["backends"]["redis"] = {"not_run": "redis-server is not installed"}
        return r
    redis = bc.Redis(0)
    try:
        addr = "127.0.0.1:%d" % redis.port
        r["backends"]["redis"] = parse(sh([binary, "--redis", addr] + args,
                                          120 if quick else 900))
        r["backends"]["redis16"] = parse(sh([binary, "--redis", addr, "--inflight", "16"] + args,
                                            120 if quick else 900))
    finally:
        redis.stop()
    return r
