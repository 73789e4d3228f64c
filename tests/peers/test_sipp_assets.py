# SPDX-License-Identifier: BSD-3-Clause
"""The test peers checked against each other, without sipwake: every sipp
scenario of tests/integration/sipp with its counterpart, and the Kamailio
configs of tests/integration/kamailio, on loopback in a private network
namespace (nothing else on the machine is reachable or in the way). A suite
of its own (scripts/test.sh counts it apart from sipwake's tests): it never
starts sipwake.

Where a scenario checks something only sipwake adds (Path, Feature-Caps,
Record-Route, a second Via, pn-* parameters stripped), each check is shown
to FAIL without it and to pass when the other side injects a stand-in
(-set hdr1/hdr2) or the check is switched off (-set no_*)."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

# The peers and their kit stay with the integration tests, which use them
# against sipwake; this suite only checks them against each other.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sippkit  # noqa: E402
from sippkit import Kamailio, Netns, Sipp, run_sipp  # noqa: E402

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("sipp") or not shutil.which("kamailio"),
    reason="needs root (a network namespace), sipp and kamailio (scripts/setup.sh)")

LO = "127.0.0.1"
PBX, APP, EDGE, PBX_UAC = 5060, 5070, 5080, 5090
TOKEN = "4bfcb19a7aa50e1fbbb53cc267730f53aa7c4d76554f774f4401859abaae3036"
PN = ";pn-provider=apns;pn-prid=%s;pn-param=ABCD123456.com.example.voip" % TOKEN
PATH = "Path: <sip:%s:%d;lr>" % (LO, EDGE)
FC = 'Feature-Caps: *;+sip.pns="apns"'
RR = "Record-Route: <sip:%s:%d;lr>" % (LO, EDGE)
CREDS = ["-au", "alice", "-ap", "secret"]


@pytest.fixture(scope="module")
def ns():
    with Netns("swsa%d" % (os.getpid() % 100000)) as name:
        yield name


@pytest.fixture
def work(tmp_path):
    return str(tmp_path)


def pair(ns, work, uas, uac, uas_sets=None, uac_sets=None, uas_port=PBX, uac_port=APP,
         uas_extra=(), uac_extra=(), service="alice", calls=1, timeout=15):
    """uas in the background on uas_port, uac against it: (uas, uac) results."""
    with Sipp(uas, LO, uas_port, netns=ns, workdir=work, sets=uas_sets, calls=calls,
              timeout=timeout, extra=uas_extra) as s:
        c = run_sipp(uac, LO, uac_port, remote=LO, remote_port=uas_port, netns=ns, workdir=work,
                     sets=uac_sets, service=service, calls=calls, timeout=timeout,
                     extra=["-recv_timeout", "3000"] + list(uac_extra))
        if not c.ok:
            s.stop()
    return s.result, c


def failed_check(res, text):
    """The run failed, and on the check whose probe contains text."""
    return res.rc == 1 and "Failed regexp match" in res.errors and text in res.errors


# -- registration ----------------------------------------------------------

def test_register_through_a_stand_in_edge(ns, work):
    # The app adds what sipwake would add towards the PBX (Path,
    # Feature-Caps), the PBX adds the Feature-Caps sipwake would add back.
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                    uas_sets={"hdr1": FC},
                    uac_sets={"hdr1": PATH, "hdr2": FC, "expect_expires": 300},
                    uac_extra=CREDS)
    assert pbx.ok, str(pbx)
    assert app.ok, str(app)
    m = pbx.messages
    assert "SIP/2.0 401 Unauthorized" in m and 'WWW-Authenticate: Digest realm="sipwake.test"' in m
    assert re.search(r'Authorization: Digest username="alice"', m), m
    # The 200 echoes our Contact, pn parameters and all, with the granted 300.
    ok = m[m.index("SIP/2.0 200 OK"):]
    assert re.search(r"Contact: <sip:alice@127\.0\.0\.1:5070%s>;\+sip\.instance=\"<urn:uuid:"
                     r"[-0-9a-f]+>\";expires=300\r\n" % re.escape(PN), ok), ok
    assert "\r\n%s\r\n" % PATH in ok


def test_register_checks_fail_without_the_edge(ns, work):
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml", uac_extra=CREDS)
    assert failed_check(pbx, "path:on got="), pbx
    assert failed_check(app, "fc:on pns=apns got="), app
    # Path present, Feature-Caps missing towards the PBX; Path without ;lr.
    pbx, _ = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                  uac_sets={"hdr1": PATH}, uac_extra=CREDS)
    assert failed_check(pbx, "fc:on got="), pbx
    pbx, _ = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                  uac_sets={"hdr1": "Path: <sip:127.0.0.1:5080>", "hdr2": FC}, uac_extra=CREDS)
    assert failed_check(pbx, "path:on got= <sip:127.0.0.1:5080>"), pbx
    # The switches for direct use.
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                    uas_sets={"no_path": 1, "no_fc": 1}, uac_sets={"no_fc": 1}, uac_extra=CREDS)
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)


def test_register_granted_expiry_and_pnsreg_checked(ns, work):
    _, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml", uas_sets={"hdr1": FC},
                  uac_sets={"hdr1": PATH, "hdr2": FC, "expect_expires": 600}, uac_extra=CREDS)
    assert failed_check(app, "want=600 granted=300"), app
    # +sip.pnsreg asked for: the 200's Feature-Caps must carry a value.
    _, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml", uas_sets={"hdr1": FC},
                  uac_sets={"hdr1": PATH, "hdr2": FC, "pnsreg": 1}, uac_extra=CREDS)
    assert failed_check(app, "pnsreg:on got="), app
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                    uas_sets={"hdr1": FC + ';+sip.pnsreg="121"'},
                    uac_sets={"hdr1": PATH, "hdr2": FC, "pnsreg": 1}, uac_extra=CREDS)
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)
    assert ";+sip.pnsreg;expires=600" in pbx.messages


@pytest.mark.parametrize("form,params", [
    ("legacy", r";pn-type=apple;pn-tok=%s;app-id=com\.example\.voip>" % TOKEN),
    ("xpush", r">.*\r\nX-Push: device-os=ios;device-uid=%s;allow-call-push=true;"
              r"app-id=com\.example\.voip\r\n" % TOKEN),
])
def test_register_push_forms(ns, work, form, params):
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                    uas_sets={"hdr1": FC, "form": form},
                    uac_sets={"hdr1": PATH, "hdr2": FC, "form": form}, uac_extra=CREDS)
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)
    assert re.search(r"REGISTER sip:127\.0\.0\.1:5060 SIP/2\.0\r\n.*Contact: <sip:alice@"
                     r"127\.0\.0\.1:5070" + params, pbx.messages, re.S), pbx.messages
    # The PBX insists on the form it was told to expect.
    pbx, _ = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                  uas_sets={"hdr1": FC}, uac_sets={"hdr1": PATH, "hdr2": FC, "form": form},
                  uac_extra=CREDS)
    assert failed_check(pbx, "form=rfc8599 contact="), pbx


def test_deregister(ns, work):
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml", uas_sets={"hdr1": FC},
                    uac_sets={"hdr1": PATH, "hdr2": FC, "expires": 0}, uac_extra=CREDS)
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)
    assert "Expires: 0\r\n" in pbx.messages and ";expires=0\r\n" in pbx.messages
    ok = pbx.messages[pbx.messages.index("SIP/2.0 200 OK"):]
    assert "Contact:" not in ok, ok


def test_refusal_and_no_challenge(ns, work):
    pbx, app = pair(ns, work, "pbx_register_403.xml", "app_register.xml",
                    uac_sets={"final": 403}, uac_extra=CREDS)
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                    uas_sets={"final": 403}, uac_sets={"hdr1": PATH, "hdr2": FC, "final": 403},
                    uac_extra=CREDS)
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)
    _, app = pair(ns, work, "pbx_register_403.xml", "app_register.xml", uac_extra=CREDS)
    assert failed_check(app, "final=200 got=403"), app
    # A registrar that answers at once: fine only when the app was told.
    pbx, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                    uas_sets={"hdr1": FC, "challenge": 0},
                    uac_sets={"hdr1": PATH, "hdr2": FC, "challenge": 0})
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)
    assert "401 Unauthorized" not in pbx.messages
    _, app = pair(ns, work, "pbx_registrar.xml", "app_register.xml",
                  uas_sets={"hdr1": FC, "challenge": 0}, uac_sets={"hdr1": PATH, "hdr2": FC})
    assert failed_check(app, "challenge=yes final=200 got=200"), app


def test_register_ipv6(ns, work):
    with Sipp("pbx_registrar.xml", "::1", PBX, netns=ns, workdir=work,
              sets={"hdr1": FC}) as pbx:
        app = run_sipp("app_register.xml", "::1", APP, remote="::1", remote_port=PBX, netns=ns,
                       workdir=work, service="alice", extra=CREDS,
                       sets={"hdr1": "Path: <sip:[::1]:5080;lr>", "hdr2": FC})
    assert pbx.result.ok and app.ok, sippkit.explain(pbx.result, app)
    assert "Contact: <sip:alice@[::1]:5070;pn-provider=apns" in pbx.result.messages


# -- calls -------------------------------------------------------------------

def test_pbx_calls_app(ns, work):
    app, pbx = pair(ns, work, "app_call_uas.xml", "pbx_call_uac.xml", uas_port=APP,
                    uac_port=PBX, uac_sets={"hdr1": RR})
    assert app.ok and pbx.ok, sippkit.explain(app, pbx)
    # ACK and BYE went to the 200's Contact with the route set.
    assert re.search(r"ACK sip:127\.0\.0\.1:5070;transport=UDP SIP/2\.0\r\n.*"
                     r"Route: <sip:127\.0\.0\.1:5080;lr>", pbx.messages, re.S), pbx.messages
    assert re.search(r"BYE sip:127\.0\.0\.1:5070;transport=UDP SIP/2\.0\r\n.*"
                     r"Route: <sip:127\.0\.0\.1:5080;lr>", pbx.messages, re.S), pbx.messages
    # The app echoed the Record-Route in 180 and 200.
    assert app.messages.count("\r\n%s\r\n" % RR) == 3, app.messages


def test_app_call_checks_fail_without_the_edge(ns, work):
    app, pbx = pair(ns, work, "app_call_uas.xml", "pbx_call_uac.xml", uas_port=APP, uac_port=PBX)
    assert failed_check(app, "rr:on got="), app
    assert pbx.ok, str(pbx)  # the flow itself completed
    ruri = "sip:alice@127.0.0.1:5070" + PN
    app, _ = pair(ns, work, "app_call_uas.xml", "pbx_call_uac.xml", uas_port=APP, uac_port=PBX,
                  uac_sets={"hdr1": RR, "ruri": ruri})
    assert failed_check(app, "strip:on pn=;pn-provider"), app
    app, _ = pair(ns, work, "app_call_uas.xml", "pbx_call_uac.xml", uas_port=APP, uac_port=PBX,
                  uas_sets={"keep_pn": 1, "no_rr": 1}, uac_sets={"ruri": ruri})
    assert app.ok, str(app)
    assert "INVITE %s SIP/2.0" % ruri in app.messages


def test_app_calls_pbx(ns, work):
    via = "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-edge"
    pbx, app = pair(ns, work, "pbx_call_uas.xml", "app_call_uac.xml", service="100",
                    uac_sets={"hdr1": via, "hdr2": RR})
    assert pbx.ok and app.ok, sippkit.explain(pbx, app)
    assert "INVITE sip:100@127.0.0.1 SIP/2.0" in pbx.messages
    pbx, app = pair(ns, work, "pbx_call_uas.xml", "app_call_uac.xml", service="100",
                    uac_sets={"hdr2": RR})
    assert failed_check(pbx, "via2:on second Via="), pbx
    pbx, _ = pair(ns, work, "pbx_call_uas.xml", "app_call_uac.xml", service="100",
                  uac_sets={"hdr1": via})
    assert failed_check(pbx, "rr:on got="), pbx
    pbx, _ = pair(ns, work, "pbx_call_uas.xml", "app_call_uac.xml", service="100",
                  uas_sets={"no_rr": 1, "no_via2": 1})
    assert pbx.ok, str(pbx)


# A UAS that answers an INVITE with 100, then (after argv[3] s) the final
# argv[2] (0: none) with a To tag, and prints the INVITE and what came next.
UAS_FINAL = r"""
import json, re, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.settimeout(5)
inv, src = s.recvfrom(65535)
inv = inv.decode()
keep = [l for l in inv.split("\r\n\r\n")[0].split("\r\n")
        if re.match(r"(Via|From|Call-ID|CSeq):", l)]
