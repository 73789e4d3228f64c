#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The soak: an hour of mixed traffic through sipwake, one edge or several
sharing their bindings through Redis, sampled every second
(docs/performance.md, "The soak"). Not a test: a command to run on a quiet
machine before a release, and whose figures go in the release note.

    scripts/soak.py [--minutes 60] [--bindings 10000] [--calls-per-s 2]
                    [--asleep 0.2] [--never 0.02] [--tls 0.1] [--tcp 0.05]
                    [--wss 0.05] [--junk 0.01] [--edges 1] [--out build/soak]

On the lab of the tests (scripts/swlab.py: sipwake on net_af_packet in a
namespace, the APNs test double pd_testsrv beside it; with --edges N,
scripts/swcluster.py's N edges on one LAN and a Redis, each edge with its
own pd_testsrv), scripts/soak_peers.py plays the PBX and --bindings phones
behind a few hundred app sockets: every phone registers (its push address
in its Contact) and refreshes every 15 min; calls come at --calls-per-s to
awake phones (answered at once), sleeping ones (pushed, they wake on a new
address and take the call) and phones that never wake (480 after
wake.timeout_s); phones fall asleep as often as others wake. --tls, --tcp
and --wss of the phones are phones over TLS, TCP and secure WebSocket
(scripts/soak_streams.py), each on its own connection: asleep once it has
closed, woken onto a new one. With several edges, phone i is bound
through edge i mod N at first and, woken, through any; the PBX places each
call through any edge. tests/flood/sw_flood adds --junk of each edge's
legitimate frame rate as junk from spoofed sources (scanner requests,
random UDP, malformed SIP).

Every second a row goes to <out>/samples.csv (scripts/soak_sample.py):
each edge's RSS, held calls, packet pool mbufs in use, rings' occupancy,
pushes in flight, TLS, TCP and WSS connections open and the memory they
hold, wake latency percentiles of /sipwake/held and frames dropped that
second (all reasons, and those of a full ring: the down ring to the
workers, the up rings, so that a drop is timed); the phones' open
connections, calls placed / answered / failed and the call set-up time
p50 / p99 of that second. At the end, after the last calls have had their
time, <out>/summary.json and the verdicts, each over every edge:
  calls     every call ended as its phone's state says (200 or 480), none hung,
            every REGISTER answered (the peers retransmit as RFC 3261 says);
  held      no held call left once traffic has stopped;
  mempool   the mbufs in use back to where they were after the warm-up;
  rss       RSS levels off: its growth over the last half at most a quarter
            of the first half's, or under 4 MiB;
  streams   every connection a phone needed was made, none closed by
            sipwake under a phone that keeps it, and at the end the edges
            have as many open as the phones do, per transport (none leaked).
