# SPDX-License-Identifier: BSD-3-Clause
"""Sealed pushes (docs/push-encryption.md), end to end through real
sipwake: an app hands a push key in its REGISTER over TLS
(Sipwake-Push-Key), goes asleep, and the PBX calls it. The push the APNs
(or FCM) test double receives carries none of the call in clear (no caller
number or name, no Call-ID, no AOR: the raw body and the collapse id are
searched), and the reference decryptor (pushseal.py, python3-cryptography,
nothing of sipwake's) recovers them exactly with the app's key. The PBX
never sees the header; the key is never in the log nor in telemetry (only
its id). The next registration's key replaces it (the next push has the new
kid and does not open with the old key); a registration without one ends
sealing. A key over UDP or TCP is refused 403 and counted, a malformed one
400, and neither reaches the PBX or changes any binding.

Peers: wakekit's byte-level PBX on UDP (it keeps the bytes of every
REGISTER it gets), streampeer's TLS apps, pd_testsrv as APNs, FCM and
Google's token endpoint on one port. Every wait is bounded."""
import base64
import hashlib
import json
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushseal  # noqa: E402
import pushsrv  # noqa: E402
from streampeer import WsEndpoint, make_cert, stream_app  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403
from wakekit import PUSH_PORT  # noqa: E402

STREAMS = ('streams: { tcp = { port = 5060; }; tls = { port = 5061; cert = "%s"; key = "%s"; };'
           ' wss = { port = 7443; path = "/sip"; cert = "%s"; key = "%s"; };'
           ' header_s = 2; handshake_s = 2; };')
NUMBER, NAME = "+15550001111", "Marie Curie"
PROJECT = pushsrv.FCM_PROJECT


class SealLab(WakeLab):
    """A WakeLab whose push server is APNs and FCM, with TCP and TLS listeners."""

    def __init__(self, name):
        super().__init__(name, PING_WAKE)
        self.server = pushsrv.PushServer(self, port=PUSH_PORT, team=TEAM, key_id=KID,
                                         bundle=BUNDLE, fcm_project=PROJECT)
        self.push = Pushes(self.server)
        self.cert, self.key = make_cert(self.tmp)
        self.config_extra = (self.server.config(fcm=True) +
                             "\nwake: { timeout_s = %d; %s };\n" % (TIMEOUT_S, PING_WAKE) +
                             STREAMS % (self.cert, self.key, self.cert, self.key))


@pytest.fixture(scope="module")
def ctx():
    yield from serve_lab(SealLab("sl%d" % (os.getpid() % 10000)))


class AndroidDevice(Device):
    """An Android phone: an FCM registration token, the project as pn-param."""

    def __init__(self, user):
        super().__init__(user)
        raw = hashlib.sha512(user.encode()).digest()
        self.token = base64.urlsafe_b64encode(raw).decode().rstrip("=")[:22] + ":APA91b" + \
            base64.urlsafe_b64encode(raw).decode().rstrip("=")[22:80]

    def contact(self, ip, port, pn=True):
        c = "sip:%s@%s:%d" % (self.user, ip, port)
        if pn:
            c += ";pn-provider=fcm;pn-prid=%s;pn-param=%s" % (self.token, PROJECT)
        return c


def contact_of(dev, app, pn=True):
    c = dev.contact(app.ip, app.port, pn)
    return c + (";transport=" + app.transport.lower() if hasattr(app, "transport") else "")


def key_header(key):
    return "Sipwake-Push-Key: " + pushseal.b64url(key)


def register(ctx, app, dev, key=None, cseq=1):
    """@dev's REGISTER from @app with push key @key (None: none), accepted
    by the PBX; returns the REGISTER as the PBX received it."""
    ctx.send_register(app, dev, cseq=cseq, contact=contact_of(dev, app),
                      extra=[key_header(key)] if key else ["X-Nothing: 1"])
    req = ctx.pbx_answer_register(dev, app, 200)
    app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0, "200 to the REGISTER")
    return req


def call_asleep(ctx, dev, kind="voip"):
    """The PBX calls @dev (asleep): the push the server got for it, as a
    REQ event, and the call."""
    mark = ctx.push.mark()
    call = Call("sip:%s" % dev.aor, dev.user, route=False)
    call.frm = call.frm.replace('"Caller"', '"%s"' % NAME)
    call.invite = call.invite.replace('"Caller"', '"%s"' % NAME)
    call_in(ctx, call)
    return ctx.push.wait_req(dev.token, kind=kind, start=mark, timeout=5.0), call


def check_sealed(ev, key, call, dev):
    """Nothing of @call in clear in push @ev; @key opens it to exactly it."""
    raw = ev["body"]
    for secret in (NUMBER, NUMBER[1:], "Marie", "Curie", call.cid, call.cid.split("@")[0],
                   dev.user, dev.aor):
        assert secret not in raw, (secret, raw)
        assert secret not in ev.get("collapse", ""), (secret, ev["line"])
    env = pushseal.envelope(json.loads(raw))
    assert env is not None and env["kid"] == pushseal.kid_of(key), raw
    meta = pushseal.open_push(key, env)
    assert meta["call_id"] == call.cid, meta
    assert meta["caller_number"] == NUMBER and meta["caller_name"] == NAME, meta
    assert dev.aor in meta["aor"] and meta["kind"] == "call", meta
    return env


