# SPDX-License-Identifier: BSD-3-Clause
"""What the wake-path tests (test_wake.py, test_wake_devices.py,
test_wake_policies.py and others) share: the lab (sipwake with the APNs test
double in its namespace), the push server's view, what a test of one lab
works with (Ctx: the PBX, fresh apps, registration), counter deltas, and the
steps of a call (ring, answer, hang up, cancel before wake). The same for
several edges is wakecluster.py's. The SIP messages are wakesip.py's and the
peers wakepeers.py's; both are re-exported here, so `from wakekit import ...`
gives all of it."""
import contextlib
import os
import re
import sqlite3
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushsrv  # noqa: E402
import sippkit  # noqa: E402,F401 (re-exported)
import swlab  # noqa: E402
from wakepeers import (BUNDLE, CLONE_NEWNET, KID, PN_PARAM, TEAM, Device, Linphone,  # noqa: E402,F401,E501
                       Endpoint, far_namespace, in_netns, is_req, is_resp, of_call, short, token_of, uuid_of)
from wakesip import (APP4, APP6, COMPACT, DOMAIN, PBX4, PBX6, SDP_APP, SDP_PBX, SW4,  # noqa: E402,F401,E501
                     SW6, Call, Msg, build, host, plain_via, registrar_ok, reply, vias)

