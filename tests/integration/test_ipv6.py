# SPDX-License-Identifier: BSD-3-Clause
"""The whole job over IPv6: sipwake at 2001:db8:5e::1, the PBX at
[2001:db8:5e::5]:5060 (its only pbx.servers entry), the apps at
2001:db8:5e::2, every SIP message over IPv6 UDP (the IPv4 versions of these
flows are test_registrar.py, test_sipp_flows.py and test_wake.py):

- an app registers: its REGISTER reaches the PBX with our Via and Path in
  brackets, its own Via stamped received= / rport (RFC 3581), the 200 comes
  back and the binding is kept with the app's IPv6 source and contact;
- an alive app's call: the PBX's INVITE goes to it at once (the worker's,
  no push), 180 / 200 / ACK / BYE through sipwake (sipp on both ends);
- a sleeping app's call: one push to pd_testsrv, the app registers again
  from another IPv6 address (a neighbour sipwake has never resolved) and
  port, the held INVITE goes there, the call completes (sipp on both ends);
- an app that does not wake: the PBX gets 480 within wake.timeout_s;
- an IPv6 binding through the store: kept over kill -9, its app woken after.

- a call that changes family on its way (an IPv4 PBX, an app bound over
  IPv6), to an alive app and to a woken one: two Record-Routes, ours
  facing each side (RFC 5658 §3.1), and the PBX's ACK and BYE along them.

- a TLS app over IPv6 (docs/streams.md): its call down its connection, and
  woken over a new connection from another IPv6 address.
"""
import contextlib
import os
import re
import signal
import time

import pytest

from streampeer import StreamEndpoint, add_streams
from wakekit import (DOMAIN, PBX4, PBX6, PING_WAKE, SW4, SW6, TIMEOUT_S, Call, Delta, Device,
                     Endpoint, WakeLab, answer, call_in, check_forwarded, final_of, is_req,
                     of_call, reply, ring, ring_and_answer, serve_lab, sipp_woken_call, sippkit, short,
                     vias)

# The app's second network: an IPv6 address of the peer sipwake has not
# talked to before the wake (neighbour discovery on the INVITE's way).
APP6_NEW = "2001:db8:5e::7"


@pytest.fixture(scope="module")
def ctx():
    lab = WakeLab("wk6%d" % (os.getpid() % 10000), PING_WAKE,
                  pbx_servers=["[%s]:5060" % PBX6])
    add_streams(lab, 'streams: { tls = { port = 5061; cert = "%(cert)s"; key = "%(key)s"; };'
                ' handshake_s = 2; };')
    yield from serve_lab(lab, v6=True)


def bound(ctx, dev):
    """The device /sipwake/bindings shows for @dev (exactly one)."""
    devs = [d for d in ctx.lab.devices(dev.aor)
            if d.get("instance") == "<urn:uuid:%s>" % dev.instance]
    assert len(devs) == 1, ctx.lab.devices(dev.aor)
    return devs[0]


def test_register_over_ipv6(ctx):
    dev, app = Device("v6reg"), ctx.app()
    ctx.send_register(app, dev)
    req = ctx.pbx_answer_register(dev, app, 200)
    # sipwake's Via on top, the app's below stamped with where it came from:
    # received= without brackets (RFC 3261 §25.1), as the workers write it.
    vs = req.all("Via")
    assert len(vs) == 2, req
    assert re.match(r"SIP/2\.0/UDP \[%s\]:5060;branch=z9hG4bK-swCr[0-9a-f]+;rport$"
                    % re.escape(SW6), vs[0]), req
    assert vs[1] == "SIP/2.0/UDP [%s]:%d;branch=z9hG4bK-reg-%d-1;rport=%d;received=%s" % (
        app.ip, app.port, app.port, app.port, app.ip), req
    assert req.get("Path") == "<sip:[%s]:5060;lr>" % SW6, req
    assert req.src == (SW6, 5060), req
    ok = app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0, "the 200")
    assert vias(ok) == ["SIP/2.0/UDP [%s]:%d;branch=z9hG4bK-reg-%d-1" % (app.ip, app.port,
                                                                         app.port)], ok
    assert '+sip.pns="apns"' in ok.get("Feature-Caps", ""), ok
    d = bound(ctx, dev)
    assert d["source"] == "[%s]:%d" % (app.ip, app.port), d
    assert d["contact"] == dev.contact(app.ip, app.port, pn=False), d
    assert d["push_provider"] == "apns" and d["push_prid"] == short(dev.token), d
    assert 3500 <= d["expires_in_s"] <= 3600, d


