# SPDX-License-Identifier: BSD-3-Clause
"""The demo: sipwake on a virtual network, no NIC, no hugepages.

Two network namespaces joined by a veth pair; sipwake owns 198.18.0.1 and
2001:db8:5e::1 on one end through DPDK's net_af_packet, a peer on the other
end pings it, sends OPTIONS health checks with sipp (the SIP test tool PBX
vendors use) and a few junk datagrams. Then sipp plays an app and a PBX: the
app registers through sipwake with an RFC 8599 push address (the PBX
challenges it first), sipwake keeps the binding once the PBX says 200, and
the PBX calls the app through sipwake while it is awake. Then the wake path:
the app falls asleep, the PBX calls again, sipwake holds the call and sends a
VoIP push to the APNs test server (pd_testsrv, in sipwake's namespace); the
app "receives" it, registers from a new port, and the held INVITE rings
there. A second app, bob, never wakes: the PBX's call to him (sipp,
pbx_invite_480.xml) gets 480 after wake.timeout_s and ACKs it. A third,
carol, speaks TLS: she sleeps by closing her connection and is woken over
a new one (scripts/demo_tls.py). Prints a
timeline of what happened, then what an operator would look at in sipwake's
telemetry: the per-call traces of alice's call while awake (forwarded at once
by a worker), alice's woken call and bob's 480, the held
calls, the push service, the non-zero counters. Exits non-zero if any step
did not happen. Removes everything it made, so re-running it works.

With --edges 2, the demo tells the story of several edges instead
(scripts/demo_cluster.py, docs/cluster.md): two sipwakes sharing their
bindings through Redis, a call relayed from one edge to the other, a wake
across edges, an edge killed. Apart, so that the default demo stays as
quick as it was.
"""
import argparse
import datetime
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import demo_cluster  # noqa: E402
import demo_tls  # noqa: E402
import pushsrv  # noqa: E402
import sippkit  # noqa: E402
import swlab  # noqa: E402

SCENARIO = os.path.join(swlab.REPO, "tests", "integration", "sipp", "options.xml")
T0 = time.monotonic()
ALIVE_S, WAKE_S = 4, 4  # bindings.alive_window_s, wake.timeout_s: short for a demo
# app_register.xml's push address (its defaults; app_wake_uas.xml's too).
TOKEN = "4bfcb19a7aa50e1fbbb53cc267730f53aa7c4d76554f774f4401859abaae3036"
BOB_TOKEN = "b0b0" * 16
CONTACT = ("sip:%s@" + swlab.PEER_IP4 + ":%d;pn-provider=apns;pn-prid=%s"
           ";pn-param=ABCD123456.com.example.voip")

