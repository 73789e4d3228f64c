# SPDX-License-Identifier: BSD-3-Clause
"""SIP MESSAGE (RFC 3428) for a sleeping app (docs/design.md §5,
"Messages"): to an alive app the worker forwards it at once; for an asleep
one the control plane holds it (no answer yet: RFC 4320 §4.1), sends one
alert push naming the sender, and relays it once to where the app
registers again; the app's answer goes back to the PBX. Not delivered
within wake.message_window_s: 480. A flood for one sleeping AOR sends one
push and holds wake.max_messages_per_aor; the rest is answered 480 with
Retry-After at once and counted; past wake.max_messages, 503.

Same parts and rules as test_wake.py (wakekit.py): sipwake in the lab's
namespaces, the APNs test double in its sw namespace, byte-level PBX and
apps; every wait and every loop is bounded. Apps are Linphone-style
(regular and VoIP token in one Contact): the alert goes to the regular
token; an app that gave only its VoIP token cannot be told (pushd refuses
an alert to it)."""
import itertools
import re
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)

WINDOW_S = 8
PER_AOR = 8
MAX_MESSAGES = 16
msg_lab = lab_fixture("m", PING_WAKE + " message_window_s = %d; max_messages = %d;"
                      " max_messages_per_aor = %d; refresh_before_s = 0;"
                      % (WINDOW_S, MAX_MESSAGES, PER_AOR))

SENDER = '"Alice Sender" <sip:+15550002222@pbx.example.net>'
_n = itertools.count(1)


class Message:
    """The PBX's MESSAGE (RFC 3428) for @user, through sipwake (Route),
    with a text body; the same bytes again are a retransmission."""

    def __init__(self, user, body, frm=SENDER):
        n = next(_n)
        self.cid = "msg-%d-%d@pbx.example.net" % (os.getpid(), n)
        self.via = "SIP/2.0/UDP %s:5060;branch=z9hG4bK-pbxmsg%d-%d" % (PBX4, os.getpid(), n)
        self.body = body
        self.bytes = build("MESSAGE sip:%s@%s SIP/2.0" % (user, DOMAIN), [
            "Via: " + self.via, "Max-Forwards: 70", "Route: <sip:%s;lr>" % SW4,
            "From: %s;tag=m%d" % (frm, n), "To: <sip:%s@%s>" % (user, DOMAIN),
            "Call-ID: " + self.cid, "CSeq: 1 MESSAGE", "Content-Type: text/plain"], body)


def final_msg(cid):
    return lambda m: m.call_id == cid and m.status >= 200 and m.cseq[1] == "MESSAGE"


def check_relayed(m, msg, app, dev):
    """@m is held MESSAGE @msg as sipwake relays it to @dev at @app."""
    assert m.src == (SW4, 5060), m
    assert m.ruri == dev.contact(app.ip, app.port, pn=False), m
    vs = vias(m)
    assert len(vs) == 2 and vs[1] == msg.via, m
    assert vs[0].startswith("SIP/2.0/UDP %s:5060;branch=z9hG4bK-swCi" % SW4), m
    assert not m.all("Record-Route"), m  # no dialog (RFC 3428)
    assert m.get("Max-Forwards") == "69" and m.cseq == (1, "MESSAGE"), m
    assert m.body == msg.body, m


