# SPDX-License-Identifier: BSD-3-Clause
"""The demo: sipwake on a virtual network, no NIC, no hugepages.

Two network namespaces joined by a veth pair; sipwake owns 198.18.0.1 and
2001:db8:5e::1 on one end through DPDK's net_af_packet, a peer on the other
end pings it, sends OPTIONS health checks with sipp (the SIP test tool PBX
vendors use) and a few junk datagrams. Then sipp plays an app and a PBX: the
app registers through sipwake with an RFC 8599 push address (the PBX
challenges it first), sipwake keeps the binding once the PBX says 200, and
the PBX calls the app through sipwake. Prints what happened and sipwake's
telemetry, then removes everything it made. Re-running it works.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import sippkit  # noqa: E402
import swlab  # noqa: E402

SCENARIO = os.path.join(swlab.REPO, "tests", "integration", "sipp", "options.xml")
T0 = time.monotonic()


def say(what):
    print("[%6.2fs] %s" % (time.monotonic() - T0, what), flush=True)


def first_exchange(trace):
    """The first request sipp sent and the first answer it got."""
    blocks = re.split(r"\n-{20,}[^\n]*\n", trace)
    sent = next((b for b in blocks if b.startswith("UDP message sent")), "")
    cid = re.search(r"^Call-ID: .*$", sent, re.M)
    got = next((b for b in blocks if b.startswith("UDP message received") and cid
                and cid.group(0) in b), "")
    return sent.strip(), got.strip()


def indent(text):
    return "\n".join("      " + line for line in text.splitlines())


def main():
    with swlab.Lab(name="swdemo") as lab:
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
        print(indent(sent))
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

        stats = lab.stats()
        say("telemetry /sipwake/stats (dpdk-telemetry.py -f %s), non-zero counters:"
            % lab.prefix)
        for k, v in stats.items():
            if v:
                print("      %-28s %d" % (k, v))
        rc_stop = lab.stop()
        say("SIGTERM: sipwake exited %d; /var/run/dpdk/%s removed: %s"
            % (rc_stop, lab.prefix, not os.path.exists(lab.runtime_dir())))
    say("namespaces removed; done")
    ok = (rc == 0 and rc6 == 0 and rc_stop == 0 and stats["sip_options_answered"] == 8 and
          app.ok and reg.ok and caller.ok and call.ok and b.get("devices") == 1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
