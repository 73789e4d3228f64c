# SPDX-License-Identifier: BSD-3-Clause
"""Faults an operator meets (docs/design.md §1.1 "Failover" and "PBX health",
§7 "Durability" and "Held calls and a crash"):

- test_pbx_unreachable_then_back: the PBX's process dies (its port closed:
  the peer's kernel answers ICMP port unreachable) while apps re-register
  and calls are held. REGISTERs get 408 within pbx.timeout_ms though the
  apps retransmit; no binding changes; the held calls end 480 within
  wake.timeout_s + 1 s; /sipwake/info shows the server down. The PBX
  starts again: its health check marks it up, the 480s (Timer G) reach it,
  registration, an alive call and a wake work again without anyone
  touching sipwake.
- test_kill_9_under_traffic_with_10k_bindings: 10,000 devices with push
  addresses registered through sipwake by sipp (an injection file) against
  Kamailio's registrar; calls held for asleep apps, refreshes and an alive
  call going on; kill -9; an INVITE the PBX sends while sipwake is down,
  retransmitted (Timer A); restart on the same store. Every binding and
  push address is back (telemetry, a sample of devices, the store row by
  row), the retransmitted INVITE is answered within wake.timeout_s + 1 s of
  the restarted sipwake taking it, the calls held at the kill are answered
  480 from the journal of held calls within wake.timeout_s + 1 s of their
  INVITE, an alive call and a wake succeed.
- test_journal_at_start_answers_fresh_calls_and_drops_stale_ones: on the
  same lab, a stop leaves the journal of held calls empty; rows written
  into it while sipwake is down are answered 480 at start (deadline near
  or far), with their To-tag, Timer G until the ACK; a row more than Timer
  C past its deadline is dropped unanswered.

Real parts: sipwake in the lab's namespaces, pd_testsrv as APNs, sipp and
Kamailio as peers, byte-level apps and PBX (wakekit.py). Every wait is
bounded. SW_FAULT_BINDINGS sets the 10,000 (for a slow build only).
"""
import os
import sqlite3
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)

PBX_TIMEOUT_S = 1.5  # pbx.timeout_ms of the PBX lab
CHECK_S = 1  # pbx.check_interval_s of the PBX lab
N_BINDINGS = int(os.environ.get("SW_FAULT_BINDINGS", "10000"))


class LivePbx(Endpoint):
    """The PBX as a running process: a thread reads its socket all the
    time, so health checks are answered at once while the test waits on
    something else; the test takes the rest as from any Endpoint. close()
    is the process dying (its port closed)."""

    def __init__(self, ns, port=5060):
        super().__init__(ns, PBX4, port, "pbx")
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            try:
                Endpoint._pump(self, time.monotonic() + 0.05)
            except (OSError, ValueError):
                return

    def _pump(self, until):
        time.sleep(max(0.0, min(until - time.monotonic(), 0.02)))

    def close(self):
        self.running = False
        self.thread.join(2)
        super().close()


def pbx_health(lab):
    return lab.telemetry("/sipwake/info")["pbx"]


def wait_health(lab, state, up, timeout):
    end = time.monotonic() + timeout
    while True:
        h = pbx_health(lab)
        if h.get("server0") == state and h.get("up") == up:
            return time.monotonic()
        assert time.monotonic() < end, "pbx never %s within %.1f s: %s" % (state, timeout, h)
        time.sleep(0.1)


KEPT = ("id", "contact", "instance", "source", "push_provider", "push_prid", "push_param")


def same_devices(a, b):
    """The same devices with the same binding (what a REGISTER can change)."""
    return [[x.get(k) for k in KEPT] for x in a] == [[x.get(k) for k in KEPT] for x in b]


def trace_ms(lab, cid, what):
    """The +ms of the first event of @cid's trace that starts with @what."""
    tr = lab.telemetry("/sipwake/trace," + cid).get("trace") or []
    hits = [int(e.split(" ", 1)[0][1:]) for e in tr if e.split(" ms ", 1)[-1].startswith(what)]
    assert hits, (cid, what, tr)
    return hits[0]


def registers_with_retransmissions(t0, pending, limit):
    """Each (endpoint, bytes), a REGISTER first sent at @t0, is retransmitted
    as RFC 3261 Timer E does over UDP (T1 = 500 ms, doubling to T2 = 4 s)
    until a final answer; returns {endpoint name: (final answer, seconds
    from @t0)}."""
    out, gap, next_tx = {}, 0.5, t0 + 0.5
    while len(out) < len(pending) and time.monotonic() < t0 + limit:
        for ep, _ in pending:
            if ep.name in out:
                continue
            got = ep.collect(lambda m: m.status and m.status >= 200 and m.cseq[1] == "REGISTER",
                             0.02)
            if got:
                out[ep.name] = (got[0], got[0].t - t0)
        if time.monotonic() >= next_tx:
            for ep, raw in pending:
                if ep.name not in out:
                    ep.send(raw)
            gap = min(gap * 2, 4.0)
            next_tx += gap
    return out


