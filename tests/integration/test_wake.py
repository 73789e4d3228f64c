# SPDX-License-Identifier: BSD-3-Clause
"""The wake path (issue 6): a call to a sleeping app becomes one VoIP push,
then the held INVITE goes to wherever the app registers again, once; a call
nobody takes is answered within wake.timeout_s + 1 s; CANCEL, dead tokens,
several devices, retransmissions and shutdown leave nothing behind.

Real parts only: sipwake in the lab's namespaces (scripts/swlab.py), the
APNs test double build/tests/pushd/pd_testsrv inside the lab's sw namespace
(pushd reaches it through that namespace's kernel stack), byte-level SIP
peers for the PBX and the apps, and sipp for one whole call. The test's own
UDP sockets are opened inside the lab's peer namespace (setns on this
thread, then back), so one test reads the PBX, the apps and the push server
in the order things happen. Retransmissions and duplicates are the same
bytes sent again by the test. Every wait is bounded.

An app is "asleep" once it has not been heard from for bindings.alive_window_s
(2 s here; sipwake's own pings are off): a test binds its devices, waits that
out (lab.devices() says "asleep"), then calls. One lab per class (wake { }
differs); wake.timeout_s is 4 s everywhere.

The issue's "must not" list, and where each is tested (TestPing unless said):
  two INVITEs to one device for one call
      - challenge + retry, REGISTER retransmission, refresh:
        test_challenged_register_and_its_retry_are_one_wake
      - PBX INVITE retransmission while waiting and after the wake:
        test_invite_retransmissions_are_answered_and_never_pushed_again
      - woken while already ringing: TestParallel.test_device_ringing_on_its_...
  a push for every INVITE retransmission: test_invite_retransmissions_...
  a held INVITE released by a REGISTER the PBX did not accept:
        test_register_the_pbx_refuses_or_never_answers_releases_nothing
  a call unanswered past wake_timeout + 1 s:
        test_no_wake_is_answered_480_within_the_timeout_and_nothing_is_left,
        TestMaxHeld (16 at once), test_two_devices_one_wakes_... (no 480
        after a 200)
  a held INVITE lost or leaked after CANCEL, timeout or shutdown: the
        cancel tests, the timeout test, test_shutdown_answers_held_calls_503_first
        (every test also waits for /sipwake/held to come back)
"""
import contextlib
import ctypes
import hashlib
import os
import re
import select
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushsrv  # noqa: E402
import sippkit  # noqa: E402
import swlab  # noqa: E402

SW4, APP4, PBX4 = swlab.SW_IP4, swlab.PEER_IP4, swlab.PBX_IP4
DOMAIN = "example.com"
TEAM, BUNDLE, KID = "ABCD123456", "com.example", "KEY1234567"
PN_PARAM = "%s.%s.voip" % (TEAM, BUNDLE)  # RFC 8599 APNs: TeamID.BundleID.voip
PUSH_PORT = 8443  # pd_testsrv on 127.0.0.1 in the lab's sw namespace
TIMEOUT_S = 4  # wake.timeout_s of every lab here
ALIVE_WINDOW_S = 2

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)")


