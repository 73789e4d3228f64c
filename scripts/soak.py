#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The soak: an hour of mixed traffic through one sipwake, sampled every
second (docs/performance.md, "The soak"). Not a test: a command to run on a
quiet machine before a release, and whose figures go in the release note.

    scripts/soak.py [--minutes 60] [--bindings 10000] [--calls-per-s 2]
                    [--asleep 0.2] [--never 0.02] [--tls 0.1] [--tcp 0.05]
                    [--junk 0.01] [--out build/soak]

On the lab of the tests (scripts/swlab.py: sipwake on net_af_packet in a
namespace, the APNs test double pd_testsrv beside it), scripts/soak_peers.py
plays the PBX and --bindings phones behind a few hundred app sockets: every
phone registers (its push address in its Contact) and refreshes every
15 min; calls come at --calls-per-s to awake phones (answered at once),
sleeping ones (pushed, they wake on a new address and take the call) and
phones that never wake (480 after wake.timeout_s); phones fall asleep as
often as others wake. --tls and --tcp of the phones are phones over TLS
and TCP (scripts/soak_streams.py), each on its own connection: asleep once
it has closed, woken onto a new one. tests/flood/sw_flood adds --junk of the
legitimate frame rate as junk from spoofed sources (scanner requests,
random UDP, malformed SIP).

Every second a row goes to <out>/samples.csv: sipwake's RSS, held calls,
the packet pool's mbufs in use, the rings' occupancy, pushes in flight,
the TLS and TCP connections open (sipwake's count, the phones' count) and
the memory sipwake says they hold,
calls placed / answered / failed, call set-up time p50 / p99 of that
second, the wake latency percentiles of /sipwake/held, and the frames
sipwake dropped that second (all reasons, and those of a full ring: the
down ring to the workers, the up rings), so that a drop is timed. At the end,
after the last calls have had their time, <out>/summary.json and the
verdicts:
  calls     every call ended as its phone's state says (200 or 480), none hung,
            every REGISTER answered (the peers retransmit as RFC 3261 says);
  held      no held call left once traffic has stopped;
  mempool   the mbufs in use back to where they were after the warm-up;
  rss       RSS levels off: its growth over the last half at most a quarter
            of the first half's, or under 4 MiB;
  streams   every connection a phone needed was made, none closed by
            sipwake under a phone that keeps it, and at the end sipwake
            has as many open as the phones do, per transport (none leaked).
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
import soak_streams  # noqa: E402
import swlab  # noqa: E402
from streampeer import add_streams  # noqa: E402
from wakekit import WakeLab  # noqa: E402

WAKE_TIMEOUT_S, PING_S, ALIVE_S = 8, 60, 3
POOL = "sw_pkt"  # DP_POOL_NAME, dataplane/dp.h


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
    ap.add_argument("--junk", type=float, default=0.01, help="junk frames / legitimate frames")
    ap.add_argument("--junk-round-s", type=int, default=600,
                    help="sw_flood runs in rounds this long (at most its 600 s)")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "soak"))
    return ap.parse_args()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def mbufs_in_use(lab):
    """The packet pool's mbufs in use (/sipwake/info pools)."""
    return (lab.telemetry("/sipwake/info") or {}).get("pools", {}).get(POOL + "_in_use", -1)


# Drops a full ring makes (/sipwake/stats), sampled each second: a burst of
# them times a stall of the control plane or of a worker.
RING_DROPS = ("drop_down_ring_full", "drop_up_ring_full")


def sample(lab, peers, t0, calls_before, prev):
    """One second's row; @prev: the last /sipwake/stats (updated)."""
    now = time.monotonic()
    held = lab.held()
    st = lab.stats()
    d = {k: st.get(k, 0) - prev.get(k, 0) for k in ("dropped",) + RING_DROPS}
    prev.clear()
    prev.update(st)
    info = lab.telemetry("/sipwake/info")
    push = lab.telemetry("/sipwake/push") or {}
    rings = info.get("rings", {})
    conns = lab.telemetry("/sipwake/conns") or {}
    o = peers.out
    row = {
        "t_s": round(now - t0, 1), "rss_kib": rss_kib(lab.proc.pid),
        "held": held.get("held", 0), "oldest_held_ms": held.get("oldest_age_ms", 0),
        "mbufs_in_use": mbufs_in_use(lab),
        "ring_up": sum(v for k, v in rings.items() if k.endswith("_up")),
        "ring_down": sum(v for k, v in rings.items() if k.endswith("_down")),
        "push_in_flight": push.get("apns", {}).get("in_flight", 0),
        "bindings": (lab.telemetry("/sipwake/bindings") or {}).get("count", 0),
        "tls_open": conns.get("tls", {}).get("open", 0),
        "tls_phones_open": peers.open_flows("TLS"),
        "tcp_open": conns.get("tcp", {}).get("open", 0),
        "tcp_phones_open": peers.open_flows("TCP"),
        "conns_mem_kib": conns.get("mem_bytes", 0) // 1024,
        "calls": o["calls"], "calls_this_s": o["calls"] - calls_before,
        "answered": o["answered"], "refused_480": o["refused_480"],
        "failed": o["failed"], "hung": o["hung"], "wakes": o["wakes"],
        "setup_p50_ms": round(pct(peers.setup_ms, 50), 1),
        "setup_p99_ms": round(pct(peers.setup_ms, 99), 1),
        "wake_p50_ms": held.get("invite_to_device", {}).get("p50_us", 0) / 1000,
        "wake_p99_ms": held.get("invite_to_device", {}).get("p99_us", 0) / 1000,
        "dropped_this_s": d["dropped"],
        "ring_drops_this_s": sum(d[k] for k in RING_DROPS),
    }
    peers.setup_ms = []
    return row


