# SPDX-License-Identifier: BSD-3-Clause
"""Calls go through while the edge is flooded (docs/admission.md).

A sipp PBX (sipp/pbx_calls_uac.xml) places CALLS calls at CALL_RATE a
second, each to the contact an app registered, while the apps refresh
their bindings every REFRESH_S and tests/flood/sw_flood sends every kind of
junk it has, as fast as it goes (floodkit.py: pinned, niced, bounded):
  - awake apps answer at once (200);
  - asleep apps are pushed (the push test server records it), come back
    from a new on-link address and port, register, and take the held call
    (200); each is called once;
  - an app that never wakes: the edge gives up after wake.timeout_s (480).
Every call must end as its line of the injection file says (the scenario
checks the final answer of each call; the apps here record every call they
answered, by Call-ID), at at least ten times the legitimate frame rate in
junk.

Then no binding was changed by junk (each device's contact, source and push
address as /sipwake/bindings shows them, before and after; the woken apps'
only to their new address), and sipwake's counters account for every junk
frame the sender reports, by kind (floodkit.account): the badauth
REGISTERs (real AORs, wrong digest) are admitted as newcomers and relayed
(the PBX here refuses them: 403) or dropped by a newcomer bucket or the
auth-failure ban; the PBX's refusals go back as strangers' answers, so
none of them takes the neighbour table's room (neigh_hold_full stays 0:
before controlplane/relay/cp_reg_answer.c marked them, a few legitimate-
class frames a run were dropped for it). IPv4 fragments are the kernel's: net_af_packet's fanout
group reassembles IPv4 before the ring (docs/design.md §6), so an
incomplete train never reaches sipwake; they are accounted for with the
kernel's own counter in sipwake's namespace (IpReasmReqds) and must not
show up in sipwake's rx_packets.

Rate, calls, set-up latency and the accounting go to
build/test_flood_calls.json. The same over TLS, WSS and TCP, with a SYN
flood and half-open handshakes: test_flood_streams.py.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sippkit  # noqa: E402
import swlab  # noqa: E402
from floodkit import (UDP_KIND_COUNTERS, Flood, Phones, account, binding, pbx_calls, pct, pinned,  # noqa: E402
                      rtt_ms, sipp_stats, snmp, veth_tx, write_json)
from wakekit import APP4, Ctx, Device, WakeLab  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or os.cpu_count() < 2,
                                reason="needs root and two CPUs")

CALLS, CALL_RATE = 60, 3  # 20 s of calls
REFRESH_S = 1.0  # each awake app's REGISTER refresh
N_AWAKE, N_WAKE = 4, 6
FLOOD_S, FLOOD_MAX = 75, 60_000_000  # bounds of the flood (stopped when the calls end)
FLOOD_MIX = "scanner=4,junk=2,malformed=2,invite=1,ping=1,rfc4475=3,frag=2,badauth=3"
NEW_IP = "198.18.0.78"  # where woken apps come back from (on-link: ARP)
ANSWER_RATE, ANSWER_BURST = 500, 1000
RATE = 150_000  # junk frames/s (flood_rate())
# Newcomers' budget of the box: what the PBX here (one Python thread) is
# asked to refuse each second, at most, of the badauth REGISTERs.
FILTER = ("filter: { reply_403 = true; answer_rate = %d; answer_burst = %d; "
          "unknown_global_rate = 100; unknown_global_burst = 200; };" % (
              ANSWER_RATE, ANSWER_BURST))
KIND_COUNTERS = UDP_KIND_COUNTERS


def flood_rate():
    """Frames/s: RATE, a sixth of it for the ASan + UBSan sipwake (whose
    worker, at half, lost a sixth of the frames at the ring: each badauth
    REGISTER is scanned whole); FLOOD_RATE overrides (0: as fast as the
    sender goes)."""
    default = RATE // 6 if "asan" in swlab.sipwake_bin() else RATE
    return os.environ.get("FLOOD_RATE", str(default))


def calls_plan(awake, wake, never):
    """The injection file's lines: (user, host, port, token, final)."""
    lines, w, n = [], list(wake), [never, never]
    for i in range(CALLS):
        if i % 9 == 4 and w:
            dev, port = w.pop(0)
            lines.append((dev, port, 200))
        elif i % 25 == 12 and n:
            lines.append((n.pop(0) + (480,)))
        else:
            ep, dev = awake[i % len(awake)]
            lines.append((dev, ep.port, 200))
    assert not w and not n, "CALLS too small for the plan"
    return [(dev.user, APP4, port, dev.token, final) for dev, port, final in lines]


@pytest.fixture(scope="module")
def fl_calls():
    # A ring twice test_flood.py's (32 MB): the peers here keep CPU 1 (the
    # worker's) busier, and a frame lost at the ring is one no counter has.
    lab = WakeLab("fc%d" % (os.getpid() % 10000), 'policy = "ping";', idle_sleep_us=0,
                  vdev_extra=",framecnt=16384")
    lab.config_extra += "\n" + FILTER
    with pinned(), lab:
        ctx = Ctx(lab)
        try:
            lab.peer(["ip", "addr", "add", NEW_IP + "/24", "dev", lab.if_peer])
            yield ctx
        finally:
            ctx.close()
        assert lab.stop() == 0, lab.read_log()[-4000:]