# -- network namespaces for the test's own sockets ---------------------------

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def in_netns(name):
    """Run the block on this thread inside network namespace @name (sockets
    made there stay there after the thread has come back)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
        yield
    finally:
        if _libc.setns(own, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(own)
        os.close(target)


# -- SIP messages ------------------------------------------------------------

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported"}


class Msg(str):
    """One received datagram, parsed just enough to check it. As a string it
    is the datagram with where and when it came from (what a failed assert
    shows in full)."""

    def __new__(cls, data, src, when):
        return str.__new__(cls, "--- from %s:%d at %.3f\n%s" % (
            src[0], src[1], when, data.decode(errors="replace")))

    def __init__(self, data, src, when):
        self.text = data.decode(errors="replace")
        self.src, self.t = src, when
        head, _, self.body = self.text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.hdrs = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.hdrs:  # folded line
                self.hdrs[-1] = (self.hdrs[-1][0], self.hdrs[-1][1] + " " + line.strip())
                continue
            k, _, v = line.partition(":")
            k = k.strip().lower()
            self.hdrs.append((COMPACT.get(k, k), v.strip()))
        m = re.match(r"SIP/2\.0 (\d{3})", self.start)
        self.status = int(m.group(1)) if m else 0
        self.method = None if m else self.start.split(" ", 1)[0]
        self.ruri = None if m else self.start.split(" ")[1]

    def all(self, name):
        """Every value of header @name; comma-separated Via / Record-Route /
        Route values split (no quoted commas in what these tests send)."""
        vals = [v for k, v in self.hdrs if k == name.lower()]
        if name.lower() in ("via", "record-route", "route"):
            vals = [p.strip() for v in vals for p in v.split(",")]
        return vals

    def get(self, name, default=None):
        v = self.all(name)
        return v[0] if v else default

    @property
    def call_id(self):
        return self.get("Call-ID")

    @property
    def cseq(self):
        n, _, meth = (self.get("CSeq") or "0 X").partition(" ")
        return int(n), meth.strip()

    def to_tag(self):
        m = re.search(r";\s*tag=([^;>\s]+)", self.get("To", ""))
        return m.group(1) if m else None

    def branch(self):
        m = re.search(r";\s*branch=([^;,\s]+)", self.get("Via", ""))
        return m.group(1) if m else None


def plain_via(v):
    """A Via value without the received / rport a server may stamp on it
    (RFC 3261 §18.2.1, RFC 3581)."""
    return re.sub(r";\s*(received=[^;,\s]*|rport(=\d*)?)", "", v)


def vias(m):
    return [plain_via(v) for v in m.all("Via")]


def build(start, headers, body=""):
    return "\r\n".join([start] + headers + ["Content-Length: %d" % len(body), "", body])


SDP_PBX = ("v=0\r\no=pbx 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (PBX4, PBX4))
SDP_APP = ("v=0\r\no=app 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
           "m=audio 42000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (APP4, APP4))


class Call:
    """The PBX's side of one call: the INVITE it sends through sipwake and
    the requests that belong to it (CANCEL, ACK, BYE), byte for byte as a
    PBX builds them (RFC 3261 §9.1, §17.1.1.3, §13.2.2.4)."""

    _n = 0

    def __init__(self, ruri, to_user, route=True, pbx_port=5060):
        Call._n += 1
        self.ruri, self.route = ruri, route
        self.cid = "wake-%d-%d@pbx.example.net" % (os.getpid(), Call._n)
        self.branch = "z9hG4bK-pbx%d-%d" % (os.getpid(), Call._n)
        self.via = "SIP/2.0/UDP %s:%d;branch=%s" % (PBX4, pbx_port, self.branch)
        self.frm = '"Caller" <sip:+15550001111@pbx.example.net>;tag=pbx%d' % Call._n
        self.to = "<sip:%s@%s>" % (to_user, DOMAIN)
        self.contact = "<sip:+15550001111@%s:%d>" % (PBX4, pbx_port)
        self.invite = build("INVITE %s SIP/2.0" % ruri, [
            "Via: " + self.via, "Max-Forwards: 70"] +
            (["Route: <sip:%s;lr>" % SW4] if route else []) + [
            "From: " + self.frm, "To: " + self.to, "Call-ID: " + self.cid,
            "CSeq: 1 INVITE", "Contact: " + self.contact, "Content-Type: application/sdp"],
            SDP_PBX)

    def cancel(self):
        """§9.1: same Request-URI, Call-ID, From, To (no tag), branch, Route."""
        return build("CANCEL %s SIP/2.0" % self.ruri, [
            "Via: " + self.via, "Max-Forwards: 70"] +
            (["Route: <sip:%s;lr>" % SW4] if self.route else []) + [
            "From: " + self.frm, "To: " + self.to, "Call-ID: " + self.cid,
            "CSeq: 1 CANCEL"])

    def ack_final(self, resp):
        """§17.1.1.3: the ACK for a non-2xx final answer, same branch."""
        return build("ACK %s SIP/2.0" % self.ruri, [
            "Via: " + self.via, "Max-Forwards: 70"] +
            (["Route: <sip:%s;lr>" % SW4] if self.route else []) + [
            "From: " + self.frm, "To: " + resp.get("To"), "Call-ID: " + self.cid,
            "CSeq: 1 ACK"])

    def in_dialog(self, method, ok, cseq):
        """ACK (for a 2xx) or BYE: to the 200's Contact along its
        Record-Route set (§12.1.2: the UAC uses it reversed)."""
        target = re.search(r"<([^>]+)>", ok.get("Contact")).group(1)
        routes = list(reversed(ok.all("Record-Route")))
        return build("%s %s SIP/2.0" % (method, target), [
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-pbx%s-%d" % (PBX4, method.lower(),
                                                                 Call._n * 100 + cseq),
            "Max-Forwards: 70"] + ["Route: " + r for r in routes] + [
            "From: " + self.frm, "To: " + ok.get("To"), "Call-ID: " + self.cid,
            "CSeq: %d %s" % (cseq, method)])


def reply(req, code, reason, tag=None, extra=(), body="", contact=None):
    """A UAS's response to @req (§8.2.6): Vias, From, To (+tag), Call-ID,
    CSeq; a dialog-creating one copies the Record-Route set (§12.1.1)."""
    to = req.get("To")
    if tag and ";tag=" not in to:
        to += ";tag=" + tag
    h = ["Via: " + v for v in req.all("Via")]
    if req.method == "INVITE" and code > 100 and code < 300:
        h += ["Record-Route: " + r for r in req.all("Record-Route")]
    h += ["From: " + req.get("From"), "To: " + to, "Call-ID: " + req.call_id,
          "CSeq: " + req.get("CSeq")]
    if contact:
        h.append("Contact: <%s>" % contact)
    if body:
        h.append("Content-Type: application/sdp")
    return build("SIP/2.0 %d %s" % (code, reason), h + list(extra), body)


# -- devices -----------------------------------------------------------------

def token_of(name):
    return hashlib.sha256(name.encode()).hexdigest()  # 64 hex digits, like APNs


def uuid_of(name):
    h = hashlib.md5(name.encode()).hexdigest()
    return "%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


def short(token):
    return token[:8] + "..." + token[-6:]  # how /sipwake/bindings shows a token


class Device:
    """One phone of @user: its +sip.instance and its APNs token."""

    def __init__(self, user, n=1):
        self.user, self.aor = user, "%s@%s" % (user, DOMAIN)
        self.instance = uuid_of("%s/%d" % (user, n))
        self.token = token_of("%s/%d" % (user, n))

    def contact(self, ip, port, pn=True):
        c = "sip:%s@%s:%d" % (self.user, ip, port)
        if pn:
            c += ";pn-provider=apns;pn-prid=%s;pn-param=%s" % (self.token, PN_PARAM)
        return c


# -- the test's UDP endpoints ------------------------------------------------

class Endpoint:
    """A UDP socket in a lab namespace. What arrives is kept until a test
    takes it (expect) or checks that nothing of a kind came (nothing);
    OPTIONS from sipwake (health checks, pings) are answered 200 and kept
    apart."""

    def __init__(self, ns, ip, port, name=None):
        with in_netns(ns):
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.bind((ip, port))
        self.ip, self.port, self.name = ip, port, name or "%s:%d" % (ip, port)
        self.inbox, self.taken, self.options = [], [], 0

    def close(self):
        self.s.close()

    def send(self, text, dst=SW4, port=5060):
        self.s.sendto(text.encode() if isinstance(text, str) else text, (dst, port))
        return text

    def _pump(self, until):
        while True:
            left = until - time.monotonic()
            r, _, _ = select.select([self.s], [], [], max(left, 0))
            if not r:
                return
            data, src = self.s.recvfrom(65535)
            m = Msg(data, src[:2], time.monotonic())
            if m.method == "OPTIONS":
                self.options += 1
                self.s.sendto(reply(m, 200, "OK").encode(), src)
                continue
            self.inbox.append(m)

    def expect(self, pred, timeout=3.0, what="a message"):
        """The first message (in arrival order) matching @pred, waiting up
        to @timeout s; fails the test with what did arrive otherwise."""
        end = time.monotonic() + timeout
        while True:
            for m in self.inbox:
                if pred(m):
                    self.inbox.remove(m)
                    self.taken.append(m)
                    return m
            if time.monotonic() >= end:
                raise AssertionError("%s: no %s within %.1f s; unclaimed:\n%s" % (
                    self.name, what, timeout, "\n".join(self.inbox)))
            self._pump(min(end, time.monotonic() + 0.05))

    def nothing(self, pred=lambda m: True, timeout=1.0, what="message"):
        """Fail if a message matching @pred arrives within @timeout s (or is
        already waiting)."""
        end = time.monotonic() + timeout
        while True:
            hits = [m for m in self.inbox if pred(m)]
            assert not hits, "%s: unexpected %s:\n%s" % (self.name, what, "\n".join(hits))
            if time.monotonic() >= end:
                return
            self._pump(min(end, time.monotonic() + 0.05))

    def collect(self, pred, timeout):
        """Every message matching @pred within @timeout s (taken)."""
        self._pump(time.monotonic() + timeout)
        hits = [m for m in self.inbox if pred(m)]
        for m in hits:
            self.inbox.remove(m)
        self.taken += hits
        return hits

    def drain(self):
        self._pump(time.monotonic())
        self.inbox.clear()


def is_req(method, cid=None):
    return lambda m: m.method == method and (cid is None or m.call_id == cid)


def is_resp(code, cid=None, meth=None):
    return lambda m: (m.status == code and (cid is None or m.call_id == cid)
                      and (meth is None or m.cseq[1] == meth))


def of_call(cid):
    return lambda m: m.call_id == cid


# -- the APNs test double ----------------------------------------------------

class Pushes:
    """The pushes pushsrv.PushServer (pd_testsrv in the lab's sw namespace)
    has seen, read the way these tests ask: every push for a token since a
    mark taken before the call, as parsed REQ events (dicts with status,
    type, topic, prio, ...)."""

    def __init__(self, server):
        self.server = server

    def cmd(self, line):
        return self.server.cmd(line)

    def mark(self):
        return len(self.server.reqs())

    def reqs(self, token, kind="voip", start=0):
        """Pushes for @token (of push type @kind; None: any) since @start."""
        return [e for e in self.server.reqs()[start:] if e["token"] == token
                and (kind is None or e.get("type") == kind)]

    def wait_req(self, token, kind="voip", start=0, timeout=3.0, n=1):
        """The @n-th push of type @kind for @token since @start, waiting up
        to @timeout s; fails the test if it does not come."""
        end = time.monotonic() + timeout
        while True:
            evs = self.reqs(token, kind, start)
            if len(evs) >= n:
                return evs[n - 1]
            assert time.monotonic() < end, "no %s push #%d for %s within %.1f s; pushes: %s" % (
                kind, n, short(token), timeout, [e["line"] for e in self.server.reqs()[start:]])
            time.sleep(0.02)


# -- the lab -----------------------------------------------------------------

class WakeLab(swlab.Lab):
    """A swlab.Lab whose sipwake pushes to a pd_testsrv running in the lab's
    sw namespace, with a wake { } group of its own."""

    def __init__(self, name, wake):
        self.server = None
        super().__init__(name=name,
                         pbx_extra="check_interval_s = 3600; timeout_ms = 1000;",
                         bindings_extra="ping_interval_s = 0; alive_window_s = %d;"
                         % ALIVE_WINDOW_S)
        self.server = pushsrv.PushServer(self, port=PUSH_PORT, team=TEAM, key_id=KID,
                                         bundle=BUNDLE)
        self.push = Pushes(self.server)
        self.config_extra = self.server.config() + "\nwake: { timeout_s = %d; %s };" % (
            TIMEOUT_S, wake)

    def start(self, timeout=30):
        if self.server.proc is None:
            self.server.start()
        super().start(timeout)
        # pushd connects at start: the first push must not wait for TLS.
        self.server.wait_conn()

    def down(self):
        if self.server is not None:
            self.server.stop()
        super().down()

    def held(self):
        return self.telemetry("/sipwake/held")


class Ctx:
    """What a test of one lab works with: the lab, its push server, the PBX
    (a byte-level peer on 198.18.0.5:5060, pbx.servers), fresh app ports."""

    def __init__(self, lab):
        self.lab, self.push = lab, lab.push
        self.pbx = Endpoint(lab.ns_peer, PBX4, 5060, "pbx")
        self.next_port = 6000
        self.apps = []

    def app(self, ip=APP4, ns=None):
        self.next_port += 1
        ep = Endpoint(ns or self.lab.ns_peer, ip, self.next_port, "app:%d" % self.next_port)
        self.apps.append(ep)
        return ep

    def close(self):
        for a in self.apps:
            a.close()
        self.pbx.close()

    @contextlib.contextmanager
    def pbx_port_free(self):
        """198.18.0.5:5060 free for a sipp PBX while the block runs."""
        self.pbx.close()
        try:
            yield
        finally:
            self.pbx = Endpoint(self.lab.ns_peer, PBX4, 5060, "pbx")

    # -- registration ------------------------------------------------------
    def send_register(self, app, dev, cseq=1, cid=None, auth=False, contact=None):
        """@dev's REGISTER from @app (its push address in the Contact);
        returns the bytes sent, for a test that sends them again."""
        contact = contact or dev.contact(app.ip, app.port)
        text = build("REGISTER sip:%s SIP/2.0" % DOMAIN, [
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-reg-%d-%d;rport" % (app.ip, app.port,
                                                                       app.port, cseq),
            "Max-Forwards: 70",
            "From: <sip:%s>;tag=reg%d" % (dev.aor, app.port),
            "To: <sip:%s>" % dev.aor,
            "Call-ID: %s" % (cid or "reg-%s-%d@app" % (dev.instance[:8], app.port)),
            "CSeq: %d REGISTER" % cseq,
            'Contact: <%s>;+sip.instance="<urn:uuid:%s>";expires=3600'
            % (contact, dev.instance)] +
            (['Authorization: Digest username="%s", realm="%s", nonce="n1", uri="sip:%s", '
              'response="00000000000000000000000000000000"' % (dev.user, DOMAIN, DOMAIN)]
             if auth else []))
        app.send(text)
        return text

    def pbx_answer_register(self, dev, app, code=200, timeout=3.0):
        """The PBX takes the next REGISTER of @dev from @app and answers
        @code; 200 grants 3600 s to the contact it lists (RFC 3261 §10.3)."""
        where = "@%s:%d" % (app.ip, app.port)
        req = self.pbx.expect(lambda m: m.method == "REGISTER" and dev.instance
                              in (m.get("Contact") or "") and where in m.get("Contact"),
                              timeout, "REGISTER of %s from %s" % (dev.aor, app.name))
        extra = []
        if code == 200:
            extra = ["Contact: " + re.sub(r";expires=\d+", "", c) + ";expires=3600"
                     for c in req.all("Contact")]
        elif code == 401:
            extra = ['WWW-Authenticate: Digest realm="%s", nonce="n1"' % DOMAIN]
        self.pbx.send(reply(req, code, {200: "OK", 401: "Unauthorized", 403: "Forbidden"}
                            .get(code, "Refused"), tag="pbxreg", extra=extra), *req.src)
        return req

    def register(self, app, dev, cseq=1, cid=None):
        """A whole accepted REGISTER of @dev from @app; returns the app's 200."""
        self.send_register(app, dev, cseq=cseq, cid=cid)
        self.pbx_answer_register(dev, app, 200)
        return app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0,
                          "200 to the REGISTER")

    def wait_state(self, dev, state, timeout=ALIVE_WINDOW_S + 3.0):
        """/sipwake/bindings shows @dev "alive" or "asleep" within @timeout s."""
        end = time.monotonic() + timeout
        while True:
            ds = [d for d in self.lab.devices(dev.aor)
                  if d.get("instance") == "<urn:uuid:%s>" % dev.instance]
            if ds and ds[0].get("state") == state:
                return ds[0]
            assert time.monotonic() < end, "%s never %s: %s" % (dev.aor, state, ds)
            time.sleep(0.1)

    def asleep(self, *pairs):
        """Bind each (app, device) pair, then wait until every one is asleep."""
        for app, dev in pairs:
            self.register(app, dev)
        for _, dev in pairs:
            self.wait_state(dev, "asleep")


