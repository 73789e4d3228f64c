# SPDX-License-Identifier: BSD-3-Clause
"""A PBX's 2xx to a REGISTER that sipwake cannot take as it is
(docs/design.md §1.1, "What a 2xx grants"): what can be read without
ambiguity is taken, the rest is relayed to the app and refused as a binding,
loudly (a WARNING naming the AOR, `reg_answer_unbound`). Never dropped: an
app that hears 408 while the PBX holds its binding disagrees with it.

sipp plays the app and the PBX (pbx_registrar.xml's `granted` is written
after `;expires=` in the 200's Contact, so `300;expires=300` repeats the
parameter); byte-level peers send the answers sipp cannot shape.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import sippkit  # noqa: E402
import swlab  # noqa: E402
from sippeer import peer_py  # noqa: E402


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    push = swlab.apns_push_config(str(tmp_path_factory.mktemp("key")))
    with swlab.Lab(name="swx%d" % (os.getpid() % 10000), config_extra=push,
                   # sipp's PBX scenarios expect REGISTERs only: no health checks.
                   pbx_extra="check_interval_s = 3600;",
                   bindings_extra="ping_interval_s = 0;") as lab:
        yield lab
        assert lab.stop() == 0, lab.read_log()


def register(lab, user, port, granted, app_sets=None):
    """One app REGISTER through sipwake; the sipp PBX grants @granted."""
    with sippkit.lab_sipp(lab, "pbx_registrar.xml", swlab.PBX_IP4, 5060,
                          sets={"granted": granted, "challenge": 0}, timeout=20) as uas:
        uac = sippkit.lab_run_sipp(lab, "app_register.xml", swlab.PEER_IP4, port,
                                   remote=swlab.SW_IP4, service=user, timeout=20,
                                   sets=dict({"challenge": 0}, **(app_sets or {})),
                                   extra=["-recv_timeout", "5000"])
        res = uas.wait()
    return uac, res


def aor(user):
    return "%s@%s" % (user, swlab.SW_IP4)


def test_repeated_equal_expires_is_taken(lab):
    before = lab.stats()
    uac, uas = register(lab, "xsame", 5130, "300;expires=300",
                        app_sets={"expect_expires": 300})
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    devs = lab.devices(aor("xsame"))
    assert len(devs) == 1, devs
    assert 290 <= devs[0]["expires_in_s"] <= 300, devs
    st = lab.stats()
    assert st["reg_answer_unbound"] == before.get("reg_answer_unbound", 0)
    assert st["bindings_created"] == before["bindings_created"] + 1


def test_repeated_different_expires_takes_the_smallest(lab):
    # A PBX echoing the app's ;expires=600 and adding its own 3600: the
    # binding lasts as long as the shorter reading.
    uac, uas = register(lab, "xdiff", 5131, "600;expires=3600")
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    devs = lab.devices(aor("xdiff"))
    assert len(devs) == 1, devs
    assert 590 <= devs[0]["expires_in_s"] <= 600, devs


def test_unreadable_expires_is_relayed_and_binds_nothing(lab):
    uac, uas = register(lab, "xother", 5132, "300")
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    other = lab.devices(aor("xother"))
    assert len(other) == 1, other
    before = lab.stats()
    # expires=300 then expires=soon: which one the PBX keeps is unknown.
    t0 = time.monotonic()
    # No Feature-Caps in it (no_fc): sipwake promises no push it cannot keep.
    uac, uas = register(lab, "xbad", 5133, "300;expires=soon", app_sets={"no_fc": 1})
    # The app hears the PBX's 200 at once, not a 408 after pbx.timeout_ms.
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    assert time.monotonic() - t0 < 4, "the 200 came late: %s" % sippkit.explain(uac, uas)
    st = lab.stats()
    assert st["reg_answer_unbound"] == before["reg_answer_unbound"] + 1
    assert st["reg_2xx"] == before["reg_2xx"] + 1
    assert st["reg_timeouts"] == before["reg_timeouts"]
    for k in ("bindings_created", "bindings_refreshed", "bindings_removed"):
        assert st[k] == before[k], k
    assert lab.devices(aor("xbad")) == []
    after = lab.devices(aor("xother"))
    assert [(d["id"], d["source"]) for d in after] == [(d["id"], d["source"]) for d in other]
    log = lab.read_log()
    assert "xbad@%s" % swlab.SW_IP4 in log and "not bound" in log, log[-3000:]


def test_unreadable_answer_to_a_refresh_leaves_the_binding(lab):
    uac, uas = register(lab, "xkeep", 5134, "300")
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    first = lab.devices(aor("xkeep"))
    before = lab.stats()
    # reg-id=0 is no reg-id (RFC 5626 §4.1): a Contact list sipwake cannot read.
    uac, uas = register(lab, "xkeep", 5134, "300;reg-id=0", app_sets={"no_fc": 1})
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    st = lab.stats()
    assert st["reg_answer_unbound"] == before["reg_answer_unbound"] + 1
    assert st["bindings_refreshed"] == before["bindings_refreshed"]
    assert st["bindings_removed"] == before["bindings_removed"]
    now = lab.devices(aor("xkeep"))
    assert [d["id"] for d in now] == [d["id"] for d in first], (first, now)


# The PBX answers with the header lines given; the app gets what sipwake relays.
REG_RAW = """
app = P.Peer(P.APP4, {port}); pbx = P.Peer(P.PBX4, 5060)
app.send(P.register(app, user={user!r}, branch="z9hG4bK-{user}", expires=600))
req, src = pbx.recv()
ours = P.headers(req, "Contact")[0].split(";expires=")[0]
lines = [l.replace("OURS", ours) for l in {lines!r}]
pbx.send(P.answer(req, 200, "OK", extra=lines), src[0], src[1])
got, _ = app.recv()
P.emit({{"app_got": got}})
"""


def reg_raw(lab, user, port, lines):
    return peer_py(lab, REG_RAW.format(user=user, port=port, lines=lines))


@pytest.mark.parametrize("user,port,lines,bound", [
    # Listed twice with different expiries: the smallest.
    ("rtwice", 5140, ["Contact: OURS;expires=900, OURS;expires=120"], 120),
    # The Expires header, when the contact has no expires=.
    ("rhdr", 5141, ["Contact: OURS", "Expires: 240"], 240),
    # Two Expires headers that agree: taken.
    ("rhdr2", 5142, ["Contact: OURS", "Expires: 240", "Expires: 240"], 240),
    # A bad Expires header does not matter when the contact says it.
    ("rhdrbad", 5143, ["Contact: OURS;expires=180", "Expires: soon"], 180),
    # No expiry readable anywhere for our contact.
    ("rnone", 5144, ["Contact: OURS", "Expires: soon"], None),
    # Two Expires headers that differ, none in the contact: the smallest.
    ("rhdrdiff", 5145, ["Contact: OURS", "Expires: 240", "Expires: 60"], 60),
    # A Contact list sipwake cannot read: relayed, not bound.
    ("rjunk", 5146, ["Contact: OURS;expires=300, <sip:x@bad host>"], None),
])
def test_byte_level_answers(lab, user, port, lines, bound):
    before = lab.stats()
    r = reg_raw(lab, user, port, lines)
    assert r["app_got"].startswith("SIP/2.0 200 "), r
    # Feature-Caps promises push: only with a binding behind it.
    assert ("Feature-Caps:" in r["app_got"]) == (bound is not None), r
    st = lab.stats()
    devs = lab.devices("%s@example.com" % user)
    if bound is None:
        assert devs == [], devs
        assert st["reg_answer_unbound"] == before["reg_answer_unbound"] + 1
    else:
        assert len(devs) == 1 and bound - 10 <= devs[0]["expires_in_s"] <= bound, devs
        assert st["reg_answer_unbound"] == before["reg_answer_unbound"]