def test_alive_call_over_ipv6_byte_level(ctx):
    dev, app = Device("v6alive"), ctx.app()
    ctx.register(app, dev)
    d = Delta(ctx.lab)
    call = Call(dev.contact(app.ip, app.port), dev.user, edge=SW6, pbx=PBX6)
    ctx.pbx.send(call.invite)
    inv = app.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
    assert inv.src == (SW6, 5060), inv
    # The worker's own stateless branch, not the control plane's.
    assert inv.get("Via").startswith("SIP/2.0/UDP [%s]:5060;branch=z9hG4bK-swS" % SW6), inv
    assert inv.ruri == dev.contact(app.ip, app.port, pn=False), inv
    ring_and_answer(ctx, app, inv, call)
    time.sleep(0.3)
    assert d.wake() == {}, d.wake()
    assert ctx.push.reqs(dev.token, None) == [], "an alive app was pushed"
    assert d()["fwd_requests_to_device"] >= 3, d()
    text = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
    at = 0
    for step in ("INVITE from the PBX: device", "alive, forwarded at once to [%s]:%d"
                 % (app.ip, app.port), "answered 180, relayed to the PBX at [%s]:5060" % PBX6,
                 "answered 200, relayed to the PBX"):
        at = text.find(step, at)
        assert at >= 0, (step, text)


def test_alive_call_over_ipv6_sipp(ctx):
    """sipp as the app and as the PBX, both on IPv6, the app's scenario
    checking Record-Route and the Request-URI without pn-*."""
    user, port = "v6sipp", 21500
    with ctx.pbx_port_free():
        with sippkit.lab_sipp(ctx.lab, "pbx_registrar.xml", PBX6, 5060, timeout=20) as uas:
            uac = sippkit.lab_run_sipp(ctx.lab, "app_register.xml", ctx.app_ip, port,
                                       remote=SW6, service=user, timeout=20,
                                       sets={"domain": DOMAIN, "expect_expires": 300},
                                       extra=["-au", user, "-ap", "secret",
                                              "-recv_timeout", "5000"])
            res = uas.wait()
        assert uac.ok and res.ok, sippkit.explain(uac, res, ctx.lab.read_log()[-3000:])
        devs = ctx.lab.devices("%s@%s" % (user, DOMAIN))
        assert [d["source"] for d in devs] == ["[%s]:%d" % (ctx.app_ip, port)], devs
        token = "4bfcb19a7aa50e1fbbb53cc267730f53aa7c4d76554f774f4401859abaae3036"
        before = ctx.lab.stats()
        with sippkit.lab_sipp(ctx.lab, "app_call_uas.xml", ctx.app_ip, port, timeout=20) as app:
            pbx = sippkit.lab_run_sipp(
                ctx.lab, "pbx_call_uac.xml", PBX6, 5062, remote=SW6, service=user, timeout=20,
                sets={"ruri": "sip:%s@[%s]:%d;pn-provider=apns;pn-prid=%s;"
                      "pn-param=ABCD123456.com.example.voip" % (user, ctx.app_ip, port, token),
                      "domain": DOMAIN},
                extra=["-d", "200", "-recv_timeout", "5000"])
            res = app.wait()
        assert pbx.ok and res.ok, sippkit.explain(pbx, res, ctx.lab.read_log()[-3000:])
    st = ctx.lab.stats()
    assert st["fwd_requests_to_device"] - before["fwd_requests_to_device"] >= 3, st
    assert st["calls_480"] == before["calls_480"]


