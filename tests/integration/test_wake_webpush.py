# SPDX-License-Identifier: BSD-3-Clause
"""The wake path for web apps: Web Push (RFC 8030) with VAPID (RFC 8292) and
aes128gcm payload encryption (RFC 8291), end to end through real sipwake,
as test_wake_fcm.py proves it for FCM.

A web softphone registers through sipwake with an RFC 8599 Web Push address
in its Contact (pn-provider=webpush; pn-prid=<its push subscription's
endpoint URL>; pn-param=<p256dh>.<auth>, docs/push-addresses.md), goes
silent, and is called. pushd signs a VAPID JWT for the endpoint's origin,
encrypts the call's JSON for the subscription's keys and POSTs it to the
endpoint; the app registers again from a new port and takes the held call.
Or the push service answers 410 (the subscription is gone: the push address
goes, the binding stays); or the subscription was never usable (a bad
p256dh, auth secret or endpoint URL): kept, counted, never pushed, and
nothing else changes.

Real parts only: sipwake in the lab's namespaces (scripts/swlab.py);
build/tests/pushd/pd_testsrv inside the lab's sw namespace as the push
service AND the browser (tests/pushd/README.md): it mints the subscription
("wpsub", its own P-256 key and auth secret), verifies the VAPID JWT with
the key in the header (aud, exp, sub) and decrypts the payload, so a push it
answers 201 was signed and encrypted as a browser's push service wants; sipp
as the PBX and the app for the whole call; byte-level peers (wakekit.py) for
the failures. The lab configures Web Push alone: sipwake advertises
Feature-Caps +sip.pns="webpush" (sipp's app checks it) and +sip.vapid with
its VAPID key. Every wait is bounded.
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushsrv  # noqa: E402
import swlab  # noqa: E402
from waits import until  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)
from wakekit import ALIVE_WINDOW_S, PUSH_PORT, TIMEOUT_S  # noqa: E402


def pn_escape(url):
    """An endpoint URL as a SIP URI parameter value (RFC 3261 paramchar:
    unreserved, "[]/:&+$" and %-escapes)."""
    return urllib.parse.quote(url, safe="-_.!~*'()[]/:&+$")


class WebDevice(Device):
    """One web softphone of @user: its +sip.instance and its push
    subscription (endpoint URL and keys) minted by the lab's push server.
    The endpoint carries a query, so its '?' and '=' go %-escaped."""

    def __init__(self, user, server, n=1):
        super().__init__(user, n)
        self.token = "web-%s-%d" % (user, n)  # the subscription id: REQ webpush <id>
        endpoint, self.keys = server.wpsub(self.token)
        self.endpoint = endpoint + "?v=1"

    def contact(self, ip, port, pn=True):
        c = "sip:%s@%s:%d" % (self.user, ip, port)
        if pn:
            c += ";pn-provider=webpush;pn-prid=%s;pn-param=%s" % (pn_escape(self.endpoint),
                                                                   self.keys)
        return c


class BadWebDevice(WebDevice):
    """A web app whose subscription sipwake cannot use: @endpoint / @keys
    replace the good ones."""

    def __init__(self, user, server, endpoint=None, keys=None):
        super().__init__(user, server)
        self.endpoint = endpoint or self.endpoint
        self.keys = keys or self.keys


class WebPushLab(WakeLab):
    """wakekit.WakeLab with Web Push alone: sipwake's one push credential
    is the VAPID key; pushd connects to a push service's origin when the
    first push for it goes, not at start."""

    def __init__(self, name, wake, refresh_before_s=0):
        swlab.Lab.__init__(self, name=name,
                           pbx_extra="check_interval_s = 3600; timeout_ms = 1000;",
                           bindings_extra="ping_interval_s = 0; alive_window_s = %d;"
                           % ALIVE_WINDOW_S)
        self.server = pushsrv.PushServer(self, port=PUSH_PORT)
        self.push = Pushes(self.server)
        self.config_extra = self.server.config(apns=False, webpush=True) + \
            "\nwake: { timeout_s = %d; refresh_before_s = %d; %s };" % (
                TIMEOUT_S, refresh_before_s, wake)

    def start(self, timeout=30):
        if self.server.proc is None:
            self.server.start()
        swlab.Lab.start(self, timeout)

    def webpush(self):
        return self.telemetry("/sipwake/push")["webpush"]

    def vapid_key(self):
        """The VAPID public key sipwake signs with, as +sip.vapid and "k"
        carry it: the uncompressed point ending the key's DER."""
        der = subprocess.run(["openssl", "pkey", "-in", self.server._path("AuthKey.p8"),
                              "-pubout", "-outform", "DER"], capture_output=True,
                             check=True, timeout=10).stdout
        return base64.urlsafe_b64encode(der[-65:]).decode().rstrip("=")


