# SPDX-License-Identifier: BSD-3-Clause
"""Start-up, configuration errors and shutdown of the sipwake process."""
import json
import os
import signal
import subprocess

import pytest

import swlab

REPO = swlab.REPO
EXAMPLE = os.path.join(REPO, "config", "sipwake.conf")
EAL = ["-l", "0,1", "--no-huge", "-m", "256", "--no-pci"]


def sipwake(args, timeout=60):
    return subprocess.run([swlab.sipwake_bin()] + args, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_version_and_help():
    v = sipwake(["--version"])
    assert v.returncode == 0 and v.stdout.startswith("sipwake 0.1.0\n"), v
    assert "DPDK 22.11" in v.stdout and "nghttp2" in v.stdout and "OpenSSL" in v.stdout
    h = sipwake(["--", "--help"])
    assert h.returncode == 0 and "Usage: sipwake <EAL options> -- [options]" in h.stdout
    bad = sipwake(["--", "--bogus"])
    assert bad.returncode == 64 and "Usage" in bad.stderr


def test_example_config_checks_ok():
    r = sipwake(["--", "--check-config", "-c", EXAMPLE])
    assert r.returncode == 0 and "OK" in r.stdout, r


@pytest.mark.parametrize("text,key,line", [
    ('interfaces = ( { device = "net_af_packet0";\n ipv4 = "10.0.0.300/24"; } );\n',
     "interfaces.[0].ipv4", 2),
    ('sip: { port = 70000; };\ninterfaces = ( { device = "x"; ipv4 = "198.18.0.1/24"; } );\n',
     "sip.port", 1),
    ('interfaces = ( { device = "x"; ipv4 = "198.18.0.1/24"; } );\n\ndataplane: { mbuf = 5; };\n',
     "dataplane.mbuf", 3),
    ('interfaces = ( );\n', "interfaces", 1),
    ('interfaces = ( { device = "x"; ipv4 = "198.18.0.1/24" } ;\n', None, 1),
])
def test_bad_config_stops_startup_naming_the_key(tmp_path, text, key, line):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    # The full start-up path (EAL arguments given), not only --check-config.
    r = sipwake(EAL + ["--file-prefix=swbad%d" % os.getpid(), "--", "-c", str(conf)])
    assert r.returncode == 78, r
    msg = r.stderr.strip().splitlines()[-1]
    assert msg.startswith("sipwake: config error: %s:%d: " % (conf, line)), msg
    if key:
        assert (": %s: " % key) in msg, msg
    assert "expected" in msg or "unknown key" in msg or "syntax" in msg.lower(), msg
    assert not os.path.exists("/var/run/dpdk/swbad%d" % os.getpid())


def test_missing_config_file():
    r = sipwake(["--", "-c", "/nonexistent/sipwake.conf"])
    assert r.returncode == 78 and "/nonexistent/sipwake.conf" in r.stderr, r


def test_unknown_device_names_the_key_and_the_ports(tmp_path):
    conf = tmp_path / "dev.conf"
    conf.write_text('interfaces = ( { device = "net_af_packet9"; ipv4 = "198.18.0.1/24"; } );\n')
    prefix = "swdev%d" % os.getpid()
    r = sipwake(EAL + ["--file-prefix=" + prefix, "--vdev=net_null0", "--", "-c", str(conf)])
    assert r.returncode == 78, r
    assert 'interfaces.[0].device' in r.stderr and '"net_null0"' in r.stderr, r.stderr
    assert not os.path.exists("/var/run/dpdk/" + prefix)


def test_mbuf_pool_too_big_for_memory_stops_startup(tmp_path):
    """A pool that does not fit -m: an error naming dataplane.mbufs and -m,
    and an exit, not a crash while the half-built dataplane is taken down."""
    conf = tmp_path / "pool.conf"
    conf.write_text('interfaces = ( { device = "net_null0"; ipv4 = "198.18.0.1/24"; } );\n'
                    'dataplane: { mbufs = 262143; };\n')
    prefix = "swpool%d" % os.getpid()
    r = sipwake(EAL + ["--file-prefix=" + prefix, "--vdev=net_null0", "--", "-c", str(conf)])
    assert r.returncode > 0, r
    assert "dataplane.mbufs" in r.stderr and "-m" in r.stderr, r.stderr
    assert not os.path.exists("/var/run/dpdk/" + prefix)


def test_needs_a_worker_lcore(tmp_path):
    conf = tmp_path / "one.conf"
    conf.write_text('interfaces = ( { device = "net_null0"; ipv4 = "198.18.0.1/24"; } );\n')
    prefix = "swone%d" % os.getpid()
    r = sipwake(["-l", "0", "--no-huge", "-m", "256", "--no-pci", "--file-prefix=" + prefix,
                 "--vdev=net_null0", "--", "-c", str(conf)])
    assert r.returncode == 64 and "no worker lcore" in r.stderr, r
    assert not os.path.exists("/var/run/dpdk/" + prefix)


def test_sigint_stops_cleanly():
    with swlab.Lab(name="swi%d" % (os.getpid() % 10000)) as lab:
        assert lab.stop(signal.SIGINT) == 0, lab.read_log()
        log = lab.read_log()
        assert "stopping" in log and "worker 0 stopped" in log, log
        assert not os.path.exists(lab.runtime_dir())


class QuietButCp(swlab.Lab):
    """log.level "warning", and the operator's EAL argument for one component."""

    def eal_args(self):
        return super().eal_args() + ["--log-level=sipwake.controlplane:debug"]

    def write_config(self, path=None, text=None):
        p = super().write_config(path, text)
        with open(p) as f:
            t = f.read()
        with open(p, "w") as f:
            f.write(t.replace('level = "info"', 'level = "warning"'))
        return p


def test_eal_log_level_of_one_component_beats_log_level():
    """--log-level=sipwake.controlplane:debug (docs/operations.md, "Logs")
    keeps the control plane at debug, at start and after a reload, while
    log.level quiets the other components."""
    from waits import wait_for
    with QuietButCp(name="swlv%d" % (os.getpid() % 10000)) as lab:
        lab.peer(["ping", "-c", "1", "-W", "2", swlab.SW_IP4])
        assert wait_for(lambda: "controlplane: neighbour %s is" % swlab.PEER_IP4
                        in lab.read_log(), timeout=5), lab.read_log()
        lab.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: lab.telemetry("/sipwake/info")["config_generation"] == 1,
                        timeout=5), lab.read_log()
        lab.peer(["ping", "-c", "1", "-W", "2", "-I", swlab.PBX_IP4, swlab.SW_IP4])
        assert wait_for(lambda: "controlplane: neighbour %s is" % swlab.PBX_IP4
                        in lab.read_log(), timeout=5), lab.read_log()
        assert lab.stop() == 0
        log = lab.read_log()
        # Info lines of the other components are below "warning".
        assert "dataplane: " not in log and "sipwake 0.1.0 running" not in log, log