to = re.search(r"^To: ([^\r\n]*)", inv, re.M).group(1)
s.sendto(("SIP/2.0 100 Trying\r\n%s\r\nTo: %s\r\nContent-Length: 0\r\n\r\n"
          % ("\r\n".join(keep), to)).encode(), src)
time.sleep(float(sys.argv[3]))
if int(sys.argv[2]):
    s.sendto(("SIP/2.0 %s Final\r\n%s\r\nTo: %s;tag=uas-1\r\nContent-Length: 0\r\n\r\n"
              % (sys.argv[2], "\r\n".join(keep), to)).encode(), src)
got = []
s.settimeout(2.5)
try:
    while True:
        got.append(s.recv(65535).decode())
except socket.timeout:
    pass
print(json.dumps({"invite": inv, "then": got}))
"""


def against_uas_final(ns, work, scenario, final, delay, **sipp_kw):
    """The UAC @scenario, from PBX, against UAS_FINAL on APP answering
    @final after @delay s: (the sipp result, what the UAS got: {"invite":
    text, "then": [text, ...]})."""
    uas = subprocess.Popen(sippkit._ns(ns) + ["/usr/bin/python3", "-c", UAS_FINAL, str(APP),
                                             str(final), str(delay)],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert sippkit.wait_udp_bound(LO, APP, ns, proc=uas)
        caller = run_sipp(scenario, LO, PBX, remote=LO, remote_port=APP, netns=ns,
                          workdir=work, timeout=15, **sipp_kw)
        out, _ = uas.communicate(timeout=15)
    finally:
        if uas.poll() is None:
            uas.kill()
            uas.wait(5)
    return caller, json.loads(out)


def pbx_call_answered(ns, work, final, delay=0.5, recv_timeout=3000):
    """pbx_invite_480.xml against UAS_FINAL."""
    return against_uas_final(ns, work, "pbx_invite_480.xml", final, delay, service="bob",
                             extra=["-recv_timeout", str(recv_timeout)])


def test_pbx_call_to_a_sleeper_acks_the_480(ns, work):
    caller, uas = pbx_call_answered(ns, work, 480)
    assert caller.ok, str(caller)
    inv, (ack,) = uas["invite"], uas["then"]

    def hdr(msg, name):
        return re.search(r"^%s: (.*)\r$" % name, msg, re.M).group(1)
    # RFC 3261 §17.1.1.3: hop by hop, same transaction as the INVITE.
    assert ack.startswith("ACK %s SIP/2.0\r\n" % inv.split(" ")[1]), ack
    for name in ("Via", "From", "Call-ID"):
        assert hdr(ack, name) == hdr(inv, name), (name, inv, ack)
    assert hdr(ack, "To") == hdr(inv, "To") + ";tag=uas-1", ack
    assert hdr(ack, "CSeq") == "1 ACK", ack
    assert ";branch=z9hG4bK" in hdr(ack, "Via"), ack


def test_pbx_call_to_a_sleeper_fails_without_its_480(ns, work):
    # No final answer within -recv_timeout: the call fails, and sipp gives
    # up on the INVITE as a PBX would (CANCEL, §9.1), ACKs nothing.
    caller, uas = pbx_call_answered(ns, work, 0, recv_timeout=2000)
    assert caller.rc == 1 and "receive timeout" in caller.errors, caller
    assert [m.split(" ")[0] for m in uas["then"]] == ["CANCEL"], uas
    # Another final answer is not the 480 it waits for.
    caller, _ = pbx_call_answered(ns, work, 486)
    assert caller.rc == 1 and "unexpected message" in caller.errors, caller


PUSH_MESSAGE = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); s.settimeout(5)
port = s.getsockname()[1]
s.sendto(("MESSAGE sip:app@127.0.0.1:%d SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-push1\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:push@test>;tag=p1\r\nTo: <sip:app@test>\r\n"
          "Call-ID: push-1@test\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
          % (int(sys.argv[1]), port)).encode(), ("127.0.0.1", int(sys.argv[1])))
print(s.recv(65535).decode().split("\r\n")[0])
"""


