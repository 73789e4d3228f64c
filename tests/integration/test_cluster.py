# SPDX-License-Identifier: BSD-3-Clause
"""Two edges sharing their bindings through one Redis (docs/cluster.md),
each a real sipwake in its own namespace (scripts/swcluster.py), one PBX and
apps in the peer namespace, a push server per edge:

  - a REGISTER through one edge is in Redis and in the other edge's tables;
  - a call through the other edge reaches the device through the edge it is
    bound through (which Record-Routes), and the dialog goes on there;
  - a call held on one edge for an asleep device goes on, once, through the
    other edge when the woken app registers there; CANCEL follows it; a
    fork reaches a phone bound through the other edge through that edge;
  - one device registering through both edges at once ends as one binding;
  - junk and refused REGISTERs through one edge change no table anywhere;
  - Redis stopped under traffic: REGISTERs are journaled and answered, calls
    still routed; Redis back: the journal is replayed, the edges converge;
  - an edge killed (-9) with devices bound through it: the other keeps every
    binding, finds the dead edge down, and a call for its device wakes it and
    reaches it through the live edge.

The tests run in this order on one lab; each names what it needs. Sentinel
failover is test_cluster_sentinel.py's."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakecluster import WakeCluster, serve_cluster  # noqa: E402
from wakekit import (PING_WAKE, Delta, Device, build, call_in, final_of, is_req,  # noqa: E402
                     is_resp, reply, rr_ours, vias, wait_journal)
from clusterkit import cluster, device_on, redis_binding, until  # noqa: E402
from wakesip import SDP_APP  # noqa: E402,F401

OUTAGE_S = 30  # Redis away for this long (the figure), traffic going on


@pytest.fixture(scope="module")
def ctx():
    cl = WakeCluster("wcl%d" % (os.getpid() % 10000), PING_WAKE, n_edges=2,
                     cluster_config=True, redis_args=("--appendonly", "yes",
                                                      "--appendfsync", "always"))
    yield from serve_cluster(cl)


def both_up(ctx):
    for e in ctx.edges:
        until(lambda: cluster(e)["redis_state"] == "up" and cluster(e)["peers_up"] == 1, 10,
              "%s up with Redis and its peer" % e.edge_name)


def dialog_ends(ctx, app, call, ok):
    """ACK and BYE along the 200's Record-Route (the edge that reached the
    device), as a PBX does; both reach @app, the BYE's 200 comes back."""
    rr = ok.all("Record-Route")
    assert len(rr) == 1, ok  # one edge in the dialog: the one that reaches the app
    edge_ip = rr[0].split("sip:")[1].split(":")[0]
    ctx.pbx.send(call.in_dialog("ACK", ok, 1), edge_ip)
    app.expect(is_req("ACK", call.cid), 2.0, "the PBX's ACK")
    ctx.pbx.send(call.in_dialog("BYE", ok, 2), edge_ip)
    bye = app.expect(is_req("BYE", call.cid), 2.0, "the PBX's BYE")
    app.send(reply(bye, 200, "OK"), *bye.src)
    ctx.pbx.expect(is_resp(200, call.cid, "BYE"), 2.0, "200 to the BYE")
    return edge_ip


def answer_call(ctx, app, inv, call):
    app.send(reply(inv, 200, "OK", tag="app1", contact="sip:%s@%s:%d" % (
        "u", app.ip, app.port), body=SDP_APP), *inv.src)
    ok = ctx.pbx.expect(is_resp(200, call.cid, "INVITE"), 3.0, "the app's 200")
    assert vias(ok) == [call.via], ok
    return ok


def test_register_through_one_edge_is_everywhere(ctx):
    e0, e1 = ctx.edges
    both_up(ctx)
    dev, app = Device("ann"), ctx.app(edge=0)
    d1 = Delta(e1)
    ctx.register(app, dev)
    contact = dev.contact(app.ip, app.port)
    # In Redis when the app heard its 200 (durable before relayed).
    assert contact.split(";")[0] in redis_binding(ctx.lab, dev)
    got = until(lambda: device_on(e1, dev, contact), 2.0, "the binding on e1")
    assert got["peer"] == "e0", got
    assert device_on(e0, dev, contact)["peer"] == "", device_on(e0, dev)
    c = d1()
    assert c["bindings_remote"] == 1 and c["bindings_created"] == 1, c
    assert cluster(e1)["feed_changes"] >= 1 and cluster(e0)["batches_ok"] >= 1


