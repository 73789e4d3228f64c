# SPDX-License-Identifier: BSD-3-Clause
"""What every step of scripts/report.sh shares: running a command with a
bound on its time, the machine's description from /proc, the CPU time of
processes, and the verdict on what limits a figure."""
import os
import re
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, "build")
BENCH = os.path.join(BUILD, "bench")
PD_TESTSRV = os.path.join(BUILD, "tests", "pushd", "pd_testsrv")

# A load generator at or above this share of one core is taken to be what
# limits the figure (it cannot send faster), not the edge under test.
SATURATED = 0.90


class StepError(Exception):
    """A step that could not produce its figures; the report says why."""


def sh(cmd, timeout, env=None, cwd=REPO):
    """Run @cmd; its stdout. A failure raises StepError with the tail of
    its output, which the report prints as the step's "failed: ..."."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, text=True, capture_output=True, timeout=timeout, cwd=cwd,
                           env=dict(os.environ, **(env or {})))
    except subprocess.TimeoutExpired:
        raise StepError("%s: no end within %d s" % (os.path.basename(cmd[0]), timeout))
    if p.returncode != 0:
        tail = (p.stdout + p.stderr).strip().splitlines()[-6:]
        raise StepError("%s exited %d: %s" % (" ".join(cmd[:2]), p.returncode, " | ".join(tail)))
    log(" ".join(cmd), time.monotonic() - t0)
    return p.stdout


def log(what, secs):
    print("report: %s (%.1f s)" % (what, secs), flush=True)


def num(pattern, text, group=1, default=None):
    """The float of @group of the first match of @pattern in @text."""
    m = re.search(pattern, text, re.M)
    return float(m.group(group)) if m else default


def machine():
    """CPU model, cores, RAM, kernel: from /proc."""
    model, cores = "?", 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("processor"):
                cores += 1
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    with open("/proc/sys/kernel/osrelease") as f:
        kernel = f.read().strip()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return {"cpu": model, "cores": cores, "ram_gib": round(mem / 2 ** 30, 1),
            "kernel": kernel, "loadavg_at_start": load}


def commit():
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"], text=True,
                             capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               text=True, capture_output=True, timeout=10).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


def sipwake_version():
    """The sipwake the lab steps run (swlab.sipwake_bin(): SIPWAKE_BIN or
    build/app/sipwake) and its --version line."""
    path = os.environ.get("SIPWAKE_BIN", os.path.join(BUILD, "app", "sipwake"))
    try:
        out = subprocess.run([path, "--version"], text=True, capture_output=True, timeout=10)
        return "%s (%s)" % (out.stdout.strip().splitlines()[0], path)
    except (OSError, IndexError, subprocess.SubprocessError):
        return "? (%s)" % path


def cpu_seconds(pids):
    """utime + stime of @pids (those still alive), from /proc."""
    ticks = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def limit(generator, load, edge="sipwake"):
    """The verdict on what limits @edge's figure, from the load generator's
    share of a core (@load, None when the bench cannot tell)."""
    if load is None:
        return {"by": "unknown", "why": "the bench does not measure %s" % generator}
    if load >= SATURATED:
        return {"by": "load generator",
                "why": "%s at %.0f %% of a core" % (generator, 100 * load)}
    return {"by": edge,
            "why": "%s at %.0f %% of a core: it had room" % (generator, 100 * load)}
