# SPDX-License-Identifier: BSD-3-Clause
"""Config reload on a running wake path (docs/operations.md, "Reload"):
SIGHUP re-reads push credentials and timeouts without losing bindings or
held calls.

One lab, the tests in order (each builds on the one before):
1. sipwake starts with a wrong APNs key id: the APNs test double refuses
   every push (403 InvalidProviderToken), so a call to a sleeping app is
   answered 480 at once and /sipwake/push raises a config alarm;
2. the operator fixes the key id and sends SIGHUP: the binding is still
   there, the next call's push is delivered and the app is woken;
3. a call is held (push delivered, app not woken yet) when a reload lowers
   wake.timeout_s: the held call survives it, keeps its own timeout, and
   rings when the app registers; the unchanged credential keeps its
   connection (no new TLS connection);
4. the next unanswered call gets 480 after the new timeout;
5. a file whose push key does not load is refused, naming the key; the
   running credential and timeout stay in force;
6. the PBX moves: a reload of pbx.servers sends REGISTERs and the workers'
   requests to the new address.
Real parts: sipwake in namespaces, pd_testsrv in its namespace, byte-level
PBX and app (tests/integration/wakekit.py). Every wait is bounded.
"""
import os
import re
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import (DOMAIN, KID, PBX4, TIMEOUT_S, Call, Delta, Device,  # noqa: E402
                     Endpoint, WakeLab, build, call_in, check_forwarded, final_of, is_req,
                     is_resp, reply, ring_and_answer, serve_lab, swlab)

GW4 = swlab.GW_IP4  # another address of the peer namespace: the PBX moves there

WRONG_KID = "WRONGKEY01"
NEW_TIMEOUT_S = 2


class WrongKeyLab(WakeLab):
    """A WakeLab whose push credential starts with a key id APNs does not know."""

    def __init__(self, name, wake):
        super().__init__(name, wake)
        self.config_extra = self.config_extra.replace('key_id = "%s"' % KID,
                                                      'key_id = "%s"' % WRONG_KID)


@pytest.fixture(scope="module")
def rctx():
    yield from serve_lab(WrongKeyLab("wkr%d" % (os.getpid() % 10000), 'provisional = "none";'))


def conns(lab):
    """TLS connections pd_testsrv has accepted so far."""
    return len([e for e in lab.server.events() if e.startswith("CONN ")])


def reloads(lab):
    st = lab.stats()
    return st["config_reloads"], st["config_reload_refused"]


def sighup(lab, edit):
    """Rewrite the config file with @edit(text) and send SIGHUP; wait until
    the control plane has taken it (applied or refused)."""
    with open(lab.conf_path) as f:
        text = f.read()
    new = edit(text)
    assert new != text
    before = sum(reloads(lab))
    lab.write_config(text=new)
    lab.proc.send_signal(signal.SIGHUP)
    end = time.monotonic() + 5
    while sum(reloads(lab)) == before:
        assert time.monotonic() < end, lab.read_log()[-3000:]
        time.sleep(0.05)


def wait_log(lab, needle, timeout=3.0):
    end = time.monotonic() + timeout
    while needle not in lab.read_log():
        assert time.monotonic() < end, (needle, lab.read_log()[-3000:])
        time.sleep(0.05)


def sleeping(ctx, dev, app):
    ctx.register(app, dev)
    ctx.wait_state(dev, "asleep")


def wake_on(ctx, dev, call, cid):
    """@dev registers from a fresh port; the held INVITE of @call rings there."""
    new = ctx.app()
    ctx.send_register(new, dev, cid=cid)
    ctx.pbx_answer_register(dev, new, 200)
    new.expect(is_resp(200, meth="REGISTER"), 2.0, "200 to the REGISTER")
    inv = new.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE")
    check_forwarded(inv, call, new, dev)
    ring_and_answer(ctx, new, inv, call)
    return new


DEV = Device("rita")


