# SPDX-License-Identifier: BSD-3-Clause
"""Step e2e: calls per second end to end, with sipp on both sides.

The PBX (sipp, tests/integration/sipp/pbx_call_uac.xml: INVITE with SDP ->
180 -> 200 -> ACK -> BYE -> 200) calls an app (sipp, app_call_uas.xml)
through an edge, at a rate ramp; the same scenario and ramp through:

  sipwake   a swlab.Lab (DPDK net_af_packet, one worker), the app registered
            first through it (app_register.xml against pbx_registrar.xml);
            the PBX calls its contact, which the worker forwards statelessly
  kamailio  tests/integration/kamailio/stateless.cfg, one worker, on
            loopback in a namespace of its own (-set no_rr 1 for the app:
            Kamailio adds no Record-Route; sipp sends ACK and BYE to it
            anyway)

Each rate runs rate x seconds calls (-r, -m); a rate passes with >= 99.9 %
of them successful at the PBX. The figure is the highest rate that passed.
The two sipp processes' CPU (wait4's rusage) over the step: one at a full core,
or a rate sipp could not keep (calls taking longer than asked), makes sipp,
not the edge, the limit of that figure, and the report says so.
"""
import os
import re
import shutil
import signal
import sys
import tempfile
import time

from common import REPO, log

sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import sippkit  # noqa: E402
import swlab  # noqa: E402

TOKEN = "4bfcb19a7aa50e1fbbb53cc267730f53aa7c4d76554f774f4401859abaae3036"
PASS = 0.999
USER, APP_PORT = "e2e", 5070


def reap(sipp, timeout):
    """Wait for @sipp (a started sippkit.Sipp) to end, at most @timeout s
    (then SIGTERM, then SIGKILL), collect its result, and return the CPU
    seconds it used: wait4's rusage of the process sippkit started
    (ip netns exec -> timeout(1)), which holds sipp's, reaped by timeout."""
    deadline, signals = time.monotonic() + timeout, [signal.SIGTERM, signal.SIGKILL]
    while True:
        pid, status, ru = os.wait4(sipp.proc.pid, os.WNOHANG)
        if pid:
            sipp.proc.returncode = os.waitstatus_to_exitcode(status)
            sipp.wait()
            return ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline and signals:
            sipp.proc.send_signal(signals.pop(0))
            deadline = time.monotonic() + 10
        time.sleep(0.05)


