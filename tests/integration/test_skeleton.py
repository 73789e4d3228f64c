# SPDX-License-Identifier: BSD-3-Clause
"""The walking skeleton, end to end: sipwake on net_af_packet in a network
namespace, real peers (ping, sipp, kernel sockets) in another."""
import os
import re
import subprocess

import pytest

import swlab
from conftest import SIPP_DIR
from waits import wait_for

OPTIONS = os.path.join(SIPP_DIR, "options.xml")


def sip_options(ruri, call_id="cid-1@peer", via_host=swlab.PEER_IP4, sport=5071, rport=True,
                extra=b""):
    return (b"OPTIONS %s SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s%s\r\n"
            b"From: <sip:probe@%s>;tag=f1\r\n"
            b"To: <%s>\r\n"
            b"Call-ID: %s\r\n"
            b"CSeq: 7 OPTIONS\r\n"
            b"Max-Forwards: 70\r\n%s"
            b"Content-Length: 0\r\n\r\n") % (
        ruri.encode(), via_host.encode(), sport, re.sub(r"[^\w.-]", "-", call_id).encode(),
        b";rport" if rport else b"", via_host.encode(), ruri.encode(), call_id.encode(), extra)


def test_ping_ipv4_and_ipv6(lab, delta):
    d = delta(lab)
    out4 = lab.peer(["ping", "-c", "5", "-i", "0.2", "-W", "2", swlab.SW_IP4]).stdout
    out6 = lab.peer(["ping", "-6", "-c", "5", "-i", "0.2", "-W", "2", swlab.SW_IP6]).stdout
    assert " 0% packet loss" in out4, out4
    assert " 0% packet loss" in out6, out6
    assert d()["icmp_echo_answered"] == 10


def test_arp_and_nd_answered_and_learned(lab):
    # The peer resolved sipwake's addresses through sipwake's own ARP / ND
    # answers: its kernel neighbour table holds sipwake's port MAC for both.
    mac = lab.sipwake_mac().lower()
    neigh = lab.peer(["ip", "neigh", "show"]).stdout.lower()
    assert re.search(r"%s .*lladdr %s" % (re.escape(swlab.SW_IP4), mac), neigh), neigh
    assert re.search(r"%s .*lladdr %s" % (re.escape(swlab.SW_IP6), mac), neigh), neigh
    st = lab.stats()
    assert st["arp_answered"] >= 1 and st["nd_answered"] >= 1
    assert lab.telemetry("/sipwake/info")["neighbours"] >= 2


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_sipp_options_get_200(lab, delta, family):
    dst, local = ((swlab.SW_IP4, swlab.PEER_IP4) if family == "ipv4"
                  else (swlab.SW_IP6, swlab.PEER_IP6))
    d = delta(lab)
    rc, trace = lab.sipp(OPTIONS, calls=10, dst=dst, local=local,
                         port=5070 if family == "ipv4" else 5072)
    assert rc == 0, trace
    assert "SIP/2.0 200 OK" in trace, trace
    # RFC 3581: the bare rport came back filled in, with received=.
    assert re.search(r";rport=507\d;received=%s" % re.escape(local), trace), trace
    c = d()
    assert c["sip_options_answered"] == 10
    assert c["sip_rx"] == 10
    assert all(c[k] == 0 for k in c if k.startswith("drop_sip"))


def test_options_answer_is_well_formed(lab):
    req = sip_options("sip:%s" % swlab.SW_IP4, call_id="wf-1@peer", rport=False,
                      extra=b"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-second\r\n")
    ans = lab.udp_exchange(req, sport=5071)
    assert ans is not None, lab.read_log()
    text = ans.decode()
    assert text.startswith("SIP/2.0 200 OK\r\n"), text
    vias = re.findall(r"^Via: (.*)\r$", text, re.M)
    # Every Via, in order (RFC 3261 §8.2.6.2); sent-by equals the source,
    # so no received= is added and no rport was asked for.
    assert vias == ["SIP/2.0/UDP %s:5071;branch=z9hG4bK-wf-1-peer" % swlab.PEER_IP4,
                    "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-second"], text
    assert re.search(r"^To: <sip:%s>;tag=sw[0-9a-f]{8}\r$" % re.escape(swlab.SW_IP4),
                     text, re.M), text
    assert "\r\nCall-ID: wf-1@peer\r\n" in text and "\r\nCSeq: 7 OPTIONS\r\n" in text
    assert text.endswith("Content-Length: 0\r\n\r\n")
    # A retransmission gets the same To tag (stateless, derived).
    again = lab.udp_exchange(req, sport=5071).decode()
    tag = re.compile(r"^To: .*$", re.M)
    assert tag.search(again).group(0) == tag.search(text).group(0)


