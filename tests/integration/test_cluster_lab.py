# SPDX-License-Identifier: BSD-3-Clause
"""The test lab for several edges (scripts/swcluster.py, wakecluster.WakeCluster)
checked with sipwake in it: a check of the lab, a test peer, not of a
sipwake feature. What the cluster tests will stand on: two edges on one LAN
with the PBX and the apps, each answering at its own address and MAC,
each relaying a REGISTER with the one PBX answering it, each reaching Redis
through its own namespace's kernel address (and the peers not), a restart
after SIGKILL keeping the edge's store, and everything removed at the end
(the fixture's teardown: both edges exit 0, no namespace, no DPDK runtime
dir left). No cluster { } group yet (sipwake does not read it yet): the
edges do not share bindings, and that is checked too.

The lab without sipwake (Redis, Sentinel and its failover, removal when a
test or the set-up fails) is checked in tests/peers/test_cluster_lab.py,
with the other test peers."""
import os
import subprocess

import pytest

import swcluster  # noqa: E402
from wakecluster import WakeCluster, serve_cluster  # noqa: E402
from wakekit import PING_WAKE, Device, build, is_resp  # noqa: E402

NAME = "wkcl%d" % (os.getpid() % 10000)


def namespaces(prefix):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         timeout=10).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix + "-")]


@pytest.fixture(scope="module")
def ctx():
    cluster = WakeCluster(NAME, PING_WAKE, n_edges=2, redis="single")
    prefixes = [e.runtime_dir() for e in cluster.edges]
    yield from serve_cluster(cluster)
    assert namespaces(NAME) == []
    assert [p for p in prefixes if os.path.exists(p)] == []


def options(edge, app, cid):
    return build("OPTIONS sip:ping@%s SIP/2.0" % edge.sw_ip4, [
        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s;rport" % (app.ip, app.port, cid),
        "Max-Forwards: 70", "From: <sip:probe@%s>;tag=p1" % app.ip,
        "To: <sip:ping@%s>" % edge.sw_ip4, "Call-ID: %s" % cid, "CSeq: 1 OPTIONS"])


def test_each_edge_answers_at_its_own_address_and_mac(ctx):
    edges = ctx.edges
    assert [e.sw_ip4 for e in edges] == ["198.18.0.1", "198.18.0.3"]
    assert [e.sipwake_mac().lower() for e in edges] == [swcluster.edge_mac(i) for i in (0, 1)]
    before = [e.stats() for e in edges]
    for i, e in enumerate(edges):
        app = ctx.app(edge=i)
        cid = "lab-ping-%d" % i
        app.send(options(e, app, cid))
        ok = app.expect(is_resp(200, cid), 3.0, "200 to OPTIONS from edge %d" % i)
        assert ok.src == (e.sw_ip4, 5060), ok
    after = [e.stats() for e in edges]
    for i in range(2):
        # Each edge answered its own ping, not the other's; the bridge
        # hands over datagrams whose checksums are filled in.
        assert after[i]["sip_options_answered"] - before[i]["sip_options_answered"] == 1
        assert after[i]["drop_udp_checksum"] == 0, after[i]


def test_an_app_registers_through_each_edge(ctx):
    devs = [Device("cl-lab-%d" % i) for i in range(2)]
    for i, dev in enumerate(devs):
        app = ctx.app(edge=i)
        ctx.send_register(app, dev)
        req = ctx.pbx_answer_register(dev, app, 200)
        # The one PBX sees the REGISTER from this edge, and answers there.
        assert req.src == (ctx.edges[i].sw_ip4, 5060), req
        app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0,
                   "200 to the REGISTER through edge %d" % i)
    for i, dev in enumerate(devs):
        assert [d["instance"] for d in ctx.edges[i].devices(dev.aor)] == [
            "<urn:uuid:%s>" % dev.instance]
        # No cluster { } group: the other edge has not heard of it.
        assert ctx.edges[1 - i].devices(dev.aor) == []


def test_redis_through_each_edge_namespace_only(ctx):
    cluster = ctx.lab
    for i in range(2):
        assert cluster.redis_cli("PING", edge=i) == "PONG"
    # The backend network is not the SIP side's: the peers cannot reach it.
    p = cluster.peer(["redis-cli", "-h", swcluster.REDIS_MASTER, "PING"], check=False,
                     timeout=10)
    assert p.returncode != 0 and "PONG" not in p.stdout, p


def test_a_killed_edge_restarts_with_its_store(ctx):
    cluster, dev = ctx.lab, Device("cl-lab-0")  # bound through edge 0 above
    before = cluster.edges[0].devices(dev.aor)
    assert len(before) == 1, before
    assert cluster.kill_edge(0) == -9
    cluster.start_edge(0)
    after = cluster.edges[0].devices(dev.aor)
    assert [(d["instance"], d["contact"]) for d in after] == [
        (d["instance"], d["contact"]) for d in before]
    assert cluster.edges[0].stats()["bindings_loaded"] >= 1
    # The earlier run's log is kept beside the new one.
    assert os.path.exists(os.path.join(cluster.edges[0].tmp, "sipwake.1.log"))
    # Still answering, and edge 1 never noticed.
    app = ctx.app(edge=0)
    app.send(options(cluster.edges[0], app, "lab-ping-again"))
    app.expect(is_resp(200, "lab-ping-again"), 3.0, "200 to OPTIONS after the restart")
    assert cluster.edges[1].proc.poll() is None
