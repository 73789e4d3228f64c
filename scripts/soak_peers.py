# SPDX-License-Identifier: BSD-3-Clause
"""The soak's peers (scripts/soak.py): a PBX and thousands of phones on a
few hundred UDP sockets in the lab's peer namespace, driven by one event
loop, byte for byte as the wake-path tests' peers (tests/integration/
wakesip.py) write SIP.

- The PBX (198.18.0.5:5060) grants every REGISTER (200, the Contact with
  expires=EXPIRES_S), answers OPTIONS, places calls through sipwake, ACKs
  and hangs up answered ones, ACKs refused ones.
- A host is one app socket; several devices live behind it, as behind a
  NAT. An awake host answers pings and INVITEs; an asleep host never sends
  (a phone whose OS froze the app), so every device behind it is asleep to
  sipwake once its alive window has passed.
- A device refreshes its binding every EXPIRES_S / 2 from its host. A push
  for a sleeping device wakes it after a short delay: it registers again
  from an awake host (a new address and port) and takes the held call
  there. A few devices never wake: their calls must end 480.
- An awake device that gets a push anyway (sipwake lost a ping or its
  answer and took it for asleep) registers again at once from where it is,
  as an app in the foreground does; counted apart (pushed_awake).
- A device falls asleep (registers from an asleep host) as often as
  devices wake, so the share of sleepers stays put.
- Shares of the devices are phones over TLS, TCP and secure WebSocket
  (scripts/soak_streams.py): each its own connection, awake while it is
  open, asleep once closed, woken onto a new one; the rest of the above
  holds for them too.

Every call's outcome is checked against what the device's state says it
must be: 200 for an awake or waking device, 480 for one that never wakes,
within wake.timeout_s + 2 s; anything else, or no answer, is a failure.
"""
import os
import random
import re
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import soak_streams  # noqa: E402
from wakepeers import Device, in_netns  # noqa: E402
from wakesip import (APP4, DOMAIN, PBX4, SDP_APP, Call, Msg, build, registrar_ok,  # noqa: E402
                     reply)

EXPIRES_S = 1800
HOST_PORT0 = 30000  # app sockets from here up (sipp's media ports start at 6000)


def stream_kinds(n, shares):
    """Which of @n devices are on a stream: a list of "" (UDP) or the
    transport, each of @shares ({transport: share}) spread evenly over the
    indexes (so sleepers and never-waking devices, the lowest, have theirs)."""
    kinds = [""] * n
    for t, share in sorted(shares.items()):
        want, acc = int(n * share), 0.0
        for i in range(n):
            if want <= 0:
                break
            acc += share
            if acc >= 1 and not kinds[i]:
                kinds[i], acc, want = t, acc - 1, want - 1
    return kinds


class Host:
    """An app socket (UDP): a NAT binding several devices sit behind."""

    transport = "UDP"
    closed = False

    def __init__(self, ns, port, awake):
        with in_netns(ns):
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self.s.bind((APP4, port))
        self.s.setblocking(False)
        self.port, self.awake = port, awake
        self.last_tx = 0.0  # last datagram sent: proof of life to sipwake

    def send(self, text, dst):
        self.s.sendto(text.encode(), dst)
        self.last_tx = time.monotonic()

    def sent_by(self):
        return "%s:%d" % (APP4, self.port)

    def contact(self, d):
        return d.contact(APP4, self.port)

    def answer_contact(self, user):
        return "sip:%s@%s:%d" % (user, APP4, self.port)


class Dev(Device):
    """A phone: behind a UDP Host, or over a stream (@stream: "TLS", "TCP"
    or "WSS"; its host is its connection, a NoFlow until the first, closed
    while it sleeps)."""

    def __init__(self, n, host, never_wake, stream=""):
        super().__init__("soak%05d" % n)
        self.host, self.never_wake, self.stream = host, never_wake, stream
        self.sleep_once_bound = False  # a stream phone that starts asleep
        self.cseq, self.registered, self.busy = 0, False, False
        self.next_refresh = 0.0
        self.waking = 0.0  # when its wake REGISTER goes out (0: none due)


def first_hop(ok, edge):
    """Where the PBX sends the ACK and BYE of the dialog @ok set up: the
    first Route of its route set (the last Record-Route, RFC 3261
    §12.1.2), or @edge (the address the INVITE went to) without one."""
    rr = ok.all("Record-Route")
    m = re.search(r"sip:([0-9.]+)(?::(\d+))?", rr[-1]) if rr else None
    return (m.group(1), int(m.group(2) or 5060)) if m else (edge, 5060)


