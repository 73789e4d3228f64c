#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Kamailio from Debian as the yardstick of sipwake's forward path
(docs/performance.md): the same messages as `bench_dp --mix fwd` (an INVITE
with SDP from the PBX to an app, the app's 200, an in-dialog BYE) through
Kamailio with one worker (`-n 1 -x tlsf -X tlsf -b 8388608`), on loopback in a
namespace of its own:

  stateless   tests/integration/kamailio/stateless.cfg: filter + forward()
  registrar   tests/integration/kamailio/registrar.cfg: REGISTERs first, then
              INVITEs to the AORs: lookup() + t_relay() (stateful)

A Python peer sends the requests, a sink answers each INVITE 200; Kamailio's
CPU time (utime + stime of all its processes, /proc) over the messages it
forwarded gives cycles per message at the TSC rate. bench_dp runs in the same
invocation for sipwake's figure, and the ratio is printed. With --callgrind,
both also run under valgrind for instructions per message, a comparison that
does not depend on the I/O path. At its end, the two Kamailio rows of the
targets table (bench/bench_targets.c prints bench_dp's in the same format):
cycles per message, Kamailio stateless (CPU time incl. system) / sipwake
fwd-call (software checksums, the figure of the ratio line above it), and
instructions per forwarded message under callgrind ("not run" without
--callgrind). Measured, not asserted. Run it under flock /tmp/sw-bench.lock.

  scripts/bench-kamailio.py [--calls N] [--callgrind] [--packets N]
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import sippkit  # noqa: E402

KAM, SENDER, SINK = ("127.0.0.1", 5060), ("127.0.0.1", 5080), ("127.0.0.1", 5070)
SDP = ("v=0\r\no=pbx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 16384 RTP/AVP 9 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")


def invite(i, ruri):
    return ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-k%d\r\n"
            "Max-Forwards: 70\r\nFrom: \"PBX\" <sip:1002@example.com>;tag=f%d\r\n"
            "To: <sip:alice@example.com>\r\nCall-ID: kb-%d@bench\r\nCSeq: 1 INVITE\r\n"
            "Contact: <sip:1002@127.0.0.1:5080>\r\nContent-Type: application/sdp\r\n"
            "Content-Length: %d\r\n\r\n%s" % (ruri, i, i, i, len(SDP), SDP))


def bye(i, ruri):
    return ("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-b%d\r\n"
            "Max-Forwards: 70\r\nFrom: \"PBX\" <sip:1002@example.com>;tag=f%d\r\n"
            "To: <sip:alice@example.com>;tag=a%d\r\nCall-ID: kb-%d@bench\r\nCSeq: 2 BYE\r\n"
            "Content-Length: 0\r\n\r\n" % (ruri, i, i, i, i))


def answer(req):
    """The app's 200 to an INVITE: its Vias, From, To+tag, Call-ID, CSeq."""
    out = ["SIP/2.0 200 OK"]
    for line in req.split("\r\n")[1:]:
        if not line:
            break
        k = line.split(":", 1)[0].lower()
        if k in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            out.append(line)
        elif k in ("to", "t"):
            out.append(line + ";tag=app")
    out += ["Contact: <sip:alice@127.0.0.1:5070>", "Content-Type: application/sdp",
            "Content-Length: %d" % len(SDP), "", SDP]
    return "\r\n".join(out)


class Sink(threading.Thread):
    """The app: counts requests, answers INVITEs 200 back to Kamailio."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.s, self.requests, self.stop = sock, 0, False

    def run(self):
        self.s.settimeout(0.2)
        while not self.stop:
            try:
                data, src = self.s.recvfrom(65535)
            except socket.timeout:
                continue
            self.requests += 1
            if data.startswith(b"INVITE "):
                self.s.sendto(answer(data.decode()).encode(), src)


def cpu_seconds(pidfile):
    """utime + stime of Kamailio's main process and its children."""
    main = int(open(pidfile).read().strip())
    pids = [main] + [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(main)], capture_output=True, text=True).stdout.split()]
    ticks = 0
    for p in pids:
        try:
            f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
            ticks += int(f[11]) + int(f[12])
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def tsc_hz():
    out = subprocess.run([os.path.join(REPO, "build", "bench", "bench_dp"), "--smoke"],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r"TSC ([\d.]+) GHz", out)
    return float(m.group(1)) * 1e9 if m else 2.6e9