@pytest.fixture(scope="class")
def wp_lab():
    yield from serve_lab(WebPushLab("wp%d" % (os.getpid() % 10000), PING_WAKE))


@pytest.fixture(scope="class")
def wp_alert_lab():
    """Missed calls get an alert push (wake.cancelled_call "alert"), and
    bindings a refresh push 10 s before they expire."""
    yield from serve_lab(WebPushLab("wq%d" % (os.getpid() % 10000),
                                    'policy = "ping"; provisional = "180"; '
                                    'cancelled_call = "alert";', refresh_before_s=10))


def shown(keys):
    """pn-param as /sipwake/bindings shows it: the auth secret hidden."""
    return keys.split(".")[0] + ".<auth>"


def check_webpush(ev, dev, cid):
    """@ev (a parsed ``REQ webpush`` line) is the call push for @dev's call
    @cid: answered 201 (the server verified the VAPID JWT by its k, with aud
    its origin, and decrypted the body), Urgency high, TTL what is left of
    the call's wake timeout, a Topic, the call's JSON inside."""
    assert ev["kind"] == "webpush" and ev["token"] == dev.token, ev
    assert ev["status"] == 201 and ev["urgency"] == "high", ev
    assert ev["sub"] == pushsrv.VAPID_SUB and ev["topic"] != "-", ev
    assert int(ev["ttl"]) in (TIMEOUT_S, TIMEOUT_S - 1), ev
    data = json.loads(ev["body"])
    assert data["kind"] == "call" and data["call_id"] == cid, data
    assert data["aor"] == "sip:" + dev.aor, data
    return data


