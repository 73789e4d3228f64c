# SPDX-License-Identifier: BSD-3-Clause
"""Calls go through two edges that share their bindings through Redis
(docs/cluster.md) while both are flooded (test_flood_calls.py is one edge).

Apps are bound through e0 and through e1; two sipp PBXs place calls, one
through each edge, mostly to apps bound through the other (any edge routes
any call: the edge a device is bound through reaches it); asleep apps are
pushed by the edge they are bound through and come back through the other
edge, from a new address; one app never wakes (480). Meanwhile sw_flood
sends every datagram junk kind to each edge (one sender per edge, on its
port of the peers' bridge), the badauth REGISTERs naming the test's AORs.
Pass: every call ends as its line says; no binding changed, in either
edge's tables or in Redis, but the woken apps'; each edge's counters
account for every junk frame its sender reports; nothing legitimate was
dropped for room in either neighbour table. Results in
build/test_flood_edges.json.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sippkit  # noqa: E402
import swcluster  # noqa: E402
import swlab  # noqa: E402
from clusterkit import redis_binding, until  # noqa: E402
from floodkit import (UDP_KIND_COUNTERS, Flood, Phones, account, binding, pbx_calls, pct,  # noqa: E402
                      pinned, rtt_ms, sipp_stats, veth_tx, write_json)
from wakecluster import WakeCluster, serve_cluster  # noqa: E402
from wakekit import Device  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or os.cpu_count() < 2,
                                reason="needs root and two CPUs")

CALLS, CALL_RATE = 30, 2  # per PBX (one per edge): 15 s of calls
REFRESH_S = 1.0
N_AWAKE, N_WAKE = 2, 2  # per edge
NEW_IP = "198.18.0.78"
FLOOD_S, FLOOD_MAX = 75, 20_000_000
FLOOD_MIX = "scanner=4,junk=2,malformed=2,invite=1,ping=1,rfc4475=3,badauth=3"
RATE = 40_000  # junk frames/s to each edge (a sixth for the ASan + UBSan sipwake)
FILTER = ("filter: { reply_403 = true; answer_rate = 500; answer_burst = 1000; "
          "unknown_global_rate = 100; unknown_global_burst = 200; };")


def flood_rate():
    default = RATE // 6 if "asan" in swlab.sipwake_bin() else RATE
    return os.environ.get("FLOOD_RATE", str(default))


def plan_for(edge, awake, asleep, never):
    """One PBX's injection lines through @edge: the apps bound through the
    other edge first, then its own; each asleep app of the other edge once;
    @never twice (480) through edge 0."""
    mine = [d for e, d in awake if e == edge]
    other = [d for e, d in awake if e != edge]
    sleepers = [d for e, d in asleep if e != edge]
    targets, n = [], [never, never] if edge == 0 else []
    for i in range(CALLS):
        if i % 7 == 3 and sleepers:
            targets.append((sleepers.pop(0), 200))
        elif i % 11 == 6 and n:
            targets.append((n.pop(0), 480))
        else:
            pool = other if i % 3 else mine
            targets.append((pool[i % len(pool)], 200))
    assert not sleepers and not n, "CALLS too small for the plan"
    return [(dev.user, "198.18.0.2", 5060, dev.token, final) for dev, final in targets]


def state(cl, devs):
    """What junk must not change: each device's binding on both edges and
    its record in Redis (docs/cluster.md, "What is where"), but the record's
    last two fields, its times (every refresh moves them)."""
    return {dev.user: (binding(cl.edges[0], dev), binding(cl.edges[1], dev),
                       redis_binding(cl, dev, check=True).split("\x1f")[:-2]) for dev in devs}


@pytest.fixture(scope="module")
def fl_edges():
    cl = WakeCluster("fe%d" % (os.getpid() % 10000), 'policy = "ping";', n_edges=2,
                     cluster_config=True, vdev_extra=",framecnt=16384")
    for e in cl.edges:
        e.config_extra += "\n" + FILTER
    with pinned():
        for ctx in serve_cluster(cl):
            cl.peer(["ip", "addr", "add", NEW_IP + "/24", "dev", swcluster.PEER_BRIDGE])
            yield ctx


def test_calls_through_two_flooded_edges(fl_edges):
    ctx = fl_edges
    cl = ctx.lab
    t_start = time.monotonic()
    awake, asleep, eps = [], [], {}
    for edge in (0, 1):
        for i in range(N_AWAKE):
            ep, dev = ctx.app(edge=edge), Device("awake%d%d" % (edge, i))
            awake.append((edge, dev))
            eps[dev.user] = ep
        for i in range(N_WAKE):
            ep, dev = ctx.app(edge=edge), Device("wake%d%d" % (edge, i))
            asleep.append((edge, dev))
            eps[dev.user] = ep
    never_ep, never = ctx.app(edge=0), Device("never")
    for edge, dev in awake + asleep + [(0, never)]:
        ctx.register(eps.get(dev.user, never_ep), dev)
    devs = [dev for _, dev in awake + asleep] + [never]
    for dev in devs:
        until(lambda: all(binding(e, dev) for e in ctx.edges), 3.0, "%s on both edges" % dev.user)
    # The sleepers' sockets close: a ping from their edge goes unanswered.
    for edge, dev in asleep + [(0, never)]:
        eps.get(dev.user, never_ep).close()
    for edge, dev in asleep + [(0, never)]:
        ctx.wait_state(dev, "asleep", edge=edge)
    bound0 = state(cl, devs)
    mark = ctx.push.mark()
    other = {dev.user: 1 - edge for edge, dev in asleep}
    phones = Phones(ctx, [(eps[dev.user], dev) for _, dev in awake],
                    [(dev, mark) for _, dev in asleep], REFRESH_S,
                    lambda dev: ctx.app(ip=NEW_IP, edge=other[dev.user]))
    plans = [plan_for(edge, awake, asleep, never) for edge in (0, 1)]
    before = [e.stats() for e in ctx.edges]
    tx0 = [veth_tx(e) for e in ctx.edges]
    aors = [a for dev in devs for a in ("--aor", dev.aor)]
    floods = [Flood(e, FLOOD_MIX, FLOOD_S, FLOOD_MAX, frames=32768, rate=flood_rate(), extra=aors)
              for e in ctx.edges]
    pbxs = []
    phones.thread.start()
    try:
        for f in floods:
            f.start(warm_s=0.0)
        time.sleep(3.0)
        try:
            for edge, e in enumerate(ctx.edges):
                pbxs.append(pbx_calls(e, plans[edge], CALL_RATE,
                                      os.path.join(cl.tmp, "calls%d.csv" % edge),
                                      port=5062 + 2 * edge))
                pbxs[-1].start()
            res = [p.wait() for p in pbxs]
        finally:
            res_flood = [f.stop() for f in floods]
        time.sleep(1.0)
    finally:
        phones.stop.set()
        phones.thread.join(10)
    after = [e.stats() for e in ctx.edges]
    tx = [veth_tx(e) - t for e, t in zip(ctx.edges, tx0)]
    bound1 = state(cl, devs)
    c = [{k: a[k] - b.get(k, 0) for k in a if isinstance(a[k], int)}
         for a, b in zip(after, before)]
    lost = [t - x["rx_packets"] for t, x in zip(tx, c)]
    stats = [sipp_stats(p.dir) for p in pbxs]
    rtt = sorted(v for p in pbxs for v in rtt_ms(p.dir))
    legit = sum(tx) - sum(r["frames"] for r in res_flood)
    summary = {
        "floods": res_flood, "junk_pps": sum(r["pps"] for r in res_flood),
        "legit_frames": legit,
        "calls": {"attempted": 2 * CALLS, "rate": 2 * CALL_RATE,
                  "succeeded": sum(int(s.get("SuccessfulCall(C)", 0)) for s in stats),
                  "failed": sum(int(s.get("FailedCall(C)", 0)) for s in stats),
                  "woken": sorted(phones.woken)},
        "setup_ms": {"n": len(rtt), "p50": pct(rtt, 50), "p90": pct(rtt, 90),
                     "p99": pct(rtt, 99), "max": rtt[-1] if rtt else None},
        "refreshes": {"sent": phones.refreshes, "answered": phones.refreshed},
        "registrar": phones.registrar, "veth_frames": tx, "lost": lost,
        "counters": [{k: v for k, v in x.items() if v} for x in c],
        "seconds_total": time.monotonic() - t_start,
    }
    write_json("test_flood_edges.json", summary)
    assert phones.err is None, phones.err
    for edge, (r, p) in enumerate(zip(res, pbxs)):
        assert r.ok, "edge %d: %s" % (edge, sippkit.explain(r, ctx.edges[edge].read_log()[-3000:]))
    assert summary["calls"]["succeeded"] == 2 * CALLS, summary["calls"]
    # Each 200 came from the app called, which then got the BYE; the app
    # that never wakes got nothing. Call-IDs are "<n>-<pid>@<ip>" per sipp.
    by_pbx = {}
    for cid, user in phones.answered.items():
        assert cid in phones.byes, (cid, user)
        n, rest = cid.split("-", 1)
        by_pbx.setdefault(rest.split("@")[0], {})[int(n)] = user
    got = sorted(by_pbx.values(), key=lambda d: len(d))
    want = sorted(({n: u for n, (u, _, _, _, f) in enumerate(p, 1) if f == 200} for p in plans),
                  key=lambda d: len(d))
    assert got == want, (got, want)
    assert sorted(phones.woken) == sorted(dev.user for _, dev in asleep), phones.woken
    assert phones.refreshed >= phones.refreshes - 2 * N_AWAKE, summary["refreshes"]
    assert sum(r["frames"] for r in res_flood) >= 10 * legit, summary
    # No binding changed anywhere but the woken apps', theirs to the new
    # address on both edges and in Redis.
    for dev in devs:
        if dev.user in phones.woken:
            ep = phones.woken[dev.user]
            where = "%s:%d" % (ep.ip, ep.port)
            assert all(where in str(b) for b in bound1[dev.user]), bound1[dev.user]
        else:
            assert bound1[dev.user] == bound0[dev.user], (dev.user, bound0, bound1)
    # Each edge accounts for every junk frame its sender reports.
    summary["accounting"] = []
    for edge in (0, 1):
        assert 0 <= lost[edge] <= 0.01 * res_flood[edge]["frames"], summary
        summary["accounting"].append(account(res_flood[edge]["sent"], c[edge],
                                             UDP_KIND_COUNTERS, lost[edge]))
        assert c[edge]["drop_neigh_hold_full"] == 0, (edge, c[edge])
    write_json("test_flood_edges.json", summary)