def woken_app(ns, work, call_sets):
    """app_wake_uas.xml on APP: the "push" (a MESSAGE) makes it REGISTER with
    the registrar on PBX (standing in for the edge), then the PBX calls its
    port directly. (registrar, app, caller) results."""
    with Sipp("pbx_registrar.xml", LO, PBX, netns=ns, workdir=work, timeout=20,
              sets={"no_path": 1, "no_fc": 1}) as reg:
        with Sipp("app_wake_uas.xml", LO, APP, netns=ns, workdir=work, calls=2, timeout=20,
                  service="alice", sets={"edge_host": LO, "edge_port": PBX},
                  extra=CREDS) as app:
            push = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                                   PUSH_MESSAGE, str(APP)], capture_output=True, text=True,
                                  timeout=15)
            assert push.stdout.strip() == "SIP/2.0 200 OK", push
            assert reg.wait(15).ok, str(reg.result)  # registered before the call comes
            caller = run_sipp("pbx_call_uac.xml", LO, PBX_UAC, remote=LO, remote_port=APP,
                              netns=ns, workdir=work, sets=call_sets, service="alice",
                              timeout=15, extra=["-recv_timeout", "3000"])
            if not caller.ok:
                app.stop()
    return reg.result, app.result, caller


def test_woken_app_registers_then_takes_the_call(ns, work):
    reg, app, caller = woken_app(ns, work, {"hdr1": RR, "ruri": "sip:alice@127.0.0.1:%d" % APP})
    assert reg.ok and app.ok and caller.ok, sippkit.explain(reg, app, caller)
    # The REGISTER carried the push address, was challenged and retried.
    assert re.search(r"Contact: <sip:alice@127\.0\.0\.1:5070%s>;\+sip\.instance=" % re.escape(PN),
                     reg.messages), reg.messages
    assert re.search(r"Authorization: Digest username=\"alice\"", reg.messages), reg.messages
    assert app.messages.count("\r\n%s\r\n" % RR) == 3, app.messages