class TestWebPush:
    """Web Push alone, wake.policy "ping" (wakekit.PING_WAKE), wake.timeout_s 4 s."""

    def test_sipp_web_app_woken_by_webpush_takes_the_call(self, wp_lab):
        """The whole call with sipp on both ends and as the registrar: the
        web app registers (challenged) with its Web Push address, its 200
        says Feature-Caps +sip.pns="webpush" and +sip.vapid=<sipwake's
        VAPID key>; it sleeps; the PBX calls it. The push service gets one
        push, signed for its origin and encrypted for the subscription; the
        browser's decryption shows the call id and the caller; the app
        registers from a new port and answers: 180, 200, ACK, BYE pass."""
        ctx = wp_lab
        lab = ctx.lab
        dev = WebDevice("webby", lab.server)
        sets = {"token": pn_escape(dev.endpoint), "pn_param": dev.keys, "pns": "webpush",
                "domain": DOMAIN, "instance": "urn:uuid:" + dev.instance}
        cid = "webpush-wake-%d@pbx.example.net" % os.getpid()
        wp0 = lab.webpush()

        def registered(first):
            assert '+sip.vapid="%s"' % lab.vapid_key() in first.messages, first.messages[-3000:]
            devs = lab.devices(dev.aor)
            assert len(devs) == 1, devs
            assert devs[0]["push_provider"] == "webpush", devs
            assert devs[0]["push_param"] == shown(dev.keys) and devs[0]["wake"] == "yes", devs
        ev, d, mark, res_app, new_port = sipp_woken_call(ctx, dev, sets, cid, "webpush", None,
                                                         registered)
        check_webpush(ev, dev, cid)
        assert "Call-ID: " + cid in res_app.messages, res_app.messages[-3000:]
        d.no_held()
        assert [e["status"] for e in ctx.push.reqs(dev.token, None, mark)] == [201]
        w = d.wake()
        for k in ("wake_calls", "wake_pushes", "wake_branches", "wake_woken", "wake_answered"):
            assert w.get(k) == 1, (k, w)
        assert not w.get("wake_timed_out") and not w.get("wake_rejected"), w
        wp1 = lab.webpush()
        assert wp1["delivered"] == wp0["delivered"] + 1, (wp0, wp1)
        assert wp1["config_error"] == 0 and wp1["connections_up"] == 1, wp1
        text = "\n".join(lab.telemetry("/sipwake/trace," + cid)["trace"])
        at = 0
        for step in ("asleep: VoIP push via webpush sent", "delivered (HTTP 201",
                     "woken: REGISTER accepted from %s:%d" % (APP4, new_port),
                     "final 200 to the PBX: answered"):
            at = text.find(step, at)
            assert at >= 0, (step, text)

    def test_long_endpoint_as_firefox_and_edge_give_is_woken(self, wp_lab):
        """Endpoints of 400-500 bytes (Mozilla's autopush, Microsoft's WNS
        with its token in the query) bind whole, %-escaped in the Contact,
        and are pushed to: the push goes to that very URL, query included."""
        ctx = wp_lab
        dev, old = WebDevice("foxy", ctx.lab.server), ctx.app()
        dev.endpoint += "&token=" + "Qx-_" * 110  # 487 bytes in all
        assert 480 <= len(dev.endpoint) <= 500, len(dev.endpoint)
        ctx.asleep((old, dev))
        b = ctx.lab.devices(dev.aor)[0]
        assert b["push_provider"] == "webpush" and b["wake"] == "yes", b
        assert b["push_prid"] == short(dev.endpoint), b
        mark = ctx.push.mark()
        call = Call("sip:%s" % dev.aor, dev.user, route=False)
        call_in(ctx, call)
        check_webpush(ctx.push.wait_req(dev.token, kind=None, start=mark), dev, call.cid)
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        ring_and_answer(ctx, new, inv, call)

    def test_webpush_410_is_480_at_once_and_the_push_address_removed(self, wp_lab):
        """The push service answers 410 Gone (the browser unsubscribed): the
        PBX gets 480 at once; the device keeps its binding without a push
        address; the next call pushes nothing."""
        ctx = wp_lab
        dev, old = WebDevice("gone", ctx.lab.server), ctx.app()
        ctx.asleep((old, dev))
        before = ctx.lab.devices(dev.aor)
        assert before[0]["push_provider"] == "webpush" and before[0]["wake"] == "yes", before
        ctx.push.cmd("set %s 410" % dev.token)
        try:
            d, mark = Delta(ctx.lab), ctx.push.mark()
            wp0 = ctx.lab.webpush()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            t0 = time.monotonic()
            call_in(ctx, call)
            ev = ctx.push.wait_req(dev.token, kind=None, start=mark)
            assert ev["status"] == 410, ev
            assert json.loads(ev["body"])["call_id"] == call.cid, ev  # decrypted all the same
            r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
            assert r.status == 480 and r.t - t0 < 2.0, (r, r.t - t0)
            ctx.pbx.send(call.ack_final(r))
            after = until(lambda: [x for x in ctx.lab.devices(dev.aor)
                                      if "push_prid" not in x], 3.0, "push address removed")
            x = after[0]
            assert x["id"] == before[0]["id"] and x["expires_in_s"] > 0, (before, x)
            assert x["wake"] == "no push address", x
            w = d.wake()
            assert w.get("wake_dead_tokens") == 1 and w.get("wake_rejected") == 1, w
            wp1 = ctx.lab.webpush()
            assert wp1["dead_token"] == wp0["dead_token"] + 1, (wp0, wp1)
            mark = ctx.push.mark()
            call2 = Call("sip:%s" % dev.aor, dev.user)
            ctx.pbx.send(call2.invite)
            r = ctx.pbx.expect(final_of(call2.cid), 1.5, "480 for a device without push")
            assert r.status == 480, r
            ctx.pbx.send(call2.ack_final(r))
            time.sleep(0.3)
            assert ctx.push.reqs(dev.token, None, mark) == []
            assert ctx.lab.proc.poll() is None
        finally:
            ctx.push.cmd("clear")

    def test_unusable_subscriptions_are_kept_counted_and_never_pushed(self, wp_lab):
        """Subscriptions sipwake could never push to: a p256dh that is not
        a 65-byte point, an auth secret that is not 16 bytes, an http://
        endpoint, one without a path. Each REGISTER is relayed and bound as
        the app asked (the PBX owns the registration), counted
        reg_push_webpush_bad, /sipwake/bindings says why; a call to one is
        480 at once with nothing pushed; a good web app bound alongside is
        unchanged and still woken; sipwake keeps running."""
        ctx = wp_lab
        srv = ctx.lab.server
        good, good_app = WebDevice("fine", srv), ctx.app()
        ctx.asleep((good_app, good))
        p256dh, auth = good.keys.split(".")
        bad = [
            (BadWebDevice("badkey", srv, keys="BCVx." + auth),
             "Web Push p256dh is not a 65-byte uncompressed P-256 point"),
            (BadWebDevice("badauth", srv, keys=p256dh + ".AAAA"),
             "Web Push auth secret is not 16 bytes"),
            (BadWebDevice("plain", srv, endpoint="http://127.0.0.1:%d/wp/x" % PUSH_PORT),
             "Web Push endpoint not an https:// URL"),
            (BadWebDevice("nopath", srv, endpoint="https://127.0.0.1:%d" % PUSH_PORT),
             "Web Push endpoint without a path"),
        ]
        d, mark = Delta(ctx.lab), ctx.push.mark()
        for dev, _ in bad:
            ctx.register(ctx.app(), dev)
        assert d().get("reg_push_webpush_bad") == len(bad), d()
        assert not d().get("drop_reg_push_bad") and not d().get("reg_push_unknown"), d()
        for dev, why in bad:
            b = ctx.lab.devices(dev.aor)
            assert len(b) == 1 and b[0]["push_provider"] == "webpush", b
            assert b[0]["wake"] == why, b
        # A call to one asleep: nobody can be woken, 480 at once, nothing pushed.
        dev = bad[0][0]
        ctx.wait_state(dev, "asleep")
        call = Call("sip:%s" % dev.aor, dev.user)
        t0 = time.monotonic()
        ctx.pbx.send(call.invite)
        r = ctx.pbx.expect(final_of(call.cid), 1.5, "480 for an unusable subscription")
        assert r.status == 480 and r.t - t0 < 1.5, r
        ctx.pbx.send(call.ack_final(r))
        time.sleep(0.3)
        assert ctx.push.server.reqs()[mark:] == [], ctx.push.server.events()[-10:]
        # The good one is as it was, and still woken.
        g = ctx.lab.devices(good.aor)
        assert len(g) == 1 and g[0]["wake"] == "yes" and g[0]["push_param"] == shown(good.keys), g
        call = Call("sip:%s" % good.aor, good.user, route=False)
        call_in(ctx, call)
        ev = ctx.push.wait_req(good.token, kind=None, start=mark)
        check_webpush(ev, good, call.cid)
        new = ctx.app()
        ctx.register(new, good)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        ring_and_answer(ctx, new, inv, call)
        assert ctx.lab.proc.poll() is None