def test_unresolvable_next_hop_is_dropped_and_counted():
    # No gateway on the link: the answer to an off-link source waits for an
    # ARP answer that never comes, then is dropped and counted.
    with swlab.Lab(name="swu%d" % (os.getpid() % 10000), gateway=False, pbx_servers=[]) as lab:
        lab.peer(["ip", "addr", "add", swlab.OFFLINK_IP4 + "/32", "dev", "lo"])
        from test_skeleton import sip_options
        from waits import wait_for
        ans = lab.udp_exchange(sip_options("sip:%s" % swlab.SW_IP4, call_id="unres-1",
                                           via_host=swlab.OFFLINK_IP4),
                               src=swlab.OFFLINK_IP4, sport=5077, timeout=2)
        assert ans is None
        st = wait_for(lambda: (lambda s: s if s["drop_neigh_unresolved"] == 1 else None)(
            lab.stats()), timeout=5)
        assert st is not None, lab.stats()
        assert st["neigh_probes"] == 3 and st["sip_options_answered"] == 1
        assert lab.stop() == 0


# Each worker reads its own queue of net_af_packet (qpairs=2): one AF_PACKET
# socket per queue in a fanout group that hashes each frame's addresses and
# ports, as RSS would on a NIC. One flow lands on one worker, so the OPTIONS
# come from this many (address, port) pairs: all of them on the same queue
# by chance is 1 in 2^31; otherwise a worker that got nothing, or answered
# nothing, fails the test.
TWO_WORKER_SOURCES = ["198.18.0.%d" % (100 + i) for i in range(32)]

