# SPDX-License-Identifier: BSD-3-Clause
"""The wake path (docs/design.md §5): a call to a sleeping app becomes one
VoIP push, then the held INVITE goes to wherever the app registers again,
once; a call nobody takes is answered within wake.timeout_s + 1 s; CANCEL,
dead tokens, several devices, retransmissions and shutdown leave nothing
behind.

Real parts only: sipwake in the lab's namespaces (scripts/swlab.py), the
APNs test double build/tests/pushd/pd_testsrv inside the lab's sw namespace
(pushd reaches it through that namespace's kernel stack), byte-level SIP
peers for the PBX and the apps, and sipp for one whole call. The test's own
UDP sockets are opened inside the lab's peer namespace (setns on this
thread, then back), so one test reads the PBX, the apps and the push server
in the order things happen. Retransmissions and duplicates are the same
bytes sent again by the test. Every wait is bounded.

An app is "asleep" once it has not been heard from for bindings.alive_window_s
(2 s here; sipwake's own pings are off): a test binds its devices, waits that
out (lab.devices() says "asleep"), then calls. One lab per class (wake { }
differs); wake.timeout_s is 4 s everywhere. This file has one asleep device
woken (or not) and shutdown; test_wake_devices.py has the same policy's
calls to several devices of one AOR, to an alive app, to an app woken on
another network, and a whole call with sipp on both ends.

What the wake path must not do, and where each is tested (TestPing here
unless said):
  two INVITEs to one device for one call
      - challenge + retry, REGISTER retransmission, refresh:
        test_challenged_register_and_its_retry_are_one_wake
      - PBX INVITE retransmission while waiting and after the wake:
        test_invite_retransmissions_are_answered_and_never_pushed_again
      - woken while already ringing: TestParallel.test_device_ringing_on_its_...
  a push for every INVITE retransmission: test_invite_retransmissions_...
  a held INVITE released by a REGISTER the PBX did not accept:
        test_register_the_pbx_refuses_or_never_answers_releases_nothing
  a call unanswered past wake_timeout + 1 s:
        test_no_wake_is_answered_480_within_the_timeout_and_nothing_is_left,
        TestMaxHeld (16 at once), test_wake_devices.py's
        test_two_devices_one_wakes_... (no 480 after a 200)
  a held INVITE lost or leaked after CANCEL, timeout or shutdown: the
        cancel tests, the timeout test, test_shutdown_answers_held_calls_503_first
        (every test also waits for /sipwake/held to come back)
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swlab  # noqa: E402,F401
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)

ping_lab = lab_fixture("a", PING_WAKE)


class TestPing:
    """wake.policy "ping", no extra provisional, cancelled_call "invite-cancel"."""

    def test_asleep_app_gets_one_push_and_the_call_on_its_new_port(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("alice"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        # The PBX calls the contact as registered (pn-* kept, RFC 8599 §5.3) via
        # sipwake's Path.
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        # Held: journaled from its 100 Trying on, until its final answer.
        wait_journal(ctx.lab, [call.cid])
        ev = ctx.push.wait_req(dev.token, start=mark)
        assert ev["status"] == 200 and ev["topic"] == BUNDLE + ".voip", ev
        assert ev["prio"] == "10" and '"call_id":"%s"' % call.cid in ev["body"], ev
        held = d.wait_held(1, 1.0)
        assert held["oldest_age_ms"] > 0, held
        old.nothing(timeout=0.3)  # asleep: nothing goes to the old contact
        # The app wakes and registers from a new port: the INVITE waits for the
        # PBX's 200, then goes there.
        new = ctx.app()
        ctx.send_register(new, dev, cid="reg-after-push@app")
        reg = ctx.pbx.expect(is_req("REGISTER"), 2.0, "the REGISTER relayed")
        new.nothing(is_req("INVITE"), 0.3, "INVITE before the PBX accepted the REGISTER")
        ctx.pbx.inbox.insert(0, reg)
        ctx.pbx_answer_register(dev, new, 200)
        new.expect(is_resp(200, meth="REGISTER"), 2.0, "200 to the REGISTER")
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring_and_answer(ctx, new, inv, call)
        wait_journal(ctx.lab, [])  # the 200 relayed: out of the journal
        old.nothing(timeout=0.1)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        for k in ("wake_calls", "wake_pushes", "wake_branches", "wake_woken", "wake_answered"):
            assert w.get(k) == 1, (k, w)
        assert not w.get("wake_timed_out") and not w.get("wake_retransmissions"), w
        # /sipwake/trace,<call-id>: the whole story, in order.
        tr = ctx.lab.telemetry("/sipwake/trace," + call.cid)
        steps = ["INVITE from %s:" % PBX4, "100 Trying", "asleep: VoIP push via apns sent",
                 "push to device", "delivered (HTTP 200", "woken: REGISTER accepted from %s:%d"
                 % (new.ip, new.port), "INVITE to device", "at %s:%d" % (new.ip, new.port),
                 "answered 180", "answered 200", "final 200 to the PBX: answered"]
        text = "\n".join(tr["trace"])
        at = 0
        for step in steps:
            i = text.find(step, at)
            assert i >= 0, (step, tr)
            at = i
        assert tr["events"] == len(tr["trace"]) and tr["trace"][0].startswith("+0 ms "), tr
        none = ctx.lab.telemetry("/sipwake/trace,never-seen@nowhere")
        assert none["events"] == 0 and none["trace"] == [] and "note" in none, none
        # /sipwake/info: the running config's summary and the rings' fill levels.
        info = ctx.lab.telemetry("/sipwake/info")
        assert info["config"]["wake_policy"] == "ping", info
        assert info["config"]["wake_timeout_s"] == TIMEOUT_S, info
        assert info["config"]["push_apns"] == 1 and info["config"]["pbx_servers"] == 1, info
        assert info["rings"]["size"] >= 64 and info["rings"]["w0_up"] >= 0, info

    def test_forged_or_malformed_answers_on_our_branches_are_dropped(self, ping_lab):
        """Bad input: answers from a bound device naming one of sipwake's
        wake-path branches (z9hG4bK-swCi...) that is not hex, has the wrong
        length, or names no call are dropped and counted (drop_wake_stray);
        nothing reaches the PBX and sipwake goes on."""
        ctx = ping_lab
        dev, app = Device("mallory"), ctx.app()
        ctx.register(app, dev)
        d = Delta(ctx.lab)
        for tail in ("zz" * 8 + "0",          # not hex
                     "00" * 8,                # 16 digits: one short
                     "00" * 8 + "00",         # one too many
                     "7" * 16 + "0"):         # well formed, no such call
            app.send(build("SIP/2.0 200 OK", [
                "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-swCi%s;rport" % (SW4, tail),
                "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-pbx1" % PBX4,
                "From: <sip:pbx@example.com>;tag=p1", "To: <sip:%s>;tag=a1" % dev.aor,
                "Call-ID: forged-%s@test" % tail, "CSeq: 1 INVITE"]))
        end = time.monotonic() + 3
        while d().get("drop_wake_stray", 0) < 4 and time.monotonic() < end:
            time.sleep(0.05)
        assert d().get("drop_wake_stray") == 4, d()
        ctx.pbx.nothing(is_resp(200), 0.3, "a forged answer relayed to the PBX")
        assert ctx.lab.proc.poll() is None

    def test_held_telemetry_counts_ages_and_latencies(self, ping_lab):
        """/sipwake/held: the held count, the oldest one's age, and the wake
        latencies (push sent -> REGISTER accepted, INVITE in -> INVITE out)
        as percentiles that cover what the test measured itself."""
        ctx = ping_lab
        dev, old = Device("theo"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        before = ctx.lab.held()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        t_in = time.monotonic()
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        t_push = time.monotonic()  # the push reached the server: it was sent before
        d.wait_held(1, 1.0)
        time.sleep(1.2)  # the app takes its time to wake
        h = ctx.lab.held()
        assert 1000 <= h["oldest_age_ms"] <= (time.monotonic() - t_in) * 1000 + 200, h
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        t_out = inv.t
        ring_and_answer(ctx, new, inv, call)
        d.no_held()
        after = ctx.lab.held()
        p2r, i2d = after["push_to_register"], after["invite_to_device"]
        assert p2r["samples"] == before["push_to_register"]["samples"] + 1, after
        assert i2d["samples"] == before["invite_to_device"]["samples"] + 1, after
        # Fewer than 100 samples in this lab: p99 is the largest sample, read
        # within 1.6 % (common/sw_hist.h), so it covers this call's; the
        # margin is the time the messages spent between the test and sipwake.
        assert p2r["samples"] < 100
        assert p2r["p99_us"] >= (t_out - t_push) * 1e6 * 0.95, (after, t_out - t_push)
        assert i2d["p99_us"] >= (t_out - t_in) * 1e6 * 0.95, (after, t_out - t_in)
        assert i2d["p50_us"] <= i2d["p90_us"] <= i2d["p99_us"], after

    def test_invite_retransmissions_are_answered_and_never_pushed_again(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("bert"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        # The PBX did not see the 100 in time (as far as the test says): the
        # same bytes again, three times. Each is answered, none is pushed.
        for _ in range(3):
            time.sleep(0.15)
            ctx.pbx.send(call.invite)
            ctx.pbx.expect(is_resp(100, call.cid), 1.0, "100 again for a retransmission")
        ctx.push.wait_req(dev.token, start=mark)
        time.sleep(0.5)
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1, ctx.push.reqs(dev.token, None, mark)
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring(ctx, new, inv, call)
        # Still retransmitting after the wake: answered with what the PBX has
        # had so far, never a second INVITE to the device, never a push.
        for _ in range(2):
            ctx.pbx.send(call.invite)
            time.sleep(0.1)
        new.nothing(is_req("INVITE"), 1.0, "second INVITE")
        answers = ctx.pbx.collect(lambda m: m.call_id == call.cid and m.cseq[1] == "INVITE", 0)
        assert [r.status for r in answers] in ([100, 100], [180, 180]), answers
        old.nothing(timeout=0)
        ok = answer(ctx, new, inv, call)
        hang_up(ctx, new, call, ok)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_retransmissions") == 5, w
        assert w.get("wake_pushes") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_calls") == 1, w

    def test_challenged_register_and_its_retry_are_one_wake(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("carl"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        new, cid = ctx.app(), "reg-carl-woken@app"
        ctx.send_register(new, dev, cseq=1, cid=cid)
        ctx.pbx_answer_register(dev, new, 401)
        new.expect(is_resp(401, meth="REGISTER"), 2.0, "the challenge")
        new.nothing(is_req("INVITE"), 0.5, "INVITE on a challenged REGISTER")
        retry = ctx.send_register(new, dev, cseq=2, cid=cid, auth=True)
        ctx.pbx_answer_register(dev, new, 200)
        new.expect(is_resp(200, meth="REGISTER"), 2.0, "200 to the retry")
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring(ctx, new, inv, call)
        # The retry again, byte for byte (its 200 was lost): sipwake
        # answers it with the same 200 (Timer J) and the PBX never sees it;
        # then a refresh from the same socket: neither brings the INVITE a
        # second time.
        new.send(retry)
        new.expect(lambda m: m.status == 200 and m.cseq == (2, "REGISTER"), 2.0,
                   "the same 200 again")
        ctx.pbx.nothing(is_req("REGISTER"), 0.5, "the retransmission at the PBX")
        ctx.send_register(new, dev, cseq=3, cid=cid)
        ctx.pbx_answer_register(dev, new, 200)
        new.expect(lambda m: m.status == 200 and m.cseq == (3, "REGISTER"), 2.0,
                   "200 to the refresh")
        new.nothing(is_req("INVITE"), 1.0, "second INVITE")
        ok = answer(ctx, new, inv, call)
        hang_up(ctx, new, call, ok)
        d.no_held()
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_answered") == 1, w
        # The trace shows the REGISTERs the call waited on and the PBX's answers.
        text = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
        steps = ["REGISTER from %s:%d relayed to the PBX" % (new.ip, new.port),
                 "REGISTER answered 401 by the PBX (a challenge",
                 "relayed to the PBX (with credentials)", "REGISTER answered 200 by the PBX",
                 "woken: REGISTER accepted", "INVITE to device"]
        at = 0
        for step in steps:
            at = text.find(step, at)
            assert at >= 0, (step, text)

    def test_register_the_pbx_refuses_or_never_answers_releases_nothing(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("dora"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        # Someone who knows the push address (the same instance and token)
        # registers from elsewhere; the PBX refuses: the call stays held.
        spoof = ctx.app(ip=swlab.GW_IP4)
        ctx.send_register(spoof, dev)
        ctx.pbx_answer_register(dev, spoof, 403)
        spoof.expect(is_resp(403, meth="REGISTER"), 2.0, "the refusal")
        spoof.nothing(is_req("INVITE"), 0.3, "INVITE after a refused REGISTER")
        # A REGISTER the PBX never answers (pbx.timeout_ms = 1 s: 408 from sipwake).
        silent = ctx.app()
        ctx.send_register(silent, dev)
        ctx.pbx.expect(is_req("REGISTER"), 2.0, "the REGISTER nobody answers")
        silent.expect(is_resp(408, meth="REGISTER"), 3.0, "408 from sipwake")
        silent.nothing(is_req("INVITE"), 0.2, "INVITE after an unanswered REGISTER")
        ctx.pbx.collect(is_req("REGISTER"), 0)  # its retransmissions, if any
        old.nothing(timeout=0)
        d.wait_held(1, 0.5)
        devs = ctx.lab.devices(dev.aor)
        assert [x["source"] for x in devs] == ["%s:%d" % (old.ip, old.port)], devs
        # The real app then: the INVITE was still held. It is busy.
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        spoof.nothing(timeout=0)
        silent.nothing(is_req("INVITE"), 0)
        new.send(reply(inv, 486, "Busy Here", tag="busy"))
        busy = ctx.pbx.expect(final_of(call.cid), 2.0, "the app's answer")
        assert busy.status == 486 and vias(busy) == [call.via], busy
        # sipwake's client transaction ACKs the 486 itself (§17.1.1.3) ...
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 486")
        assert ack.branch() == inv.branch(), ack
        # ... and absorbs the PBX's ACK for the 486 it relayed.
        ctx.pbx.send(call.ack_final(busy))
        new.nothing(is_req("ACK"), 0.5, "the PBX's ACK forwarded")
        d.no_held()
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_failed") == 1 and not w.get("wake_answered"), w
        text = "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])
        for step in ("REGISTER from %s:%d relayed" % (spoof.ip, spoof.port),
                     "REGISTER answered 403 by the PBX: not woken",
                     "REGISTER from %s:%d relayed" % (silent.ip, silent.port),
                     "REGISTER never answered by the PBX: 408"):
            assert step in text, (step, text)

    def test_no_wake_is_answered_480_within_the_timeout_and_nothing_is_left(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("emil"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        # To the AOR this time, without a Route (a PBX that routes by outbound proxy).
        call = Call("sip:%s" % dev.aor, dev.user, route=False)
        t0 = time.monotonic()
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        r = ctx.pbx.expect(final_of(call.cid), TIMEOUT_S + 2.0, "the final answer")
        assert r.status == 480 and r.to_tag(), r
        assert TIMEOUT_S - 0.05 <= r.t - t0 <= TIMEOUT_S + 1.0, r.t - t0
        wait_journal(ctx.lab, [])  # answered 480: out of the journal
        # A retransmission now gets the 480 again (§17.2.1); the ACK is absorbed.
        ctx.pbx.send(call.invite)
        again = ctx.pbx.expect(lambda m: m.call_id == call.cid and m.cseq[1] == "INVITE", 1.0,
                               "an answer to the late retransmission")
        assert again.status == 480 and again.to_tag() == r.to_tag(), again
        ctx.pbx.send(call.ack_final(r))
        ctx.pbx.nothing(of_call(call.cid), 0.5, "answer to the ACK")
        old.nothing(timeout=0)
        d.no_held()
        # Waking up late (within wake.late_window_s) gets the call and its
        # end, never a call to answer (test_wake_late.py has the rest).
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the timed-out call's INVITE")
        new.send(reply(inv, 180, "Ringing", tag="late"))
        can = new.expect(is_req("CANCEL", call.cid), 2.0, "its CANCEL")
        assert (can.get("Reason") or "").startswith("SIP;cause=480;"), can
        new.send(reply(can, 200, "OK"))
        new.send(reply(inv, 487, "Request Terminated", tag="late"))
        new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        ctx.pbx.nothing(of_call(call.cid), 0.5, "anything after the 480")
        w = d.wake()
        assert w.get("wake_timed_out") == 1 and w.get("wake_pushes") == 1, w
        assert w.get("wake_late_cancels") == 1 and not w.get("wake_woken"), w

    def test_dead_token_is_answered_480_at_once_and_its_push_address_removed(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("fay"), ctx.app()
        ctx.asleep((old, dev))
        assert ctx.lab.devices(dev.aor)[0]["push_prid"] == short(dev.token)
        ctx.push.cmd("set %s 410" % dev.token)
        try:
            d, mark = Delta(ctx.lab), ctx.push.mark()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            t0 = time.monotonic()
            call_in(ctx, call)
            assert ctx.push.wait_req(dev.token, start=mark)["status"] == 410
            r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
            assert r.status == 480 and r.t - t0 < 2.0, (r, r.t - t0)
            ctx.pbx.send(call.ack_final(r))
            ctx.pbx.nothing(of_call(call.cid), 0.3)
            devs = ctx.lab.devices(dev.aor)
            assert not [x for x in devs if x.get("push_prid") == short(dev.token)], devs
            d.no_held()
            w = d.wake()
            assert w.get("wake_dead_tokens") == 1 and w.get("wake_rejected") == 1, w
            assert not w.get("wake_timed_out"), w
            # The next call has nobody to push: 480 at once, the dead token is
            # never pushed again.
            mark = ctx.push.mark()
            call2 = Call("sip:%s" % dev.aor, dev.user)
            ctx.pbx.send(call2.invite)
            r = ctx.pbx.expect(final_of(call2.cid), 1.5, "480 for a device without push")
            assert r.status == 480, r
            ctx.pbx.send(call2.ack_final(r))
            time.sleep(0.3)
            assert ctx.push.reqs(dev.token, None, mark) == []
        finally:
            ctx.push.cmd("clear")

    def test_bad_device_token_is_answered_480_at_once(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("gwen"), ctx.app()
        ctx.asleep((old, dev))
        ctx.push.cmd("set %s 400 BadDeviceToken" % dev.token)
        try:
            d, mark = Delta(ctx.lab), ctx.push.mark()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            t0 = time.monotonic()
            call_in(ctx, call)
            ev = ctx.push.wait_req(dev.token, start=mark)
            assert ev["status"] == 400, ev
            r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
            assert r.status == 480 and r.t - t0 < 2.0, (r, r.t - t0)
            ctx.pbx.send(call.ack_final(r))
            ctx.pbx.nothing(of_call(call.cid), 0.3)
            d.no_held()
            time.sleep(0.3)
            assert len(ctx.push.reqs(dev.token, None, mark)) == 1  # a 400 is not retried
            w = d.wake()
            assert w.get("wake_rejected") == 1 and not w.get("wake_timed_out"), w
        finally:
            ctx.push.cmd("clear")

    def test_push_throttled_429_then_200_still_wakes(self, ping_lab):
        ctx = ping_lab
        dev, old = Device("hugo"), ctx.app()
        ctx.asleep((old, dev))
        ctx.push.cmd("once %s 429 1" % dev.token)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        first = ctx.push.wait_req(dev.token, start=mark)
        assert first["status"] == 429, first
        second = ctx.push.wait_req(dev.token, start=mark, timeout=3.0, n=2)
        assert second["status"] == 200, second
        ctx.pbx.nothing(final_of(call.cid), 0)
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
        check_forwarded(inv, call, new, dev)
        ring_and_answer(ctx, new, inv, call)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 2  # one push, two attempts
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
        assert w.get("wake_answered") == 1 and not w.get("wake_rejected"), w

    def test_cancel_before_wake_then_the_woken_app_gets_invite_and_cancel(self, ping_lab):
        ctx = ping_lab
        dev, call, d, mark = cancel_before_wake(ctx, "ines")
        wait_journal(ctx.lab, [])  # answered 487: out of the journal
        new = ctx.app()
        ctx.register(new, dev)
        # iOS must see the call it was pushed for, then see it end (CallKit).
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the cancelled call's INVITE")
        check_forwarded(inv, call, new, dev)
        new.nothing(is_req("CANCEL"), 0.3, "CANCEL before a provisional (§9.1)")
        new.send(reply(inv, 180, "Ringing", tag="late"))
        can = new.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL")
        assert can.get("Reason"), can
        assert can.branch() == inv.branch() and can.ruri == inv.ruri, can
        assert can.cseq == (1, "CANCEL"), can
        new.send(reply(can, 200, "OK"))
        new.send(reply(inv, 487, "Request Terminated", tag="late"))
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        assert ack.branch() == inv.branch(), ack
        ctx.pbx.nothing(of_call(call.cid), 1.0, "anything of the cancelled call")
        d.no_held()
        w = d.wake()
        assert w.get("wake_cancelled") == 1 and w.get("wake_late_cancels") == 1, w
        assert not w.get("wake_answered") and not w.get("wake_alerts"), w

    def test_cancelled_call_answered_anyway_is_hung_up_by_sipwake(self, ping_lab):
        ctx = ping_lab
        dev, call, d, mark = cancel_before_wake(ctx, "jack")
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the cancelled call's INVITE")
        new.send(reply(inv, 180, "Ringing", tag="late"))
        can = new.expect(is_req("CANCEL", call.cid), 2.0, "the CANCEL")
        # The user picked up as the CANCEL crossed: the 200 never becomes a call.
        new.send(reply(inv, 200, "OK", tag="late", contact=app_contact(new, inv), body=SDP_APP))
        new.send(reply(can, 200, "OK"))
        ack = new.expect(is_req("ACK", call.cid), 2.0, "ACK for the 200")
        bye = new.expect(is_req("BYE", call.cid), 2.0, "BYE from sipwake")
        assert ack.ruri == app_contact(new, inv) and bye.ruri == app_contact(new, inv), (ack, bye)
        new.send(reply(bye, 200, "OK"))
        ctx.pbx.nothing(of_call(call.cid), 1.0, "anything of the cancelled call")
        d.no_held()
        w = d.wake()
        assert w.get("wake_cancelled") == 1 and not w.get("wake_answered"), w

    def test_shutdown_answers_held_calls_503_first(self, ping_lab):
        """Last in this class: it stops the lab's sipwake."""
        ctx = ping_lab
        dev, old = Device("zoe"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(old.ip, old.port), dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        d.wait_held(1, 1.0)
        rc = ctx.lab.stop()
        r = ctx.pbx.expect(final_of(call.cid), 1.0, "503 on shutdown")
        assert r.status == 503 and r.to_tag() and vias(r) == [call.via], r
        assert rc == 0, ctx.lab.read_log()[-3000:]
        assert "held call(s) answered 503" in ctx.lab.read_log()
        # The 503s' deletes are committed before the exit: a normal stop
        # leaves nothing for the next start to answer.
        assert journal_cids(ctx.lab) == []
