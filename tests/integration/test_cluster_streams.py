# SPDX-License-Identifier: BSD-3-Clause
"""A device whose connection lives on another edge (docs/cluster.md, "Any
edge routes any call"): an app holds a TLS connection to e0; the PBX calls
it through e1, which cannot reach the connection and relays the call to e0;
e0 sends it down the connection, and the answers come back through e1. When
the connection closes the device is asleep on e0, and a call through e1
wakes it: e0 holds and pushes (the edge the device is bound through decides),
the app opens a new TLS connection to e0 and gets the call down it; or to
e1, and e0 sends the held call on through e1.
A UDP app bound through e0 is pinged by e0 alone. Two real edges, one
Redis (scripts/swcluster.py), streampeer's TLS apps."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clusterkit import device_on, until  # noqa: E402
from streampeer import StreamEndpoint, make_cert  # noqa: E402
from wakecluster import WakeCluster, serve_cluster  # noqa: E402
from wakekit import (APP4, PING_WAKE, SDP_APP, Delta, Device, is_req, is_resp,  # noqa: E402
                     reply, vias)

STREAMS = ('streams: { tls = { port = 5061; cert = "%s"; key = "%s"; }; '
           'handshake_s = 2; header_s = 2; };')


@pytest.fixture(scope="module")
def ctx():
    # Pings every second: one edge pings a device, the one it is bound through.
    cl = WakeCluster("wct%d" % (os.getpid() % 10000), PING_WAKE, n_edges=2, cluster_config=True,
                     ping_interval_s=1)
    cl.cert, cl.key = make_cert(cl.tmp)
    for e in cl.edges:
        e.config_extra += "\n" + STREAMS % (cl.cert, cl.key)
    yield from serve_cluster(cl)


def tls_app(ctx, edge=0):
    """A TLS app connected to edge @edge (e0: 198.18.0.1:5061) from a fresh
    port."""
    ctx.next_port += 1
    ep = StreamEndpoint(ctx.lab.ns_peer, APP4, ctx.next_port, "TLS", dport=5061,
                        cafile=ctx.lab.cert, dst=ctx.edges[edge].sw_ip4)
    ctx.apps.append(ep)
    return ep


def contact_of(dev, app):
    return dev.contact(app.ip, app.port) + ";transport=tls"


def answer(ctx, app, inv, call):
    app.send(reply(inv, 200, "OK", tag="t1", contact="sip:u@%s:%d;transport=tls" % (
        app.ip, app.port), body=SDP_APP))
    ok = ctx.pbx.expect(is_resp(200, call.cid, "INVITE"), 3.0, "the app's 200")
    assert vias(ok) == [call.via], ok
    return ok


def test_call_through_other_edge_down_the_connection(ctx):
    e0, e1 = ctx.edges
    dev, app = Device("tess"), tls_app(ctx)
    ctx.register(app, dev, contact=contact_of(dev, app))
    dv = until(lambda: device_on(e1, dev), 2.0, "tess on e1")
    assert dv["transport"] == "tls" and dv["peer"] == "e0" and dv["connection"] == 0, dv
    assert device_on(e0, dev)["connection"] > 0
    d0, d1, mark = Delta(e0), Delta(e1), ctx.push.mark()
    call = ctx.call("sip:%s" % dev.aor, dev.user, edge=1, route=False)
    ctx.pbx.send(call.invite, call.edge)
    inv = app.expect(is_req("INVITE", call.cid), 3.0, "the INVITE down the TLS connection")
    assert vias(inv)[-1] == call.via and any(e1.sw_ip4 in v for v in vias(inv)), inv
    ok = answer(ctx, app, inv, call)
    assert ok.to_tag() == "t1"
    c0, c1 = d0(), d1()
    assert c1["fwd_to_peer"] == 1 and c1["wake_pushes"] == 0, c1
    assert c0["sip_from_peer"] >= 1 and c0["wake_pushes"] == 0, c0
    assert ctx.push.reqs(dev.token, None, mark) == []


def held_on_e0(ctx, name):
    """A device bound over TLS through e0, asleep (its connection closed),
    called by the PBX through e1: held and pushed on e0, the edge it is
    bound through. Returns the device, the call, both edges' Deltas from
    before the call and the push server's mark."""
    e0, e1 = ctx.edges
    dev, app = Device(name), tls_app(ctx)
    ctx.register(app, dev, contact=contact_of(dev, app))
    until(lambda: device_on(e1, dev), 2.0, "%s on e1" % name)
    app.close()  # a sleeping phone: asleep at once on e0
    until(lambda: device_on(e0, dev)["state"] == "asleep", 2.0, "%s asleep on e0" % name)
    d0, d1, mark = Delta(e0), Delta(e1), ctx.push.mark()
    call = ctx.call("sip:%s" % dev.aor, dev.user, edge=1, route=False)
    ctx.pbx.send(call.invite, call.edge)
    push = ctx.push.wait_req(dev.token, start=mark)
    assert push["edge"] == 0, push  # the edge it is bound through pushes
    return dev, call, d0, d1, mark