def test_woken_call_from_a_new_ipv6_address(ctx):
    ctx.lab.peer(["ip", "-6", "addr", "add", APP6_NEW + "/64", "dev", ctx.lab.if_peer, "nodad"],
                 check=False)
    dev = Device("v6wake")
    sets = {"token": dev.token, "instance": "urn:uuid:" + dev.instance, "domain": DOMAIN,
            "pn_param": "ABCD123456.com.example.voip"}
    ev, d, mark, res_app, new_port = sipp_woken_call(
        ctx, dev, sets, "v6wake-call@pbx", "apns", new_ip=APP6_NEW)
    assert ev["type"] == "voip", ev
    assert len(ctx.push.reqs(dev.token, start=mark)) == 1
    # The device moved: one binding, at its new address and port.
    dd = bound(ctx, dev)
    assert dd["source"] == "[%s]:%d" % (APP6_NEW, new_port), dd
    assert dd["contact"] == "sip:%s@[%s]:%d" % (dev.user, APP6_NEW, new_port), dd
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
    assert w.get("wake_answered") == 1, w


def test_480_when_the_app_does_not_wake(ctx):
    dev, app = Device("v6late"), ctx.app()
    ctx.asleep((app, dev))
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(app.ip, app.port), dev.user, edge=SW6, pbx=PBX6)
    t0 = time.monotonic()
    call_in(ctx, call)
    ctx.push.wait_req(dev.token, start=mark)
    r = ctx.pbx.expect(final_of(call.cid), TIMEOUT_S + 2.0, "the final answer")
    assert r.status == 480 and r.to_tag(), r
    assert TIMEOUT_S - 0.05 <= r.t - t0 <= TIMEOUT_S + 1.0, r.t - t0
    assert vias(r) == [call.via], r
    ctx.pbx.send(call.ack_final(r), SW6)
    ctx.pbx.nothing(of_call(call.cid), 0.5, "answer to the ACK")
    app.nothing(timeout=0)
    d.no_held()
    w = d.wake()
    assert w.get("wake_timed_out") == 1 and w.get("wake_pushes") == 1, w


def test_v6_binding_survives_a_restart_and_its_app_is_woken(ctx):
    """The binding store round-trip of an IPv6 source and contact: sipwake
    killed -9 right after the 200 and started again has the same binding;
    a call to it then wakes the app, whose new registration (another port)
    gets the held INVITE as test_wake.py checks it, byte for byte."""
    dev, old = Device("v6store"), ctx.app()
    ctx.register(old, dev)
    before = bound(ctx, dev)
    ctx.lab.proc.send_signal(signal.SIGKILL)
    ctx.lab.proc.wait(15)
    ctx.lab.log.close()
    ctx.lab.start()
    after = bound(ctx, dev)
    for k in ("contact", "instance", "source", "push_provider", "push_prid", "push_param"):
        assert after[k] == before[k], (k, before, after)
    ctx.wait_state(dev, "asleep")
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(old.ip, old.port), dev.user, edge=SW6, pbx=PBX6)
    call_in(ctx, call)
    ctx.push.wait_req(dev.token, start=mark)
    new = ctx.app()
    ctx.register(new, dev)
    inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
    check_forwarded(inv, call, new, dev)
    ring_and_answer(ctx, new, inv, call)
    old.nothing(of_call(call.cid), 0, "the call at the old address")
    text = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
    for step in ("INVITE from [%s]:5060 for " % PBX6,
                 "woken: REGISTER accepted from [%s]:%d" % (new.ip, new.port),
                 "INVITE to device %x at [%s]:%d" % (after["id"], new.ip, new.port)):
        assert step in text, (step, text)
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_answered") == 1, w




