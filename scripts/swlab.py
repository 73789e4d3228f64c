# SPDX-License-Identifier: BSD-3-Clause
"""A throwaway network for sipwake: two namespaces joined by a veth pair.

sipwake runs in namespace <name>-sw on one end through DPDK's net_af_packet
(the kernel there has no address on it), a peer namespace <name>-peer holds
the other end with ordinary kernel addresses, where sipp, ping and Python
sockets play the PBX and the apps. Everything is created here and removed
again, whatever happens; nothing outside these namespaces is ever a target.

Used by the demo (scripts/demo.py) and the integration tests.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# RFC 2544 benchmarking range and the IPv6 documentation prefix: addresses
# that exist only inside the lab's namespaces.
SW_IP4, PEER_IP4, GW_IP4 = "198.18.0.1", "198.18.0.2", "198.18.0.254"
SW_IP6, PEER_IP6 = "2001:db8:5e::1", "2001:db8:5e::2"
OFFLINK_IP4 = "198.19.7.7"  # a peer address behind the "gateway"
# The peer namespace plays the PBX from these (config pbx.sources) and an
# unknown source (an app before it registers, a scanner) from PEER_IP*.
PBX_IP4, PBX_IP6 = "198.18.0.5", "2001:db8:5e::5"


def sipwake_bin():
    return os.environ.get("SIPWAKE_BIN", os.path.join(REPO, "build", "app", "sipwake"))


def run(cmd, check=True, timeout=30, **kw):
    return subprocess.run(cmd, check=check, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def apns_push_config(tmp):
    """A push { } group with one APNs credential whose key (PKCS#8 P-256) is
    made now in @tmp: push configured, so sipwake advertises Feature-Caps;
    the endpoint is a closed local port, nothing is ever sent."""
    key = os.path.join(tmp, "AuthKey_KEY1234567.p8")
    run(["sh", "-c", "openssl ecparam -name prime256v1 -genkey -noout | "
         "openssl pkcs8 -topk8 -nocrypt -out %s" % key])
    return ('push: { apns = ( { team_id = "ABCD123456"; bundle_id = "com.example.voip"; '
            'key_id = "KEY1234567"; key_file = "%s"; endpoint = "127.0.0.1:9"; } ); };' % key)


def afp_frame_args(mtu, vdev_extra=""):
    """net_af_packet devargs whose ring frames hold what sipwake takes whole
    (docs/operations.md, "Frame size on net_af_packet"): the PMD's fanout
    group has the kernel reassemble IPv4 fragments before the ring, so a
    frame must hold a 16 KiB datagram (or a frame of @mtu, if larger) + 14 +
    the 66 bytes the kernel writes before it: framesz 20480, blocksz as
    large (a multiple of the page size). "" when @vdev_extra sets framesz,
    or asks for a deep ring (framecnt: the flood lab's small frames; 8192
    frames of 20 KiB would be 160 MiB of kernel memory a queue)."""
    if "framesz=" in vdev_extra or "framecnt=" in vdev_extra:
        return ""
    need = max(mtu or 1500, 16384) + 14 + 66
    size = (need + 4095) // 4096 * 4096
    return ",framesz=%d,blocksz=%d" % (size, size)


class Lab:
    def __init__(self, name=None, workers=1, config_extra="", neigh=None, gateway=True,
                 pbx_extra="", bindings_extra="", store_path=None, pbx_servers=None,
                 vdev_extra="", idle_sleep_us=50, mtu=None):
        if os.geteuid() != 0:
            raise RuntimeError("the lab needs root (network namespaces, af_packet)")
        self.name = name or "swl%d" % os.getpid()
        self.ns_sw, self.ns_peer = self.name + "-sw", self.name + "-peer"
        self.if_sw, self.if_peer = self.name[:11] + "s", self.name[:11] + "p"
        self.prefix = self.name
        # sipwake's own addresses: a lab of several edges (swcluster.py)
        # gives each edge others.
        self.sw_ip4, self.sw_ip6 = SW_IP4, SW_IP6
        self.workers = workers
        self.gateway = gateway
        self.neigh = neigh or {}
        self.config_extra = config_extra
        # Keys added inside the pbx { } and bindings { } groups.
        self.pbx_extra, self.bindings_extra = pbx_extra, bindings_extra
        # [] : no PBX server, so sipwake sends nothing on its own (health
        # checks) and tests can count every frame it sends.
        self.pbx_servers = [PBX_IP4 + ":5060"] if pbx_servers is None else pbx_servers
        # More net_af_packet devargs (",framecnt=8192": a deeper RX ring).
        self.vdev_extra = vdev_extra
        # The veth's MTU on both ends (None: the kernel's 1500); eal_args()
        # sizes net_af_packet's frames for it.
        self.mtu = mtu
        # 0: the worker polls without ever sleeping, as in production (a
        # sleeping vCPU can wake late enough for the RX ring to overflow).
        self.idle_sleep_us = idle_sleep_us
        self.tmp = tempfile.mkdtemp(prefix=self.name + "-")
        self.proc = None
        self.log_path = os.path.join(self.tmp, "sipwake.log")
        self.conf_path = os.path.join(self.tmp, "sipwake.conf")
        self.store_path = store_path or os.path.join(self.tmp, "bindings.db")

    # -- set-up ---------------------------------------------------------
    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()

    def up(self, start=True):
        self._cleanup_net()
        self.net_up()
        self.write_config()
        if start:
            self.start()

    def net_up(self):
        """The two namespaces, the veth pair between them, the peer's addresses."""
        ip = ["ip"]
        run(ip + ["netns", "add", self.ns_sw])
        run(ip + ["netns", "add", self.ns_peer])
        run(ip + ["link", "add", self.if_sw, "type", "veth", "peer", "name", self.if_peer])
        if self.mtu:
            for dev in (self.if_sw, self.if_peer):
                run(ip + ["link", "set", dev, "mtu", str(self.mtu)])
        run(ip + ["link", "set", self.if_sw, "netns", self.ns_sw])
        run(ip + ["link", "set", self.if_peer, "netns", self.ns_peer])
        self.sw_side_up()
        self.peer(["ip", "link", "set", "lo", "up"])
        self.peer(["sysctl", "-qw", "net.ipv6.conf.%s.router_solicitations=0" % self.if_peer])
        self.peer(["ip", "link", "set", self.if_peer, "up"])
        self.peer(["ip", "addr", "add", PEER_IP4 + "/24", "dev", self.if_peer])
        self.peer(["ip", "-6", "addr", "add", PEER_IP6 + "/64", "dev", self.if_peer, "nodad"])
        self.peer(["ip", "addr", "add", PBX_IP4 + "/24", "dev", self.if_peer])
        self.peer(["ip", "-6", "addr", "add", PBX_IP6 + "/64", "dev", self.if_peer, "nodad"])
        if self.gateway:
            # The peer also plays sipwake's gateway: it owns GW_IP4 and a
            # host behind it (OFFLINK_IP4) that sipwake can reach only via it.
            self.peer(["ip", "addr", "add", GW_IP4 + "/24", "dev", self.if_peer])
            self.peer(["ip", "addr", "add", OFFLINK_IP4 + "/32", "dev", "lo"])
        # veth hands UDP over with partial checksums; sipwake would see them
        # as wrong and drop every one as udp_checksum (tests/README.md,
        # "Traps").
        self.peer(["ethtool", "-K", self.if_peer, "tx", "off"])

    def sw_side_up(self):
        """sipwake's end of the veth, already in its namespace: no kernel
        address and no IPv6 autoconfiguration, so only sipwake answers for
        its addresses."""
        # With streams.ports, sipwake's addresses are on its tap in this
        # namespace (docs/streams.md): the kernel must not also take them
        # from the veth, which af_packet shares with it (strict reverse
        # path: our addresses route to the tap), nor answer ARP there.
        self.sw(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.if_sw])
        self.sw(["sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=1" % self.if_sw])
        self.sw(["sysctl", "-qw", "net.ipv4.conf.%s.arp_ignore=8" % self.if_sw])
        self.sw(["ip", "link", "set", self.if_sw, "up"])

    def write_config(self, path=None, text=None):
        """Write @text (default: config_text()) to @path (default: the
        config sipwake starts with); returns the path."""
        with open(path or self.conf_path, "w") as f:
            f.write(text or self.config_text())
        return path or self.conf_path

    def config_text(self):
        return """# written by scripts/swlab.py
sip: { port = 5060; names = [ "edge.sipwake.test" ]; };
interfaces = ( {
    device = "net_af_packet0";
    ipv4 = "%s/24";
    gateway4 = "%s";
    ipv6 = "%s/64";
} );
dataplane: { mbufs = 4095; idle_sleep_us = %d; };
neighbours: { retry_ms = %d; probes = 3; };
pbx: { sources = [ "%s", "%s" ]; servers = [ %s ]; %s };
bindings: { store = "%s"; %s };
log: { level = "info"; };
%s
""" % (self.sw_ip4, GW_IP4, self.sw_ip6, self.idle_sleep_us, self.neigh.get("retry_ms", 200), PBX_IP4, PBX_IP6,
       ", ".join('"%s"' % sv for sv in self.pbx_servers), self.pbx_extra, self.store_path,
       self.bindings_extra, self.config_extra)

    def eal_args(self):
        lcores = ",".join("%d@%d" % (i, min(i, os.cpu_count() - 1))
                          for i in range(self.workers + 1))
        return ["--lcores=" + lcores, "--no-huge", "-m", "256", "--no-pci",
                "--file-prefix=" + self.prefix,
                "--vdev=net_af_packet0,iface=%s,qpairs=%d%s%s" % (
                    self.if_sw, self.workers, afp_frame_args(self.mtu, self.vdev_extra),
                    self.vdev_extra)]

    def start(self, timeout=30):
        cmd = ["ip", "netns", "exec", self.ns_sw, sipwake_bin()] + self.eal_args() + \
              ["--", "-c", self.conf_path]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sipwake exited with %d during start-up:\n%s"
                                   % (self.proc.returncode, self.read_log()))
            try:
                # The socket exists from EAL init on; /sipwake/... answers
                # null until sipwake has registered it, once ports are up.
                info = self.telemetry("/sipwake/info")
                if info and info.get("workers") == self.workers:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError("sipwake did not answer telemetry within %ds:\n%s"
                           % (timeout, self.read_log()))

    # -- use --------------------------------------------------------------
    def sw(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.ns_sw] + cmd, **kw)

    def peer(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.ns_peer] + cmd, **kw)

    def runtime_dir(self):
        return "/var/run/dpdk/" + self.prefix

    def telemetry(self, cmd):
        """One command on DPDK's telemetry socket; returns its value."""
        path = os.path.join(self.runtime_dir(), "dpdk_telemetry.v2")
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.settimeout(5)
            s.connect(path)
            s.recv(16384)  # greeting: version, pid, max_output_len
            s.send(cmd.encode())
            reply = json.loads(s.recv(65536).decode())
        return reply[cmd.split(",")[0]] if cmd.split(",")[0] in reply else reply

    def stats(self, worker=None):
        return self.telemetry("/sipwake/stats" + ("" if worker is None else ",%d" % worker))

    def devices(self, aor):
        """The devices /sipwake/bindings,<aor> lists, in order."""
        b = self.telemetry("/sipwake/bindings," + aor)
        return [b[k] for k in sorted(b) if k.startswith("device") and k[6:].isdigit()]

    def device(self, aor, instance):
        """The one device of @aor whose +sip.instance is <urn:uuid:@instance>
        (asserted: exactly one)."""
        ds = [d for d in self.devices(aor) if d.get("instance") == "<urn:uuid:%s>" % instance]
        assert len(ds) == 1, (aor, instance, self.devices(aor))
        return ds[0]

    def sipwake_mac(self):
        return self.telemetry("/sipwake/info")["iface0"]["mac"]

    def udp_send(self, payloads, dst=None, port=5060, src=None, sport=0, v6=False):
        """Send datagrams from the peer with a plain kernel socket (to
        sipwake's address unless @dst says another)."""
        dst = dst or (self.sw_ip6 if v6 else self.sw_ip4)
        script = (
            "import socket,sys,json\n"
            "fam=socket.AF_INET6 if %r else socket.AF_INET\n"
            "s=socket.socket(fam,socket.SOCK_DGRAM)\n"
            "s.bind((%r,%d))\n"
            "for p in json.loads(sys.stdin.read()): s.sendto(bytes.fromhex(p),(%r,%d))\n"
            % (v6, src or "", sport, dst, port))
        self.peer(["/usr/bin/python3", "-c", script],
                  input=json.dumps([p.hex() for p in payloads]))

    def udp_exchange(self, payload, dst=None, port=5060, src=None, sport=0, v6=False,
                     timeout=3.0):
        """Send one datagram from the peer and return the first answer (or None)."""
        dst = dst or (self.sw_ip6 if v6 else self.sw_ip4)
        script = (
            "import socket,sys\n"
            "fam=socket.AF_INET6 if %r else socket.AF_INET\n"
            "s=socket.socket(fam,socket.SOCK_DGRAM)\n"
            "s.bind((%r,%d)); s.settimeout(%f)\n"
            "s.sendto(bytes.fromhex(sys.stdin.read()),(%r,%d))\n"
            "try:\n  d,a=s.recvfrom(65535); sys.stdout.write(d.hex())\n"
            "except socket.timeout: pass\n"
            % (v6, src or "", sport, timeout, dst, port))
        out = self.peer(["/usr/bin/python3", "-c", script], input=payload.hex(),
                        timeout=timeout + 10).stdout
        return bytes.fromhex(out) if out else None

    def sipp(self, scenario, calls=1, dst=None, local=PEER_IP4, port=5070, timeout=30,
             extra=()):
        """Run sipp in the peer namespace (wrapped in timeout(1): sipp's own
        -timeout does not end stuck calls). Returns (returncode, trace text)."""
        dst = dst or self.sw_ip4
        trace = os.path.join(self.tmp, "sipp_%d" % port)
        os.makedirs(trace, exist_ok=True)
        target = "[%s]:5060" % dst if ":" in dst else "%s:5060" % dst
        cmd = ["timeout", str(timeout), "sipp", target, "-sf", scenario, "-m", str(calls),
               "-r", "50", "-i", local, "-p", str(port), "-timeout", str(timeout - 5),
               "-trace_msg", "-message_file", os.path.join(trace, "messages.log"),
               "-nostdin", "-bind_local"] + list(extra)
        p = self.peer(cmd, check=False, timeout=timeout + 5, cwd=trace)
        msgs = os.path.join(trace, "messages.log")
        text = open(msgs).read() if os.path.exists(msgs) else ""
        return p.returncode, text + p.stdout[-2000:] + p.stderr[-2000:]

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    # -- tear-down --------------------------------------------------------
    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal sipwake and wait for it; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise RuntimeError("sipwake did not stop within %ds" % timeout)
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def _cleanup_net(self):
        for ns in (self.ns_sw, self.ns_peer):
            run(["ip", "netns", "del", ns], check=False)
        run(["ip", "link", "del", self.if_sw], check=False)

    def down(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.stop()
        except Exception:
            pass
        self._cleanup_net()
        shutil.rmtree(self.runtime_dir(), ignore_errors=True)
        if not os.environ.get("SWLAB_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