def test_woken_app_checks_fail_without_the_edge(ns, work):
    _, app, _ = woken_app(ns, work, {"ruri": "sip:alice@127.0.0.1:%d" % APP})
    assert failed_check(app, "rr:on got="), app
    _, app, _ = woken_app(ns, work, {"hdr1": RR, "ruri": "sip:alice@127.0.0.1:%d%s" % (APP, PN)})
    assert failed_check(app, "strip:on pn=;pn-provider"), app
    # The INVITE must come to the port the app woke up on.
    _, app, _ = woken_app(ns, work, {"hdr1": RR, "ruri": "sip:alice@127.0.0.1:5999"})
    assert failed_check(app, "port=5070 ruri=sip:alice@127.0.0.1:5999"), app


# -- messages (RFC 3428) ------------------------------------------------------

TEXT = "sipp says hello through sipwake"


def push_message(ns, port, frm):
    """PUSH_MESSAGE from @frm (host part): the first line of the answer."""
    push = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                           PUSH_MESSAGE.replace("push@test", frm), str(port)],
                          capture_output=True, text=True, timeout=15)
    return push.stdout.strip()


def woken_for_a_message(ns, work, msg_sets, app_sets=None):
    """app_message_uas.xml on APP: the "push" (a MESSAGE from apns@push.test)
    makes it REGISTER with the registrar on PBX (standing in for the edge),
    then pbx_message_uac.xml sends its MESSAGE to that port directly.
    (registrar, app, sender) results."""
    with Sipp("pbx_registrar.xml", LO, PBX, netns=ns, workdir=work, timeout=20,
              sets={"no_path": 1, "no_fc": 1}) as reg:
        with Sipp("app_message_uas.xml", LO, APP, netns=ns, workdir=work, calls=2, timeout=20,
                  service="alice", sets=dict({"edge_host": LO, "edge_port": PBX},
                                             **(app_sets or {})),
                  extra=CREDS) as app:
            assert push_message(ns, APP, "apns@push.test") == "SIP/2.0 200 OK"
            assert reg.wait(15).ok, str(reg.result)  # registered before the MESSAGE comes
            sender = run_sipp("pbx_message_uac.xml", LO, PBX_UAC, remote=LO, remote_port=APP,
                              netns=ns, workdir=work, sets=msg_sets, service="alice",
                              timeout=15, extra=["-recv_timeout", "3000"])
            if not sender.ok:
                app.stop()
    return reg.result, app.result, sender


