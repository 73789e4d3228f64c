#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""sipwake's TLS edge against Kamailio 5.6 + its tls module, on this machine, in one run
(docs/performance.md, "bench-tls.py"). Root; needs build/ and kamailio-tls-modules.

  sipwake   a swlab lab (scripts/swlab.py): a TLS listener on 198.18.0.1:5061,
            limits raised for the benchmark, the PBX on 198.18.0.5:5060
  kamailio  tests/integration/kamailio/tls_edge.cfg in a namespace of its
            own (<lab>-kam), joined to the lab's peer namespace by a veth
            pair: TLS on 198.18.1.1:5061, the PBX on 198.18.1.5:5060

Both PBXs are one sink in the peer namespace (a Python UDP responder: 200 to
every REGISTER, echoing its Contact with expires, INVITE, BYE, OPTIONS).
bench/bench_tls, in the peer namespace too, measures per edge and run:
handshakes/s, SIP messages/s over established connections, and M idle
connections from several source addresses (memory per connection, how many
held). Each run starts both edges afresh, idle first, so their heaps are
clean when the idle connections are counted. It prints every run, then
medians, the ratios sipwake / Kamailio and the targets.

  scripts/bench-tls.py [--runs 3] [--handshakes 5000] [--conc 32]
        [--conns 64] [--messages 50000] [--window 8] [--mix mixed]
        [--idle 100000] [--idle-srcs 4] [--hold 10] [--no-kamailio] [--smoke]
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

NOFILE = 1048576  # fs.nr_open's default: 100k connections and their listeners

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import sippkit  # noqa: E402
import swlab  # noqa: E402
from streampeer import make_cert  # noqa: E402

# The generator of the build sipwake comes from (SIPWAKE_BIN: the ASan
# build's in its smoke pass), build/ by default.
GEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(swlab.sipwake_bin()))),
                   "bench", "bench_tls")
KAM_IP, KAM_PEER_IP, KAM_PBX_IP = "198.18.1.1", "198.18.1.2", "198.18.1.5"
TLS_MOD = "/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so"

# The PBX: one process, one socket per edge, answers sent from the address
# the edge sends to (sipwake checks pbx.sources). No SDP in the 200s: the
# sink must outrun both edges, and bench-tls.py checks it does.
SINK = r"""
import re, select, socket, sys
KEEP = (b"via", b"v", b"from", b"f", b"call-id", b"i", b"cseq")
socks = {}
for a in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((a, 5060)); s.setblocking(False); socks[s.fileno()] = (s, a)
ep = select.epoll()
for fd in socks: ep.register(fd, select.EPOLLIN)
print("READY", flush=True)
def answer(data, me):
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    m = head[0].split(b" ", 1)[0]
    if m in (b"SIP/2.0", b"ACK"):
        return None
    out = [b"SIP/2.0 200 OK"]
    for h in head[1:]:
        k = h.split(b":", 1)[0].strip().lower()
        if k in KEEP or (m == b"INVITE" and k == b"record-route"):
            out.append(h)
        elif k in (b"to", b"t"):
            out.append(h if b";tag=" in h else h + b";tag=pbx")
        elif m == b"REGISTER" and k in (b"contact", b"m"):
            out.append(re.sub(rb";expires=\d+", b"", h) + b";expires=3600")
    if m == b"INVITE":
        out.append(b"Contact: <sip:pbx@" + me.encode() + b":5060>")
    out += [b"Content-Length: 0", b"", b""]
    return b"\r\n".join(out)
for _ in range(10 ** 9):
    for fd, _ in ep.poll(1.0):
        s, me = socks[fd]
        for _ in range(256):
            try:
                data, src = s.recvfrom(65535)
            except BlockingIOError:
                break
            out = answer(data, me)
            if out:
                s.sendto(out, src)
"""


def sh(cmd, check=True):
    return subprocess.run(cmd, check=check, text=True, capture_output=True, timeout=30)