PUSH_PORT = 8443  # pd_testsrv on 127.0.0.1 in the lab's sw namespace
TIMEOUT_S = 4  # wake.timeout_s of every lab here
ALIVE_WINDOW_S = 2

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)")
# wake { } of test_wake.py's and test_wake_devices.py's labs.
PING_WAKE = 'policy = "ping"; provisional = "none"; cancelled_call = "invite-cancel";'


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
    sw namespace, with a wake { } group of its own; no pings unless
    @ping_interval_s says how often."""

    def __init__(self, name, wake, ping_interval_s=0, **lab_kw):
        self.server = None
        super().__init__(name=name,
                         pbx_extra="check_interval_s = 3600; timeout_ms = 1000;",
                         bindings_extra="ping_interval_s = %d; alive_window_s = %d;"
                         % (ping_interval_s, ALIVE_WINDOW_S), **lab_kw)
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
    (a byte-level peer on 198.18.0.5:5060, pbx.servers), fresh app ports.
    @v6: all over IPv6 (PBX6, APP6, SW6; the lab's pbx.servers must say
    PBX6); the addresses in .pbx_ip, .app_ip, .sw_ip."""

    def __init__(self, lab, v6=False):
        self.lab, self.push = lab, lab.push
        self.pbx_ip, self.app_ip, self.sw_ip = (PBX6, APP6, SW6) if v6 else (PBX4, APP4, SW4)
        self.pbx = Endpoint(lab.ns_peer, self.pbx_ip, 5060, "pbx", self.sw_ip)
        # Well away from 6000: sipp binds its media sockets from 6000 up to
        # the first free ports, which must never be the next app's.
        self.next_port = 20000
        self.apps = []

    def app(self, ip=None, ns=None, to=None):
        """A fresh app at @ip (a new port; default .app_ip), sending to @to
        (default sipwake, .sw_ip)."""
        self.next_port += 1
        ep = Endpoint(ns or self.lab.ns_peer, ip or self.app_ip, self.next_port,
                      "app:%d" % self.next_port, to or self.sw_ip)
        self.apps.append(ep)
        return ep

    def close(self):
        for a in self.apps:
            a.close()
        self.pbx.close()

    @contextlib.contextmanager
    def pbx_port_free(self):
        """The PBX's port (.pbx_ip:5060) free for a sipp PBX while the block runs."""
        self.pbx.close()
        try:
            yield
        finally:
            self.pbx = Endpoint(self.lab.ns_peer, self.pbx_ip, 5060, "pbx", self.sw_ip)

    # -- registration ------------------------------------------------------
    def send_register(self, app, dev, cseq=1, cid=None, auth=False, contact=None, extra=()):
        """@dev's REGISTER from @app (its push address in the Contact, or
        in the header lines @extra); returns the bytes sent, for a test
        that sends them again."""
        contact = contact or dev.contact(app.ip, app.port)
        extra = list(extra) or list(getattr(dev, "headers", ()))  # X-Push and the like
        text = build("REGISTER sip:%s SIP/2.0" % DOMAIN, [
            "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-reg-%d-%d;rport"
            % (getattr(app, "transport", "UDP"), host(app.ip), app.port, app.port, cseq),
            "Max-Forwards: 70",
            "From: <sip:%s>;tag=reg%d" % (dev.aor, app.port),
            "To: <sip:%s>" % dev.aor,
            "Call-ID: %s" % (cid or "reg-%s-%d@app" % (dev.instance[:8], app.port)),
            "CSeq: %d REGISTER" % cseq,
            'Contact: <%s>;+sip.instance="<urn:uuid:%s>";expires=3600'
            % (contact, dev.instance)] +
            (['Authorization: Digest username="%s", realm="%s", nonce="n1", uri="sip:%s", '
              'response="00000000000000000000000000000000"' % (dev.user, DOMAIN, DOMAIN)]
             if auth else []) + extra)
        app.send(text)
        return text

    def pbx_answer_register(self, dev, app, code=200, timeout=3.0):
        """The PBX takes the next REGISTER of @dev from @app and answers
        @code; 200 grants 3600 s to the contact it lists (RFC 3261 §10.3)."""
        where = "@%s:%d" % (host(app.ip), app.port)
        req = self.pbx.expect(lambda m: m.method == "REGISTER" and dev.instance
                              in (m.get("Contact") or "") and where in m.get("Contact"),
                              timeout, "REGISTER of %s from %s" % (dev.aor, app.name))
        if code == 200:
            self.pbx.send(registrar_ok(req), *req.src)
            return req
        extra = ['WWW-Authenticate: Digest realm="%s", nonce="n1"' % DOMAIN] if code == 401 else []
        self.pbx.send(reply(req, code, {401: "Unauthorized", 403: "Forbidden"}
                            .get(code, "Refused"), tag="pbxreg", extra=extra), *req.src)
        return req

    def register(self, app, dev, cseq=1, cid=None, contact=None, extra=()):
        """A whole accepted REGISTER of @dev from @app; returns the app's 200."""
        self.send_register(app, dev, cseq=cseq, cid=cid, contact=contact, extra=extra)
        self.pbx_answer_register(dev, app, 200)
        return app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0,
                          "200 to the REGISTER")

    def wait_state(self, dev, state, timeout=ALIVE_WINDOW_S + 3.0, lab=None):
        """/sipwake/bindings (of @lab: default this Ctx's) shows @dev
        "alive" or "asleep" within @timeout s."""
        end = time.monotonic() + timeout
        while True:
            ds = [d for d in (lab or self.lab).devices(dev.aor)
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


def serve_lab(lab, v6=False):
    """What a fixture yields for @lab (not started yet): its Ctx (@v6: over
    IPv6) while the tests run; then the peers close and sipwake must exit 0
    (unless a test stopped it itself). Use as `yield from serve_lab(lab)`."""
    with lab:
        ctx = Ctx(lab, v6)
        try:
            yield ctx
        finally:
            ctx.close()
        if lab.proc is not None:  # the shutdown test stops it itself
            assert lab.stop() == 0, lab.read_log()[-4000:]


def lab_fixture(tag, wake):
    """A class-scoped fixture: a WakeLab with wake { @wake } and its Ctx."""
    @pytest.fixture(scope="class")
    def fx():
        yield from serve_lab(WakeLab("wk%s%d" % (tag, os.getpid() % 10000), wake))
    return fx


# -- steps shared by the tests -----------------------------------------------

def rr_ours(r, ip=SW4):
    """sipwake's Record-Route: its address (@ip: an edge's in a cluster),
    lr, and the device id in swd= (parameters in any order)."""
    m = re.match(r"^<sip:%s:5060((;[^;>]+)+)>$" % re.escape(host(ip)), r)
    params = m.group(1).split(";")[1:] if m else []
    return "lr" in params and any(re.match(r"swd=[0-9a-f]+$", p) for p in params)


def call_in(ctx, call, timeout=0.5):
    """The PBX sends @call's INVITE; sipwake answers 100 Trying at once,
    without a To-tag (RFC 3261 §16.2: no dialog yet). Returns the 100."""
    t0 = time.monotonic()
    ctx.pbx.send(call.invite, call.edge)
    trying = ctx.pbx.expect(is_resp(100, call.cid), timeout, "100 Trying at once")
    assert trying.to_tag() is None, trying
    assert vias(trying) == [call.via], trying
    assert trying.t - t0 < timeout
    return trying


def check_forwarded(inv, call, app, dev):
    """@inv is @call's held INVITE as sipwake (call.edge) hands it to @dev
    at @app."""
    assert inv.src == (call.edge, 5060), inv
    # The new contact, push parameters taken out (RFC 8599 §4.1.2).
    assert inv.ruri == dev.contact(app.ip, app.port, pn=False), inv
    vs = vias(inv)
    assert len(vs) == 2 and vs[1] == call.via, inv
    assert re.match(r"SIP/2\.0/UDP %s:5060;branch=z9hG4bK-swCi" % re.escape(host(call.edge)),
                    vs[0]), inv
    rr = inv.all("Record-Route")
    assert len(rr) == 1 and rr_ours(rr[0], call.edge), inv
    assert inv.get("Max-Forwards") == "69", inv
    assert not [r for r in inv.all("Route") if call.edge in r], inv  # ours is taken off
    assert inv.cseq == (1, "INVITE") and inv.get("From") == call.frm, inv
    assert inv.body == SDP_PBX, inv


def app_contact(app, inv):
    return "sip:%s@%s:%d" % (inv.ruri.split(":")[1].split("@")[0], host(app.ip), app.port)


def ring(ctx, app, inv, call, tag="app1"):
    """The app rings: its 180 reaches the PBX with sipwake's Via gone. (The
    app answers where the INVITE came from: in a cluster, the edge that
    sent it.)"""
    app.send(reply(inv, 180, "Ringing", tag=tag, contact=app_contact(app, inv)), *inv.src)
    ringing = ctx.pbx.expect(is_resp(180, call.cid), 2.0, "the app's 180")
    assert vias(ringing) == [call.via] and ringing.to_tag() == tag, ringing
    return ringing


def answer(ctx, app, inv, call, tag="app1"):
    """The app answers: its 200 reaches the PBX, Record-Routed, our Via gone."""
    app.send(reply(inv, 200, "OK", tag=tag, contact=app_contact(app, inv), body=SDP_APP),
             *inv.src)
    ok = ctx.pbx.expect(is_resp(200, call.cid, "INVITE"), 2.0, "the app's 200")
    assert vias(ok) == [call.via] and ok.to_tag() == tag, ok
    assert ok.body == SDP_APP, ok
    assert [r for r in ok.all("Record-Route") if rr_ours(r, inv.src[0])], ok
    return ok


def hang_up(ctx, app, call, ok):
    """The PBX ACKs the 200 and hangs up along the Record-Route: both reach
    the app (through sipwake, by the device id in ;swd=), the BYE's 200
    comes back."""
    ctx.pbx.send(call.in_dialog("ACK", ok, 1), call.edge)
    app.expect(is_req("ACK", call.cid), 2.0, "the PBX's ACK")
    ctx.pbx.send(call.in_dialog("BYE", ok, 2), call.edge)
    bye = app.expect(is_req("BYE", call.cid), 2.0, "the PBX's BYE")
    app.send(reply(bye, 200, "OK"), *bye.src)
    ctx.pbx.expect(is_resp(200, call.cid, "BYE"), 2.0, "200 to the BYE")


def ring_and_answer(ctx, app, inv, call, tag="app1"):
    ring(ctx, app, inv, call, tag)
    ok = answer(ctx, app, inv, call, tag)
    hang_up(ctx, app, call, ok)
    return ok


def tell_sipp_app(ctx, dev, port, pns="apns", ip=None):
    """Hand a sipp app (app_wake_uas.xml, waiting on @ip:@port; default
    ctx.app_ip) the push it would get from @pns: a MESSAGE it answers 200,
    then re-registers."""
    ip = ip or ctx.app_ip
    pusher = ctx.app(ip=ctx.app_ip)
    pusher.send(build("MESSAGE sip:%s@%s:%d SIP/2.0" % (dev.user, host(ip), port), [
        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-push-%d" % (host(pusher.ip), pusher.port,
                                                           pusher.port),
        "Max-Forwards: 70", "From: <sip:%s@push.test>;tag=push" % pns,
        "To: <sip:%s>" % dev.aor, "Call-ID: push-%d@test" % pusher.port,
        "CSeq: 1 MESSAGE"]), ip, port)
    pusher.expect(is_resp(200), 3.0, "the app took its push")


