# SPDX-License-Identifier: BSD-3-Clause
"""The push service failing under held calls (docs/design.md §5, "No
wake"; docs/pushd.md): down at sipwake's start, dying with calls held,
answering 5xx and 429 for a minute, stalling, sending GOAWAY, and the ring
from the control plane to pushd full. For each fault, each a test:

- every held INVITE gets its final answer within wake.timeout_s + 1 s of
  its arrival (measured from just before the test sends it): 480 when the
  device was not woken, 503 at once when its push could not be queued;
- nothing crashes (sipwake exits 0 at the end, the lab's fixture checks);
- no binding and no push address is lost (/sipwake/bindings after);
- the fault shows in telemetry while it lasts (/sipwake/push: connections
  up, connect_failures, disconnects, retries by cause, in_flight,
  timed_out, ring_full; /sipwake/stats: wake_*);
- and, where the service comes back, the next wake works without anyone
  touching sipwake.

What test_wake*.py already prove is left to them: one 429 then 200
(test_wake.py), dead tokens and refusals answered 480 at once, a push
server restarted under pushd alone (tests/pushd/test_pushd_life_conn.c).

Real parts only: sipwake in the lab's namespaces (scripts/swlab.py),
pd_testsrv (tests/integration/pushsrv.py, its behaviours in
tests/pushd/README.md) as APNs, FCM and Google's token endpoint inside the
lab's sw namespace, killed and started again on the same port and keys
where the service goes down; byte-level PBX and apps (wakekit.py), where a
test must time every answer; sipp as PBX, registrar and app for the whole
call after the minute of errors. Every wait is bounded. One lab for the
file, started with the push service down (the first test brings it up);
wake.timeout_s 3, wake.max_held 256, push.ring_size and push.max_pending
64 (the smallest the config takes, so the ring fills with a burst).
About 100 s, 60 of them the minute of errors.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushsrv  # noqa: E402
import swlab  # noqa: E402
from test_wake_fcm import PROJECT, AndroidDevice  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)
from wakekit import ALIVE_WINDOW_S, PUSH_PORT  # noqa: E402

T = 3  # wake.timeout_s here
BUDGET = T + 1.0  # every held INVITE's final answer within this of its arrival
RING = 64  # push.ring_size and push.max_pending


class FaultLab(WakeLab):
    """wakekit.WakeLab with APNs and FCM at one pd_testsrv, small push
    bounds, and a start() that leaves the push service down."""

    def __init__(self, name):
        swlab.Lab.__init__(self, name=name,
                           pbx_extra="check_interval_s = 3600; timeout_ms = 1000;",
                           bindings_extra="ping_interval_s = 0; alive_window_s = %d;"
                           % ALIVE_WINDOW_S)
        self.server = pushsrv.PushServer(self, port=PUSH_PORT, team=TEAM, key_id=KID,
                                         bundle=BUNDLE, fcm_project=PROJECT)
        self.push = Pushes(self.server)
        self.config_extra = self.server.config(
            fcm=True, extra="ring_size = %d; max_pending = %d;" % (RING, RING)) + \
            "\nwake: { timeout_s = %d; max_held = 256; %s };" % (T, PING_WAKE)

    def start(self, timeout=30):
        swlab.Lab.start(self, timeout)  # pushd keeps trying to connect

    def pushd(self):
        return self.telemetry("/sipwake/push")


@pytest.fixture(scope="module")
def flab():
    yield from serve_lab(FaultLab("fp%d" % (os.getpid() % 10000)))


# -- steps ---------------------------------------------------------------------

def wait_for(cond, timeout, what):
    """@cond()'s first true value within @timeout s; fails the test otherwise."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < end, "%s: not within %.1f s" % (what, timeout)
        time.sleep(0.05)


def service_up(ctx):
    """The push service runs and pushd has both its connections (APNs and
    FCM) up; returns /sipwake/push."""
    lab = ctx.lab
    if lab.server.proc is None:
        lab.server.start()
    return wait_for(lambda: (lambda p: p if p["apns"]["connections_up"] >= 1 and
                             p["credentials"]["fcm_0"] >= 1 else None)(lab.pushd()),
                    5.0, "pushd connected to the push service")


