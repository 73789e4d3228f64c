# SPDX-License-Identifier: BSD-3-Clause
"""The wake path for Android apps: FCM HTTP v1 pushes, end to end through
real sipwake, as test_wake.py and test_wake_devices.py prove it for APNs.

An Android app registers through sipwake with an RFC 8599 FCM push address
in its Contact (pn-provider=fcm; pn-param=<Firebase project id>;
pn-prid=<FCM registration token>), goes silent, and is called. pushd signs in
to the OAuth2 token endpoint with the service account (an RS256 JWT), sends
the push to ``/v1/projects/<project>/messages:send`` with the access token it
got as its bearer, and the app registers again from a new port and takes the
held call. Or the push fails: FCM answers 404 UNREGISTERED (the token is
dead, the push address goes, the binding stays), or the token endpoint
refuses the service account (the credential is misconfigured); the PBX gets
480 at once either way, and sipwake goes on.

Real parts only: sipwake in the lab's namespaces (scripts/swlab.py);
build/tests/pushd/pd_testsrv inside the lab's sw namespace as FCM and as
Google's token endpoint on one port (tests/integration/pushsrv.py), which
accepts only access tokens it issued and only its own project, so a push it
answers 200 was authenticated and addressed as FCM wants; sipp as the PBX
(registrar and caller) and the app for the whole call; byte-level peers
(wakekit.py) for the failures, where a test must see each answer on time.
The labs configure FCM alone: sipwake advertises Feature-Caps
+sip.pns="fcm", which sipp's app checks. Every wait is bounded.
"""
import base64
import hashlib
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushsrv  # noqa: E402
import swlab  # noqa: E402
from waits import until  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)
from wakekit import ALIVE_WINDOW_S, PUSH_PORT, TIMEOUT_S  # noqa: E402

PROJECT = pushsrv.FCM_PROJECT  # the app's pn-param and the credential's project
PACKAGE = "com.example.phone.android"  # the credential's package: PortSIP's app-id


def fcm_token(name):
    """A registration token shaped like the ones Firebase hands an app:
    an instance id, ':', then "APA91b" and base64url, 163 characters."""
    raw = hashlib.sha512(name.encode()).digest() + hashlib.sha512(b"fcm/" + name.encode()).digest()
    b64 = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return b64[:22] + ":APA91b" + b64[22:156]


class AndroidDevice(Device):
    """One Android phone of @user: its +sip.instance and its FCM
    registration token, pushed through the Firebase project PROJECT."""

    def __init__(self, user, n=1):
        super().__init__(user, n)
        self.token = fcm_token("%s/%d" % (user, n))

    def contact(self, ip, port, pn=True):
        c = "sip:%s@%s:%d" % (self.user, ip, port)
        if pn:
            c += ";pn-provider=fcm;pn-prid=%s;pn-param=%s" % (self.token, PROJECT)
        return c


class PortSipAndroid(AndroidDevice):
    """An Android PortSIP app: no pn-* in its Contact, its FCM token in
    the header PortSIP's SDKs send, app-id its package name."""

    def __init__(self, user, n=1):
        super().__init__(user, n)
        self.headers = ["x-p-push: device-os=android;device-uid=%s;allow-call-push=true;"
                        "allow-message-push=true;app-id=%s" % (self.token, PACKAGE)]

    def contact(self, ip, port, pn=True):
        return "sip:%s@%s:%d" % (self.user, ip, port)


class FcmLab(WakeLab):
    """wakekit.WakeLab with FCM instead of APNs: pd_testsrv serves FCM and
    the token endpoint, and sipwake's one push credential is FCM's, signed
    in with the service account of @account_email (default: the one the
    token endpoint accepts)."""

    def __init__(self, name, wake, account_email=None):
        # WakeLab's own __init__ would make an APNs-only push server.
        swlab.Lab.__init__(self, name=name,
                           pbx_extra="check_interval_s = 3600; timeout_ms = 1000;",
                           bindings_extra="ping_interval_s = 0; alive_window_s = %d;"
                           % ALIVE_WINDOW_S)
        self.server = pushsrv.PushServer(self, port=PUSH_PORT, fcm_project=PROJECT)
        self.push = Pushes(self.server)
        account = (self.server.service_account(email=account_email, name="refused.json")
                   if account_email else None)
        self.config_extra = self.server.config(apns=False, fcm=True, fcm_account=account,
                                               fcm_package=PACKAGE) + \
            "\nwake: { timeout_s = %d; %s };" % (TIMEOUT_S, wake)

    def fcm(self):
        """/sipwake/push: FCM's counters and the credential's connections."""
        p = self.telemetry("/sipwake/push")
        return p["fcm"], p["credentials"]["fcm_0"]


