# SPDX-License-Identifier: BSD-3-Clause
"""Every push address form apps send (docs/push-addresses.md), through a
real sipwake, the push test server standing in for APNs, a byte-level PBX
and apps in the lab's namespaces:

- two tokens per device, as Linphone sends them (RFC 8599) and as PortSIP
  sends them (x-p-push / portsip-push): the call goes to the VoIP token,
  never to the regular one; a dead VoIP token is marked dead alone and the
  next call reaches the regular token as an alert; a new REGISTER revives it;
- a push address that reads more than one way (a parameter twice, two
  PortSIP headers that differ) or not at all (bad separators, empty or too
  many tokens, overlong) is refused 400 before the PBX sees it, counted,
  and leaves every other binding as it was;
- honest outcomes: a token sipwake itself would not send is "refused" (the
  push server never sees it), not "rejected by APNs"; an unknown provider
  is relayed and counted, and /sipwake/bindings says why the device cannot
  be woken; a call to a device with no push address says so in its trace.
The test server knows which tokens are PushKit ones ("kind" command) and
answers DeviceTokenNotForTopic as APNs does. Every wait is bounded."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)
from wakepeers import Linphone, short, token_of  # noqa: E402

push_lab = lab_fixture("n", PING_WAKE)


class PortSip(Device):
    """An iOS PortSIP app: no pn-* in its Contact, its tokens in the header
    its SDKs send, under both names, PushKit token first."""

    def __init__(self, user, names=("x-p-push", "portsip-push"), values=None):
        super().__init__(user)
        self.voip, self.regular = self.token, token_of(user + "/regular")
        v = ("device-os=ios;device-uid=%s|%s;allow-call-push=true;allow-message-push=true;"
             "app-id=%s" % (self.voip, self.regular, BUNDLE))
        self.headers = ["%s: %s" % (n, x) for n, x in zip(names, values or [v] * len(names))]

    def contact(self, ip, port, pn=True):
        return "sip:%s@%s:%d" % (self.user, ip, port)


class Raw(Device):
    """A device whose Contact carries push parameters as the test writes them."""

    def __init__(self, user, params):
        super().__init__(user)
        self.params = params

    def contact(self, ip, port, pn=True):
        return "sip:%s@%s:%d%s" % (self.user, ip, port, (";" + self.params) if pn else "")


def kinds(ctx, dev):
    """Tell the test server which token is which, as APNs knows."""
    ctx.push.cmd("kind %s voip" % dev.voip)
    ctx.push.cmd("kind %s regular" % dev.regular)


def wake_and_answer(ctx, call, dev):
    """@dev wakes on a new port: the held INVITE reaches it, the call is answered."""
    new = ctx.app()
    ctx.register(new, dev)
    inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
    ring_and_answer(ctx, new, inv, call)
    return new


def trace_text(ctx, call):
    return "\n".join(ctx.lab.telemetry("/sipwake/trace," + call.cid)["trace"])


def refused_400(ctx, dev, what):
    """@dev's REGISTER gets 400 from sipwake; the PBX never sees it."""
    app = ctx.app()
    ctx.send_register(app, dev)
    r = app.expect(lambda m: m.status > 0 and m.cseq[1] == "REGISTER", 2.0,
                   "an answer to the REGISTER (%s)" % what)
    assert r.status == 400, (what, r)
    ctx.pbx.nothing(lambda m: m.method == "REGISTER" and dev.instance in (m.get("Contact") or ""),
                    0.3, "REGISTER relayed (%s)" % what)


