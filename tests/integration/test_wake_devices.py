# SPDX-License-Identifier: BSD-3-Clause
"""The wake path with policy "ping" (test_wake.py's settings, in a lab of
its own) and where the call goes: to two devices of one AOR (one wakes and
the other never does; both wake and the one not answering is cancelled), to
an alive and an asleep device of one AOR, to an alive app (the worker's, at
once, no push), to an app woken on another network, and a whole call with
sipp on both ends and as the registrar. Same parts and rules as
test_wake.py; every wait is bounded."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sippkit  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)

ping_lab = lab_fixture("f", PING_WAKE)


class TestPing:
    """Policy "ping" as in test_wake.py's TestPing (wakekit.PING_WAKE): where
    the call goes."""

    def test_two_devices_one_wakes_the_call_goes_on_without_the_other(self, ping_lab):
        ctx = ping_lab
        d1, d2, o1, o2 = Device("kim", 1), Device("kim", 2), ctx.app(), ctx.app()
        ctx.asleep((o1, d1), (o2, d2))
        assert len(ctx.lab.devices(d1.aor)) == 2
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % d1.aor, d1.user, route=False)
        t0 = time.monotonic()
        call_in(ctx, call)
        ctx.push.wait_req(d1.token, start=mark)
        ctx.push.wait_req(d2.token, start=mark)
        n1 = ctx.app()
        ctx.register(n1, d1)
        inv = n1.expect(is_req("INVITE", call.cid), 2.0, "the INVITE to the woken phone")
        check_forwarded(inv, call, n1, d1)
        ring_and_answer(ctx, n1, inv, call)
        # The other phone never wakes: no 480 (or anything) after the 200, not
        # even once the wake timeout has passed.
        ctx.pbx.nothing(of_call(call.cid), max(0.5, t0 + TIMEOUT_S + 1.2 - time.monotonic()),
                        "answer after the call was taken")
        o1.nothing(timeout=0)
        o2.nothing(timeout=0)
        d.no_held()
        assert len(ctx.push.reqs(d1.token, None, mark)) == 1
        assert len(ctx.push.reqs(d2.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 2 and w.get("wake_woken") == 1, w
        assert w.get("wake_branches") == 1 and w.get("wake_answered") == 1, w
        assert not w.get("wake_timed_out"), w

    def test_two_devices_both_wake_the_one_not_answering_gets_cancel(self, ping_lab):
        ctx = ping_lab
        d1, d2, o1, o2 = Device("lou", 1), Device("lou", 2), ctx.app(), ctx.app()
        ctx.asleep((o1, d1), (o2, d2))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % d1.aor, d1.user)
        call_in(ctx, call)
        ctx.push.wait_req(d1.token, start=mark)
        ctx.push.wait_req(d2.token, start=mark)
        n1, n2 = ctx.app(), ctx.app()
        ctx.register(n1, d1)
        inv1 = n1.expect(is_req("INVITE", call.cid), 2.0, "INVITE to the first phone")
        ring(ctx, n1, inv1, call, tag="one")
        ctx.register(n2, d2)
        inv2 = n2.expect(is_req("INVITE", call.cid), 2.0, "INVITE to the second phone")
        check_forwarded(inv2, call, n2, d2)
        assert inv1.branch() != inv2.branch()
        ring(ctx, n2, inv2, call, tag="two")
        ok = answer(ctx, n1, inv1, call, tag="one")
        can = n2.expect(is_req("CANCEL", call.cid), 2.0, "CANCEL to the other phone")
        assert can.get("Reason") == 'SIP;cause=200;text="Call completed elsewhere"', can
        assert can.branch() == inv2.branch(), can
        n2.send(reply(can, 200, "OK"))
        n2.send(reply(inv2, 487, "Request Terminated", tag="two"))
        n2.expect(is_req("ACK", call.cid), 2.0, "ACK for the 487")
        hang_up(ctx, n1, call, ok)
        ctx.pbx.nothing(of_call(call.cid), 0.5, "the 487 or a second answer")
        n1.nothing(is_req("CANCEL"), 0)
        d.no_held()
        w = d.wake()
        assert w.get("wake_woken") == 2 and w.get("wake_branches") == 2, w
        assert w.get("wake_answered") == 1 and w.get("wake_pushes") == 2, w

    def test_alive_and_asleep_devices_of_one_aor(self, ping_lab):
        ctx = ping_lab
        d1, d2, o1, o2 = Device("max", 1), Device("max", 2), ctx.app(), ctx.app()
        ctx.asleep((o1, d1))
        ctx.register(o2, d2)  # just now: alive
        assert ctx.wait_state(d2, "alive", 0.5)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % d1.aor, d1.user)
        call_in(ctx, call)
        # The alive phone gets the call at once, the asleep one a push.
        inv = o2.expect(is_req("INVITE", call.cid), 0.5, "INVITE to the alive phone at once")
        check_forwarded(inv, call, o2, d2)
        ctx.push.wait_req(d1.token, start=mark)
        ring_and_answer(ctx, o2, inv, call)
        o1.nothing(timeout=0)
        d.no_held()
        assert ctx.push.reqs(d2.token, None, mark) == []
        assert len(ctx.push.reqs(d1.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_pushes") == 1 and w.get("wake_branches") == 1, w
        assert w.get("wake_answered") == 1, w

    def test_alive_app_gets_the_call_from_the_worker_and_no_push(self, ping_lab):
        ctx = ping_lab
        dev, app = Device("nina"), ctx.app()
        ctx.register(app, dev)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call(dev.contact(app.ip, app.port), dev.user)
        ctx.pbx.send(call.invite)
        inv = app.expect(is_req("INVITE", call.cid), 0.5, "the INVITE at once")
        # The worker's own stateless branch, not the control plane's.
        assert re.match(r"SIP/2\.0/UDP 198\.18\.0\.1:5060;branch=z9hG4bK-swS", inv.get("Via")), inv
        assert inv.ruri == dev.contact(app.ip, app.port, pn=False), inv
        ring_and_answer(ctx, app, inv, call)
        time.sleep(0.3)
        assert ctx.push.reqs(dev.token, None, mark) == []
        assert d.wake() == {}, d.wake()
        st = d()
        assert st["fwd_requests_to_device"] >= 3, st
        # The worker's trace events: the lookup, where the INVITE went, the
        # app's answers; nothing of the wake path.
        tr = ctx.lab.telemetry("/sipwake/trace," + call.cid)
        text = "\n".join(tr["trace"])
        at = 0
        for step in ("INVITE from the PBX: device", "alive, forwarded at once to %s:%d"
                     % (app.ip, app.port), "answered 180, relayed to the PBX at %s:5060" % PBX4,
                     "answered 200, relayed to the PBX"):
            at = text.find(step, at)
            assert at >= 0, (step, tr)
        assert "push" not in text and "final" not in text, tr
        ids = re.findall(r"device ([0-9a-f]+) ", text)
        assert len(ids) == 3 and len(set(ids)) == 1 and ids[0] != "0", tr  # one device, named
        assert st.get("trace_lost", 0) == 0, st
        # A call for a device nobody registered: 404, and the trace says so.
        stray = Call("sip:nobody@%s:%d;pn-provider=apns;pn-prid=00ff;pn-param=%s"
                     % (APP4, 30999, PN_PARAM), "nobody")
        ctx.pbx.send(stray.invite)
        nf = ctx.pbx.expect(final_of(stray.cid), 1.0, "404 for no device")
        assert nf.status == 404, nf
        tr = ctx.lab.telemetry("/sipwake/trace," + stray.cid)
        assert any("no device bound for it, 404" in ln for ln in tr["trace"]), tr

    def test_woken_app_on_a_new_ip_in_another_namespace(self, ping_lab):
        ctx = ping_lab
        with far_namespace(ctx.lab) as (ns, ip):
            dev, old = Device("olga"), ctx.app()
            ctx.asleep((old, dev))
            d, mark = Delta(ctx.lab), ctx.push.mark()
            call = Call(dev.contact(old.ip, old.port), dev.user)
            call_in(ctx, call)
            ctx.push.wait_req(dev.token, start=mark)
            new = ctx.app(ip=ip, ns=ns)
            ctx.register(new, dev)
            inv = new.expect(is_req("INVITE", call.cid), 2.0, "the INVITE on the new network")
            check_forwarded(inv, call, new, dev)
            ring_and_answer(ctx, new, inv, call)
            old.nothing(timeout=0)
            d.no_held()
            assert ctx.lab.devices(dev.aor)[0]["source"] == "%s:%d" % (ip, new.port)
            w = d.wake()
            assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w

    def test_sipp_pbx_calls_a_sleeping_sipp_app_that_wakes_on_a_new_port(self, ping_lab):
        """The whole call with sipp on both ends and as the registrar: the
        app registers (challenged) and sleeps; sipp's PBX calls it; when the
        push is recorded the test hands the app its "push" (a MESSAGE to
        sipp on the new port), which registers from there (challenged
        again) and takes the call (tests/integration/sipp/README.md)."""
        ctx = ping_lab
        dev, lab = Device("sippy"), ctx.lab
        sets = {"token": dev.token, "pn_param": PN_PARAM, "domain": DOMAIN,
                "instance": "urn:uuid:" + dev.instance}
        creds = ["-au", dev.user, "-ap", "secret"]
        old_port, new_port = ctx.next_port + 1, ctx.next_port + 2
        ctx.next_port += 2
        with ctx.pbx_port_free():
            registrar = sippkit.lab_sipp(lab, "pbx_registrar.xml", PBX4, 5060, calls=2,
                                         timeout=40).start()
            try:
                first = sippkit.lab_run_sipp(lab, "app_register.xml", APP4, old_port,
                                             remote=SW4, service=dev.user, timeout=15,
                                             sets=sets, extra=creds + ["-recv_timeout", "5000"])
                assert first.ok, str(first)
                ctx.wait_state(dev, "asleep")
                d, mark = Delta(lab), ctx.push.mark()
                app = sippkit.lab_sipp(lab, "app_wake_uas.xml", APP4, new_port, calls=2,
                                       service=dev.user, timeout=30, sets=dict(sets, edge_host=SW4),
                                       extra=creds).start()
                caller = sippkit.lab_sipp(lab, "pbx_call_uac.xml", PBX4, 5062, remote=SW4,
                                          service=dev.user, timeout=30,
                                          sets={"ruri": dev.contact(APP4, old_port),
                                                "domain": DOMAIN},
                                          extra=["-d", "300"]).start()
                try:
                    ctx.push.wait_req(dev.token, start=mark, timeout=5)
                    tell_sipp_app(ctx, dev, new_port)
                    res_caller, res_app = caller.wait(30), app.wait(30)
                finally:
                    caller.stop()
                    app.stop()
                assert res_caller.ok and res_app.ok, sippkit.explain(
                    res_caller, res_app, lab.read_log()[-3000:])
            finally:
                res_reg = registrar.stop() if registrar.result is None else registrar.result
        assert res_reg.ok, str(res_reg)
        d.no_held()
        assert len(ctx.push.reqs(dev.token, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w
        assert w.get("wake_branches") == 1 and w.get("wake_pushes") == 1, w
