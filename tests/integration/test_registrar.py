# SPDX-License-Identifier: BSD-3-Clause
"""The REGISTER relay and the bindings (docs/design.md §1.1): commit only on
the PBX's 2xx with the expiry it granted, Path / Via / Feature-Caps on the
way, the device identity rules, persistence across restarts, failover, the
ban.

The app and the PBX are byte-level UDP peers in the lab's peer namespace
(tests/integration/sippeer.py), so each step checks exact headers; sipp
flows live in test_sipp_flows.py.
"""
import os
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import swlab  # noqa: E402
from sippeer import peer_py  # noqa: E402

UUID1 = "00000000-0000-1000-8000-000000000001"
UUID2 = "00000000-0000-1000-8000-000000000002"


# One REGISTER transaction: the app sends, the PBX answers @code (200 grants
# @granted s to the app's contact), the app receives. Returns what each saw.
REG_ONCE = """
app = P.Peer(P.APP4, {port}); pbx = P.Peer(P.PBX4, 5060)
app.send(P.register(app, user={user!r}, cseq={cseq}, branch={branch!r}, instance={inst!r},
                    expires={expires}, auth={auth}, contact={contact!r}, xpush={xpush!r},
                    star={star}))
req, src = pbx.recv()
if {code} == 200:
    # The registrar lists the contact with the expiry it grants (RFC 3261 §10.3).
    cs = [c.split(";expires=")[0] + ";expires={granted}" for c in P.headers(req, "Contact")]
    cs = [] if {star} or {expires} == 0 else cs
    resp = P.answer(req, 200, "OK", contacts=cs)
elif {code} == 401:
    resp = P.answer(req, 401, "Unauthorized", extra=['WWW-Authenticate: Digest realm="example.com", nonce="n1"'])
else:
    resp = P.answer(req, {code}, "Refused")
pbx.send(resp, src[0], src[1])
got, _ = app.recv()
P.emit({{"pbx_req": req, "pbx_src": src, "app_got": got}})
"""


def reg_once(lab, user="alice", port=5070, cseq=1, code=200, granted=300, inst=UUID1,
             expires=600, auth=False, contact=None, xpush=None, star=False, branch=None):
    return peer_py(lab, REG_ONCE.format(
        user=user, port=port, cseq=cseq, code=code, granted=granted, inst=inst,
        expires=expires, auth=auth, contact=contact, xpush=xpush, star=star,
        branch=branch or "z9hG4bK-%s-%d-%d" % (user, port, cseq)))


@pytest.fixture(scope="module")
def lab():
    with swlab.Lab(name="swg%d" % (os.getpid() % 10000),
                   bindings_extra="ping_interval_s = 0;") as lab:
        yield lab
        assert lab.stop() == 0, lab.read_log()


def test_challenge_then_200_binds_exactly_once(lab):
    r = reg_once(lab, user="alice", code=401)
    req = r["pbx_req"]
    via = [v for v in req.split("\r\n") if v.startswith("Via:")]
    # Our Via on top (a control-plane branch), the app's stamped below it.
    assert via[0].startswith("Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swCr"), via
    assert "received=198.18.0.2" in via[1] and "rport=5070" in via[1], via
    assert "Path: <sip:198.18.0.1:5060;lr>" in req
    assert "Max-Forwards: 69" in req
    assert "pn-provider=apns" in req and "pn-prid=" in req  # relayed to the registrar
    assert r["pbx_src"] == ["198.18.0.1", 5060]
    # The challenge reaches the app untouched, minus our Via; nothing is bound.
    assert r["app_got"].startswith("SIP/2.0 401 ")
    assert "z9hG4bK-swC" not in r["app_got"]
    assert 'WWW-Authenticate: Digest realm="example.com"' in r["app_got"]
    assert lab.devices("alice@example.com") == []

    r = reg_once(lab, user="alice", cseq=2, auth=True, code=200, granted=300)
    assert r["app_got"].startswith("SIP/2.0 200 ")
    assert "z9hG4bK-swC" not in r["app_got"]
    devs = lab.devices("alice@example.com")
    assert len(devs) == 1, devs
    d = devs[0]
    assert d["source"] == "198.18.0.2:5070" and d["state"] == "alive"
    assert 290 <= d["expires_in_s"] <= 300, d  # the PBX's 300, not the app's 600
    assert d["push_provider"] == "apns" and d["push_param"] == "ABCD123456.com.example.voip"
    assert d["push_prid"] == "00fc13ad...1de8f0"  # tokens shown truncated
    assert d["instance"] == "<urn:uuid:%s>" % UUID1
    st = lab.stats()
    assert st["reg_relayed"] >= 2 and st["reg_challenged"] >= 1 and st["reg_2xx"] >= 1