class TestTwoTokens:
    def test_linphone_call_goes_to_voip_token_dead_one_alone_is_dropped(self, push_lab):
        ctx = push_lab
        dev, old = Linphone("lina"), ctx.app()
        kinds(ctx, dev)
        try:
            ctx.asleep((old, dev))
            b = ctx.lab.device(dev.aor, dev.instance)
            assert b["push_token0"] == "regular " + short(dev.regular), b
            assert b["push_token1"] == "voip " + short(dev.voip), b
            assert b["push_token0_state"] == b["push_token1_state"] == "live", b
            assert b["wake"] == "yes", b
            # The call: one VoIP push, to the VoIP token, on the .voip topic.
            mark = ctx.push.mark()
            call = Call("sip:%s" % dev.aor, dev.user, route=False)
            call_in(ctx, call)
            ev = ctx.push.wait_req(dev.voip, start=mark)
            assert ev["topic"] == BUNDLE + ".voip" and ev["status"] == 200, ev
            new = wake_and_answer(ctx, call, dev)
            assert ctx.push.reqs(dev.regular, None, mark) == []
            # The VoIP token dies: only it is marked, the regular one stays.
            ctx.push.cmd("set %s 410" % dev.voip)
            ctx.wait_state(dev, "asleep")
            d, mark = Delta(ctx.lab), ctx.push.mark()
            call2 = Call("sip:%s" % dev.aor, dev.user, route=False)
            call_in(ctx, call2)
            ctx.push.wait_req(dev.voip, start=mark)
            r = ctx.pbx.expect(final_of(call2.cid), 2.0, "480 once the push failed")
            assert r.status == 480, r
            ctx.pbx.send(call2.ack_final(r))
            b = ctx.lab.device(dev.aor, dev.instance)
            assert b["push_token1_state"] == "dead" and b["push_token0_state"] == "live", b
            assert b["wake"] == "yes", b  # a call can still reach its regular token
            assert d().get("wake_dead_tokens") == 1, d()
            # The next call goes to the regular token, as an alert.
            mark = ctx.push.mark()
            call3 = Call("sip:%s" % dev.aor, dev.user, route=False)
            call_in(ctx, call3)
            ev = ctx.push.wait_req(dev.regular, kind="alert", start=mark)
            assert ev["topic"] == BUNDLE and ev["status"] == 200, ev
            assert "Incoming call" in ev["body"], ev
            assert ctx.push.reqs(dev.voip, None, mark) == []
            # Waking registers both tokens again: both live.
            wake_and_answer(ctx, call3, dev)
            b = ctx.lab.device(dev.aor, dev.instance)
            assert b["push_token0_state"] == b["push_token1_state"] == "live", b
            new.close()
        finally:
            ctx.push.cmd("clear")

    def test_portsip_pair_wakes_by_pushkit(self, push_lab):
        ctx = push_lab
        dev, old = PortSip("pete"), ctx.app()
        kinds(ctx, dev)
        try:
            ctx.asleep((old, dev))
            b = ctx.lab.device(dev.aor, dev.instance)
            assert b["push_form"] == "x-push" and b["push_provider"] == "apns", b
            assert b["push_token0"] == "voip " + short(dev.voip), b
            assert b["push_token1"] == "regular " + short(dev.regular), b
            mark = ctx.push.mark()
            call = Call("sip:%s" % dev.aor, dev.user, route=False)
            call_in(ctx, call)
            ev = ctx.push.wait_req(dev.voip, start=mark)
            assert ev["topic"] == BUNDLE + ".voip" and ev["status"] == 200, ev
            wake_and_answer(ctx, call, dev)
            assert ctx.push.reqs(dev.regular, None, mark) == []
        finally:
            ctx.push.cmd("clear")

    def test_regular_token_alone_gets_the_call_as_an_alert(self, push_lab):
        ctx = push_lab
        tok = token_of("reggie/regular")
        dev = Raw("reggie", "pn-provider=apns;pn-prid=%s;pn-param=%s.%s" % (tok, TEAM, BUNDLE))
        old = ctx.app()
        ctx.push.cmd("kind %s regular" % tok)
        try:
            ctx.asleep((old, dev))
            assert ctx.lab.device(dev.aor, dev.instance)["push_token0"] == "regular " + short(tok)
            mark = ctx.push.mark()
            call = Call("sip:%s" % dev.aor, dev.user, route=False)
            call_in(ctx, call)
            ev = ctx.push.wait_req(tok, kind="alert", start=mark)
            assert ev["topic"] == BUNDLE and ev["prio"] == "10" and ev["status"] == 200, ev
            wake_and_answer(ctx, call, dev)
        finally:
            ctx.push.cmd("clear")


