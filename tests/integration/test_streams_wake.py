# SPDX-License-Identifier: BSD-3-Clause
"""The wake path over TCP and TLS (docs/streams.md, "Flows"): apps register
over a connection to sipwake's listeners (the streams thread, through the
exception path), the PBX stays on UDP. A binding remembers its connection:
an alive app gets its call down it at once, with two Record-Routes (RFC
5658); its own requests reach the PBX; a closed connection makes it asleep
at once, and the woken app's new connection (a new TLS handshake, a new
port) gets the held INVITE exactly once. Bad streams end only themselves.
Peers: wakekit's byte-level PBX on UDP, streampeer's TCP / TLS apps, the
APNs test double; every wait is bounded."""
import os
import re
import shutil
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streampeer import (StreamEndpoint, WsEndpoint, add_streams, make_cert,  # noqa: E402
                        register_stream, stream_app)
from streampeer import stream_contact as contact_of  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403

# SYNs metered loosely here: the streams thread's own limits are under test.
STREAMS = ('streams: { tcp = { port = 5060; }; tls = { port = 5061; cert = "%(cert)s"; key = "%(key)s"; };'
           ' max_conns_per_source = 16; header_s = 2; handshake_s = 2; max_message = 65535;'
           ' syn_rate = 200; syn_burst = 200;'
           ' wss = { port = 7443; path = "/sip"; cert = "%(cert)s"; key = "%(key)s"; }; };')
FLOODER = "198.18.0.40"  # a second address of the peer: the one-source connection flood


@pytest.fixture(scope="module")
def sctx():
    yield from serve_lab(add_streams(WakeLab("wst%d" % (os.getpid() % 10000), PING_WAKE),
                                     STREAMS))


def register(ctx, app, dev, cseq=1):
    return ctx.register(app, dev, cseq=cseq, contact=contact_of(dev, app))


def check_down_stream(inv, call, app, dev):
    """@call's INVITE as sipwake sends it down @app's connection."""
    assert inv.ruri == contact_of(dev, app, pn=False), inv
    vs = vias(inv)
    assert len(vs) == 2 and vs[1] == call.via, inv
    assert re.match(r"SIP/2\.0/%s 198\.18\.0\.1:506[01];branch=z9hG4bK-swCi" % app.transport,
                    vs[0]), inv
    # RFC 5658: the Record-Route facing the app first (its transport), then
    # the one facing the PBX; both name the device.
    rr = inv.all("Record-Route")
    assert len(rr) == 2, inv
    assert ";transport=%s" % app.transport.lower() in rr[0] and rr_ours(rr[1]), inv
    assert "transport=" not in rr[1], inv
    assert inv.get("Max-Forwards") == "69" and inv.body == SDP_PBX, inv


def test_alive_tcp_app_gets_its_call_down_its_connection(sctx):
    ctx = sctx
    dev, app = Device("tara"), stream_app(ctx, "TCP")
    app.ob = True  # RFC 5626 §5.4: it keeps its flow and asks how often
    ok = register(ctx, app, dev)
    assert "+sip.pns" in (ok.get("Feature-Caps") or ""), ok
    assert ok.get("Flow-Timer") == "890", ok  # streams.idle_s 900, less a margin
    dv = ctx.lab.device(dev.aor, dev.instance)
    assert dv["transport"] == "tcp" and dv["state"] == "alive" and dv["connection"] > 0, dv
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call("sip:%s" % dev.aor, dev.user, route=False)
    call_in(ctx, call)
    inv = app.expect(is_req("INVITE", call.cid), 1.0, "the INVITE down the connection")
    check_down_stream(inv, call, app, dev)
    # Ring, answer, the PBX's ACK and BYE along the Record-Route (the
    # worker hands them up: only the control plane has the connection).
    ring_and_answer(ctx, app, inv, call)
    app.nothing(is_req("INVITE", call.cid), 0.3)
    assert ctx.push.reqs(dev.token, None, mark) == []
    d.no_held()
    delta = d()
    assert delta.get("fwd_stream_handed_up", 0) >= 3, delta  # INVITE, ACK, BYE
    assert delta.get("stream_to_device", 0) >= 2, delta  # ACK, BYE
    # A refresh over the same connection: the same flow, older now.
    time.sleep(1.1)
    register(ctx, app, dev, cseq=2)
    dv2 = ctx.lab.device(dev.aor, dev.instance)
    assert dv2["connection"] == dv["connection"] and dv2["connection_age_s"] >= 1, dv2