@pytest.fixture(scope="module")
def pbx_lab():
    lab = WakeLab("fp%d" % (os.getpid() % 10000), PING_WAKE)
    lab.pbx_extra = "check_interval_s = %d; timeout_ms = %d;" % (CHECK_S, PBX_TIMEOUT_S * 1000)
    yield from serve_lab(lab)


def test_pbx_unreachable_then_back(pbx_lab):
    ctx, lab = pbx_lab, pbx_lab.lab
    ctx.pbx.close()
    ctx.pbx = LivePbx(lab.ns_peer)
    wait_health(lab, "up", 1, CHECK_S + 2.0)
    ada, bob, cleo = Device("pu-ada"), Device("pu-bob"), Device("pu-cleo")
    ob, oc = ctx.app(), ctx.app()
    ctx.asleep((ob, bob), (oc, cleo))
    before = {dv.aor: lab.devices(dv.aor) for dv in (bob, cleo)}
    count0 = lab.telemetry("/sipwake/bindings")["count"]
    d, mark = Delta(lab), ctx.push.mark()
    calls = [Call(bob.contact(ob.ip, ob.port), bob.user),
             Call(cleo.contact(oc.ip, oc.port), cleo.user)]
    for call in calls:
        call_in(ctx, call)
    for dv in (bob, cleo):
        ctx.push.wait_req(dv.token, start=mark)
    d.wait_held(2, 1.0)

    # The PBX's process dies: its port closed.
    ctx.pbx.close()
    # bob, pushed, wakes and registers from a new port; ada is a new app.
    # Both retransmit (Timer E) and both hear 408 within pbx.timeout_ms of
    # their first send: the retransmissions go on to the PBX without
    # putting the 408 off (controlplane/relay/cp_reg.c).
    nb, na = ctx.app(), ctx.app()
    t0 = time.monotonic()
    raw_b = ctx.send_register(nb, bob, cid="pu-wake-bob")
    raw_a = ctx.send_register(na, ada, cid="pu-new-ada")
    res = registers_with_retransmissions(t0, [(nb, raw_b), (na, raw_a)], PBX_TIMEOUT_S + 4)
    assert set(res) == {nb.name, na.name}, res
    for name, (r, dt) in res.items():
        assert r.status == 408, (name, r)
        assert dt <= PBX_TIMEOUT_S + 0.4, (name, dt)
    st = d()
    assert st["reg_timeouts"] == 2 and st["reg_retransmitted"] >= 2, st
    # Down, in telemetry and the log, once.
    wait_health(lab, "down", 0, CHECK_S + PBX_TIMEOUT_S + 1.0)
    assert d()["pbx_down"] == 1, d()
    assert "pbx.servers.[0] left" in lab.read_log()
    # No binding changed or appeared because the PBX was away.
    for dv in (bob, cleo):
        assert same_devices(before[dv.aor], lab.devices(dv.aor)), (before, lab.devices(dv.aor))
    assert lab.devices(ada.aor) == []
    assert lab.telemetry("/sipwake/bindings")["count"] == count0
    # The held calls end 480 at wake.timeout_s (bob's REGISTER, never
    # accepted, released nothing).
    d.wait_held(0, TIMEOUT_S + 1.5)
    for call in calls:
        ms = trace_ms(lab, call.cid, "final 480 to the PBX")
        assert TIMEOUT_S * 1000 - 50 <= ms <= (TIMEOUT_S + 1) * 1000, (call.cid, ms)
    assert d()["wake_timed_out"] == 2, d()

    # The PBX starts again. Nobody touches sipwake.
    ctx.pbx = LivePbx(lab.ns_peer)
    # Our 480s, retransmitted until ACKed (Timer G), reach it.
    for call in calls:
        r = ctx.pbx.expect(final_of(call.cid), 4.5, "the 480, retransmitted")
        assert r.status == 480 and r.to_tag(), r
        ctx.pbx.send(call.ack_final(r))
    wait_health(lab, "up", 1, CHECK_S + 1.5)
    assert "pbx.servers.[0] answers again: up" in lab.read_log()
    # Registration works again: bob moves to his new port, ada is bound.
    ctx.register(nb, bob, cseq=2)
    ctx.register(na, ada, cseq=2)
    assert lab.devices(bob.aor)[0]["source"] == "%s:%d" % (nb.ip, nb.port)
    assert len(lab.devices(ada.aor)) == 1
    # An alive call: ada just registered, the worker forwards it at once.
    call = Call(ada.contact(na.ip, na.port), ada.user)
    ctx.pbx.send(call.invite)
    inv = na.expect(is_req("INVITE", call.cid), 1.0, "ada's call")
    ring_and_answer(ctx, na, inv, call)
    # A wake: cleo, still asleep, pushed, registers from a new port.
    mark = ctx.push.mark()
    call = Call(cleo.contact(oc.ip, oc.port), cleo.user)
    call_in(ctx, call)
    ctx.push.wait_req(cleo.token, start=mark)
    nc = ctx.app()
    ctx.register(nc, cleo, cseq=2)
    inv = nc.expect(is_req("INVITE", call.cid), 2.0, "cleo's held call")
    ring_and_answer(ctx, nc, inv, call)
    assert pbx_health(lab) == {"up": 1, "server0": "up"}