def test_woken_app_registers_then_takes_the_message(ns, work):
    reg, app, sender = woken_for_a_message(ns, work, {"ruri": "sip:alice@127.0.0.1:%d" % APP})
    assert reg.ok and app.ok and sender.ok, sippkit.explain(reg, app, sender)
    assert re.search(r"Contact: <sip:alice@127\.0\.0\.1:5070%s>;\+sip\.instance=" % re.escape(PN),
                     reg.messages), reg.messages
    assert re.search(r"Authorization: Digest username=\"alice\"", reg.messages), reg.messages
    # The PBX's MESSAGE: text/plain, the fixed text, and the app's 200.
    m = sender.messages
    assert re.search(r"MESSAGE sip:alice@127\.0\.0\.1:5070 SIP/2\.0\r\n.*"
                     r"Content-Type: text/plain\r\nContent-Length: *%d\r\n\r\n%s\r\n"
                     % (len(TEXT) + 2, TEXT), m, re.S), m
    assert "SIP/2.0 200 OK" in m and "CSeq: 1 MESSAGE" in m, m


def test_woken_app_message_checks_fail(ns, work):
    ruri = "sip:alice@127.0.0.1:%d" % APP
    # Another text than the one it waits for.
    _, app, _ = woken_for_a_message(ns, work, {"ruri": ruri, "text": "sipp says goodbye"})
    assert failed_check(app, "want=%s got=sipp says goodbye" % TEXT), app
    _, app, _ = woken_for_a_message(ns, work, {"ruri": ruri}, {"text": "something else"})
    assert failed_check(app, "want=something else got=%s" % TEXT), app
    # pn-* parameters left in the Request-URI; switched off with keep_pn.
    _, app, _ = woken_for_a_message(ns, work, {"ruri": ruri + PN})
    assert failed_check(app, "strip:on pn=;pn-provider"), app
    _, app, sender = woken_for_a_message(ns, work, {"ruri": ruri + PN}, {"keep_pn": 1})
    assert app.ok and sender.ok, sippkit.explain(app, sender)
    # The MESSAGE must come to the port the app woke up on.
    _, app, _ = woken_for_a_message(ns, work, {"ruri": "sip:alice@127.0.0.1:5999"})
    assert failed_check(app, "port=5070 ruri=sip:alice@127.0.0.1:5999"), app