def drive(ns, mode, calls, wrap=()):
    """Run Kamailio in @mode under @ns; returns (messages forwarded, cpu s)."""
    cfg = "stateless.cfg" if mode == "stateless" else "registrar.cfg"
    defines = ['DST="sip:127.0.0.1:5070"'] if mode == "stateless" else []
    kam = sippkit.Kamailio(cfg=cfg, listen="udp:127.0.0.1:5060", netns=ns,
                           defines=defines, children=1, shm_mb=1024,
                           extra=["-x", "tlsf", "-X", "tlsf", "-b", "8388608"])
    if wrap:
        kam.cmd = kam.cmd[:kam.cmd.index("kamailio")] + list(wrap) + \
            kam.cmd[kam.cmd.index("kamailio"):]
    script = r"""
import socket, sys, time, json
sys.path.insert(0, %r)
sys.argv = ["x"]
import importlib.util
spec = importlib.util.spec_from_file_location("bk", %r)
bk = importlib.util.module_from_spec(spec); spec.loader.exec_module(bk)
mode, calls = %r, %d
snd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); snd.bind(bk.SENDER)
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sink.bind(bk.SINK)
sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
snd.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
users = 1000
if mode == "registrar":
    snd.settimeout(2)
    for u in range(users):
        snd.sendto(("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-r%%d\r\n"
                    "Max-Forwards: 70\r\nFrom: <sip:u%%d@127.0.0.1>;tag=r\r\nTo: <sip:u%%d@127.0.0.1>\r\n"
                    "Call-ID: r%%d@bench\r\nCSeq: 1 REGISTER\r\nContact: <sip:u%%d@127.0.0.1:5070>;expires=3600\r\n"
                    "Content-Length: 0\r\n\r\n" %% (u, u, u, u, u)).encode(), bk.KAM)
        snd.recvfrom(65535)
print("READY", flush=True)
sys.stdin.readline()
s = bk.Sink(sink); s.start()
snd.settimeout(0.001)
got = 0
t0 = time.time()
for i in range(calls):
    ruri = "sip:alice@127.0.0.1:5070" if mode == "stateless" else "sip:u%%d@127.0.0.1" %% (i %% users)
    snd.sendto(bk.invite(i, ruri).encode(), bk.KAM)
    if mode == "stateless":
        snd.sendto(bk.bye(i, ruri).encode(), bk.KAM)
    if i %% 64 == 63:
        # Pace to what the single worker absorbs; count what came back.
        while True:
            try:
                d, _ = snd.recvfrom(65535)
                got += d.startswith(b"SIP/2.0 200")
            except socket.timeout:
                break
end = time.time() + 3
snd.settimeout(0.2)
while time.time() < end:
    try:
        d, _ = snd.recvfrom(65535)
        got += d.startswith(b"SIP/2.0 200")
    except socket.timeout:
        if s.requests >= calls * (2 if mode == "stateless" else 1):
            break
s.stop = True
print(json.dumps({"requests": s.requests, "responses": got, "secs": time.time() - t0}), flush=True)
""" % (os.path.join(REPO, "tests", "integration"), os.path.abspath(__file__), mode, calls)
    with kam:
        peer = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                                 script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        assert peer.stdout.readline().strip() == "READY"
        c0 = cpu_seconds(os.path.join(kam.dir, "kamailio.pid"))
        peer.stdin.write("go\n")
        peer.stdin.flush()
        res = __import__("json").loads(peer.stdout.readline())
        c1 = cpu_seconds(os.path.join(kam.dir, "kamailio.pid"))
        peer.wait(10)
    return res["requests"] + res["responses"], c1 - c0, res


def cg_total(prefix):
    """Sum of the callgrind totals of every file starting with @prefix (removed)."""
    d, base, total = os.path.dirname(prefix), os.path.basename(prefix), 0
    for f in os.listdir(d):
        if f.startswith(base):
            txt = open(os.path.join(d, f)).read()
            m = re.search(r"^summary: (\d+)", txt, re.M) or re.search(r"^totals: (\d+)", txt, re.M)
            total += int(m.group(1)) if m else 0
            os.unlink(os.path.join(d, f))
    return total


