# SPDX-License-Identifier: BSD-3-Clause
"""Pre-expiry refresh pushes (RFC 8599 §5.6.1.1; docs/design.md §1.3 and §7
"Push kinds") and dead push tokens (docs/design.md §1 step 7), end to end:
apps register through sipwake with the PBX granting short expiries, and the
real pushd talks HTTP/2 + TLS to pd_testsrv (tests/integration/pushsrv.py)
inside sipwake's namespace.

wake.refresh_before_s = 10: a registration granted 12 s is pushed at half its
lifetime (6 s before expiry: the floor that keeps a short grant from turning
into a push and a REGISTER every second), one granted 20 s 10 s before.

Apps give two tokens, as iOS apps do (RFC 8599 as Linphone writes it):
the refresh push goes to the regular token, never to the VoIP one, and the
test server answers DeviceTokenNotForTopic if it did.
"""
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
sys.path.insert(0, HERE)
import pushsrv  # noqa: E402
import swlab  # noqa: E402
from sippeer import TOPIC, peer_py  # noqa: E402
from waits import wait_for  # noqa: E402

REFRESH_BEFORE_S = 10


def token(n):
    return "%064x" % (0xfeed0000 + n)


def voip_of(tok):
    """The app's VoIP (PushKit) token, next to its regular token @tok."""
    return "%064x" % (int(tok, 16) + 0x1000)


# One accepted REGISTER: the PBX grants @granted s to the app's contact.
REG = """
app = P.Peer(P.APP4, {port}); pbx = P.Peer(P.PBX4, 5060)
msg = P.register(app, user={user!r}, cseq={cseq}, branch={branch!r}, instance={inst!r},
                 contact={contact!r}, expires=600)
if {pnsreg}:
    msg = msg.replace(";expires=600", ";+sip.pnsreg;expires=600")
app.send(msg)
req, src = pbx.recv()
cs = [c.split(";expires=")[0] + ";expires={granted}" for c in P.headers(req, "Contact")]
pbx.send(P.answer(req, 200, "OK", contacts=cs), src[0], src[1])
got, _ = app.recv()
P.emit({{"app_got": got}})
"""


def register(lab, user, port, tok=None, granted=12, cseq=1, pnsreg=False, inst=None,
             voip_only=False):
    """Register @user from 198.18.0.2:@port with regular token @tok and its
    VoIP token (None: no push address; @voip_only: the VoIP token alone);
    returns the 2xx the app got."""
    base = TOPIC[:-len(".voip")]
    if tok is None:
        contact = "sip:%s@198.18.0.2:%d" % (user, port)
    elif voip_only:
        contact = ("sip:%s@198.18.0.2:%d;pn-provider=apns;pn-prid=%s;pn-param=%s"
                   % (user, port, voip_of(tok), TOPIC))
    else:
        contact = ("sip:%s@198.18.0.2:%d;pn-provider=apns;pn-prid=%s:remote&%s:voip;"
                   "pn-param=%s.remote&voip" % (user, port, tok, voip_of(tok), base))
    r = peer_py(lab, REG.format(user=user, port=port, cseq=cseq, inst=inst, contact=contact,
                                granted=granted, pnsreg=pnsreg,
                                branch="z9hG4bK-%s-%d" % (user, cseq)))
    assert r["app_got"].startswith("SIP/2.0 200 "), r
    return r["app_got"]


@pytest.fixture(scope="module")
def env():
    lab = swlab.Lab(name="swr%d" % (os.getpid() % 10000),
                    bindings_extra="ping_interval_s = 0;",
                    config_extra="wake: { refresh_before_s = %d; };\n" % REFRESH_BEFORE_S)
    ps = pushsrv.PushServer(lab)
    lab.config_extra += ps.config()
    with lab:
        with ps:
            ps.wait_conn()
            # Which token is which, as APNs knows: a push of the wrong type
            # to either gets 400 DeviceTokenNotForTopic.
            for n in range(1, 10):
                ps.cmd("kind %s regular" % token(n))
                ps.cmd("kind %s voip" % voip_of(token(n)))
            yield lab, ps
            assert lab.stop() == 0, lab.read_log()
        assert ps.returncode == 0