class TestMessage:
    """wake.message_window_s = 8, max_messages = 16, max_messages_per_aor = 8."""

    def test_message_to_an_alive_app_is_forwarded_at_once(self, msg_lab):
        ctx = msg_lab
        dev, app = Linphone("mona"), ctx.app()
        ctx.register(app, dev)
        d, mark = Delta(ctx.lab), ctx.push.mark()
        msg = Message(dev.user, "hello, awake")
        ctx.pbx.send(msg.bytes)
        m = app.expect(is_req("MESSAGE", msg.cid), 0.5, "the MESSAGE at once")
        assert m.body == msg.body and len(vias(m)) == 2, m
        app.send(reply(m, 200, "OK", tag="mona"))
        ok = ctx.pbx.expect(final_msg(msg.cid), 1.0, "the app's 200")
        assert ok.status == 200 and vias(ok) == [msg.via], ok
        time.sleep(0.3)
        assert ctx.push.reqs(dev.regular, None, mark) == []
        assert not [k for k in d.wake() if k.startswith("wake_message")], d.wake()

    def test_message_to_a_sleeping_app_is_pushed_held_and_relayed_once(self, msg_lab):
        ctx = msg_lab
        dev, old = Linphone("mina"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        msg = Message(dev.user, "see you at 8")
        t0 = time.monotonic()
        ctx.pbx.send(msg.bytes)
        # An alert push naming the sender, to the regular token (not VoIP).
        ev = ctx.push.wait_req(dev.regular, kind="alert", start=mark)
        assert ev["status"] == 200 and ev["topic"] == BUNDLE and ev["prio"] == "10", ev
        assert '"title":"Message from Alice Sender"' in ev["body"], ev
        assert '"kind":"message"' in ev["body"], ev
        assert '"caller_number":"+15550002222"' in ev["body"], ev
        assert ctx.push.reqs(dev.voip, None, mark) == []
        # Held: no answer (no 100 over UDP before T2, RFC 4320 §4.1); the
        # PBX's retransmissions are absorbed, never pushed again.
        ctx.pbx.nothing(of_call(msg.cid), 0.5, "an answer while held")
        ctx.pbx.send(msg.bytes)
        ctx.pbx.nothing(of_call(msg.cid), 0.3, "an answer to the retransmission")
        old.nothing(timeout=0)
        new = ctx.app()
        ctx.register(new, dev)
        m = new.expect(is_req("MESSAGE", msg.cid), 2.0, "the held MESSAGE")
        check_relayed(m, msg, new, dev)
        # The PBX retransmits once more after the wake: still not the app's.
        ctx.pbx.send(msg.bytes)
        new.send(reply(m, 200, "OK", tag="mina"))
        ok = ctx.pbx.expect(final_msg(msg.cid), 1.0, "the app's 200")
        assert ok.status == 200 and vias(ok) == [msg.via] and ok.to_tag() == "mina", ok
        assert ok.t - t0 < WINDOW_S, ok.t - t0
        # A retransmission now gets that 200 again (§17.2.2), not the app.
        ctx.pbx.send(msg.bytes)
        again = ctx.pbx.expect(final_msg(msg.cid), 1.0, "the 200 again")
        assert again.status == 200 and again.to_tag() == "mina", again
        new.nothing(is_req("MESSAGE"), 1.0, "the MESSAGE a second time")
        old.nothing(timeout=0)
        assert len(ctx.push.reqs(dev.regular, None, mark)) == 1
        w = d.wake()
        assert w.get("wake_message_held") == 1 and w.get("wake_message_pushes") == 1, w
        assert w.get("wake_message_delivered") == 1, w
        assert w.get("wake_retransmissions") == 3, w
        assert not w.get("wake_pushes") and not w.get("wake_calls"), w
        tr = "\n".join(ctx.lab.telemetry("/sipwake/trace," + msg.cid)["trace"])
        for step in ("MESSAGE from %s:5060" % PBX4, "alert push via apns sent",
                     "woken: REGISTER accepted", "MESSAGE to device",
                     "answered 200 to the MESSAGE", "final 200 to the PBX"):
            assert step in tr, (step, tr)

    def test_app_error_goes_back_to_the_pbx(self, msg_lab):
        ctx = msg_lab
        dev, old = Linphone("moe"), ctx.app()
        ctx.asleep((old, dev))
        mark = ctx.push.mark()
        msg = Message(dev.user, "are you there?")
        ctx.pbx.send(msg.bytes)
        ctx.push.wait_req(dev.regular, kind="alert", start=mark)
        new = ctx.app()
        ctx.register(new, dev)
        m = new.expect(is_req("MESSAGE", msg.cid), 2.0, "the held MESSAGE")
        new.send(reply(m, 415, "Unsupported Media Type", tag="moe"))
        r = ctx.pbx.expect(final_msg(msg.cid), 1.0, "the app's 415")
        assert r.status == 415 and vias(r) == [msg.via], r

    def test_not_delivered_within_the_window_is_480(self, msg_lab):
        ctx = msg_lab
        dev, old = Linphone("milo"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        msg = Message(dev.user, "nobody reads this")
        t0 = time.monotonic()
        ctx.pbx.send(msg.bytes)
        ctx.push.wait_req(dev.regular, kind="alert", start=mark)
        r = ctx.pbx.expect(final_msg(msg.cid), WINDOW_S + 2.0, "480 at the window")
        # 480, never 408 (RFC 4320 §4.2), before the PBX's Timer F (32 s).
        assert r.status == 480 and r.to_tag() and vias(r) == [msg.via], r
        assert WINDOW_S - 0.05 <= r.t - t0 <= WINDOW_S + 1.0, r.t - t0
        # Waking after the window finds nothing.
        new = ctx.app()
        ctx.register(new, dev)
        new.nothing(is_req("MESSAGE"), 1.0, "the MESSAGE after its 480")
        w = d.wake()
        assert w.get("wake_message_undelivered") == 1 and not w.get("wake_message_delivered"), w

    def test_voip_only_token_cannot_be_told_480_at_once(self, msg_lab):
        ctx = msg_lab
        dev, old = Device("mark"), ctx.app()  # a VoIP token alone: no alert to it
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        msg = Message(dev.user, "hello?")
        t0 = time.monotonic()
        ctx.pbx.send(msg.bytes)
        r = ctx.pbx.expect(final_msg(msg.cid), 1.0, "480 at once")
        assert r.status == 480 and r.t - t0 < 1.0, (r, r.t - t0)
        time.sleep(0.3)
        assert ctx.push.reqs(dev.token, None, mark) == []
        w = d.wake()
        assert w.get("wake_message_undelivered") == 1 and not w.get("wake_message_pushes"), w
        tr = "\n".join(ctx.lab.telemetry("/sipwake/trace," + msg.cid)["trace"])
        assert "cannot be woken" in tr, tr

    def test_failed_push_answers_every_message_waiting_for_it_at_once(self, msg_lab):
        """The one alert push is refused (400 BadDeviceToken): the MESSAGE
        that sent it and those that waited for the same wake get 480 at
        once, not at the window."""
        ctx = msg_lab
        dev, old = Linphone("mick"), ctx.app()
        ctx.asleep((old, dev))
        ctx.push.cmd("set %s 400 BadDeviceToken" % dev.regular)
        try:
            d, mark = Delta(ctx.lab), ctx.push.mark()
            msgs = [Message(dev.user, "try %d" % i) for i in range(3)]
            t0 = time.monotonic()
            for msg in msgs:
                ctx.pbx.send(msg.bytes)
            for msg in msgs:
                r = ctx.pbx.expect(final_msg(msg.cid), 2.0, "480 at once")
                assert r.status == 480 and r.t - t0 < 2.0, (r, r.t - t0)
            assert len(ctx.push.reqs(dev.regular, None, mark)) == 1
            w = d.wake()
            assert w.get("wake_message_pushes") == 1, w
            assert w.get("wake_message_undelivered") == 3, w
        finally:
            ctx.push.cmd("clear")

    def test_flood_for_one_sleeping_aor_one_push_capped_and_counted(self, msg_lab):
        ctx = msg_lab
        dev, old = Linphone("max"), ctx.app()
        third, third_app = Linphone("ned"), ctx.app()
        fourth, fourth_app = Linphone("nia"), ctx.app()
        other, other_app = Linphone("nell"), ctx.app()
        ctx.asleep((old, dev), (third_app, third), (fourth_app, fourth))
        ctx.register(other_app, other)
        before = stable(ctx.lab.devices(other.aor))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        msgs = [Message(dev.user, "flood %d" % i) for i in range(200)]
        is_final = lambda m: m.cseq[1] == "MESSAGE" and m.status >= 200  # noqa: E731
        refused, t0 = [], time.monotonic()
        for i, msg in enumerate(msgs):
            ctx.pbx.send(msg.bytes)
            if i % 10 == 9:
                # Bounded: 200 datagrams in 20 bursts, the answers read
                # between them (a socket buffer holds only so many).
                refused += ctx.pbx.collect(is_final, 0.02)
        refused += ctx.pbx.collect(is_final, 1.0)
        # PER_AOR held, every other one answered 480 with Retry-After at once.
        assert len(refused) == len(msgs) - PER_AOR, (len(refused), d.wake())
        assert all(r.status == 480 and r.get("Retry-After") == str(WINDOW_S)
                   for r in refused), refused[0]
        held = {m.cid for m in msgs} - {r.call_id for r in refused}
        assert held == {m.cid for m in msgs[:PER_AOR]}, held
        ev = ctx.push.wait_req(dev.regular, kind="alert", start=mark)
        assert ev["status"] == 200, ev
        # Past wake.max_messages: another AOR fills the table to 16, the
        # next MESSAGE (a third AOR) gets 503.
        more = [Message(third.user, "more %d" % i) for i in range(MAX_MESSAGES - PER_AOR)]
        t_more = time.monotonic()
        for msg in more:
            ctx.pbx.send(msg.bytes)
        last = Message(fourth.user, "one too many")
        ctx.pbx.send(last.bytes)
        r = ctx.pbx.expect(final_msg(last.cid), 1.0, "503 past max_messages")
        assert r.status == 503 and r.get("Retry-After") == str(WINDOW_S), r
        ctx.pbx.nothing(lambda m: m.call_id in {x.cid for x in more}, 0.2, "answer")
        # One push per asleep device, however many MESSAGEs.
        ctx.push.wait_req(third.regular, kind="alert", start=mark)
        assert len(ctx.push.reqs(dev.regular, None, mark)) == 1
        assert ctx.push.reqs(fourth.regular, None, mark) == []
        # sipwake is alive and the other bindings did not change.
        assert ctx.lab.proc.poll() is None
        assert stable(ctx.lab.devices(other.aor)) == before
        # The app wakes: each held MESSAGE arrives once, its 200 goes back.
        new = ctx.app()
        ctx.register(new, dev)
        got = [new.expect(is_req("MESSAGE"), 2.0, "a held MESSAGE") for _ in range(PER_AOR)]
        assert sorted(m.call_id for m in got) == sorted(held), got
        assert time.monotonic() - t0 < WINDOW_S, time.monotonic() - t0
        for m in got:
            new.send(reply(m, 200, "OK", tag="max"))
        oks = [ctx.pbx.expect(final_msg(cid), 1.0, "200 for " + cid) for cid in held]
        assert all(o.status == 200 for o in oks), oks
        new.nothing(is_req("MESSAGE"), 0.5, "a MESSAGE twice")
        # The third AOR never wakes: 480 at its window.
        for msg in more:
            r = ctx.pbx.expect(final_msg(msg.cid),
                               max(0.5, t_more + WINDOW_S + 1.0 - time.monotonic()), "480")
            assert r.status == 480, r
        w = d.wake()
        # Refused at once: the AOR's (480) and the one past max_messages (503).
        assert w.get("wake_message_refused") == len(msgs) - PER_AOR + 1, w
        assert w.get("wake_message_held") == MAX_MESSAGES, w
        assert w.get("wake_message_pushes") == 2, w
        assert w.get("wake_message_delivered") == PER_AOR, w
        assert w.get("wake_message_undelivered") == MAX_MESSAGES - PER_AOR, w


def stable(devs):
    """What a binding is, without what changes by itself (ages, alive)."""
    return sorted(sorted((k, str(v)) for k, v in x.items()
                         if not any(t in k for t in ("age", "_ms", "state", "expires", "heard")))
                  for x in devs)


class RegularDevice(Device):
    """An iOS app that gave one regular APNs token (RFC 8599 pn-param
    <team>.<bundle>, no .voip: docs/push-addresses.md), which takes the
    alert push a MESSAGE sends."""

    PN_PARAM = "%s.%s" % (TEAM, BUNDLE)

    def contact(self, ip, port, pn=True):
        c = "sip:%s@%s:%d" % (self.user, ip, port)
        if pn:
            c += ";pn-provider=apns;pn-prid=%s;pn-param=%s" % (self.token, self.PN_PARAM)
        return c


SIPP_TEXT = "sipp says hello through sipwake"  # pbx_message_uac.xml's, app_message_uas.xml's


def test_sipp_pbx_message_wakes_a_sipp_app(msg_lab):
    """sipp on both ends and as the registrar (wakekit.sipp_woken_message):
    the app registers (challenged) with a regular APNs token and sleeps;
    the PBX's MESSAGE is held and sends one alert push naming the sender;
    handed its push, the app registers again from a new port and gets the
    MESSAGE (its text, no pn-* in the Request-URI: app_message_uas.xml's
    checks); its 200 reaches the PBX's sipp."""
    ctx = msg_lab
    dev = RegularDevice("sippy")
    sets = {"token": dev.token, "pn_param": RegularDevice.PN_PARAM, "domain": DOMAIN,
            "instance": "urn:uuid:" + dev.instance}
    cid = "sipp-msg-%d@pbx.example.net" % os.getpid()
    ev, d, mark, res_app, res_pbx, new_port = sipp_woken_message(
        ctx, dev, sets, cid, msg_sets={"caller": "+15550003333", "display": "Sipp Sender"})
    # One alert push to the regular token, naming the sender, never the text.
    assert ev["status"] == 200 and ev["topic"] == BUNDLE and ev["prio"] == "10", ev
    assert '"kind":"message"' in ev["body"], ev
    assert '"title":"Message from Sipp Sender"' in ev["body"], ev
    assert '"caller_number":"+15550003333"' in ev["body"], ev
    assert SIPP_TEXT not in ev["body"], ev
    assert len(ctx.push.reqs(dev.token, None, mark)) == 1
    # The app got the PBX's MESSAGE on its new port, the PBX the app's 200.
    app_got = res_app.messages
    assert re.search(r"MESSAGE sip:%s@%s:%d SIP/2\.0\r\n(.*\r\n)*Call-ID: %s\r\n"
                     % (dev.user, re.escape(APP4), new_port, re.escape(cid)), app_got), \
        app_got[-3000:]
    assert "\r\n\r\n%s\r\n" % SIPP_TEXT in app_got, app_got[-3000:]
    assert re.search(r"SIP/2\.0 200 OK\r\n(.*\r\n)*CSeq: 1 MESSAGE\r\n", res_pbx.messages), \
        res_pbx.messages[-3000:]
    d.no_held()
    w = d.wake()
    assert w.get("wake_message_held") == 1 and w.get("wake_message_pushes") == 1, w
    assert w.get("wake_message_delivered") == 1, w
    assert not w.get("wake_message_undelivered") and not w.get("wake_calls"), w