class PbxCall(Call):
    """Call with in-dialog branches of its own (Call's come from a class
    counter, shared by every call in flight)."""

    def in_dialog(self, method, ok, cseq):
        text = super().in_dialog(method, ok, cseq)
        return re.sub(r"branch=z9hG4bK-pbx%s-\d+" % method.lower(),
                      "branch=z9hG4bK-%s-%s" % (method.lower(), self.cid.split("@")[0]), text,
                      count=1)


class Peers:
    """@n devices on @hosts awake hosts and @sleep_hosts asleep ones;
    @asleep_share of the devices start asleep, @never_share of all never
    wake (they are among the sleepers); @streams: {"TLS": share, "TCP":
    share, "WSS": share}, those shares of the devices (spread evenly,
    sleepers and never-waking ones among them) are phones over that
    transport, each on its own connection (the edge's certificate trusted). @labs: the edges
    (one lab, or a cluster's edges on one peer namespace): device i is
    bound through edge i % len(@labs) at first and, woken, through any;
    the PBX places each call through any edge."""

    def __init__(self, labs, n, hosts, sleep_hosts, asleep_share, never_share, wake_timeout_s,
                 ping_interval_s, alive_window_s, streams=None, seed=1):
        self.labs = list(labs) if isinstance(labs, (list, tuple)) else [labs]
        self.lab, self.rnd = self.labs[0], random.Random(seed)  # .lab: the peer namespace's
        self.sel = selectors.DefaultSelector()
        with in_netns(self.lab.ns_peer):
            self.pbx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.pbx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self.pbx.bind((PBX4, 5060))
        self.pbx.setblocking(False)
        self.sel.register(self.pbx, selectors.EVENT_READ, None)
        self.awake_hosts = [self._host(HOST_PORT0 + i, True) for i in range(hosts)]
        self.sleep_hosts = [self._host(HOST_PORT0 + hosts + i, False)
                            for i in range(sleep_hosts)]
        n_asleep, n_never = int(n * asleep_share), int(n * never_share)
        kinds = stream_kinds(n, streams or {})
        self.devs, self.conns, self.ports = [], set(), soak_streams.Ports()
        self.ka_at = 0.0  # when _keepalives looks again
        for i in range(n):
            asleep = i < n_asleep
            if kinds[i]:
                d = Dev(i, soak_streams.NoFlow(kinds[i]), never_wake=i < n_never,
                        stream=kinds[i])
                d.sleep_once_bound = asleep
            else:
                hs = self.sleep_hosts if asleep else self.awake_hosts
                d = Dev(i, hs[i % len(hs)], never_wake=i < n_never)
            d.edge = i % len(self.labs)
            self.devs.append(d)
        self.by_token = {d.token: d for d in self.devs}
        self.by_user = {d.user: d for d in self.devs}
        self.calls = {}  # Call-ID -> [call, device, expected code, t0, state]
        # A sleeper must look asleep to sipwake: a ping unanswered, then
        # its alive window gone (docs/design.md §1.1, "Alive or asleep").
        self.settle_s = ping_interval_s + alive_window_s + 2
        self.call_deadline_s = wake_timeout_s + 2
        self.out = {"calls": 0, "answered": 0, "refused_480": 0, "failed": 0, "hung": 0,
                    "registers": 0, "register_ok": 0, "register_retx": 0,
                    "register_timeouts": 0, "invite_retx": 0, "pings": 0, "pushes": 0,
                    "pushed_awake": 0, "wakes": 0, "falls": 0, "stream_connects": 0,
                    "stream_connect_failed": 0, "stream_closed_by_edge": 0, "stream_calls": 0,
                    "stream_answered": 0, "stream_refused_480": 0, "stream_wakes": 0,
                    "failures": []}
        self.setup_ms = []  # this second's call set-up times (INVITE -> final)
        self.push_at = [0] * len(self.labs)  # each edge's pd_testsrv lines read
        self.waking = []  # devices pushed, their wake REGISTER not sent yet
        self.retx = {}  # user -> [next retransmission, interval, give up at]

    def _host(self, port, awake):
        h = Host(self.lab.ns_peer, port, awake)
        self.sel.register(h.s, selectors.EVENT_READ, h)
        return h

    def close(self):
        for h in self.awake_hosts + self.sleep_hosts:
            h.s.close()
        for h in list(self.conns):
            self.hang_up(h)
        self.pbx.close()

    def _note(self, why):
        if len(self.out["failures"]) < 50:
            self.out["failures"].append(why)

    # -- phones over streams (scripts/soak_streams.py) ----------------------
    def connect(self, d, awake):
        """A new connection for the stream phone @d, its host from now on;
        False (counted) when it cannot be made."""
        try:
            edge = self.labs[d.edge]
            h = soak_streams.stream_host(self.lab.ns_peer, d.stream, self.ports.next(),
                                         edge.cert, d, awake, edge.sw_ip4)
        except Exception as e:  # noqa: BLE001 (OSError, ssl, websockets, timeouts)
            self.out["stream_connect_failed"] += 1
            self._note("%s: connection not made: %s" % (d.user, e))
            return False
        self.out["stream_connects"] += 1
        d.host = h
        self.conns.add(h)
        self.sel.register(h.s, selectors.EVENT_READ, h)
        return True

    def hang_up(self, h):
        """The phone closes connection @h (it sleeps, or a background
        refresh is done)."""
        if h in self.conns:
            self.sel.unregister(h.s)
            self.conns.discard(h)
        h.close()

    def _flow_in(self, h):
        for m in h.read():
            self._app_in(h, m)
        if h.eof and not h.closed:
            # sipwake closed a flow the phone keeps: counted, and the phone
            # connects again and registers, as an app in the foreground does
            was_awake, d = h.awake, h.dev
            self.out["stream_closed_by_edge"] += 1
            self._note("%s: sipwake closed its connection from port %d" % (d.user, h.port))
            self.hang_up(h)
            if was_awake and d.host is h and self.connect(d, True):
                self.register(d)

    def open_flows(self, transport):
        """The phones' open connections over @transport."""
        return sum(1 for h in self.conns if h.transport == transport)

    def _keepalives(self, now):
        """A CRLF keepalive on each open connection whose time has come
        (looked at once a second)."""
        if now < self.ka_at:
            return
        self.ka_at = now + 1.0
        for h in list(self.conns):
            try:
                h.keepalive(now)
            except OSError:
                pass  # closed under it: its read says so

    # -- registration --------------------------------------------------------
    def register(self, d, host=None):
        if host is not None:
            d.host = host
        d.cseq += 1
        h = d.host
        h.send(build("REGISTER sip:%s SIP/2.0" % DOMAIN, [
            "Via: SIP/2.0/%s %s;branch=z9hG4bK-r%s-%d;rport"
            % (h.transport, h.sent_by(), d.user, d.cseq),
            "Max-Forwards: 70", "From: <sip:%s>;tag=r%s" % (d.aor, d.user),
            "To: <sip:%s>" % d.aor, "Call-ID: reg-%s@soak" % d.user,
            "CSeq: %d REGISTER" % d.cseq,
            'Contact: <%s>;+sip.instance="<urn:uuid:%s>";expires=%d'
            % (h.contact(d), d.instance, EXPIRES_S)]), (self.labs[d.edge].sw_ip4, 5060))
        d.next_refresh = time.monotonic() + EXPIRES_S / 2 + self.rnd.uniform(0, 30)
        d.registered = False
        self.out["registers"] += 1
        # RFC 3261 §17.1.2.2: again after T1, doubling up to T2, until 64*T1
        # (Timer F); over a stream only Timer F (§17.1.2.2: T1 on UDP alone)
        now = time.monotonic()
        first = 0.5 if h.transport == "UDP" else 32
        self.retx[d.user] = [now + first, first, now + 32]

    def refresh(self, d):
        """@d's REGISTER, the first or again: a stream phone without an open
        connection makes one, for good the first time (it sleeps once
        bound if it starts asleep), else for this REGISTER alone (a
        background refresh)."""
        if d.stream and d.host.closed:
            if not self.connect(d, awake=isinstance(d.host, soak_streams.NoFlow)):
                d.next_refresh = time.monotonic() + self.rnd.uniform(5, 15)
                return
        self.register(d)

    def _retransmit(self, now):
        for user, r in list(self.retx.items()):
            if now < r[0]:
                continue
            d = self.by_user[user]
            if now >= r[2]:
                del self.retx[user]
                d.next_refresh = now + self.rnd.uniform(5, 15)  # a UA tries again later
                self.out["register_timeouts"] += 1
                self._note("%s: REGISTER from port %d never answered" % (user, d.host.port))
                if d.stream and not d.host.awake:
                    self.hang_up(d.host)  # a background refresh given up
                continue
            d.cseq -= 1  # the same transaction (same CSeq) again
            t_end = r[2]
            self.register(d)
            self.out["registers"] -= 1
            self.out["register_retx"] += 1
            r2 = self.retx[user]
            r2[1], r2[2] = min(r[1] * 2, 4.0), t_end
            r2[0] = now + r2[1]
        for cid, rec in self.calls.items():
            if rec[4] == "sent" and now >= rec[5]:
                rec[6] = min(rec[6] * 2, 4.0)
                rec[5] = now + rec[6]
                self.pbx.sendto(rec[0].invite.encode(), (rec[0].edge, 5060))
                self.out["invite_retx"] += 1

    def _pbx_in(self, m):
        if m.method == "REGISTER":
            self.pbx.sendto(registrar_ok(m, EXPIRES_S).encode(), m.src)
        elif m.method == "OPTIONS":
            self.pbx.sendto(reply(m, 200, "OK").encode(), m.src)
        elif m.method is None:
            self._pbx_answer(m)

    # -- calls -------------------------------------------------------------
    def callable(self, now):
        """A device whose state sipwake must know by now, no call on it."""
        for _ in range(50):
            d = self.devs[self.rnd.randrange(len(self.devs))]
            if d.busy or not d.registered or d.waking:
                continue
            # a stream phone is asleep as soon as its connection has closed
            settle = 2.0 if d.stream else self.settle_s
            if d.host.awake or now - d.host.last_tx > settle:
                return d
        return None

    def call(self, now):
        d = self.callable(now)
        if d is None:
            return False
        c = PbxCall("sip:%s@%s" % (d.user, DOMAIN), d.user,
                    edge=self.labs[self.rnd.randrange(len(self.labs))].sw_ip4)
        want = 480 if (not d.host.awake and d.never_wake) else 200
        # Call-ID -> call, device, code wanted, sent at, state, next
        # retransmission, its interval (Timer A: until a provisional comes)
        self.calls[c.cid] = [c, d, want, now, "sent", now + 0.5, 0.5]
        d.busy = True
        self.pbx.sendto(c.invite.encode(), (c.edge, 5060))
        self.out["calls"] += 1
        if d.stream:
            self.out["stream_calls"] += 1
        return True

    def _pbx_answer(self, m):
        rec = self.calls.get(m.call_id)
        if rec is None or m.cseq[1] not in ("INVITE", "BYE"):
            return
        c, d, want, t0, state = rec[:5]
        if state == "sent":
            rec[4] = state = "proceeding"  # no more retransmissions
        if m.cseq[1] == "BYE":
            if m.status == 200:
                self._done(m.call_id)
            return
        if m.status < 200 or state not in ("proceeding",):
            return
        self.setup_ms.append((m.t - t0) * 1000)
        if m.status == 200:
            hop = first_hop(m, c.edge)  # the edge that reached the device
            self.pbx.sendto(c.in_dialog("ACK", m, 1).encode(), hop)
            self.pbx.sendto(c.in_dialog("BYE", m, 2).encode(), hop)
            rec[4] = "bye"
        else:
            self.pbx.sendto(c.ack_final(m).encode(), (c.edge, 5060))
        if m.status == want:
            k = "answered" if m.status == 200 else "refused_480"
            self.out[k] += 1
            if d.stream:
                self.out["stream_" + k] += 1
        else:
            self._fail("%s: %d, wanted %d (%s%s, over %s through edge %d, call %s via %s)" % (
                d.user, m.status, want, "awake" if d.host.awake else "asleep",
                ", never wakes" if d.never_wake else "", d.stream or "UDP", d.edge, c.cid,
                c.edge))
            self._evidence(d, c.cid)
        if m.status != 200:
            self._done(m.call_id)

    def _done(self, cid):
        rec = self.calls.pop(cid, None)
        if rec:
            rec[1].busy = False

    def _evidence(self, d, cid):
        """For the first failures: what every edge says of the call
        (/sipwake/trace) and of the device's AOR (/sipwake/bindings)."""
        ev = self.out.setdefault("failure_evidence", [])
        if len(ev) < 10:
            ev.append({"call": cid, "edges": [
                {"trace": e.telemetry("/sipwake/trace," + cid),
                 "binding": e.telemetry("/sipwake/bindings," + d.aor)} for e in self.labs]})

    def _fail(self, why):
        self.out["failed"] += 1
        self._note(why)

    def _app_in(self, h, m):
        if m.status >= 300 and m.cseq[1] == "REGISTER":
            # refused (503: sipwake's relay full, docs/design.md §1.1): the
            # phone tries again after a while, as a UA does on 503
            k = "register_%d" % m.status
            self.out[k] = self.out.get(k, 0) + 1
            r = self.retx.get(m.get("To", "").split("sip:")[1].split("@")[0])
            if r is not None:
                r[0], r[2] = time.monotonic() + self.rnd.uniform(1, 5), time.monotonic() + 40
            return
        if m.status == 200 and m.cseq[1] == "REGISTER":
            d = self.by_user.get(m.get("To", "").split("sip:")[1].split("@")[0])
            if d is not None:
                d.registered = True
                self.out["register_ok"] += 1
                self.retx.pop(d.user, None)
                if d.stream and (d.sleep_once_bound or not h.awake):
                    d.sleep_once_bound = False
                    self.hang_up(h)
            return
        if not h.awake:
            return  # a frozen app: nothing goes out
        if m.method == "OPTIONS":
            self.out["pings"] += 1
            h.send(reply(m, 200, "OK"), m.src)
        elif m.method == "INVITE":
            user = m.ruri.split(":")[1].split("@")[0]
            contact = h.answer_contact(user)
            h.send(reply(m, 180, "Ringing", tag="a" + user, contact=contact), m.src)
            h.send(reply(m, 200, "OK", tag="a" + user, contact=contact, body=SDP_APP), m.src)
        elif m.method == "BYE":
            h.send(reply(m, 200, "OK"), m.src)

    # -- pushes and wakes ----------------------------------------------------
    def _pushes(self, now):
        lines = []
        for i, e in enumerate(self.labs):
            with e.server._cv:
                new = e.server._lines[self.push_at[i]:]
                self.push_at[i] += len(new)
            lines += new
        for line in lines:
            if not line.startswith("REQ apns "):
                continue
            self.out["pushes"] += 1
            d = self.by_token.get(line.split(" ")[2])
            if d is None or d.never_wake or d.waking:
                continue
            if d.host.awake:
                # sipwake took it for asleep (a ping or its answer lost):
                # an app in the foreground registers again at once
                self.out["pushed_awake"] += 1
                d.waking = now + self.rnd.uniform(0.05, 0.2)
            else:
                d.waking = now + self.rnd.uniform(0.2, 1.0)  # the app takes its time
            self.waking.append(d)

    def _wakes_and_falls(self, now):
        due = [d for d in self.waking if now >= d.waking]
        if not due:
            return
        self.waking = [d for d in self.waking if now < d.waking]
        for d in due:
            if d.waking and d.host.awake:
                d.waking = 0.0
                self.register(d)
            elif d.waking:
                d.waking = 0.0
                d.edge = self.rnd.randrange(len(self.labs))  # woken, through any edge
                if not d.stream:
                    self.register(d, self.rnd.choice(self.awake_hosts))  # a new address
                elif self.connect(d, awake=True):  # a new connection
                    self.register(d)
                else:
                    continue  # its call fails: counted
                self.out["wakes"] += 1
                if d.stream:
                    self.out["stream_wakes"] += 1
                # another one falls asleep: the share of sleepers stays put
                o = self.devs[self.rnd.randrange(len(self.devs))]
                if o.host.awake and not o.busy and not o.never_wake and o.user not in self.retx:
                    if o.stream:
                        self.hang_up(o.host)  # its connection goes
                    else:
                        self.register(o, self.rnd.choice(self.sleep_hosts))
                    self.out["falls"] += 1

    # -- the loop --------------------------------------------------------------
    def pump(self, until):
        """Serve every socket until @until (monotonic); timers in between."""
        while True:
            now = time.monotonic()
            if now >= until:
                return
            for key, _ in self.sel.select(min(0.05, until - now)):
                s, h = key.fileobj, key.data
                if isinstance(h, soak_streams.StreamHost):
                    if not h.closed:  # not hung up by an earlier event
                        self._flow_in(h)
                    continue
                for _ in range(64):
                    try:
                        data, src = s.recvfrom(65535)
                    except BlockingIOError:
                        break
                    m = Msg(data, src[:2], time.monotonic())
                    if h is None:
                        self._pbx_in(m)
                    else:
                        self._app_in(h, m)
            now = time.monotonic()
            self._pushes(now)
            self._wakes_and_falls(now)
            self._retransmit(now)
            self._keepalives(now)

    def refresh_due(self, now, limit):
        """Up to @limit refreshes whose time has come."""
        k = 0
        for d in self.devs:
            if k >= limit:
                break
            if (now >= d.next_refresh and not d.waking and d.user not in self.retx
                    and not (d.stream and d.busy)):
                self.refresh(d)
                k += 1
        return k

    def expire_calls(self, now):
        for cid, rec in list(self.calls.items()):
            if now - rec[3] > self.call_deadline_s:
                self.out["hung"] += 1
                self._fail("%s: no final answer within %.0f s (%s)" % (
                    rec[1].user, self.call_deadline_s, rec[4]))
                self._done(cid)