class Delta:
    """Counters and held calls before/after a test's call: only what the
    call itself caused (a failed test before may have left a call held)."""

    def __init__(self, lab):
        self.lab, self.before = lab, lab.stats()
        self.held0 = lab.held()["held"]

    def wait_held(self, n, timeout=3.0):
        """/sipwake/held (refreshed by the control plane's 100 ms tick)
        comes to @n more held calls than before within @timeout s."""
        end = time.monotonic() + timeout
        while True:
            h = self.lab.held()
            if h["held"] == self.held0 + n:
                return h
            assert time.monotonic() < end, "held calls: %s, expected %d + %d" % (
                h, self.held0, n)
            time.sleep(0.05)

    def no_held(self, timeout=3.0):
        return self.wait_held(0, timeout)

    def __call__(self):
        after = self.lab.stats()
        return {k: after[k] - self.before.get(k, 0) for k in after if isinstance(after[k], int)}

    def wake(self):
        return {k: v for k, v in self().items() if k.startswith("wake_") and v}


def lab_fixture(tag, wake):
    """A class-scoped fixture: a WakeLab with wake { @wake } and its Ctx;
    sipwake must exit 0 at the end (unless a test stopped it itself)."""
    @pytest.fixture(scope="class")
    def fx():
        with WakeLab("wk%s%d" % (tag, os.getpid() % 10000), wake) as lab:
            ctx = Ctx(lab)
            try:
                yield ctx
            finally:
                ctx.close()
            if lab.proc is not None:  # the shutdown test stops it itself
                assert lab.stop() == 0, lab.read_log()[-4000:]
    return fx


ping_lab = lab_fixture("a", 'policy = "ping"; provisional = "none"; '
                            'cancelled_call = "invite-cancel";')
alert_lab = lab_fixture("b", 'policy = "ping"; provisional = "180"; cancelled_call = "alert";')
held_lab = lab_fixture("e", 'policy = "ping"; provisional = "180"; max_held = 16;')
always_lab = lab_fixture("c", 'policy = "always-push"; provisional = "110";')
parallel_lab = lab_fixture("d", 'policy = "parallel";')


# -- steps shared by the tests -----------------------------------------------