def test_one_background_push_per_registration(env):
    lab, ps = env
    tok = token(1)
    before = lab.stats()["refresh_pushes"]
    t0 = time.monotonic()
    got = register(lab, "rita", 5101, tok, granted=12, pnsreg=True, inst="rita-1")
    # The 2xx promised the refresh, with the lead sipwake uses.
    assert 'Feature-Caps: *;+sip.pns="apns";+sip.pnsreg="%d"' % REFRESH_BEFORE_S in got, got

    req = ps.wait_req(token=tok, timeout=12)
    assert req is not None, lab.read_log()[-3000:]
    waited = time.monotonic() - t0
    # Half the 12 s grant, not refresh_before_s (10) before expiry, i.e. at once.
    assert 4.5 <= waited <= 9, waited
    # A background push to the regular topic, never a VoIP push.
    assert req["type"] == "background" and req["topic"] == "com.example", req
    assert req["prio"] == "5" and req["status"] == 200, req
    assert '"kind":"background"' in req["body"] and '"aor":"sip:rita@example.com"' in req["body"]
    # Once per registration: nothing more until it expires.
    assert ps.wait_req(token=tok, timeout=4) is None
    assert [r["type"] for r in ps.reqs(tok)] == ["background"]
    # The control plane counts a refresh push just after handing it to
    # pushd, so the push can reach the server before the count moves: wait
    # (bounded) for the count to get there, then it must be exactly this.
    wait_for(lambda: lab.stats()["refresh_pushes"] >= before + 1, 3)
    assert lab.stats()["refresh_pushes"] == before + 1

    # The app re-registers (as the push asked): a new registration, a new push.
    t1 = time.monotonic()
    register(lab, "rita", 5101, tok, granted=12, cseq=2, inst="rita-1")
    req = ps.wait_req(token=tok, timeout=12)
    assert req is not None and req["type"] == "background", req
    assert 4.5 <= time.monotonic() - t1 <= 9
    wait_for(lambda: lab.stats()["refresh_pushes"] >= before + 2, 3)
    assert lab.stats()["refresh_pushes"] == before + 2
    assert all(r["type"] == "background" for r in ps.reqs(tok))


def test_device_without_push_address_gets_none(env):
    lab, ps = env
    before, seen = lab.stats()["refresh_pushes"], len(ps.reqs())
    register(lab, "sam", 5102, None, granted=12)
    assert len(lab.devices("sam@example.com")) == 1
    time.sleep(9)  # past half its lifetime and into the last 10 s
    assert lab.stats()["refresh_pushes"] == before
    assert len(ps.reqs()) == seen


def test_dead_regular_token_is_marked_alone_binding_kept(env):
    lab, ps = env
    tok = token(3)
    ps.cmd("set %s 410" % tok)
    before = lab.stats()
    register(lab, "tess", 5103, tok, granted=20)
    dev = lab.devices("tess@example.com")
    assert len(dev) == 1 and dev[0]["push_prid"].startswith(tok[:8]), dev
    assert dev[0]["push_token0_state"] == dev[0]["push_token1_state"] == "live", dev

    req = ps.wait_req(token=tok, timeout=15)
    assert req is not None and req["type"] == "background" and req["status"] == 410, req
    # The result comes back to the control plane: that token is dead, the
    # VoIP token and the binding (contact, source, expiry, id) stay.
    after = wait_for(lambda: [d for d in lab.devices("tess@example.com")
                              if d.get("push_token0_state") == "dead"], 5)
    assert len(after) == 1, lab.devices("tess@example.com")
    d = after[0]
    assert d["push_token1_state"] == "live" and d["wake"] == "yes", d
    assert d["id"] == dev[0]["id"] and d["source"] == dev[0]["source"], (dev, d)
    assert d["contact"] == dev[0]["contact"] and d["expires_in_s"] > 0, d
    assert d["push_prid"] == dev[0]["push_prid"], d
    st = lab.stats()
    assert st["wake_dead_tokens"] == before["wake_dead_tokens"] + 1
    assert st["refresh_pushes"] == before["refresh_pushes"] + 1
    assert "token 0 of tess@example.com" in lab.read_log()
    assert ps.wait_req(token=tok, timeout=2) is None  # dead, no more pushes to it
    assert ps.reqs(voip_of(tok)) == []

    # In the store too: after a restart the token is still dead.
    assert lab.stop() == 0, lab.read_log()
    lab.start()
    d = lab.devices("tess@example.com")
    assert len(d) == 1 and d[0]["contact"] == dev[0]["contact"], d
    assert d[0]["push_token0_state"] == "dead" and d[0]["push_token1_state"] == "live", d


def test_voip_token_alone_gets_no_background_push(env):
    lab, ps = env
    tok = token(5)
    before = lab.stats()
    register(lab, "vic", 5105, tok, granted=12, voip_only=True)
    d = lab.devices("vic@example.com")
    assert d[0]["push_token0"].startswith("voip "), d
    # Past half its lifetime: due, and counted as not sent, never attempted.
    assert wait_for(lambda: lab.stats()["refresh_no_token"] > before["refresh_no_token"], 9)
    assert lab.stats()["refresh_pushes"] == before["refresh_pushes"]
    assert ps.reqs(voip_of(tok)) == [] and ps.reqs(tok) == []


def test_restart_sends_no_second_push(env):
    lab, ps = env
    tok = token(4)
    t0 = time.monotonic()
    register(lab, "uma", 5104, tok, granted=20)
    req = ps.wait_req(token=tok, timeout=15)
    assert req is not None and req["type"] == "background", req
    assert lab.stop() == 0, lab.read_log()
    lab.start()
    d = lab.devices("uma@example.com")
    assert len(d) == 1 and d[0]["push_prid"].startswith(tok[:8]), d
    # Loaded inside its refresh window: it had its push, none again before
    # it expires (20 s after registering).
    assert ps.wait_req(token=tok, timeout=max(0.5, 19 - (time.monotonic() - t0))) is None
    assert len(ps.reqs(tok)) == 1