def test_refused_register_changes_nothing(lab):
    r = reg_once(lab, user="carol", code=403)
    assert r["app_got"].startswith("SIP/2.0 403 ")
    assert lab.devices("carol@example.com") == []
    # bob binds, then someone else (another port, same instance) tries to
    # move bob's device and the PBX refuses: bob's binding stays as it was.
    reg_once(lab, user="bob", port=5071, code=200)
    before = lab.devices("bob@example.com")
    assert len(before) == 1 and before[0]["source"] == "198.18.0.2:5071"
    r = reg_once(lab, user="bob", port=5072, cseq=2, code=403)
    assert r["app_got"].startswith("SIP/2.0 403 ")
    after = lab.devices("bob@example.com")
    assert len(after) == 1 and after[0]["source"] == "198.18.0.2:5071", after
    assert after[0]["id"] == before[0]["id"]


def test_new_source_updates_the_same_device_and_two_devices_are_two(lab):
    reg_once(lab, user="dave", port=5073, code=200)
    first = lab.devices("dave@example.com")
    reg_once(lab, user="dave", port=5074, cseq=2, code=200)  # same instance, new port
    devs = lab.devices("dave@example.com")
    assert len(devs) == 1 and devs[0]["id"] == first[0]["id"], devs
    assert devs[0]["source"] == "198.18.0.2:5074"
    reg_once(lab, user="dave", port=5075, cseq=3, inst=UUID2, code=200)  # a second phone
    assert len(lab.devices("dave@example.com")) == 2


def test_silent_pbx_gives_the_app_408(lab):
    before = lab.stats()["reg_timeouts"]
    r = peer_py(lab, """
app = P.Peer(P.APP4, 5096); pbx = P.Peer(P.PBX4, 5060)
app.send(P.register(app, user="pia", branch="z9hG4bK-pia-1"))
req, _ = pbx.recv()          # reached the only server, which never answers
got, src = app.recv(timeout=5)
P.emit({"got": got, "src": src})
""")
    # pbx.timeout_ms (2 s) on the last server: 408 from sipwake itself,
    # built from the relayed request without sipwake's own Via.
    got = r["got"]
    assert got.startswith("SIP/2.0 408 Request Timeout\r\n"), got
    assert "z9hG4bK-swC" not in got and "branch=z9hG4bK-pia-1" in got
    assert "Call-ID: reg-1@app" in got and ";tag=sw" in got
    assert r["src"] == ["198.18.0.1", 5060]
    assert lab.stats()["reg_timeouts"] == before + 1
    assert lab.devices("pia@example.com") == []


BAD_REG = """
app = P.Peer(P.APP4, 5097); pbx = P.Peer(P.PBX4, 5060)
out = []
bad = [
    # a push token with a broken %-escape
    P.register(app, user="quinn", branch="z9hG4bK-q1",
               contact="sip:quinn@198.18.0.2:5097;pn-provider=apns;pn-prid=ab%%zz;pn-param=x"),
    # an AOR without a user part
    P.register(app, user="quinn", branch="z9hG4bK-q2").replace(
        "To: <sip:quinn@example.com>", "To: <sip:example.com>"),
    # a contact longer than a binding keeps (1024)
    P.register(app, user="quinn", branch="z9hG4bK-q3",
               contact="sip:quinn@198.18.0.2:5097;x=" + "a" * 1100),
    # malformed: a broken %%-escape in the contact (the scanner's, no answer)
    P.register(app, user="quinn", branch="z9hG4bK-q4",
               contact="sip:quinn@198.18.0.2:5097;pn-provider=apns;pn-prid=ab%%zz;pn-param=x"),
]
for b in bad:
    app.send(b)
    got = app.recv_none(1.0)
    out.append(P.status(got) if got else None)
P.emit({"codes": out, "relayed": pbx.recv_none(0.5)})
"""