def wait_state(lab, aor, state, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        devs = lab.devices(aor)
        if devs and devs[0].get("state") == state:
            return True
        time.sleep(0.25)
    return False


def say(what):
    print("[%6.2fs] %s" % (time.monotonic() - T0, what), flush=True)


def sipp_log(trace):
    """sipp's -trace_msg log as (time in s, "sent" or "received", message)."""
    out = []
    for m in re.finditer(r"^-{20,} (\S+ \S+)\n\S+ message (sent|received)[^\n]*\n(.*?)"
                         r"(?=^-{20,} |\Z)", trace, re.M | re.S):
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        out.append((t, m.group(2), m.group(3).strip()))
    return out


def call_id(trace):
    """The Call-ID of the first request sipp sent."""
    sent = next((msg for _, d, msg in sipp_log(trace) if d == "sent"), "")
    m = re.search(r"^Call-ID: *(\S+)", sent, re.M | re.I)
    return m.group(1) if m else ""


def first_exchange(trace):
    """The first request sipp sent and the first answer it got."""
    log = sipp_log(trace)
    sent = next((msg for _, d, msg in log if d == "sent"), "")
    got = next((msg for _, d, msg in log if d == "received" and call_id(trace) in msg), "")
    return sent, got


def answers_heard(trace):
    """What a UAC heard: (seconds after its first request, status line)."""
    log = sipp_log(trace)
    t0 = next((t for t, d, _ in log if d == "sent"), 0.0)
    return [(t - t0, msg.splitlines()[0]) for t, d, msg in log if d == "received"]


def indent(text):
    return "\n".join("      " + line for line in text.splitlines())


def main():
    lab = swlab.Lab(name="swdemo", pbx_extra="check_interval_s = 3600;",
                    bindings_extra="ping_interval_s = 0; alive_window_s = %d;" % ALIVE_S,
                    config_extra="wake: { timeout_s = %d; refresh_before_s = 0; };" % WAKE_S)
    push = pushsrv.PushServer(lab)
    lab.config_extra += push.config()
    cafile, streams = demo_tls.config(lab.tmp)
    lab.config_extra += "\n" + streams
    with lab, push:
        push.wait_conn()
        say("sipwake started in namespace %s on net_af_packet0 (%s): %s, %s"
            % (lab.ns_sw, lab.sipwake_mac(), swlab.SW_IP4, swlab.SW_IP6))
        say("EAL: " + " ".join(lab.eal_args()))
        for ip6, addr in ((False, swlab.SW_IP4), (True, swlab.SW_IP6)):
            out = lab.peer(["ping"] + (["-6"] if ip6 else []) +
                           ["-c", "3", "-i", "0.2", "-W", "2", addr]).stdout
            say("peer pings %s: %s" % (addr, re.search(r"\d+ received.*loss", out).group(0)))

        rc, trace = lab.sipp(SCENARIO, calls=5)
        sent, got = first_exchange(trace)
        say("sipp (in the peer namespace) sent 5 OPTIONS health checks: exit %d "
            "(0 = every one answered 200)" % rc)
        print("    the first one, as sipp sent it:")
        print(indent(sent))
        print("    and sipwake's answer:")
        print(indent(got))
        rc6, _ = lab.sipp(SCENARIO, calls=3, dst=swlab.SW_IP6, local=swlab.PEER_IP6, port=5072)
        say("the same over IPv6, 3 OPTIONS: sipp exit %d" % rc6)

        junk = [b"GET / HTTP/1.1\r\n\r\n", b"\x00\x01garbage",
                b"INVITE sip:alice@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.2\r\n\r\n"]
        lab.udp_send(junk, sport=5099)
        lab.udp_send([b"OPTIONS sip:x SIP/2.0\r\n\r\n"], port=5061, sport=5099)
        time.sleep(0.5)
        say("peer sent 3 junk datagrams to UDP/5060 and one to UDP/5061: dropped, counted")

        # An app registers through sipwake; the PBX challenges, then accepts.
        with sippkit.lab_sipp(lab, "pbx_registrar.xml", swlab.PBX_IP4, 5060,
                              sets={"no_fc": 1}, timeout=20) as pbx:
            app = sippkit.lab_run_sipp(lab, "app_register.xml", swlab.PEER_IP4, 5070,
                                       remote=swlab.SW_IP4, service="alice", timeout=20,
                                       sets={"no_fc": 1, "expect_expires": 300},
                                       extra=["-au", "alice", "-ap", "secret"])
            reg = pbx.wait()
        say("app alice REGISTERed through sipwake (401, then credentials, then 200): "
            "app exit %d, PBX exit %d (the PBX checked Path and the push address)"
            % (app.rc, reg.rc))
        b = lab.telemetry("/sipwake/bindings,alice@%s" % swlab.SW_IP4)
        dev = b.get("device0", {})
        say("telemetry /sipwake/bindings,alice@%s: %d device: %s, %s, expires in %s s, "
            "push %s %s" % (swlab.SW_IP4, b.get("devices", 0), dev.get("source"),
                            dev.get("state"), dev.get("expires_in_s"),
                            dev.get("push_provider"), dev.get("push_prid")))
        # The PBX calls the registered contact: forwarded by the worker.
        contact = ("sip:alice@%s:5070;pn-provider=apns;pn-prid=4bfcb19a7aa50e1fbbb53cc2677"
                   "30f53aa7c4d76554f774f4401859abaae3036;pn-param=ABCD123456.com.example.voip"
                   % swlab.PEER_IP4)
        with sippkit.lab_sipp(lab, "app_call_uas.xml", swlab.PEER_IP4, 5070,
                              timeout=20) as callee:
            caller = sippkit.lab_run_sipp(lab, "pbx_call_uac.xml", swlab.PBX_IP4, 5060,
                                          remote=swlab.SW_IP4, service="alice", timeout=20,
                                          sets={"ruri": contact}, extra=["-d", "300"])
            call = callee.wait()
        say("the PBX called alice through sipwake (INVITE, 180, 200, ACK, BYE, Record-"
            "Routed, pn-* stripped): PBX exit %d, app exit %d" % (caller.rc, call.rc))
        pushes_alive = len(push.reqs())

        # The wake path. bob registers too (and will never wake up).
        aor = "alice@%s" % swlab.SW_IP4
        registrar = sippkit.lab_sipp(lab, "pbx_registrar.xml", swlab.PBX_IP4, 5060, calls=2,
                                     sets={"no_fc": 1}, timeout=60).start()
        bob = sippkit.lab_run_sipp(lab, "app_register.xml", swlab.PEER_IP4, 5090,
                                   remote=swlab.SW_IP4, service="bob", timeout=20,
                                   sets={"no_fc": 1, "token": BOB_TOKEN,
                                         "instance": "urn:uuid:b0b0b0b0-0000-4000-8000-00000000b0b0"},
                                   extra=["-au", "bob", "-ap", "secret"])
        say("app bob REGISTERed too (sipp exit %d)" % bob.rc)
        asleep = wait_state(lab, aor, "asleep", ALIVE_S + 10)
        say("alice's phone locks its screen: nothing heard from her app for %d s, "
            "so /sipwake/bindings says she is %s" % (ALIVE_S, lab.devices(aor)[0]["state"]))
        woken = sippkit.lab_sipp(lab, "app_wake_uas.xml", swlab.PEER_IP4, 5080, calls=2,
                               service="alice", timeout=40,
                               sets={"edge_host": swlab.SW_IP4, "domain": swlab.SW_IP4},
                               extra=["-au", "alice", "-ap", "secret"]).start()
        caller2 = sippkit.lab_sipp(lab, "pbx_call_uac.xml", swlab.PBX_IP4, 5062,
                                  remote=swlab.SW_IP4, service="alice", timeout=40,
                                  sets={"ruri": CONTACT % ("alice", 5070, TOKEN)},
                                  extra=["-d", "300"]).start()
        t_call = time.monotonic()
        ev = push.wait_req(token=TOKEN, timeout=5, type="voip")
        say("the PBX calls alice again: sipwake answered 100 Trying, held the INVITE and "
            "sent a VoIP push (%.0f ms after sipp started the call): APNs test server got %s"
            % ((time.monotonic() - t_call) * 1000,
               "nothing" if ev is None else "type=%s topic=%s token=%s..., answered %s"
               % (ev.get("type"), ev.get("topic"), TOKEN[:8], ev.get("status"))))
        # The OS wakes the app with its push: here a MESSAGE to the app's new
        # port stands in for it (tests/integration/sipp/app_wake_uas.xml).
        lab.udp_send([("MESSAGE sip:alice@%s:5080 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5098;"
                       "branch=z9hG4bK-push1\r\nMax-Forwards: 70\r\nFrom: <sip:apns@push.test>"
                       ";tag=p\r\nTo: <sip:alice@example.com>\r\nCall-ID: push-1@demo\r\n"
                       "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
                       % (swlab.PEER_IP4, swlab.PEER_IP4)).encode()],
                     dst=swlab.PEER_IP4, port=5080, src=swlab.PEER_IP4, sport=5098)
        res_caller, res_app = caller2.wait(40), woken.wait(40)
        say("alice's app woke up, REGISTERed from port 5080 (401, then 200), and the held "
            "INVITE rang there: 180, 200, ACK, BYE through sipwake. PBX exit %d, app exit %d"
            % (res_caller.rc, res_app.rc))
        # bob's phone sleeps on: sipp plays the PBX, expects 480 within
        # wake.timeout_s + 3 s (-recv_timeout) and ACKs it (§17.1.1.3).
        bobcall = sippkit.lab_run_sipp(lab, "pbx_invite_480.xml", swlab.PBX_IP4, 5064,
                                       remote=swlab.SW_IP4, service="bob", timeout=WAKE_S + 15,
                                       sets={"ruri": CONTACT % ("bob", 5090, BOB_TOKEN)},
                                       extra=["-recv_timeout", str((WAKE_S + 3) * 1000)])
        heard = answers_heard(bobcall.messages)
        t480 = next((t for t, line in heard if line.startswith("SIP/2.0 480 ")), None)
        bob_pushes = len(push.reqs(token=BOB_TOKEN))
        say("the PBX calls bob, who sleeps on: a push goes out (%d for his token), his app "
            "never registers, and the PBX hears: %s; it ACKs the 480 (sipp exit %d)"
            % (bob_pushes, "; ".join("%.1f s %s" % h for h in heard) or "nothing",
               bobcall.rc))
        res_reg = registrar.wait(20)

        # carol's phone speaks TLS and wakes over a new connection.
        tls_checks = demo_tls.run(lab, push, cafile, say)

        # What an operator would look at, all from DPDK's telemetry socket.
        say("telemetry (dpdk-telemetry.py -f %s), what an operator would look at:"
            % lab.prefix)
        traces = {}
        for who, cid in (("alice's call while awake", call_id(caller.messages)),
                         ("alice's woken call", call_id(res_caller.messages)),
                         ("bob's call", call_id(bobcall.messages))):
            tr = lab.telemetry("/sipwake/trace," + cid)
            traces[who] = "\n".join(tr.get("trace", []))
            print("    /sipwake/trace,%s (%s), %d events:" % (cid, who, tr.get("events", 0)))
            print(indent(traces[who] or tr.get("note", "")))
        held = lab.telemetry("/sipwake/held")
        print("    /sipwake/held: %d held now; woken %d, answered %d, timed out %d; push -> "
              "accepted REGISTER p50 %.1f ms, INVITE in -> INVITE to the woken app p50 %.1f ms"
              % (held["held"], held["woken"], held["answered"], held["timed_out"],
                 held["push_to_register"]["p50_us"] / 1000.0,
                 held["invite_to_device"]["p50_us"] / 1000.0))
        apns = lab.telemetry("/sipwake/push")["apns"]
        print("    /sipwake/push apns: submitted %d, delivered %d, rejected %d, dead tokens %d; "
              "connections up %d of %d; latency p50 %.1f ms"
              % (apns["submitted"], apns["delivered"], apns["rejected"], apns["dead_token"],
                 apns["connections_up"], apns["connections_configured"],
                 apns["latency_p50_us"] / 1000.0))
        stats = lab.stats()
        print("    /sipwake/stats, non-zero counters:")
        for k, v in stats.items():
            if v:
                print("      %-28s %d" % (k, v))
        rc_stop = lab.stop()
        say("SIGTERM: sipwake exited %d; /var/run/dpdk/%s removed: %s"
            % (rc_stop, lab.prefix, not os.path.exists(lab.runtime_dir())))
    say("namespaces removed; done")
    alice_trace, bob_trace = traces["alice's woken call"], traces["bob's call"]
    awake_trace = traces["alice's call while awake"]
    checks = [
        ("OPTIONS over IPv4 and IPv6, 8 answered", rc == 0 and rc6 == 0 and
         stats["sip_options_answered"] == 8),
        ("alice registered, one device bound", app.ok and reg.ok and b.get("devices") == 1),
        ("the call to awake alice rang at once, no push", caller.ok and call.ok and
         pushes_alive == 0),
        ("bob registered", bob.ok),
        ("alice fell asleep", asleep),
        ("the call to asleep alice sent a VoIP push", ev is not None),
        ("alice re-REGISTERed from port 5080 and the held call rang there",
         res_caller.ok and res_app.ok and res_reg.ok),
        ("alice's trace has the push and the INVITE to her device",
         "VoIP push via apns sent" in alice_trace and "INVITE to device" in alice_trace),
        ("bob's call got a push and 480 after wake.timeout_s, ACKed on its transaction",
         bobcall.ok and bob_pushes == 1 and t480 is not None and
         WAKE_S - 0.5 <= t480 <= WAKE_S + 1.5 and not stats.get("drop_wake_stray")),
        ("bob's trace ends with the final 480", "final 480 to the PBX" in bob_trace),
        ("the awake call's trace shows the worker forwarding it at once and the 200",
         "alive, forwarded at once" in awake_trace and "answered 200, relayed" in awake_trace),
        ("/sipwake/held: woken 2, answered 2, timed out 1",
         (held["woken"], held["answered"], held["timed_out"]) == (2, 2, 1)),
        ("sipwake exited 0 on SIGTERM", rc_stop == 0),
    ] + tls_checks
    failed = [what for what, good in checks if not good]
    if failed:
        say("the demo did NOT go as it should: " + "; ".join(failed))
        print(res_caller, res_app, res_reg, bobcall, sep="\n")
    return 1 if failed else 0


def parse_args():
    p = argparse.ArgumentParser(description="sipwake on a virtual network: the wake story")
    p.add_argument("--edges", type=int, choices=(1, 2), default=1,
                   help="2: two edges sharing their bindings through Redis "
                   "(scripts/demo_cluster.py) instead of the one-edge story")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(demo_cluster.run(say, indent) if parse_args().edges == 2 else main())