def test_tcp_app_calls_out_through_the_pbx(sctx):
    ctx = sctx
    dev, app = Device("ugo"), stream_app(ctx, "TCP")
    assert register(ctx, app, dev).get("Flow-Timer") is None  # no ;ob asked
    cid, via = "out-%d@app" % app.port, "SIP/2.0/TCP %s:%d;branch=z9hG4bK-out-%d" % (
        APP4, app.port, app.port)
    inv = build("INVITE sip:+15550002222@%s SIP/2.0" % DOMAIN, [
        "Via: " + via, "Max-Forwards: 70", "From: <sip:%s>;tag=out" % dev.aor,
        "To: <sip:+15550002222@%s>" % DOMAIN, "Call-ID: " + cid, "CSeq: 1 INVITE",
        "Contact: <%s>" % contact_of(dev, app, pn=False), "Content-Type: application/sdp"],
        SDP_APP)
    app.send(inv)
    got = ctx.pbx.expect(is_req("INVITE", cid), 2.0, "the app's INVITE at the PBX")
    vs = vias(got)
    assert len(vs) == 2 and vs[1] == via, got
    assert re.match(r"SIP/2\.0/UDP 198\.18\.0\.1:5060;branch=z9hG4bK-swCo", vs[0]), got
    rr = got.all("Record-Route")
    # Facing the PBX first (UDP), then the app (TCP): RFC 5658 §3.1.
    assert len(rr) == 2 and rr_ours(rr[0]) and "transport=" not in rr[0], got
    assert ";transport=tcp" in rr[1], got
    assert got.body == SDP_APP, got
    ctx.pbx.send(reply(got, 200, "OK", tag="far", contact="sip:+15550002222@%s:5060" % PBX4,
                       body=SDP_PBX), *got.src)
    ok = app.expect(is_resp(200, cid, "INVITE"), 2.0, "the PBX's 200 down the connection")
    assert vias(ok) == [via] and ok.body == SDP_PBX, ok
    # The app's ACK along the route set it learnt (reversed, §12.1.2).
    routes = list(reversed(ok.all("Record-Route")))
    app.send(build("ACK sip:+15550002222@%s:5060 SIP/2.0" % PBX4, [
        "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK-outack-%d" % (APP4, app.port, app.port),
        "Max-Forwards: 70"] + ["Route: " + r for r in routes] + [
        "From: <sip:%s>;tag=out" % dev.aor, "To: " + ok.get("To"), "Call-ID: " + cid,
        "CSeq: 1 ACK"]))
    ack = ctx.pbx.expect(is_req("ACK", cid), 2.0, "the app's ACK at the PBX")
    assert not [r for r in ack.all("Route") if SW4 in r], ack  # both of ours popped


def test_tcp_app_cancels_its_call_and_acks_the_487_on_the_invites_branch(sctx):
    """A stream device's CANCEL and its ACK for a 487 reach the PBX with
    the INVITE's top Via branch (RFC 3261 §9.1, §17.1.1.3): the stream
    relay's stateless branch depends on the app's branch, not the method."""
    ctx = sctx
    dev, app = Device("vito"), stream_app(ctx, "TCP")
    register(ctx, app, dev)
    cid = "cancel-%d@app" % app.port
    via = "SIP/2.0/TCP %s:%d;branch=z9hG4bK-cx-%d" % (APP4, app.port, app.port)
    head = ["Via: " + via, "Max-Forwards: 70", "From: <sip:%s>;tag=cx" % dev.aor,
            "To: <sip:+15550003333@%s>" % DOMAIN, "Call-ID: " + cid]
    app.send(build("INVITE sip:+15550003333@%s SIP/2.0" % DOMAIN, head + [
        "CSeq: 1 INVITE", "Contact: <%s>" % contact_of(dev, app, pn=False)]))
    inv = ctx.pbx.expect(is_req("INVITE", cid), 2.0, "the app's INVITE")
    app.send(build("CANCEL sip:+15550003333@%s SIP/2.0" % DOMAIN, head + ["CSeq: 1 CANCEL"]))
    can = ctx.pbx.expect(is_req("CANCEL", cid), 2.0, "the app's CANCEL")
    assert vias(can)[0] == vias(inv)[0], (inv, can)
    ctx.pbx.send(reply(can, 200, "OK"), *can.src)
    app.expect(is_resp(200, cid, "CANCEL"), 2.0, "200 to the CANCEL")
    r487 = reply(inv, 487, "Request Terminated", tag="far")
    ctx.pbx.send(r487, *inv.src)
    got = app.expect(is_resp(487, cid, "INVITE"), 2.0, "the 487 down the connection")
    app.send(build("ACK sip:+15550003333@%s SIP/2.0" % DOMAIN, head[:3] + [
        "To: " + got.get("To"), "Call-ID: " + cid, "CSeq: 1 ACK"]))
    ack = ctx.pbx.expect(is_req("ACK", cid), 2.0, "the ACK for the 487")
    assert vias(ack)[0] == vias(inv)[0], (inv, ack)