def nsx(ns):
    return ["ip", "netns", "exec", ns]


def cpu_of(pids):
    """utime + stime (s) of @pids, all their threads."""
    t = 0
    for p in pids:
        try:
            f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except OSError:
            pass
    return t / os.sysconf("SC_CLK_TCK")


def udp_drops(ns):
    """The kernel's UDP drops in namespace @ns (RcvbufErrors + InErrors,
    /proc/net/snmp): where a stateless relay's lost answers went."""
    rows = [l.split() for l in sh(nsx(ns) + ["cat", "/proc/net/snmp"]).stdout.splitlines()
            if l.startswith("Udp:")]
    if len(rows) < 2:
        return 0
    d = dict(zip(rows[0][1:], (int(v) for v in rows[1][1:])))
    return d.get("RcvbufErrors", 0) + d.get("InErrors", 0)


def threads_cpu(pid):
    """{thread name: utime + stime (s)} of @pid's threads."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tids:
        try:
            raw = open("/proc/%d/task/%s/stat" % (pid, t)).read()
        except OSError:
            continue
        name = raw.split("(", 1)[1].rsplit(")", 1)[0]
        f = raw.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0) + (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    return out


def busiest(before, after, n=4):
    """The @n threads that used the most CPU between two threads_cpu()."""
    d = sorted(((after[k] - before.get(k, 0), k) for k in after), reverse=True)[:n]
    return ", ".join("%s %.2f" % (k, v) for v, k in d if v > 0)


def mem_of(pids):
    """(RSS, PSS) in bytes summed over @pids: PSS counts a shared page once
    over the processes sharing it (Kamailio's shm), RSS in each."""
    rss = pss = 0
    for p in pids:
        try:
            for line in open("/proc/%d/smaps_rollup" % p):
                k, v = line.split(":", 1) if ":" in line else ("", "")
                if k == "Rss":
                    rss += int(v.split()[0]) * 1024
                elif k == "Pss":
                    pss += int(v.split()[0]) * 1024
        except OSError:
            pass
    return rss, pss


class Edge:
    """What the runs ask of either edge."""
    name, dst, srcs, pids = "", "", [], []

    def conns(self):
        return None

    def extra(self):
        return ""

    def threads(self):
        return {}

    def counters(self):
        return {}


class Sipwake(Edge):
    name, dst = "sipwake", swlab.SW_IP4

    def __init__(self, lab, srcs):
        self.lab, self.srcs = lab, srcs

    @property
    def pids(self):
        return [self.lab.proc.pid] if self.lab.proc else []

    def restart(self):
        check_exit(self.lab, self.lab.stop())
        self.lab.start()

    def conns(self):
        c = self.lab.telemetry("/sipwake/conns")
        return c["tls"]["open"], c.get("mem_bytes", 0)

    def extra(self):
        c = self.conns()
        return "streams thread: %d TLS open, mem_bytes %d" % c if c else ""

    def threads(self):
        return threads_cpu(self.pids[0]) if self.pids else {}

    def counters(self):
        st = self.lab.stats()
        return {k: v for k, v in st.items() if isinstance(v, int) and "stream" in k}


class Kam(Edge):
    name, dst = "kamailio", KAM_IP

    def __init__(self, ns, srcs, cert, key):
        self.ns, self.srcs, self.cert, self.key, self.k = ns, srcs, cert, key, None
        self.max_conns = 200000

    @property
    def pids(self):
        try:
            main = int(open(os.path.join(self.k.dir, "kamailio.pid")).read())
        except (OSError, ValueError, AttributeError):
            return []
        return [main] + [int(p) for p in sh(["pgrep", "-P", str(main)], False).stdout.split()]

    def restart(self):
        self.stop()
        self.k = sippkit.Kamailio(
            cfg="tls_edge.cfg", listen=KAM_IP, netns=self.ns, children=1, shm_mb=4096,
            pkg_mb=64, defines=['DST="sip:%s:5060"' % KAM_PBX_IP,
                                'TLS_CERT="%s"' % self.cert, 'TLS_KEY="%s"' % self.key,
                                "MAX_CONNS=%d" % self.max_conns])
        # LISTEN is an address here, not proto:addr:port (tls_edge.cfg).
        self.k.start(timeout=30)

    def conns(self):
        try:
            m = re.search(r"opened_connections:\s*(\d+)", self.k.rpc("core.tcp_info"))
        except Exception:  # noqa: BLE001 (then settle() does not wait)
            return None
        return (int(m.group(1)), 0) if m else None

    def stop(self):
        if self.k is not None:
            self.k.stop()
            self.k = None

    def shm_used(self):
        try:
            m = re.search(r"used:\s*(\d+)", self.k.rpc("core.shmmem"))
        except Exception:  # noqa: BLE001 (a figure left out, not a failure)
            return None
        return int(m.group(1)) if m else None

    def extra(self):
        return "shm used %s B (core.shmmem)" % self.shm_used()


def gen(lab, edge, mode, args, timeout, on_line=None):
    """bench_tls in the peer namespace against @edge; its RESULT as a dict."""
    cmd = nsx(lab.ns_peer) + [GEN, "--mode", mode, "--dst", edge.dst, "--port", "5061",
                              "--ca", lab.cert, "--src", ",".join(edge.srcs),
                              "--time", str(timeout)] + [str(a) for a in args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    res = {}
    try:
        for line in p.stdout:
            if line.startswith("ESTABLISHED") and on_line:
                on_line(line)
            if line.startswith("RESULT"):
                res = dict(kv.split("=", 1) for kv in line.split()[1:])
        p.wait(timeout + 30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    if not res:
        raise RuntimeError("bench_tls %s against %s: no result: %s" % (mode, edge.name,
                                                                       p.stderr.read()[-2000:]))
    return {k: (float(v) if re.fullmatch(r"[\d.]+", v) else v) for k, v in res.items()}


def settle(edge, limit_s=30):
    """Wait (bounded) until @edge has let the last phase's connections go."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        c = edge.conns()
        if c is None or c[0] == 0:
            return
        time.sleep(0.5)
    print("  # %s still has %d connections open after %d s" % (edge.name, c[0], limit_s))


def idle_phase(lab, edge, a, plain=False):
    """M idle connections on freshly started @edge (TCP alone if @plain):
    how many held, and the edge's memory growth per connection."""
    r, seen, kam = {}, {}, edge.name == "kamailio"
    edge.restart()
    time.sleep(1)
    base = mem_of(edge.pids)
    shm0 = edge.shm_used() if kam else None

    def at_hold(line):
        time.sleep(min(2.0, a.hold / 2))  # the last handshakes' buffers settle
        seen["mem"] = mem_of(edge.pids)
        seen["extra"] = edge.extra()
        if shm0 is not None:
            shm1 = edge.shm_used()
            seen["shm"] = (shm1 - shm0) if shm1 is not None else None

    idle = gen(lab, edge, "idle", ["--count", a.idle, "--conc", a.idle_conc, "--hold", a.hold] +
               (["--port", "5060", "--plain"] if plain else []), a.idle_time, at_hold)
    held = int(idle["established"] - idle["lost"])
    grow_rss = seen["mem"][0] - base[0] if "mem" in seen else 0
    grow_pss = seen["mem"][1] - base[1] if "mem" in seen else 0
    r["idle_held"], r["idle_alive"] = held, idle["alive"]
    r["idle_rss_mib"] = seen["mem"][1 if kam else 0] / 2 ** 20 if "mem" in seen else 0
    if seen.get("shm") is not None:
        r["shm_per_conn"] = seen["shm"] / max(held, 1)
    r["mem_per_conn"] = (grow_pss if kam else grow_rss) / max(held, 1)
    print("  %s idle %s: %d of %d established, %d still alive after %ss; growth RSS %.1f MiB, "
          "PSS %.1f MiB: %.0f B per connection (%s)%s; %s" % (
              edge.name, "TCP" if plain else "TLS", held, a.idle, idle["alive"], a.hold,
              grow_rss / 2 ** 20, grow_pss / 2 ** 20, r["mem_per_conn"],
              "PSS over its processes" if kam else "the process's RSS",
              ", shm %.0f B per connection" % r["shm_per_conn"] if "shm_per_conn" in r else "",
              seen.get("extra", "")), flush=True)
    return r


def one_run(lab, edge, a, sink_pid, first):
    """Idle (over TCP too, in the first run), then handshakes, then
    messages; the idle phases each on a freshly started @edge."""
    r = {}
    if first and a.tcp_idle:
        r["tcp_mem_per_conn"] = idle_phase(lab, edge, a, plain=True)["mem_per_conn"]
    r.update(idle_phase(lab, edge, a))
    settle(edge)
    c0, th0 = cpu_of(edge.pids), edge.threads()
    hs = gen(lab, edge, "handshakes", ["--count", a.handshakes, "--conc", a.conc], a.phase_time)
    r["hs"], r["hs_cpu"] = hs["rate"], cpu_of(edge.pids) - c0
    r["hs_per_cpu"] = hs["ok"] / max(r["hs_cpu"], 1e-9)
    r["hs_gen_load"] = hs["cpu"] / max(hs["secs"], 1e-9)  # near 1: the generator limits
    th = busiest(th0, edge.threads())
    print("  %s handshakes: %d ok, %d failed in %.2f s: %.0f/s; edge CPU %.2f s (%.0f per "
          "CPU-s%s), generator CPU %.2f s; %s %s" % (
              edge.name, hs["ok"], hs["failed"], hs["secs"], hs["rate"], r["hs_cpu"],
              r["hs_per_cpu"], "; " + th if th else "", hs["cpu"], hs["proto"], hs["cipher"]),
          flush=True)
    settle(edge)
    c0, s0, th0 = cpu_of(edge.pids), cpu_of([sink_pid]), edge.threads()
    nss = [lab.ns_peer] + ([edge.ns] if edge.name == "kamailio" else [])
    d0, k0 = [udp_drops(ns) for ns in nss], edge.counters()
    ms = gen(lab, edge, "messages", ["--conns", a.conns, "--count", a.messages, "--window",
                                     a.window, "--mix", a.mix, "--conc", a.conc], a.phase_time)
    r["msg"], r["msg_cpu"] = ms["rate"], cpu_of(edge.pids) - c0
    r["msg_per_cpu"] = (ms["requests"] + ms["answers"]) / max(r["msg_cpu"], 1e-9)
    r["unanswered"] = ms["open_reg"] + ms["open_inv"] + ms["open_bye"]
    sink = cpu_of([sink_pid]) - s0
    # Its CPU and the generator's over the timed span (the registrations before it
    # included: an overestimate), the requests/s the sink would take at full core.
    t = max(ms["secs"], 1e-9)
    r["sink_load"], r["msg_gen_load"] = sink / t, ms["cpu"] / t
    r["sink_cap"] = ms["requests"] / max(sink, 1e-9)
    th = busiest(th0, edge.threads())
    drops = [udp_drops(ns) - d for ns, d in zip(nss, d0)]
    if ms["errors"]:
        # Which of the edge's own stream drops answered them (sipwake).
        k1 = edge.counters()
        print("  %s error answers; stream drop counters: %s" % (edge.name, {
            k: v - k0.get(k, 0) for k, v in k1.items() if k.startswith("drop")
            and v != k0.get(k, 0)}))
    r["udp_drops"] = sum(drops)
    print("  %s messages (%s, %d connections, window %d): %d requests + %d answers in %.2f s: "
          "%.0f msg/s, %d errors (first %s), %d lost, unanswered %d REGISTER %d INVITE %d BYE (UDP drops: "
          "%s); edge CPU "
          "%.2f s (%.0f msg per CPU-s%s), generator CPU %.2f s; sink %.0f %% of a core "
          "(it would take ~%.0f requests/s)" % (
              edge.name, a.mix, ms["conns"], a.window, ms["requests"], ms["answers"], ms["secs"],
              ms["rate"], ms["errors"], ms["first_error"], ms["lost"], ms["open_reg"],
              ms["open_inv"],
              ms["open_bye"], ", ".join("%s %d" % (n.rsplit("-", 1)[1], d)
                                        for n, d in zip(nss, drops)), r["msg_cpu"], r["msg_per_cpu"], "; " + th if th else "",
              ms["cpu"], 100 * r["sink_load"], r["sink_cap"]), flush=True)
    return r


def check_exit(lab, rc):
    """sipwake must stop cleanly (exit 0; under ASan: no report, no leak),
    or the figures are of a broken build."""
    if rc not in (0, None):
        raise RuntimeError("sipwake exited with %d:\n%s" % (rc, lab.read_log()[-4000:]))


class BenchLab(swlab.Lab):
    """The swlab lab with the benchmark's sipwake: a TLS listener with its
    limits raised, deeper mbuf pool and RX ring, the kernel's accept queue
    and port range opened up."""

    def write_config(self, path=None, text=None):
        p = super().write_config(path, text)
        conf = open(p).read().replace("mbufs = 4095", "mbufs = 32767")
        open(p, "w").write(conf)
        for k, v in (("net.core.somaxconn", "65535"), ("net.ipv4.tcp_max_syn_backlog", "65535")):
            self.sw(["sysctl", "-qw", "%s=%s" % (k, v)])
        return p


def streams_conf(cert, key, a):
    n = a.idle + 1000
    return ('streams: { tcp = { port = 5060; }; tls = { port = 5061; cert = "%s"; key = "%s"; }; '
            'max_conns = %d; '
            'max_conns_per_source = %d; syn_rate = 1000000; syn_burst = 1000000; '
            'syn_global_rate = 1000000; syn_global_burst = 1000000; idle_s = 3600; '
            # A load generator is the flood the per-connection message rate
            # stops (streams.msg_rate): not metered here.
            'msg_rate = 1000000; msg_burst = 1000000; };'
            % (cert, key, n, n))


def kam_ns_up(lab, ns, srcs):
    """<lab>-kam, joined to the peer namespace: Kamailio's side of the lab."""
    a, b = lab.name[:11] + "k", lab.name[:11] + "q"
    sh(["ip", "netns", "add", ns])
    sh(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
    sh(["ip", "link", "set", a, "netns", ns])
    sh(["ip", "link", "set", b, "netns", lab.ns_peer])
    for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "set", a, "up"],
                ["ip", "addr", "add", KAM_IP + "/24", "dev", a],
                ["sysctl", "-qw", "net.core.somaxconn=65535"]):
        sh(nsx(ns) + cmd)
    lab.peer(["ip", "link", "set", b, "up"])
    for ip in [KAM_PBX_IP] + srcs:
        lab.peer(["ip", "addr", "add", ip + "/24", "dev", b])


def median(rows, key):
    v = [r[key] for r in rows if key in r]
    return statistics.median(v) if v else 0.0


def table(res, a):
    sw, km = res.get("sipwake", []), res.get("kamailio", [])
    rows = [
        ("TLS handshakes/s", "hs", "%.0f", lambda s, k: "%.2fx (target >= 1x: %s)" % (
            s / k, "met" if s >= k else "missed")),
        ("SIP messages/s over TLS (%s; req + answers)" % a.mix, "msg", "%.0f",
         lambda s, k: "%.2fx (target >= 2x: %s)" % (s / k, "met" if s >= 2 * k else "missed")),
        ("memory per idle TLS connection (B)", "mem_per_conn", "%.0f",
         lambda s, k: "%.2fx (target <= 0.25x and <= 16 KiB: %s)" % (
             s / k, "met" if s <= k / 4 and s <= 16384 else "missed")),
        ("memory per idle TCP connection, no TLS (B; first run)", "tcp_mem_per_conn", "%.0f",
         None),
        ("idle TLS connections held (of %d)" % a.idle, "idle_held", "%.0f", None),
        ("edge memory while holding them (MiB; sipwake RSS, Kamailio PSS)", "idle_rss_mib",
         "%.0f", None),
        ("  of which Kamailio's shm per connection (B, core.shmmem)", "shm_per_conn", "%.0f",
         None),
        ("edge CPU-s for the handshakes", "hs_cpu", "%.2f", None),
        ("handshakes per edge CPU-second", "hs_per_cpu", "%.0f", None),
        ("edge CPU-s for the messages", "msg_cpu", "%.2f", None),
        ("messages per edge CPU-second", "msg_per_cpu", "%.0f", None),
        ("requests left unanswered (after --drain; sum of the runs)", "unanswered", "%.0f",
         "sum"),
        ("UDP datagrams the kernel dropped, both namespaces (sum)", "udp_drops", "%.0f", "sum"),
        ("sink load during messages (share of a core)", "sink_load", "%.2f", None),
    ]
    print("\n== bench-tls: medians of %d run(s)" % a.runs)
    print("| figure | sipwake | kamailio | sipwake / kamailio |")
    print("|---|---|---|---|")
    for name, key, fmt, ratio in rows:
        agg = median
        if ratio == "sum":
            agg, ratio = (lambda rows, k: sum(r.get(k, 0) for r in rows)), None
        s, k = agg(sw, key), agg(km, key)
        rt = ratio(s, k) if ratio and sw and km and k > 0 else ""
        has = lambda rows: rows and any(key in r for r in rows)  # noqa: E731
        print("| %s | %s | %s | %s |" % (name, fmt % s if has(sw) else "—",
                                         fmt % k if has(km) else "—", rt))
    held, rss = median(sw, "idle_held"), median(sw, "idle_rss_mib")
    # At fewer than 100k: the RSS without them, plus 100k at the measured growth each.
    proj = (rss - held * median(sw, "mem_per_conn") / 2 ** 20 +
            100000 * median(sw, "mem_per_conn") / 2 ** 20)
    print("target 100k idle within 2 GiB (sipwake): %d held, %.0f MiB RSS: %s" % (
        held, rss, ("met" if rss <= 2048 else "missed") if held >= 100000 else
        "not reached here; projected at 100k: %.0f MiB (%s)" % (
            proj, "within" if proj <= 2048 else "over")))
    if getattr(a, "idle_note", None):
        print("(%s)" % a.idle_note)
    print("RESULTS " + json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--handshakes", type=int, default=5000)
    ap.add_argument("--conc", type=int, default=32)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--mix", default="mixed", choices=("reg", "call", "mixed"))
    ap.add_argument("--idle", type=int, default=100000)
    ap.add_argument("--idle-srcs", type=int, default=4)
    ap.add_argument("--idle-conc", type=int, default=128)
    ap.add_argument("--hold", type=float, default=10)
    ap.add_argument("--no-tcp-idle", dest="tcp_idle", action="store_false",
                    help="skip the first run's idle connections over plain TCP")
    ap.add_argument("--no-kamailio", action="store_true")
    ap.add_argument("--no-sipwake", action="store_true", help="Kamailio's figures alone")
    ap.add_argument("--smoke", action="store_true", help="tiny counts, one run (the tests')")
    a = ap.parse_args()
    if a.smoke:
        a.runs, a.handshakes, a.conns, a.messages, a.idle, a.hold = 1, 100, 4, 400, 200, 1
        a.idle_srcs = 2
    a.phase_time = 60 if a.smoke else 300
    a.idle_time = 60 if a.smoke else 600
    if os.geteuid() != 0:
        sys.exit("bench-tls.py: run as root (network namespaces)")
    if not os.path.exists(GEN):
        sys.exit("bench-tls.py: %s missing: ninja -C build" % GEN)
    kam = not a.no_kamailio and os.path.exists(TLS_MOD)
    if not kam and not a.no_kamailio:
        print("# kamailio's tls module missing (kamailio-tls-modules): sipwake only")
    # Inherited by sipwake, Kamailio and the generator: one descriptor a
    # connection on each side. Raised to the hard limit; above it needs
    # CAP_SYS_RESOURCE, which a sandbox may not give: then fewer idle
    # connections than asked, and the table says why.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
        except (ValueError, OSError):
            pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cap = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 1000
    if a.idle > cap:
        a.idle_note = ("asked %d idle connections, RLIMIT_NOFILE is %d here (raising it "
                       "needs CAP_SYS_RESOURCE): %d" % (a.idle, cap + 1000, cap))
        print("# " + a.idle_note, flush=True)
        a.idle = cap
    name = "swbt%d" % (os.getpid() % 10000)
    # framesz=2048: the benchmark's SIP goes over TCP and TLS, and 32767
    # mbufs sized for 16 KiB datagrams (swlab's default frames) would not
    # fit its -m 256.
    lab = BenchLab(name=name, pbx_extra="check_interval_s = 3600; timeout_ms = 1000;",
                   vdev_extra=",framesz=2048,blocksz=4096")
    cert, key = make_cert(lab.tmp)
    lab.cert = cert
    lab.config_extra = swlab.apns_push_config(lab.tmp) + "\n" + streams_conf(cert, key, a)
    sw_srcs = ["198.18.0.%d" % (10 + i) for i in range(a.idle_srcs)]
    kam_srcs = ["198.18.1.%d" % (10 + i) for i in range(a.idle_srcs)]
    res, sink, kedge = {} if a.no_sipwake else {"sipwake": []}, None, None
    with lab:
        try:
            for ip in sw_srcs:
                lab.peer(["ip", "addr", "add", ip + "/24", "dev", lab.if_peer])
            # One address gives < 64k ports: the range opened wide, TIME_WAIT
            # reused for the handshakes' connections.
            lab.peer(["sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535"])
            lab.peer(["sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"])
            if kam:
                kam_ns_up(lab, name + "-kam", kam_srcs)
                res["kamailio"] = []
                kedge = Kam(name + "-kam", kam_srcs, cert, key)
                kedge.max_conns = a.idle + 1000
            sink = subprocess.Popen(nsx(lab.ns_peer) + ["/usr/bin/python3", "-c", SINK,
                                                        swlab.PBX_IP4] +
                                    ([KAM_PBX_IP] if kam else []),
                                    stdout=subprocess.PIPE, text=True)
            assert sink.stdout.readline().strip() == "READY"
            edges = ([] if a.no_sipwake else [Sipwake(lab, sw_srcs)]) + ([kedge] if kam else [])
            print("# %d run(s); idle %d from %d addresses, handshakes %d (%d at once), "
                  "messages %d over %d connections (window %d, %s)" % (
                      a.runs, a.idle, a.idle_srcs, a.handshakes, a.conc, a.messages,
                      a.conns, a.window, a.mix), flush=True)
            for run in range(a.runs):
                print("run %d" % (run + 1), flush=True)
                for e in edges:
                    res[e.name].append(one_run(lab, e, a, sink.pid, run == 0))
            check_exit(lab, lab.stop())
        finally:
            if sink is not None:
                sink.kill()
                sink.wait(5)
            if kedge is not None:
                kedge.stop()
            sh(["ip", "netns", "del", name + "-kam"], check=False)
    table(res, a)


if __name__ == "__main__":
    main()
