# SPDX-License-Identifier: BSD-3-Clause
"""Redis Sentinel's failover under traffic (docs/cluster.md, "Losing
Redis"): two edges find the master through three sentinels, write with
cluster.wait_replicas = 1 (a 2xx only once a replica has the binding too),
the master is killed while apps register through both edges; the sentinels
promote the replica, the edges follow it by themselves, nothing any app was
told is lost, and the edges converge. A real redis-server pair and three
redis-sentinel processes, started and stopped by scripts/swcluster.py."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clusterkit import cluster, redis_binding, until  # noqa: E402
from wakecluster import WakeCluster, serve_cluster  # noqa: E402
from wakekit import PING_WAKE, Device  # noqa: E402

FAILOVER_S = 30  # the sentinels' election and promotion, bounded


@pytest.fixture(scope="module")
def ctx():
    cl = WakeCluster("wcs%d" % (os.getpid() % 10000), PING_WAKE, n_edges=2, redis="sentinel",
                     cluster_config=True, cluster_extra="wait_replicas = 1; wait_ms = 500;")
    yield from serve_cluster(cl)


def on_edge(edge, dev, app):
    ds = [d for d in edge.devices(dev.aor) if d.get("instance") == "<urn:uuid:%s>" % dev.instance]
    return ds and ds[0]["contact"] == "sip:%s@%s:%d" % (dev.user, app.ip, app.port)


def test_failover_under_traffic(ctx):
    lab = ctx.lab
    master = lab.master_addr()
    for e in ctx.edges:
        until(lambda: cluster(e)["redis_state"] == "up", 10, e.edge_name + " up")
        assert cluster(e)["master"] == "%s:6379" % master[0]
        assert cluster(e)["sentinel_lookups"] >= 1
    told = []  # every device whose app heard 200: none may be lost

    def register(i):
        dev, app = Device("sf%d" % len(told)), ctx.app(edge=i % 2)
        ctx.register(app, dev)
        told.append((dev, app))

    for i in range(4):
        register(i)
    old = lab.redis_kill()
    assert old == master[0]
    # Apps keep registering while the sentinels elect (journaled meanwhile).
    end = time.monotonic() + FAILOVER_S
    new = None
    i = 4
    while time.monotonic() < end:
        register(i)
        i += 1
        new = lab.master_addr()
        if new[0] != old and all(cluster(e)["redis_state"] == "up" for e in ctx.edges):
            break
        time.sleep(0.5)
    assert new is not None and new[0] != old, "no failover within %d s" % FAILOVER_S
    # Every sentinel names the new master (the first one to say so may be
    # alone for a moment): what is read below is read from it.
    new = lab.wait_failover(timeout=FAILOVER_S, old=old)
    for e in ctx.edges:
        until(lambda: (cluster(e)["master"] == "%s:6379" % new[0] and
                       cluster(e)["redis_state"] == "up" and cluster(e)["journal_depth"] == 0)
              or None, 15, "%s on the new master, journal replayed: %s" % (e.edge_name,
                                                                         cluster(e)))
    register(i)
    # Nothing an app was told is lost: in the new master, and on both edges.
    for dev, app in told:
        got = redis_binding(ctx.lab, dev, check=True)
        assert "sip:%s@%s:%d" % (dev.user, app.ip, app.port) in got, (dev.aor, got)
        for e in ctx.edges:
            until(lambda: on_edge(e, dev, app), 3.0, "%s on %s" % (dev.aor, e.edge_name))
    c = [cluster(e) for e in ctx.edges]
    assert all(x["disconnects"] >= 1 and x["connects"] >= 2 for x in c), c
