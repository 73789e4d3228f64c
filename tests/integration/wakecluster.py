# SPDX-License-Identifier: BSD-3-Clause
"""What the wake-path tests of several edges (scripts/swcluster.py:
test_cluster*.py, test_flood_edges.py) share: WakeCluster, each edge a
wakekit.WakeLab with its own push server, one view of all their pushes
(PushServers), and ClusterCtx, apps that each use the edge they are made
for; serve_cluster for their fixtures."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swcluster  # noqa: E402
from wakekit import ALIVE_WINDOW_S, APP4, Call, Ctx, Pushes, WakeLab  # noqa: E402


class WakeEdge(swcluster.Edge, WakeLab):
    """An edge of a WakeCluster: a WakeLab (its wake { } group, its own
    pd_testsrv) on swcluster's network. One push server per edge, in the
    edge's namespace, because pushd reaches push services through the kernel
    stack of the namespace sipwake runs in and pd_testsrv listens on
    127.0.0.1 only (its certificate names that address); PushServers joins
    what they saw."""


class PushServers:
    """The pushes of several pd_testsrv (one per edge) as one server for
    Pushes: every request once, in the order this view first saw it (one
    server's in that server's order), each tagged with the index of the edge
    that sent it ("edge"); a control command ("set <token> 410") goes to
    every server, since any edge may push to that token."""

    def __init__(self, servers):
        self.servers = servers
        self._seen = [0] * len(servers)
        self._all = []

    def reqs(self):
        # Appended, never reordered: a mark (an index) stays valid.
        for i, s in enumerate(self.servers):
            new = s.reqs()[self._seen[i]:]
            self._seen[i] += len(new)
            for e in new:
                e["edge"] = i
            self._all += new
        return list(self._all)

    def cmd(self, line):
        return [s.cmd(line) for s in self.servers]


class WakeCluster(swcluster.ClusterLab):
    """A ClusterLab of WakeEdges (wake { @wake }, pings every
    @ping_interval_s), the pushes of all of them in .push; other keywords
    are ClusterLab's (n_edges, redis, cluster_config, ...) or go to every
    edge."""

    edge_class = WakeEdge

    def __init__(self, name, wake, ping_interval_s=0, **kw):
        super().__init__(name, wake=wake, ping_interval_s=ping_interval_s, **kw)
        self.push = Pushes(PushServers([e.server for e in self.edges]))


class ClusterCtx(Ctx):
    """What a test of a WakeCluster works with: the one PBX (198.18.0.5:5060,
    every edge's pbx.servers; it answers where each request came from and
    sends to the edge a test names), apps in the one peer namespace, each
    sending to the edge it is made for (app.edge: that edge's index), and
    the pushes of every edge (ctx.push). Ctx's registration steps work
    unchanged; the steps of a call take the edge from the Call (ctx.call)."""

    def __init__(self, cluster):
        super().__init__(cluster)
        self.edges = cluster.edges

    def app(self, ip=APP4, ns=None, edge=0):
        ep = super().app(ip, ns, to=self.edges[edge].sw_ip4)
        ep.edge = edge
        return ep

    def call(self, ruri, to_user, edge=0, **kw):
        """A Call from the PBX through edge @edge."""
        return Call(ruri, to_user, edge=self.edges[edge].sw_ip4, **kw)

    def wait_state(self, dev, state, timeout=ALIVE_WINDOW_S + 3.0, lab=None, edge=0):
        return super().wait_state(dev, state, timeout, lab or self.edges[edge])

    def asleep(self, *pairs):
        """Bind each (app, device) pair through the app's edge, then wait
        until that edge shows every one asleep."""
        for app, dev in pairs:
            self.register(app, dev)
        for app, dev in pairs:
            self.wait_state(dev, "asleep", edge=app.edge)


def serve_cluster(cluster):
    """What a fixture yields for @cluster (not started yet): its ClusterCtx
    while the tests run; then the peers close and every edge's sipwake that
    still runs must exit 0. Use as `yield from serve_cluster(cluster)`."""
    with cluster:
        ctx = ClusterCtx(cluster)
        try:
            yield ctx
        finally:
            ctx.close()
        rcs = {e.edge_name: e.stop() for e in cluster.edges if e.proc is not None}
        assert not [rc for rc in rcs.values() if rc != 0], (rcs, [
            e.read_log()[-3000:] for e in cluster.edges])
