# SPDX-License-Identifier: BSD-3-Clause
"""A throwaway network for several sipwake edges that share bindings
through Redis: swlab.py's lab, one edge per namespace, all on one LAN.

    <name>-peer   the PBX, the apps and the gateway (swlab's PEER_IP*,
                  PBX_IP*, GW_IP4, OFFLINK_IP4) on a Linux bridge; every
                  edge's veth peer end is a port of it, so the edges and the
                  peers share one segment as they would behind one switch
    <name>-e<i>   edge i: its sipwake on its veth through net_af_packet,
                  exactly as swlab starts it (its own EAL --file-prefix,
                  config, store), SIP address edge_ip4(i) / edge_ip6(i);
                  and a second veth with a kernel address, mgmt_ip4(i), on
                  the backend network
    <name>-db     the backend network, as an operator's management network:
                  a bridge with 10.77.0.1-3, Redis on 10.77.0.1:6379, with
                  redis="sentinel" a replica on 10.77.0.2:6379 and three
                  sentinels on 10.77.0.1/2/3:26379

sipwake's control plane reaches Redis through the kernel stack of the
edge's namespace (as pushd reaches push services), never through its DPDK
port: hence the second veth, which DPDK does not see. The peer namespace
cannot reach the backend network, nor the backend the SIP side.

Everything is created here and removed again, whatever happens (namespaces,
veths, Redis and sentinels, sipwake); nothing outside these namespaces is
ever a target. The edges are swlab.Lab objects (Edge), so what a test
already does with a lab it does with cluster.edges[i].

    with ClusterLab("cl%d" % os.getpid(), n_edges=2, redis="sentinel") as c:
        c.edges[1].udp_exchange(options)       # from the peer namespace to edge 1
        c.redis_cli("SET", "k", "v")             # at the master, from <name>-db
        c.redis_cli("PING", edge=0)              # from edge 0's namespace
        old = c.redis_kill()                     # SIGKILL the master
        assert c.wait_failover(timeout=30) != (old, 6379)
        c.kill_edge(0); c.start_edge(0)          # same config, same store file

The cluster { } group each edge's config gets (cluster_config=True; until
sipwake reads it, an unknown group stops its start-up, so the default is
off) is cluster_group()'s text, one edge name and one server list for all.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import swlab
from swlab import GW_IP4, OFFLINK_IP4, PBX_IP4, PBX_IP6, PEER_IP4, PEER_IP6, run

# The SIP side: edge 0 is swlab's SW_IP4 / SW_IP6, the others skip the
# peer's addresses (.2 the apps, .5 the PBX).
EDGE_HOSTS = (1, 3, 4, 6, 7, 8, 9, 10)
MAX_EDGES = len(EDGE_HOSTS)


def edge_ip4(i):
    return "198.18.0.%d" % EDGE_HOSTS[i]


def edge_ip6(i):
    return "2001:db8:5e::%d" % EDGE_HOSTS[i]


# The backend network (10.77.0.0/24 exists only inside the lab): Redis and
# the sentinels on .1-.3, edge i's kernel address .(10 + i).
REDIS_HOSTS = ("10.77.0.1", "10.77.0.2", "10.77.0.3")
REDIS_MASTER, REDIS_REPLICA = REDIS_HOSTS[0], REDIS_HOSTS[1]
REDIS_PORT, SENTINEL_PORT = 6379, 26379
MASTER_NAME = "sipwake"  # Sentinel's name of the master (cluster.master)


def mgmt_ip4(i):
    return "10.77.0.%d" % (10 + i)


PEER_BRIDGE, DB_BRIDGE = "swbr", "dbbr"
# Fixed, so that the bridge keeps its address as edges join it (a Linux
# bridge otherwise takes the lowest of its ports' addresses, and the edges'
# ARP entries for the gateway and the PBX would go stale).
PEER_BRIDGE_MAC = "02:5e:00:00:00:fe"


def edge_mac(i):
    """Edge i's veth address, which net_af_packet takes as its own: fixed
    per edge, so captures and neighbour tables read the same every run."""
    return "02:5e:00:00:01:%02x" % EDGE_HOSTS[i]


class Edge(swlab.Lab):
    """Edge @index of @cluster: a swlab.Lab whose namespace is
    <cluster>-e<index>, whose veth's other end is a port of the peer
    namespace's bridge, whose sipwake has the edge's addresses, and whose
    namespace also has a kernel address on the backend network. Everything
    else (EAL arguments, config template, start, telemetry, stop) is
    swlab's. Other classes mix in after it (wakecluster.WakeEdge: Edge,
    WakeLab): the keywords it does not take go on to them."""

    def __init__(self, cluster, index, cluster_config=False, **lab_kw):
        self.cluster, self.index = cluster, index
        super().__init__(name="%s-e%d" % (cluster.name, index), **lab_kw)
        self.ns_sw, self.ns_peer = self.name, cluster.ns_peer
        stem = cluster.ifstem + "e%d" % index
        self.if_sw, self.if_peer = stem + "s", stem + "p"
        self.if_mgmt, self.if_mgmt_db = stem + "m", stem + "d"
        self.sw_ip4, self.sw_ip6 = edge_ip4(index), edge_ip6(index)
        self.mac, self.mgmt_ip4 = edge_mac(index), mgmt_ip4(index)
        self.edge_name = "e%d" % index  # cluster.edge
        # Whether the config gets the cluster { } group; read at each
        # write_config(), so a test may change it before a restart.
        self.cluster_config = cluster_config
        self.runs = 0  # sipwake starts so far (the logs of earlier ones are kept)

    def net_up(self):
        c = self.cluster
        run(["ip", "netns", "add", self.ns_sw])
        run(["ip", "link", "add", self.if_sw, "address", self.mac, "type", "veth",
             "peer", "name", self.if_peer])
        run(["ip", "link", "set", self.if_sw, "netns", self.ns_sw])
        run(["ip", "link", "set", self.if_peer, "netns", self.ns_peer])
        self.sw_side_up()
        # The peer end is a bridge port, no host of its own: no IPv6 on it
        # (no link-local address, no solicitations reaching the edges).
        self.peer(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.if_peer])
        self.peer(["ip", "link", "set", self.if_peer, "master", PEER_BRIDGE])
        # The checksum trap (tests/README.md, "Traps"): the peer's datagrams
        # leave through this port, which must fill their checksums in.
        self.peer(["ethtool", "-K", self.if_peer, "tx", "off"])
        self.peer(["ip", "link", "set", self.if_peer, "up"])
        # The backend network: the kernel's address, which the control
        # plane's sockets use; DPDK never sees this veth.
        run(["ip", "link", "add", self.if_mgmt, "type", "veth", "peer", "name", self.if_mgmt_db])
        run(["ip", "link", "set", self.if_mgmt, "netns", self.ns_sw])
        run(["ip", "link", "set", self.if_mgmt_db, "netns", c.ns_db])
        self.sw(["ip", "link", "set", "lo", "up"])
        self.sw(["ip", "addr", "add", self.mgmt_ip4 + "/24", "dev", self.if_mgmt])
        self.sw(["ip", "link", "set", self.if_mgmt, "up"])
        c.db(["ip", "link", "set", self.if_mgmt_db, "master", DB_BRIDGE])
        c.db(["ip", "link", "set", self.if_mgmt_db, "up"])

    def config_text(self):
        text = super().config_text()
        if self.cluster_config:
            text += self.cluster.cluster_group(self) + "\n"
        return text

    def start(self, timeout=30):
        # Each run logs to sipwake.log; an earlier run's log is kept as
        # sipwake.<n>.log (a restart after kill_edge() is what tests look at).
        if self.runs and os.path.exists(self.log_path):
            os.replace(self.log_path, os.path.join(self.tmp, "sipwake.%d.log" % self.runs))
        self.runs += 1
        super().start(timeout)

    def kill(self, sig=signal.SIGKILL, timeout=15):
        """Signal sipwake (default SIGKILL: no clean shutdown at all) and
        wait for it; returns its exit code. /var/run/dpdk/<prefix> stays,
        as after a crash; the next start() takes it over."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        rc, self.proc = self.proc.returncode, None
        self.log.close()
        return rc

    def _cleanup_net(self):
        # The peer end of each veth goes with its twin in the namespace.
        run(["ip", "netns", "del", self.ns_sw], check=False)
        for ifname in (self.if_sw, self.if_mgmt):
            run(["ip", "link", "del", ifname], check=False)