def fcm_lab_fixture(tag, account_email=None):
    """A class-scoped fixture: an FcmLab with wake.policy "ping" and its
    Ctx; sipwake must exit 0 at the end."""
    @pytest.fixture(scope="class")
    def fx():
        yield from serve_lab(FcmLab("wf%s%d" % (tag, os.getpid() % 10000), PING_WAKE,
                                    account_email))
    return fx


fcm_lab = fcm_lab_fixture("a")
refused_lab = fcm_lab_fixture("r", account_email="intruder@another-project.iam.gserviceaccount.com")


def check_fcm_push(ev, dev, cid):
    """@ev (a parsed ``REQ fcm`` line) is the call push FCM HTTP v1 wants
    for @dev's call @cid: answered 200 (the server checked the bearer token
    and the project in the path), data only, high priority, every data value
    a string, the call id in it, ttl what is left of the call's wake
    timeout (wake.timeout_s): never outliving the call."""
    assert ev["kind"] == "fcm" and ev["token"] == dev.token, ev
    assert ev["status"] == 200 and ev["type"] == "call" and ev["prio"] == "high", ev
    msg = json.loads(ev["body"])["message"]
    assert msg["token"] == dev.token, msg
    assert "notification" not in msg, msg  # data-only: the app shows the call itself
    assert msg["android"]["priority"] == "high" and set(msg["android"]) == {"priority", "ttl"}, msg
    assert msg["android"]["ttl"] in ("%ds" % TIMEOUT_S, "%ds" % (TIMEOUT_S - 1)), msg
    data = msg["data"]
    assert all(isinstance(v, str) for v in data.values()), data
    assert data["kind"] == "call" and data["call_id"] == cid, data
    assert data["aor"] == "sip:" + dev.aor, data
    return data