# In the peer namespace: one OPTIONS from each source (argv: first port,
# then the sources), every answer's status line (or null) as JSON.
OPTIONS_FROM_EACH = r"""
import json, socket, sys
reqs = json.loads(sys.stdin.read())
socks = []
for i, (src, req) in enumerate(zip(sys.argv[2:], reqs)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, int(sys.argv[1]) + i))
    s.settimeout(3)
    s.sendto(bytes.fromhex(req), (%r, 5060))
    socks.append(s)
out = []
for s in socks:
    try:
        out.append(s.recv(65535).decode().split("\r\n")[0])
    except socket.timeout:
        out.append(None)
print(json.dumps(out))
""" % swlab.SW_IP4


def test_two_workers_share_the_port():
    from test_skeleton import sip_options
    with swlab.Lab(name="sww%d" % (os.getpid() % 10000), workers=2) as lab:
        out = lab.peer(["ping", "-c", "4", "-i", "0.2", "-W", "2", swlab.SW_IP4]).stdout
        assert " 0% packet loss" in out, out
        rc, trace = lab.sipp(os.path.join(os.path.dirname(__file__), "sipp", "options.xml"),
                             calls=20)
        assert rc == 0, trace
        for a in TWO_WORKER_SOURCES:
            lab.peer(["ip", "addr", "add", a + "/24", "dev", lab.if_peer])
        port = 5400
        reqs = [sip_options("sip:%s" % swlab.SW_IP4, call_id="two-workers-%d" % i,
                            via_host=a, sport=port + i).hex()
                for i, a in enumerate(TWO_WORKER_SOURCES)]
        got = json.loads(lab.peer(["/usr/bin/python3", "-c", OPTIONS_FROM_EACH, str(port)]
                                  + TWO_WORKER_SOURCES, input=json.dumps(reqs)).stdout)
        assert got == ["SIP/2.0 200 OK"] * len(TWO_WORKER_SOURCES), (got, lab.read_log())
        total, w0, w1 = lab.stats(), lab.stats(0), lab.stats(1)
        # Each worker received frames and answered some of the OPTIONS.
        for w, st in ((0, w0), (1, w1)):
            assert st["rx_packets"] > 0 and st["sip_options_answered"] > 0, (w, w0, w1)
        for k in ("rx_packets", "sip_options_answered", "icmp_echo_answered"):
            assert w0[k] + w1[k] == total[k], k
        assert total["sip_options_answered"] == 20 + len(TWO_WORKER_SOURCES)
        # Fragments of one datagram reach one worker (RSS / fanout on the
        # IP pair), so each of several fragmented requests is reassembled.
        for i in range(4):
            req = (b"OPTIONS sip:[%s] SIP/2.0\r\nVia: SIP/2.0/UDP [%s]:%d;branch=z9hG4bK-f%d\r\n"
                   b"From: <sip:p@x>;tag=f\r\nTo: <sip:[%s]>\r\nCall-ID: frag2w-%d\r\n"
                   b"CSeq: 1 OPTIONS\r\nX-Pad: %s\r\nContent-Length: 0\r\n\r\n") % (
                swlab.SW_IP6.encode(), swlab.PBX_IP6.encode(), 5300 + i, i,
                swlab.SW_IP6.encode(), i, b"p" * 2500)
            ans = lab.udp_exchange(req, dst=swlab.SW_IP6, src=swlab.PBX_IP6, sport=5300 + i,
                                   v6=True)
            assert ans is not None and ans.startswith(b"SIP/2.0 200 OK"), lab.read_log()
        total = lab.stats()
        assert total["ip_reassembled"] == 4 and total["drop_ip_frag_timeout"] == 0
        assert lab.stop() == 0