def test_options_to_configured_name_answered(lab, delta):
    d = delta(lab)
    ans = lab.udp_exchange(sip_options("sip:EDGE.sipwake.test", call_id="name-1"), sport=5073)
    assert ans is not None and ans.startswith(b"SIP/2.0 200 OK\r\n"), lab.read_log()
    assert d()["sip_options_answered"] == 1


def settled(d, n):
    """A predicate: the counter delta once sip_rx has reached n."""
    return lambda: (lambda c: c if c["sip_rx"] >= n else None)(d())


def test_malformed_from_pbx_dropped_by_scanner_reason(lab, delta):
    # From the PBX every datagram is scanned: the scanner's reason is counted.
    valid = sip_options("sip:%s" % swlab.SW_IP4, call_id="junk-base", via_host=swlab.PBX_IP4)
    no_call_id = re.sub(rb"Call-ID: [^\r]*\r\n", b"", valid)
    junk = {
        "drop_sip_bad_start_line": [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                    valid.replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1)],
        "drop_sip_truncated": [valid[:60]],
        "drop_sip_bad_char": [valid.replace(b"tag=f1", b"tag=f\x001")],
        "drop_sip_missing_header": [no_call_id],
        "drop_sip_bad_content_length": [valid.replace(b"Content-Length: 0",
                                                      b"Content-Length: 900")],
        "drop_sip_bad_contact": [valid.replace(b"Max-Forwards", b"Contact: <sip:x@h\r\nMax-Forwards")],
    }
    d = delta(lab)
    sent = [p for ps in junk.values() for p in ps]
    lab.udp_send(sent, src=swlab.PBX_IP4, sport=5074)
    lab.udp_send([valid], port=5061, src=swlab.PBX_IP4, sport=5074)  # not the SIP port
    c = wait_for(settled(d, len(sent)))
    assert c is not None, d()
    for reason, payloads in junk.items():
        assert c[reason] == len(payloads), (reason, c)
    assert c["drop_udp_port"] == 1
    assert c["sip_rx"] == c["sip_from_pbx"] == len(sent)
    assert c["sip_options_answered"] == 0

    # Binary noise: each datagram is judged and counted under some reason.
    d = delta(lab)
    lab.udp_send([b"X" + os.urandom(199) for _ in range(5)], src=swlab.PBX_IP4, sport=5074)
    c = wait_for(settled(d, 5))
    assert c is not None, d()
    assert c["sip_rx"] == 5 and c["sip_options_answered"] == 0
    assert sum(v for k, v in c.items() if k.startswith("drop_sip_")) == 5


STUN_BINDING = bytes.fromhex("0001 0000 2112a442 0102030405060708090a0b0c".replace(" ", ""))


def test_unknown_source_judged_before_scan(lab, delta):
    # An unknown source may REGISTER, or OPTIONS sipwake itself; everything
    # else is refused on its first bytes, and keepalives prove nothing.
    valid = sip_options("sip:%s" % swlab.SW_IP4, call_id="unk-1")
    junk = {
        "drop_filter_unknown_request": [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                        valid.replace(b"OPTIONS", b"MESSAGE"),
                                        valid.replace(b"OPTIONS", b"INVITE")],
        # Not even shaped like SIP: dropped before the source is looked at.
        "drop_sip_bad_start_line": [b"\x7f" + os.urandom(63)],
        "drop_filter_unknown_response": [
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKr\r\n"
            b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
            b"Call-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"],
        "drop_keepalive_unbound": [b"\r\n\r\n", STUN_BINDING],
        "drop_filter_scanner": [valid.replace(b"Max-Forwards", b"User-Agent: friendly-scanner\r\n"
                                                               b"Max-Forwards"),
                                valid.replace(b"Max-Forwards", b"User-Agent: SIPVicious 0.3\r\n"
                                                               b"Max-Forwards")],
    }
    d = delta(lab)
    sent = [p for ps in junk.values() for p in ps]
    lab.udp_send(sent, sport=5077)
    c = wait_for(lambda: (lambda c: c if sum(c[k] for k in junk) >= len(sent) else None)(d()))
    assert c is not None, d()
    for reason, payloads in junk.items():
        assert c[reason] == len(payloads), (reason, c)
    # Refused on their first bytes: nothing answered, not even 403 (off).
    assert c["sip_options_answered"] == 0 and c["sip_403_sent"] == 0
    # Keepalives and the noise are judged before the source class is.
    assert c["sip_from_unknown"] == len(sent) - 3


def test_options_probe_with_a_user_answered(lab, delta):
    # Monitoring probes name a user ("sip:ping@edge"): still sipwake itself.
    d = delta(lab)
    for i, ruri in enumerate(("sip:ping@%s" % swlab.SW_IP4, "sip:nagios@edge.sipwake.test")):
        ans = lab.udp_exchange(sip_options(ruri, call_id="probe-%d" % i), sport=5090 + i)
        assert ans is not None and ans.startswith(b"SIP/2.0 200 OK\r\n"), (ruri, ans)
        assert b"\r\nCall-ID: probe-%d\r\n" % i in ans, ans
    c = d()
    assert c["sip_options_answered"] == 2 and c["drop_filter_unknown_request"] == 0, c


