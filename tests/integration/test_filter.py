# SPDX-License-Identifier: BSD-3-Clause
"""The filter on real frames: token buckets for unknown sources (per source
IP and global), stateless 403 / 503 answers when configured, configurable
scanner signatures, and the PBX never metered."""
import os

import pytest

import swlab
from test_skeleton import sip_options
from waits import wait_for

# Small buckets so that a test can empty them: 5 per source, 8 for the box,
# refilled at 1/s (a test takes well under a second per step).
FILTER = """filter: {
    unknown_rate = 1; unknown_burst = 5;
    unknown_global_rate = 1; unknown_global_burst = 8;
    reply_403 = true; reply_503 = true;
    scanner_user_agents = [ "evil-bot" ];
};"""
SRC_A, SRC_B, SRC_C, SRC_D = "198.18.0.21", "198.18.0.22", "198.18.0.23", "198.18.0.24"


@pytest.fixture(scope="module")
def flab():
    with swlab.Lab(name="swf%d" % (os.getpid() % 10000), config_extra=FILTER) as lab:
        for a in (SRC_A, SRC_B, SRC_C, SRC_D):
            lab.peer(["ip", "addr", "add", a + "/24", "dev", lab.if_peer])
        yield lab
        assert lab.stop() == 0, lab.read_log()


def register(src, n, sport):
    return (b"REGISTER sip:example.com SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-rl%d;rport\r\n"
            b"From: <sip:u%d@example.com>;tag=t%d\r\nTo: <sip:u%d@example.com>\r\n"
            b"Call-ID: rl-%d@%s\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
            b"Contact: <sip:u%d@%s:%d>\r\nContent-Length: 0\r\n\r\n") % (
        src.encode(), sport, n, n, n, n, n, src.encode(), n, src.encode(), sport)


def test_buckets_per_source_then_global(flab, delta):
    d = delta(flab)
    # A: 7 REGISTERs; its own bucket lets 5 through (6 if a token refilled).
    flab.udp_send([register(SRC_A, i, 5090) for i in range(7)], src=SRC_A, sport=5090)
    c = wait_for(lambda: (lambda c: c if c["sip_from_unknown"] >= 7 else None)(d()))
    assert c is not None, d()
    a_up = c["sip_handed_up"]
    assert 5 <= a_up <= 6, c
    assert c["drop_filter_rate_source"] == 7 - a_up
    # B has a full bucket of its own, but the box has only 8 - a_up left.
    d = delta(flab)
    flab.udp_send([register(SRC_B, 100 + i, 5091) for i in range(5)], src=SRC_B, sport=5091)
    c = wait_for(lambda: (lambda c: c if c["sip_from_unknown"] >= 5 else None)(d()))
    assert c is not None, d()
    assert c["drop_filter_rate_global"] >= 5 - (8 - a_up) - 1, c
    assert c["sip_handed_up"] + c["drop_filter_rate_global"] == 5, c
    # Each refused request got a stateless 503 (filter.reply_503).
    assert c["sip_503_sent"] == c["drop_filter_rate_global"]


def test_503_answer_and_pbx_not_metered(flab, delta):
    # C empties its bucket; the next REGISTER is answered 503 with Retry-After.
    flab.udp_send([register(SRC_C, 200 + i, 5092) for i in range(6)], src=SRC_C, sport=5092)
    ans = flab.udp_exchange(register(SRC_C, 299, 5093), src=SRC_C, sport=5093)
    assert ans is not None, flab.read_log()
    text = ans.decode()
    assert text.startswith("SIP/2.0 503 Service Unavailable\r\n"), text
    assert "\r\nRetry-After: 10\r\n" in text and "\r\nCall-ID: rl-299@%s\r\n" % SRC_C in text
    # The PBX is never metered: 20 OPTIONS, 20 answers.
    d = delta(flab)
    flab.udp_send([sip_options("sip:%s" % swlab.SW_IP4, call_id="pbx-%d" % i,
                               via_host=swlab.PBX_IP4) for i in range(20)],
                  src=swlab.PBX_IP4, sport=5094)
    c = wait_for(lambda: (lambda c: c if c["sip_options_answered"] >= 20 else None)(d()))
    assert c is not None and c["sip_from_pbx"] == 20, d()


def test_403_for_refused_requests_never_for_ack_or_scanners(flab, delta):
    invite = sip_options("sip:alice@%s" % swlab.SW_IP4, call_id="inv-403",
                         via_host=SRC_D).replace(b"OPTIONS", b"INVITE")
    ans = flab.udp_exchange(invite, src=SRC_D, sport=5095)
    assert ans is not None and ans.startswith(b"SIP/2.0 403 Forbidden\r\n"), flab.read_log()
    assert b"\r\nCSeq: 7 INVITE\r\n" in ans
    d = delta(flab)
    ack = invite.replace(b"INVITE", b"ACK")
    assert flab.udp_exchange(ack, src=SRC_D, sport=5095, timeout=1.0) is None
    # The configured list replaces the default one: "evil-bot" is a scanner
    # (never answered), "friendly-scanner" no longer is.
    evil = sip_options("sip:%s" % swlab.SW_IP4, call_id="evil", via_host=SRC_D,
                       extra=b"User-Agent: Evil-Bot/2.1\r\n")
    assert flab.udp_exchange(evil, src=SRC_D, sport=5096, timeout=1.0) is None
    fs = sip_options("sip:%s" % swlab.SW_IP4, call_id="fs", via_host=SRC_D,
                     extra=b"User-Agent: friendly-scanner\r\n")
    ans = flab.udp_exchange(fs, src=SRC_D, sport=5096)
    assert ans is not None and ans.startswith(b"SIP/2.0 200 OK"), flab.read_log()
    c = d()
    assert c["drop_filter_unknown_request"] == 1 and c["sip_403_sent"] == 0, c
    assert c["drop_filter_scanner"] == 1, c