def wake_with(ctx, dev, call, key):
    """@dev wakes over a new TLS connection, registering with @key, and
    takes the held call; its new connection is closed again (asleep)."""
    app = stream_app(ctx, "TLS")
    register(ctx, app, dev, key, cseq=2)
    inv = app.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
    ring_and_answer(ctx, app, inv, call)
    app.close()
    ctx.wait_state(dev, "asleep", 3.0)


def test_tls_app_key_seals_its_pushes_and_rotates(ctx):
    dev, key1, key2 = Device("sela"), pushseal.new_key(), pushseal.new_key()
    d, push0 = Delta(ctx.lab), ctx.lab.telemetry("/sipwake/push")["apns"]
    app = stream_app(ctx, "TLS")
    req = register(ctx, app, dev, key1)
    # Never relayed: neither the header nor the key's bytes.
    assert "sipwake-push-key" not in req.text.lower(), req
    assert pushseal.b64url(key1) not in req.text, req
    dv = ctx.lab.device(dev.aor, dev.instance)
    assert dv["push_kid"] == pushseal.kid_of(key1), dv
    assert pushseal.b64url(key1) not in json.dumps(ctx.lab.telemetry(
        "/sipwake/bindings," + dev.aor)), dv
    app.close()
    ctx.wait_state(dev, "asleep", 3.0)
    ev, call = call_asleep(ctx, dev)
    assert ev["status"] == 200 and ev["type"] == "voip", ev["line"]
    env1 = check_sealed(ev, key1, call, dev)
    # The woken app hands a new key: the next push is sealed under it, and
    # the old key no longer opens anything.
    wake_with(ctx, dev, call, key2)
    assert ctx.lab.device(dev.aor, dev.instance)["push_kid"] == pushseal.kid_of(key2)
    ev2, call2 = call_asleep(ctx, dev)
    env2 = check_sealed(ev2, key2, call2, dev)
    assert env2["kid"] != env1["kid"] and env2["n"] != env1["n"]
    with pytest.raises(ValueError):
        pushseal.open_push(key1, env2)
    # A registration without a key: its pushes go in clear again.
    wake_with(ctx, dev, call2, None)
    assert ctx.lab.device(dev.aor, dev.instance)["push_kid"] == ""
    ev3, call3 = call_asleep(ctx, dev)
    body3 = json.loads(ev3["body"])
    assert "sw" not in body3 and body3["call_id"] == call3.cid, body3
    fin = ctx.pbx.expect(final_of(call3.cid), TIMEOUT_S + 2.0, "480: nobody wakes")
    ctx.pbx.send(call3.ack_final(fin))
    delta = d()
    assert delta.get("push_key_relayed") == 2, delta
    assert not delta.get("push_key_refused") and not delta.get("push_key_bad"), delta
    push1 = ctx.lab.telemetry("/sipwake/push")["apns"]
    assert push1["sealed"] - push0["sealed"] == 2, (push0, push1)
    log = ctx.lab.read_log()
    for k in (key1, key2):
        assert pushseal.b64url(k) not in log


def test_web_app_hands_its_key_over_wss(ctx):
    """WSS is TLS too: a web app's key is taken, and not relayed."""
    dev, key = Device("wera"), pushseal.new_key()
    ctx.next_port += 1
    app = WsEndpoint(ctx.lab.ns_peer, APP4, ctx.next_port, 7443, "/sip", cafile=ctx.lab.cert)
    ctx.apps.append(app)
    contact = "sip:%s@%s;transport=ws;pn-provider=apns;pn-prid=%s;pn-param=%s" % (
        dev.user, app.host, dev.token, PN_PARAM)
    ctx.send_register(app, dev, contact=contact, extra=[key_header(key)])
    req = ctx.pbx.expect(lambda m: m.method == "REGISTER" and app.host in (m.get("Contact") or ""),
                         3.0, "the web app's REGISTER at the PBX")
    assert "sipwake-push-key" not in req.text.lower() and pushseal.b64url(key) not in req.text
    ctx.pbx.send(reply(req, 200, "OK", tag="pbxreg", extra=[
        "Contact: <%s>;expires=3600" % contact]), *req.src)
    app.expect(is_resp(200, meth="REGISTER"), 3.0, "200 to the REGISTER")
    dv = ctx.lab.device(dev.aor, dev.instance)
    assert dv["transport"] == "wss" and dv["push_kid"] == pushseal.kid_of(key), dv