def test_a_new_connection_from_an_asleep_devices_port_is_its_own(sctx):
    """The kernel reuses ports: a device asleep since its connection closed
    and a device registered over a new connection from the same address and
    port. Requests on the new connection are the new device's, never
    refused as from no device (a bench found 403s so)."""
    ctx = sctx
    old_dev, new_dev = Device("wanda"), Device("xavi")
    old = stream_app(ctx, "TCP")
    register(ctx, old, old_dev)
    old.close()
    ctx.wait_state(old_dev, "asleep", 2.0)
    new = StreamEndpoint(ctx.lab.ns_peer, APP4, old.port, "TLS", dport=5061,
                         cafile=ctx.lab.cert)  # the same port, another connection
    ctx.apps.append(new)
    register(ctx, new, new_dev)
    source = ctx.lab.device(old_dev.aor, old_dev.instance)["source"]
    assert ctx.lab.device(new_dev.aor, new_dev.instance)["source"] == source
    cid = "reuse-%d@app" % new.port
    new.send(build("MESSAGE sip:+15550004444@%s SIP/2.0" % DOMAIN, [
        "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK-reuse" % (APP4, new.port), "Max-Forwards: 70",
        "From: <sip:%s>;tag=m" % new_dev.aor, "To: <sip:+15550004444@%s>" % DOMAIN,
        "Call-ID: " + cid, "CSeq: 1 MESSAGE"], "hi"))
    ctx.pbx.expect(is_req("MESSAGE", cid), 2.0, "the new device's MESSAGE at the PBX")
    new.nothing(is_resp(403), 0.2, "403 as from no device")
    call = Call("sip:%s" % new_dev.aor, new_dev.user, route=False)
    call_in(ctx, call)
    inv = new.expect(is_req("INVITE", call.cid), 1.0, "the call down the new connection")
    ring_and_answer(ctx, new, inv, call)


def held_while_asleep(ctx, dev, transport):
    """@dev registers over a @transport connection, which then closes
    (asleep at once: the connection was its liveness); the PBX calls it and
    the call is held and pushed. Returns (call, Delta since the close, push
    mark before the call)."""
    app = stream_app(ctx, transport)
    register(ctx, app, dev)
    assert ctx.lab.device(dev.aor, dev.instance)["transport"] == transport.lower()
    closing = Delta(ctx.lab)
    app.close()
    ctx.wait_state(dev, "asleep", 2.0)
    mark = ctx.push.mark()
    call = Call("sip:%s" % dev.aor, dev.user, route=False)
    call_in(ctx, call)
    ctx.push.wait_req(dev.token, start=mark)
    return call, closing, mark


def test_closed_connection_asleep_then_woken_over_a_new_tls_connection(sctx):
    ctx = sctx
    dev = Device("vera")
    call, d, mark = held_while_asleep(ctx, dev, "TLS")
    app2 = stream_app(ctx, "TLS")  # the woken app: a new handshake, a new port
    register(ctx, app2, dev, cseq=2)
    inv = app2.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE on the new connection")
    check_down_stream(inv, call, app2, dev)
    ring_and_answer(ctx, app2, inv, call)
    app2.nothing(is_req("INVITE", call.cid), 0.5)  # exactly once
    d.no_held()
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
    assert w.get("wake_answered") == 1, w
    assert d().get("stream_closed_asleep") == 1  # the first connection; app2 is open