def test_registers_sipwake_cannot_keep_are_refused(lab):
    before = lab.stats()
    r = peer_py(lab, BAD_REG)
    # Well-formed but unkeepable: 400 from sipwake itself, counted, never
    # relayed. Malformed: dropped by the worker's scanner, counted, silent.
    assert r["codes"] == [None, 400, 400, None] and r["relayed"] is None, r
    after = lab.stats()
    assert after["drop_reg_bad"] == before["drop_reg_bad"] + 2
    assert after["drop_sip_bad_contact"] == before["drop_sip_bad_contact"] + 2
    assert lab.devices("quinn@example.com") == []


def test_stray_answers_from_the_pbx_are_dropped(lab):
    before = lab.stats()["drop_reg_stray_response"]
    r = peer_py(lab, """
app = P.Peer(P.APP4, 5098); pbx = P.Peer(P.PBX4, 5060)
# A 200 naming a transaction of ours that does not exist (late or forged),
# then one whose branch is not even hex.
for br in ("z9hG4bK-swCr00000fff00000001", "z9hG4bK-swCrzz"):
    pbx.send("SIP/2.0 200 OK\\r\\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=%s\\r\\n"
             "Via: SIP/2.0/UDP 198.18.0.2:5098;branch=z9hG4bK-x\\r\\n"
             "From: <sip:x@example.com>;tag=a\\r\\nTo: <sip:x@example.com>;tag=b\\r\\n"
             "Call-ID: stray@x\\r\\nCSeq: 1 REGISTER\\r\\n"
             "Contact: <sip:x@198.18.0.2:5098>;expires=300\\r\\nContent-Length: 0\\r\\n\\r\\n" % br)
P.emit({"app_got": app.recv_none(1.0)})
""")
    assert r["app_got"] is None
    assert lab.stats()["drop_reg_stray_response"] == before + 2
    assert lab.devices("x@example.com") == []


def test_expired_bindings_go(lab):
    before = lab.stats()["bindings_expired"]
    reg_once(lab, user="olga", port=5095, code=200, granted=1)
    assert len(lab.devices("olga@example.com")) == 1
    time.sleep(2.5)  # the control plane sweeps once a second
    assert lab.devices("olga@example.com") == []
    assert lab.stats()["bindings_expired"] == before + 1


def test_deregister_removes(lab):
    reg_once(lab, user="erin", port=5076, code=200)
    assert len(lab.devices("erin@example.com")) == 1
    r = reg_once(lab, user="erin", port=5076, cseq=2, expires=0, code=200)
    assert r["app_got"].startswith("SIP/2.0 200 ")
    assert lab.devices("erin@example.com") == []
    reg_once(lab, user="erin", port=5076, cseq=3, code=200)
    reg_once(lab, user="erin", port=5076, cseq=4, star=True, code=200)
    assert lab.devices("erin@example.com") == []


def test_push_forms_make_the_same_binding(lab):
    from sippeer import TOKEN, TOPIC  # noqa: F401 (same values the peer uses)
    reg_once(lab, user="f1", port=5077, code=200, inst=None)
    reg_once(lab, user="f2", port=5078, code=200, inst=None,
             contact="sip:f2@198.18.0.2:5078;pn-type=apple;pn-tok=%s;app-id=%s" % (TOKEN, TOPIC))
    reg_once(lab, user="f3", port=5079, code=200, inst=None, contact="sip:f3@198.18.0.2:5079",
             xpush="device-os=ios;device-uid=%s;allow-call-push=true;app-id=%s" % (TOKEN, TOPIC))
    push = []
    for u in ("f1", "f2", "f3"):
        d = lab.devices(u + "@example.com")
        assert len(d) == 1, (u, d)
        push.append((d[0]["push_provider"], d[0]["push_prid"], d[0]["push_param"]))
    assert push[0] == push[1] == push[2] == ("apns", "00fc13ad...1de8f0", TOPIC), push


def restart(lab, sig):
    """Stop sipwake with @sig (SIGKILL: no clean shutdown at all) and start
    it again on the same config and store."""
    if sig == signal.SIGKILL:
        lab.proc.send_signal(sig)
        lab.proc.wait(15)
    else:
        assert lab.stop(sig) == 0, lab.read_log()
    lab.start()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_bindings_survive_a_restart(lab, sig):
    user = "lena%d" % sig
    r = reg_once(lab, user=user, port=5090 + sig % 5, code=200)
    # kill -9 right after the app received its 200: the binding was durable
    # before the 200 left (docs/design.md §7, "Durability").
    assert r["app_got"].startswith("SIP/2.0 200 ")
    before = lab.devices(user + "@example.com")
    restart(lab, sig)
    after = lab.devices(user + "@example.com")
    assert len(after) == 1, (before, after, lab.read_log()[-2000:])
    for k in ("contact", "instance", "source", "push_provider", "push_prid", "push_param"):
        assert after[0][k] == before[0][k], k
    assert abs(after[0]["expires_in_s"] - before[0]["expires_in_s"]) <= 5
    assert lab.stats()["bindings_loaded"] >= 1
    # Bindings of the earlier tests came back too.
    assert len(lab.devices("dave@example.com")) == 2