Exit status 0 when all five hold, 1 otherwise. Needs root and a built tree
(scripts/setup.sh); one soak at a time (/tmp/sw-soak.lock).
"""
import argparse
import csv
import fcntl
import json
import os
import resource
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)
import soak_peers  # noqa: E402
import soak_sample  # noqa: E402
import soak_streams  # noqa: E402
from soak_sample import mbufs_in_use  # noqa: E402
from streampeer import add_streams  # noqa: E402
from wakecluster import WakeCluster  # noqa: E402
from wakekit import WakeLab  # noqa: E402

WAKE_TIMEOUT_S, PING_S, ALIVE_S = 8, 60, 3
WAKE = 'policy = "ping"; provisional = "none";'


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--bindings", type=int, default=10000)
    ap.add_argument("--calls-per-s", type=float, default=2.0)
    ap.add_argument("--asleep", type=float, default=0.2, help="share of phones asleep")
    ap.add_argument("--never", type=float, default=0.02, help="share that never wakes")
    ap.add_argument("--tls", type=float, default=0.1,
                    help="share of phones over TLS, a connection each (0: none)")
    ap.add_argument("--tcp", type=float, default=0.05,
                    help="share of phones over TCP, a connection each (0: none)")
    ap.add_argument("--wss", type=float, default=0.05,
                    help="share of phones over secure WebSocket, a connection each (0: none)")
    ap.add_argument("--junk", type=float, default=0.01, help="junk frames / legitimate frames")
    ap.add_argument("--junk-round-s", type=int, default=600,
                    help="sw_flood runs in rounds this long (at most its 600 s)")
    ap.add_argument("--edges", type=int, default=1,
                    help="edges sharing their bindings through Redis (scripts/swcluster.py)")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "soak"))
    return ap.parse_args()


def make_lab(a):
    """The soak's lab (not started): one WakeLab, or a WakeCluster of
    @a.edges edges on one Redis; and its edges, each configured."""
    # Its own lab (namespaces swsoak-*, DPDK prefix swsoak): beside the
    # tests it works, but its figures are then those of a loaded machine.
    if a.edges > 1:
        lab = WakeCluster("swsoak", WAKE, ping_interval_s=PING_S, n_edges=a.edges,
                          cluster_config=True, idle_sleep_us=50)
        edges = lab.edges
    else:
        lab = WakeLab("swsoak", WAKE, ping_interval_s=PING_S, idle_sleep_us=50)
        edges = [lab]
    shares = {"TLS": a.tls, "TCP": a.tcp, "WSS": a.wss}
    for e in edges:
        e.bindings_extra = "ping_interval_s = %d; alive_window_s = %d; max_devices = %d;" % (
            PING_S, ALIVE_S, max(16, a.bindings * 2))
        # The PBX here is Python on a shared machine: give it time to answer.
        # Every phone here has the same IP (198.18.0.2, ports apart): the
        # newcomers' budgets per IP and per /24 (docs/admission.md) would be
        # one phone's, so they are the box's; admission is not measured here.
        e.pbx_extra = "check_interval_s = 3600; timeout_ms = 4000;"
        e.config_extra += ("\nfilter: { unknown_rate = 2000; unknown_burst = 4000; "
                           "unknown_prefix_rate = 2000; unknown_prefix_burst = 4000; };")
        e.config_extra = e.config_extra.replace("timeout_s = 4;",
                                                "timeout_s = %d;" % WAKE_TIMEOUT_S)
        if any(shares.values()):
            add_streams(e, soak_streams.streams_config(int(a.bindings * sum(shares.values()))))
    return lab, edges, shares


def register_all(peers, rate=200, timeout_s=300):
    """Every phone's first REGISTER, paced: first one phone behind each
    host, so that the host is a bound source, then the others (a stranger
    gets filter.unknown_rate REGISTERs a second in: docs/admission.md). The
    phones retransmit until answered and try again later if never."""
    end = time.monotonic() + timeout_s
    first, seen = [], set()
    for d in peers.devs:
        if d.stream or d.host.port not in seen:  # a stream phone: its own connection
            seen.add(d.host.port)
            first.append(d)
    for group in (first, [d for d in peers.devs if d not in set(first)]):
        for i in range(0, len(group), rate // 10):
            for d in group[i:i + rate // 10]:
                peers.refresh(d)
            peers.pump(time.monotonic() + 0.1)
        while time.monotonic() < end and not all(d.registered for d in group):
            peers.refresh_due(time.monotonic(), limit=rate // 10)
            peers.pump(time.monotonic() + 0.1)
    if all(d.registered for d in peers.devs):
        return
    sys.exit("soak: %d phones not registered after %d s\n%s\n%s" % (
        sum(1 for d in peers.devs if not d.registered), timeout_s, json.dumps(peers.out),
        json.dumps([{k: x for k, x in e.stats().items() if k.startswith("drop_") and x}
                    for e in peers.labs])))


class Junk:
    """tests/flood/sw_flood to edge @lab at @rate frames/s from spoofed
    sources, at nice 10, in rounds of at most @chunk_s (its own bound is 600 s), their
    frames summed. A round that fails stops the soak with its message."""

    def __init__(self, lab, rate, chunk_s):
        self.lab, self.rate, self.chunk_s = lab, max(1, int(rate)), chunk_s
        self.proc, self.frames, self.sent, self.rounds = None, 0, {}, 0

    def _cmd(self, seconds):
        return ["ip", "netns", "exec", self.lab.ns_peer, "nice", "-n", "10",
                os.path.join(REPO, "build", "tests", "flood", "sw_flood"),
                "--ifname", self.lab.if_peer, "--dst-mac", self.lab.sipwake_mac(),
                "--dst-ip", self.lab.sw_ip4, "--mix", "scanner=1,junk=1,malformed=1",
                "--seconds", str(seconds), "--max-packets", str(self.rate * seconds + 1),
                "--rate", str(self.rate), "--src", "10.0.0.0/8"]

    def _collect(self):
        out, err = self.proc.communicate(timeout=30)
        if self.proc.returncode != 0:
            raise RuntimeError("sw_flood exited %d: %s" % (self.proc.returncode, err.strip()))
        r = json.loads(out)
        self.frames += r["frames"]
        for k, n in r["sent"].items():
            self.sent[k] = self.sent.get(k, 0) + n
        self.proc, self.rounds = None, self.rounds + 1

    def poll(self, left_s):
        """A new round when the last one ended and at least a second is left."""
        if self.proc is not None and self.proc.poll() is not None:
            self._collect()
        if self.proc is None and left_s >= 1:
            self.proc = subprocess.Popen(self._cmd(int(min(self.chunk_s, left_s))),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            self._collect()
        return {"rate": self.rate, "rounds": self.rounds, "frames": self.frames,
                "sent": self.sent}


def legit_rates(edges, peers, seconds=5):
    """Each edge's legitimate frames a second, traffic at rest."""
    rx0 = [e.stats().get("rx_packets", 0) for e in edges]
    t = time.monotonic()
    peers.pump(t + seconds)
    dt = time.monotonic() - t
    return [(e.stats().get("rx_packets", 0) - r) / dt for e, r in zip(edges, rx0)]