def test_wrong_key_refused_by_apns_gives_480_at_once(rctx):
    ctx = rctx
    sleeping(ctx, DEV, ctx.app())
    d, mark = Delta(ctx.lab), ctx.push.mark()
    call = Call(DEV.contact(ctx.apps[0].ip, ctx.apps[0].port), DEV.user)
    t0 = time.monotonic()
    call_in(ctx, call)
    ev = ctx.push.wait_req(DEV.token, start=mark)
    assert ev["status"] == 403, ev
    ctx.pbx.expect(final_of(call.cid), 2.0, "480 once the push failed")
    assert time.monotonic() - t0 < TIMEOUT_S, "480 waited for wake.timeout_s"
    assert d().get("wake_rejected") == 1, d.wake()
    push = ctx.lab.telemetry("/sipwake/push")["apns"]
    assert push["config_error"] >= 1 and "InvalidProviderToken" in push["config_alarm"], push
    d.no_held()


def test_sighup_with_the_right_key_wakes_the_next_call(rctx):
    ctx, lab = rctx, rctx.lab
    n_conns = conns(lab)
    sighup(lab, lambda t: t.replace('key_id = "%s"' % WRONG_KID, 'key_id = "%s"' % KID))
    assert reloads(lab)[1] == 0, lab.read_log()[-3000:]
    wait_log(lab, "push credentials reloaded: 0 kept, 1 new, 1 replaced or removed")
    assert "need a restart" not in lab.read_log(), lab.read_log()[-3000:]
    # The binding is still there, still asleep.
    assert ctx.wait_state(DEV, "asleep")["push_provider"] == "apns"
    lab.server.wait_conn()
    end = time.monotonic() + 5
    while conns(lab) <= n_conns:
        assert time.monotonic() < end, "the new credential never connected"
        time.sleep(0.05)
    d, mark = Delta(lab), ctx.push.mark()
    call = Call(DEV.contact(ctx.apps[0].ip, ctx.apps[0].port), DEV.user)
    call_in(ctx, call)
    ev = ctx.push.wait_req(DEV.token, start=mark)
    assert ev["status"] == 200, ev
    d.wait_held(1)
    wake_on(ctx, DEV, call, "reg-after-fix@app")
    assert d.wake().get("wake_woken") == 1, d.wake()
    d.no_held()


def test_held_call_survives_a_reload_and_keeps_its_timeout(rctx):
    ctx, lab = rctx, rctx.lab
    old = ctx.app()
    sleeping(ctx, DEV, old)
    d, mark = Delta(lab), ctx.push.mark()
    call = Call(DEV.contact(old.ip, old.port), DEV.user)
    t0 = time.monotonic()
    call_in(ctx, call)
    assert ctx.push.wait_req(DEV.token, start=mark)["status"] == 200
    d.wait_held(1)
    n_conns = conns(lab)
    sighup(lab, lambda t: re.sub(r"timeout_s = \d+;", "timeout_s = %d;" % NEW_TIMEOUT_S, t))
    wait_log(lab, "push credentials reloaded: 1 kept, 0 new, 0 replaced or removed")
    assert lab.telemetry("/sipwake/info")["config"]["wake_timeout_s"] == NEW_TIMEOUT_S
    # Past the new timeout, still held: a held call keeps the timeout it began with.
    time.sleep(max(0.0, NEW_TIMEOUT_S + 0.5 - (time.monotonic() - t0)))
    assert lab.held()["held"] == d.held0 + 1, lab.held()
    ctx.pbx.nothing(final_of(call.cid), 0.1, "a final answer before the call's own timeout")
    wake_on(ctx, DEV, call, "reg-after-reload@app")
    # The unchanged credential kept its connection.
    assert conns(lab) == n_conns
    d.no_held()