def sipp_counts(output):
    """(successful, failed) from sipp's last statistics screen."""
    ok = re.findall(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", output)
    bad = re.findall(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", output)
    return (int(ok[-1]) if ok else 0), (int(bad[-1]) if bad else 0)


def one_rate(uas_kw, uac_kw, rate, secs):
    """One step of the ramp: a UAS for the app, a UAC for the PBX at @rate."""
    calls = rate * secs
    timeout = secs + 30
    extra = ["-r", str(rate), "-recv_timeout", "5000"]
    app = sippkit.Sipp(calls=calls, timeout=timeout, **uas_kw).start()
    pbx = sippkit.Sipp(calls=calls, timeout=timeout,
                       extra=uac_kw.pop("extra", []) + extra, **uac_kw)
    t0 = time.monotonic()
    pbx.start()
    cpu = {"pbx": reap(pbx, timeout + 5)}
    wall = time.monotonic() - t0
    # The app has all it will get once the PBX is done: a little time for
    # the last BYE's 200, then it is ended (its -m counts only calls that
    # arrived).
    cpu["app"] = reap(app, 2)
    res = pbx.result
    ok, failed = sipp_counts(res.output)
    peak = {name: c / max(wall, 1e-9) for name, c in cpu.items()}
    return {"rate": rate, "calls": calls, "ok": ok, "failed": failed,
            "success": ok / calls if calls else 0, "wall_s": round(wall, 2),
            "achieved_per_s": ok / wall if wall else 0, "sipp_load": peak,
            # sipp ran behind the asked rate when the calls took much
            # longer than calls / rate (the last call's length and the
            # retransmission timers aside).
            "sipp_behind": wall > secs * 1.5 + 3}


def ramp(setup, rates, secs):
    """@setup(rate) -> (uas_kw, uac_kw); steps up until a rate fails."""
    steps = []
    for rate in rates:
        uas_kw, uac_kw = setup()
        t0 = time.monotonic()
        st = one_rate(uas_kw, uac_kw, rate, secs)
        log("e2e %d calls/s: %d of %d" % (rate, st["ok"], st["calls"]), time.monotonic() - t0)
        steps.append(st)
        if st["success"] < PASS:
            break
    passed = [s for s in steps if s["success"] >= PASS]
    best = passed[-1] if passed else None
    out = {"steps": steps, "best_rate": best["rate"] if best else 0}
    # The limit: sipp when, at the first failing rate (or the top of the
    # ramp), one of the two sipps used a full core or ran behind its rate.
    last = steps[-1] if steps else None
    if last is None:
        out["limit"] = {"by": "unknown", "why": "no step ran"}
    else:
        busy = max(last["sipp_load"].values() or [0])
        if busy >= 0.9 or last["sipp_behind"]:
            out["limit"] = {"by": "load generator",
                            "why": "sipp at %.0f %% of a core%s at %d calls/s" % (
                                100 * busy, ", behind its rate," if last["sipp_behind"] else "",
                                last["rate"])}
        elif last["success"] >= PASS:
            out["limit"] = {"by": "the ramp", "why": "every rate passed: the top of the ramp "
                            "(%d calls/s) is not the edge's limit" % last["rate"]}
        else:
            out["limit"] = {"by": "the edge", "why": "%.2f %% of calls failed at %d calls/s "
                            "with sipp at %.0f %% of a core" % (
                                100 * (1 - last["success"]), last["rate"], 100 * busy)}
    return out


def sipwake(rates, secs):
    keys = tempfile.mkdtemp(prefix="swe2e-key-")
    try:
        return sipwake_in(rates, secs, swlab.apns_push_config(keys))
    finally:
        shutil.rmtree(keys, ignore_errors=True)


def sipwake_in(rates, secs, push):
    # Push configured: sipwake advertises Feature-Caps, which the register
    # scenarios check. The app stays alive (no push) for the whole ramp.
    with swlab.Lab(name="swe2e%d" % (os.getpid() % 10000), config_extra=push,
                   pbx_extra="check_interval_s = 3600;",
                   bindings_extra="ping_interval_s = 0; alive_window_s = 3600;") as lab:
        with sippkit.lab_sipp(lab, "pbx_registrar.xml", swlab.PBX_IP4, 5060,
                              sets={"challenge": 0, "granted": 3600}, timeout=20) as uas:
            uac = sippkit.lab_run_sipp(lab, "app_register.xml", swlab.PEER_IP4, APP_PORT,
                                       remote=swlab.SW_IP4, service=USER, timeout=20,
                                       sets={"challenge": 0},
                                       extra=["-recv_timeout", "5000"])
            uas.wait()
        if not uac.ok:
            raise RuntimeError("the app did not register through sipwake:\n%s" % uac)
        contact = ("sip:%s@%s:%d;pn-provider=apns;pn-prid=%s;pn-param=ABCD123456.com.example."
                   "voip" % (USER, swlab.PEER_IP4, APP_PORT, TOKEN))

        def setup():
            return ({"scenario": "app_call_uas.xml", "local": swlab.PEER_IP4, "port": APP_PORT,
                     "netns": lab.ns_peer, "workdir": lab.tmp},
                    {"scenario": "pbx_call_uac.xml", "local": swlab.PBX_IP4, "port": 5060,
                     "remote": swlab.SW_IP4, "netns": lab.ns_peer, "workdir": lab.tmp,
                     "service": USER, "sets": {"ruri": contact}})
        r = ramp(setup, rates, secs)
        drops = {k: v for k, v in lab.stats().items() if v and k.startswith("drop")}
        r["sipwake_drops"] = drops
        return r


def kamailio(rates, secs):
    with sippkit.Netns("swe2ek%d" % (os.getpid() % 10000)) as ns:
        kam = sippkit.Kamailio(cfg="stateless.cfg", listen="udp:127.0.0.1:5060", netns=ns,
                               defines=['DST="sip:127.0.0.1:%d"' % APP_PORT], children=1,
                               shm_mb=256)
        with kam:
            def setup():
                return ({"scenario": "app_call_uas.xml", "local": "127.0.0.1", "port": APP_PORT,
                         "netns": ns, "sets": {"no_rr": 1}},
                        {"scenario": "pbx_call_uac.xml", "local": "127.0.0.1", "port": 5080,
                         "remote": "127.0.0.1", "netns": ns, "service": USER})
            return ramp(setup, rates, secs)


def run(quick):
    rates, secs = ([20, 50], 2) if quick else ([100, 200, 400, 800, 1600, 3200, 6400], 10)
    r = {"rates": rates, "secs_per_rate": secs, "pass": PASS}
    for name, fn in (("sipwake", sipwake), ("kamailio", kamailio)):
        try:
            r[name] = fn(rates, secs)
        except Exception as e:  # noqa: BLE001 - one side failing leaves the other's figure
            r[name] = {"not_run": "%s: %s" % (type(e).__name__, str(e)[:400])}
    return r