# -- kill -9 under traffic ------------------------------------------------------

# One REGISTER per line of the injection file (user;token;instance), with
# its push address, answered 200 by the registrar (no challenge: Kamailio's
# registrar.cfg without WITH_AUTH). The 10,000 come from one source (sipp's
# socket): bound after the first 200, the rest are not metered (docs/admission.md).
BULK_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="many apps register">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:%(domain)s SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      Max-Forwards: 70
      From: <sip:[field0]@%(domain)s>;tag=[pid]-[call_number]
      To: <sip:[field0]@%(domain)s>
      Call-ID: [call_id]
      CSeq: [cseq] REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port];pn-provider=apns;pn-prid=[field1];pn-param=%(pn_param)s>;+sip.instance="<urn:uuid:[field2]>";expires=600
      Supported: path
      User-Agent: sipwake-tests bulk
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
</scenario>
"""


def bulk_users(n):
    return [("kb%05d" % i, token_of("kb/%d" % i), uuid_of("kb/%d" % i)) for i in range(n)]


def bulk_register(lab, users, port, rate, timeout):
    """sipp from APP4:@port registers @users through sipwake at @rate a second."""
    xml = os.path.join(lab.tmp, "bulk_register.xml")
    with open(xml, "w") as f:
        f.write(BULK_XML % {"domain": DOMAIN, "pn_param": PN_PARAM})
    csv = os.path.join(lab.tmp, "bulk_%d.csv" % port)
    with open(csv, "w") as f:
        f.write("SEQUENTIAL\n" + "".join("%s;%s;%s\n" % u for u in users))
    return sippkit.lab_sipp(lab, xml, APP4, port, remote=SW4, calls=len(users),
                            timeout=timeout,
                            extra=["-inf", csv, "-r", str(rate), "-l", "200",
                                   "-max_recv_loops", "2000"])


def store_rows(path):
    """(aor, instance, provider, prid, param) of every binding in the store,
    read while sipwake runs (SQLite in WAL mode: a reader does not block it)."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        return db.execute("SELECT aor, instance, pn_provider, pn_prid, pn_param "
                          "FROM bindings").fetchall()
    finally:
        db.close()


KAM_PORT = 5064


def kam_register(ctx, app, dev, cseq=1):
    """@dev registers from @app through sipwake; Kamailio answers 200."""
    ctx.send_register(app, dev, cseq=cseq)
    return app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0,
                      "200 from Kamailio through sipwake")


@pytest.fixture(scope="module")
def kill_lab():
    # The registrar (Kamailio) on 5064: the PBX's calls come from 5060, so
    # that the answers to its in-dialog requests (Via 5060) reach it.
    lab = WakeLab("fk%d" % (os.getpid() % 10000), PING_WAKE,
                  pbx_servers=["%s:%d" % (PBX4, KAM_PORT)])
    # pbx.timeout_ms at its default: Kamailio shares two cores with sipp
    # and sipwake here, and a REGISTER it answers late is not the fault
    # under test.
    lab.pbx_extra = "check_interval_s = 3600; timeout_ms = 2000;"
    yield from serve_lab(lab)


