#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The targets of the structural scanner and the lean forward path, before
and after, from one run (docs/performance.md, "Targets of the structural
scanner and the lean forward path"); and where the remaining cycles go.

  scripts/bench-targets.py --against REV [--rounds K] [--runs R] [--packets N]
      Builds REV in a temporary worktree (git worktree add --detach, meson
      setup, ninja bench/bench_dp; removed afterwards) and runs its bench_dp
      and this tree's (build/bench/bench_dp, built first) alternately, REV
      then now, K rounds, each with --runs R --packets N, on the same
      messages. Prints one table: figure | target | REV | now | now/REV |
      met/missed. Every figure is the median over the rounds of bench_dp's
      own medians, read from the lines every bench_dp since f824d3e prints
      (the per-mix cycles/pkt lines, "SIP parse cost"), so REV may be older
      than the targets table; the targets come from this tree's table.

  scripts/bench-targets.py --profile MIX [--tool auto|perf|callgrind|both]
      bench_dp --mix MIX (e.g. fwd-call, invite-sdp) under perf (cpu-clock
      sampling: this VM has no PMU; the first ~0.6 s of set-up skipped with
      perf record -D) or callgrind (instructions of the timed region only:
      --toggle-collect=dph_rx); prints the top functions with their share.
      auto: perf if it can sample here, else callgrind.

Root (DPDK EAL). The machine is shared (2 vCPU): every bench_dp run holds
/tmp/sw-bench.lock (flock), so do not wrap this script in flock yourself.
"""
import argparse
import fcntl
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = "/tmp/sw-bench.lock"
MIX = re.compile(r"^(\S+) +([\d.]+) cycles/pkt +[\d.]+ Mpps \| hw-cksum +([\d.]+) cycles/pkt")
PARSE = re.compile(r"^  INVITE with SDP +(\d+) B +scanner +(\d+) +libosip2 +(\d+)")
ROW = re.compile(r"^  (\S+) +(.+?) +(<=|>=) +([\d.]+) +([\d.]+|-)  (met|missed|not run)$")


def figures(out):
    """The figures of the targets table from bench_dp's standard lines
    (keys as in bench/bench_targets.c; the mixes' NIC-checksum column)."""
    f = {}
    for ln in out.splitlines():
        m = MIX.match(ln)
        if m:
            f[m.group(1)] = float(m.group(3))
        m = PARSE.match(ln)
        if m:
            size, scan, osip = (float(x) for x in m.groups())
            f["scan-invite"] = scan
            f["scan-invite-byte"] = scan / size
            f["scan-vs-libosip2"] = osip / scan
    return f


def targets(out):
    """[(key, label, op, target, decimals)] from a bench_dp targets table."""
    rows = []
    for ln in out.splitlines():
        m = ROW.match(ln)
        if m:
            dec = len(m.group(4).split(".")[1]) if "." in m.group(4) else 0
            rows.append((m.group(1), m.group(2), m.group(3), float(m.group(4)), dec))
    return rows


class BenchLock:
    """/tmp/sw-bench.lock, held while benchmarks run (other engineers' wait)."""

    def __enter__(self):
        self.f = open(LOCK, "a")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # A wrapper's flock on the same file would wait here forever.
            print("waiting for %s (another benchmark runs; this script takes the lock "
                  "itself: do not run it under flock)" % LOCK, file=sys.stderr, flush=True)
            fcntl.flock(self.f, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        self.f.close()


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw)


def build_current():
    if not os.path.isdir(os.path.join(REPO, "build")):
        subprocess.run(["meson", "setup", "build"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", "build", "bench/bench_dp"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(REPO, "build", "bench", "bench_dp")


def build_rev(rev, wt):
    subprocess.run(["git", "worktree", "add", "--detach", wt, rev], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["meson", "setup", "build"], cwd=wt, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", "build", "bench/bench_dp"], cwd=wt, check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(wt, "build", "bench", "bench_dp")


def fmt(v, dec):
    return "—" if v is None else "%.*f" % (dec, v)


def against(a):
    sha = subprocess.run(["git", "rev-parse", "--short", a.against], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.strip()
    now = build_current()
    wt = tempfile.mkdtemp(prefix="sw-bench-%s-" % sha)
    os.rmdir(wt)
    try:
        print("building %s in %s ..." % (sha, wt), flush=True)
        old = build_rev(sha, wt)
        args = ["--packets", str(a.packets), "--runs", str(a.runs)]
        got = {"old": [], "now": []}
        table = ""
        # One lock for all the rounds: both binaries measured in the same
        # conditions, no other benchmark in between.
        with BenchLock():
            for k in range(a.rounds):
                for name, binary in (("old", old), ("now", now)):
                    t0 = time.time()
                    out = run([binary] + args, timeout=1800).stdout
                    got[name].append(figures(out))
                    table = out if name == "now" else table
                    print("round %d/%d %s: %.0f s" % (k + 1, a.rounds, sha if name == "old"
                                                      else "now", time.time() - t0), flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", wt], cwd=REPO,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(wt, ignore_errors=True)
    rows = targets(table)
    if not rows:
        sys.exit("this tree's bench_dp prints no targets table")
    med = {n: {} for n in got}
    for n, runs in got.items():
        for key, *_ in rows:
            v = [f[key] for f in runs if key in f]
            med[n][key] = statistics.median(v) if v else None
    print("\ntargets, %s against now: medians of %d alternating rounds (%s, now, ...), each "
          "bench_dp --runs %d --packets %d; measured, not asserted"
          % (sha, a.rounds, sha, a.runs, a.packets))
    hdr = ("figure", "target", sha, "now", "now/%s" % sha, "met/missed")
    print("| %s |" % " | ".join(hdr))
    print("|" + "---|" * len(hdr))
    for key, label, op, target, dec in rows:
        o, n = med["old"][key], med["now"][key]
        ratio = "%.2f" % (n / o) if o and n is not None else "—"
        verdict = "not run" if n is None else \
            "met" if (n <= target if op == "<=" else n >= target) else "missed"
        print("| %s | %s %s | %s | %s | %s | %s |"
              % (label, op, fmt(target, dec), fmt(o, dec), fmt(n, dec), ratio, verdict))
    spread = ["%s: %s %s–%s, now %s–%s" % (
        key, sha, fmt(min(f[key] for f in got["old"]), dec),
        fmt(max(f[key] for f in got["old"]), dec),
        fmt(min(f[key] for f in got["now"]), dec), fmt(max(f[key] for f in got["now"]), dec))
        for key, _, _, _, dec in rows
        if all(key in f for f in got["old"] + got["now"])]
    print("spread over the rounds (min–max):\n  " + "\n  ".join(spread))


def perf_top(binary, mix, packets, top):
    """Self shares of cpu-clock samples, set-up skipped; None if perf cannot
    sample here."""
    if shutil.which("perf") is None:
        return None
    t0 = time.time()
    run([binary, "--mix", mix, "--packets", "32", "--runs", "1"], timeout=120)
    delay = int((time.time() - t0) * 1300) + 100  # set-up plus a margin, in ms
    data = tempfile.mktemp(prefix="sw-perf-")
    try:
        run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-D", str(delay),
                "-o", data, "--", binary, "--mix", mix, "--packets", str(packets), "--runs",
                "1"], timeout=600)
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "-q", "--no-children",
                              "--sort", "symbol", "-g", "none", "--percent-limit", "0.5"],
                             capture_output=True, text=True).stdout
    finally:
        if os.path.exists(data):
            os.unlink(data)
    rows = []
    for ln in rep.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+\[.\]\s+(\S+)", ln)
        if m:
            rows.append((float(m.group(1)), m.group(2)))
    return rows[:top] or None


def callgrind_top(binary, mix, packets, top):
    """Instruction shares of the timed region (dph_rx), by function (inlined
    code counted where callgrind_annotate puts it: in its caller)."""
    out = tempfile.mktemp(prefix="sw-cg-")
    try:
        run(["valgrind", "--tool=callgrind", "--toggle-collect=dph_rx",
                "--callgrind-out-file=" + out, binary, "--mix", mix, "--packets",
                str(packets), "--runs", "1"], timeout=1800)
        rep = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no",
                              out],
                             capture_output=True, text=True, check=True).stdout
    finally:
        if os.path.exists(out):
            os.unlink(out)
    total, fn = 0, {}
    for ln in rep.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.+?)(?: \[.*\])?$", ln)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if m.group(2) == "PROGRAM TOTALS":
            total = n
            continue
        if ":" not in m.group(2):
            continue
        name = m.group(2).rsplit(":", 1)[-1]
        fn[name] = fn.get(name, 0) + n
    per_pkt = total / (2 * packets)  # each run passes the frames twice (sw, NIC checksums)
    rows = sorted(((100.0 * n / total, f) for f, n in fn.items()), reverse=True)
    return rows[:top], per_pkt


