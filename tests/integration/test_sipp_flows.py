# SPDX-License-Identifier: BSD-3-Clause
"""Real SIP peers through sipwake: sipp as the app and as the PBX,
and Kamailio from Debian as the registrar, a registrar nobody here wrote,
which checks Path and keeps the pn-* contact.

The scenarios' own checks (tests/integration/sipp/README.md) fail a run when
sipwake's headers are missing: Path and Feature-Caps toward the PBX,
Feature-Caps (and +sip.pnsreg) in the 2xx, the granted expiry.
"""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import sippkit  # noqa: E402
import swlab  # noqa: E402

TOKEN = "4bfcb19a7aa50e1fbbb53cc267730f53aa7c4d76554f774f4401859abaae3036"

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "kamailio"], capture_output=True).returncode != 0,
    reason="kamailio not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    push = swlab.apns_push_config(str(tmp_path_factory.mktemp("key")))
    with swlab.Lab(name="sws%d" % (os.getpid() % 10000), config_extra=push,
                   # sipp's PBX scenarios expect REGISTERs only: no health checks.
                   pbx_extra="check_interval_s = 3600;",
                   bindings_extra="ping_interval_s = 0;") as lab:
        yield lab
        assert lab.stop() == 0, lab.read_log()


def register(lab, user, port, pbx_sets=None, app_sets=None, pbx="pbx_registrar.xml"):
    """One app REGISTER through sipwake against a sipp PBX; both results."""
    with sippkit.lab_sipp(lab, pbx, swlab.PBX_IP4, 5060, sets=pbx_sets or {},
                          timeout=20) as uas:
        uac = sippkit.lab_run_sipp(lab, "app_register.xml", swlab.PEER_IP4, port,
                                   remote=swlab.SW_IP4, service=user, timeout=20,
                                   sets=app_sets or {},
                                   extra=["-au", user, "-ap", "secret",
                                          "-recv_timeout", "5000"])
        res = uas.wait()
    return uac, res


@pytest.mark.parametrize("form,port", [("rfc8599", 5110), ("legacy", 5111), ("xpush", 5112)])
def test_sipp_app_registers_through_sipwake(lab, form, port):
    user = "s" + form
    uac, uas = register(lab, user, port, pbx_sets={"form": form},
                        app_sets={"form": form, "expect_expires": 300})
    assert uac.ok, str(uac)
    assert uas.ok, str(uas)  # the PBX saw Path, Feature-Caps and the push address
    devs = lab.devices("%s@%s" % (user, swlab.SW_IP4))
    assert len(devs) == 1, devs
    d = devs[0]
    assert d["source"] == "%s:%d" % (swlab.PEER_IP4, port)
    assert 290 <= d["expires_in_s"] <= 300, d  # granted 300, asked 600
    assert d["push_provider"] == "apns" and d["push_prid"] == TOKEN[:8] + "..." + TOKEN[-6:]


def test_sipp_pnsreg_is_answered(lab):
    uac, uas = register(lab, "spnsreg", 5113, app_sets={"pnsreg": 1})
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)


def test_sipp_refused_register_binds_nothing(lab):
    uac, uas = register(lab, "s403", 5114, pbx="pbx_register_403.xml",
                        app_sets={"final": 403})
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    assert lab.devices("s403@%s" % swlab.SW_IP4) == []


def test_kamailio_registrar_keeps_path_and_the_push_contact(lab):
    kam = sippkit.Kamailio(listen="udp:%s:5060" % swlab.PBX_IP4, netns=lab.ns_peer,
                           workdir=lab.tmp)
    with kam:
        # Kamailio does not challenge here (registrar.cfg without WITH_AUTH)
        # nor send Feature-Caps: only sipwake's are checked.
        uac = sippkit.lab_run_sipp(lab, "app_register.xml", swlab.PEER_IP4, 5115,
                                   remote=swlab.SW_IP4, service="kam1", timeout=20,
                                   sets={"challenge": 0},
                                   extra=["-recv_timeout", "5000"])
        assert uac.ok, sippkit.explain(uac, kam.log())
        aor = "kam1@%s" % swlab.SW_IP4
        cs = kam.contacts("kam1")  # usrloc keys by user (use_domain off)
        assert len(cs) == 1, (cs, kam.log())
        assert "<sip:%s:5060;lr>" % swlab.SW_IP4 in cs[0].get("Path", ""), cs
        assert "pn-prid=" + TOKEN in cs[0].get("Address", ""), cs
        devs = lab.devices(aor)
        assert len(devs) == 1 and devs[0]["push_provider"] == "apns", devs
        exp = int(cs[0].get("Expires", "0"))
        assert abs(devs[0]["expires_in_s"] - exp) <= 5, (devs, cs)