def run(a, edges, peers, csv_path):
    """The soak itself, once every phone is bound: warm-up, --minutes of
    traffic sampled every second, the last calls' time. Returns the
    summary (without its verdicts)."""
    # Warm-up: a round of pings, so that sleepers are asleep to sipwake.
    peers.pump(time.monotonic() + PING_S + ALIVE_S + 2)
    base_mbufs = [mbufs_in_use(e) for e in edges]
    # From here on every REGISTER must be answered: the warm-up's
    # timeouts were strangers' admission at work, kept apart.
    warmup_timeouts, peers.out["register_timeouts"] = peers.out["register_timeouts"], 0
    peers.out["failures"] = []
    legit = legit_rates(edges, peers)
    secs = a.minutes * 60
    junk = [Junk(e, r * a.junk, min(a.junk_round_s, 600)) for e, r in zip(edges, legit)
            ] if a.junk > 0 else []
    print("soak: %s legitimate frames/s at rest, junk at %s/s, %.0f min" % (
        " + ".join("%.0f" % r for r in legit), " + ".join("%.1f" % (r * a.junk) for r in legit),
        a.minutes), flush=True)
    rows, t0, owed = [], time.monotonic(), 0.0
    prevs = [e.stats() for e in edges]
    rss0 = soak_sample.col("rss_kib", 0, len(edges))
    with open(csv_path, "w", newline="") as f:
        w = None
        while time.monotonic() - t0 < secs:
            tick, calls_before = time.monotonic(), peers.out["calls"]
            for j in junk:
                j.poll(secs - (tick - t0))
            owed += a.calls_per_s
            peers.refresh_due(tick, limit=200)
            while owed >= 1 and peers.call(tick):
                owed -= 1
            owed = min(owed, a.calls_per_s * 2)
            peers.expire_calls(tick)
            peers.pump(tick + 1.0)
            row = soak_sample.sample(edges, peers, t0, calls_before, prevs)
            rows.append(row)
            if w is None:
                w = csv.DictWriter(f, fieldnames=list(row))
                w.writeheader()
            w.writerow(row)
            f.flush()
            if len(rows) % 60 == 0:
                print("soak: %4.0f s  rss %d KiB (edge 0)  calls %d  failed %d" % (
                    row["t_s"], row[rss0], row["calls"], row["failed"]), flush=True)
    # The last calls get their time; nothing new is placed.
    end = time.monotonic() + WAKE_TIMEOUT_S + 3
    while peers.calls and time.monotonic() < end:
        peers.pump(time.monotonic() + 0.5)
    peers.expire_calls(time.monotonic() + WAKE_TIMEOUT_S + 3)
    peers.pump(time.monotonic() + 1.5)
    jres = [j.stop() for j in junk]
    end_held = [e.held().get("held", 0) for e in edges]
    end_mbufs = [mbufs_in_use(e) for e in edges]
    end_open = soak_sample.open_settled(edges, peers)
    n = len(edges)
    summary = {
        "args": vars(a), "legit_pps_at_rest": legit, "junk": jres,
        "peers": dict(peers.out),
        "verdicts": soak_sample.verdicts(rows, peers, n, base_mbufs, end_held, end_mbufs,
                                         end_open),
        "sipwake_drops": [{k: x for k, x in e.stats().items()
                           if k.startswith("drop_") and isinstance(x, int) and x}
                          for e in edges],
        "warmup_register_timeouts": warmup_timeouts,
        "conns": [e.telemetry("/sipwake/conns") or {} for e in edges]}
    for i in range(n):
        k = soak_sample.col("rss_kib", i, n)
        summary.setdefault("rss_kib_first", []).append(rows[0][k])
        summary.setdefault("rss_kib_last", []).append(rows[-1][k])
        summary.setdefault("rss_kib_max", []).append(max(r[k] for r in rows))
        summary.setdefault("held_max", []).append(
            max(r[soak_sample.col("held", i, n)] for r in rows))
        summary.setdefault("ring_drop_seconds", []).append(
            [r["t_s"] for r in rows if r[soak_sample.col("ring_drops_this_s", i, n)]])
    summary["setup_p99_ms_max"] = max(r["setup_p99_ms"] for r in rows)
    return summary


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per app host
    # Stopped early (SIGTERM, or SIGINT even when started in the
    # background, which ignores it), the lab still comes down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("soak: stopped (SIGTERM)"))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    lock = open("/tmp/sw-soak.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    lab, edges, shares = make_lab(a)
    hosts = max(4, a.bindings // 50)
    with lab:
        # Ten sleepers per asleep host: a fall (a REGISTER from it) wakes
        # the others behind it for an alive window.
        peers = soak_peers.Peers(edges, a.bindings, hosts,
                                 max(2, int(a.bindings * a.asleep / 10)), a.asleep, a.never,
                                 WAKE_TIMEOUT_S, PING_S, ALIVE_S, streams=shares)
        try:
            print("soak: registering %d phones through %d edge(s)" % (a.bindings, len(edges)),
                  flush=True)
            register_all(peers)
            summary = run(a, edges, peers, os.path.join(a.out, "samples.csv"))
        finally:
            peers.close()
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    v = summary["verdicts"]
    ok = all(v[k] for k in ("calls", "held", "mempool", "rss", "streams"))
    print(json.dumps({k: summary[k] for k in ("verdicts", "peers", "junk", "sipwake_drops")},
                     indent=1))
    print("soak: %s (%s)" % ("passed" if ok else "FAILED", os.path.join(a.out, "summary.json")))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
