# SPDX-License-Identifier: BSD-3-Clause
"""The test lab for several edges (scripts/swcluster.py) checked without
sipwake: a check of the lab, a test peer, not of sipwake. The namespaces and
veths are made and the configs written, but no sipwake starts
(start_edges=False); tests/integration/test_cluster_lab.py checks the same
lab with the edges running.

What the cluster tests will rely on: Redis reached from every edge's
namespace through its kernel address on the backend network, and not from
the peers; the cluster { } group as sipwake will read it; an AOF in the
server's data dir read back after a SIGKILL; Sentinel electing 10.77.0.1,
failing over to 10.77.0.2 when it is killed and taking it back as a
replica; and everything (namespaces, Redis, sentinels) removed when the
lab ends, also when a test or the lab's own set-up fails."""
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts"))
import swcluster  # noqa: E402
from swcluster import REDIS_MASTER, REDIS_REPLICA, SENTINEL_PORT, ClusterLab  # noqa: E402

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("redis-server") or not shutil.which("redis-sentinel"),
    reason="needs root (network namespaces), redis-server and redis-sentinel "
           "(scripts/setup.sh)")


def name(tag):
    return "swcl%s%d" % (tag, os.getpid() % 10000)


def namespaces(prefix):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         timeout=10).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix + "-")]


def gone(lab):
    """Nothing of @lab is left: no namespace, no Redis or sentinel process
    (of all it ever started, restarts included)."""
    return namespaces(lab.name) == [] and lab.spawned != [] \
        and [p.pid for p in lab.spawned if p.poll() is None] == []


def test_single_redis_from_every_edge_and_an_aof_after_sigkill():
    lab = ClusterLab(name("s"), n_edges=3, redis="single", start_edges=False,
                     cluster_config=True, redis_args=["--appendonly", "yes",
                                                      "--appendfsync", "always"])
    with lab:
        assert sorted(namespaces(lab.name)) == sorted(
            [lab.ns_peer, lab.ns_db] + ["%s-e%d" % (lab.name, i) for i in range(3)])
        for i, e in enumerate(lab.edges):
            assert lab.redis_cli("PING", edge=i) == "PONG"
            # The edge's SIP side: its own MAC for net_af_packet, a port of
            # the peers' bridge at the other end.
            link = e.sw(["ip", "-o", "link", "show", e.if_sw]).stdout
            assert swcluster.edge_mac(i) in link, link
            port = lab.peer(["ip", "-o", "link", "show", e.if_peer]).stdout
            assert "master %s" % swcluster.PEER_BRIDGE in port, port
            # The config sipwake will read: its addresses, the group.
            conf = open(e.conf_path).read()
            assert 'ipv4 = "%s/24"' % e.sw_ip4 in conf
            others = ", ".join('{ edge = "e%d"; address = "%s"; }' % (j, o.sw_ip4)
                               for j, o in enumerate(lab.edges) if j != i)
            assert ('cluster: { edge = "e%d"; redis = "10.77.0.1:6379"; timeout_ms = 1000; '
                    'retry_ms = 200; peers = ( %s ); };' % (i, others)) in conf, conf
        assert [e.sw_ip4 for e in lab.edges] == ["198.18.0.1", "198.18.0.3", "198.18.0.4"]
        assert [e.sw_ip6 for e in lab.edges] == ["2001:db8:5e::1", "2001:db8:5e::3",
                                                 "2001:db8:5e::4"]
        # One store seen from every edge.
        assert lab.redis_cli("SET", "lab:k", "v1", edge=0) == "OK"
        assert lab.redis_cli("GET", "lab:k", edge=2) == "v1"
        # The management network is not the SIP side's.
        p = lab.peer(["redis-cli", "-h", REDIS_MASTER, "PING"], check=False)
        assert p.returncode != 0 and "PONG" not in p.stdout, p
        # SIGKILL, then the same address, port and data dir: the AOF is read.
        assert lab.redis_kill() == REDIS_MASTER
        assert lab.redis_cli("PING", edge=1, check=False) != "PONG"
        lab.redis_start()
        assert lab.redis_cli("GET", "lab:k", edge=1) == "v1"
    assert gone(lab)


def test_sentinel_elects_fails_over_and_takes_the_old_master_back():
    lab = ClusterLab(name("f"), n_edges=2, redis="sentinel", start_edges=False,
                     cluster_config=True)
    with lab:
        conf = open(lab.edges[1].conf_path).read()
        assert ('cluster: { edge = "e1"; sentinels = [ "10.77.0.1:26379", "10.77.0.2:26379", '
                '"10.77.0.3:26379" ]; master = "sipwake"; timeout_ms = 1000; retry_ms = 200; '
                'peers = ( { edge = "e0"; address = "198.18.0.1"; } ); };' in conf), conf
        # Every sentinel, asked from an edge's namespace as sipwake will ask.
        for a in lab.sentinels:
            assert lab.redis_cli("SENTINEL", "get-master-addr-by-name", "sipwake", host=a,
                                 port=SENTINEL_PORT, edge=0).split() == [REDIS_MASTER, "6379"]
        assert lab.redis_cli("ROLE", host=REDIS_REPLICA).split()[:3] == [
            "slave", REDIS_MASTER, "6379"]
        t0 = time.monotonic()
        assert lab.redis_kill() == REDIS_MASTER
        assert lab.wait_failover(timeout=30) == (REDIS_REPLICA, 6379)
        took = time.monotonic() - t0
        assert lab.master_addr() == (REDIS_REPLICA, 6379)
        assert lab.redis_cli("SET", "after", "failover", edge=1) == "OK"  # at the new master
        # The old master comes back as the new one's replica.
        lab.redis_start()
        end = time.monotonic() + 20
        while not re.match(r"slave\n%s\n6379\nconnected" % re.escape(REDIS_REPLICA),
                           lab.redis_cli("ROLE", host=REDIS_MASTER, check=False)):
            assert time.monotonic() < end, lab.redis_cli("ROLE", host=REDIS_MASTER, check=False)
            time.sleep(0.2)
        assert lab.redis_cli("GET", "after", host=REDIS_MASTER) == "failover"
    assert gone(lab)
    # down-after-milliseconds 1000, then an election: seconds, not minutes.
    assert took < 15, took


def test_lab_removed_when_the_test_fails():
    lab = ClusterLab(name("t"), n_edges=1, redis="single", start_edges=False)
    with pytest.raises(AssertionError, match="the test failed"):
        with lab:
            assert lab.running("redis") == [REDIS_MASTER]
            assert False, "the test failed"
    assert gone(lab)


def test_lab_removed_when_its_set_up_fails():
    # redis-server refuses an option it does not know: up() fails half way,
    # after the namespaces were made.
    lab = ClusterLab(name("u"), n_edges=2, redis="single", start_edges=False,
                     redis_args=["--no-such-option", "x"])
    with pytest.raises(RuntimeError, match="redis 10.77.0.1:6379 answering PING"):
        with lab:
            pass
    assert gone(lab)