@pytest.fixture(scope="module")
def lab2(tmp_path_factory):
    push = swlab.apns_push_config(str(tmp_path_factory.mktemp("key")))
    with swlab.Lab(name="swh%d" % (os.getpid() % 10000), config_extra=push,
                   pbx_servers=[swlab.PBX_IP4 + ":5060", swlab.PBX_IP4 + ":5062"],
                   pbx_extra="timeout_ms = 300; check_interval_s = 1; auth_ban_failures = 3; "
                             "auth_ban_s = 600;",
                   bindings_extra="ping_interval_s = 1; alive_window_s = 2; "
                                  "max_devices = 16;") as lab:
        yield lab
        assert lab.stop() == 0, lab.read_log()


PONG = """
import time
app = P.Peer(P.APP4, 5084)
pings, end = 0, time.time() + %d
while time.time() < end:
    try:
        req, src = app.recv(timeout=0.5, options=True)
    except Exception:
        continue
    pings += 1
    app.send(P.answer(req, 200, "OK"), src[0], src[1])
P.emit({"pings": pings})
"""


def test_device_that_stops_answering_pings_turns_asleep(lab2):
    reg_once(lab2, user="kim", port=5084, code=200)
    r = peer_py(lab2, PONG % 3)
    assert r["pings"] >= 2, r  # ping_interval_s = 1
    d = lab2.devices("kim@example.com")[0]
    assert d["state"] == "alive", d
    time.sleep(3.5)  # no answers for longer than alive_window_s = 2
    d = lab2.devices("kim@example.com")[0]
    assert d["state"] == "asleep" and d["last_heard_s_ago"] >= 2, d
    b = lab2.telemetry("/sipwake/bindings")
    assert b["asleep"] >= 1 and b["count"] == b["alive"] + b["asleep"]
    st = lab2.stats()
    assert st["pings_sent"] >= 2 and st["pongs"] >= 2


def test_feature_caps_to_the_pbx_and_in_the_2xx(lab2):
    r = reg_once(lab2, user="gina", port=5080, code=200)
    assert 'Feature-Caps: *;+sip.pns="apns"' in r["pbx_req"], r["pbx_req"]
    # RFC 8599 §5.6.1.1: the app reads the push services in the 2xx.
    assert 'Feature-Caps: *;+sip.pns="apns"' in r["app_got"], r["app_got"]
    assert len(lab2.devices("gina@example.com")) == 1


FAILOVER = """
app = P.Peer(P.APP4, 5081); pbx1 = P.Peer(P.PBX4, 5060); pbx2 = P.Peer(P.PBX4, 5062)
app.send(P.register(app, user="hank", branch="z9hG4bK-hank-1"))
first, _ = pbx1.recv()            # the first server stays silent
req, src = pbx2.recv(timeout=3)   # after pbx.timeout_ms the same REGISTER goes to the second
cs = [c.split(";expires=")[0] + ";expires=120" for c in P.headers(req, "Contact")]
pbx2.send(P.answer(req, 200, "OK", contacts=cs), src[0], src[1])
got, _ = app.recv()
# The next REGISTER goes straight to the second server.
app.send(P.register(app, user="hank", cseq=2, branch="z9hG4bK-hank-2"))
req2, src2 = pbx2.recv(timeout=2)
# Nothing new for the first server. A retransmission of the first
# transaction (Timer E, T1 = 500 ms) sent before the failover (300 ms, later
# on a slow sanitizer build) may still sit in its socket: not counted.
top = lambda m: P.headers(m, "Via")[0]
again = pbx1.recv_none(0.2)
while again is not None and top(again) == top(first):
    again = pbx1.recv_none(0.2)
pbx2.send(P.answer(req2, 200, "OK", contacts=cs), src2[0], src2[1])
app.recv()
# The first server answers its next health check: REGISTERs go back to it.
hc, hsrc = pbx1.recv(timeout=3, options=True)
pbx1.send(P.answer(hc, 200, "OK"), hsrc[0], hsrc[1])
import time; time.sleep(0.3)
app.send(P.register(app, user="hank", cseq=3, branch="z9hG4bK-hank-3"))
req3, src3 = pbx1.recv(timeout=2)
pbx1.send(P.answer(req3, 200, "OK", contacts=cs), src3[0], src3[1])
app.recv()
P.emit({"first": first, "req": req, "got": got, "req2": req2, "pbx1_again": again,
        "hc": hc, "req3": req3})
"""