def test_message_for_an_asleep_tcp_app_goes_once_down_its_new_connection(sctx):
    """A MESSAGE (RFC 3428) for an app asleep since its connection closed:
    an alert push, then the MESSAGE down the woken app's new connection,
    sent once (no Timer E over a stream), its 200 back to the PBX
    (docs/design.md §5, "Messages")."""
    ctx = sctx
    dev, app = Linphone("wes"), stream_app(ctx, "TCP")
    register(ctx, app, dev)
    app.close()
    ctx.wait_state(dev, "asleep", 2.0)
    d, mark = Delta(ctx.lab), ctx.push.mark()
    cid = "smsg-%d@pbx.example.net" % app.port
    via = "SIP/2.0/UDP %s:5060;branch=z9hG4bK-smsg-%d" % (PBX4, app.port)
    ctx.pbx.send(build("MESSAGE sip:%s SIP/2.0" % dev.aor, [
        "Via: " + via, "Max-Forwards: 70", 'From: "Sam" <sip:+15550005555@pbx.example.net>;tag=s',
        "To: <sip:%s>" % dev.aor, "Call-ID: " + cid, "CSeq: 1 MESSAGE",
        "Content-Type: text/plain"], "over tcp"))
    ev = ctx.push.wait_req(dev.regular, kind="alert", start=mark)
    assert "Message from Sam" in ev["body"], ev
    app2 = stream_app(ctx, "TCP")
    register(ctx, app2, dev, cseq=2)
    m = app2.expect(is_req("MESSAGE", cid), 2.0, "the held MESSAGE down the new connection")
    assert m.body == "over tcp" and vias(m)[1] == via and not m.all("Record-Route"), m
    assert vias(m)[0].startswith("SIP/2.0/TCP 198.18.0.1:5060;branch=z9hG4bK-swCi"), m
    app2.nothing(is_req("MESSAGE"), 1.2, "a retransmission down a stream")
    app2.send(reply(m, 200, "OK", tag="wes"))
    ok = ctx.pbx.expect(lambda x: x.call_id == cid and x.status == 200, 2.0, "the app's 200")
    assert vias(ok) == [via], ok
    w = d.wake()
    assert w.get("wake_message_pushes") == 1 and w.get("wake_message_delivered") == 1, w


def test_cancel_while_waking_over_tcp_then_invite_and_cancel_on_the_new_connection(sctx):
    """The PBX cancels a held call before the TCP app wakes: 200 and 487 at
    once; the app woken over a new connection still gets the INVITE, then
    the CANCEL (so iOS can end the call CallKit showed), down that one."""
    ctx = sctx
    dev = Device("cora")
    call, d, mark = held_while_asleep(ctx, dev, "TCP")
    ctx.pbx.send(call.cancel())
    ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
    r487 = ctx.pbx.expect(final_of(call.cid), 1.0, "487 to the INVITE")
    assert r487.status == 487, r487
    ctx.pbx.send(call.ack_final(r487))
    new = stream_app(ctx, "TCP")
    register(ctx, new, dev, cseq=2)
    inv = new.expect(is_req("INVITE", call.cid), 2.0, "the cancelled call's INVITE")
    check_down_stream(inv, call, new, dev)
    new.send(reply(inv, 180, "Ringing", tag="late"))
    can = new.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL down the connection")
    assert can.get("Reason") and can.branch() == inv.branch(), can
    new.send(reply(can, 200, "OK"))
    new.send(reply(inv, 487, "Request Terminated", tag="late"))
    new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
    ctx.pbx.nothing(of_call(call.cid), 0.5, "anything of the cancelled call")
    d.no_held()
    w = d.wake()
    assert w.get("wake_cancelled") == 1 and w.get("wake_late_cancels") == 1, w


def test_asleep_tcp_app_never_wakes_480(sctx):
    ctx = sctx
    call, d, _ = held_while_asleep(ctx, Device("wes"), "TCP")
    fin = ctx.pbx.expect(final_of(call.cid), TIMEOUT_S + 1.5, "480 after the wake timeout")
    assert fin.status == 480, fin
    ctx.pbx.send(call.ack_final(fin))
    d.no_held()