def profile(a):
    binary = build_current()
    with BenchLock():
        profile_tools(a, binary)


def profile_tools(a, binary):
    tools = ["perf", "callgrind"] if a.tool == "both" else [a.tool]
    if a.tool == "auto":
        tools = ["perf"]
    for tool in tools:
        if tool == "perf":
            rows = perf_top(binary, a.profile, a.packets, a.top)
            if rows is None:
                print("perf took no samples (it cannot sample here, or the run ended "
                      "within the set-up skipped: raise --packets)%s"
                      % (": callgrind instead" if a.tool == "auto" else ""))
                if a.tool == "auto":
                    tools.append("callgrind")
                continue
            print("perf (cpu-clock samples, set-up skipped; the harness's untimed mbuf "
                  "copies and drain included), bench_dp --mix %s --packets %d --runs 1:"
                  % (a.profile, a.packets))
        else:
            rows, per_pkt = callgrind_top(binary, a.profile, a.cg_packets, a.top)
            print("callgrind (instructions of the timed region, dph_rx), bench_dp --mix %s "
                  "--packets %d --runs 1: %.0f instructions/pkt:"
                  % (a.profile, a.cg_packets, per_pkt))
        for share, name in rows:
            print("  %6.2f %%  %s" % (share, name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--against", metavar="REV")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--packets", type=int,
                    help="per run: 320000 with --against, 1000000 with --profile (perf)")
    ap.add_argument("--profile", metavar="MIX")
    ap.add_argument("--tool", choices=("auto", "perf", "callgrind", "both"), default="auto")
    ap.add_argument("--cg-packets", type=int, default=6400)
    ap.add_argument("--top", type=int, default=10)
    a = ap.parse_args()
    if bool(a.against) == bool(a.profile):
        ap.error("one of --against REV or --profile MIX")
    if a.against:
        a.packets = a.packets or 320000
        against(a)
    else:
        a.packets = a.packets or 1000000
        profile(a)


if __name__ == "__main__":
    main()