def test_failover_to_the_second_pbx(lab2):
    before = lab2.stats()["pbx_failovers"]
    r = peer_py(lab2, FAILOVER)
    # The same transaction (same branch of ours) moved to the next server.
    b1 = [v for v in r["first"].split("\r\n") if v.startswith("Via:")][0]
    b2 = [v for v in r["req"].split("\r\n") if v.startswith("Via:")][0]
    assert b1 == b2 and "z9hG4bK-swCr" in b1
    assert r["got"].startswith("SIP/2.0 200 ")
    assert r["req2"].startswith("REGISTER ") and r["pbx1_again"] is None
    assert "z9hG4bK-swCh" in r["hc"] and r["req3"].startswith("REGISTER ")
    st = lab2.stats()
    assert st["pbx_failovers"] == before + 1 and st["pbx_checks_answered"] >= 1
    d = lab2.devices("hank@example.com")
    assert len(d) == 1 and 110 <= d[0]["expires_in_s"] <= 120, d


BAN = """
app = P.Peer(%r, 5082); pbx = P.Peer(P.PBX4, 5062)
codes = []
for i in range(3):
    app.send(P.register(app, user="ivan", cseq=i + 1, branch="z9hG4bK-ivan-%%d" %% i, auth=True))
    req, src = pbx.recv(timeout=3)
    pbx.send(P.answer(req, 403, "Forbidden"), src[0], src[1])
    codes.append(P.status(app.recv()[0]))
app.send(P.register(app, user="ivan", cseq=9, branch="z9hG4bK-ivan-9", auth=True))
P.emit({"codes": codes, "relayed_after_ban": pbx.recv_none(1.0) is not None})
"""


def test_failing_authentication_bans_the_source(lab2):
    # From the peer's third address: the ban must not touch the other tests' source.
    r = peer_py(lab2, BAN % swlab.GW_IP4)
    assert r["codes"] == [403, 403, 403]
    assert r["relayed_after_ban"] is False
    st = lab2.stats()
    # The fourth REGISTER died in the dataplane filter, before any scan.
    assert st["auth_bans"] == 1 and st["drop_filter_banned"] >= 1, st
    # Other sources still register.
    assert reg_once(lab2, user="judy", port=5083, code=200)["app_got"].startswith("SIP/2.0 200")


def test_full_table_refuses_new_devices_keeps_the_rest(lab2):
    """Last in this module: it fills lab2's table (bindings.max_devices = 16)."""
    b = lab2.telemetry("/sipwake/bindings")
    assert b["max"] == 16
    for i in range(16 - b["count"]):
        r = reg_once(lab2, user="z%d" % i, port=5100 + i, code=200, inst="0000-%d" % i)
        assert r["app_got"].startswith("SIP/2.0 200 "), r
    assert lab2.telemetry("/sipwake/bindings")["count"] == 16
    before = lab2.stats()["drop_reg_table_full"]
    r = peer_py(lab2, """
app = P.Peer(P.APP4, 5099); pbx = P.Peer(P.PBX4, 5060)
app.send(P.register(app, user="late", branch="z9hG4bK-late", instance="late-1"))
P.emit({"got": app.recv()[0], "pbx_saw": pbx.recv_none(0.5)})
""")
    # Refused at the edge with 503, never relayed; the bound devices stay.
    assert r["got"].startswith("SIP/2.0 503 ") and r["pbx_saw"] is None, r
    assert lab2.stats()["drop_reg_table_full"] == before + 1
    assert lab2.telemetry("/sipwake/bindings")["count"] == 16
    # A bound device can still refresh.
    r = reg_once(lab2, user="z0", port=5100, cseq=2, code=200, inst="0000-0")
    assert r["app_got"].startswith("SIP/2.0 200 ")