class TestWebPushAlertAndRefresh:
    """The other two push kinds to a web app: the missed-call alert and the
    refresh before expiry, each to the same subscription, each decrypted."""

    def test_cancelled_call_sends_a_missed_call_alert(self, wp_alert_lab):
        """The call's push (Urgency high, kind "call"), the PBX cancels
        before the app wakes, then the missed-call alert (Urgency high,
        kind "alert"; controlplane/calls/cp_call.c gives alerts no call
        details, for APNs and FCM alike); the app that wakes later gets no
        INVITE."""
        ctx = wp_alert_lab
        dev, old = WebDevice("missy", ctx.lab.server), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.pbx.expect(is_resp(180, call.cid), 2.0, "180 from sipwake")
        check_webpush(ctx.push.wait_req(dev.token, kind=None, start=mark), dev, call.cid)
        ctx.pbx.send(call.cancel())
        ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
        r487 = ctx.pbx.expect(final_of(call.cid), 1.0, "487 to the INVITE")
        assert r487.status == 487, r487
        ctx.pbx.send(call.ack_final(r487))
        alert = ctx.push.wait_req(dev.token, kind=None, start=mark, n=2, timeout=3.0)
        assert alert["status"] == 201 and alert["urgency"] == "high", alert
        data = json.loads(alert["body"])
        assert data["kind"] == "alert", data
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("INVITE"), 1.0, "INVITE of a cancelled call")
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 2
        w = d.wake()
        assert w.get("wake_alerts") == 1 and w.get("wake_cancelled") == 1, w

    def test_refresh_push_before_expiry(self, wp_alert_lab):
        """The PBX grants 12 s: at half its lifetime (wake.refresh_before_s
        is 10, never before half) one background push goes, Urgency normal,
        kind "background", no Topic (it is for no call)."""
        ctx = wp_alert_lab
        dev, app = WebDevice("fresh", ctx.lab.server), ctx.app()
        mark = ctx.push.mark()
        ctx.send_register(app, dev)
        req = ctx.pbx.expect(lambda m: m.method == "REGISTER" and dev.instance
                             in (m.get("Contact") or ""), 3.0, "REGISTER of " + dev.aor)
        cs = ["Contact: " + c.split(";expires=")[0] + ";expires=12" for c in req.all("Contact")]
        ctx.pbx.send(reply(req, 200, "OK", tag="pbxreg", extra=cs), *req.src)
        app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0, "200")
        t0 = time.monotonic()
        ev = ctx.push.wait_req(dev.token, kind=None, start=mark, timeout=10.0)
        assert 4.0 < time.monotonic() - t0 < 9.0, time.monotonic() - t0
        assert ev["status"] == 201 and ev["urgency"] == "normal" and ev["topic"] == "-", ev
        data = json.loads(ev["body"])
        assert data["kind"] == "background" and data["aor"] == "sip:" + dev.aor, data
        time.sleep(1.0)
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1  # one per registration