def rr_ours(r):
    """sipwake's Record-Route: its address, lr, and the device id in swd=
    (parameters in any order)."""
    m = re.match(r"^<sip:198\.18\.0\.1:5060((;[^;>]+)+)>$", r)
    params = m.group(1).split(";")[1:] if m else []
    return "lr" in params and any(re.match(r"swd=[0-9a-f]+$", p) for p in params)


def call_in(ctx, call, timeout=0.5):
    """The PBX sends @call's INVITE; sipwake answers 100 Trying at once,
    without a To-tag (RFC 3261 §16.2: no dialog yet). Returns the 100."""
    t0 = time.monotonic()
    ctx.pbx.send(call.invite)
    trying = ctx.pbx.expect(is_resp(100, call.cid), timeout, "100 Trying at once")
    assert trying.to_tag() is None, trying
    assert vias(trying) == [call.via], trying
    assert trying.t - t0 < timeout
    return trying


def check_forwarded(inv, call, app, dev):
    """@inv is @call's held INVITE as sipwake hands it to @dev at @app."""
    assert inv.src == (SW4, 5060), inv
    # The new contact, push parameters taken out (RFC 8599 §4.1.2).
    assert inv.ruri == dev.contact(app.ip, app.port, pn=False), inv
    vs = vias(inv)
    assert len(vs) == 2 and vs[1] == call.via, inv
    assert re.match(r"SIP/2\.0/UDP 198\.18\.0\.1:5060;branch=z9hG4bK-swCi", vs[0]), inv
    rr = inv.all("Record-Route")
    assert len(rr) == 1 and rr_ours(rr[0]), inv
    assert inv.get("Max-Forwards") == "69", inv
    assert not [r for r in inv.all("Route") if SW4 in r], inv  # ours is taken off
    assert inv.cseq == (1, "INVITE") and inv.get("From") == call.frm, inv
    assert inv.body == SDP_PBX, inv


def app_contact(app, inv):
    return "sip:%s@%s:%d" % (inv.ruri.split(":")[1].split("@")[0], app.ip, app.port)


def ring(ctx, app, inv, call, tag="app1"):
    """The app rings: its 180 reaches the PBX with sipwake's Via gone."""
    app.send(reply(inv, 180, "Ringing", tag=tag, contact=app_contact(app, inv)))
    ringing = ctx.pbx.expect(is_resp(180, call.cid), 2.0, "the app's 180")
    assert vias(ringing) == [call.via] and ringing.to_tag() == tag, ringing
    return ringing


def answer(ctx, app, inv, call, tag="app1"):
    """The app answers: its 200 reaches the PBX, Record-Routed, our Via gone."""
    app.send(reply(inv, 200, "OK", tag=tag, contact=app_contact(app, inv), body=SDP_APP))
    ok = ctx.pbx.expect(is_resp(200, call.cid, "INVITE"), 2.0, "the app's 200")
    assert vias(ok) == [call.via] and ok.to_tag() == tag, ok
    assert ok.body == SDP_APP, ok
    assert [r for r in ok.all("Record-Route") if rr_ours(r)], ok
    return ok


def hang_up(ctx, app, call, ok):
    """The PBX ACKs the 200 and hangs up along the Record-Route: both reach
    the app (through sipwake, by the device id in ;swd=), the BYE's 200
    comes back."""
    ctx.pbx.send(call.in_dialog("ACK", ok, 1))
    app.expect(is_req("ACK", call.cid), 2.0, "the PBX's ACK")
    ctx.pbx.send(call.in_dialog("BYE", ok, 2))
    bye = app.expect(is_req("BYE", call.cid), 2.0, "the PBX's BYE")
    app.send(reply(bye, 200, "OK"))
    ctx.pbx.expect(is_resp(200, call.cid, "BYE"), 2.0, "200 to the BYE")


def ring_and_answer(ctx, app, inv, call, tag="app1"):
    ring(ctx, app, inv, call, tag)
    ok = answer(ctx, app, inv, call, tag)
    hang_up(ctx, app, call, ok)
    return ok


def final_of(cid):
    return lambda m: m.call_id == cid and m.status >= 200 and m.cseq[1] == "INVITE"

def cancel_before_wake(ctx, name):
    """An asleep device, a held call the PBX cancels (200 to the CANCEL,
    487 to the INVITE, the 487's ACK absorbed), then the device wakes from a
    new port. Returns (device, call, new endpoint, Delta, push mark)."""
    dev, old = Device(name), ctx.app()
    ctx.asleep((old, dev))
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(old.ip, old.port), dev.user)
    call_in(ctx, call)
    ctx.push.wait_req(dev.token, start=mark)
    ctx.pbx.send(call.cancel())
    ok = ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
    assert vias(ok) == [call.via], ok
    r487 = ctx.pbx.expect(final_of(call.cid), 1.0, "487 to the INVITE")
    assert r487.status == 487 and r487.to_tag(), r487
    ctx.pbx.send(call.ack_final(r487))
    ctx.pbx.nothing(of_call(call.cid), 0.3, "answer to the ACK")
    old.nothing(timeout=0)
    return dev, call, d, mark

@contextlib.contextmanager