STREAMS = ("TLS", "TCP")


def open_settled(lab, peers, timeout_s=5.0):
    """sipwake's open connections per transport ({"TLS": n, "TCP": n})
    once they match the phones' (a close or an accept in flight has
    landed), or after @timeout_s."""
    end = time.monotonic() + timeout_s
    while True:
        conns = lab.telemetry("/sipwake/conns") or {}
        n = {t: conns.get(t.lower(), {}).get("open", 0) for t in STREAMS}
        if all(n[t] == peers.open_flows(t) for t in STREAMS) or time.monotonic() >= end:
            return n
        peers.pump(time.monotonic() + 0.2)


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
        json.dumps({k: x for k, x in peers.lab.stats().items() if k.startswith("drop_") and x})))


class Junk:
    """tests/flood/sw_flood at @rate frames/s from spoofed sources, at nice
    10, in rounds of at most @chunk_s (its own bound is 600 s), their
    frames summed. A round that fails stops the soak with its message."""

    def __init__(self, lab, rate, chunk_s):
        self.lab, self.rate, self.chunk_s = lab, max(1, int(rate)), chunk_s
        self.proc, self.frames, self.sent, self.rounds = None, 0, {}, 0

    def _cmd(self, seconds):
        return ["ip", "netns", "exec", self.lab.ns_peer, "nice", "-n", "10",
                os.path.join(REPO, "build", "tests", "flood", "sw_flood"),
                "--ifname", self.lab.if_peer, "--dst-mac", self.lab.sipwake_mac(),
                "--dst-ip", swlab.SW_IP4, "--mix", "scanner=1,junk=1,malformed=1",
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


def verdicts(rows, peers, base_mbufs, end_held, end_mbufs, end_open):
    o = peers.out
    half = len(rows) // 2
    rss = [r["rss_kib"] for r in rows]
    g1 = (rss[half] - rss[0]) / 1024 if half else 0
    g2 = (rss[-1] - rss[half]) / 1024 if half else 0
    return {
        "calls": (o["failed"] == 0 and o["hung"] == 0 and o["register_timeouts"] == 0
                  and o["calls"] > 0),
        "held": end_held == 0,
        "mempool": end_mbufs <= base_mbufs + 64,
        "rss": g2 <= 4 or g2 <= g1 / 4,
        "streams": (o["stream_connect_failed"] == 0 and o["stream_closed_by_edge"] == 0
                    and all(end_open[t] == peers.open_flows(t) for t in STREAMS)),
        "open_at_end": end_open,
        "phones_open_at_end": {t: peers.open_flows(t) for t in STREAMS},
        "rss_growth_first_half_mib": round(g1, 2), "rss_growth_second_half_mib": round(g2, 2),
        "mbufs_in_use_after_warmup": base_mbufs, "mbufs_in_use_at_end": end_mbufs,
        "held_at_end": end_held,
    }


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per app host
    # Its own lab (namespaces swsoak-*, DPDK prefix swsoak): beside the
    # tests it works, but its figures are then those of a loaded machine.
    lock = open("/tmp/sw-soak.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    lab = WakeLab("swsoak", 'policy = "ping"; provisional = "none";',
                  ping_interval_s=PING_S, idle_sleep_us=50)
    lab.bindings_extra = "ping_interval_s = %d; alive_window_s = %d; max_devices = %d;" % (
        PING_S, ALIVE_S, max(16, a.bindings * 2))
    # The PBX here is Python on a shared machine: give it time to answer.
    # Every phone here has the same IP (198.18.0.2, ports apart): the
    # newcomers' budgets per IP and per /24 (docs/admission.md) would be
    # one phone's, so they are the box's; admission is not what this measures.
    lab.pbx_extra = "check_interval_s = 3600; timeout_ms = 4000;"
    lab.config_extra += ("\nfilter: { unknown_rate = 2000; unknown_burst = 4000; "
                         "unknown_prefix_rate = 2000; unknown_prefix_burst = 4000; };")
    lab.config_extra = lab.config_extra.replace("timeout_s = 4;",
                                                "timeout_s = %d;" % WAKE_TIMEOUT_S)
    hosts = max(4, a.bindings // 50)
    if a.tls > 0 or a.tcp > 0:
        add_streams(lab, soak_streams.streams_config(int(a.bindings * (a.tls + a.tcp))))
    with lab:
        # Ten sleepers per asleep host: a fall (a REGISTER from it) wakes
        # the others behind it for an alive window.
        peers = soak_peers.Peers(lab, a.bindings, hosts, max(2, int(a.bindings * a.asleep / 10)),
                                 a.asleep, a.never,
                                 WAKE_TIMEOUT_S, PING_S, ALIVE_S,
                                 streams={"TLS": a.tls, "TCP": a.tcp})
        try:
            print("soak: registering %d phones" % a.bindings, flush=True)
            register_all(peers)
            # Warm-up: a round of pings, so that sleepers are asleep to sipwake.
            peers.pump(time.monotonic() + PING_S + ALIVE_S + 2)
            base_mbufs = mbufs_in_use(lab)
            # From here on every REGISTER must be answered: the warm-up's
            # timeouts were strangers' admission at work, kept apart.
            warmup_timeouts, peers.out["register_timeouts"] = peers.out["register_timeouts"], 0
            peers.out["failures"] = []
            rx0, t_rx = lab.stats().get("rx_packets", 0), time.monotonic()
            peers.pump(time.monotonic() + 5)
            legit_pps = (lab.stats().get("rx_packets", 0) - rx0) / (time.monotonic() - t_rx)
            secs = a.minutes * 60
            junk = Junk(lab, legit_pps * a.junk, min(a.junk_round_s, 600)) if a.junk > 0 else None
            print("soak: %.0f legitimate frames/s at rest, junk at %.1f/s, %.0f min"
                  % (legit_pps, legit_pps * a.junk, a.minutes), flush=True)
            rows, t0, owed, prev = [], time.monotonic(), 0.0, lab.stats()
            with open(os.path.join(a.out, "samples.csv"), "w", newline="") as f:
                w = None
                while time.monotonic() - t0 < secs:
                    tick, calls_before = time.monotonic(), peers.out["calls"]
                    if junk is not None:
                        junk.poll(secs - (tick - t0))
                    owed += a.calls_per_s
                    peers.refresh_due(tick, limit=200)
                    while owed >= 1 and peers.call(tick):
                        owed -= 1
                    owed = min(owed, a.calls_per_s * 2)
                    peers.expire_calls(tick)
                    peers.pump(tick + 1.0)
                    row = sample(lab, peers, t0, calls_before, prev)
                    rows.append(row)
                    if w is None:
                        w = csv.DictWriter(f, fieldnames=list(row))
                        w.writeheader()
                    w.writerow(row)
                    f.flush()
                    if len(rows) % 60 == 0:
                        print("soak: %4.0f s  rss %d KiB  held %d  mbufs %d  calls %d  failed %d"
                              % (row["t_s"], row["rss_kib"], row["held"], row["mbufs_in_use"],
                                 row["calls"], row["failed"]), flush=True)
            # The last calls get their time; nothing new is placed.
            end = time.monotonic() + WAKE_TIMEOUT_S + 3
            while peers.calls and time.monotonic() < end:
                peers.pump(time.monotonic() + 0.5)
            peers.expire_calls(time.monotonic() + WAKE_TIMEOUT_S + 3)
            peers.pump(time.monotonic() + 1.5)
            jres = junk.stop() if junk is not None else None
            end_held, end_mbufs = lab.held().get("held", 0), mbufs_in_use(lab)
            end_open = open_settled(lab, peers)
            conns = lab.telemetry("/sipwake/conns") or {}
            drops = {k: x for k, x in lab.stats().items()
                     if k.startswith("drop_") and isinstance(x, int) and x}
            v = verdicts(rows, peers, base_mbufs, end_held, end_mbufs, end_open)
            summary = {"args": vars(a), "legit_pps_at_rest": legit_pps,
                       "junk": jres,
                       "peers": {k: x for k, x in peers.out.items()}, "verdicts": v,
                       "sipwake_drops": drops, "warmup_register_timeouts": warmup_timeouts,
                       "conns": conns,
                       "rss_kib_first": rows[0]["rss_kib"], "rss_kib_last": rows[-1]["rss_kib"],
                       "rss_kib_max": max(r["rss_kib"] for r in rows),
                       "held_max": max(r["held"] for r in rows),
                       "ring_drop_seconds": [r["t_s"] for r in rows if r["ring_drops_this_s"]],
                       "setup_p99_ms_max": max(r["setup_p99_ms"] for r in rows)}
        finally:
            peers.close()
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    ok = all(v[k] for k in ("calls", "held", "mempool", "rss", "streams"))
    print(json.dumps({k: summary[k] for k in ("verdicts", "peers", "junk", "sipwake_drops")},
                     indent=1))
    print("soak: %s (%s)" % ("passed" if ok else "FAILED", os.path.join(a.out, "summary.json")))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
