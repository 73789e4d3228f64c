# SPDX-License-Identifier: BSD-3-Clause
"""Late wakes (docs/design.md §5, "Late wakes"): a device pushed for a call
that then ended and that registers within wake.late_window_s gets the
call's INVITE and then, on its first provisional answer, CANCEL with an RFC
3326 Reason saying how the call ended: cancelled by the PBX (cause 487),
answered on another device (cause 200) or not answered in time (cause 480,
after wake.timeout_s). It never gets a call it could answer: a 200 from it
is ACKed and BYEd by sipwake and the PBX never sees it. After the window it
gets nothing. When the table is full, an ended call kept only for late
devices gives its slot to a new call (wake_late_evicted).

Same parts and rules as test_wake.py (wakekit.py): sipwake in the lab's
namespaces, the APNs test double, byte-level PBX and apps; every wait is
bounded. wake.timeout_s is 4 s, wake.late_window_s 8 s here."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)

LATE_WINDOW_S = 8
late_lab = lab_fixture("l", PING_WAKE + " late_window_s = %d;" % LATE_WINDOW_S)
# max_held = 16, max_messages = 16: (16 + 16) * 2 = 64 slots (cp_call_init()),
# so 64 ended calls fill the table.
evict_lab = lab_fixture("v", PING_WAKE + " late_window_s = 600; max_held = 16; max_messages = 16;")
SLOTS = 64

REASON = {"cancelled": 'SIP;cause=487;text="Call cancelled before the app woke"',
          "elsewhere": 'SIP;cause=200;text="Call completed elsewhere"',
          "timed_out": 'SIP;cause=480;text="Call not answered before the app woke"'}


def late_invite_then_cancel(ctx, new, dev, call, reason, answer_200=False):
    """@dev registers from @new: the ended call's INVITE comes, no CANCEL
    before the app's 180 (RFC 3261 §9.1), then CANCEL with @reason. With
    @answer_200 the app picks up anyway (its 200 crosses the CANCEL):
    sipwake ACKs and BYEs it. Else it ends the INVITE with 487, ACKed."""
    ctx.register(new, dev)
    inv = new.expect(is_req("INVITE", call.cid), 2.0, "the ended call's INVITE")
    check_forwarded(inv, call, new, dev)
    new.nothing(is_req("CANCEL"), 0.3, "CANCEL before a provisional (§9.1)")
    new.send(reply(inv, 180, "Ringing", tag="late"))
    can = new.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL")
    assert can.get("Reason") == reason, can
    assert can.branch() == inv.branch() and can.cseq == (1, "CANCEL"), can
    if answer_200:
        new.send(reply(inv, 200, "OK", tag="late", contact=app_contact(new, inv), body=SDP_APP))
        new.send(reply(can, 200, "OK"))
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the late 200")
        bye = new.expect(is_req("BYE", call.cid), 2.0, "BYE from sipwake")
        assert ack.ruri == app_contact(new, inv) == bye.ruri, (ack, bye)
        new.send(reply(bye, 200, "OK"))
    else:
        new.send(reply(can, 200, "OK"))
        new.send(reply(inv, 487, "Request Terminated", tag="late"))
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        assert ack.branch() == inv.branch(), ack
    return inv


def timed_out_call(ctx, name):
    """An asleep device, a call it never wakes for: 480 to the PBX after
    wake.timeout_s, ACKed. Returns (device, call, Delta, push mark, the
    time of the 480)."""
    dev, old = Device(name), ctx.app()
    ctx.asleep((old, dev))
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(dev.contact(old.ip, old.port), dev.user)
    t0 = time.monotonic()
    call_in(ctx, call)
    ctx.push.wait_req(dev.token, start=mark)
    r = ctx.pbx.expect(final_of(call.cid), TIMEOUT_S + 2.0, "480 at the timeout")
    assert r.status == 480 and TIMEOUT_S - 0.05 <= r.t - t0 <= TIMEOUT_S + 1.0, (r, r.t - t0)
    ctx.pbx.send(call.ack_final(r))
    return dev, call, d, mark, r.t


class TestLate:
    """wake.late_window_s = 8 s (policy "ping", cancelled_call "invite-cancel")."""

    def test_cancelled_call_woken_late_gets_invite_then_cancel_487(self, late_lab):
        ctx = late_lab
        dev, call, d, mark = cancel_before_wake(ctx, "lara")
        new = ctx.app()
        late_invite_then_cancel(ctx, new, dev, call, REASON["cancelled"], answer_200=True)
        ctx.pbx.nothing(of_call(call.cid), 1.0, "anything of the cancelled call")
        d.no_held()
        w = d.wake()
        assert w.get("wake_late_cancels") == 1 and not w.get("wake_answered"), w
        tr = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
        assert "(call over: cancelled)" in tr, tr

    def test_call_answered_elsewhere_second_device_woken_late_gets_cancel_200(self, late_lab):
        ctx = late_lab
        d1, d2, o1, o2 = Device("leo", 1), Device("leo", 2), ctx.app(), ctx.app()
        ctx.asleep((o1, d1), (o2, d2))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % d1.aor, d1.user)
        call_in(ctx, call)
        ctx.push.wait_req(d1.token, start=mark)
        ctx.push.wait_req(d2.token, start=mark)
        n1, n2 = ctx.app(), ctx.app()
        ctx.register(n1, d1)
        inv1 = n1.expect(is_req("INVITE", call.cid), 2.0, "INVITE to the first phone")
        ok = answer(ctx, n1, inv1, call, tag="one")
        hang_up(ctx, n1, call, ok)
        # The second phone wakes after the call was taken, past the wake
        # timeout too: it is still told the call was completed elsewhere.
        time.sleep(TIMEOUT_S + 0.5)
        late_invite_then_cancel(ctx, n2, d2, call, REASON["elsewhere"], answer_200=True)
        # The PBX saw the first phone's 200 only: nothing from the second.
        ctx.pbx.nothing(of_call(call.cid), 1.0, "a second answer")
        d.no_held()
        w = d.wake()
        assert w.get("wake_answered") == 1 and w.get("wake_woken") == 1, w
        assert w.get("wake_late_cancels") == 1, w
        tr = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
        assert "(call over: elsewhere)" in tr, tr

    def test_timed_out_call_woken_late_gets_invite_then_cancel_480(self, late_lab):
        ctx = late_lab
        dev, call, d, mark, t480 = timed_out_call(ctx, "lena")
        # Like an APNs VoIP push delivered seconds late: the app wakes after
        # the PBX heard 480.
        time.sleep(1.0)
        new = ctx.app()
        late_invite_then_cancel(ctx, new, dev, call, REASON["timed_out"])
        ctx.pbx.nothing(of_call(call.cid), 1.0, "anything after the 480")
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_timed_out") == 1 and w.get("wake_late_cancels") == 1, w
        assert not w.get("wake_woken"), w
        tr = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
        assert "(call over: timed out)" in tr, tr

    def test_timed_out_call_answered_anyway_is_hung_up_never_relayed(self, late_lab):
        ctx = late_lab
        dev, call, d, mark, t480 = timed_out_call(ctx, "lily")
        new = ctx.app()
        late_invite_then_cancel(ctx, new, dev, call, REASON["timed_out"], answer_200=True)
        ctx.pbx.nothing(of_call(call.cid), 1.0, "the late 200 relayed")
        w = d.wake()
        assert w.get("wake_late_cancels") == 1 and not w.get("wake_answered"), w

    def test_after_the_window_the_device_gets_nothing(self, late_lab):
        ctx = late_lab
        dev, call, d, mark, t480 = timed_out_call(ctx, "lorn")
        # Past wake.late_window_s (from the wake timeout, when the device
        # was given up): the table has forgotten the call.
        time.sleep(max(0, t480 + LATE_WINDOW_S + 1.0 - time.monotonic()))
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("INVITE"), 1.5, "INVITE after the late window")
        new.nothing(is_req("CANCEL"), 0)
        ctx.pbx.nothing(of_call(call.cid), 0)
        w = d.wake()
        assert w.get("wake_timed_out") == 1 and not w.get("wake_late_cancels"), w
        assert not w.get("wake_branches"), w
        tr = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
        assert "did not register within wake.late_window_s" in tr, tr


class TestEvict:
    """wake.max_held = 16 (64 slots), wake.late_window_s = 600: ended calls
    kept only for late devices fill the table; a new call still gets in."""

    def test_new_call_evicts_the_oldest_call_kept_for_late_devices(self, evict_lab):
        ctx = evict_lab
        dev, old = Device("luke"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        assert ctx.lab.held()["transactions"] == 0, ctx.lab.held()
        # Rounds of 16 (max_held open at once), each answered 480 at the
        # timeout and ACKed (5 s of Timer I): every slot a late-only call.
        calls = []
        for _ in range(SLOTS // 16):
            rnd = [Call(dev.contact(old.ip, old.port), dev.user) for _ in range(16)]
            t0 = time.monotonic()
            for c in rnd:
                call_in(ctx, c)
            for c in rnd:
                r = ctx.pbx.expect(final_of(c.cid),
                                   max(0.5, t0 + TIMEOUT_S + 1.0 - time.monotonic()), "480")
                assert r.status == 480, r
                ctx.pbx.send(c.ack_final(r))
            calls += rnd
        d.no_held()
        assert ctx.lab.held()["transactions"] == SLOTS, ctx.lab.held()
        time.sleep(5.5)  # Timer I of the last round
        # The table is full of calls kept only for late devices: a new call
        # takes the slot of the oldest.
        new_call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, new_call)
        r = ctx.pbx.expect(final_of(new_call.cid), TIMEOUT_S + 2.0, "480 of the new call")
        assert r.status == 480, r  # held and pushed, not 503
        ctx.pbx.send(new_call.ack_final(r))
        assert len(ctx.push.reqs(dev.token, "voip", mark)) == SLOTS + 1
        st = d()
        assert st.get("wake_late_evicted") == 1 and not st.get("drop_wake_held_full"), st
        assert ctx.lab.held()["transactions"] == SLOTS, ctx.lab.held()
        tr = "\n".join(ctx.lab.telemetry("/sipwake/trace," + calls[0].cid)["trace"])
        assert "dropped to make room for a new call" in tr, tr
