# SPDX-License-Identifier: BSD-3-Clause
"""The wake path under its other settings (test_wake.py has policy "ping"):
provisional 180 and the missed-call alert, wake.max_held, always-push with
110 Push Sent, and parallel. Same parts and rules as test_wake.py."""
import os
import sys
import time


sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)

alert_lab = lab_fixture("b", 'policy = "ping"; provisional = "180"; cancelled_call = "alert";')
held_lab = lab_fixture("e", 'policy = "ping"; provisional = "180"; max_held = 16;')
always_lab = lab_fixture("c", 'policy = "always-push"; provisional = "110";')
parallel_lab = lab_fixture("d", 'policy = "parallel";')


class TestRingingAndAlert:
    """wake.provisional "180" and cancelled_call "alert" (policy "ping")."""

    def test_ringing_from_sipwake_once_the_push_is_sent(self, alert_lab):
        ctx = alert_lab
        dev, old = Device("rita"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        trying = call_in(ctx, call)
        ringing = ctx.pbx.expect(is_resp(180, call.cid), 2.0, "180 from sipwake")
        assert ringing.to_tag() and vias(ringing) == [call.via], ringing
        assert trying.t <= ringing.t
        ctx.push.wait_req(dev.token, start=mark, timeout=1.0)
        # A retransmission now gets the latest answer, the 180.
        ctx.pbx.send(call.invite)
        again = ctx.pbx.expect(lambda m: m.call_id == call.cid and m.cseq[1] == "INVITE", 1.0,
                               "an answer to the retransmission")
        assert again.status == 180 and again.to_tag() == ringing.to_tag(), again
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring_and_answer(ctx, new, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w

    def test_cancel_before_wake_sends_a_missed_call_alert_and_no_invite(self, alert_lab):
        """The call's push to the VoIP token, the missed-call alert to the
        regular one (an iOS app giving both, as Linphone does)."""
        ctx = alert_lab
        dev, old = Linphone("sven"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.pbx.expect(is_resp(180, call.cid), 2.0, "180 from sipwake")
        ctx.push.wait_req(dev.voip, start=mark)
        ctx.pbx.send(call.cancel())
        ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
        r487 = ctx.pbx.expect(final_of(call.cid), 1.0, "487 to the INVITE")
        assert r487.status == 487, r487
        ctx.pbx.send(call.ack_final(r487))
        # A missed-call notice (an alert push: iOS shows it, no CallKit call).
        alert = ctx.push.wait_req(dev.regular, kind="alert", start=mark, timeout=3.0)
        assert alert["topic"] == BUNDLE and alert["status"] == 200, alert
        # It names the call it stands for, as the call's push did.
        assert '"call_id":"%s"' % call.cid in alert["body"], alert
        assert '"aor":"sip:%s"' % dev.aor in alert["body"], alert
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("INVITE"), 1.5, "INVITE of a cancelled call")
        ctx.pbx.nothing(of_call(call.cid), 0)
        d.no_held()
        assert len(ctx.push.reqs(dev.voip, None, mark)) == 1  # the call's, nothing else
        assert len(ctx.push.reqs(dev.regular, "alert", mark)) == 1
        w = d.wake()
        assert w.get("wake_alerts") == 1 and w.get("wake_cancelled") == 1, w
        assert not w.get("wake_late_cancels") and not w.get("wake_branches"), w

    def test_voip_token_alone_gets_no_missed_call_alert(self, alert_lab):
        """A VoIP token takes VoIP pushes only (APNs: DeviceTokenNotForTopic):
        a device that gave nothing else gets no alert, and none is counted."""
        ctx = alert_lab
        dev, old = Device("sol"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.pbx.expect(is_resp(180, call.cid), 2.0, "180 from sipwake")
        ctx.push.wait_req(dev.token, start=mark)
        ctx.pbx.send(call.cancel())
        ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
        r487 = ctx.pbx.expect(final_of(call.cid), 1.0, "487 to the INVITE")
        ctx.pbx.send(call.ack_final(r487))
        time.sleep(1.0)
        assert [e["type"] for e in ctx.push.reqs(dev.token, None, mark)] == ["voip"]
        d.no_held()
        w = d.wake()
        assert not w.get("wake_alerts") and w.get("wake_cancelled") == 1, w


# -- wake.max_held ----------------------------------------------------------------

class TestMaxHeld:
    """wake.max_held = 16 (the smallest the config takes)."""

    def test_calls_past_max_held_get_503_and_the_held_ones_all_end(self, held_lab):
        """wake.max_held = 16 here: the 17th held call is refused at once;
        every one of the 16 is answered 480 at the timeout, none stays.
        A lab of its own: calls that ended linger in the same table for
        32 s (Timer H / J, absorbing ACKs and retransmissions) and count
        against max_held, so the table must start empty and is full of
        them afterwards."""
        ctx = held_lab
        dev, old = Device("walt"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        assert ctx.lab.held()["transactions"] == 0, ctx.lab.held()
        calls = [Call(dev.contact(old.ip, old.port), dev.user) for _ in range(17)]
        t0 = time.monotonic()
        for c in calls[:16]:
            call_in(ctx, c)
        d.wait_held(16, 1.0)
        ctx.pbx.send(calls[16].invite)
        r = ctx.pbx.expect(final_of(calls[16].cid), 1.0, "503 past max_held")
        assert r.status == 503, r
        ctx.pbx.send(calls[16].ack_final(r))
        for c in calls[:16]:
            r = ctx.pbx.expect(final_of(c.cid), max(0.5, t0 + TIMEOUT_S + 1.0 - time.monotonic()),
                               "480 for every held call")
            assert r.status == 480, r
            ctx.pbx.send(c.ack_final(r))
        d.no_held()
        assert len(ctx.push.reqs(dev.token, "voip", mark)) == 16
        w = d.wake()
        assert w.get("wake_calls") == 16 and w.get("wake_timed_out") == 16, w
        assert d().get("drop_wake_held_full") == 1, d()


# -- policy "always-push", provisional "110" --------------------------------------

class TestAlwaysPush:
    """wake.policy "always-push": even an alive device is pushed and gets the
    call only after its REGISTER is accepted; provisional "110"."""

    def test_alive_device_is_pushed_and_called_after_its_register(self, always_lab):
        ctx = always_lab
        dev, app = Device("tara"), ctx.app()
        ctx.register(app, dev)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(app.ip, app.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        sent = ctx.pbx.expect(is_resp(110, call.cid), 2.0, "110 Push sent")
        assert vias(sent) == [call.via], sent
        app.nothing(is_req("INVITE"), 1.0, "INVITE before the REGISTER")
        # The app (alive, same socket) registers as the push tells it to.
        ctx.register(app, dev, cseq=2)
        inv = app.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, app, dev)
        ring_and_answer(ctx, app, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
        assert w.get("wake_answered") == 1, w


# -- policy "parallel" -----------------------------------------------------------

class TestParallel:
    """wake.policy "parallel": the last contact gets the INVITE at once and
    the device a push, at the same time."""

    def test_last_contact_called_and_pushed_at_once(self, parallel_lab):
        ctx = parallel_lab
        dev, old = Device("uma"), ctx.app()
        ctx.asleep((old, dev))  # asleep: under "ping" it would only be pushed
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        inv = old.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
        check_forwarded(inv, call, old, dev)
        ctx.push.wait_req(dev.token, start=mark, timeout=1.0)
        ring_and_answer(ctx, old, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_answered") == 1, w

    def test_device_ringing_on_its_last_contact_gets_no_second_invite(self, parallel_lab):
        ctx = parallel_lab
        dev, old = Device("vera"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        inv = old.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
        ctx.push.wait_req(dev.token, start=mark, timeout=1.0)
        ring(ctx, old, inv, call)
        # The push woke the app too, which registers from a new socket: it
        # already rings, so it gets no second INVITE.
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("INVITE"), 1.0, "second INVITE")
        # The caller gives up: the CANCEL goes where the INVITE went (§9.1).
        ctx.pbx.send(call.cancel())
        ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 1.0, "200 to the CANCEL")
        can = old.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL")
        assert can.branch() == inv.branch(), can
        old.send(reply(can, 200, "OK"))
        old.send(reply(inv, 487, "Request Terminated", tag="app1"))
        old.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        r487 = ctx.pbx.expect(final_of(call.cid), 2.0, "487 to the INVITE")
        assert r487.status == 487, r487
        ctx.pbx.send(call.ack_final(r487))
        new.nothing(timeout=0.3)
        d.no_held()
        w = d.wake()
        assert w.get("wake_branches") == 1 and w.get("wake_cancelled") == 1, w
