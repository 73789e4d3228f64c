# SPDX-License-Identifier: BSD-3-Clause
"""kill -9 of sipwake while apps hold TLS and secure WebSocket connections
to it (docs/streams.md; the UDP version with 10,000 bindings is
test_faults_restart.py):

- before: a TLS app and a WSS app alive on their connections, a TLS app
  asleep (its connection closed) with a call held and pushed for it;
- kill -9, and sipwake started again on the same config and store;
- the held call gets its 480 from the journal of held calls within
  wake.timeout_s + 1 s of its INVITE (or 1 s after the restart);
- every binding and push address is back, each stream device asleep (no
  connection outlives the process: docs/streams.md, "Flows");
- the TLS app finds its connection gone, opens a new one (a new handshake
  with the restarted listener) and registers: alive, its call goes down the
  new connection;
- the WSS app does not come back by itself: a call to it is held and
  pushed, and it takes the call over a new connection. Nobody touches
  sipwake after the restart.
"""
import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streampeer import add_streams, connect_app, register_stream  # noqa: E402
from wakekit import (APP4, PING_WAKE, TIMEOUT_S, Call, Device, WakeLab, call_in,  # noqa: E402
                     final_of, is_req, ring_and_answer, serve_lab, short, vias, wait_journal)

STREAMS = ('streams: { tls = { port = 5061; cert = "%(cert)s"; key = "%(key)s"; }; '
           'wss = { port = 7443; path = "/sip"; cert = "%(cert)s"; key = "%(key)s"; }; handshake_s = 2; };')


@pytest.fixture(scope="module")
def ctx():
    yield from serve_lab(add_streams(WakeLab("fks%d" % (os.getpid() % 10000), PING_WAKE),
                                     STREAMS))


def app(ctx, kind):
    ctx.next_port += 1
    ep = connect_app(ctx.lab, kind, APP4, ctx.next_port)
    ctx.apps.append(ep)
    return ep


def test_kill_9_with_stream_apps_then_restart(ctx):
    lab = ctx.lab
    tls, wss, sleeper = Device("ktls"), Device("kwss"), Device("ksleep")
    a_tls, a_wss, a_sleep = app(ctx, "TLS"), app(ctx, "WSS"), app(ctx, "TLS")
    for ep, dev in ((a_tls, tls), (a_wss, wss), (a_sleep, sleeper)):
        register_stream(ctx, ep, dev)
    a_sleep.close()
    ctx.wait_state(sleeper, "asleep", 2.0)
    before = {dev.user: lab.device(dev.aor, dev.instance) for dev in (tls, wss, sleeper)}
    mark = ctx.push.mark()
    held = Call("sip:%s" % sleeper.aor, sleeper.user, route=False)
    t100 = call_in(ctx, held)
    ctx.push.wait_req(sleeper.token, start=mark)
    wait_journal(lab, [held.cid])

    lab.proc.kill()
    lab.proc.wait(15)
    lab.log.close()
    ready = []
    restart = threading.Thread(target=lambda: ready.append(lab.start() or time.monotonic()))
    restart.start()
    restart.join(30)
    assert ready, lab.read_log()[-3000:]
    # The held call: 480 from the journal, in time.
    due = max(t100.t + TIMEOUT_S + 1.0, ready[0] + 1.0)
    r = ctx.pbx.expect(final_of(held.cid), max(due - time.monotonic(), 0.1), "480 from the journal")
    assert r.status == 480 and r.to_tag() and vias(r) == [held.via], r
    assert r.t <= due, (r.t - t100.t, ready[0] - t100.t)
    ctx.pbx.send(held.ack_final(r))
    assert lab.stats()["wake_interrupted"] == 1, lab.stats()
    # Every binding and push address back; a stream device loads asleep.
    for dev in (tls, wss, sleeper):
        d = lab.device(dev.aor, dev.instance)
        for k in ("contact", "transport", "push_provider", "push_prid", "push_param"):
            assert d[k] == before[dev.user][k], (k, before[dev.user], d)
        assert d["push_prid"] == short(dev.token) and d["state"] == "asleep", d
        assert d["connection"] == 0, d
    # The TLS app's connection died with sipwake; it connects again.
    assert a_tls.closed_by_peer(3.0)
    a_tls2 = app(ctx, "TLS")
    register_stream(ctx, a_tls2, tls, cseq=2)
    assert lab.device(tls.aor, tls.instance)["state"] == "alive"
    call = Call("sip:%s" % tls.aor, tls.user, route=False)
    call_in(ctx, call)
    inv = a_tls2.expect(is_req("INVITE", call.cid), 1.0, "the call down the new connection")
    ring_and_answer(ctx, a_tls2, inv, call)
    # The WSS app stays away until its push: the call is held and pushed,
    # and it takes it over a new connection.
    mark = ctx.push.mark()
    call = Call("sip:%s" % wss.aor, wss.user, route=False)
    call_in(ctx, call)
    ctx.push.wait_req(wss.token, start=mark)
    a_wss2 = app(ctx, "WSS")
    register_stream(ctx, a_wss2, wss, cseq=2)
    inv = a_wss2.expect(is_req("INVITE", call.cid), 2.0, "the held INVITE over the new WSS")
    ring_and_answer(ctx, a_wss2, inv, call)
    a_wss2.nothing(is_req("INVITE", call.cid), 0.5, "the INVITE a second time")
    wait_journal(lab, [])
    assert lab.held()["held"] == 0, lab.held()