def cg_kamailio(ns, calls):
    log = tempfile.mktemp(prefix="kam-cg-")
    msgs, _, _ = drive(ns, "stateless", calls,
                       wrap=["valgrind", "--tool=callgrind", "--trace-children=yes",
                             "--callgrind-out-file=%s.%%p" % log])
    return msgs, cg_total(log)


def cg_sipwake():
    """bench_dp --mix fwd-call under callgrind: its per-packet instructions
    (two lengths again; each run passes the frames twice, software and NIC
    checksums)."""
    tot = []
    for n in (2000, 6000):
        log = tempfile.mktemp(prefix="sw-cg-")
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + log,
                        os.path.join(REPO, "build", "bench", "bench_dp"), "--mix", "fwd-call",
                        "--packets", str(n), "--runs", "1"],
                       capture_output=True, timeout=900)
        tot.append(cg_total(log))
    return (tot[1] - tot[0]) / (2 * 4000)


def sipwake_fwd(packets=100000, runs=5):
    out = subprocess.run([os.path.join(REPO, "build", "bench", "bench_dp"), "--mix", "fwd",
                          "--packets", str(packets), "--runs", str(runs)],
                         capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"fwd-call\s+([\d.]+) cycles/pkt.*hw-cksum\s+([\d.]+) cycles/pkt", out)
    return float(m.group(1)), float(m.group(2)), out


# The Kamailio rows of the targets table: key, what, target (at least).
TARGETS = (("kam-cycles", "Kamailio stateless / sipwake, cycles/msg (CPU incl. sys), x",
            25.0),
           ("kam-instr", "Kamailio stateless / sipwake, instructions per fwd msg, x", 10.0))


def print_targets(measured):
    """The rows in bench_dp's format (bench/bench_targets.c, bt_print)."""
    print("targets (Kamailio rows; measured, not asserted):")
    print("  %-17s %-60s %9s %9s  %s" % ("figure", "what", "target", "measured", "verdict"))
    for key, what, target in TARGETS:
        v = measured.get(key)
        tail = "%9s  not run" % "-" if v is None else \
            "%9.1f  %s" % (v, "met" if v >= target else "missed")
        print("  %-17s %-60s >= %6.1f %s" % (key, what, target, tail))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=50000)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--packets", type=int, default=100000,
                    help="bench_dp --mix fwd packets per run (5 runs) for sipwake's side")
    a = ap.parse_args()
    hz = tsc_hz()
    sw_sw, sw_hw, _ = sipwake_fwd(a.packets)
    measured = {}
    print("sipwake fwd-call (INVITE, 200, BYE), one worker lcore: %.0f cycles/msg "
          "(%.0f with NIC checksums)" % (sw_sw, sw_hw))
    with sippkit.Netns("swbk%d" % os.getpid()) as ns:
        for mode in ("stateless", "registrar"):
            msgs, cpu, res = drive(ns, mode, a.calls)
            cyc = cpu * hz / max(msgs, 1)
            print("kamailio %-9s one worker: %d messages forwarded in %.2f s CPU: %.0f "
                  "cycles/msg, %.0f msg/s per core (%s)"
                  % (mode, msgs, cpu, cyc, msgs / cpu if cpu else 0, res))
            print("  ratio kamailio %s / sipwake: %.1fx (target >= 40x)"
                  % (mode, cyc / sw_sw))
            if mode == "stateless":
                measured["kam-cycles"] = cyc / sw_sw
        if a.callgrind:
            # Instructions per message: the difference of two runs of
            # different lengths, so start-up and shutdown cancel out.
            runs = [cg_kamailio(ns, n) for n in (1000, 3000)]
            (m1, i1), (m2, i2) = runs
            kam_ins = (i2 - i1) / max(m2 - m1, 1)
            sw_ins = cg_sipwake()
            print("callgrind: kamailio stateless %.0f instructions/msg, sipwake fwd-call %.0f "
                  "instructions/msg, ratio %.1fx" % (kam_ins, sw_ins, kam_ins / sw_ins))
            measured["kam-instr"] = kam_ins / sw_ins
    print_targets(measured)

if __name__ == "__main__":
    main()
