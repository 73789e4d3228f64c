# SPDX-License-Identifier: BSD-3-Clause
"""SIP in IP fragments through a veth into sipwake on net_af_packet
(scripts/swlab.py).

DPDK 22.11's net_af_packet joins a fanout group with
PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles IPv4 fragments before
the ring: a 4 KB INVITE in IPv4 fragments reaches sipwake as one 4 KB frame,
whole only if the ring's frames (framesz) hold it. IPv6 fragments are not
reassembled there and reach sipwake's own reassembly (dataplane/dp_frag.c).

- IPv4: the lab's framesz (20480) takes the reassembled INVITE whole; the
  default framesz (2048) cuts it, counted as rx_truncated (not
  ip_malformed), with a start-up warning naming the devarg.
- IPv6: sipwake reassembles the INVITE; exact duplicate fragments are
  dropped alone; an incomplete datagram is counted as timed out when its
  time is up, with no further packet arriving.
- A 9000-MTU veth: an unfragmented 4 KB INVITE arrives whole."""
import json
import os
import struct
import time

import pytest

import frames as F
import swlab
from waits import wait_for

SDP_LEN = 3600


def invite(call_id, sdp_len=SDP_LEN):
    sdp = b"".join(b"a=x-filler:%05d%s\r\n" % (i, b"z" * 40) for i in range(sdp_len // 60))
    sdp = b"v=0\r\no=- 1 1 IN IP4 198.18.0.5\r\ns=-\r\nc=IN IP4 198.18.0.5\r\nt=0 0\r\n" \
          b"m=audio 4000 RTP/AVP 0\r\n" + sdp
    return (b"INVITE sip:nobody@%s SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n"
            b"Max-Forwards: 70\r\nFrom: <sip:1002@example.com>;tag=f-%s\r\n"
            b"To: <sip:nobody@example.com>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
            b"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s") % (
        swlab.SW_IP4.encode(), swlab.PBX_IP4.encode(), call_id, call_id, call_id, len(sdp),
        sdp)


def answered(lab, call_id, v6=False):
    """Send the INVITE from the PBX's address with the peer's kernel socket
    (fragmented by it at the veth's MTU); sipwake's answer (a 404: no such
    device) names its Call-ID."""
    msg = invite(call_id)
    assert len(msg) > 3000
    reply = lab.udp_exchange(msg, src=swlab.PBX_IP6 if v6 else swlab.PBX_IP4, sport=5060,
                             v6=v6, timeout=3.0)
    return reply is not None and b"Call-ID: " + call_id in reply


def udp6_fragments(lab, payload, ident, piece=1448):
    """The frames of one UDP datagram from the PBX to sipwake over IPv6, in
    fragments of @piece bytes (RFC 8200 §4.5)."""
    dgram = F.udp(swlab.PBX_IP6, swlab.SW_IP6, 5060, 5060, payload)
    out = []
    for off in range(0, len(dgram), piece):
        more = off + piece < len(dgram)
        fh = struct.pack("!BBHI", 17, 0, off | (1 if more else 0), ident)
        out.append(F.eth(lab.sipwake_mac(), peer_mac(lab), F.ETH_IP6,
                         F.ipv6(swlab.PBX_IP6, swlab.SW_IP6, 44, fh + dgram[off:off + piece])))
    return out


def send_raw(lab, frames):
    """Frames as they are, from the peer's end of the veth (AF_PACKET)."""
    script = ("import socket,sys,json\n"
              "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
              "s.bind((%r,0))\n"
              "for f in json.loads(sys.stdin.read()): s.send(bytes.fromhex(f))\n" % lab.if_peer)
    lab.peer(["/usr/bin/python3", "-c", script], input=json.dumps([f.hex() for f in frames]))


def peer_mac(lab):
    out = lab.peer(["cat", "/sys/class/net/%s/address" % lab.if_peer]).stdout
    return out.strip()


def test_ipv4_fragments_arrive_whole(lab, delta):
    d = delta(lab)
    assert "framesz=20480" in " ".join(lab.eal_args())
    assert answered(lab, b"frag-v4")
    got = d()
    assert got["sip_rx"] == 1, got
    assert got["drop_ip_malformed"] == 0, got
    assert got["drop_rx_truncated"] == 0, got


def test_ipv6_fragments_reassembled_by_sipwake(lab, delta):
    d = delta(lab)
    assert answered(lab, b"frag-v6", v6=True)
    got = d()
    assert got["ip_fragments"] >= 3, got
    assert got["ip_reassembled"] == 1, got
    assert got["sip_rx"] == 1, got
    assert got["drop_ip_malformed"] == 0, got


def test_exact_duplicate_fragment(lab, delta):
    d = delta(lab)
    frags = udp6_fragments(lab, invite(b"frag-dup"), 0x4242)
    assert len(frags) == 3
    send_raw(lab, [frags[0], frags[1], frags[1], frags[2], frags[0]])
    got = wait_for(lambda: d()["ip_reassembled"] == 1 and d(), 3.0)
    assert got, d()
    assert got["sip_rx"] == 1, got
    assert got["drop_ip_frag_duplicate"] == 2, got
    assert got["drop_ip_frag_rejected"] == 0, got


def test_incomplete_datagram_times_out_on_time(lab, delta):
    """dataplane.reassembly_timeout_ms is 2000 by default: counted within
    2.5 s of the fragments, nothing else sent meanwhile."""
    d = delta(lab)
    frags = udp6_fragments(lab, invite(b"frag-lost"), 0x4343)
    t0 = time.monotonic()
    send_raw(lab, frags[:2])
    got = wait_for(lambda: d()["drop_ip_frag_timeout"] and d(), 4.0, step=0.02)
    elapsed = time.monotonic() - t0
    assert got, d()
    assert got["drop_ip_frag_timeout"] == 2, got
    assert 1.9 <= elapsed <= 2.5, elapsed
    assert got["ip_reassembled"] == 0, got


def test_default_framesz_cuts_reassembled_ipv4(delta):
    with swlab.Lab(name="swfc%d" % (os.getpid() % 10000), pbx_servers=[],
                   vdev_extra=",framesz=2048") as lab:
        log = lab.read_log()
        assert "framesz=2048 holds 1982" in log and "framesz=20480,blocksz=20480" in log, log
        d = delta(lab)
        assert not answered(lab, b"frag-cut")
        got = d()
        assert got["drop_rx_truncated"] == 1, got
        assert got["drop_ip_malformed"] == 0, got
        assert got["sip_rx"] == 0, got
        assert lab.stop() == 0


def test_jumbo_mtu_frame_whole():
    with swlab.Lab(name="swfj%d" % (os.getpid() % 10000), pbx_servers=[], mtu=9000) as lab:
        assert "drop_rx_truncated" not in lab.read_log()
        before = lab.stats()
        assert answered(lab, b"jumbo-whole")
        after = lab.stats()
        assert after["sip_rx"] - before["sip_rx"] == 1
        assert after["ip_fragments"] == before["ip_fragments"]
        assert after["drop_rx_truncated"] == 0
        assert lab.stop() == 0


if __name__ == "__main__":
    pytest.main([__file__, "-q"])