def contact_of(user, port):
    return ("sip:%s@%s:%d;pn-provider=apns;pn-prid=%s;pn-param=ABCD123456.com.example.voip"
            % (user, swlab.PEER_IP4, port, TOKEN))


def test_call_to_an_alive_app_and_from_it(lab):
    user, port = "scall", 5120
    uac, uas = register(lab, user, port, app_sets={"expect_expires": 300})
    assert uac.ok and uas.ok, sippkit.explain(uac, uas)
    before = lab.stats()
    # The PBX calls the registered contact (pn-* included, RFC 8599 §5.3): the
    # app rings, answers; ACK and BYE follow sipwake's Record-Route. The app's
    # scenario fails the call unless the INVITE has our Record-Route and no
    # pn-* parameter left in its Request-URI.
    with sippkit.lab_sipp(lab, "app_call_uas.xml", swlab.PEER_IP4, port, timeout=20) as app:
        pbx = sippkit.lab_run_sipp(lab, "pbx_call_uac.xml", swlab.PBX_IP4, 5060,
                                   remote=swlab.SW_IP4, service=user, timeout=20,
                                   sets={"ruri": contact_of(user, port)},
                                   extra=["-d", "200", "-recv_timeout", "5000"])
        res = app.wait()
    assert pbx.ok and res.ok, sippkit.explain(
        pbx, res, {k: v for k, v in lab.stats().items()
                   if v and ("drop" in k or "fwd" in k or "480" in k or "up" in k)},
        lab.read_log()[-2000:])
    st = lab.stats()
    # INVITE, ACK, BYE to the device; 180, 200, 200 back: all on the worker.
    assert st["fwd_requests_to_device"] - before["fwd_requests_to_device"] >= 3, st
    assert st["fwd_responses"] - before["fwd_responses"] >= 3, st
    assert st["calls_480"] == before["calls_480"]
    # The app places a call: it reaches the PBX (pbx.servers), Record-Routed.
    with sippkit.lab_sipp(lab, "pbx_call_uas.xml", swlab.PBX_IP4, 5060, timeout=20) as pbx:
        app = sippkit.lab_run_sipp(lab, "app_call_uac.xml", swlab.PEER_IP4, port,
                                   remote=swlab.SW_IP4, service="100", timeout=20,
                                   extra=["-d", "200", "-recv_timeout", "5000"])
        res = pbx.wait()
    assert app.ok and res.ok, sippkit.explain(app, res)
    assert lab.stats()["fwd_requests_to_pbx"] - st["fwd_requests_to_pbx"] >= 3


def test_kamailio_sends_calls_back_through_sipwake(lab):
    user, port = "kam2", 5121
    kam = sippkit.Kamailio(listen="udp:%s:5060" % swlab.PBX_IP4, netns=lab.ns_peer,
                           workdir=lab.tmp)
    with kam:
        uac = sippkit.lab_run_sipp(lab, "app_register.xml", swlab.PEER_IP4, port,
                                   remote=swlab.SW_IP4, service=user, timeout=20,
                                   sets={"challenge": 0}, extra=["-recv_timeout", "5000"])
        assert uac.ok, sippkit.explain(uac, kam.log())
        # A caller asks Kamailio for the AOR: lookup() finds the contact and
        # its Path, so the INVITE goes to sipwake, which finds the device by
        # the pn-* parameters Kamailio kept in the Request-URI.
        with sippkit.lab_sipp(lab, "app_call_uas.xml", swlab.PEER_IP4, port,
                              timeout=20) as app:
            caller = sippkit.lab_run_sipp(
                lab, "pbx_call_uac.xml", swlab.PBX_IP4, 5070, remote=swlab.PBX_IP4,
                service=user, timeout=20,
                sets={"ruri": "sip:%s@%s" % (user, swlab.SW_IP4)},
                extra=["-d", "200", "-recv_timeout", "5000"])
            res = app.wait()
        assert caller.ok and res.ok, sippkit.explain(caller, res, kam.log()[-3000:])
