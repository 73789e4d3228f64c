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
wake.timeout_s 4, wake.max_held 256, push.ring_size and push.max_pending
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
from waits import until  # noqa: E402
from test_wake_fcm import PROJECT, AndroidDevice  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)
from wakekit import ALIVE_WINDOW_S, PUSH_PORT  # noqa: E402

T = 4  # wake.timeout_s here (wakekit's too)
BUDGET = T + 1.0  # every held INVITE's final answer within this of its arrival
RING = 64  # push.ring_size and push.max_pending


class FaultLab(WakeLab):
    """wakekit.WakeLab with APNs and FCM at one pd_testsrv, small push
    bounds, and a start() that leaves the push service down."""

    def __init__(self, name):
        swlab.Lab.__init__(self, name=name,
                           # timeout_ms: the test is the PBX, and a loaded host
                           # may keep it from answering a REGISTER within 1 s.
                           pbx_extra="check_interval_s = 3600; timeout_ms = 3000;",
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

def service_up(ctx):
    """The push service runs and pushd has both its connections (APNs and
    FCM) up; returns /sipwake/push."""
    lab = ctx.lab
    if lab.server.proc is None:
        lab.server.start()
    return until(lambda: (lambda p: p if p["apns"]["connections_up"] >= 1 and
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
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(app.ip, app.port), dev.user)
    hold(ctx, call)
    assert ctx.push.wait_req(dev.token, start=mark)["status"] == 200
    ctx.pbx.send(call.cancel(), call.edge)
    r = ctx.pbx.expect(final_of(call.cid), 1.0, "487")
    assert r.status == 487, r
    ctx.pbx.send(call.ack_final(r), call.edge)
    d.no_held()  # /sipwake/held says so too (its 100 ms tick), before the test counts


def invite(ctx, call):
    """Send @call's INVITE, noting when (the start of its budget)."""
    call.t0 = time.monotonic()
    call.timer_a, call.next_a, call.heard = 0.5, call.t0 + 0.5, False
    ctx.pbx.send(call.invite, call.edge)
    return call


def hold(ctx, call, timeout=3.0):
    """@call's INVITE sent (again at Timer A while nothing is heard) until
    sipwake's 100 Trying: the call is held. wakekit.call_in() wants the
    100 within 0.5 s, which a loaded host does not always give; what these
    tests time is the final answer."""
    invite(ctx, call)
    end = time.monotonic() + timeout
    while True:
        hits = ctx.pbx.collect(is_resp(100, call.cid), min(call.timer_a, 0.1))
        if hits:
            call.heard = True
            return hits[0]
        now = time.monotonic()
        assert now < end, "no 100 Trying to %s within %.1f s" % (call.cid, timeout)
        if now >= call.next_a:
            ctx.pbx.send(call.invite, call.edge)
            call.timer_a *= 2
            call.next_a = now + call.timer_a


def step(ctx, pending, timeout, budget=BUDGET):
    """One turn of the PBX's side of @pending calls ({Call-ID: Call}):
    answers read for @timeout s; each final answer checked within @budget
    s of its first INVITE, ACKed and taken out of @pending; an INVITE
    nothing was heard for sent again at Timer A (0.5 s, doubling: RFC 3261
    §17.1.1.2, as a PBX over UDP does: a datagram lost on a loaded host is
    not sipwake's fault). Fails when a call is past its budget. Returns the
    (Call, answer) pairs that ended."""
    ended = []
    for r in ctx.pbx.collect(lambda m: m.call_id in pending and m.cseq[1] == "INVITE"
                             and m.status >= 100, timeout):
        c = pending.get(r.call_id)
        if c is None:
            continue  # a final answered again (Timer G) before its ACK
        if r.status < 200:
            c.heard = True
            continue
        assert r.t - c.t0 <= budget, (getattr(c, "spec", ""), r, r.t - c.t0)
        assert r.to_tag(), r
        ctx.pbx.send(c.ack_final(r), c.edge)
        del pending[c.cid]
        ended.append((c, r))
    now = time.monotonic()
    for c in pending.values():
        assert now - c.t0 <= budget + 0.2, "no final answer to %s (%s) within %.1f s; %s" % (
            c.cid, getattr(c, "spec", ""), budget,
            "100 Trying heard" if c.heard else "nothing heard, INVITE sent again")
        if not c.heard and now >= c.next_a:
            ctx.pbx.send(c.invite, c.edge)
            c.timer_a *= 2
            c.next_a = now + c.timer_a
    return ended


def finals(ctx, calls, budget=BUDGET):
    """Each of @calls' final answers, within @budget s of its INVITE (the
    test fails otherwise), ACKed; {Call-ID: the answer}."""
    pending = {c.cid: c for c in calls}
    for m in ctx.pbx.taken:  # 100 Trying a test took already
        if m.call_id in pending and m.status == 100:
            pending[m.call_id].heard = True
    out = {}
    while pending:
        out.update((c.cid, r) for c, r in step(ctx, pending, 0.05, budget))
    return out


def bound(ctx, dev):
    """@dev is still bound with its push address."""
    devs = [d for d in ctx.lab.devices(dev.aor)
            if d.get("instance") == "<urn:uuid:%s>" % dev.instance]
    assert devs and devs[0].get("push_prid") == short(dev.token), devs
    return devs[0]


def woken_and_answered(ctx, dev, call, mark, kind="voip", ev=None):
    """@dev's push for @call came (200; @ev if the test has it, else the
    first since @mark); the app registers from a new port, gets the held
    INVITE, rings and answers; the PBX hangs up."""
    ev = ev or ctx.push.wait_req(dev.token, kind=kind, start=mark, timeout=2.0)
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
        ctx.pbx.expect(is_resp(100, c.cid), 2.0, "100 Trying")
    # Down while it lasts: the attempts go on (retry_max_ms 500 here).
    time.sleep(1.0)
    p2 = ctx.lab.pushd()
    assert p2["apns"]["connect_failures"] > p1["apns"]["connect_failures"], (p1, p2)
    assert p2["apns"]["in_flight"] >= 2 and p2["apns"]["connections_up"] == 0, p2
    # Down is not misconfigured: no alarm (FCM's token endpoint is down too).
    assert p2["apns"]["config_alarm"] == "" and p2["fcm"]["config_alarm"] == "", p2
    assert p2["fcm"]["connect_failures"] >= 1 and p2["credentials"]["fcm_0"] == 0, p2
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
    hold(ctx, call)
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
            ctx.push.wait_req(dv.token, start=mark, timeout=2.0)
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
    hold(ctx, call)
    woken_and_answered(ctx, d1, call, mark)
    d.no_held()


def test_5xx_and_429_for_a_minute_every_call_ends_in_time_nothing_forgotten(flab):
    """For a whole minute the push service answers every push 503, 500 or
    429 (Retry-After 1 s, which pushd waits out, or 10 s, longer than the
    call can wait) while a call comes every 2 s, to two iOS apps and an
    Android one in turn: each call gets 480 within the budget (at once
    when the Retry-After outlasts it), the retries by cause grow in
    /sipwake/push all minute long, no push address is dropped; then the
    service answers again and sipp's PBX reaches one of the same apps,
    woken by its push, with nothing done to sipwake."""
    ctx = flab
    service_up(ctx)
    ios = [(Device("errs%d" % i), ctx.app()) for i in range(2)]
    droid = (AndroidDevice("errsandroid"), ctx.app())
    ctx.asleep(*[(a, dv) for dv, a in ios + [droid]])
    rota = [(ios[0], ["503", "429 1", "500", "429 10"]),
            (ios[1], ["429 1", "500", "429 10", "503"]),
            (droid, ["503", "429 1"])]
    d = Delta(ctx.lab)
    start = time.monotonic()
    end, next_call, last_sample = start + 60.0, start, 0.0
    pending, done, samples, n = {}, [], [], 0

    def errors(p):
        return sum(p[prov]["retry_after_5xx"] + p[prov]["retry_after_429"]
                   for prov in ("apns", "fcm"))

    try:
        while time.monotonic() < end or pending:
            now = time.monotonic()
            if now < end and now >= next_call:
                (dev, app), specs = rota[n % 3]
                spec = specs[(n // 3) % len(specs)]
                ctx.push.cmd("set %s %s" % (dev.token, spec))
                c = invite(ctx, Call(dev.contact(app.ip, app.port), dev.user))
                c.spec, c.dev = spec, dev
                pending[c.cid] = c
                n, next_call = n + 1, next_call + 2.0
            done += step(ctx, pending, 0.1)
            if now - last_sample >= 5.0 and now < end:
                samples.append(ctx.lab.pushd())
                last_sample = now
    finally:
        for (dev, _), _s in rota:
            ctx.push.cmd("set %s 200" % dev.token)
    ctx.push.cmd("clear")
    assert n == 30 and len(done) == 30, (n, len(done))
    for c, r in done:
        assert r.status == 480, (c.spec, r)
        if c.spec == "429 10":  # pushd gives up at once: nothing to wait for
            assert r.t - c.t0 < 2.0, (c.spec, r.t - c.t0)
    # Visible while it lasts: every 5 s, more retries after 5xx / 429.
    assert len(samples) >= 11, len(samples)
    grew = [errors(b) > errors(a) for a, b in zip(samples, samples[1:])]
    assert all(grew), [errors(s) for s in samples]
    last = samples[-1]
    for prov in ("apns", "fcm"):
        assert last[prov]["retry_after_5xx"] > samples[0][prov]["retry_after_5xx"], prov
        assert last[prov]["retry_after_429"] > samples[0][prov]["retry_after_429"], prov
    d.no_held()
    w = d.wake()
    assert w.get("wake_calls") == 30 and w.get("wake_pushes") == 30, w
    assert w.get("wake_timed_out", 0) + w.get("wake_rejected", 0) == 30, w
    assert not w.get("wake_dead_tokens") and not w.get("wake_ring_full"), w
    for dev, _ in ios + [droid]:
        bound(ctx, dev)  # no push address forgotten for a 5xx / 429
    # The service answers again: sipp as registrar, PBX and the app.
    dev = ios[0][0]
    # no_fc: this lab advertises +sip.pns="apns,fcm", not the "apns" the
    # scenario expects (test_wake_devices.py checks Feature-Caps).
    sets = {"token": dev.token, "pn_param": PN_PARAM, "domain": DOMAIN,
            "instance": "urn:uuid:" + dev.instance}
    ev, d, mark, _, _ = sipp_woken_call(ctx, dev, sets, "after-errors-%d@pbx" % os.getpid(),
                                        "apns", register_sets={"no_fc": "1"})
    assert ev["status"] == 200 and ev["type"] == "voip", ev
    d.no_held()
    w = d.wake()
    assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w


def test_stalled_push_ends_in_time_and_holds_up_no_other_push(flab):
    """The push service takes one app's push and never answers it: that
    call still gets 480 within the budget, and pushes to another app on the
    same APNs connection (HTTP/2 streams side by side, once the provider
    token is proven) and to an Android app over FCM go through and wake
    their apps meanwhile; in_flight shows the stalled push while it hangs,
    timed_out once pushd gives it up at its deadline."""
    ctx = flab
    service_up(ctx)
    pv = prover(ctx, "stall")
    (dev_a, app_a), (dev_b, app_b) = (Device("stalla"), ctx.app()), (Device("stallb"), ctx.app())
    dev_f, app_f = AndroidDevice("stallandroid"), ctx.app()
    ctx.asleep(pv, (app_a, dev_a), (app_b, dev_b), (app_f, dev_f))
    prove_token(ctx, *pv)
    ctx.push.cmd("set %s stall" % dev_a.token)
    try:
        d, mark, p1 = Delta(ctx.lab), ctx.push.mark(), ctx.lab.pushd()
        ca = invite(ctx, Call(dev_a.contact(app_a.ip, app_a.port), dev_a.user))
        ev_a = ctx.push.wait_req(dev_a.token, start=mark, timeout=2.0)
        assert ev_a["beh"].startswith("1/"), ev_a  # B_STALL: taken, never answered
        cb = invite(ctx, Call(dev_b.contact(app_b.ip, app_b.port), dev_b.user))
        cf = invite(ctx, Call(dev_f.contact(app_f.ip, app_f.port), dev_f.user))
        ev_b = ctx.push.wait_req(dev_b.token, start=mark, timeout=2.0)
        # On the stalled push's connection, beside it: not held up.
        assert ev_b["conn"] == ev_a["conn"] and int(ev_b["open"]) >= 2, (ev_a, ev_b)
        assert ctx.push.wait_req(dev_f.token, kind="call", start=mark, timeout=2.0)["status"] == 200
        p2 = ctx.lab.pushd()
        assert p2["apns"]["in_flight"] >= 1 and p2["apns"]["connections_up"] >= 1, p2
        woken_and_answered(ctx, dev_b, cb, mark)
        woken_and_answered(ctx, dev_f, cf, mark, kind="call")
        assert finals(ctx, [ca])[ca.cid].status == 480
        d.no_held()
        p3 = until(lambda: (lambda p: p if p["apns"]["in_flight"] == 0 else None)(
            ctx.lab.pushd()), 1.0, "the stalled push given up")
        assert p3["apns"]["timed_out"] == p1["apns"]["timed_out"] + 1, (p1, p3)
        w = d.wake()
        assert w.get("wake_woken") == 2 and w.get("wake_answered") == 2, w
        assert w.get("wake_timed_out", 0) + w.get("wake_rejected", 0) == 1, w
        for dev in (dev_a, dev_b, dev_f):
            bound(ctx, dev)
    finally:
        ctx.push.cmd("clear")


def test_goaway_in_flight_pushes_retried_on_a_new_connection_calls_end(flab):
    """GOAWAY from the push service twice. First on every connection while
    one push waits on it unanswered (the server then closes the
    connection): that push is sent again on a new connection and
    delivered, as is the next one; then for one request, whose stream id it
    excludes (not processed): sent again on a new connection
    (retry_after_goaway). Every app is woken and answers its call;
    connects and the retries show the new connections.

    The unanswered push stalls once only: the retry is the first push on
    the new connection, which carries one stream until a push proves the
    provider token (docs/pushd.md); a retry that stalled again would hold
    every other push of the credential until its deadline (the stall
    test's calls end in time regardless)."""
    ctx = flab
    service_up(ctx)
    pv = prover(ctx, "goaway")
    devs = [(Device("goaway%s" % x), ctx.app()) for x in "abcd"]
    ctx.asleep(pv, *[(a, dv) for dv, a in devs])
    prove_token(ctx, *pv)
    (dev_a, app_a), (dev_b, app_b), (dev_c, app_c), (dev_d, app_d) = devs
    ctx.push.cmd("once %s stall" % dev_a.token)
    try:
        d, mark, p1 = Delta(ctx.lab), ctx.push.mark(), ctx.lab.pushd()
        ca = invite(ctx, Call(dev_a.contact(app_a.ip, app_a.port), dev_a.user))
        cb = invite(ctx, Call(dev_b.contact(app_b.ip, app_b.port), dev_b.user))
        ev_a = ctx.push.wait_req(dev_a.token, start=mark, timeout=2.0)
        ev_b = ctx.push.wait_req(dev_b.token, start=mark, timeout=2.0)
        assert ev_b["status"] == 200 and ev_b["conn"] == ev_a["conn"], (ev_a, ev_b)
        assert ev_a["beh"].startswith("1/"), ev_a  # B_STALL: taken, never answered
        ctx.push.cmd("goaway")
        again_a = ctx.push.wait_req(dev_a.token, start=mark, timeout=2.5, n=2)
        assert again_a["status"] == 200 and again_a["beh"].startswith("0/"), again_a
        assert int(again_a["conn"]) > int(ev_a["conn"]), (ev_a, again_a)
        # Each app wakes right after its push, well within its call's wait.
        woken_and_answered(ctx, dev_a, ca, mark, ev=again_a)
        woken_and_answered(ctx, dev_b, cb, mark)
        cc = invite(ctx, Call(dev_c.contact(app_c.ip, app_c.port), dev_c.user))
        ev_c = ctx.push.wait_req(dev_c.token, start=mark, timeout=2.5)
        assert ev_c["status"] == 200 and int(ev_c["conn"]) > int(ev_a["conn"]), (ev_a, ev_c)
        woken_and_answered(ctx, dev_c, cc, mark)
        ctx.push.cmd("once %s goaway" % dev_d.token)
        cd = invite(ctx, Call(dev_d.contact(app_d.ip, app_d.port), dev_d.user))
        first = ctx.push.wait_req(dev_d.token, start=mark, timeout=2.0)
        assert first["beh"].startswith("3/"), first  # B_GOAWAY
        again = ctx.push.wait_req(dev_d.token, start=mark, timeout=2.5, n=2)
        assert again["status"] == 200 and int(again["conn"]) > int(first["conn"]), (first, again)
        woken_and_answered(ctx, dev_d, cd, mark, ev=again)
        d.no_held()
        p2 = ctx.lab.pushd()
        assert p2["apns"]["connects"] >= p1["apns"]["connects"] + 2, (p1, p2)
        assert p2["apns"]["retry_after_goaway"] >= p1["apns"]["retry_after_goaway"] + 1, (p1, p2)
        assert p2["apns"]["retries"] >= p1["apns"]["retries"] + 2, (p1, p2)  # A's and D's
        assert p2["apns"]["connections_up"] >= 1, p2
        w = d.wake()
        assert w.get("wake_woken") == 4 and w.get("wake_answered") == 4, w
        assert w.get("wake_pushes") == 4 and not w.get("wake_timed_out"), w
        for dev, _ in devs:
            bound(ctx, dev)
    finally:
        ctx.push.cmd("clear")


def test_push_ring_full_calls_refused_503_at_once_and_counted(flab):
    """push.ring_size and push.max_pending 64: with every push stalled,
    pushd holds 64 and stops taking from the ring, which fills (sooner when
    pushd's thread waits for a CPU). A burst of 144 calls to one sleeping
    app: the calls whose push finds the ring full
    get 503 at once (docs/design.md §5: the ring full for every device;
    503, not 480, because the edge is out of room, not the user away, and
    the PBX may try another edge), counted in wake_ring_full and pushd's
    ring_full, in_flight counting every push queued while it lasts; every
    call held gets 480 within the budget; then the ring drains and the
    next call wakes the app."""
    ctx = flab
    service_up(ctx)
    pv, (app, dev) = prover(ctx, "ring"), (ctx.app(), Device("ringfull"))
    ctx.asleep(pv, (app, dev))
    prove_token(ctx, *pv)
    n = 2 * RING + 16
    ctx.push.cmd("set %s stall" % dev.token)
    try:
        # Nothing else in flight, so that in_flight counts this burst alone.
        p1 = until(lambda: (lambda p: p if p["apns"]["in_flight"] == 0 else None)(
            ctx.lab.pushd()), 3.0, "pushd idle")
        d = Delta(ctx.lab)
        calls = [invite(ctx, Call(dev.contact(app.ip, app.port), dev.user)) for _ in range(n)]
        pending, refused = {c.cid: c for c in calls}, {}
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            refused.update((c.cid, r) for c, r in step(ctx, pending, 0.05))
        p2 = ctx.lab.pushd()
        # The ring takes 63 (a power-of-2 rte_ring keeps one slot free);
        # pushd takes up to 64 more off it, as fast as its thread gets the
        # CPU: 63..127 pushes queued, the rest refused.
        held_n = n - len(refused)
        assert RING - 1 <= held_n <= 2 * RING - 1, len(refused)
        # While it lasts: every push queued is in flight (stalled), and the
        # refusals are counted where they happened.
        assert p2["apns"]["in_flight"] == held_n, (held_n, p2)
        assert p2["apns"]["ring_full"] - p1["apns"]["ring_full"] == len(refused), (p1, p2)
        by_cid = {c.cid: c for c in calls}
        for cid, r in refused.items():  # ACKed by step()
            assert r.status == 503 and r.t - by_cid[cid].t0 < 2.0, (r, r.t - by_cid[cid].t0)
        assert d()["wake_ring_full"] == len(refused), d()
        held = [c for c in calls if c.cid not in refused]
        assert ctx.lab.held()["held"] >= len(held)
        while pending:
            for _, r in step(ctx, pending, 0.05):
                assert r.status == 480, r
        d.no_held(timeout=5.0)
        w = d.wake()
        assert w.get("wake_calls") == n and w.get("wake_pushes") == len(held), w
        assert w.get("wake_timed_out", 0) + w.get("wake_rejected", 0) == len(held), w
        bound(ctx, dev)
    finally:
        ctx.push.cmd("clear")
    until(lambda: ctx.lab.pushd()["apns"]["in_flight"] == 0, 2.0, "pushd's queue empty")
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(app.ip, app.port), dev.user)
    hold(ctx, call)
    woken_and_answered(ctx, dev, call, mark)
    d.no_held()
