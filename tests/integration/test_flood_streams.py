# SPDX-License-Identifier: BSD-3-Clause
"""Calls go through while the edge's stream listeners are flooded
(docs/streams.md, "SYN floods"; the datagram flood is test_flood_calls.py).

The apps here hold TLS, secure WebSocket and TCP connections to sipwake;
the PBX (sipp/pbx_calls_uac.xml) stays on UDP. While a sipp PBX places
CALLS calls at CALL_RATE a second:
  - tests/flood/sw_flood sends a SYN flood from spoofed sources to the three
    stream ports, with some datagram junk (FLOOD_MIX), far past the box's
    SYN budget (streams.syn_global_rate);
  - HalfOpen holds half-open handshakes from HALF_IPS: TCP connections to
    the TLS and WSS ports that send the first bytes of a ClientHello and
    nothing more, as many per source as it may, opened again as soon as
    sipwake closes them (streams.handshake_s);
  - awake apps answer on their connections and refresh every REFRESH_S;
  - asleep apps (their connection closed: asleep at once) are pushed, open
    a new connection from a new address (each its own, one of NEW_IPS) and
    take the held call: their SYN meets the flood, is challenged, and their
    stack's RST proves them (tcp_syn_proofs);
  - an app that never wakes: 480.
Pass: every call ends as its line says; no binding changed but the woken
apps'; every junk frame the sender reports is accounted for in sipwake's
counters (the SYNs: every TCP frame sipwake counted, less the segments the
peers' own stacks sent, which the kernel counts: Tcp OutSegs +
RetransSegs); every half-open connection sipwake took was closed by it
within handshake_s (or refused at once for its source), and the streams'
counters account for every connection the peers made.
Results in build/test_flood_streams.json. Several edges: test_flood_edges.py.
"""
import os
import select
import socket
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sippkit  # noqa: E402
import swlab  # noqa: E402
from floodkit import (UDP_KIND_COUNTERS, Flood, PhoneLoop, Worker, account, binding,  # noqa: E402
                      pbx_calls, pct, pinned, rtt_ms, sipp_stats, snmp, veth_tx, write_json)
from streampeer import add_streams, connect_app, register_stream  # noqa: E402
from streampeer import stream_contact as contact_of  # noqa: E402
from wakekit import APP4, SW4, Ctx, Device, WakeLab  # noqa: E402
from wakepeers import in_netns  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or os.cpu_count() < 2,
                                reason="needs root and two CPUs")

CALLS, CALL_RATE = 45, 3  # 15 s of calls
REFRESH_S = 1.0
AWAKE = ["TLS", "TLS", "WSS", "TCP"]
ASLEEP = ["TLS", "TLS", "WSS", "TCP"]
NEW_IPS = ["198.18.0.%d" % (78 + i) for i in range(len(ASLEEP))]
HALF_IPS = ["198.18.0.%d" % (100 + i) for i in range(12)]
HALF_PER_SOURCE, HALF_MAX = 10, 4000  # connections held per source; all it may open
HANDSHAKE_S, PER_SOURCE = 2, 8
FLOOD_S, FLOOD_MAX = 60, 30_000_000
FLOOD_MIX = "syn=8,scanner=1,junk=1,rfc4475=1"
RATE = 100_000  # junk frames/s (a sixth for the ASan + UBSan sipwake)
STREAMS = ('streams: { tcp = { port = 5060; }; tls = { port = 5061; cert = "%(cert)s"; key = "%(key)s"; };'
           ' wss = { port = 7443; path = "/sip"; cert = "%(cert)s"; key = "%(key)s"; };'
           ' max_conns_per_source = %(per_source)d; handshake_s = %(handshake_s)d; header_s = 2;'
           ' syn_challenge_rate = %(challenge_rate)d; };')