def sipp_woken(ctx, dev, sets, pns, app_scenario, pbx_scenario, pbx_sets=None, pbx_extra=(),
               push_kind=None, registered=None, app_sets=None, new_ip=None,
               register_sets=None):
    """What sipp_woken_call() and sipp_woken_message() share, with sipp on
    both ends and as the registrar: @dev's app registers (challenged)
    through sipwake with @sets (its push address, app_register.xml's
    variables), @registered(first), if given, checks what that
    registration left; the app sleeps; the PBX runs @pbx_scenario from
    ctx.pbx_ip port 5062 with Request-URI the contact the app slept on
    (@pbx_sets and @pbx_extra added); the push for dev.token (REQ lines of
    @push_kind, None: any) comes; the app, @app_scenario on a new port
    (and at @new_ip, if given: another network) (@sets and @app_sets), is
    handed it (a MESSAGE "from" @pns), registers again (challenged) and
    takes what was held, every sipp ending without a failed check.
    @register_sets: more variables for the first registration alone
    (app_register.xml's). Every address is of ctx's family (Ctx(v6=True):
    all IPv6). Returns (the push event, a Delta and a push mark taken
    before the PBX's request, the app's sipp result, the PBX's, the app's
    new port)."""
    lab = ctx.lab
    creds = ["-au", dev.user, "-ap", "secret"]
    old_port, new_port = ctx.next_port + 1, ctx.next_port + 2
    ctx.next_port += 2
    new_ip = new_ip or ctx.app_ip
    with ctx.pbx_port_free():
        registrar = sippkit.lab_sipp(lab, "pbx_registrar.xml", ctx.pbx_ip, 5060, calls=2,
                                     timeout=40).start()
        try:
            first = sippkit.lab_run_sipp(lab, "app_register.xml", ctx.app_ip, old_port,
                                         remote=ctx.sw_ip, service=dev.user, timeout=15,
                                         sets=dict(sets, **(register_sets or {})),
                                         extra=creds + ["-recv_timeout", "5000"])
            assert first.ok, sippkit.explain(first, lab.read_log()[-3000:])
            if registered is not None:
                registered(first)
            ctx.wait_state(dev, "asleep")
            d, mark = Delta(lab), ctx.push.mark()
            app = sippkit.lab_sipp(lab, app_scenario, new_ip, new_port, calls=2,
                                   service=dev.user, timeout=30,
                                   sets=dict(sets, edge_host=ctx.sw_ip, **(app_sets or {})),
                                   extra=creds).start()
            caller = sippkit.lab_sipp(lab, pbx_scenario, ctx.pbx_ip, 5062, remote=ctx.sw_ip,
                                      service=dev.user, timeout=30,
                                      sets=dict({"ruri": dev.contact(ctx.app_ip, old_port),
                                                 "domain": DOMAIN}, **(pbx_sets or {})),
                                      extra=list(pbx_extra)).start()
            try:
                ev = ctx.push.wait_req(dev.token, kind=push_kind, start=mark, timeout=5)
                tell_sipp_app(ctx, dev, new_port, pns, new_ip)
                res_caller, res_app = caller.wait(30), app.wait(30)
            finally:
                caller.stop()
                app.stop()
            assert res_caller.ok and res_app.ok, sippkit.explain(
                res_caller, res_app, lab.read_log()[-3000:])
        finally:
            res_reg = registrar.stop() if registrar.result is None else registrar.result
    assert res_reg.ok, sippkit.explain(res_reg)
    return ev, d, mark, res_app, res_caller, new_port