def conns(ctx):
    return ctx.lab.telemetry("/sipwake/conns")


def raw_conn(ctx, dport=5060, ip=APP4):
    ctx.next_port += 1
    ep = StreamEndpoint(ctx.lab.ns_peer, ip, ctx.next_port, "TCP", dport=dport)
    ctx.apps.append(ep)
    return ep


def test_bad_streams_end_themselves_only_while_a_call_rings(sctx):
    """Each bad stream (docs/streams.md, "Bad input") closes its own
    connection, counted by reason in /sipwake/conns, while a call rings on
    another connection; the call then completes."""
    ctx = sctx
    dev, good = Device("xia"), stream_app(ctx, "TCP")
    register(ctx, good, dev)
    call = Call("sip:%s" % dev.aor, dev.user, route=False)
    call_in(ctx, call)
    inv = good.expect(is_req("INVITE", call.cid), 1.0, "the INVITE to the good app")
    ring(ctx, good, inv, call)
    before = conns(ctx)
    cases = [  # (what is sent, the reason /sipwake/conns counts, on the TLS port?)
        ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s:1;branch=z9hG4bK-x\r\n\r\n"
         % (SW4, APP4), "closed_no_length", False),
        ("OPTIONS sip:%s SIP/2.0\r\nContent-Length: -5\r\n\r\n" % SW4,
         "closed_bad_length", False),
        ("OPTIONS sip:%s SIP/2.0\r\nContent-Length: 70000\r\n\r\n" % SW4,
         "closed_too_large", False),
        (b"\x16\x03\x01\x00\x05garbage-not-a-client-hello" * 4, "closed_tls_failed", True),
        (b"", "closed_handshake_timeout", True),  # connects, never says hello
    ]
    for data, _, tls in cases:
        bad = raw_conn(ctx, 5061 if tls else 5060)
        if data:
            bad.send(data)
        assert bad.closed_by_peer(4.0), "left open: %r" % (data,)
    # Slowloris: a header block a byte at a time, never whole within header_s.
    slow = raw_conn(ctx)
    t0 = time.monotonic()
    for b in "OPTIONS sip:%s SIP/2.0\r\nVia: " % SW4:
        if slow.closed_by_peer(0.25):
            break
        slow.send(b)
    assert slow.closed_by_peer(3.0) and time.monotonic() - t0 < 5.0
    # 20 connections from one source: 16 (max_conns_per_source) are kept.
    ctx.lab.peer(["ip", "addr", "add", FLOODER + "/24", "dev", ctx.lab.if_peer])
    flood = [raw_conn(ctx, ip=FLOODER) for _ in range(20)]
    time.sleep(0.5)
    closed = [c for c in flood if c.closed_by_peer(0.05)]
    assert len(closed) == 4, "kept %d of 20" % (20 - len(closed))
    after = conns(ctx)
    for _, reason, tls in cases + [(None, "closed_header_timeout", False)]:
        tp = "tls" if tls else "tcp"
        assert after[tp][reason] - before[tp][reason] >= 1, (reason, after[tp])
    assert after["tcp"]["refused_source"] - before["tcp"]["refused_source"] == 4, after["tcp"]
    # The call went on meanwhile.
    ok = answer(ctx, good, inv, call)
    hang_up(ctx, good, call, ok)
    for c in flood:
        c.close()


def wss_app(ctx):
    ctx.next_port += 1
    ep = WsEndpoint(ctx.lab.ns_peer, APP4, ctx.next_port, 7443, "/sip", cafile=ctx.lab.cert)
    ctx.apps.append(ep)
    assert ep.subprotocol == "sip", ep.subprotocol  # RFC 7118 §4.1
    return ep