def test_closed_connection_woken_through_its_edge(ctx):
    dev, call, d0, d1, _ = held_on_e0(ctx, "uma")
    new = tls_app(ctx)
    ctx.register(new, dev, contact=contact_of(dev, new))
    inv = new.expect(is_req("INVITE", call.cid), 3.0, "the held INVITE down the new connection")
    answer(ctx, new, inv, call)
    w0, c1 = d0(), d1()
    assert w0["wake_woken"] == 1 and w0["wake_answered"] == 1, w0
    assert c1["fwd_to_peer"] == 1 and c1["wake_pushes"] == 0, c1


def test_woken_over_a_connection_to_the_other_edge(ctx):
    """The PBX calls through e1 a device asleep on e0: e1 relays the call to
    e0, which holds it and pushes; the app wakes over a new TLS connection
    to e1, not e0. e0 sends the held INVITE on through e1, the one edge
    with that connection, though e1 relayed the call to it (docs/cluster.md,
    "Wake across edges"); found by the soak (scripts/soak.py --edges 2),
    where e0 sent it to the app's address over a connection it did not
    have, and the call ended 480."""
    e0, e1 = ctx.edges
    dev, call, d0, d1, mark = held_on_e0(ctx, "wes")
    new = tls_app(ctx, edge=1)
    ctx.register(new, dev, contact=contact_of(dev, new))
    inv = new.expect(is_req("INVITE", call.cid), 3.0, "the held INVITE down the connection to e1")
    answer(ctx, new, inv, call)
    w0, c1 = d0(), d1()
    assert w0["wake_woken"] == 1 and w0["wake_via_peer"] == 1 and w0["wake_answered"] == 1, w0
    # e1's 100 Trying to e0 fills in e0's rport (RFC 3581 §4), no second
    # one, which e0's scanner would drop (sip/sip_reply.c, via_rport())
    assert w0.get("drop_sip_bad_via", 0) == 0 and c1.get("drop_sip_bad_via", 0) == 0, w0
    assert c1["fwd_to_peer"] == 1 and c1["wake_pushes"] == 0, c1
    assert ctx.push.reqs(dev.token, None, mark)[1:] == []  # one push, one wake
    assert device_on(e1, dev)["connection"] > 0 and device_on(e0, dev)["peer"] == "e1"


def test_one_edge_pings_a_device(ctx):
    """A UDP app bound through e0 is pinged by e0 alone while e0 answers
    (docs/cluster.md): e1 has the binding and sends it nothing."""
    e0, e1 = ctx.edges
    dev, app = Device("pia"), ctx.app(edge=0)
    ctx.register(app, dev)
    until(lambda: device_on(e1, dev), 2.0, "pia on e1")
    d0, d1, n0 = Delta(e0), Delta(e1), app.options
    app.nothing(timeout=3.5)  # pumps: answers the pings that come
    assert app.options - n0 >= 2 and all(p.src == (e0.sw_ip4, 5060) for p in app.pings), \
        app.pings
    assert d0()["pings_sent"] >= 2 and d1()["pings_sent"] == 0, (d0(), d1())