def test_register_from_unknown_goes_up(lab, delta):
    reg = (b"REGISTER sip:example.com SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP 198.18.0.2:5078;branch=z9hG4bK-reg1;rport\r\n"
           b"From: <sip:alice@example.com>;tag=r1\r\nTo: <sip:alice@example.com>\r\n"
           b"Call-ID: reg-1@peer\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
           b"Contact: <sip:alice@198.18.0.2:5078;pn-provider=apns;pn-prid=abc;"
           b"pn-param=T.com.example.voip>;expires=600\r\nContent-Length: 0\r\n\r\n")
    d = delta(lab)
    lab.udp_send([reg], sport=5078)
    c = wait_for(lambda: (lambda c: c if c["sip_up_requests"] >= 1 else None)(d()))
    assert c is not None, d()
    assert c["sip_handed_up"] == 1 and c["sip_from_unknown"] == 1
    # This lab has no pbx.servers: the control plane refuses it (503), counted.
    c = wait_for(lambda: (lambda c: c if c["drop_reg_no_pbx"] >= 1 else None)(d()))
    assert c is not None and c["drop_reg_no_pbx"] == 1 and c["drop_sip_bad_handoff"] == 0, d()


def test_stats_per_worker_and_dpdk_telemetry_py(lab):
    total, w0 = lab.stats(), lab.stats(0)
    assert w0["worker"] == 0 and w0["sip_rx"] == total["sip_rx"]
    assert lab.telemetry("/sipwake/stats,7") is None  # no such worker: an error, not data
    out = subprocess.run(["dpdk-telemetry.py", "-f", lab.prefix], input="/sipwake/stats\n",
                         capture_output=True, text=True, timeout=20).stdout
    assert re.search(r'"sip_options_answered": \d+', out), out


def test_reply_waits_for_arp_resolution(lab, delta):
    # The peer sends from a second address that sipwake has never seen, and
    # knows sipwake's MAC statically so it never ARPs first: sipwake must
    # resolve 198.18.0.3 itself (ARP request), hold the 200, then send it.
    lab.peer(["ip", "addr", "add", "198.18.0.3/24", "dev", lab.if_peer])
    lab.peer(["ip", "neigh", "replace", swlab.SW_IP4, "lladdr", lab.sipwake_mac(),
              "dev", lab.if_peer, "nud", "permanent"])
    d = delta(lab)
    ans = lab.udp_exchange(sip_options("sip:%s" % swlab.SW_IP4, call_id="arp-1",
                                       via_host="198.18.0.3"), src="198.18.0.3", sport=5075)
    assert ans is not None and ans.startswith(b"SIP/2.0 200 OK"), lab.read_log()
    c = d()
    assert c["neigh_probes"] >= 1 and c["neigh_held_sent"] == 1 and c["handed_up"] >= 2


def test_offlink_peer_reached_through_gateway(lab, delta):
    # 198.19.7.7 is not on sipwake's subnet: the answer goes to gateway4.
    d = delta(lab)
    ans = lab.udp_exchange(sip_options("sip:%s" % swlab.SW_IP4, call_id="gw-1",
                                       via_host=swlab.OFFLINK_IP4),
                           src=swlab.OFFLINK_IP4, sport=5076)
    assert ans is not None and ans.startswith(b"SIP/2.0 200 OK"), lab.read_log()
    assert d()["sip_options_answered"] == 1


def test_fragmented_datagram_reassembled(lab, delta):
    # 3 KB of SIP: the peer's kernel fragments it at the 1500-byte MTU,
    # sipwake reassembles the fragments and answers the OPTIONS. IPv6 only
    # here: DPDK's af_packet PMD joins a PACKET_FANOUT group with
    # FLAG_DEFRAG, so the lab's kernel reassembles IPv4 before sipwake sees
    # it (and truncates it to the PMD's frame size). IPv4 fragments reach
    # sipwake unjoined through the pcap replay test and the C pipeline test.
    v6, family = True, "ipv6"
    src, dst = (swlab.PBX_IP6, swlab.SW_IP6) if v6 else (swlab.PBX_IP4, swlab.SW_IP4)
    req = sip_options("sip:%s" % ("[%s]" % dst if v6 else dst), call_id="frag-" + family,
                      via_host="[%s]" % src if v6 else src,
                      extra=b"X-Pad: " + b"p" * 3000 + b"\r\n")
    d = delta(lab)
    ans = lab.udp_exchange(req, dst=dst, src=src, sport=5097, v6=v6)
    assert ans is not None and ans.startswith(b"SIP/2.0 200 OK\r\n"), lab.read_log()
    c = d()
    assert c["ip_fragments"] == 3 and c["ip_reassembled"] == 1, c
    assert c["sip_options_answered"] == 1