def test_message_app_tells_the_push_from_the_message(ns, work):
    # A MESSAGE not from push.test is the held one, not a push: with no
    # body it fails the text check, and the app does not REGISTER.
    with Sipp("app_message_uas.xml", LO, APP, netns=ns, workdir=work, calls=1, timeout=10,
              service="alice", sets={"edge_host": LO, "edge_port": PBX}, extra=CREDS) as app:
        assert push_message(ns, APP, "apns@example.test") == "SIP/2.0 200 OK"
    assert failed_check(app.result, "want=%s got=" % TEXT), app.result
    assert "REGISTER" not in app.result.messages


def pbx_message_answered(ns, work, final):
    """pbx_message_uac.xml against UAS_FINAL (100, then @final)."""
    return against_uas_final(ns, work, "pbx_message_uac.xml", final, 0.2, service="bob",
                             extra=["-recv_timeout", "3000"])


def test_pbx_message_wants_its_200(ns, work):
    # A 100 first (optional), then 200: done.
    sender, uas = pbx_message_answered(ns, work, 200)
    assert sender.ok, str(sender)
    assert uas["invite"].startswith("MESSAGE sip:bob@127.0.0.1:%d SIP/2.0\r\n" % APP), uas
    assert uas["invite"].endswith("\r\n\r\n%s\r\n" % TEXT), uas
    # Any other final answer fails the call.
    sender, _ = pbx_message_answered(ns, work, 480)
    assert sender.rc == 1 and "unexpected message" in sender.errors, sender


