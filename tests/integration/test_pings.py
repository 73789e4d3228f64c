# SPDX-License-Identifier: BSD-3-Clause
"""Pings and what their answers decide (docs/design.md §1.1, "Alive or
asleep"), in a lab pinging every second (bindings.ping_interval_s = 1,
alive_window_s = 2): the ping goes to the contact the device registered,
user part included and push parameters out (RFC 8599 §4.1.2), To its AOR,
at the source it registered from; an app answering 200 stays alive and gets
its call from the worker at once; another app that took over the device's
address and answers 404 (or 481) "no such contact" makes the device asleep
at once, and the next call is pushed rather than sent to that app. Every
wait is bounded."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)


@pytest.fixture(scope="module")
def ctx():
    with WakeLab("wkg%d" % (os.getpid() % 10000), PING_WAKE, ping_interval_s=1) as lab:
        c = Ctx(lab)
        try:
            yield c
        finally:
            c.close()
        assert lab.stop() == 0, lab.read_log()[-4000:]


def state(ctx, dev):
    ds = [d for d in ctx.lab.devices(dev.aor)
          if d.get("instance") == "<urn:uuid:%s>" % dev.instance]
    assert len(ds) == 1, ds
    return ds[0]


def answering(ctx, app, dev, want, timeout):
    """@app answers every ping (its options_status) while /sipwake/bindings
    is polled, until @dev shows state @want; returns its entry, or fails
    after @timeout s."""
    end = time.monotonic() + timeout
    while True:
        app.collect(lambda m: False, 0.1)  # answers pings, takes nothing
        d = state(ctx, dev)
        if d["state"] == want:
            return d
        assert time.monotonic() < end, "%s never %s in %.1f s: %s" % (dev.aor, want, timeout, d)


def holds(ctx, app, dev, want, seconds):
    """@dev stays @want for @seconds while @app answers every ping."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.collect(lambda m: False, 0.1)
        d = state(ctx, dev)
        assert d["state"] == want, "%s turned %s: %s" % (dev.aor, d["state"], d)


def next_ping(app, timeout=3.0):
    n, end = len(app.pings), time.monotonic() + timeout
    while len(app.pings) == n:
        assert time.monotonic() < end, "%s: no ping within %.1f s" % (app.name, timeout)
        app.collect(lambda m: False, 0.05)
    return app.pings[-1]


def test_ping_goes_to_the_contact_with_its_user_and_no_push_parameters(ctx):
    dev, app = Linphone("pia"), ctx.app()  # two tokens: pn-prid with & and :
    ctx.register(app, dev, contact=dev.contact(app.ip, app.port) + ";transport=udp")
    p = next_ping(app)
    assert p.src == (SW4, 5060), p
    assert p.ruri == "sip:pia@%s:%d;transport=udp" % (app.ip, app.port), p
    assert "pn-" not in p.text and dev.voip not in p.text and dev.regular not in p.text, p
    assert p.get("To") == "<sip:%s>" % dev.aor, p
    assert p.cseq == (1, "OPTIONS"), p
    assert p.branch().startswith("z9hG4bK-swCp"), p


def test_200_keeps_the_device_alive_and_its_call_goes_at_once(ctx):
    dev, app = Device("quin"), ctx.app()
    d0 = Delta(ctx.lab)
    ctx.register(app, dev)
    # Longer than the alive window twice over: only the answers keep it alive.
    holds(ctx, app, dev, "alive", 2 * ALIVE_WINDOW_S + 1)
    st = d0()
    assert st["pongs"] >= 3 and st.get("pongs_unknown_contact", 0) == 0, st
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(app.ip, app.port), dev.user)
    ctx.pbx.send(call.invite)
    inv = app.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
    assert inv.get("Via").startswith("SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swS"), inv
    ring_and_answer(ctx, app, inv, call)
    assert ctx.push.reqs(dev.token, None, mark) == []
    assert d.wake() == {}, d.wake()


def test_404_from_another_app_at_the_address_makes_the_device_asleep_and_the_call_pushes(ctx):
    dev, old = Device("rhea"), ctx.app()
    ctx.register(old, dev)
    next_ping(old)
    assert state(ctx, dev)["state"] == "alive"
    # The phone is gone; another app took its address (its NAT binding)
    # and knows no such contact.
    old.close()
    ctx.apps.remove(old)
    other = Endpoint(ctx.lab.ns_peer, old.ip, old.port, "other app")
    ctx.apps.append(other)
    other.options_status = 404
    d0 = Delta(ctx.lab)
    # One 404 is enough: asleep well before the alive window of the last
    # 200 would have run out, and it stays so while the 404s go on.
    t0 = time.monotonic()
    answering(ctx, other, dev, "asleep", 3.0)
    holds(ctx, other, dev, "asleep", 2 * ALIVE_WINDOW_S + 1)
    assert other.pings, "no ping reached the other app"
    assert all(p.ruri == dev.contact(old.ip, old.port, pn=False) for p in other.pings), \
        other.pings
    st = d0()
    assert st["pongs_unknown_contact"] >= 3 and st["pongs"] >= st["pongs_unknown_contact"], st
    log = ctx.lab.read_log()
    assert "%s (device" % dev.aor in log and "answered its ping 404" in log, log[-2000:]
    assert dev.token not in log, "a push token in the log"
    # The next call is pushed, not sent to the other app.
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(old.ip, old.port), dev.user)
    call_in(ctx, call)
    ctx.push.wait_req(dev.token, start=mark)
    other.nothing(is_req("INVITE"), 0.3, "INVITE to the app that is not the device")
    # The phone wakes on a new port and takes the call there.
    woken = ctx.app()
    ctx.register(woken, dev)
    inv = woken.expect(is_req("INVITE", call.cid), 2.0, "the INVITE to the woken phone")
    check_forwarded(inv, call, woken, dev)
    ring_and_answer(ctx, woken, inv, call)
    other.nothing(is_req("INVITE"), 0, "INVITE to the app that is not the device")
    d.no_held()
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_answered") == 1, w
    assert time.monotonic() - t0 < 30


def test_481_is_unknown_contact_too_and_a_200_brings_it_back(ctx):
    dev, app = Device("sade"), ctx.app()
    ctx.register(app, dev)
    next_ping(app)
    d0 = Delta(ctx.lab)
    app.options_status = 481
    answering(ctx, app, dev, "asleep", 3.0)
    assert d0()["pongs_unknown_contact"] >= 1
    # The device answers for its contact again: alive at the next ping.
    app.options_status = 200
    answering(ctx, app, dev, "alive", 3.0)
    holds(ctx, app, dev, "alive", ALIVE_WINDOW_S + 1)