@contextlib.contextmanager
def pbx4(ctx):
    """The PBX calls from 198.18.0.5 (a pbx.sources address) to sipwake's
    IPv4 address while the block runs (ctx.pbx); REGISTERs still go to the
    IPv6 PBX (pbx.servers), yielded beside it for registering(): (IPv4
    PBX, IPv6 PBX)."""
    pbx6, ctx.pbx = ctx.pbx, Endpoint(ctx.lab.ns_peer, PBX4, 5060, "pbx4", SW4)
    try:
        yield ctx.pbx, pbx6
    finally:
        ctx.pbx.close()
        ctx.pbx = pbx6


def family_call(ctx, app, dev, inv, call):
    """@inv, @call's INVITE from the IPv4 PBX as @app (IPv6) got it, carries
    our two Record-Routes (ours facing the app on top, ours facing the PBX
    under it, one device id); the app rings and answers, the PBX ACKs and
    hangs up along its route set (the list reversed: our IPv4 address
    first), and the app gets both with no Route left."""
    rr = inv.all("Record-Route")
    m = [re.match(r"<sip:(\[[0-9a-f:]+\]|[0-9.]+):5060;swd=([0-9a-f]{16});lr>$", r) for r in rr]
    assert [x and x.group(1) for x in m] == ["[%s]" % SW6, SW4], inv
    assert m[0].group(2) == m[1].group(2), inv
    ring(ctx, app, inv, call)
    ok = answer(ctx, app, inv, call)
    assert ok.all("Record-Route") == rr, ok
    for n, method in ((1, "ACK"), (2, "BYE")):
        req = call.in_dialog(method, ok, n)
        assert re.search(r"\r\nRoute: <sip:%s:5060;" % re.escape(SW4), req), req
        ctx.pbx.send(req, SW4)
        got = app.expect(is_req(method, call.cid), 2.0, "the PBX's " + method)
        assert got.all("Route") == [] and got.src == (SW6, 5060), got
    app.send(reply(got, 200, "OK"), *got.src)
    ctx.pbx.expect(lambda m: m.status == 200 and m.call_id == call.cid and m.cseq[1] == "BYE",
                   2.0, "200 to the BYE")


def test_call_changing_family_alive_and_woken(ctx):
    """An IPv4 PBX calls apps bound over IPv6: an alive one (the worker's
    INVITE at once), then a sleeping one (pushed, woken on a new port, the
    control plane's INVITE); both calls complete along two Record-Routes."""
    dev, app = Device("v6fam"), ctx.app()
    ctx.register(app, dev)
    with pbx4(ctx):
        call = Call(dev.contact(app.ip, app.port), dev.user, edge=SW4, pbx=PBX4)
        ctx.pbx.send(call.invite)
        inv = app.expect(is_req("INVITE", call.cid), 0.5, "the worker's INVITE at once")
        assert inv.get("Via").startswith("SIP/2.0/UDP [%s]:5060;branch=z9hG4bK-swS" % SW6), inv
        family_call(ctx, app, dev, inv, call)
    dev, old = Device("v6famw"), ctx.app()
    ctx.asleep((old, dev))
    d, mark = Delta(ctx.lab), ctx.push.mark()
    with pbx4(ctx) as (p4, p6):
        call = Call(dev.contact(old.ip, old.port), dev.user, edge=SW4, pbx=PBX4)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        new = ctx.app()
        ctx.pbx = p6  # the woken app's REGISTER goes to the IPv6 PBX
        ctx.register(new, dev)
        ctx.pbx = p4
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        assert inv.get("Via").startswith("SIP/2.0/UDP [%s]:5060;branch=z9hG4bK-swCi" % SW6), inv
        family_call(ctx, new, dev, inv, call)
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_answered") == 1, w


@pytest.fixture(scope="module")
def pinging():
    """A second lab, pinging every second (test_pings.py's, over IPv6)."""
    lab = WakeLab("wk6p%d" % (os.getpid() % 10000), PING_WAKE, ping_interval_s=1,
                  pbx_servers=["[%s]:5060" % PBX6])
    yield from serve_lab(lab, v6=True)