class TestFcm:
    """FCM alone, wake.policy "ping" (wakekit.PING_WAKE), wake.timeout_s 4 s."""

    def test_sipp_android_app_woken_by_fcm_takes_the_call(self, fcm_lab):
        """The whole call with sipp on both ends and as the registrar: the
        Android app registers (challenged) with its FCM push address, which
        the PBX accepts and sipwake keeps; it sleeps; the PBX calls it. FCM
        receives one data-only, high-priority push for the call, sent with
        the bearer token pushd got from the token endpoint; the test hands
        the app its "push" (a MESSAGE to sipp on its new port), the app
        registers from there (challenged again) and answers: 180, 200, ACK,
        BYE all pass through sipwake and both sipps end without a failed
        check."""
        ctx = fcm_lab
        dev, lab = AndroidDevice("andy"), ctx.lab
        sets = {"token": dev.token, "pn_param": PROJECT, "pns": "fcm", "domain": DOMAIN,
                "instance": "urn:uuid:" + dev.instance}
        cid = "fcm-wake-%d@pbx.example.net" % os.getpid()  # the PBX's one call (-cid_str)
        fcm0, _ = lab.fcm()

        def registered(first):
            # Bound with its FCM push address, whole (the token shown by its ends).
            devs = lab.devices(dev.aor)
            assert len(devs) == 1, devs
            assert devs[0]["push_provider"] == "fcm" and devs[0]["push_param"] == PROJECT, devs
            assert devs[0]["push_prid"] == short(dev.token), devs
        ev, d, mark, res_app, new_port = sipp_woken_call(ctx, dev, sets, cid, "fcm", "call",
                                                         registered)
        check_fcm_push(ev, dev, cid)
        assert "Call-ID: " + cid in res_app.messages, res_app.messages[-3000:]
        # The bearer it carried was issued by the token endpoint, to this
        # service account, before the push (pd_testsrv answers 401 to any
        # other, and pushd fetched no second one).
        lines = ctx.push.server.events()
        at_push = lines.index(ev["line"])
        tokens = [pushsrv.parse_event(ln) for ln in lines[:at_push] if ln.startswith("REQ token ")]
        assert tokens and tokens[-1]["status"] == 200, lines[:at_push]
        assert all(t["status"] == 200 for t in ctx.push.server.token_reqs()), lines
        d.no_held()
        assert [e["status"] for e in ctx.push.reqs(dev.token, None, mark)] == [200]
        w = d.wake()
        for k in ("wake_calls", "wake_pushes", "wake_branches", "wake_woken", "wake_answered"):
            assert w.get(k) == 1, (k, w)
        assert not w.get("wake_timed_out") and not w.get("wake_rejected"), w
        fcm1, up = lab.fcm()
        assert fcm1["delivered"] == fcm0["delivered"] + 1, (fcm0, fcm1)
        assert fcm1["dead_token"] == fcm0["dead_token"] and fcm1["config_error"] == 0, fcm1
        assert fcm1["token_renewals"] >= 1 and up >= 1, (fcm1, up)  # connected to FCM
        assert lab.devices(dev.aor)[0]["source"] == "%s:%d" % (APP4, new_port)
        text = "\n".join(lab.telemetry("/sipwake/trace," + cid)["trace"])
        at = 0
        for step in ("asleep: VoIP push via fcm sent", "delivered (HTTP 200",
                     "woken: REGISTER accepted from %s:%d" % (APP4, new_port),
                     "final 200 to the PBX: answered"):
            at = text.find(step, at)
            assert at >= 0, (step, text)

    def test_portsip_android_app_found_by_package_name_is_woken(self, fcm_lab):
        """PortSIP's Android form: the FCM credential is picked by the
        package name the app gives as app-id (not the project id), the push
        is sent to the Firebase project's path, the app wakes and answers."""
        ctx = fcm_lab
        dev, old = PortSipAndroid("pia"), ctx.app()
        ctx.asleep((old, dev))
        b = ctx.lab.devices(dev.aor)[0]
        assert b["push_form"] == "x-push" and b["push_provider"] == "fcm", b
        assert b["push_param"] == PACKAGE and b["wake"] == "yes", b
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % dev.aor, dev.user, route=False)
        call_in(ctx, call)
        ev = ctx.push.wait_req(dev.token, kind="call", start=mark)
        assert ev["status"] == 200, ev  # the server answers 200 only on its project's path
        assert json.loads(ev["body"])["message"]["data"]["call_id"] == call.cid, ev
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        ring_and_answer(ctx, new, inv, call)
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w
        assert not d().get("drop_reg_push_bad") and not d().get("reg_push_unknown"), d()

    def test_fcm_unregistered_is_480_at_once_and_the_push_address_removed(self, fcm_lab):
        """FCM answers 404 UNREGISTERED (the app was uninstalled): the PBX
        gets 480 at once, not at the wake timeout; the device keeps its
        binding (same id, contact, source, still unexpired) without a push
        address, and the next call gets 480 at once with nothing pushed."""
        ctx = fcm_lab
        dev, old = AndroidDevice("una"), ctx.app()
        ctx.asleep((old, dev))
        before = ctx.lab.devices(dev.aor)
        assert len(before) == 1 and before[0]["push_prid"] == short(dev.token), before
        # One token, whole: FCM's ':' is part of it, not a token's service
        # (as in APNs' "<token>:voip&<token>:remote").
        assert before[0]["push_provider"] == "fcm" and before[0]["wake"] == "yes", before
        assert before[0]["push_token0"] == "any " + short(dev.token), before
        assert before[0]["push_token0_state"] == "live" and "push_token1" not in before[0], before
        ctx.push.cmd("set %s 404" % dev.token)
        try:
            d, mark = Delta(ctx.lab), ctx.push.mark()
            fcm0, _ = ctx.lab.fcm()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            t0 = time.monotonic()
            call_in(ctx, call)
            ev = ctx.push.wait_req(dev.token, kind="call", start=mark)
            assert ev["status"] == 404 and ev["reason"] == "-", ev  # 404, FCM's own body
            assert json.loads(ev["body"])["message"]["token"] == dev.token, ev
            r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
            assert r.status == 480 and r.to_tag() and r.t - t0 < 2.0, (r, r.t - t0)
            assert vias(r) == [call.via], r
            ctx.pbx.send(call.ack_final(r))
            ctx.pbx.nothing(of_call(call.cid), 0.3, "answer to the ACK")
            old.nothing(timeout=0)
            # The push address goes; the binding stays.
            after = until(lambda: [x for x in ctx.lab.devices(dev.aor)
                                      if "push_prid" not in x], 3.0, "push address removed")
            assert len(ctx.lab.devices(dev.aor)) == 1, ctx.lab.devices(dev.aor)
            x = after[0]
            assert x["id"] == before[0]["id"] and x["source"] == before[0]["source"], (before, x)
            assert x["contact"] == before[0]["contact"] and x["expires_in_s"] > 0, x
            assert x.get("instance") == "<urn:uuid:%s>" % dev.instance, x
            assert "push_provider" not in x and "push_param" not in x, x
            assert x["wake"] == "no push address", x
            assert "push token of %s" % dev.aor in ctx.lab.read_log()
            d.no_held()
            w = d.wake()
            assert w.get("wake_dead_tokens") == 1 and w.get("wake_rejected") == 1, w
            assert w.get("wake_pushes") == 1 and not w.get("wake_timed_out"), w
            fcm1, _ = ctx.lab.fcm()
            assert fcm1["dead_token"] == fcm0["dead_token"] + 1, (fcm0, fcm1)
            text = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
            assert "dead_token (HTTP 404 UNREGISTERED" in text, text
            # The next call has nobody to push: 480 at once, the dead token is
            # never pushed again.
            mark = ctx.push.mark()
            call2 = Call("sip:%s" % dev.aor, dev.user)
            t0 = time.monotonic()
            ctx.pbx.send(call2.invite)
            r = ctx.pbx.expect(final_of(call2.cid), 1.5, "480 for a device without push")
            assert r.status == 480 and r.t - t0 < 1.5, r
            ctx.pbx.send(call2.ack_final(r))
            time.sleep(0.3)
            assert ctx.push.reqs(dev.token, None, mark) == []
            assert ctx.lab.proc.poll() is None
        finally:
            ctx.push.cmd("clear")