def test_call_through_the_other_edge(ctx):
    """Bound through e0, called through e1: e1 relays to e0 (Via only), e0
    reaches the app and Record-Routes; the dialog's requests go to e0."""
    e0, e1 = ctx.edges
    dev, app = Device("bob"), ctx.app(edge=0)
    ctx.register(app, dev)
    until(lambda: device_on(e1, dev), 2.0, "bob on e1")
    app.send(b"\r\n\r\n")  # alive at e0
    time.sleep(0.1)
    d0, d1 = Delta(e0), Delta(e1)
    call = ctx.call(dev.contact(app.ip, app.port), dev.user, edge=1)
    ctx.pbx.send(call.invite, call.edge)
    inv = app.expect(is_req("INVITE", call.cid), 3.0, "the INVITE, through e0")
    assert inv.src == (e0.sw_ip4, 5060), inv
    vs = vias(inv)
    assert len(vs) == 3 and e0.sw_ip4 in vs[0] and e1.sw_ip4 in vs[1] and vs[2] == call.via, inv
    rr = inv.all("Record-Route")
    assert len(rr) == 1 and rr_ours(rr[0], e0.sw_ip4), inv
    assert inv.ruri == dev.contact(app.ip, app.port, pn=False), inv
    ok = answer_call(ctx, app, inv, call)
    assert dialog_ends(ctx, app, call, ok) == e0.sw_ip4
    c0, c1 = d0(), d1()
    assert c1["fwd_to_peer"] == 1 and c1["wake_pushes"] == 0, c1
    assert c0["sip_from_peer"] >= 1 and c0["fwd_requests_to_device"] >= 3, c0
    assert c0["wake_pushes"] == 0, c0


def test_in_dialog_requests_to_the_other_edge_follow_the_route(ctx):
    """A PBX that sends a dialog's requests to whichever edge it likes (an
    outbound proxy naming every edge): the ACK and BYE of a dialog e0
    Record-Routed reach e1, whose first Route names e0: relayed to e0 (Via
    only), which takes its Route off and reaches the app; the BYE's 200
    comes back the way it went."""
    e0, e1 = ctx.edges
    dev, app = Device("bea"), ctx.app(edge=0)
    ctx.register(app, dev)
    until(lambda: device_on(e1, dev), 2.0, "bea on e1")
    app.send(b"\r\n\r\n")  # alive at e0
    time.sleep(0.1)
    call = ctx.call(dev.contact(app.ip, app.port), dev.user, edge=0)
    ctx.pbx.send(call.invite, call.edge)
    inv = app.expect(is_req("INVITE", call.cid), 3.0, "the INVITE, through e0")
    # The app's 200 Contact is not its registered contact: only the Route
    # can find it (as a softphone answers with a contact of its own).
    app.send(reply(inv, 200, "OK", tag="app1", contact="sip:bea-call@%s:%d" % (
        app.ip, app.port), body=SDP_APP), *inv.src)
    ok = ctx.pbx.expect(is_resp(200, call.cid, "INVITE"), 3.0, "the app's 200")
    d0, d1 = Delta(e0), Delta(e1)
    ctx.pbx.send(call.in_dialog("ACK", ok, 1), e1.sw_ip4)
    ack = app.expect(is_req("ACK", call.cid), 2.0, "the ACK, through e1 and e0")
    assert ack.src == (e0.sw_ip4, 5060) and ack.all("Route") == [], ack
    ctx.pbx.send(call.in_dialog("BYE", ok, 2), e1.sw_ip4)
    bye = app.expect(is_req("BYE", call.cid), 2.0, "the BYE, through e1 and e0")
    vs = vias(bye)
    assert len(vs) == 3 and e0.sw_ip4 in vs[0] and e1.sw_ip4 in vs[1], bye
    app.send(reply(bye, 200, "OK"), *bye.src)
    got = ctx.pbx.expect(is_resp(200, call.cid, "BYE"), 2.0, "200 to the BYE")
    assert vias(got) == [vias(bye)[2]], got
    c0, c1 = d0(), d1()
    assert c1["fwd_to_peer"] == 2 and c1.get("drop_fwd_no_device", 0) == 0, c1
    assert c0["fwd_requests_to_device"] == 2, c0