# SYN_CHALLENGE_RATE=0: the edge without challenges (docs/streams.md, "SYN
# floods"), to see what they are for: the woken apps' SYNs then meet the
# flood's drops, and this test fails.
SYN_CHALLENGE_RATE = int(os.environ.get("SYN_CHALLENGE_RATE", "1000000"))
# The first bytes of a TLS ClientHello whose record says 512 bytes follow.
HELLO_START = bytes.fromhex("16030102000100 01fc 0303".replace(" ", ""))
KIND_COUNTERS = {k: UDP_KIND_COUNTERS[k] for k in ("scanner", "junk", "rfc4475")}
# Where a TCP frame can end in sipwake (dataplane/dp_tcp.c): each exactly one.
TCP_ENDS = ["tcp_to_kernel", "tcp_syn_proofs", "drop_tcp_malformed", "drop_tcp_port",
            "drop_tcp_banned", "drop_tcp_syn_rate_source", "drop_tcp_syn_rate_global",
            "drop_tcp_syn_challenged", "drop_tcp_kernel_ring_full"]


def flood_rate():
    default = RATE // 6 if "asan" in swlab.sipwake_bin() else RATE
    return os.environ.get("FLOOD_RATE", str(default))


class HalfOpen(Worker):
    """Half-open handshakes from HALF_IPS to the TLS and WSS ports, in a
    thread: each source keeps HALF_PER_SOURCE connections that sent the
    start of a ClientHello and nothing more; one sipwake closes is opened
    again, up to HALF_MAX in all. Records, per connection: when it was
    established and when sipwake closed it."""

    def __init__(self, ns):
        super().__init__()
        self.ns = ns
        self.conns = []  # [port, t_established, t_closed or None]
        self.connect_failed = 0
        self.opened = 0

    def open(self, ip, port):
        with in_netns(self.ns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((ip, 0))
        s.connect_ex((SW4, port))
        self.opened += 1
        return s

    def loop(self):
        pending, held = {}, {}  # socket -> (source, port, deadline) / record
        want = {ip: HALF_PER_SOURCE for ip in HALF_IPS}
        n, drain_end = 0, None
        # Once told to stop: open nothing more, and see every connection
        # held to its end (sipwake closes it within handshake_s).
        while drain_end is None or (time.monotonic() < drain_end and (held or pending)):
            if drain_end is None and self.stop.is_set():
                drain_end = time.monotonic() + HANDSHAKE_S + 2.0
            for ip in HALF_IPS:
                while want[ip] > 0 and self.opened < HALF_MAX and drain_end is None:
                    port = (5061, 7443)[n % 2]
                    n += 1
                    pending[self.open(ip, port)] = (ip, port, time.monotonic() + 8.0)
                    want[ip] -= 1
            r, w, _ = select.select(list(held), list(pending), [], 0.05)
            now = time.monotonic()
            for s in w:
                ip, port, _ = pending.pop(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    self.connect_failed += 1
                    s.close()
                    want[ip] += 1
                    continue
                rec = [port, now, None, ip]
                self.conns.append(rec)
                try:
                    s.send(HELLO_START)
                except OSError:
                    pass
                held[s] = rec
            for s in r:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:  # sipwake closed it (a TLS alert, if any, before)
                    rec = held.pop(s)
                    rec[2] = now
                    s.close()
                    want[rec[3]] += 1
            for s, (ip, port, deadline) in list(pending.items()):
                if now > deadline:
                    self.connect_failed += 1
                    del pending[s]
                    s.close()
                    want[ip] += 1
        for s in list(pending) + list(held):
            s.close()


class StreamPhones(PhoneLoop):
    """PhoneLoop over connections (floodkit.py): the apps answer on their
    connection; an asleep app (@wake: (device, kind, new address, push
    mark)) whose push came connects from its new address in a thread of
    its own (its SYN may be challenged), and registers."""

    def __init__(self, ctx, awake, wake):
        super().__init__(ctx, awake, wake, REFRESH_S)
        self.eps = list(awake)  # (endpoint, device)
        self.connect_s = {}
        self.arrived = []  # (endpoint, device) connected by a waker thread
        self.lock = threading.Lock()

    def refresh(self, ep, dev, cseq):
        self.ctx.send_register(ep, dev, cseq=cseq, contact=contact_of(dev, ep))

    def start_wake(self, dev, kind, ip, _mark):
        self.ctx.next_port += 1
        threading.Thread(target=self.connect, args=(dev, kind, ip, self.ctx.next_port),
                         daemon=True).start()

    def connect(self, dev, kind, ip, port):
        t0 = time.monotonic()
        try:
            ep = connect_app(self.ctx.lab, kind, ip, port)
        except Exception as e:  # noqa: BLE001 (reported by the test)
            self.err = "woken %s over %s from %s: %r" % (dev.user, kind, ip, e)
            return
        self.connect_s[dev.user] = time.monotonic() - t0
        with self.lock:
            self.arrived.append((ep, dev))

    def receive(self):
        with self.lock:
            for ep, dev in self.arrived:
                self.ctx.apps.append(ep)  # closed with the others
                self.eps.append((ep, dev))
                self.woken[dev.user] = ep
                self.ctx.send_register(ep, dev, cseq=2, cid="woken-%s@app" % dev.user,
                                       contact=contact_of(dev, ep))
            self.arrived = []
        self.ctx.pbx._pump(time.monotonic() + 0.005)
        while self.ctx.pbx.inbox:
            self.register(self.ctx.pbx.inbox.pop(0))
        for ep, dev in self.eps:
            ep._pump(time.monotonic() + 0.003)
            while ep.inbox:
                self.phone(ep, dev, ep.inbox.pop(0))

    def answer(self, ep, _m, data):
        ep.send(data)

    def app_contact(self, ep, dev):
        return contact_of(dev, ep, pn=False)


def calls_plan(awake, asleep, never):
    """The injection file's lines: (user, host, port, token, final). The
    Request-URI names the app by its push address (RFC 8599): over a
    stream its contact's host is not where the call goes."""
    lines, w, n = [], list(asleep), [never, never]
    for i in range(CALLS):
        if i % 9 == 4 and w:
            lines.append((w.pop(0), 200))
        elif i % 20 == 12 and n:
            lines.append((n.pop(0), 480))
        else:
            lines.append((awake[i % len(awake)], 200))
    assert not w and not n, "CALLS too small for the plan"
    return [(dev.user, APP4, 5060, dev.token, final) for dev, final in lines]


def conns(lab):
    """/sipwake/conns, flat: "tls.accepted", ..., "up_ring_full"."""
    out = {}
    for k, v in lab.telemetry("/sipwake/conns").items():
        if isinstance(v, dict):
            out.update({"%s.%s" % (k, n): x for n, x in v.items()})
        else:
            out[k] = v
    return out


def conn_sum(c, keys, tps=("tcp", "tls", "wss")):
    return sum(c.get("%s.%s" % (tp, k), 0) for tp in tps for k in keys)


@pytest.fixture(scope="module")
def fl_streams():
    lab = WakeLab("fs%d" % (os.getpid() % 10000), 'policy = "ping";', idle_sleep_us=0,
                  vdev_extra=",framecnt=16384")
    add_streams(lab, STREAMS, per_source=PER_SOURCE, handshake_s=HANDSHAKE_S,
                challenge_rate=SYN_CHALLENGE_RATE)
    with pinned(), lab:
        ctx = Ctx(lab)
        try:
            for ip in NEW_IPS + HALF_IPS:
                lab.peer(["ip", "addr", "add", ip + "/24", "dev", lab.if_peer])
            yield ctx
        finally:
            ctx.close()
        assert lab.stop() == 0, lab.read_log()[-4000:]


def test_calls_through_syn_flood_and_half_open_handshakes(fl_streams):
    ctx = fl_streams
    lab = ctx.lab
    t_start = time.monotonic()

    def app(kind, i):
        ctx.next_port += 1
        ep = connect_app(lab, kind, APP4, ctx.next_port)
        ctx.apps.append(ep)
        return ep, Device("%s%s%d" % ("a" if i >= 0 else "s", kind.lower(), abs(i)))

    # The asleep apps and the one that never wakes register, then close
    # (asleep at once: the connection was their liveness); then the awake.
    asleep = [app(k, -1 - i) for i, k in enumerate(ASLEEP)]
    never_ep, never = app("TLS", -99)
    for ep, dev in asleep + [(never_ep, never)]:
        register_stream(ctx, ep, dev)
        ep.close()
        ctx.wait_state(dev, "asleep", 3.0)
    awake = [app(k, i) for i, k in enumerate(AWAKE)]
    for ep, dev in awake:
        register_stream(ctx, ep, dev)
    devs = [dev for _, dev in awake + asleep] + [never]
    bound0 = {dev.user: binding(lab, dev) for dev in devs}
    plan = calls_plan([dev for _, dev in awake], [dev for _, dev in asleep], never)
    mark = ctx.push.mark()
    phones = StreamPhones(ctx, awake, [(dev, k, NEW_IPS[i], mark)
                                       for i, (k, (_, dev)) in enumerate(zip(ASLEEP, asleep))])
    half = HalfOpen(lab.ns_peer)
    before, c0, tx0 = lab.stats(), conns(lab), veth_tx(lab)
    tcp0 = snmp(lab.peer, "Tcp")
    flood = Flood(lab, FLOOD_MIX, FLOOD_S, FLOOD_MAX, frames=32768, rate=flood_rate(),
                  extra=[a for p in (5060, 5061, 7443) for a in ("--syn-port", str(p))])
    phones.thread.start()
    half.thread.start()
    try:
        flood.start(warm_s=3.0)
        try:
            pbx = pbx_calls(lab, plan, CALL_RATE, os.path.join(lab.tmp, "calls.csv"))
            res = pbx.start().wait()
        finally:
            res_flood = flood.stop()
            half.stop.set()
            half.thread.join(HANDSHAKE_S + 10)
        # The last frames through the worker, the last closes counted.
        time.sleep(1.0)
    finally:
        phones.stop.set()
        phones.thread.join(10)
    after, c1, tx = lab.stats(), conns(lab), veth_tx(lab) - tx0
    tcp1 = snmp(lab.peer, "Tcp")
    bound1 = {dev.user: binding(lab, dev) for dev in devs}
    c = {k: after[k] - before.get(k, 0) for k in after if isinstance(after[k], int)}
    dc = {k: c1[k] - c0.get(k, 0) for k in c1 if isinstance(c1[k], int)}
    stats, rtt = sipp_stats(pbx.dir), rtt_ms(pbx.dir)
    sent, secs = res_flood["sent"], res_flood["seconds"]
    lost = tx - c["rx_packets"]
    peer_tcp = (tcp1["OutSegs"] - tcp0["OutSegs"]) + (tcp1["RetransSegs"] - tcp0["RetransSegs"])
    tcp_counted = sum(c.get(k, 0) for k in TCP_ENDS)
    halves = half.conns
    taken = [h for h in halves if h[2] is not None]
    summary = {
        "flood": res_flood, "junk_pps": res_flood["pps"], "syn_pps": sent["syn"] / secs,
        "legit_frames": tx - res_flood["frames"],
        "calls": {"attempted": CALLS, "rate": CALL_RATE,
                  "succeeded": int(stats.get("SuccessfulCall(C)", 0)),
                  "failed": int(stats.get("FailedCall(C)", 0)),
                  "woken": sorted(phones.woken), "connect_s": phones.connect_s},
        "setup_ms": {"n": len(rtt), "p50": pct(rtt, 50), "p90": pct(rtt, 90),
                     "p99": pct(rtt, 99), "max": rtt[-1] if rtt else None},
        "refreshes": {"sent": phones.refreshes, "answered": phones.refreshed},
        "half_open": {"opened": half.opened, "established": len(halves),
                      "closed_by_sipwake": len(taken), "connect_failed": half.connect_failed},
        "tcp": {"peer_segments": peer_tcp, "counted": tcp_counted,
                "syn_counted": tcp_counted - peer_tcp,
                "syn_challenged": c.get("drop_tcp_syn_challenged", 0),
                "proofs": c.get("tcp_syn_proofs", 0), "proven": c.get("tcp_syn_proven", 0)},
        "veth_frames": tx, "sipwake_rx": c["rx_packets"], "lost": lost,
        "counters": {k: v for k, v in c.items() if v},
        "conns": {k: v for k, v in dc.items() if v},
        "seconds_total": time.monotonic() - t_start,
    }
    write_json("test_flood_streams.json", summary)
    assert phones.err is None, phones.err
    assert half.err is None, half.err
    # Every call ended as planned, each 200 from the app called.
    assert res.ok, sippkit.explain(res, lab.read_log()[-3000:])
    assert summary["calls"]["succeeded"] == CALLS, summary
    pid = {int(cid.split("-", 1)[0]): user for cid, user in phones.answered.items()}
    for cid in phones.answered:
        assert cid in phones.byes, cid
    for n, (user, _, _, _, final) in enumerate(plan, 1):
        assert pid.get(n) == (user if final == 200 else None), (n, user, final, pid.get(n))
    assert sorted(phones.woken) == sorted(dev.user for _, dev in asleep), phones.woken
    assert phones.refreshed >= phones.refreshes - len(AWAKE), summary["refreshes"]
    # Junk at ten times the legitimate frames, at least (the half-open
    # handshakes' frames counted as legitimate here).
    assert res_flood["frames"] >= 10 * summary["legit_frames"], summary
    # No binding changed but the woken apps', theirs to the new connection.
    for dev in devs:
        if dev.user in phones.woken:
            assert bound1[dev.user]["source"].startswith(phones.woken[dev.user].ip), bound1
        else:
            assert bound1[dev.user] == bound0[dev.user], (dev.user, bound0, bound1)
    # Every junk frame accounted for: the datagrams by kind, the SYNs as
    # every TCP frame sipwake counted less what the peers' stacks sent.
    assert 0 <= lost <= 0.01 * res_flood["frames"], summary
    assert sent["syn"] - lost <= tcp_counted - peer_tcp <= sent["syn"], summary["tcp"]
    summary["accounting"] = account({k: sent[k] for k in KIND_COUNTERS}, c, KIND_COUNTERS, lost)
    write_json("test_flood_streams.json", summary)
    # The flood was past the box's SYN budget and was challenged; real
    # clients proved themselves and got in.
    assert summary["tcp"]["syn_challenged"] > 0 and summary["tcp"]["proofs"] > 0, summary["tcp"]
    assert summary["tcp"]["proven"] > 0, summary["tcp"]
    # Half-open handshakes: sipwake closed every one it took within
    # handshake_s (+ 1 s of timer and of this test's loop) or refused it at
    # once for its source; none outlived the bound.
    assert len(halves) >= len(HALF_IPS) * PER_SOURCE, summary["half_open"]
    for port, t0, t1, ip in halves:
        end = t1 if t1 is not None else time.monotonic()
        assert end - t0 <= HANDSHAKE_S + 1.0, (port, ip, end - t0)
    quick = [h for h in taken if h[2] - h[1] < HANDSHAKE_S - 0.5]
    slow = [h for h in taken if h[2] - h[1] >= HANDSHAKE_S - 0.5]
    assert conn_sum(dc, ["refused_source", "refused_total"], ("tls", "wss")) == len(quick), (
        len(quick), dc)
    assert conn_sum(dc, ["closed_handshake_timeout"], ("tls", "wss")) == len(slow), (
        len(slow), dc)
    # The streams' counters account for every connection the peers made:
    # the legitimate ones (awake apps still open, the woken apps' new ones)
    # and the half-open ones.
    legit = len(phones.woken)
    assert conn_sum(dc, ["accepted", "refused_source", "refused_total"]) == legit + len(halves), (
        legit, len(halves), dc)
    assert conn_sum(dc, ["closed_tls_failed", "closed_ws_failed"]) == 0, dc