def test_web_app_over_wss_called_then_woken_over_a_new_connection(sctx):
    ctx = sctx
    dev, app1 = Device("zoe"), wss_app(ctx)
    register_stream(ctx, app1, dev)
    assert ctx.lab.device(dev.aor, dev.instance)["transport"] == "wss"
    call = Call("sip:%s" % dev.aor, dev.user, route=False)
    call_in(ctx, call)
    inv = app1.expect(is_req("INVITE", call.cid), 1.0, "the INVITE in a WebSocket frame")
    assert inv.ruri == contact_of(dev, app1, pn=False), inv
    assert re.match(r"SIP/2\.0/WSS 198\.18\.0\.1:7443;branch=z9hG4bK-swCi", vias(inv)[0]), inv
    rr = inv.all("Record-Route")
    assert len(rr) == 2 and ";transport=wss" in rr[0] and rr_ours(rr[1]), inv
    ring_and_answer(ctx, app1, inv, call)
    # The tab is closed: asleep; the next call wakes it over a new connection.
    app1.close()
    ctx.wait_state(dev, "asleep", 2.0)
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call2 = Call("sip:%s" % dev.aor, dev.user, route=False)
    call_in(ctx, call2)
    ctx.push.wait_req(dev.token, start=mark)
    app2 = wss_app(ctx)
    register_stream(ctx, app2, dev, cseq=2)
    inv2 = app2.expect(is_req("INVITE", call2.cid), 2.0, "the held INVITE over the new WSS")
    assert inv2.ruri == contact_of(dev, app2, pn=False), inv2
    ring_and_answer(ctx, app2, inv2, call2)
    app2.nothing(is_req("INVITE", call2.cid), 0.3)
    d.no_held()
    assert d.wake().get("wake_woken") == 1


def options_ok(app, n):
    """OPTIONS to sipwake down @app's connection is answered 200 on it."""
    cid = "opt-%d-%d@app" % (app.port, n)
    app.send(build("OPTIONS sip:%s SIP/2.0" % SW4, [
        "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-opt-%d" % (app.transport, app.ip, app.port, n),
        "Max-Forwards: 70", "From: <sip:probe@%s>;tag=o%d" % (DOMAIN, n),
        "To: <sip:%s>" % SW4, "Call-ID: " + cid, "CSeq: 1 OPTIONS"]))
    return app.expect(is_resp(200, cid), 2.0, "200 to OPTIONS")


def test_sighup_reloads_the_certificate_and_keeps_connections(sctx):
    ctx = sctx
    dev, old = Device("yann"), stream_app(ctx, "TLS")
    register(ctx, old, dev)
    old_cert = old.s.getpeercert(binary_form=True)
    before = conns(ctx)["cert_reloads"]
    # The operator renews the certificate under the same file names.
    new_cert, new_key = make_cert(ctx.lab.tmp, "renewed")
    shutil.copy(new_cert, ctx.lab.cert)
    shutil.copy(new_key, ctx.lab.key)
    ctx.lab.proc.send_signal(signal.SIGHUP)
    end = time.monotonic() + 3.0
    while conns(ctx)["cert_reloads"] == before:
        assert time.monotonic() < end, ctx.lab.read_log()[-2000:]
        time.sleep(0.05)
    new = stream_app(ctx, "TLS")  # trusts the renewed certificate only
    assert new.s.getpeercert(binary_form=True) != old_cert
    # The connection made before the reload is still there, and its device alive.
    options_ok(old, 1)
    assert ctx.lab.device(dev.aor, dev.instance)["state"] == "alive"
    new.close()


@pytest.mark.parametrize("form", ["rfc8599", "legacy", "xpush"])
def test_sipp_app_registers_over_tcp_in_each_push_form(sctx, form):
    """sipp as the app over TCP (-t t1: one connection), challenged by a
    sipp registrar on UDP: the binding is the connection's while it lasts,
    asleep once sipp has closed it."""
    ctx = sctx
    user = "t" + form
    ctx.next_port += 1
    port = ctx.next_port
    with ctx.pbx_port_free():
        with sippkit.lab_sipp(ctx.lab, "pbx_registrar.xml", PBX4, 5060, sets={"form": form},
                              timeout=20) as uas:
            uac = sippkit.lab_run_sipp(ctx.lab, "app_register.xml", APP4, port, remote=SW4,
                                       service=user, timeout=20,
                                       sets={"form": form, "expect_expires": 300},
                                       extra=["-t", "t1", "-au", user, "-ap", "secret",
                                              "-recv_timeout", "5000"])
            res = uas.wait()
    assert uac.ok and res.ok, sippkit.explain(uac, res)
    aor = "%s@%s" % (user, SW4)
    end = time.monotonic() + 3.0
    while True:
        devs = ctx.lab.devices(aor)
        assert len(devs) == 1, devs
        if devs[0]["state"] == "asleep" or time.monotonic() > end:
            break
        time.sleep(0.1)
    d = devs[0]
    assert d["transport"] == "tcp" and d["source"] == "%s:%d" % (APP4, port), d
    assert d["push_provider"] == "apns" and 290 <= d["expires_in_s"] <= 300, d
    assert d["state"] == "asleep" and d["connection"] == 0, d  # sipp closed it


