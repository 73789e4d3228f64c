# SPDX-License-Identifier: BSD-3-Clause
"""The demo's TLS app (scripts/demo.py): carol's phone registers over TLS
(sipwake's streams thread, port 5061), the PBX (sipp, pbx_registrar.xml)
challenges it and accepts; the app closes its connection as a phone going
to sleep does, and sipwake marks it asleep at once. The PBX (sipp,
pbx_call_uac.xml) calls her: sipwake pushes, the woken app opens a NEW TLS
connection from a new port, registers again, and the held INVITE comes
down that connection: 180, 200, then the PBX's ACK and BYE along the two
Record-Routes (RFC 5658). The app is a small TLS client on Python's ssl
(the system's OpenSSL): Debian's sipp has no TLS."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import sippkit  # noqa: E402
import swlab  # noqa: E402
from streampeer import StreamEndpoint, make_cert  # noqa: E402
from wakesip import SDP_APP, build, reply  # noqa: E402

TOKEN = "ca401ca4" * 8
PARAM = "ABCD123456.com.example.voip"
INSTANCE = "urn:uuid:ca401ca4-0000-4000-8000-0000000ca401"
AOR = "carol@%s" % swlab.SW_IP4


def config(tmp):
    """The streams { } lines that give sipwake a TLS listener, and the
    certificate an app trusts."""
    cert, key = make_cert(tmp)
    return cert, 'streams: { tls = { port = 5061; cert = "%s"; key = "%s"; }; };' % (cert, key)


def contact(port, pn=True):
    c = "sip:carol@%s:%d;transport=tls" % (swlab.PEER_IP4, port)
    return c + (";pn-provider=apns;pn-prid=%s;pn-param=%s" % (TOKEN, PARAM) if pn else "")


def register(app, cseq):
    """REGISTER, the PBX's 401, the retry with credentials, its 200."""
    def req(n, auth):
        return build("REGISTER sip:%s SIP/2.0" % swlab.SW_IP4, [
            "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK-carol-%d-%d;rport" % (
                swlab.PEER_IP4, app.port, app.port, n),
            "Max-Forwards: 70", "From: <sip:%s>;tag=carol%d" % (AOR, app.port),
            "To: <sip:%s>" % AOR, "Call-ID: carol-%d@phone" % app.port, "CSeq: %d REGISTER" % n,
            'Contact: <%s>;+sip.instance="<%s>";expires=600' % (contact(app.port), INSTANCE)] +
            (['Authorization: Digest username="carol", realm="sipwake.test", nonce="n",'
              ' uri="sip:%s", response="00000000000000000000000000000000"' % swlab.SW_IP4]
             if auth else []))
    app.send(req(cseq, False))
    app.expect(lambda m: m.status == 401, 5.0, "the PBX's challenge")
    app.send(req(cseq + 1, True))
    return app.expect(lambda m: m.status == 200, 5.0, "200 to the REGISTER")


def run(lab, push, cafile, say):
    """The TLS wake story; returns [(what, it happened)] for demo.py's checks."""
    def connect(port):
        return StreamEndpoint(lab.ns_peer, swlab.PEER_IP4, port, "TLS", dport=5061,
                              cafile=cafile, name="carol:%d" % port)

    registrar = sippkit.lab_sipp(lab, "pbx_registrar.xml", swlab.PBX_IP4, 5060, calls=2,
                                 sets={"no_fc": 1}, timeout=40).start()
    app1 = connect(5075)
    ok1 = register(app1, 1)
    dev = (lab.devices(AOR) or [{}])[0]
    say("app carol REGISTERed over TLS (a handshake with sipwake's certificate, then 401, "
        "then 200): /sipwake/bindings,%s: %s, %s, connection %s"
        % (AOR, dev.get("transport"), dev.get("state"), dev.get("connection")))
    app1.close()
    end = time.monotonic() + 3
    while time.monotonic() < end and (lab.devices(AOR) or [{}])[0].get("state") != "asleep":
        time.sleep(0.05)
    asleep = (lab.devices(AOR) or [{}])[0].get("state") == "asleep"
    say("carol's phone sleeps and closes its connection: sipwake marks her %s at once"
        % ("asleep" if asleep else "NOT asleep"))
    caller = sippkit.lab_sipp(lab, "pbx_call_uac.xml", swlab.PBX_IP4, 5066,
                              remote=swlab.SW_IP4, service="carol", timeout=30,
                              sets={"ruri": contact(5075)}, extra=["-d", "300"]).start()
    ev = push.wait_req(token=TOKEN, timeout=5, type="voip")
    say("the PBX calls carol: held, VoIP push sent (%s)"
        % ("APNs test server answered %s" % ev.get("status") if ev else "NO push"))
    app2 = connect(5085)  # woken: a new connection, a new port
    register(app2, 3)
    inv = app2.expect(lambda m: m.method == "INVITE", 5.0, "the held INVITE")
    rr = inv.all("Record-Route")
    app2.send(reply(inv, 180, "Ringing", tag="carol", contact=contact(5085, pn=False)))
    app2.send(reply(inv, 200, "OK", tag="carol", contact=contact(5085, pn=False),
                    body=SDP_APP))
    app2.expect(lambda m: m.method == "ACK", 5.0, "the PBX's ACK")
    bye = app2.expect(lambda m: m.method == "BYE", 5.0, "the PBX's BYE")
    app2.send(reply(bye, 200, "OK"))
    res_caller = caller.wait(30)
    app2.nothing(lambda m: m.method == "INVITE", 0.3, "a second INVITE")
    app2.close()
    res_reg = registrar.wait(20)
    say("carol's app woke, opened a new TLS connection from port 5085, REGISTERed, and the "
        "held INVITE came down it (Record-Route: %s): 180, 200, ACK, BYE. PBX exit %d"
        % (", ".join(rr), res_caller.rc))
    return [
        ("carol registered over TLS", ok1 is not None and dev.get("transport") == "tls"),
        ("carol asleep once her TLS connection closed", asleep),
        ("carol woken over a new TLS connection took the held call",
         ev is not None and res_caller.ok and res_reg.ok and len(rr) == 2),
    ]