def test_wake_across_edges(ctx):
    """Held on e0 for an asleep device; the woken app registers through e1
    from a new port: the feed brings it to e0, whose held INVITE reaches
    the app once, through e1."""
    e0, e1 = ctx.edges
    dev, old = Device("cleo"), ctx.app(edge=0)
    ctx.asleep((old, dev))
    d0, d1, mark = Delta(e0), Delta(e1), ctx.push.mark()
    call = ctx.call(dev.contact(old.ip, old.port), dev.user, edge=0)
    call_in(ctx, call)
    # Journaled in e0's own file (never in Redis: docs/design.md §7).
    wait_journal(e0, [call.cid])
    push = ctx.push.wait_req(dev.token, start=mark)
    assert push["edge"] == 0, push
    new = ctx.app(edge=1)
    ctx.register(new, dev)
    inv = new.expect(is_req("INVITE", call.cid), 3.0, "the held INVITE, through e1")
    assert inv.src == (e1.sw_ip4, 5060), inv
    vs = vias(inv)
    assert len(vs) == 3 and "branch=z9hG4bK-swCi" in vs[1] and e0.sw_ip4 in vs[1], inv
    rr = inv.all("Record-Route")
    assert len(rr) == 1 and rr_ours(rr[0], e1.sw_ip4), inv
    # Once: what else comes is the same transaction retransmitted (Timer
    # A, no provisional yet), over the same path, never a second branch.
    again = new.collect(is_req("INVITE", call.cid), 1.0)
    assert all(m.src == inv.src and vias(m) == vs for m in again), again
    ok = answer_call(ctx, new, inv, call)
    assert dialog_ends(ctx, new, call, ok) == e1.sw_ip4
    w0, c1 = d0(), d1()
    assert w0["wake_woken"] == 1 and w0["wake_answered"] == 1 and w0["wake_via_peer"] == 1, w0
    assert c1["bindings_refreshed"] == 1 and c1["wake_pushes"] == 0, c1
    d0.no_held(3.0)
    wait_journal(e0, [])
    wait_journal(e1, [])


def test_cancel_across_edges(ctx):
    """A call held on e0, its woken app registered through e1 and ringing:
    the PBX's CANCEL to e0 reaches the app through e1, the 487 comes back
    the same way (CANCEL holds as on one edge)."""
    e0, e1 = ctx.edges
    dev, old = Device("cora"), ctx.app(edge=0)
    ctx.asleep((old, dev))
    d0, mark = Delta(e0), ctx.push.mark()
    call = ctx.call(dev.contact(old.ip, old.port), dev.user, edge=0)
    call_in(ctx, call)
    ctx.push.wait_req(dev.token, start=mark)
    new = ctx.app(edge=1)
    ctx.register(new, dev)
    inv = new.expect(is_req("INVITE", call.cid), 3.0, "the held INVITE, through e1")
    new.send(reply(inv, 180, "Ringing", tag="cora1"), *inv.src)
    ctx.pbx.expect(is_resp(180, call.cid), 2.0, "the 180, back through e1 and e0")
    ctx.pbx.send(call.cancel(), call.edge)
    ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
    can = new.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL, through e1")
    assert can.src == (e1.sw_ip4, 5060) and can.branch() == inv.branch(), can
    new.send(reply(can, 200, "OK"), *can.src)
    new.send(reply(inv, 487, "Request Terminated", tag="cora1"), *inv.src)
    r487 = ctx.pbx.expect(final_of(call.cid), 2.0, "487 to the INVITE")
    assert r487.status == 487, r487
    ctx.pbx.send(call.ack_final(r487), call.edge)
    new.expect(is_req("ACK", call.cid), 2.0, "e0's ACK for the 487, through e1")
    d0.no_held(3.0)
    w = d0.wake()
    assert w.get("wake_cancelled") == 1 and w.get("wake_via_peer") == 1, w


def test_fork_across_edges(ctx):
    """An AOR with a phone bound through each edge, both awake, called
    through e0: e0 forks, its own phone gets the INVITE from e0, the other
    from e1 (e0 sends it through the edge it is bound through, which
    decides it is awake); the second answers, the first gets CANCEL."""
    e0, e1 = ctx.edges
    d1, d2 = Device("fox", 1), Device("fox", 2)
    a1, a2 = ctx.app(edge=0), ctx.app(edge=1)
    ctx.register(a1, d1)
    ctx.register(a2, d2)
    until(lambda: len(e0.devices(d1.aor)) == 2 and len(e1.devices(d1.aor)) == 2, 2.0,
          "both phones on both edges")
    a1.send(b"\r\n\r\n")
    a2.send(b"\r\n\r\n")
    time.sleep(0.1)
    d0, mark = Delta(e0), ctx.push.mark()
    call = ctx.call("sip:%s" % d1.aor, d1.user, edge=0, route=False)
    call_in(ctx, call)
    i1 = a1.expect(is_req("INVITE", call.cid), 3.0, "the INVITE to the phone on e0")
    i2 = a2.expect(is_req("INVITE", call.cid), 3.0, "the INVITE to the phone on e1")
    assert i1.src == (e0.sw_ip4, 5060) and i2.src == (e1.sw_ip4, 5060), (i1, i2)
    a1.send(reply(i1, 180, "Ringing", tag="f1"), *i1.src)
    a2.send(reply(i2, 180, "Ringing", tag="f2"), *i2.src)
    ok = answer_call(ctx, a2, i2, call)
    can = a1.expect(is_req("CANCEL", call.cid), 3.0, "CANCEL to the phone that did not answer")
    a1.send(reply(can, 200, "OK"), *can.src)
    a1.send(reply(i1, 487, "Request Terminated", tag="f1"), *i1.src)
    assert dialog_ends(ctx, a2, call, ok) == e1.sw_ip4
    d0.no_held(3.0)
    w = d0.wake()
    assert w.get("wake_via_peer") == 1 and w.get("wake_branches") == 2, w
    assert w.get("wake_answered") == 1 and not w.get("wake_pushes"), w
    assert ctx.push.reqs(d1.token, None, mark) == [] and ctx.push.reqs(d2.token, None, mark) == []