def prover(ctx, name):
    """An (app, device) pair for prove_token(), to make asleep with the
    test's own."""
    return ctx.app(), Device("prove" + name)


def prove_token(ctx, app, dev):
    """One delivered APNs push on the connection now up: a call to @dev
    (asleep at @app) that is pushed, then CANCELled. A token-auth APNs
    connection carries one stream until a push shows its provider token is
    good (docs/pushd.md, "How it sends", as Apple asks): a test that stalls
    one push and expects others through needs that done first."""
    mark = ctx.push.mark()
    call = Call(dev.contact(app.ip, app.port), dev.user)
    call_in(ctx, call)
    assert ctx.push.wait_req(dev.token, start=mark)["status"] == 200
    ctx.pbx.send(call.cancel(), call.edge)
    r = ctx.pbx.expect(final_of(call.cid), 1.0, "487")
    assert r.status == 487, r
    ctx.pbx.send(call.ack_final(r), call.edge)


def invite(ctx, call):
    """Send @call's INVITE, noting when (the start of its budget)."""
    call.t0 = time.monotonic()
    ctx.pbx.send(call.invite, call.edge)
    return call


def finals(ctx, calls, budget=BUDGET):
    """Each of @calls' final answers, within @budget s of its INVITE (the
    test fails otherwise), ACKed; {Call-ID: the answer}."""
    out = {}
    for c in sorted(calls, key=lambda c: c.t0):
        r = ctx.pbx.expect(final_of(c.cid), max(0.05, c.t0 + budget - time.monotonic()),
                           "the final answer to %s within %.1f s" % (c.cid, budget))
        assert r.t - c.t0 <= budget, (r, r.t - c.t0)
        assert r.to_tag(), r
        ctx.pbx.send(c.ack_final(r), c.edge)
        out[c.cid] = r
    return out


def bound(ctx, dev):
    """@dev is still bound with its push address."""
    devs = [d for d in ctx.lab.devices(dev.aor)
            if d.get("instance") == "<urn:uuid:%s>" % dev.instance]
    assert devs and devs[0].get("push_prid") == short(dev.token), devs
    return devs[0]


def woken_and_answered(ctx, dev, call, mark, kind="voip"):
    """@dev's push for @call came (200); the app registers from a new port,
    gets the held INVITE, rings and answers; the PBX hangs up."""
    ev = ctx.push.wait_req(dev.token, kind=kind, start=mark, timeout=2.0)
    assert ev["status"] == 200, ev
    new = ctx.app()
    ctx.register(new, dev)
    inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
    check_forwarded(inv, call, new, dev)
    ring_and_answer(ctx, new, inv, call)
    return ev


# -- the faults ----------------------------------------------------------------

