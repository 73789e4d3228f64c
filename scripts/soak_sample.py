# SPDX-License-Identifier: BSD-3-Clause
"""What the soak (scripts/soak.py) reads of its edges each second and
judges at the end: one row of samples.csv from every edge's telemetry
and the peers' counts, the open connections once they have settled, and
the verdicts. With one edge a row's per-edge columns are plain
("rss_kib"); with several, each edge has its own ("rss_kib_e0",
"rss_kib_e1", ...)."""
import time

POOL = "sw_pkt"  # DP_POOL_NAME, dataplane/dp.h
STREAMS = ("TLS", "TCP", "WSS")
# Drops a full ring makes (/sipwake/stats), sampled each second: a burst of
# them times a stall of the control plane or of a worker.
RING_DROPS = ("drop_down_ring_full", "drop_up_ring_full")


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


def col(name, i, n):
    """The column of per-edge figure @name for edge @i of @n."""
    return name if n == 1 else "%s_e%d" % (name, i)


def edge_figures(lab, prev):
    """One edge's figures this second; @prev: its last /sipwake/stats
    (updated)."""
    held = lab.held()
    st = lab.stats()
    d = {k: st.get(k, 0) - prev.get(k, 0) for k in ("dropped",) + RING_DROPS}
    prev.clear()
    prev.update(st)
    info = lab.telemetry("/sipwake/info") or {}
    push = lab.telemetry("/sipwake/push") or {}
    rings = info.get("rings", {})
    conns = lab.telemetry("/sipwake/conns") or {}
    f = {
        "rss_kib": rss_kib(lab.proc.pid),
        "held": held.get("held", 0), "oldest_held_ms": held.get("oldest_age_ms", 0),
        "mbufs_in_use": info.get("pools", {}).get(POOL + "_in_use", -1),
        "ring_up": sum(v for k, v in rings.items() if k.endswith("_up")),
        "ring_down": sum(v for k, v in rings.items() if k.endswith("_down")),
        "push_in_flight": push.get("apns", {}).get("in_flight", 0),
        "bindings": (lab.telemetry("/sipwake/bindings") or {}).get("count", 0),
        "conns_mem_kib": conns.get("mem_bytes", 0) // 1024,
        "wake_p50_ms": held.get("invite_to_device", {}).get("p50_us", 0) / 1000,
        "wake_p99_ms": held.get("invite_to_device", {}).get("p99_us", 0) / 1000,
        "dropped_this_s": d["dropped"],
        "ring_drops_this_s": sum(d[k] for k in RING_DROPS),
    }
    for t in STREAMS:
        f[t.lower() + "_open"] = conns.get(t.lower(), {}).get("open", 0)
    return f


def sample(edges, peers, t0, calls_before, prevs):
    """One second's row for @edges (a list of labs); @prevs: each edge's
    last /sipwake/stats (updated)."""
    now = time.monotonic()
    o = peers.out
    row = {"t_s": round(now - t0, 1)}
    for i, (lab, prev) in enumerate(zip(edges, prevs)):
        for k, v in edge_figures(lab, prev).items():
            row[col(k, i, len(edges))] = v
    for t in STREAMS:
        row[t.lower() + "_phones_open"] = peers.open_flows(t)
    row.update({
        "calls": o["calls"], "calls_this_s": o["calls"] - calls_before,
        "answered": o["answered"], "refused_480": o["refused_480"],
        "failed": o["failed"], "hung": o["hung"], "wakes": o["wakes"],
        "setup_p50_ms": round(pct(peers.setup_ms, 50), 1),
        "setup_p99_ms": round(pct(peers.setup_ms, 99), 1),
    })
    peers.setup_ms = []
    return row


def open_now(edges):
    """sipwake's open connections per transport, summed over @edges."""
    n = dict.fromkeys(STREAMS, 0)
    for lab in edges:
        conns = lab.telemetry("/sipwake/conns") or {}
        for t in STREAMS:
            n[t] += conns.get(t.lower(), {}).get("open", 0)
    return n


def open_settled(edges, peers, timeout_s=5.0):
    """open_now() once it matches the phones' open connections (a close or
    an accept in flight has landed), or after @timeout_s."""
    end = time.monotonic() + timeout_s
    while True:
        n = open_now(edges)
        if all(n[t] == peers.open_flows(t) for t in STREAMS) or time.monotonic() >= end:
            return n
        peers.pump(time.monotonic() + 0.2)


def rss_growth(rows, key):
    """RSS growth over the first and the second half of @rows, MiB."""
    half = len(rows) // 2
    rss = [r[key] for r in rows]
    if not half:
        return 0.0, 0.0
    return (rss[half] - rss[0]) / 1024, (rss[-1] - rss[half]) / 1024


def verdicts(rows, peers, n_edges, base_mbufs, end_held, end_mbufs, end_open):
    """The five verdicts (scripts/soak.py), each over every edge; the
    per-edge lists are in edge order."""
    o = peers.out
    growth = [rss_growth(rows, col("rss_kib", i, n_edges)) for i in range(n_edges)]
    return {
        "calls": (o["failed"] == 0 and o["hung"] == 0 and o["register_timeouts"] == 0
                  and o["calls"] > 0),
        "held": all(h == 0 for h in end_held),
        "mempool": all(e <= b + 64 for e, b in zip(end_mbufs, base_mbufs)),
        "rss": all(g2 <= 4 or g2 <= g1 / 4 for g1, g2 in growth),
        "streams": (o["stream_connect_failed"] == 0 and o["stream_closed_by_edge"] == 0
                    and all(end_open[t] == peers.open_flows(t) for t in STREAMS)),
        "open_at_end": end_open,
        "phones_open_at_end": {t: peers.open_flows(t) for t in STREAMS},
        "rss_growth_first_half_mib": [round(g1, 2) for g1, _ in growth],
        "rss_growth_second_half_mib": [round(g2, 2) for _, g2 in growth],
        "mbufs_in_use_after_warmup": base_mbufs, "mbufs_in_use_at_end": end_mbufs,
        "held_at_end": end_held,
    }