def test_next_unanswered_call_gets_480_after_the_new_timeout(rctx):
    ctx, lab = rctx, rctx.lab
    app = ctx.app()
    sleeping(ctx, DEV, app)
    d = Delta(lab)
    call = Call(DEV.contact(app.ip, app.port), DEV.user)
    t0 = time.monotonic()
    call_in(ctx, call)
    fin = ctx.pbx.expect(final_of(call.cid), NEW_TIMEOUT_S + 2.0, "480 after the new timeout")
    took = time.monotonic() - t0
    assert fin.status == 480, fin
    assert NEW_TIMEOUT_S - 0.2 <= took <= NEW_TIMEOUT_S + 1.0, took
    assert d.wake().get("wake_timed_out") == 1, d.wake()
    d.no_held()


def test_push_key_that_does_not_load_is_refused_and_nothing_changes(rctx):
    ctx, lab = rctx, rctx.lab
    with open(lab.conf_path) as f:
        good = f.read()
    sighup(lab, lambda t: re.sub(r'key_file = "[^"]+"', 'key_file = "/nonexistent/AuthKey.p8"',
                                 re.sub(r"timeout_s = \d+;", "timeout_s = 9;", t)))
    assert reloads(lab)[1] == 1
    wait_log(lab, "config reload refused: push.apns.[0].key_file: cannot open")
    assert lab.telemetry("/sipwake/info")["config"]["wake_timeout_s"] == NEW_TIMEOUT_S
    # The running credential still pushes.
    app = ctx.app()
    sleeping(ctx, DEV, app)
    d, mark = Delta(lab), ctx.push.mark()
    call = Call(DEV.contact(app.ip, app.port), DEV.user)
    call_in(ctx, call)
    assert ctx.push.wait_req(DEV.token, start=mark)["status"] == 200
    d.wait_held(1)
    wake_on(ctx, DEV, call, "reg-after-refused@app")
    d.no_held()
    assert lab.proc.poll() is None
    lab.write_config(text=good)  # the file as it runs, for the next test


def test_pbx_servers_reload_moves_registers_and_requests(rctx):
    """The PBX moves to another address: after a reload of pbx.servers (and
    pbx.sources) REGISTERs go to the new one and the workers send devices'
    requests there; the bindings stay."""
    ctx, lab = rctx, rctx.lab
    new_pbx = Endpoint(lab.ns_peer, GW4, 5060, "pbx2")
    try:
        sighup(lab, lambda t: t.replace('servers = [ "%s:5060" ]' % PBX4,
                                        'servers = [ "%s:5060" ]' % GW4)
               .replace('sources = [ "%s"' % PBX4, 'sources = [ "%s"' % GW4))
        assert reloads(lab)[1] == 1, lab.read_log()[-3000:]  # the earlier refusal only
        wait_log(lab, "pbx.servers reloaded: 1 server(s)")
        assert "need a restart" not in lab.read_log(), lab.read_log()[-3000:]
        assert ctx.lab.devices(DEV.aor), "bindings lost"
        app, dev = ctx.app(), Device("rosa")
        ctx.send_register(app, dev)
        req = new_pbx.expect(is_req("REGISTER"), 2.0, "the REGISTER at the new PBX")
        ctx.pbx.nothing(is_req("REGISTER"), 0.2, "a REGISTER at the old PBX")
        new_pbx.send(reply(req, 200, "OK", tag="pbx2", extra=[
            re.sub(r";expires=\d+", "", "Contact: " + req.get("Contact")) + ";expires=3600"]),
            *req.src)
        app.expect(is_resp(200, meth="REGISTER"), 2.0, "200 from the new PBX")
        # A request of the bound app: the worker's stateless path, to the new PBX.
        app.send(build("MESSAGE sip:someone@%s SIP/2.0" % DOMAIN, [
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-msg-pbx2;rport" % (app.ip, app.port),
            "Max-Forwards: 70", "From: <sip:%s>;tag=m1" % dev.aor,
            "To: <sip:someone@%s>" % DOMAIN, "Call-ID: msg-pbx2@app", "CSeq: 1 MESSAGE"]))
        new_pbx.expect(is_req("MESSAGE"), 2.0, "the MESSAGE at the new PBX")
        ctx.pbx.nothing(is_req("MESSAGE"), 0.2, "the MESSAGE at the old PBX")
    finally:
        new_pbx.close()