class TestRefused:
    def test_ambiguous_and_malformed_addresses_get_400_others_unchanged(self, push_lab):
        ctx = push_lab
        keep, app = Device("kept"), ctx.app()
        ctx.register(app, keep)
        before = ctx.lab.devices(keep.aor)
        d = Delta(ctx.lab)
        tok, tok2 = token_of("x/1"), token_of("x/2")
        p = "%s.%s" % (TEAM, BUNDLE)
        bad = {
            "pn-prid twice": Raw("bad1", "pn-provider=apns;pn-prid=%s;pn-param=%s.voip;"
                                 "pn-prid=%s" % (tok, p, tok2)),
            "pn-provider twice": Raw("bad2", "pn-provider=apns;pn-provider=fcm;pn-prid=%s;"
                                     "pn-param=%s.voip" % (tok, p)),
            "no service on a token": Raw("bad3", "pn-provider=apns;pn-prid=%s:remote&%s;"
                                         "pn-param=%s.remote&voip" % (tok, tok2, p)),
            "empty token": Raw("bad4", "pn-provider=apns;pn-prid=:remote&%s:voip;"
                               "pn-param=%s.remote&voip" % (tok2, p)),
            "too many tokens": PortSip("bad5", names=("X-Push",), values=[
                "device-os=ios;device-uid=%s|%s|%s;app-id=%s" % (tok, tok2, tok, BUNDLE)]),
            "service not in pn-param": Raw("bad6", "pn-provider=apns;pn-prid=%s:remote&%s:voip;"
                                           "pn-param=%s.remote" % (tok, tok2, p)),
            "two PortSIP headers that differ": PortSip("bad7", values=[
                "device-os=ios;device-uid=%s;app-id=%s" % (tok, BUNDLE),
                "device-os=ios;device-uid=%s;app-id=%s" % (tok2, BUNDLE)]),
            "FCM token with a separator": Raw("bad8", "pn-provider=fcm;pn-prid=a&b;"
                                              "pn-param=proj"),
            "legacy pn-tok twice": Raw("bad10", "pn-type=apple;pn-tok=%s;app-id=%s.voip;"
                                       "pn-tok=%s" % (tok, BUNDLE, tok2)),
            "legacy two tokens, one empty": Raw("bad11", "pn-type=apple;pn-tok=%s:remote&:voip;"
                                                "app-id=%s.remote&voip" % (tok, p)),
            "overlong token": Raw("bad9", "pn-provider=apns;pn-prid=%s;pn-param=%s.voip"
                                  % ("a" * 600, p)),
        }
        for what, dev in bad.items():
            refused_400(ctx, dev, what)
            assert ctx.lab.devices(dev.aor) == [], (what, ctx.lab.devices(dev.aor))
        delta = d()
        assert delta.get("drop_reg_push_bad") == len(bad) - 1, delta  # overlong: reg_bad
        assert delta.get("drop_reg_bad") == 1, delta
        assert not delta.get("reg_relayed"), delta
        after = ctx.lab.devices(keep.aor)
        assert [(x["id"], x["contact"], x["push_prid"]) for x in after] == \
            [(x["id"], x["contact"], x["push_prid"]) for x in before], (before, after)
        assert ctx.lab.proc.poll() is None

    def test_token_sipwake_would_not_send_is_refused_not_rejected(self, push_lab):
        ctx = push_lab
        dev = Raw("nohex", "pn-provider=apns;pn-prid=not-a-hex-token;pn-param=%s" % PN_PARAM)
        old = ctx.app()
        ctx.asleep((old, dev))
        assert ctx.lab.device(dev.aor, dev.instance)["wake"] == "APNs token not hex"
        push0 = ctx.lab.telemetry("/sipwake/push")["apns"]
        mark = ctx.push.mark()
        call = Call("sip:%s" % dev.aor, dev.user, route=False)
        call_in(ctx, call)
        r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
        assert r.status == 480, r
        ctx.pbx.send(call.ack_final(r))
        push1 = ctx.lab.telemetry("/sipwake/push")["apns"]
        assert push1["refused"] == push0["refused"] + 1, (push0, push1)
        assert push1["rejected"] == push0["rejected"], (push0, push1)
        assert ctx.push.server.reqs()[mark:] == []  # never sent
        text = trace_text(ctx, call)
        assert "refused (HTTP 0 token not hex" in text, text

    def test_unknown_provider_relayed_counted_and_explained(self, push_lab):
        ctx = push_lab
        dev = Raw("wendy", "pn-provider=mypush;pn-prid=https%3A%2F%2Fpush.example%2Fx;"
                  "pn-param=vapid")
        old, d = ctx.app(), Delta(ctx.lab)
        ctx.asleep((old, dev))
        assert d().get("reg_push_unknown") == 1, d()
        b = ctx.lab.device(dev.aor, dev.instance)
        assert b["push_provider"] == "mypush", b
        assert b["wake"] == "a push provider sipwake does not push to", b
        call = Call("sip:%s" % dev.aor, dev.user, route=False)
        call_in(ctx, call)
        r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
        assert r.status == 480, r
        ctx.pbx.send(call.ack_final(r))
        text = trace_text(ctx, call)
        assert "cannot be woken (a push provider sipwake does not push to)" in text, text

    def test_no_push_address_says_so(self, push_lab):
        ctx = push_lab
        dev, old = Raw("nopa", ""), ctx.app()
        dev.contact = lambda ip, port, pn=True: "sip:%s@%s:%d" % (dev.user, ip, port)
        ctx.asleep((old, dev))
        assert ctx.lab.device(dev.aor, dev.instance)["wake"] == "no push address"
        d = Delta(ctx.lab)
        call = Call("sip:%s" % dev.aor, dev.user, route=False)
        t0 = time.monotonic()
        call_in(ctx, call)
        r = ctx.pbx.expect(final_of(call.cid), 2.0, "480 at once")
        assert r.status == 480 and r.t - t0 < 1.0, r
        ctx.pbx.send(call.ack_final(r))
        text = trace_text(ctx, call)
        assert "cannot be woken (no push address): not called" in text, text
        assert "final 480 to the PBX: no device alive, none can be woken" in text, text
        assert "no device woke in time" not in text, text
        w = d.wake()
        assert w.get("wake_no_device") == 1 and not w.get("wake_timed_out"), w