def sipp_woken_call(ctx, dev, sets, cid, pns, push_kind=None, registered=None, new_ip=None,
                    register_sets=None):
    """The whole call with sipp on both ends and as the registrar
    (sipp_woken()): the PBX calls the sleeping app (pbx_call_uac.xml) with
    Call-ID @cid; the woken app (app_wake_uas.xml) answers: 180, 200, ACK,
    BYE through sipwake. Returns (the push event, a Delta and a push mark
    taken before the call, the app's sipp result, its new port)."""
    ev, d, mark, res_app, _, new_port = sipp_woken(
        ctx, dev, sets, pns, "app_wake_uas.xml", "pbx_call_uac.xml",
        pbx_extra=["-d", "300", "-cid_str", cid], push_kind=push_kind, registered=registered,
        new_ip=new_ip, register_sets=register_sets)
    return ev, d, mark, res_app, new_port


def sipp_woken_message(ctx, dev, sets, cid, pns="apns", msg_sets=None, app_sets=None,
                       registered=None):
    """A MESSAGE (RFC 3428) with sipp on both ends and as the registrar
    (sipp_woken()): the PBX (pbx_message_uac.xml, @msg_sets) sends the
    sleeping app a MESSAGE with Call-ID @cid; sipwake holds it and sends
    an alert push to dev.token (a regular token: a VoIP one takes no
    alert); the woken app (app_message_uas.xml, @app_sets) gets the
    MESSAGE with its text and answers 200, which reaches the PBX. Returns
    (the push event, a Delta and a push mark taken before the MESSAGE, the
    app's sipp result, the PBX's, the app's new port)."""
    return sipp_woken(ctx, dev, sets, pns, "app_message_uas.xml", "pbx_message_uac.xml",
                      pbx_sets=msg_sets, pbx_extra=["-cid_str", cid, "-recv_timeout", "15000"],
                      push_kind="alert", registered=registered, app_sets=app_sets)