def test_app_answers_bounded_pings(ns, work):
    with Sipp("app_ping_uas.xml", LO, APP, netns=ns, workdir=work, calls=2) as app:
        for _ in range(2):
            r = run_sipp("options.xml", LO, 5071, remote=LO, remote_port=APP, netns=ns,
                         workdir=work, timeout=10)
            assert r.ok, str(r)
    assert app.result.ok, str(app.result)
    # -m 2 is up: a third ping goes unanswered.
    r = run_sipp("options.xml", LO, 5071, remote=LO, remote_port=APP, netns=ns, workdir=work,
                 timeout=8, extra=["-recv_timeout", "1500"])
    assert r.rc == 1, r


# -- Kamailio ------------------------------------------------------------------

def test_kamailio_registrar_and_lookup_with_path(ns, work):
    with Kamailio("registrar.cfg", listen="udp:%s:%d" % (LO, PBX), netns=ns, workdir=work) as k:
        # The app registers (no challenge: this registrar has no auth;
        # Feature-Caps is sipwake's, not a registrar's) with a Path to the
        # "edge" address.
        app = run_sipp("app_register.xml", LO, APP, remote=LO, remote_port=PBX, netns=ns,
                       workdir=work, service="alice",
                       sets={"challenge": 0, "no_fc": 1, "hdr1": PATH, "expires": 120})
        assert app.ok, sippkit.explain(app, k.log())
        ok = app.messages[app.messages.index("SIP/2.0 200 OK"):]
        assert re.search(r"Contact: <sip:alice@127\.0\.0\.1:5070%s>;expires=12\d" % re.escape(PN),
                         ok), ok
        assert "\r\n%s\r\n" % PATH in ok  # path_mode=1 and "Supported: path"
        (c,) = k.contacts("alice")
        assert c["Address"] == "sip:alice@127.0.0.1:5070" + PN, c
        assert c["Path"] == "<sip:127.0.0.1:5080;lr>", c
        # A call to the AOR: lookup() gives the contact as Request-URI and
        # the Path as next hop; the "edge" (a UAS on the Path address) gets it.
        with Sipp("app_call_uas.xml", LO, EDGE, netns=ns, workdir=work,
                  sets={"keep_pn": 1}) as edge:
            pbx = run_sipp("pbx_call_uac.xml", LO, PBX_UAC, remote=LO, remote_port=PBX,
                           netns=ns, workdir=work, service="alice",
                           sets={"ruri": "sip:alice@127.0.0.1"})
            if not pbx.ok:
                edge.stop()
        assert edge.result.ok and pbx.ok, sippkit.explain(edge.result, pbx, k.log())
        inv = edge.result.messages
        assert "INVITE sip:alice@127.0.0.1:5070%s SIP/2.0" % PN in inv, inv
        assert "Route: <sip:127.0.0.1:5080;lr>" in inv, inv
        assert re.search(r"Record-Route: <sip:127\.0\.0\.1(:5060)?;lr[;>]", inv), inv
        # De-register: the binding goes.
        app = run_sipp("app_register.xml", LO, APP, remote=LO, remote_port=PBX, netns=ns,
                       workdir=work, service="alice",
                       sets={"challenge": 0, "no_fc": 1, "hdr1": PATH, "expires": 0})
        assert app.ok, str(app)
        assert k.contacts("alice") == []