def test_push_credential_that_does_not_load_stops_startup(tmp_path):
    # The key file is missing: start-up (and --check-config) stop with exit 78,
    # naming the key, before any port is touched.
    conf = tmp_path / "sipwake.conf"
    conf.write_text("""interfaces = ( { device = "net_null0"; ipv4 = "198.18.0.1/24"; } );
push: { apns = ( { team_id = "ABCDE12345"; bundle_id = "com.example.phone";
                   key_id = "KEY1234567"; key_file = "%s/missing.p8"; } ); };
""" % tmp_path)
    p = subprocess.run([swlab.sipwake_bin(), "--check-config", "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 78 and "push.apns.[0].key_file" in p.stderr, p
    prefix = "swpk%d" % (os.getpid() % 10000)
    p = subprocess.run([swlab.sipwake_bin(), "-l", "0,1", "--no-huge", "-m", "128", "--no-pci",
                        "--file-prefix=" + prefix, "--vdev=net_null0", "--", "-c", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 78 and "push.apns.[0].key_file" in p.stderr, p
    assert not os.path.exists("/var/run/dpdk/" + prefix)


def test_vapid_key_that_is_not_p256_stops_startup(tmp_path):
    # push.webpush's VAPID key must be a P-256 key: an RSA one stops
    # start-up (and --check-config) with exit 78, naming the key; a good one
    # passes --check-config ("push credentials loaded").
    subprocess.run("openssl genpkey -algorithm RSA -out rsa.pem && openssl genpkey "
                   "-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out vapid.pem",
                   shell=True, check=True, cwd=tmp_path, timeout=60, capture_output=True)
    text = """interfaces = ( { device = "net_null0"; ipv4 = "198.18.0.1/24"; } );
push: { webpush = ( { vapid_key = "%s"; subject = "mailto:ops@example.com"; } ); };
"""
    conf = tmp_path / "sipwake.conf"
    conf.write_text(text % (tmp_path / "rsa.pem"))
    p = subprocess.run([swlab.sipwake_bin(), "--check-config", "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 78 and "push.webpush.[0].vapid_key" in p.stderr, p
    assert "is not a P-256 key" in p.stderr, p
    prefix = "swpv%d" % (os.getpid() % 10000)
    p = subprocess.run([swlab.sipwake_bin(), "-l", "0,1", "--no-huge", "-m", "128", "--no-pci",
                        "--file-prefix=" + prefix, "--vdev=net_null0", "--", "-c", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 78 and "push.webpush.[0].vapid_key" in p.stderr, p
    conf.write_text(text % (tmp_path / "vapid.pem"))
    p = subprocess.run([swlab.sipwake_bin(), "--check-config", "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "push credentials loaded" in p.stdout + p.stderr, p


def test_tls_certificate_that_does_not_load_stops_startup(tmp_path):
    # A listener's certificate is missing: start-up (and --check-config)
    # stop with exit 78 naming the file, before EAL or any port.
    key = tmp_path / "edge.key"
    key.write_text("not a key\n")
    conf = tmp_path / "sipwake.conf"
    conf.write_text("""interfaces = ( { device = "net_null0"; ipv4 = "198.18.0.1/24"; } );
streams: { tls = { port = 5061; cert = "%s/missing.crt"; key = "%s"; }; };
""" % (tmp_path, key))
    p = subprocess.run([swlab.sipwake_bin(), "--check-config", "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 78 and "missing.crt" in p.stderr, p
    prefix = "swtc%d" % (os.getpid() % 10000)
    p = subprocess.run([swlab.sipwake_bin(), "-l", "0,1", "--no-huge", "-m", "128", "--no-pci",
                        "--file-prefix=" + prefix, "--vdev=net_null0", "--", "-c", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 78 and "missing.crt" in p.stderr, p
    assert not os.path.exists("/var/run/dpdk/" + prefix)


def test_push_telemetry_answers(tmp_path):
    with swlab.Lab(name="swpt%d" % (os.getpid() % 10000)) as lab:
        push = lab.telemetry("/sipwake/push")
        assert set(push) >= {"apns", "fcm", "webpush"}, push
        assert push["apns"]["submitted"] == 0
        assert lab.stop() == 0