def test_service_down_at_start_then_up_wakes_without_operator(flab):
    """pd_testsrv not listening when sipwake starts: pushd's connection
    attempts fail and are counted while it is down; calls held meanwhile get
    480 within the budget; once the service listens, pushd connects by
    itself and the next call wakes its app."""
    ctx = flab
    assert ctx.lab.server.proc is None  # the first test: never started
    dev, old = Device("downstart"), ctx.app()
    ctx.asleep((old, dev))
    p1 = ctx.lab.pushd()
    assert p1["apns"]["connections_up"] == 0 and p1["credentials"]["apns_0"] == 0, p1
    assert p1["apns"]["connections_configured"] == 1 and p1["apns"]["connect_failures"] >= 1, p1
    d = Delta(ctx.lab)
    calls = [invite(ctx, Call(dev.contact(old.ip, old.port), dev.user)) for _ in range(2)]
    for c in calls:
        ctx.pbx.expect(is_resp(100, c.cid), 0.5, "100 Trying")
    # Down while it lasts: the attempts go on (retry_max_ms 500 here).
    time.sleep(1.0)
    p2 = ctx.lab.pushd()
    assert p2["apns"]["connect_failures"] > p1["apns"]["connect_failures"], (p1, p2)
    assert p2["apns"]["in_flight"] >= 2 and p2["apns"]["connections_up"] == 0, p2
    assert ctx.lab.held()["held"] >= 2
    for r in finals(ctx, calls).values():
        assert r.status == 480, r
    d.no_held()
    w = d.wake()
    assert w.get("wake_calls") == 2 and w.get("wake_pushes") == 2, w
    assert not w.get("wake_dead_tokens") and not w.get("wake_woken"), w
    bound(ctx, dev)
    # The service comes up: no reload, no restart.
    ctx.lab.server.start()
    ctx.lab.server.wait_conn()
    p3 = service_up(ctx)
    assert p3["apns"]["timed_out"] >= 2, p3  # the pushes of the calls above
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(old.ip, old.port), dev.user)
    call_in(ctx, call)
    woken_and_answered(ctx, dev, call, mark)
    d.no_held()
    w = d.wake()
    assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w


def test_service_dies_with_calls_held_every_call_ends_in_time(flab):
    """Four calls held at once (two pushes delivered, one stalled in
    flight, one just sent), then the push service is killed: the stalled
    stream is lost with its connection, every held INVITE gets 480 within
    the budget, new calls while it is dead too; disconnects, connect
    failures and in_flight show it; the service comes back by itself."""
    ctx = flab
    service_up(ctx)
    pv = prover(ctx, "dies")
    devs = [(Device("dies%d" % i), ctx.app()) for i in range(3)]
    ctx.asleep(pv, *[(a, dv) for dv, a in devs])
    prove_token(ctx, *pv)
    (d0, a0), (d1, a1), (d2, a2) = devs
    ctx.push.cmd("set %s stall" % d2.token)
    try:
        d, mark = Delta(ctx.lab), ctx.push.mark()
        p1 = ctx.lab.pushd()
        calls = [invite(ctx, Call(dv.contact(a.ip, a.port), dv.user)) for dv, a in
                 ((d0, a0), (d1, a1), (d2, a2))]
        for dv in (d0, d1, d2):
            ctx.push.wait_req(dv.token, start=mark, timeout=1.0)
        # pushd's view before the fault: the stalled push in flight.
        assert ctx.lab.pushd()["apns"]["in_flight"] >= 1
        ctx.lab.server.kill()
        since = len(ctx.lab.server.events())
        calls.append(invite(ctx, Call(d0.contact(a0.ip, a0.port), d0.user)))
        time.sleep(0.8)
        p2 = ctx.lab.pushd()
        assert p2["apns"]["connections_up"] == 0 and p2["credentials"]["apns_0"] == 0, p2
        assert p2["apns"]["disconnects"] > p1["apns"]["disconnects"], (p1, p2)
        assert p2["apns"]["connect_failures"] > p1["apns"]["connect_failures"], (p1, p2)
        assert p2["apns"]["in_flight"] >= 2, p2  # the stalled push and the last call's
        assert p2["apns"]["retry_after_reset"] > p1["apns"]["retry_after_reset"], (p1, p2)
        assert ctx.lab.held()["held"] >= 4
        for r in finals(ctx, calls).values():
            assert r.status == 480, r
        d.no_held()
        w = d.wake()
        assert w.get("wake_calls") == 4 and w.get("wake_pushes") == 4, w
        assert w.get("wake_timed_out", 0) + w.get("wake_rejected", 0) == 4, w
        for dv, _ in devs:
            bound(ctx, dv)
    finally:
        if ctx.lab.server.proc is None:
            ctx.lab.server.start()
        ctx.push.cmd("clear")
    ctx.lab.server.wait_conn(since=since)
    service_up(ctx)
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(d1.contact(a1.ip, a1.port), d1.user)
    call_in(ctx, call)
    woken_and_answered(ctx, d1, call, mark)
    d.no_held()