def test_kamailio_lookup_without_path_and_with_auth_over_ipv6(ns, work):
    with Kamailio("registrar.cfg", listen=["udp:%s:%d" % (LO, PBX), "udp:[::1]:%d" % PBX],
                  netns=ns, workdir=work, defines=["WITH_AUTH", 'AUTH_PASSWORD="secret"']) as k:
        # With -A WITH_AUTH it challenges, and sipp's digest passes. The app
        # registers over IPv6 (LISTEN2), the PBX calls over IPv4.
        app = run_sipp("app_register.xml", "::1", APP, remote="::1", remote_port=PBX, netns=ns,
                       workdir=work, service="alice", sets={"no_fc": 1}, extra=CREDS)
        assert app.ok, sippkit.explain(app, k.log())
        assert "SIP/2.0 401 Unauthorized" in app.messages
        (c,) = k.contacts("alice")
        assert c["Address"] == "sip:alice@[::1]:5070" + PN and c["Path"] == "[not set]", c
        with Sipp("app_call_uas.xml", "::1", APP, netns=ns, workdir=work,
                  sets={"keep_pn": 1}) as appc:
            pbx = run_sipp("pbx_call_uac.xml", LO, PBX_UAC, remote=LO, remote_port=PBX,
                           netns=ns, workdir=work, service="alice",
                           sets={"ruri": "sip:alice@127.0.0.1"})
            if not pbx.ok:
                appc.stop()
        assert appc.result.ok and pbx.ok, sippkit.explain(appc.result, pbx, k.log())
        head = appc.result.messages.split("\r\n\r\n")[0]
        assert "INVITE sip:alice@[::1]:5070%s SIP/2.0" % PN in head, head
        assert "\r\nRoute:" not in head, head


def test_kamailio_stateless_forwarder(ns, work):
    with Kamailio("stateless.cfg", listen="udp:%s:%d" % (LO, PBX), netns=ns, workdir=work,
                  defines=['DST="sip:%s:%d"' % (LO, APP)],
                  extra=["-x", "tlsf", "-X", "tlsf", "-b", "8388608"]) as k:
        with Sipp("app_ping_uas.xml", LO, APP, netns=ns, workdir=work, calls=1) as app:
            r = run_sipp("options.xml", LO, 5071, remote=LO, remote_port=PBX, netns=ns,
                         workdir=work, timeout=10)
        assert r.ok and app.result.ok, sippkit.explain(r, app.result, k.log())
        # Forwarded with Kamailio's Via on top of sipp's.
        assert re.search(r"OPTIONS .*\r\nVia: SIP/2\.0/UDP 127\.0\.0\.1(:5060)?;branch=[^\r]*\r\n"
                         r"Via: SIP/2\.0/UDP 127\.0\.0\.1:5071", app.result.messages), \
            app.result.messages
        # A scanner's User-Agent is dropped without an answer.
        scan = subprocess.run(sippkit._ns(ns) + [
            "/usr/bin/python3", "-c",
            "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
            "s.settimeout(1);s.sendto(b'OPTIONS sip:x@127.0.0.1 SIP/2.0\\r\\nVia: SIP/2.0/UDP "
            "127.0.0.1:5072;branch=z9hG4bK-s\\r\\nFrom: <sip:a@b>;tag=1\\r\\nTo: <sip:x@y>\\r\\n"
            "Call-ID: scan\\r\\nCSeq: 1 OPTIONS\\r\\nMax-Forwards: 70\\r\\nUser-Agent: "
            "friendly-scanner\\r\\nContent-Length: 0\\r\\n\\r\\n',('127.0.0.1',%d))\n"
            "try:\n print(s.recv(999))\nexcept socket.timeout:\n print('silence')" % PBX],
            text=True, stdout=subprocess.PIPE, timeout=10).stdout
        assert scan.strip() == "silence", scan