def far_namespace(lab):
    """A third namespace, 198.19.8.2, one routed hop behind the peer (which
    is sipwake's gateway4): an app that woke up on another network."""
    ns, a, b = lab.name + "-far", lab.name[:11] + "f", lab.name[:11] + "g"
    swlab.run(["ip", "netns", "del", ns], check=False)
    try:
        swlab.run(["ip", "netns", "add", ns])
        swlab.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        swlab.run(["ip", "link", "set", a, "netns", lab.ns_peer])
        swlab.run(["ip", "link", "set", b, "netns", ns])
        lab.peer(["ip", "addr", "add", "198.19.8.1/24", "dev", a])
        lab.peer(["ip", "link", "set", a, "up"])
        lab.peer(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        lab.peer(["ethtool", "-K", a, "tx", "off"])
        far = ["ip", "netns", "exec", ns]
        swlab.run(far + ["ip", "link", "set", "lo", "up"])
        swlab.run(far + ["ip", "addr", "add", "198.19.8.2/24", "dev", b])
        swlab.run(far + ["ip", "link", "set", b, "up"])
        swlab.run(far + ["ip", "route", "add", "default", "via", "198.19.8.1"])
        swlab.run(far + ["ethtool", "-K", b, "tx", "off"])
        yield ns, "198.19.8.2"
    finally:
        swlab.run(["ip", "netns", "del", ns], check=False)


# -- policy "ping": the wake path itself ---------------------------------------

class TestPing:
    """wake.policy "ping", no extra provisional, cancelled_call "invite-cancel"."""

    def test_asleep_app_gets_one_push_and_the_call_on_its_new_port(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("alice"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        # The PBX calls the contact as registered (pn-* kept, RFC 8599 §5.3) via
        # sipwake's Path.
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ev = ctx.push.wait_req(dev.token, start=mark)
        assert ev["status"] == 200 and ev["topic"] == BUNDLE + ".voip", ev
        assert ev["prio"] == "10" and '"call_id":"%s"' % call.cid in ev["body"], ev
        held = d.wait_held(1, 1.0)
        assert held["oldest_age_ms"] > 0, held
        old.nothing(timeout=0.3)  # asleep: nothing goes to the old contact
        # The app wakes and registers from a new port: the INVITE waits for the
        # PBX's 200, then goes there.
        new = ctx.app()
        ctx.send_register(new, dev, cid="reg-after-push@app")
        reg = ctx.pbx.expect(is_req("REGISTER"), 2.0, "the REGISTER relayed")
        new.nothing(is_req("INVITE"), 0.3, "INVITE before the PBX accepted the REGISTER")
        ctx.pbx.inbox.insert(0, reg)
        ctx.pbx_answer_register(dev, new, 200)
        new.expect(is_resp(200, meth="REGISTER"), 2.0, "200 to the REGISTER")
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring_and_answer(ctx, new, inv, call)
        old.nothing(timeout=0.1)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        for k in ("wake_calls", "wake_pushes", "wake_branches", "wake_woken", "wake_answered"):
            assert w.get(k) == 1, (k, w)
        assert not w.get("wake_timed_out") and not w.get("wake_retransmissions"), w

    def test_held_telemetry_counts_ages_and_latencies(self, ping_lab):
        """/sipwake/held: the held count, the oldest one's age, and the wake
        latencies (push sent -> REGISTER accepted, INVITE in -> INVITE out)
        as percentiles that cover what the test measured itself."""
        ctx = ping_lab
        dev, old = Device("theo"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        before = ctx.lab.held()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        t_in = time.monotonic()
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        t_push = time.monotonic()  # the push reached the server: it was sent before
        d.wait_held(1, 1.0)
        time.sleep(1.2)  # the app takes its time to wake
        h = ctx.lab.held()
        assert 1000 <= h["oldest_age_ms"] <= (time.monotonic() - t_in) * 1000 + 200, h
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        t_out = inv.t
        ring_and_answer(ctx, new, inv, call)
        d.no_held()
        after = ctx.lab.held()
        p2r, i2d = after["push_to_register"], after["invite_to_device"]
        assert p2r["samples"] == before["push_to_register"]["samples"] + 1, after
        assert i2d["samples"] == before["invite_to_device"]["samples"] + 1, after
        # Fewer than 100 samples in this lab: p99 is the largest one's bucket
        # (upper bounds, buckets ~19 % wide), so it covers this call's.
        assert p2r["samples"] < 100
        assert p2r["p99_us"] >= (t_out - t_push) * 1e6 * 0.95, (after, t_out - t_push)
        assert i2d["p99_us"] >= (t_out - t_in) * 1e6 * 0.95, (after, t_out - t_in)
        assert i2d["p50_us"] <= i2d["p90_us"] <= i2d["p99_us"], after

    def test_invite_retransmissions_are_answered_and_never_pushed_again(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("bert"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        # The PBX did not see the 100 in time (as far as the test says): the
        # same bytes again, three times. Each is answered, none is pushed.
        for _ in range(3):
            time.sleep(0.15)
            ctx.pbx.send(call.invite)
            ctx.pbx.expect(is_resp(100, call.cid), 1.0, "100 again for a retransmission")
        ctx.push.wait_req(dev.token, start=mark)
        time.sleep(0.5)
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1, ctx.push.reqs(dev.token, None, mark)
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring(ctx, new, inv, call)
        # Still retransmitting after the wake: answered with what the PBX has
        # had so far, never a second INVITE to the device, never a push.
        for _ in range(2):
            ctx.pbx.send(call.invite)
            time.sleep(0.1)
        new.nothing(is_req("INVITE"), 1.0, "second INVITE")
        answers = ctx.pbx.collect(lambda m: m.call_id == call.cid and m.cseq[1] == "INVITE", 0)
        assert [r.status for r in answers] in ([100, 100], [180, 180]), answers
        old.nothing(timeout=0)
        ok = answer(ctx, new, inv, call)
        hang_up(ctx, new, call, ok)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_retransmissions") == 5, w
        assert w.get("wake_pushes") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_calls") == 1, w

    def test_challenged_register_and_its_retry_are_one_wake(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("carl"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        new, cid = ctx.app(), "reg-carl-woken@app"
        ctx.send_register(new, dev, cseq=1, cid=cid)
        ctx.pbx_answer_register(dev, new, 401)
        new.expect(is_resp(401, meth="REGISTER"), 2.0, "the challenge")
        new.nothing(is_req("INVITE"), 0.5, "INVITE on a challenged REGISTER")
        retry = ctx.send_register(new, dev, cseq=2, cid=cid, auth=True)
        ctx.pbx_answer_register(dev, new, 200)
        new.expect(is_resp(200, meth="REGISTER"), 2.0, "200 to the retry")
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring(ctx, new, inv, call)
        # The retry again, byte for byte (its 200 was lost), then a refresh
        # from the same socket: neither brings the INVITE a second time.
        new.send(retry)
        for req in ctx.pbx.collect(is_req("REGISTER"), 0.5):  # relayed again: the PBX says 200
            ctx.pbx.send(reply(req, 200, "OK", tag="pbxreg", extra=[
                re.sub(r";expires=\d+", "", "Contact: " + req.get("Contact")) + ";expires=3600"]),
                *req.src)
        ctx.send_register(new, dev, cseq=3, cid=cid)
        ctx.pbx_answer_register(dev, new, 200)
        new.expect(lambda m: m.status == 200 and m.cseq == (3, "REGISTER"), 2.0,
                   "200 to the refresh")
        new.nothing(is_req("INVITE"), 1.0, "second INVITE")
        ok = answer(ctx, new, inv, call)
        hang_up(ctx, new, call, ok)
        d.no_held()
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_answered") == 1, w

    def test_register_the_pbx_refuses_or_never_answers_releases_nothing(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("dora"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        # Someone who knows the push address (the same instance and token)
        # registers from elsewhere; the PBX refuses: the call stays held.
        spoof = ctx.app(ip=swlab.GW_IP4)
        ctx.send_register(spoof, dev)
        ctx.pbx_answer_register(dev, spoof, 403)
        spoof.expect(is_resp(403, meth="REGISTER"), 2.0, "the refusal")
        spoof.nothing(is_req("INVITE"), 0.3, "INVITE after a refused REGISTER")
        # A REGISTER the PBX never answers (pbx.timeout_ms = 1 s: 408 from sipwake).
        silent = ctx.app()
        ctx.send_register(silent, dev)
        ctx.pbx.expect(is_req("REGISTER"), 2.0, "the REGISTER nobody answers")
        silent.expect(is_resp(408, meth="REGISTER"), 3.0, "408 from sipwake")
        silent.nothing(is_req("INVITE"), 0.2, "INVITE after an unanswered REGISTER")
        ctx.pbx.collect(is_req("REGISTER"), 0)  # its retransmissions, if any
        old.nothing(timeout=0)
        d.wait_held(1, 0.5)
        devs = ctx.lab.devices(dev.aor)
        assert [x["source"] for x in devs] == ["%s:%d" % (old.ip, old.port)], devs
        # The real app then: the INVITE was still held. It is busy.
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        spoof.nothing(timeout=0)
        silent.nothing(is_req("INVITE"), 0)
        new.send(reply(inv, 486, "Busy Here", tag="busy"))
        busy = ctx.pbx.expect(final_of(call.cid), 2.0, "the app's answer")
        assert busy.status == 486 and vias(busy) == [call.via], busy
        # sipwake's client transaction ACKs the 486 itself (§17.1.1.3) ...
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 486")
        assert ack.branch() == inv.branch(), ack
        # ... and absorbs the PBX's ACK for the 486 it relayed.
        ctx.pbx.send(call.ack_final(busy))
        new.nothing(is_req("ACK"), 0.5, "the PBX's ACK forwarded")
        d.no_held()
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_failed") == 1 and not w.get("wake_answered"), w

    def test_no_wake_is_answered_480_within_the_timeout_and_nothing_is_left(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("emil"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        # To the AOR this time, without a Route (a PBX that routes by outbound proxy).
        call = Call("sip:%s" % dev.aor, dev.user, route=False)
        t0 = time.monotonic()
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        r = ctx.pbx.expect(final_of(call.cid), TIMEOUT_S + 2.0, "the final answer")
        assert r.status == 480 and r.to_tag(), r
        assert TIMEOUT_S - 0.05 <= r.t - t0 <= TIMEOUT_S + 1.0, r.t - t0
        # A retransmission now gets the 480 again (§17.2.1); the ACK is absorbed.
        ctx.pbx.send(call.invite)
        again = ctx.pbx.expect(lambda m: m.call_id == call.cid and m.cseq[1] == "INVITE", 1.0,
                               "an answer to the late retransmission")
        assert again.status == 480 and again.to_tag() == r.to_tag(), again
        ctx.pbx.send(call.ack_final(r))
        ctx.pbx.nothing(of_call(call.cid), 0.5, "answer to the ACK")
        old.nothing(timeout=0)
        d.no_held()
        # Waking up late finds no call.
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("INVITE"), 1.0, "INVITE after the 480")
        w = d.wake()
        assert w.get("wake_timed_out") == 1 and w.get("wake_pushes") == 1, w
        assert not w.get("wake_branches") and not w.get("wake_woken"), w

    def test_dead_token_is_answered_480_at_once_and_its_push_address_removed(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("fay"), ctx.app()
        ctx.asleep((old, dev))
        assert ctx.lab.devices(dev.aor)[0]["push_prid"] == short(dev.token)
        ctx.push.cmd("set %s 410" % dev.token)
        try:
            d, mark = Delta(ctx.lab), ctx.push.mark()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            t0 = time.monotonic()
            call_in(ctx, call)
            assert ctx.push.wait_req(dev.token, start=mark)["status"] == 410
            r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
            assert r.status == 480 and r.t - t0 < 2.0, (r, r.t - t0)
            ctx.pbx.send(call.ack_final(r))
            ctx.pbx.nothing(of_call(call.cid), 0.3)
            devs = ctx.lab.devices(dev.aor)
            assert not [x for x in devs if x.get("push_prid") == short(dev.token)], devs
            d.no_held()
            w = d.wake()
            assert w.get("wake_dead_tokens") == 1 and w.get("wake_rejected") == 1, w
            assert not w.get("wake_timed_out"), w
            # The next call has nobody to push: 480 at once, the dead token is
            # never pushed again.
            mark = ctx.push.mark()
            call2 = Call("sip:%s" % dev.aor, dev.user)
            ctx.pbx.send(call2.invite)
            r = ctx.pbx.expect(final_of(call2.cid), 1.5, "480 for a device without push")
            assert r.status == 480, r
            ctx.pbx.send(call2.ack_final(r))
            time.sleep(0.3)
            assert ctx.push.reqs(dev.token, None, mark) == []
        finally:
            ctx.push.cmd("clear")

    def test_bad_device_token_is_answered_480_at_once(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("gwen"), ctx.app()
        ctx.asleep((old, dev))
        ctx.push.cmd("set %s 400 BadDeviceToken" % dev.token)
        try:
            d, mark = Delta(ctx.lab), ctx.push.mark()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            t0 = time.monotonic()
            call_in(ctx, call)
            ev = ctx.push.wait_req(dev.token, start=mark)
            assert ev["status"] == 400, ev
            r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
            assert r.status == 480 and r.t - t0 < 2.0, (r, r.t - t0)
            ctx.pbx.send(call.ack_final(r))
            ctx.pbx.nothing(of_call(call.cid), 0.3)
            d.no_held()
            time.sleep(0.3)
            assert len(ctx.push.reqs(dev.token, None, mark)) == 1  # a 400 is not retried
            w = d.wake()
            assert w.get("wake_rejected") == 1 and not w.get("wake_timed_out"), w
        finally:
            ctx.push.cmd("clear")

    def test_push_throttled_429_then_200_still_wakes(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("hugo"), ctx.app()
        ctx.asleep((old, dev))
        ctx.push.cmd("once %s 429 1" % dev.token)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        first = ctx.push.wait_req(dev.token, start=mark)
        assert first["status"] == 429, first
        second = ctx.push.wait_req(dev.token, start=mark, timeout=3.0, n=2)
        assert second["status"] == 200, second
        ctx.pbx.nothing(final_of(call.cid), 0)
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring_and_answer(ctx, new, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 2  # one push, two attempts
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
        assert w.get("wake_answered") == 1 and not w.get("wake_rejected"), w

    def test_cancel_before_wake_then_the_woken_app_gets_invite_and_cancel(self, ping_lab):
        ctx = ping_lab
        dev, call, d, mark = cancel_before_wake(ctx, "ines")
        new = ctx.app()
        ctx.register(new, dev)
        # iOS must see the call it was pushed for, then see it end (CallKit).
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the cancelled call's INVITE")
        check_forwarded(inv, call, new, dev)
        new.nothing(is_req("CANCEL"), 0.3, "CANCEL before a provisional (§9.1)")
        new.send(reply(inv, 180, "Ringing", tag="late"))
        can = new.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL")
        assert can.get("Reason"), can
        assert can.branch() == inv.branch() and can.ruri == inv.ruri, can
        assert can.cseq == (1, "CANCEL"), can
        new.send(reply(can, 200, "OK"))
        new.send(reply(inv, 487, "Request Terminated", tag="late"))
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        assert ack.branch() == inv.branch(), ack
        ctx.pbx.nothing(of_call(call.cid), 1.0, "anything of the cancelled call")
        d.no_held()
        w = d.wake()
        assert w.get("wake_cancelled") == 1 and w.get("wake_late_cancels") == 1, w
        assert not w.get("wake_answered") and not w.get("wake_alerts"), w

    def test_cancelled_call_answered_anyway_is_hung_up_by_sipwake(self, ping_lab):
        ctx = ping_lab
        dev, call, d, mark = cancel_before_wake(ctx, "jack")
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the cancelled call's INVITE")
        new.send(reply(inv, 180, "Ringing", tag="late"))
        can = new.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL")
        # The user picked up as the CANCEL crossed: the 200 never becomes a call.
        new.send(reply(inv, 200, "OK", tag="late", contact=app_contact(new, inv), body=SDP_APP))
        new.send(reply(can, 200, "OK"))
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 200")
        bye = new.expect(is_req("BYE", call.cid), 2.0, "BYE from sipwake")
        assert ack.ruri == app_contact(new, inv) and bye.ruri == app_contact(new, inv), (ack, bye)
        new.send(reply(bye, 200, "OK"))
        ctx.pbx.nothing(of_call(call.cid), 1.0, "anything of the cancelled call")
        d.no_held()
        w = d.wake()
        assert w.get("wake_cancelled") == 1 and not w.get("wake_answered"), w

    def test_two_devices_one_wakes_the_call_goes_on_without_the_other(self, ping_lab):
        ctx = ping_lab
        d1, d2, o1, o2 = Device("kim", 1), Device("kim", 2), ctx.app(), ctx.app()
        ctx.asleep((o1, d1), (o2, d2))
        assert len(ctx.lab.devices(d1.aor)) == 2
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % d1.aor, d1.user, route=False)
        t0 = time.monotonic()
        call_in(ctx, call)
        ctx.push.wait_req(d1.token, start=mark)
        ctx.push.wait_req(d2.token, start=mark)
        n1 = ctx.app()
        ctx.register(n1, d1)
        inv = n1.expect(is_req("INVITE", call.cid), 2.0, "the INVITE to the woken phone")
        check_forwarded(inv, call, n1, d1)
        ring_and_answer(ctx, n1, inv, call)
        # The other phone never wakes: no 480 (or anything) after the 200, not
        # even once the wake timeout has passed.
        ctx.pbx.nothing(of_call(call.cid), max(0.5, t0 + TIMEOUT_S + 1.2 - time.monotonic()),
                        "answer after the call was taken")
        o1.nothing(timeout=0)
        o2.nothing(timeout=0)
        d.no_held()
        assert len(ctx.push.reqs(d1.token, None, mark)) == 1
        assert len(ctx.push.reqs(d2.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 2 and w.get("wake_woken") == 1, w
        assert w.get("wake_branches") == 1 and w.get("wake_answered") == 1, w
        assert not w.get("wake_timed_out"), w

    def test_two_devices_both_wake_the_one_not_answering_gets_cancel(self, ping_lab):
        ctx = ping_lab
        d1, d2, o1, o2 = Device("lou", 1), Device("lou", 2), ctx.app(), ctx.app()
        ctx.asleep((o1, d1), (o2, d2))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % d1.aor, d1.user)
        call_in(ctx, call)
        ctx.push.wait_req(d1.token, start=mark)
        ctx.push.wait_req(d2.token, start=mark)
        n1, n2 = ctx.app(), ctx.app()
        ctx.register(n1, d1)
        inv1 = n1.expect(is_req("INVITE", call.cid), 2.0, "INVITE to the first phone")
        ring(ctx, n1, inv1, call, tag="one")
        ctx.register(n2, d2)
        inv2 = n2.expect(is_req("INVITE", call.cid), 2.0, "INVITE to the second phone")
        check_forwarded(inv2, call, n2, d2)
        assert inv1.branch() != inv2.branch()
        ring(ctx, n2, inv2, call, tag="two")
        ok = answer(ctx, n1, inv1, call, tag="one")
        can = n2.expect(is_req("CANCEL", call.cid), 2.0, "CANCEL to the other phone")
        assert can.get("Reason") == 'SIP;cause=200;text="Call completed elsewhere"', can
        assert can.branch() == inv2.branch(), can
        n2.send(reply(can, 200, "OK"))
        n2.send(reply(inv2, 487, "Request Terminated", tag="two"))
        n2.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        hang_up(ctx, n1, call, ok)
        ctx.pbx.nothing(of_call(call.cid), 0.5, "the 487 or a second answer")
        n1.nothing(is_req("CANCEL"), 0)
        d.no_held()
        w = d.wake()
        assert w.get("wake_woken") == 2 and w.get("wake_branches") == 2, w
        assert w.get("wake_answered") == 1 and w.get("wake_pushes") == 2, w

    def test_alive_and_asleep_devices_of_one_aor(self, ping_lab):
        ctx = ping_lab
        d1, d2, o1, o2 = Device("max", 1), Device("max", 2), ctx.app(), ctx.app()
        ctx.asleep((o1, d1))
        ctx.register(o2, d2)  # just now: alive
        assert ctx.wait_state(d2, "alive", 0.5)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % d1.aor, d1.user)
        call_in(ctx, call)
        # The alive phone gets the call at once, the asleep one a push.
        inv = o2.expect(is_req("INVITE", call.cid), 0.5, "INVITE to the alive phone at once")
        check_forwarded(inv, call, o2, d2)
        ctx.push.wait_req(d1.token, start=mark)
        ring_and_answer(ctx, o2, inv, call)
        o1.nothing(timeout=0)
        d.no_held()
        assert ctx.push.reqs(d2.token, None, mark) == []
        assert len(ctx.push.reqs(d1.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_answered") == 1, w

    def test_alive_app_gets_the_call_from_the_worker_and_no_push(self, ping_lab):
        ctx = ping_lab
        dev, app = Device("nina"), ctx.app()
        ctx.register(app, dev)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(app.ip, app.port), dev.user)
        ctx.pbx.send(call.invite)
        inv = app.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
        # The worker's own stateless branch, not the control plane's.
        assert re.match(r"SIP/2\.0/UDP 198\.18\.0\.1:5060;branch=z9hG4bK-swS", inv.get("Via")), inv
        assert inv.ruri == dev.contact(app.ip, app.port, pn=False), inv
        ring_and_answer(ctx, app, inv, call)
        time.sleep(0.3)
        assert ctx.push.reqs(dev.token, None, mark) == []
        assert d.wake() == {}, d.wake()
        st = d()
        assert st["fwd_requests_to_device"] >= 3, st

    def test_woken_app_on_a_new_ip_in_another_namespace(self, ping_lab):
        ctx = ping_lab
        with far_namespace(ctx.lab) as (ns, ip):
            dev, old = Device("olga"), ctx.app()
            ctx.asleep((old, dev))
            d, mark = Delta(ctx.lab), ctx.push.mark()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            call_in(ctx, call)
            ctx.push.wait_req(dev.token, start=mark)
            new = ctx.app(ip=ip, ns=ns)
            ctx.register(new, dev)
            inv = new.expect(is_req("INVITE", call.cid), 2.0, "the INVITE on the new network")
            check_forwarded(inv, call, new, dev)
            ring_and_answer(ctx, new, inv, call)
            old.nothing(timeout=0)
            d.no_held()
            assert ctx.lab.devices(dev.aor)[0]["source"] == "%s:%d" % (ip, new.port)
            w = d.wake()
            assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w

    def test_sipp_pbx_calls_a_sleeping_sipp_app_that_wakes_on_a_new_port(self, ping_lab):
        """The whole call with sipp on both ends and as the registrar: the
        app registers (challenged) and sleeps; sipp's PBX calls it; when the
        push is recorded the test hands the app its "push" (a MESSAGE to
        sipp on the new port), which registers from there (challenged
        again) and takes the call (tests/integration/sipp/README.md)."""
        ctx = ping_lab
        dev, lab = Device("sippy"), ctx.lab
        sets = {"token": dev.token, "pn_param": PN_PARAM, "domain": DOMAIN,
                "instance": "urn:uuid:" + dev.instance}
        creds = ["-au", dev.user, "-ap", "secret"]
        old_port, new_port = ctx.next_port + 1, ctx.next_port + 2
        ctx.next_port += 2
        with ctx.pbx_port_free():
            registrar = sippkit.lab_sipp(lab, "pbx_registrar.xml", PBX4, 5060, calls=2,
                                         timeout=40).start()
            try:
                first = sippkit.lab_run_sipp(lab, "app_register.xml", APP4, old_port,
                                             remote=SW4, service=dev.user, timeout=15,
                                             sets=sets, extra=creds + ["-recv_timeout", "5000"])
                assert first.ok, first
                ctx.wait_state(dev, "asleep")
                d, mark = Delta(lab), ctx.push.mark()
                app = sippkit.lab_sipp(lab, "app_wake_uas.xml", APP4, new_port, calls=2,
                                       service=dev.user, timeout=30, sets=dict(sets, edge_host=SW4),
                                       extra=creds).start()
                caller = sippkit.lab_sipp(lab, "pbx_call_uac.xml", PBX4, 5062, remote=SW4,
                                          service=dev.user, timeout=30,
                                          sets={"ruri": dev.contact(APP4, old_port),
                                                "domain": DOMAIN},
                                          extra=["-d", "300"]).start()
                try:
                    ctx.push.wait_req(dev.token, start=mark, timeout=5)
                    pusher = ctx.app()
                    pusher.send(build("MESSAGE sip:%s@%s:%d SIP/2.0" % (dev.user, APP4, new_port), [
                        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-push-%d" % (APP4, pusher.port,
                                                                            pusher.port),
                        "Max-Forwards: 70", "From: <sip:apns@push.test>;tag=push",
                        "To: <sip:%s>" % dev.aor, "Call-ID: push-%d@test" % pusher.port,
                        "CSeq: 1 MESSAGE"]), APP4, new_port)
                    pusher.expect(is_resp(200), 3.0, "the app took its push")
                    res_caller, res_app = caller.wait(30), app.wait(30)
                finally:
                    caller.stop()
                    app.stop()
                assert res_caller.ok and res_app.ok, (res_caller, res_app, lab.read_log()[-3000:])
            finally:
                res_reg = registrar.stop() if registrar.result is None else registrar.result
        assert res_reg.ok, res_reg
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w
        assert w.get("wake_branches") == 1 and w.get("wake_pushes") == 1, w

    def test_shutdown_answers_held_calls_503_first(self, ping_lab):
        """Last in this class: it stops the lab's sipwake."""
        ctx = ping_lab
        dev, old = Device("zoe"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        d.wait_held(1, 1.0)
        rc = ctx.lab.stop()
        r = ctx.pbx.expect(final_of(call.cid), 1.0, "503 on shutdown")
        assert r.status == 503 and r.to_tag() and vias(r) == [call.via], r
        assert rc == 0, ctx.lab.read_log()[-3000:]
        assert "held call(s) answered 503" in ctx.lab.read_log()


# -- provisional "180", cancelled_call "alert" -----------------------------------

class TestRingingAndAlert:
    """wake.provisional "180" and cancelled_call "alert" (policy "ping")."""

    def test_ringing_from_sipwake_once_the_push_is_sent(self, alert_lab):
        ctx = alert_lab
        dev, old = Device("rita"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        trying = call_in(ctx, call)
        ringing = ctx.pbx.expect(is_resp(180, call.cid), 2.0, "180 from sipwake")
        assert ringing.to_tag() and vias(ringing) == [call.via], ringing
        assert trying.t <= ringing.t
        ctx.push.wait_req(dev.token, start=mark, timeout=1.0)
        # A retransmission now gets the latest answer, the 180.
        ctx.pbx.send(call.invite)
        again = ctx.pbx.expect(lambda m: m.call_id == call.cid and m.cseq[1] == "INVITE", 1.0,
                               "an answer to the retransmission")
        assert again.status == 180 and again.to_tag() == ringing.to_tag(), again
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring_and_answer(ctx, new, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w

    def test_cancel_before_wake_sends_a_missed_call_alert_and_no_invite(self, alert_lab):
        ctx = alert_lab
        dev, old = Device("sven"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.pbx.expect(is_resp(180, call.cid), 2.0, "180 from sipwake")
        ctx.push.wait_req(dev.token, start=mark)
        ctx.pbx.send(call.cancel())
        ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
        r487 = ctx.pbx.expect(final_of(call.cid), 1.0, "487 to the INVITE")
        assert r487.status == 487, r487
        ctx.pbx.send(call.ack_final(r487))
        # A missed-call notice (an alert push: iOS shows it, no CallKit call).
        alert = ctx.push.wait_req(dev.token, kind="alert", start=mark, timeout=3.0)
        assert alert["topic"] == BUNDLE and alert["status"] == 200, alert
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("INVITE"), 1.5, "INVITE of a cancelled call")
        ctx.pbx.nothing(of_call(call.cid), 0)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, "voip", mark)) == 1
        assert len(ctx.push.reqs(dev.token, "alert", mark)) == 1
        w = d.wake()
        assert w.get("wake_alerts") == 1 and w.get("wake_cancelled") == 1, w
        assert not w.get("wake_late_cancels") and not w.get("wake_branches"), w


# -- wake.max_held ----------------------------------------------------------------

class TestMaxHeld:
    """wake.max_held = 16 (the smallest the config takes)."""

    def test_calls_past_max_held_get_503_and_the_held_ones_all_end(self, held_lab):
        """wake.max_held = 16 here: the 17th held call is refused at once;
        every one of the 16 is answered 480 at the timeout, none stays.
        A lab of its own: calls that ended linger in the same table for
        32 s (Timer H / J, absorbing ACKs and retransmissions) and count
        against max_held, so the table must start empty and is full of
        them afterwards."""
        ctx = held_lab
        dev, old = Device("walt"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        assert ctx.lab.held()["transactions"] == 0, ctx.lab.held()
        calls = [Call(dev.contact(old.ip, old.port), dev.user) for _ in range(17)]
        t0 = time.monotonic()
        for c in calls[:16]:
            call_in(ctx, c)
        d.wait_held(16, 1.0)
        ctx.pbx.send(calls[16].invite)
        r = ctx.pbx.expect(final_of(calls[16].cid), 1.0, "503 past max_held")
        assert r.status == 503, r
        ctx.pbx.send(calls[16].ack_final(r))
        for c in calls[:16]:
            r = ctx.pbx.expect(final_of(c.cid), max(0.5, t0 + TIMEOUT_S + 1.0 - time.monotonic()),
                               "480 for every held call")
            assert r.status == 480, r
            ctx.pbx.send(c.ack_final(r))
        d.no_held()
        assert len(ctx.push.reqs(dev.token, "voip", mark)) == 16
        w = d.wake()
        assert w.get("wake_calls") == 16 and w.get("wake_timed_out") == 16, w
        assert d().get("drop_wake_held_full") == 1, d()


# -- policy "always-push", provisional "110" --------------------------------------

class TestAlwaysPush:
    """wake.policy "always-push": even an alive device is pushed and gets the
    call only after its REGISTER is accepted; provisional "110"."""

    def test_alive_device_is_pushed_and_called_after_its_register(self, always_lab):
        ctx = always_lab
        dev, app = Device("tara"), ctx.app()
        ctx.register(app, dev)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(app.ip, app.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        sent = ctx.pbx.expect(is_resp(110, call.cid), 2.0, "110 Push sent")
        assert vias(sent) == [call.via], sent
        app.nothing(is_req("INVITE"), 1.0, "INVITE before the REGISTER")
        # The app (alive, same socket) registers as the push tells it to.
        ctx.register(app, dev, cseq=2)
        inv = app.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, app, dev)
        ring_and_answer(ctx, app, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
        assert w.get("wake_answered") == 1, w


# -- policy "parallel" -----------------------------------------------------------

class TestParallel:
    """wake.policy "parallel": the last contact gets the INVITE at once and
    the device a push, at the same time."""

    def test_last_contact_called_and_pushed_at_once(self, parallel_lab):
        ctx = parallel_lab
        dev, old = Device("uma"), ctx.app()
        ctx.asleep((old, dev))  # asleep: under "ping" it would only be pushed
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        inv = old.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
        check_forwarded(inv, call, old, dev)
        ctx.push.wait_req(dev.token, start=mark, timeout=1.0)
        ring_and_answer(ctx, old, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_answered") == 1, w

    def test_device_ringing_on_its_last_contact_gets_no_second_invite(self, parallel_lab):
        ctx = parallel_lab
        dev, old = Device("vera"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        inv = old.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
        ctx.push.wait_req(dev.token, start=mark, timeout=1.0)
        ring(ctx, old, inv, call)
        # The push woke the app too, which registers from a new socket: it
        # already rings, so it gets no second INVITE.
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("INVITE"), 1.0, "second INVITE")
        # The caller gives up: the CANCEL goes where the INVITE went (§9.1).
        ctx.pbx.send(call.cancel())
        ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
        can = old.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL")
        assert can.branch() == inv.branch(), can
        old.send(reply(can, 200, "OK"))
        old.send(reply(inv, 487, "Request Terminated", tag="app1"))
        old.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        r487 = ctx.pbx.expect(final_of(call.cid), 2.0, "487 to the INVITE")
        assert r487.status == 487, r487
        ctx.pbx.send(call.ack_final(r487))
        new.nothing(timeout=0.3)
        d.no_held()
        w = d.wake()
        assert w.get("wake_branches") == 1 and w.get("wake_cancelled") == 1, w
