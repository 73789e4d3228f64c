#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Several edges sharing bindings through Redis, on this machine, in one run
(docs/performance.md, "Several edges (Redis)"). Root (bench_reg starts DPDK's
EAL); needs build/ and redis-server (Debian's redis-server 7).

Starts its own redis-server on a free 127.0.0.1 port (--save "" --appendonly
no, in a temporary directory, pinned to --redis-cpu), then, pinned to
--bench-cpu:

  bench_reg       REGISTER relay + store through the control plane on one
                  core, --runs times each, alternating: SQLite (the
                  single-edge figure), Redis with each round waiting for its
                  acknowledgement (--inflight 1), Redis with up to 16 rounds
                  in flight (the control plane's loop never waits)
  bench_cluster   feed lag, wake across edges, write rate, Redis memory per
                  binding, a restarted edge loading --count bindings
                  (medians of --runs)

and prints one table, each figure against its target. redis-server is killed
at the end.

  scripts/bench-cluster.py [--runs 3] [--quick] [--count 1000000]
        [--reg-count 100000] [--redis-cpu 0] [--bench-cpu 1] [--build build]
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_REG = 50000.0
TARGET_LAG_US = 5000.0
TARGET_LOAD_S = 10.0
TARGET_BYTES = 1024.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pong(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Redis:
    """A redis-server of this run, pinned to @cpu."""

    def __init__(self, cpu):
        self.dir = tempfile.mkdtemp(prefix="bench-cluster.")
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(cpu), "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 5
        while not pong(self.port):
            if time.time() > end or self.proc.poll() is not None:
                self.stop()
                sys.exit("bench-cluster.py: redis-server did not start (see its log)")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(cmd, timeout):
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, text=True, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        sys.exit("bench-cluster.py: %s failed (%d)" % (cmd[3], p.returncode))
    return p.stdout


def figures(out):
    """{name: float} of the "name value unit" lines."""
    f = {}
    for line in out.splitlines():
        m = re.match(r"^([a-z0-9_]+) (-?[0-9.]+)\b", line)
        if m:
            f[m.group(1)] = float(m.group(2))
    return f


def split_of(out):
    m = re.search(r"register_cycles_split (\d+) requests / (\d+) answers / (\d+) flush / "
                  r"(\d+) store poll", out)
    return [int(x) for x in m.groups()] if m else [0, 0, 0, 0]


def machine():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%d CPUs (%s), shared; load average %s" % (
        os.cpu_count(), model, " ".join("%.2f" % x for x in os.getloadavg()))


def verdict(ok):
    return "met" if ok else "missed"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="small counts (a minute or so): figures, not the targets' scale")
    ap.add_argument("--count", type=int, default=1000000, help="bindings a restart loads")
    ap.add_argument("--reg-count", type=int, default=100000, help="REGISTERs per bench_reg run")
    ap.add_argument("--redis-cpu", type=int, default=0)
    ap.add_argument("--bench-cpu", type=int, default=1)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    a = ap.parse_args()
    cl_args = []
    if a.quick:
        a.count, a.reg_count = 100000, 20000
        cl_args = ["--changes", "2000", "--wakes", "500", "--tput", "20000", "--mem", "20000"]
    reg = os.path.join(a.build, "bench", "bench_reg")
    clu = os.path.join(a.build, "bench", "bench_cluster")
    for b in (reg, clu):
        if not os.path.exists(b):
            sys.exit("bench-cluster.py: %s missing: ninja -C %s" % (b, a.build))
    if os.geteuid() != 0:
        sys.exit("bench-cluster.py: run as root (bench_reg starts DPDK's EAL)")
    if shutil.which("redis-server") is None:
        sys.exit("bench-cluster.py: redis-server missing (apt-get install redis-server)")
    pin = ["taskset", "-c", str(a.bench_cpu)]
    print("# %s; redis-server on CPU %d, benchmarks on CPU %d" % (machine(), a.redis_cpu,
                                                                 a.bench_cpu), flush=True)
    redis = Redis(a.redis_cpu)
    addr = "127.0.0.1:%d" % redis.port
    modes = {"sqlite": [], "redis": ["--redis", addr],
             "redis16": ["--redis", addr, "--inflight", "16"]}
    reg_out = {m: [] for m in modes}
    try:
        # Alternating, one run each: the machine's other load falls on all three alike.
        for _ in range(a.runs):
            for m, extra in modes.items():
                out = run(pin + [reg, "--count", str(a.reg_count), "--runs", "1"] + extra, 600)
                reg_out[m].append(out)
        out = run(pin + [clu, "--redis", addr, "--runs", str(a.runs), "--count", str(a.count)]
                  + cl_args, 3600)
    finally:
        redis.stop()
    print(out)
    rate = {m: statistics.median(figures(o)["register_relay_commit_per_s"] for o in outs)
            for m, outs in reg_out.items()}
    split = {m: [statistics.median(s[i] for s in (split_of(o) for o in outs)) for i in range(4)]
             for m, outs in reg_out.items()}
    f = figures(out)
    readers = max(int(k.split("_")[1]) for k in f if re.match(r"write_\d+_changes_per_s", k))
    lag99 = max(f["feed_lag_b%d_p99" % b] for b in (1, 8, 64))
    print("## Several edges (Redis): medians of %d runs\n" % a.runs)
    print("| figure | measured | target | |")
    print("|---|---|---|---|")
    print("| REGISTER/s, SQLite store (one edge) | %.0f | 50k/s per control-plane core | %s |"
          % (rate["sqlite"], verdict(rate["sqlite"] >= TARGET_REG)))
    for m, what in (("redis", "each round waits for Redis"),
                    ("redis16", "16 rounds in flight")):
        print("| REGISTER/s, Redis store, %s | %.0f (%.2f× SQLite) | ≥ SQLite's | %s |"
              % (what, rate[m], rate[m] / rate["sqlite"], verdict(rate[m] >= rate["sqlite"])))
    for m in modes:
        print("| cycles/REGISTER %s: requests / answers / flush / store poll | %s | | |"
              % (m, " / ".join("%.0fk" % (x / 1000) for x in split[m])))
    print("| feed lag p50, batch 1 / 8 / 64 | %.0f / %.0f / %.0f µs | | |"
          % tuple(f["feed_lag_b%d_p50" % b] for b in (1, 8, 64)))
    print("| feed lag p99, batch 1 / 8 / 64 | %.0f / %.0f / %.0f µs | p99 < 5 ms | %s |"
          % (tuple(f["feed_lag_b%d_p99" % b] for b in (1, 8, 64))
             + (verdict(lag99 < TARGET_LAG_US),)))
    print("| wake across edges p50 / p99 (A's REGISTER written → in B's table) | "
          "%.0f / %.0f µs | | |" % (f["wake_across_p50"], f["wake_across_p99"]))
    print("| Redis acknowledges a batch of 1, p50 / p99 | %.0f / %.0f µs | | |"
          % (f["wake_ack_p50"], f["wake_ack_p99"]))
    print("| writes Redis takes, 2 / %d edges reading | %.0f / %.0f changes/s | | |"
          % (readers, f["write_2_changes_per_s"], f["write_%d_changes_per_s" % readers]))
    print("| Redis CPU per change, 2 / %d edges reading | %.1f / %.1f µs | | |"
          % (readers, f["write_2_redis_cpu"], f["write_%d_redis_cpu" % readers]))
    print("| Redis memory per binding | %.0f B (%.0f B with the feed of %.0f entries) "
          "| ≤ 1 KiB | %s |" % (f["redis_bytes_per_binding"],
                                f["redis_bytes_per_binding_with_feed"],
                                f["redis_feed_entries"],
                                verdict(f["redis_bytes_per_binding"] <= TARGET_BYTES)))
    print("| the same, hash-max-listpack-value 1024 | %.0f B | ≤ 1 KiB | %s |"
          % (f["redis_bytes_per_binding_listpack"],
             verdict(f["redis_bytes_per_binding_listpack"] <= TARGET_BYTES)))
    print("| a feed entry | %.0f B | | |" % f["redis_bytes_per_feed_entry"])
    judged = a.count >= 1000000
    print("| restart: %d bindings loaded | %.1f s (%.0f/s) | < 10 s for 1M | %s |"
          % (a.count, f["load_s"], f["load_per_s"],
             verdict(f["load_s"] < TARGET_LOAD_S) if judged else "not judged (< 1M)"))
    if f.get("load_waited_out"):
        print("| restart: in the table when cp_store_load() gave up waiting | %.0f (%.0f %%) "
              "| | |" % (f["load_at_return"], f["load_at_return"] * 100 / a.count))
    print("| restart: Redis CPU per binding loaded | %.1f µs | | |" % f["load_redis_cpu"])
    print("| record encode / decode per binding (cp_store_codec.c) | %.1f / %.1f µs | | |"
          % (f["codec_encode"], f["codec_decode"]))


if __name__ == "__main__":
    main()