class ClusterLab:
    """@n_edges edges on one LAN sharing a Redis (@redis "single": one
    server; "sentinel": master, replica and three sentinels). Context
    manager: up() on enter, down() on exit, down() also when up() fails.

    @cluster_config: every edge's config gets the cluster { } group
    (@cluster_extra: more keys inside it). @start_edges false: the
    namespaces, Redis and the configs only, no sipwake (start_edge() later;
    tests/peers checks the lab that way). @redis_args: more redis-server
    arguments for every server ("--appendonly", "yes": an AOF in its data
    dir, which a restart reads). Other keywords go to every edge
    (edge_class: swlab.Lab's workers, config_extra, pbx_servers, ...)."""

    edge_class = Edge

    def __init__(self, name=None, n_edges=2, redis="single", cluster_config=False,
                 start_edges=True, redis_args=(), cluster_extra="", **edge_kw):
        if os.geteuid() != 0:
            raise RuntimeError("the lab needs root (network namespaces, af_packet)")
        if not 1 <= n_edges <= MAX_EDGES:
            raise ValueError("n_edges: 1 to %d" % MAX_EDGES)
        if redis not in ("single", "sentinel"):
            raise ValueError('redis: "single" or "sentinel"')
        self.name = name or "swc%d" % (os.getpid() % 100000)
        self.ns_peer, self.ns_db = self.name + "-peer", self.name + "-db"
        # Interface names are made in the root namespace first (swlab does
        # the same), so they carry the lab's name; IFNAMSIZ is 16.
        self.ifstem = self.name[:9]
        self.redis, self.start_edges = redis, start_edges
        self.redis_args, self.cluster_extra = list(redis_args), cluster_extra
        self.tmp = tempfile.mkdtemp(prefix=self.name + "-")
        # The addresses of the Redis servers and of the sentinels; procs and
        # logs by ("redis" or "sentinel", address): the process running
        # there (None once stopped) and its log file, in self.tmp.
        self.servers = [REDIS_MASTER] + ([REDIS_REPLICA] if redis == "sentinel" else [])
        self.sentinels = list(REDIS_HOSTS) if redis == "sentinel" else []
        self.procs, self.logs = {}, {}
        self.spawned = []  # every Redis process ever started, to prove them gone
        self.last_killed = None  # the server redis_kill() stopped last
        self.last_master = None  # the last master it stopped
        self.edges = [self.make_edge(i, cluster_config=cluster_config, **edge_kw)
                      for i in range(n_edges)]

    def make_edge(self, i, **kw):
        """Edge @i (not set up yet): a subclass may choose its class or
        keywords per edge."""
        return self.edge_class(self, i, **kw)

    # -- set-up -------------------------------------------------------------
    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()

    def up(self):
        self._cleanup_net()
        self.peer_up()
        self.db_up()
        self.redis_up()
        for e in self.edges:
            e.up(start=self.start_edges)

    def peer_up(self):
        """The peer namespace: swlab's peer addresses on a bridge."""
        run(["ip", "netns", "add", self.ns_peer])
        self.peer(["ip", "link", "set", "lo", "up"])
        # No multicast snooping: the edges (DPDK) never send MLD reports, so
        # a snooping bridge could keep neighbour solicitations from them.
        self.peer(["ip", "link", "add", PEER_BRIDGE, "address", PEER_BRIDGE_MAC, "type",
                   "bridge", "mcast_snooping", "0"])
        self.peer(["sysctl", "-qw", "net.ipv6.conf.%s.router_solicitations=0" % PEER_BRIDGE])
        self.peer(["ip", "link", "set", PEER_BRIDGE, "up"])
        for a in (PEER_IP4, PBX_IP4, GW_IP4):
            self.peer(["ip", "addr", "add", a + "/24", "dev", PEER_BRIDGE])
        for a in (PEER_IP6, PBX_IP6):
            self.peer(["ip", "-6", "addr", "add", a + "/64", "dev", PEER_BRIDGE, "nodad"])
        # A host behind the "gateway" (swlab's OFFLINK_IP4).
        self.peer(["ip", "addr", "add", OFFLINK_IP4 + "/32", "dev", "lo"])
        # The ports fill checksums in (Edge.net_up); the bridge too, for
        # what it sends itself.
        self.peer(["ethtool", "-K", PEER_BRIDGE, "tx", "off"])

    def db_up(self):
        """The backend network: a bridge with Redis's and the sentinels'
        addresses (the edges' veths join it in Edge.net_up)."""
        run(["ip", "netns", "add", self.ns_db])
        self.db(["ip", "link", "set", "lo", "up"])
        self.db(["ip", "link", "add", DB_BRIDGE, "type", "bridge"])
        self.db(["ip", "link", "set", DB_BRIDGE, "up"])
        for a in REDIS_HOSTS:
            self.db(["ip", "addr", "add", a + "/24", "dev", DB_BRIDGE])

    def redis_up(self, timeout=30):
        self.redis_start(REDIS_MASTER)
        if self.redis != "sentinel":
            return
        self.redis_start(REDIS_REPLICA)
        # Sentinels learn the replica from the master's INFO (at once on
        # their first connection, then every 10 s): it must be attached
        # before they start, or a failover right after up() finds none.
        self._wait(lambda: "connected_slaves:1" in self.redis_cli(
            "INFO", "replication", host=REDIS_MASTER, check=False), timeout,
            "the replica attached to the master")
        for a in self.sentinels:
            self._write_sentinel_conf(a)
            self.sentinel_start(a)
        # Ready for a failover: each sentinel knows the master, the replica
        # and the two other sentinels (hello messages, every 2 s).
        for a in self.sentinels:
            self._wait(lambda: self._sentinel_ready(a), timeout,
                       "sentinel %s sees the master, the replica and %d sentinels"
                       % (a, len(self.sentinels) - 1))

    def _sentinel_ready(self, addr):
        m = self.sentinel_master(addr)
        return (m.get("flags") == "master" and int(m.get("num-slaves", 0)) >= 1
                and int(m.get("num-other-sentinels", 0)) >= len(self.sentinels) - 1)

    def cluster_group(self, edge):
        """The cluster { } group of @edge's config (the syntax sipwake reads)."""
        if self.redis == "sentinel":
            where = 'sentinels = [ %s ]; master = "%s";' % (
                ", ".join('"%s:%d"' % (a, SENTINEL_PORT) for a in self.sentinels), MASTER_NAME)
        else:
            where = 'redis = "%s:%d";' % (REDIS_MASTER, REDIS_PORT)
        # Every other edge, by name and SIP address: calls for a device
        # bound through one of them go through it (docs/cluster.md).
        peers = ", ".join('{ edge = "%s"; address = "%s"; }' % (o.edge_name, o.sw_ip4)
                          for o in self.edges if o is not edge)
        return ('cluster: { edge = "%s"; %s timeout_ms = 1000; retry_ms = 200; %s%s};'
                % (edge.edge_name, where, "peers = ( %s ); " % peers if peers else "",
                   self.cluster_extra + " " if self.cluster_extra else ""))

    # -- the edges ------------------------------------------------------------
    def kill_edge(self, i, sig=signal.SIGKILL):
        """Edge @i's sipwake killed (SIGKILL unless @sig), waited for; its
        exit code. Its store file, config and push server stay."""
        return self.edges[i].kill(sig)

    def start_edge(self, i, timeout=30):
        """Edge @i's sipwake started again, same config and store file."""
        self.edges[i].start(timeout)

    def peer(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.ns_peer] + cmd, **kw)

    def db(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.ns_db] + cmd, **kw)

    # -- Redis ----------------------------------------------------------------
    def _spawn(self, key, cmd, logname):
        log = open(os.path.join(self.tmp, logname), "a")
        self.logs[key] = log.name
        try:
            self.procs[key] = subprocess.Popen(
                ["ip", "netns", "exec", self.ns_db] + cmd, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.spawned.append(self.procs[key])
        finally:
            log.close()  # the child has its own copy

    def redis_start(self, addr=None, timeout=10):
        """(Re)start the Redis server of @addr (default: the one
        redis_kill() stopped last) on its address and port, with its data
        dir (an AOF or RDB there is read if @redis_args configured one).
        With sentinels, a server that is not the master now starts as its
        replica, as Sentinel would reconfigure it anyway."""
        addr = addr or self.last_killed
        if addr not in self.servers:
            raise ValueError("no Redis server of this lab at %s" % addr)
        if self.procs.get(("redis", addr)) is not None:
            raise RuntimeError("redis %s is running" % addr)
        data = os.path.join(self.tmp, "redis-" + addr)
        os.makedirs(data, exist_ok=True)
        cmd = ["redis-server", "--bind", addr, "--port", str(REDIS_PORT), "--save", "",
               "--appendonly", "no", "--dir", data, "--daemonize", "no",
               "--protected-mode", "no",
               # All servers share one namespace: without these a replica
               # would connect from, and be announced as, the master's
               # address (the first on the bridge).
               "--bind-source-addr", addr, "--replica-announce-ip", addr]
        if self.redis == "sentinel":
            master = self.master_addr()[0] if self.running("sentinel") else REDIS_MASTER
            if master != addr:
                cmd += ["--replicaof", master, str(REDIS_PORT)]
        self._spawn(("redis", addr), cmd + self.redis_args, "redis-%s.log" % addr)
        self._wait(lambda: self._answers(addr, REDIS_PORT), timeout,
                   "redis %s:%d answering PING" % (addr, REDIS_PORT), ("redis", addr))

    def _write_sentinel_conf(self, addr):
        d = os.path.join(self.tmp, "sentinel-" + addr)
        os.makedirs(d, exist_ok=True)
        # Written once: a sentinel rewrites its file with what it learns
        # (epochs, replicas, other sentinels), and a restarted sentinel
        # reads that back, as on a real host.
        with open(os.path.join(d, "sentinel.conf"), "w") as f:
            f.write("""# written by scripts/swcluster.py
port %d
bind %s
bind-source-addr %s
dir %s
daemonize no
protected-mode no
sentinel resolve-hostnames no
sentinel announce-ip %s
sentinel monitor %s %s %d 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 5000
""" % (SENTINEL_PORT, addr, addr, d, addr, MASTER_NAME, REDIS_MASTER, REDIS_PORT,
       MASTER_NAME, MASTER_NAME))

    def sentinel_start(self, addr, timeout=10):
        """(Re)start the sentinel on @addr with its (rewritten) conf file."""
        if addr not in self.sentinels:
            raise ValueError("no sentinel of this lab at %s" % addr)
        if self.procs.get(("sentinel", addr)) is not None:
            raise RuntimeError("sentinel %s is running" % addr)
        conf = os.path.join(self.tmp, "sentinel-" + addr, "sentinel.conf")
        self._spawn(("sentinel", addr), ["redis-sentinel", conf], "sentinel-%s.log" % addr)
        self._wait(lambda: self._answers(addr, SENTINEL_PORT), timeout,
                   "sentinel %s:%d answering PING" % (addr, SENTINEL_PORT), ("sentinel", addr))

    def _answers(self, addr, port):
        return self.redis_cli("PING", host=addr, port=port, check=False) == "PONG"

    def _stop(self, key, sig=signal.SIGTERM, timeout=10):
        p = self.procs.get(key)
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.procs[key] = None
        return p.returncode

    def redis_kill(self, which="master", sig=signal.SIGKILL):
        """Stop a Redis server with @sig (default SIGKILL) and wait for it:
        @which "master" (the master now: asked of Sentinel), "replica" (a
        running server that is not the master) or an address. Returns the
        address; redis_start() with no address starts it again."""
        master = self.master_addr()[0]
        if which == "master":
            addr = master
        elif which == "replica":
            addr = next((a for a in self.running("redis") if a != master), None)
        else:
            addr = which
        if addr is None or self.procs.get(("redis", addr)) is None:
            raise RuntimeError("redis %s is not running" % (addr or which))
        self._stop(("redis", addr), sig)
        self.last_killed = addr
        if addr == master:
            self.last_master = addr
        return addr

    def sentinel_kill(self, addr, sig=signal.SIGKILL):
        """Stop the sentinel on @addr with @sig and wait for it."""
        return self._stop(("sentinel", addr), sig)

    def running(self, kind="redis"):
        """Addresses whose @kind ("redis" or "sentinel") process runs."""
        return [a for (k, a), p in self.procs.items() if k == kind and p is not None
                and p.poll() is None]

    def redis_cli(self, *args, host=None, port=REDIS_PORT, edge=None, check=True, timeout=10):
        """redis-cli -h @host -p @port @args, run in the backend namespace
        (or in edge @edge's namespace, through its kernel address); its
        output without the last newline. @host: default the master now.
        @check: a connection or command error raises (redis-cli -e)."""
        if host is None:
            host = self.master_addr()[0] if port == REDIS_PORT else self.sentinels[0]
        ns = self.ns_db if edge is None else self.edges[edge].ns_sw
        p = run(["ip", "netns", "exec", ns, "redis-cli", "-e", "-h", host, "-p", str(port)]
                + [str(a) for a in args], check=False, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError("redis-cli -h %s -p %d %s: %s%s" % (
                host, port, " ".join(map(str, args)), p.stdout, p.stderr))
        return p.stdout.rstrip("\n")

    def sentinel_master(self, addr):
        """SENTINEL MASTER <name> as the sentinel on @addr sees it, as a
        dict ({} if it does not answer)."""
        out = self.redis_cli("SENTINEL", "MASTER", MASTER_NAME, host=addr, port=SENTINEL_PORT,
                             check=False).split("\n")
        return dict(zip(out[0::2], out[1::2])) if len(out) > 1 else {}

    def master_addr(self, sentinel=None):
        """(host, port) of the master: with sentinels, as the first one
        that answers (or @sentinel) says; else the one server."""
        if self.redis != "sentinel":
            return REDIS_MASTER, REDIS_PORT
        for a in [sentinel] if sentinel else self.running("sentinel"):
            out = self.redis_cli("SENTINEL", "get-master-addr-by-name", MASTER_NAME, host=a,
                                 port=SENTINEL_PORT, check=False).split()
            if len(out) == 2:
                return out[0], int(out[1])
        raise RuntimeError("no sentinel names the master")

    def wait_failover(self, timeout=30, old=None):
        """Wait until every running sentinel names a master other than @old
        (default: the master redis_kill() stopped last) and that server
        says it is the master; returns its (host, port)."""
        old = old or self.last_master
        if self.redis != "sentinel" or old is None:
            raise RuntimeError("no failover to wait for (no sentinels, or no master killed)")
        found = []

        def moved():
            views = {self.master_addr(a) for a in self.running("sentinel")}
            if len(views) != 1:
                return False
            new = views.pop()
            if new[0] == old or not self.redis_cli("ROLE", host=new[0], check=False) \
                    .startswith("master"):
                return False
            found.append(new)
            return True

        self._wait(moved, timeout, "a failover from %s" % old)
        return found[-1]

    def _wait(self, pred, timeout, what, key=None):
        """Poll @pred until true, for at most @timeout s; the process @key
        must not exit meanwhile. Raises RuntimeError with the logs."""
        end = time.monotonic() + timeout
        while True:
            try:
                if pred():
                    return
            except RuntimeError:
                pass
            p = self.procs.get(key) if key else None
            if p is not None and p.poll() is not None:
                raise RuntimeError("%s exited with %d while waiting for %s:\n%s" % (
                    " ".join(key), p.returncode, what, self.read_log(key)[-3000:]))
            if time.monotonic() >= end:
                raise RuntimeError("no %s within %ds:\n%s" % (what, timeout, self.read_log(key)
                                                              [-3000:] if key else ""))
            time.sleep(0.1)

    def read_log(self, key):
        """The log of a Redis process, key ("redis" or "sentinel", address)."""
        try:
            with open(self.logs[key]) as f:
                return f.read()
        except (KeyError, OSError):
            return ""

    # -- tear-down ------------------------------------------------------------
    def _cleanup_net(self):
        for e in self.edges:
            e._cleanup_net()
        for ns in (self.ns_peer, self.ns_db):
            run(["ip", "netns", "del", ns], check=False)

    def down(self):
        """Stop every sipwake and Redis process, remove every namespace and
        veth, the runtime dirs and (unless SWLAB_KEEP) the temporary dirs."""
        for e in self.edges:
            try:
                e.down()
            except Exception:
                pass
        for key in list(self.procs):
            try:
                self._stop(key)
            except Exception:
                pass
        self._cleanup_net()
        if not os.environ.get("SWLAB_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
