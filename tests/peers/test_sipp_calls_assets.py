# SPDX-License-Identifier: BSD-3-Clause
"""sipp/pbx_calls_uac.xml, the PBX of tests/integration/test_flood_calls.py,
checked against a bare UAS and against app_call_uas.xml, in the namespace
and with the helpers of test_sipp_assets.py: each call ends as its line of
the injection file says, and fails its check otherwise."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sipp_assets import (APP, LO, PBX, PN, TOKEN, against_uas_final, failed_check,  # noqa: E402,F401,E501
                              ns, pair, sippkit, work)


def pbx_calls(ns, work, final, want, uas_final=True):
    """pbx_calls_uac.xml (one call, its line wanting @want) against
    UAS_FINAL answering @final, or against app_call_uas.xml (uas_final
    False): (caller, what UAS_FINAL got, or None)."""
    inf = os.path.join(work, "calls.csv")
    with open(inf, "w") as f:
        f.write("SEQUENTIAL\nbob;%s;%d;%s;%d\n" % (LO, APP, TOKEN, want))
    extra = ["-inf", inf, "-recv_timeout", "3000"]
    sets = {"pn_param": "ABCD123456.com.example.voip", "domain": "example.com"}
    if not uas_final:
        s, c = pair(ns, work, "app_call_uas.xml", "pbx_calls_uac.xml", uas_port=APP,
                    uac_port=PBX, uas_sets={"no_rr": 1, "keep_pn": 1}, uac_extra=extra[:2],
                    uac_sets=sets, service="bob")
        return c, s
    return against_uas_final(ns, work, "pbx_calls_uac.xml", final, 0.2, sets=sets, extra=extra)


def test_pbx_calls_end_as_their_line_says(ns, work):
    # 480 wanted and given: ACKed hop by hop (the INVITE's Via and URI).
    caller, uas = pbx_calls(ns, work, 480, 480)
    assert caller.ok, str(caller)
    inv, (ack,) = uas["invite"], uas["then"]
    assert inv.startswith("INVITE sip:bob@%s:%d%s SIP/2.0" % (LO, APP, PN)), inv
    assert ack.startswith("ACK %s SIP/2.0\r\n" % inv.split(" ")[1]), ack
    # 200 wanted, 480 given: the call fails on its line's check.
    caller, _ = pbx_calls(ns, work, 480, 200)
    assert failed_check(caller, ""), caller
    # 200 wanted and given by an app (ACK, BYE, 200); 480 wanted, 200 given.
    caller, app = pbx_calls(ns, work, 200, 200, uas_final=False)
    assert caller.ok and app.ok, sippkit.explain(caller, app)
    caller, _ = pbx_calls(ns, work, 200, 480, uas_final=False)
    assert failed_check(caller, ""), caller