def sipp_stream_app(ctx, dev, port, cid):
    """sipp as an app on one TCP connection (app_stream_uas.xml, -t t1),
    its Call-ID the call's, so that the INVITE maps to its scenario."""
    return sippkit.lab_sipp(ctx.lab, "app_stream_uas.xml", APP4, port, remote=SW4,
                            service=dev.user, timeout=25,
                            sets={"token": dev.token, "pn_param": PN_PARAM,
                                  "instance": "urn:uuid:" + dev.instance, "domain": DOMAIN},
                            extra=["-t", "t1", "-cid_str", cid]).start(bound_timeout=None)


def pbx_takes_register_and_calls(ctx, dev, call, app_port):
    req = ctx.pbx.expect(lambda m: m.method == "REGISTER" and dev.instance in
                         (m.get("Contact") or ""), 5.0, "the sipp app's REGISTER")
    assert "@%s:%d;transport=TCP" % (APP4, app_port) in req.get("Contact"), req
    ctx.pbx.send(reply(req, 200, "OK", tag="pbxreg", extra=[
        "Contact: " + c + ";expires=600" for c in req.all("Contact")]), *req.src)


def test_sipp_app_over_tcp_alive_call_then_woken_over_a_new_connection(sctx):
    """sipp as the app over TCP (-t t1): registered and alive, it takes a
    call down its connection; its connection closed (sipp ended), the next
    call is pushed, and a new sipp (a new connection from a new port)
    registers and takes the held INVITE there, once."""
    ctx = sctx
    dev = Device("sammy")
    ctx.next_port += 2
    p1, p2 = ctx.next_port - 1, ctx.next_port
    call = Call("sip:%s" % dev.aor, dev.user, route=False)
    app = sipp_stream_app(ctx, dev, p1, call.cid)
    try:
        pbx_takes_register_and_calls(ctx, dev, call, p1)
        ctx.wait_state(dev, "alive", 2.0)
        call_in(ctx, call)
        ok = ctx.pbx.expect(is_resp(200, call.cid, "INVITE"), 3.0, "the sipp app's 200")
        ctx.pbx.send(call.in_dialog("ACK", ok, 1))
        ctx.pbx.send(call.in_dialog("BYE", ok, 2))
        ctx.pbx.expect(is_resp(200, call.cid, "BYE"), 3.0, "200 to the BYE")
        res = app.wait(10)
    finally:
        app.stop()
    assert res.ok, sippkit.explain(res, ctx.lab.read_log()[-2000:])
    ctx.wait_state(dev, "asleep", 3.0)  # sipp ended: its connection closed
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call2 = Call("sip:%s" % dev.aor, dev.user, route=False)
    call_in(ctx, call2)
    ctx.push.wait_req(dev.token, start=mark)
    woken = sipp_stream_app(ctx, dev, p2, call2.cid)
    try:
        pbx_takes_register_and_calls(ctx, dev, call2, p2)
        ok = ctx.pbx.expect(is_resp(200, call2.cid, "INVITE"), 3.0, "the woken app's 200")
        ctx.pbx.send(call2.in_dialog("ACK", ok, 1))
        ctx.pbx.send(call2.in_dialog("BYE", ok, 2))
        ctx.pbx.expect(is_resp(200, call2.cid, "BYE"), 3.0, "200 to the BYE")
        res = woken.wait(10)
    finally:
        woken.stop()
    assert res.ok, sippkit.explain(res, ctx.lab.read_log()[-2000:])
    d.no_held()
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
    assert w.get("wake_branches") == 1 and w.get("wake_answered") == 1, w

