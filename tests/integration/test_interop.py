# SPDX-License-Identifier: BSD-3-Clause
"""What real clients trip on, through a running sipwake (docs/design.md §1.2
and §5): the Request-URI an app gets, and answers from a UA that copies the
Via header fields of a request into its response as one run of lines.

- An alive app called at its AOR gets the INVITE (worker path) with its
  registered contact as Request-URI, push parameters out, as a woken app
  does (wake path): apps that check the Request-URI against their own
  contact refuse anything else.
- A UA that copies the run of Via lines starting at the first one (some
  softphones, sipp scenarios written that way) gets sipwake's Via and the
  PBX's as one run: its 180, 200 and 487 reach the PBX with the PBX's Via,
  on the worker path (alive app) and the wake path (woken app). Before,
  Record-Route sat between the two and such a UA answered with sipwake's
  Via alone: the worker dropped the answer (fwd_bad_via) and the wake path
  relayed it with no Via left.

Byte-level peers (wakekit.py); every wait is bounded."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wakekit import *  # noqa: E402,F401,F403 (the shared steps and peers)

interop_lab = lab_fixture("i", PING_WAKE)

VIA_NAMES = ("via", "v")


def via_block(req):
    """The Via lines of @req as a UA that copies them as a block takes them:
    the first Via line (with its folds) and those right after it, up to the
    first other header field."""
    lines = req.text.partition("\r\n\r\n")[0].split("\r\n")[1:]
    out, started = [], False
    for ln in lines:
        if ln[:1] in (" ", "\t"):
            if started:
                out.append(ln)
            continue
        is_via = ln.partition(":")[0].strip().lower() in VIA_NAMES
        if started and not is_via:
            break
        if is_via:
            started = True
            out.append(ln)
    return out


def block_reply(req, code, reason, tag=None, body="", contact=None):
    """reply() as that UA writes it: the Via block copied as it is."""
    to = req.get("To")
    if tag and ";tag=" not in to:
        to += ";tag=" + tag
    h = via_block(req)
    if req.method == "INVITE" and 100 < code < 300:
        h += ["Record-Route: " + r for r in req.all("Record-Route")]
    h += ["From: " + req.get("From"), "To: " + to, "Call-ID: " + req.call_id,
          "CSeq: " + req.get("CSeq")]
    if contact:
        h.append("Contact: <%s>" % contact)
    if body:
        h.append("Content-Type: application/sdp")
    return build("SIP/2.0 %d %s" % (code, reason), h, body)


def check_one_run(inv, call):
    """sipwake's Via and the PBX's are the first two Via lines and nothing
    is between them; our Record-Route comes after them."""
    block = [plain_via(ln.partition(":")[2].strip()) for ln in via_block(inv)]
    assert len(block) == 2 and block[1] == call.via, inv
    assert re.match(r"SIP/2\.0/UDP 198\.18\.0\.1:5060;branch=z9hG4bK-sw", block[0]), inv
    names = [k for k, _ in inv.hdrs]
    assert names.index("record-route") > names.index("via") + 1, inv


def ring_answer_block(ctx, app, inv, call):
    """The block-copying app rings and answers; both reach the PBX with its
    own Via (and nothing else) on top; then the dialog ends normally."""
    contact = app_contact(app, inv)
    app.send(block_reply(inv, 180, "Ringing", tag="blk", contact=contact))
    ringing = ctx.pbx.expect(is_resp(180, call.cid), 2.0, "the block-copier's 180")
    assert vias(ringing) == [call.via], ringing
    app.send(block_reply(inv, 200, "OK", tag="blk", contact=contact, body=SDP_APP))
    ok = ctx.pbx.expect(is_resp(200, call.cid, "INVITE"), 2.0, "the block-copier's 200")
    assert vias(ok) == [call.via] and ok.body == SDP_APP, ok
    assert [r for r in ok.all("Record-Route") if rr_ours(r)], ok
    hang_up(ctx, app, call, ok)


class TestInterop:
    def test_alive_app_called_at_its_aor_gets_its_contact(self, interop_lab):
        ctx = interop_lab
        dev, app = Device("pia"), ctx.app()
        ctx.register(app, dev)
        d = Delta(ctx.lab)
        call = Call("sip:%s" % dev.aor, dev.user)
        ctx.pbx.send(call.invite)
        inv = app.expect(is_req("INVITE", call.cid), 1.0, "the INVITE at once")
        assert re.match(r"SIP/2\.0/UDP 198\.18\.0\.1:5060;branch=z9hG4bK-swS",
                        inv.get("Via")), inv  # the worker's, not the wake path's
        # Its registered contact, push parameters out: what a woken app gets.
        assert inv.ruri == dev.contact(app.ip, app.port, pn=False), inv
        check_one_run(inv, call)
        ring_and_answer(ctx, app, inv, call)
        assert d.wake() == {}, d.wake()

    def test_block_copier_alive_app_answers(self, interop_lab):
        ctx = interop_lab
        dev, app = Device("quin"), ctx.app()
        ctx.register(app, dev)
        d = Delta(ctx.lab)
        call = Call(dev.contact(app.ip, app.port), dev.user)
        ctx.pbx.send(call.invite)
        inv = app.expect(is_req("INVITE", call.cid), 1.0, "the INVITE at once")
        ring_answer_block(ctx, app, inv, call)
        check_one_run(inv, call)
        st = d()
        assert st.get("drop_fwd_bad_via", 0) == 0, st

    def test_block_copier_alive_app_cancelled_its_487_gets_back(self, interop_lab):
        ctx = interop_lab
        dev, app = Device("rua"), ctx.app()
        ctx.register(app, dev)
        d = Delta(ctx.lab)
        call = Call("sip:%s" % dev.aor, dev.user)
        ctx.pbx.send(call.invite)
        inv = app.expect(is_req("INVITE", call.cid), 1.0, "the INVITE at once")
        app.send(block_reply(inv, 180, "Ringing", tag="blk"))
        ctx.pbx.expect(is_resp(180, call.cid), 2.0, "the block-copier's 180")
        ctx.pbx.send(call.cancel())
        can = app.expect(is_req("CANCEL", call.cid), 2.0, "the PBX's CANCEL")
        # §9.1: the CANCEL's Request-URI is the INVITE's, retargeted alike.
        assert can.ruri == inv.ruri and can.branch() == inv.branch(), can
        app.send(block_reply(can, 200, "OK", tag="blk"))
        ctx.pbx.expect(is_resp(200, call.cid, "CANCEL"), 2.0, "200 to the CANCEL")
        app.send(block_reply(inv, 487, "Request Terminated", tag="blk"))
        r487 = ctx.pbx.expect(is_resp(487, call.cid), 2.0, "the block-copier's 487")
        assert vias(r487) == [call.via], r487
        ctx.pbx.send(call.ack_final(r487))
        ack = app.expect(is_req("ACK", call.cid), 2.0, "the PBX's ACK for the 487")
        assert ack.ruri == inv.ruri and ack.branch() == inv.branch(), ack
        st = d()
        assert st.get("drop_fwd_bad_via", 0) == 0, st

    def test_block_copier_woken_app_answers(self, interop_lab):
        ctx = interop_lab
        dev, old = Device("sol"), ctx.app()
        ctx.asleep((old, dev))
        d, mark = Delta(ctx.lab), ctx.push.mark()
        call = Call("sip:%s" % dev.aor, dev.user)
        call_in(ctx, call)
        ctx.push.wait_req(dev.token, start=mark)
        new = ctx.app()
        ctx.register(new, dev)
        inv = new.expect(is_req("INVITE", call.cid), 2.0, "the INVITE to the woken app")
        check_forwarded(inv, call, new, dev)
        ring_answer_block(ctx, new, inv, call)
        check_one_run(inv, call)
        d.no_held()
        w = d.wake()
        assert w.get("wake_woken") == 1 and w.get("wake_answered") == 1, w