def test_one_device_through_both_edges_at_once(ctx):
    e0, e1 = ctx.edges
    dev = Device("dan")
    a0, a1 = ctx.app(edge=0), ctx.app(edge=1)
    ctx.send_register(a0, dev)
    ctx.send_register(a1, dev)
    ctx.pbx_answer_register(dev, a0)
    ctx.pbx_answer_register(dev, a1)
    a0.expect(is_resp(200), 3.0, "200 through e0")
    a1.expect(is_resp(200), 3.0, "200 through e1")
    # One binding, the same on both edges and in Redis (newest wins, ties
    # to the later write).
    until(lambda: device_on(e0, dev) and device_on(e1, dev)
          and device_on(e0, dev)["contact"] == device_on(e1, dev)["contact"], 3.0,
          "the edges agree on dan")
    assert len(e0.devices(dev.aor)) == 1 and len(e1.devices(dev.aor)) == 1
    assert device_on(e0, dev)["contact"].split(";")[0] in redis_binding(ctx.lab, dev)


def test_junk_through_one_edge_changes_nothing(ctx):
    e0, e1 = ctx.edges
    dev, app = Device("eve"), ctx.app(edge=1)
    ctx.register(app, dev)
    until(lambda: device_on(e0, dev), 2.0, "eve on e0")
    def state():  # what junk must not change (not the clocks in it)
        keep = ("id", "contact", "source", "peer", "push_prid", "push_token0_state")
        return (redis_binding(ctx.lab, dev),) + tuple(
            {k: device_on(e, dev)[k] for k in keep} for e in (e0, e1))

    before = state()
    d0, d1 = Delta(e0), Delta(e1)
    # A REGISTER for eve from elsewhere that the PBX refuses, malformed
    # SIP, a scanner: through e0.
    thief = ctx.app(edge=0)
    ctx.send_register(thief, dev, cid="thief@x")
    ctx.pbx_answer_register(dev, thief, 403)
    thief.expect(is_resp(403), 3.0, "the PBX's 403")
    thief.send(b"REGISTER sip:x SIP/2.0\r\nVia: junk\r\n\r\n")
    thief.send(build("OPTIONS sip:100@198.18.0.1 SIP/2.0", [
        "Via: SIP/2.0/UDP 198.18.0.2:5099;branch=z9hG4bK-s1", "From: <sip:s@x>;tag=1",
        "To: <sip:100@x>", "Call-ID: scan1", "CSeq: 1 OPTIONS", "User-Agent: friendly-scanner"]))
    time.sleep(0.5)
    assert state() == before
    c0, c1 = d0(), d1()
    assert c0["reg_answer_unbound"] == 0 and c0["bindings_created"] == 0, c0
    junk = {k: v for k, v in c0.items() if k.startswith("drop_") and v}
    assert c0["drop_filter_scanner"] == 1 and c0["dropped"] >= 2, junk
    assert c1["bindings_remote"] == 0 and c1["bindings_created"] == 0, c1