def test_pings_over_ipv6_and_a_404_makes_the_device_asleep(pinging):
    """The ping goes to the IPv6 contact (brackets, user part, no pn-*) from
    sipwake's IPv6 address; a 404 from the app's address makes the device
    asleep at once, and the log names the app as [addr]:port."""
    ctx = pinging
    dev, app = Device("v6ping"), ctx.app()
    ctx.register(app, dev)
    end = time.monotonic() + 3.0
    while not app.pings:
        assert time.monotonic() < end, "no ping within 3 s"
        app.collect(lambda m: False, 0.05)
    p = app.pings[0]
    assert p.src == (SW6, 5060), p
    assert p.ruri == dev.contact(app.ip, app.port, pn=False), p
    assert re.match(r"SIP/2\.0/UDP \[%s\]:5060;branch=z9hG4bK-swCp" % re.escape(SW6),
                    p.get("Via")), p
    assert bound(ctx, dev)["state"] == "alive"
    app.options_status = 404
    end = time.monotonic() + 3.0
    while bound(ctx, dev)["state"] != "asleep":
        assert time.monotonic() < end, "never asleep after a 404: %s" % bound(ctx, dev)
        app.collect(lambda m: False, 0.1)
    log = ctx.lab.read_log()
    assert "asleep: [%s]:%d answered its ping 404" % (app.ip, app.port) in log, log[-2000:]
    assert dev.token not in log, "a push token in the log"


def tls_app(ctx, ip):
    """A TLS connection from @ip (a new port) to [SW6]:5061."""
    ctx.next_port += 1
    ep = StreamEndpoint(ctx.lab.ns_peer, ip, ctx.next_port, "TLS", dport=5061,
                        cafile=ctx.lab.cert)
    ctx.apps.append(ep)
    return ep


def test_tls_app_over_ipv6_called_then_woken_on_a_new_connection(ctx):
    ctx.lab.peer(["ip", "-6", "addr", "add", APP6_NEW + "/64", "dev", ctx.lab.if_peer, "nodad"],
                 check=False)
    dev, app = Device("v6tls"), tls_app(ctx, ctx.app_ip)

    def contact(ep):
        return dev.contact(ep.ip, ep.port) + ";transport=tls"

    ctx.register(app, dev, contact=contact(app))
    dd = bound(ctx, dev)
    assert dd["transport"] == "tls" and dd["state"] == "alive", dd
    assert dd["source"] == "[%s]:%d" % (app.ip, app.port), dd
    # Alive: down its connection, the Record-Route facing it over TLS.
    call = Call("sip:%s" % dev.aor, dev.user, route=False, edge=SW6, pbx=PBX6)
    call_in(ctx, call)
    inv = app.expect(is_req("INVITE", call.cid), 1.0, "the INVITE down the connection")
    assert re.match(r"SIP/2\.0/TLS \[%s\]:5061;branch=z9hG4bK-swCi" % re.escape(SW6),
                    vias(inv)[0]), inv
    rr = inv.all("Record-Route")
    assert len(rr) == 2 and ";transport=tls" in rr[0] and "[%s]" % SW6 in rr[0], inv
    ring_and_answer(ctx, app, inv, call)
    # Closed: asleep at once; the next call is pushed, and the app comes
    # back over a new TLS connection from another IPv6 address.
    app.close()
    ctx.wait_state(dev, "asleep", 2.0)
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call2 = Call("sip:%s" % dev.aor, dev.user, route=False, edge=SW6, pbx=PBX6)
    call_in(ctx, call2)
    ctx.push.wait_req(dev.token, start=mark)
    new = tls_app(ctx, APP6_NEW)
    ctx.register(new, dev, cseq=2, contact=contact(new))
    inv2 = new.expect(is_req("INVITE", call2.cid), 2.0, "the held INVITE on the new connection")
    ring_and_answer(ctx, new, inv2, call2)
    new.nothing(is_req("INVITE", call2.cid), 0.5, "the INVITE a second time")
    assert bound(ctx, dev)["source"] == "[%s]:%d" % (APP6_NEW, new.port)
    d.no_held()
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
    assert w.get("wake_answered") == 1, w