class TestDeviceTimeout:
    def test_pn_timeout_sets_how_long_a_call_waits_for_that_device(self, push_lab):
        """pn-timeout=7 waits 7 s (wake.timeout_s is 4 here); pn-timeout=0,
        as Linphone sends it, means none: 4 s."""
        ctx = push_lab
        t1, t2 = token_of("tim/1"), token_of("zed/1")
        tim = Raw("tim", "pn-provider=apns;pn-prid=%s;pn-param=%s;pn-timeout=7" % (t1, PN_PARAM))
        zed = Raw("zed", "pn-timeout=0;pn-provider=apns;pn-prid=%s;pn-param=%s" % (t2, PN_PARAM))
        ctx.asleep((ctx.app(), tim), (ctx.app(), zed))
        mark = ctx.push.mark()
        c1 = Call("sip:%s" % tim.aor, tim.user, route=False)
        c2 = Call("sip:%s" % zed.aor, zed.user, route=False)
        t0 = time.monotonic()
        call_in(ctx, c1)
        call_in(ctx, c2)
        ctx.push.wait_req(t1, start=mark)
        ctx.push.wait_req(t2, start=mark)
        r2 = ctx.pbx.expect(final_of(c2.cid), TIMEOUT_S + 2.0, "480 after wake.timeout_s")
        r1 = ctx.pbx.expect(final_of(c1.cid), 7 + 2.0, "480 after the device's pn-timeout")
        assert r1.status == r2.status == 480, (r1, r2)
        assert TIMEOUT_S - 0.5 <= r2.t - t0 <= TIMEOUT_S + 1.5, r2.t - t0
        assert 6.5 <= r1.t - t0 <= 8.5, r1.t - t0
        ctx.pbx.send(c1.ack_final(r1))
        ctx.pbx.send(c2.ack_final(r2))
        text = trace_text(ctx, c1)
        assert "push via apns sent (its pn-timeout)" in text, text
        assert "did not register within its pn-timeout (7 s)" in text, text
        assert "did not register within wake.timeout_s (%d s)" % TIMEOUT_S in trace_text(ctx, c2)