class TestFcmTokenRefused:
    """The token endpoint refuses sipwake's service account (a key file for
    another client): FCM is misconfigured, not the device."""

    def test_refused_service_account_shows_before_any_call(self, refused_lab):
        """An operator who starts sipwake with a service account Google
        refuses sees it in /sipwake/push before the first call fails: the
        alarm names the credential and the token endpoint's answer; no
        push has failed yet (config_error 0)."""
        ctx = refused_lab
        refused = ctx.push.server.wait_token_req(timeout=5)
        assert refused is not None and refused["status"] == 400, ctx.push.server.events()

        def alarmed():
            fcm = ctx.lab.fcm()[0]
            return fcm if fcm["config_alarm"] else None
        fcm = until(alarmed, 2.0, "an FCM alarm")
        assert fcm["config_alarm"] == ("fcm.[0]: token endpoint refused the service account "
                                       "(HTTP 400)"), fcm
        assert fcm["config_alarm_ms"] > 0 and fcm["config_error"] == 0, fcm
        assert fcm["token_renewals"] == 0 and fcm["submitted"] == 0, fcm
        assert ctx.lab.proc.poll() is None

    def test_refused_service_account_gives_480_at_once_and_an_alarm(self, refused_lab):
        """pushd's sign-in is refused (400 invalid_grant) at start; a call
        to an asleep Android app is answered 480 at once (a configuration
        error, not the wake timeout), nothing reaches FCM, the device keeps
        its push address (the token is not to blame), /sipwake/push shows
        the alarm naming the credential, and sipwake keeps running and
        exits 0."""
        ctx = refused_lab
        refused = ctx.push.server.wait_token_req(timeout=5)
        assert refused is not None and refused["status"] == 400, ctx.push.server.events()
        dev, old = AndroidDevice("rita"), ctx.app()
        ctx.asleep((old, dev))
        d = Delta(ctx.lab)
        fcm0, _ = ctx.lab.fcm()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        t0 = time.monotonic()
        call_in(ctx, call)
        r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
        assert r.status == 480 and r.to_tag() and r.t - t0 < 2.0, (r, r.t - t0)
        ctx.pbx.send(call.ack_final(r))
        ctx.pbx.nothing(of_call(call.cid), 0.3, "answer to the ACK")
        d.no_held()
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_rejected") == 1, w
        assert not w.get("wake_dead_tokens") and not w.get("wake_timed_out"), w
        assert ctx.push.server.reqs() == [], ctx.push.server.events()  # FCM never reached
        assert all(t["status"] == 400 for t in ctx.push.server.token_reqs())
        devs = ctx.lab.devices(dev.aor)
        assert len(devs) == 1 and devs[0]["push_prid"] == short(dev.token), devs
        fcm1, _ = ctx.lab.fcm()
        assert fcm1["config_error"] == fcm0["config_error"] + 1, (fcm0, fcm1)
        assert fcm1["delivered"] == 0 and fcm1["token_renewals"] == 0, fcm1
        assert fcm1["config_alarm"] == ("fcm.[0]: token endpoint refused the service account "
                                        "(HTTP 400)"), fcm1
        text = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
        assert "config_error" in text, text
        assert ctx.lab.proc.poll() is None