def test_calls_through_flood(fl_calls):
    ctx = fl_calls
    lab = ctx.lab
    t_start = time.monotonic()
    awake = [(ctx.app(), Device("awake%d" % i)) for i in range(N_AWAKE)]
    sleepers = [(ctx.app(), Device("wake%d" % i)) for i in range(N_WAKE)]
    never_ep, never = ctx.app(), Device("never")
    for ep, dev in awake + sleepers + [(never_ep, never)]:
        ctx.register(ep, dev)
    # The sleepers' sockets close: a ping to the old contact goes unanswered.
    for ep, _ in sleepers + [(never_ep, never)]:
        ep.close()
    mark = ctx.push.mark()
    phones = Phones(ctx, awake, [(dev, mark) for _, dev in sleepers], REFRESH_S,
                    lambda dev: ctx.app(ip=NEW_IP))
    phones.thread.start()
    try:
        for _, dev in sleepers + [(never_ep, never)]:
            ctx.wait_state(dev, "asleep")
        devs = [dev for _, dev in awake + sleepers] + [never]
        bound0 = {dev.user: binding(lab, dev) for dev in devs}
        plan = calls_plan(awake, [(dev, ep.port) for ep, dev in sleepers],
                          (never, never_ep.port))
        before, tx0, reasm0 = lab.stats(), veth_tx(lab), snmp(lab.sw, "Ip")
        flood = Flood(lab, FLOOD_MIX, FLOOD_S, FLOOD_MAX, frames=32768, rate=flood_rate(),
                      extra=[a for dev in devs for a in ("--aor", dev.aor)])
        flood.start(warm_s=3.0)
        try:
            pbx = pbx_calls(lab, plan, CALL_RATE, os.path.join(lab.tmp, "calls.csv"))
            res = pbx.start().wait()
        finally:
            res_flood = flood.stop()
        time.sleep(1.0)  # the last frames through the worker, the last BYEs
    finally:
        phones.stop.set()
        phones.thread.join(10)
    after, tx, reasm = lab.stats(), veth_tx(lab) - tx0, snmp(lab.sw, "Ip")
    bound1 = {dev.user: binding(lab, dev) for dev in devs}
    c = {k: after[k] - before.get(k, 0) for k in after if isinstance(after[k], int)}
    stats = sipp_stats(pbx.dir)
    rtt = rtt_ms(pbx.dir)
    sent, secs = res_flood["sent"], res_flood["seconds"]
    frags = reasm["ReasmReqds"] - reasm0["ReasmReqds"]
    lost = tx - c["rx_packets"] - frags
    legit = tx - res_flood["frames"]  # at most: ARP answers are in it too
    want_200 = [p for p in plan if p[4] == 200]
    summary = {
        "flood": res_flood, "junk_pps": res_flood["pps"],
        "legit_frames": legit, "legit_pps": legit / secs,
        "calls": {"attempted": CALLS, "rate": CALL_RATE,
                  "succeeded": int(stats.get("SuccessfulCall(C)", 0)),
                  "failed": int(stats.get("FailedCall(C)", 0)),
                  "want_200": len(want_200), "want_480": CALLS - len(want_200),
                  "answered_by_apps": len(phones.answered), "woken": sorted(phones.woken)},
        "setup_ms": {"n": len(rtt), "p50": pct(rtt, 50), "p90": pct(rtt, 90),
                     "p99": pct(rtt, 99), "max": rtt[-1] if rtt else None},
        "refreshes": {"sent": phones.refreshes, "answered": phones.refreshed},
        "registrar": phones.registrar, "kernel_frag_reasm_reqds": frags,
        "veth_frames": tx, "sipwake_rx": c["rx_packets"], "lost": lost,
        "counters": {k: v for k, v in c.items() if v},
        "seconds_total": time.monotonic() - t_start,
    }
    write_json("test_flood_calls.json", summary)
    assert phones.err is None, phones.err
    # Every call ended as planned: sipp checked each call's final answer.
    assert res.ok, sippkit.explain(res, lab.read_log()[-3000:])
    assert summary["calls"]["succeeded"] == CALLS and summary["calls"]["failed"] == 0, summary
    # ... and each 200 came from the app called, which then got the BYE;
    # the app that never wakes got nothing.
    pid = {}
    for cid, user in phones.answered.items():
        n = int(cid.split("-", 1)[0])
        pid[n] = user
        assert cid in phones.byes, (cid, user)
    for n, (user, _, _, _, final) in enumerate(plan, 1):
        assert pid.get(n) == (user if final == 200 else None), (n, user, final, pid.get(n))
    assert sorted(phones.woken) == sorted(dev.user for _, dev in sleepers), phones.woken
    assert phones.refreshed >= phones.refreshes - N_AWAKE, summary["refreshes"]
    # Junk at ten times the legitimate frames, at least.
    assert res_flood["frames"] >= 10 * legit, summary
    # No binding changed but the woken apps', and theirs to the new address.
    for dev in devs:
        if dev.user in phones.woken:
            ep = phones.woken[dev.user]
            assert "%s:%d" % (ep.ip, ep.port) in str(bound1[dev.user]), bound1[dev.user]
        else:
            assert bound1[dev.user] == bound0[dev.user], (dev.user, bound0, bound1)
    # Every junk frame is accounted for: the fragments by the kernel (none
    # reached sipwake), the rest by sipwake's counters.
    assert frags == sent["frag"], (frags, sent)
    assert 0 <= lost <= 0.01 * res_flood["frames"], summary
    summary["accounting"] = account(sent, c, KIND_COUNTERS, lost)
    write_json("test_flood_calls.json", summary)
    # The PBX's refusals of the password guesser went to spoofed sources
    # as strangers' answers: they never took the neighbour table's room
    # (controlplane/relay/cp_reg_answer.c), so nothing was dropped for it.
    assert c["drop_neigh_hold_full"] == 0, c
    # The woken apps came in as expected REGISTERs.
    assert c["sip_reg_woken"] >= N_WAKE, c