def test_redis_away_then_back(ctx):
    """Redis killed for OUTAGE_S under traffic: the edges route and answer
    REGISTERs (journaled); back with its AOF: the journals are replayed,
    the other edge learns what it missed, nothing acknowledged is lost."""
    e0, e1 = ctx.edges
    alive_dev, alive_app = Device("fay"), ctx.app(edge=0)
    ctx.register(alive_app, alive_dev)
    until(lambda: device_on(e1, alive_dev), 2.0, "fay on e1")
    keep = redis_binding(ctx.lab, alive_dev)
    ctx.lab.redis_kill()
    for e in ctx.edges:
        until(lambda: cluster(e)["redis_state"] == "down", 5.0, "%s sees Redis down" % e.edge_name)
    devs = []
    end = time.monotonic() + OUTAGE_S
    n = 0
    while time.monotonic() < end:
        # A REGISTER through each edge, answered; a call routed through e1
        # to a device bound through e0 (the tables are the read path).
        for i in (0, 1):
            dev, app = Device("out%d" % n), ctx.app(edge=i)
            n += 1
            ctx.register(app, dev)
            devs.append((i, dev, app))
        alive_app.send(b"\r\n\r\n")
        call = ctx.call(alive_dev.contact(alive_app.ip, alive_app.port), alive_dev.user, edge=1)
        ctx.pbx.send(call.invite, call.edge)
        inv = alive_app.expect(is_req("INVITE", call.cid), 3.0, "a call while Redis is away")
        alive_app.send(reply(inv, 486, "Busy Here", tag="busy"), *inv.src)
        r = ctx.pbx.expect(is_resp(486, call.cid), 3.0, "486 back to the PBX")
        ctx.pbx.send(call.ack_final(r), call.edge)
        time.sleep(max(0.0, min(3.0, end - time.monotonic())))
    j0, j1 = cluster(e0), cluster(e1)
    assert j0["journal_depth"] >= len(devs) // 2 and j1["journal_depth"] >= len(devs) // 2, \
        (j0, j1)
    ctx.lab.redis_start()
    for e in ctx.edges:
        until(lambda: cluster(e)["redis_state"] == "up" and cluster(e)["journal_depth"] == 0,
              10.0, "%s replayed its journal" % e.edge_name)
    # Every REGISTER answered during the outage is in Redis and on both edges.
    for i, dev, app in devs:
        contact = dev.contact(app.ip, app.port)
        assert contact.split(";")[0] in redis_binding(ctx.lab, dev), dev.aor
        for e in ctx.edges:
            until(lambda: device_on(e, dev, contact), 3.0, "%s on %s" % (dev.aor, e.edge_name))
    assert redis_binding(ctx.lab, alive_dev) == keep  # from before the outage, kept
    assert cluster(e0)["replayed"] >= len(devs) // 2 and cluster(e1)["replayed"] >= len(devs) // 2


def test_edge_killed(ctx):
    """e0 killed with a device bound through it and a call held for it: e1
    keeps the binding, finds e0 down, and the call the PBX tries again
    through e1 wakes the device, which registers through e1 and gets it
    there. e0 comes back with every binding."""
    e0, e1 = ctx.edges
    both_up(ctx)
    dev, app = Device("gus"), ctx.app(edge=0)
    ctx.asleep((app, dev))
    until(lambda: device_on(e1, dev), 2.0, "gus on e1")
    held, mark0 = ctx.call(dev.contact(app.ip, app.port), dev.user, edge=0), ctx.push.mark()
    call_in(ctx, held)
    assert ctx.push.wait_req(dev.token, start=mark0)["edge"] == 0
    n_e0 = len(ctx.lab.redis_cli("KEYS", "sipwake:b:*").split())
    ctx.lab.kill_edge(0)  # its held call ends with it; the PBX tries e1
    until(lambda: cluster(e1)["peers_up"] == 0, 4.0, "e1 finds e0 down")
    assert e1.stats()["peer_down"] >= 1
    assert device_on(e1, dev) is not None
    d1, mark = Delta(e1), ctx.push.mark()
    call = ctx.call(dev.contact(app.ip, app.port), dev.user, edge=1)
    call_in(ctx, call)
    push = ctx.push.wait_req(dev.token, start=mark)
    assert push["edge"] == 1, push
    new = ctx.app(edge=1)
    ctx.register(new, dev)
    inv = new.expect(is_req("INVITE", call.cid), 3.0, "the held INVITE, from e1")
    assert inv.src == (e1.sw_ip4, 5060), inv
    ok = answer_call(ctx, new, inv, call)
    assert dialog_ends(ctx, new, call, ok) == e1.sw_ip4
    w = d1()
    assert w["wake_woken"] == 1 and w["wake_answered"] == 1 and w["fwd_to_peer"] == 0, w
    # e0 again: it loads every binding from Redis, and e1 is its peer again.
    ctx.lab.start_edge(0)
    both_up(ctx)
    assert len(ctx.lab.redis_cli("KEYS", "sipwake:b:*").split()) == n_e0
    got = until(lambda: device_on(e0, dev, dev.contact(new.ip, new.port)), 3.0, "gus on e0")
    assert got["peer"] == "e1", got