def journal_cids(lab):
    """Call-IDs in @lab's journal of held calls (design.md §7), read live (WAL)."""
    db = sqlite3.connect("file:%s?mode=ro" % lab.store_path, uri=True, timeout=5)
    try:
        rows = db.execute("SELECT key FROM held_calls").fetchall()
    finally:
        db.close()
    return sorted(bytes(k).split(b"\x1f")[0].decode() for (k,) in rows)


def wait_journal(lab, cids, timeout=1.0):
    """The journal holds exactly @cids within @timeout s (committed each round)."""
    end = time.monotonic() + timeout
    while True:
        got = journal_cids(lab)
        if got == sorted(cids):
            return
        assert time.monotonic() < end, "journal of held calls: %s, expected %s" % (got, cids)
        time.sleep(0.02)


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
    ctx.pbx.send(call.cancel(), call.edge)
    ok = ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
    assert vias(ok) == [call.via], ok
    r487 = ctx.pbx.expect(final_of(call.cid), 1.0, "487 to the INVITE")
    assert r487.status == 487 and r487.to_tag(), r487
    ctx.pbx.send(call.ack_final(r487), call.edge)
    ctx.pbx.nothing(of_call(call.cid), 0.3, "answer to the ACK")
    old.nothing(timeout=0)
    return dev, call, d, mark