def test_kill_9_under_traffic_with_10k_bindings(kill_lab):
    ctx, lab = kill_lab, kill_lab.lab
    users = bulk_users(N_BINDINGS)
    caller = ctx.pbx
    with sippkit.Kamailio(listen="udp:%s:%d" % (PBX4, KAM_PORT), netns=lab.ns_peer,
                          workdir=lab.tmp, children=2, shm_mb=64):
        t0 = time.monotonic()
        res = bulk_register(lab, users, 30000, 1000, 60).start().wait(65)
        assert res.ok, sippkit.explain(res, lab.read_log()[-3000:])
        fill_s = time.monotonic() - t0
        b = lab.telemetry("/sipwake/bindings")
        assert b["count"] == N_BINDINGS, (b, fill_s)

        # Traffic: three asleep apps with calls held for them, an
        # alive app, a second sipp refreshing the first 2,000 devices
        # from a new port.
        held = [Device("kh%d" % i) for i in range(3)]
        olds = [ctx.app() for _ in held]
        for app, dev in zip(olds, held):
            kam_register(ctx, app, dev)
        alive, oa = Device("kalive"), ctx.app()
        for dev in held:
            ctx.wait_state(dev, "asleep")
        kam_register(ctx, oa, alive)
        mark = ctx.push.mark()
        calls = [Call(dev.contact(app.ip, app.port), dev.user)
                 for app, dev in zip(olds, held)]
        tryings = [call_in(ctx, call) for call in calls[:2]]
        wait_journal(lab, [c.cid for c in calls[:2]])
        for dev in held[:2]:
            ctx.push.wait_req(dev.token, start=mark)
        # An alive call goes through, and is up when sipwake dies.
        acall = Call(alive.contact(oa.ip, oa.port), alive.user)
        caller.send(acall.invite)
        inv = oa.expect(is_req("INVITE", acall.cid), 1.0, "the alive app's call")
        ring(ctx, oa, inv, acall)
        answer(ctx, oa, inv, acall)
        refresh = bulk_register(lab, users[:2000], 30001, 1000, 40).start()
        time.sleep(0.7)
        count = lab.telemetry("/sipwake/bindings")["count"]
        assert count == N_BINDINGS + 4, count

        # kill -9 in the middle of it.
        lab.proc.kill()
        lab.proc.wait(15)
        lab.log.close()
        # The PBX calls the third asleep app while sipwake is down and
        # retransmits its INVITE (Timer A: T1 = 500 ms, doubling) until
        # something answers.
        ready = []
        restarted = threading.Thread(target=lambda: ready.append(lab.start() or
                                                                 time.monotonic()))
        cid3 = calls[2].cid
        t_inv = time.monotonic()
        caller.send(calls[2].invite)
        restarted.start()
        gap, next_tx, trying = 0.5, t_inv + 0.5, None
        while trying is None and time.monotonic() < t_inv + 32:  # Timer B
            got = caller.collect(is_resp(100, cid3), 0.02)
            if got:
                trying = got[0]
            elif time.monotonic() >= next_tx:
                caller.send(calls[2].invite)
                gap *= 2
                next_tx += gap
        restarted.join(30)
        assert trying is not None, lab.read_log()[-3000:]
        assert ready, lab.read_log()[-3000:]
        # The calls held (answered 100) when sipwake died: the restarted
        # one answers each 480 from its journal of held calls, with the
        # To-tag it would have used, within wake.timeout_s + 1 s of its
        # INVITE when the restart took less than that (else within 1 s of
        # the restart; docs/design.md §7, "Held calls and a crash").
        for call, t100 in zip(calls[:2], tryings):
            due = max(t100.t + TIMEOUT_S + 1.0, ready[0] + 1.0)
            r = caller.expect(final_of(call.cid), max(due - time.monotonic(), 0.1),
                              "480 from the journal")
            assert r.status == 480 and r.to_tag() and vias(r) == [call.via], r
            assert r.t <= due, (r.t - t100.t, ready[0] - t100.t)
            caller.send(call.ack_final(r))
        assert lab.stats()["wake_interrupted"] == 2, lab.stats()
        # The restarted sipwake took it as a new call: a push, and the
        # final answer within wake.timeout_s + 1 s of its 100 Trying.
        ctx.push.wait_req(held[2].token, start=mark)
        r = caller.expect(final_of(cid3), TIMEOUT_S + 1.5, "the final answer")
        assert r.status == 480 and r.to_tag(), r
        assert TIMEOUT_S - 0.1 <= r.t - trying.t <= TIMEOUT_S + 1.0, r.t - trying.t
        caller.send(calls[2].ack_final(r))

        # Every binding and push address is back.
        res2 = refresh.wait(45)
        b = lab.telemetry("/sipwake/bindings")
        assert b["count"] == N_BINDINGS + 4, b
        assert lab.stats()["bindings_loaded"] >= N_BINDINGS + 4
        rows = {r[0]: r[1:] for r in store_rows(lab.store_path)}
        missing = [u for u, tok, inst in users
                   if rows.get("%s@%s" % (u, DOMAIN)) !=
                   ("<urn:uuid:%s>" % inst, "apns", tok, PN_PARAM)]
        assert not missing, (len(missing), missing[:5])
        for u, tok, inst in users[::max(1, N_BINDINGS // 50)]:
            ds = lab.devices("%s@%s" % (u, DOMAIN))
            assert len(ds) == 1 and ds[0]["push_prid"] == short(tok), (u, ds)
            assert ds[0]["instance"] == "<urn:uuid:%s>" % inst, (u, ds)
        for dev in held + [alive]:
            assert len(lab.devices(dev.aor)) == 1, dev.aor
        # The calls held before the kill were answered and left the
        # journal; nothing is held but what came after.
        assert lab.held()["held"] == 0, lab.held()
        wait_journal(lab, [])
        for call in calls[:2]:
            trace = lab.telemetry("/sipwake/trace," + call.cid).get("trace") or []
            assert any("held when sipwake stopped: 480" in str(t) for t in trace), trace

        # Traffic flows without anyone touching sipwake: the refreshes
        # that were cut retransmitted and finished, an alive call and a
        # wake work.
        assert res2.ok, sippkit.explain(res2)
        kam_register(ctx, oa, alive, cseq=2)
        acall = Call(alive.contact(oa.ip, oa.port), alive.user)
        caller.send(acall.invite)
        inv = oa.expect(is_req("INVITE", acall.cid), 1.0, "the alive app's call")
        ring_and_answer(ctx, oa, inv, acall)
        mark = ctx.push.mark()
        call = Call(held[0].contact(olds[0].ip, olds[0].port), held[0].user)
        call_in(ctx, call)
        ctx.push.wait_req(held[0].token, start=mark)
        new = ctx.app()
        kam_register(ctx, new, held[0])
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the woken app's call")
        ring_and_answer(ctx, new, inv, call)
        # Every call of this run got its final answer: none left journaled.
        wait_journal(lab, [])


def journal_add(lab, call, deadline_ms, tag):
    """A row in the journal of held calls, as sipwake writes it for @call's
    INVITE from the PBX (sipwake stopped: the file is ours)."""
    db = sqlite3.connect(lab.store_path, timeout=5)
    try:
        db.execute("INSERT INTO held_calls (key, src, sport, deadline_ms, tag, invite) "
                   "VALUES (?, ?, 5060, ?, ?, ?)",
                   (("%s\x1f%s" % (call.cid, call.branch)).encode(), PBX4, deadline_ms, tag,
                    call.invite.encode()))
        db.commit()
    finally:
        db.close()


def test_journal_at_start_answers_fresh_calls_and_drops_stale_ones(kill_lab):
    """After the kill -9 test (same lab): a stop leaves the journal empty;
    rows found at start are answered 480 with the To-tag they were held
    with, whatever their deadline, except one more than Timer C past it."""
    ctx, lab = kill_lab, kill_lab.lab
    caller = ctx.pbx
    assert lab.stop() == 0, lab.read_log()[-3000:]
    assert journal_cids(lab) == []
    fresh, far, stale = (Call("sip:kh%d@%s" % (i, DOMAIN), "kh%d" % i) for i in range(3))
    now_ms = int(time.time() * 1000)
    journal_add(lab, fresh, now_ms + TIMEOUT_S * 1000, 0x00c0ffee)
    journal_add(lab, far, now_ms + 3600 * 1000, 0x2)  # answered at once all the same
    journal_add(lab, stale, now_ms - 200 * 1000, 0x3)  # its PBX gave up long ago
    caller.drain()
    lab.start()
    ready = time.monotonic()
    for call, tag in ((fresh, "sw00c0ffee"), (far, "sw00000002")):
        r = caller.expect(final_of(call.cid), 1.5, "480 from the journal")
        assert r.status == 480 and r.to_tag() == tag and vias(r) == [call.via], r
        assert r.t - ready <= 1.0, r.t - ready
        caller.send(call.ack_final(r))
    caller.nothing(of_call(stale.cid), 0.5, "an answer to the stale call")
    caller.nothing(lambda m: m.cseq[1] == "INVITE", 0.5, "an answer after the ACK")
    assert lab.stats()["wake_interrupted"] == 2, lab.stats()
    assert lab.held()["interrupted"] == 2, lab.held()
    wait_journal(lab, [])
    assert "gave up long ago" in lab.read_log()