def test_fcm_push_sealed_too(ctx):
    dev, key = AndroidDevice("selma"), pushseal.new_key()
    app = stream_app(ctx, "TLS")
    register(ctx, app, dev, key)
    app.close()
    ctx.wait_state(dev, "asleep", 3.0)
    ev, call = call_asleep(ctx, dev, kind=None)
    assert ev["kind"] == "fcm" and ev["status"] == 200, ev["line"]
    data = json.loads(ev["body"])["message"]["data"]
    assert sorted(data) == ["sw_ct", "sw_kid", "sw_n", "sw_v"], data
    check_sealed(ev, key, call, dev)
    fin = ctx.pbx.expect(final_of(call.cid), TIMEOUT_S + 2.0, "480: nobody wakes")
    ctx.pbx.send(call.ack_final(fin))


def refused(ctx, app, dev, extra, code, reason):
    """@dev's REGISTER from @app with header lines @extra: answered @code
    @reason by sipwake itself, never relayed."""
    ctx.send_register(app, dev, cseq=7, contact=contact_of(dev, app), extra=extra)
    got = app.expect(lambda m: m.cseq[1] == "REGISTER", 3.0, "the answer to the REGISTER")
    assert got.start == "SIP/2.0 %d %s" % (code, reason), got
    ctx.pbx.nothing(lambda m: m.method == "REGISTER" and dev.instance in
                    (m.get("Contact") or ""), 0.3, "the refused REGISTER")


def snapshot(ctx, *devs):
    """What the bindings of @devs are, but for the ages and times left in them."""
    out = []
    for dev in devs:
        for dv in ctx.lab.devices(dev.aor):
            out.append({k: v for k, v in dv.items()
                        if k not in ("last_heard_s_ago", "expires_in_s", "state",
                                     "connection_age_s")})
    return out


def test_key_over_udp_or_tcp_refused_and_bindings_unchanged(ctx):
    dev, other = Device("udo"), Device("ulla")
    udp, udp2 = ctx.app(), ctx.app()
    register(ctx, udp, dev)
    register(ctx, udp2, other)
    before = snapshot(ctx, dev, other)
    d = Delta(ctx.lab)
    key = pushseal.new_key()
    refused(ctx, udp, dev, [key_header(key)], 403, "Push Key Needs TLS")
    tcp = stream_app(ctx, "TCP")
    refused(ctx, tcp, dev, [key_header(key)], 403, "Push Key Needs TLS")
    delta = d()
    assert delta.get("push_key_refused") == 2 and not delta.get("reg_relayed"), delta
    assert snapshot(ctx, dev, other) == before
    assert ctx.lab.device(dev.aor, dev.instance)["push_kid"] == ""
    assert pushseal.b64url(key) not in ctx.lab.read_log()


def test_malformed_key_refused_400(ctx):
    dev = Device("mali")
    app = stream_app(ctx, "TLS")
    register(ctx, app, dev, pushseal.new_key())
    before = snapshot(ctx, dev)
    d = Delta(ctx.lab)
    k = pushseal.new_key()
    bad = [
        ["Sipwake-Push-Key: " + pushseal.b64url(k[:31])],  # 31 bytes
        ["Sipwake-Push-Key: " + pushseal.b64url(k + b"x")],  # 33 bytes
        ["Sipwake-Push-Key: " + base64.urlsafe_b64encode(k).decode()],  # padded
        ["Sipwake-Push-Key: " + base64.b64encode(b"\xfb" * 32).decode().rstrip("=")],  # + and /
        ["Sipwake-Push-Key: "],
        [key_header(k), key_header(pushseal.new_key())],  # two keys
    ]
    for extra in bad:
        refused(ctx, app, dev, extra, 400, "Bad Push Key")
    delta = d()
    assert delta.get("push_key_bad") == len(bad) and not delta.get("reg_relayed"), delta
    assert snapshot(ctx, dev) == before


def test_key_survives_a_restart(ctx):
    """The key is part of the binding, so in the store: sipwake killed
    (SIGKILL, no clean shutdown) and started again on the same store still
    seals the device's pushes under it. Last in this module: it restarts
    the lab."""
    dev, key = Device("resa"), pushseal.new_key()
    app = stream_app(ctx, "TLS")
    register(ctx, app, dev, key)
    ctx.lab.proc.send_signal(signal.SIGKILL)
    ctx.lab.proc.wait(15)
    ctx.lab.start()
    assert ctx.lab.stats()["bindings_loaded"] >= 1
    # A stream device loads asleep: no connection survives.
    dv = ctx.lab.device(dev.aor, dev.instance)
    assert dv["push_kid"] == pushseal.kid_of(key) and dv["state"] == "asleep", dv
    ev, call = call_asleep(ctx, dev)
    check_sealed(ev, key, call, dev)
    fin = ctx.pbx.expect(final_of(call.cid), TIMEOUT_S + 2.0, "480: nobody wakes")
    ctx.pbx.send(call.ack_final(fin))
    assert pushseal.b64url(key) not in ctx.lab.read_log()
