# SPDX-License-Identifier: BSD-3-Clause
"""Verdicts on real frames, deterministically: a capture built here is
replayed into sipwake through DPDK's net_pcap (rx_pcap), and what sipwake
sends is read back from its tx_pcap. No namespace, no timing: each frame's
fate is checked by its counter, each answer by its bytes."""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import frames as F
import swlab

SW_MAC = "02:70:63:61:70:00"  # net_pcap's fixed MAC for its first port ("\x02pcap\x00")
PBX_MAC, APP_MAC = "02:00:00:00:00:05", "02:00:00:00:00:02"
SW4, SW6, PBX4, PBX6, APP4 = (swlab.SW_IP4, swlab.SW_IP6, swlab.PBX_IP4, swlab.PBX_IP6,
                              swlab.PEER_IP4)


def sip(method, ruri, call_id, via, extra=b"", ua=None):
    return (b"%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%s;rport\r\n"
            b"From: <sip:p@example.com>;tag=f-%s\r\nTo: <%s>\r\nCall-ID: %s\r\n"
            b"CSeq: 1 %s\r\nMax-Forwards: 70\r\n%s%sContent-Length: 0\r\n\r\n") % (
        method, ruri, via, call_id, call_id, ruri, call_id, method, extra,
        b"User-Agent: %s\r\n" % ua if ua else b"")


def telemetry(prefix, cmd):
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(path)
        s.recv(16384)
        s.send(cmd.encode())
        return json.loads(s.recv(65536).decode()).get(cmd)


def replay(tmp, frames, conf_extra=""):
    """Run sipwake over @frames; return (counters, frames it sent, log)."""
    rx, tx = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
    F.write_pcap(rx, frames)
    conf = os.path.join(tmp, "sipwake.conf")
    with open(conf, "w") as f:
        f.write("""sip: { port = 5060; };
interfaces = ( { device = "net_pcap0"; ipv4 = "%s/24"; ipv6 = "%s/64"; } );
dataplane: { mbufs = 4095; idle_sleep_us = 50; };
pbx: { sources = [ "%s", "%s" ]; };
filter: { reply_403 = true; };
bindings: { store = "%s/bindings.db"; };
%s
""" % (SW4, SW6, PBX4, PBX6, tmp, conf_extra))
    prefix = "swpcap%d" % os.getpid()
    cmd = [swlab.sipwake_bin(), "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
           "--file-prefix=" + prefix,
           "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s" % (rx, tx), "--",
           "-c", conf]
    log = open(os.path.join(tmp, "sipwake.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    counters = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                st = telemetry(prefix, "/sipwake/stats")
            except (OSError, ValueError):
                st = None
            # Every frame read, and the control plane done with what went up.
            if st and st["rx_packets"] >= len(frames):
                time.sleep(0.5)
                counters = telemetry(prefix, "/sipwake/stats")
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(20)
        log.close()
    text = open(os.path.join(tmp, "sipwake.log")).read()
    assert rc == 0, text
    assert counters is not None, text
    assert not os.path.exists("/var/run/dpdk/" + prefix)
    return counters, F.read_pcap(tx), text


def test_replay_verdicts_and_answers():
    tmp = tempfile.mkdtemp(prefix="swpcap")
    try:
        big = sip(b"OPTIONS", b"sip:%s" % SW4.encode(), b"frag-4", PBX4.encode(),
                  extra=b"X-Pad: " + b"p" * 3000 + b"\r\n")
        frags = F.udp4_frames(SW_MAC, PBX_MAC, PBX4, SW4, 5060, 5060, big, frag=1480, ident=41)
        overlap = F.udp4_frames(SW_MAC, PBX_MAC, PBX4, SW4, 5060, 5060, big, frag=1480,
                                ident=42)
        # The middle piece again with one byte changed: an overlap (the
        # datagram goes); an exact duplicate is dropped alone (RFC 791 §3.2).
        other = bytearray(overlap[1])
        other[14 + 20 + 100] ^= 1
        dup = F.udp4_frames(SW_MAC, PBX_MAC, PBX4, SW4, 5060, 5060,
                            big.replace(b"frag-4", b"frag-d"), frag=1480, ident=43)
        frames = [
            F.arp_request(PBX_MAC, PBX4, SW4),
            F.arp_request(APP_MAC, APP4, SW4),
            F.neighbour_solicitation(PBX_MAC, PBX6, SW6),
            # answered
            F.udp4_frames(SW_MAC, PBX_MAC, PBX4, SW4, 5060, 5060,
                          sip(b"OPTIONS", b"sip:%s" % SW4.encode(), b"opt-4", PBX4.encode()))[0],
            F.udp6_frame(SW_MAC, PBX_MAC, PBX6, SW6, 5060, 5060,
                         sip(b"OPTIONS", b"sip:[%s]" % SW6.encode(), b"opt-6",
                             b"[%s]" % PBX6.encode())),
            frags[2], frags[0], frags[1],  # out of order
            F.udp4_frames(SW_MAC, APP_MAC, APP4, SW4, 5070, 5060,
                          sip(b"INVITE", b"sip:alice@%s" % SW4.encode(), b"inv-403",
                              APP4.encode()))[0],
            # handed up
            F.udp4_frames(SW_MAC, APP_MAC, APP4, SW4, 5071, 5060,
                          sip(b"REGISTER", b"sip:example.com", b"reg-1", APP4.encode(),
                              extra=b"Contact: <sip:a@198.18.0.2:5071;pn-provider=fcm;"
                                    b"pn-prid=tok;pn-param=proj>\r\n"))[0],
            # dropped, each for its reason
            F.udp4_frames(SW_MAC, APP_MAC, APP4, SW4, 5072, 5060,
                          sip(b"OPTIONS", b"sip:%s" % SW4.encode(), b"scan", APP4.encode(),
                              ua=b"sipvicious"))[0],
            F.udp4_frames(SW_MAC, PBX_MAC, PBX4, SW4, 5060, 5060, b"GET / HTTP/1.1\r\n\r\n")[0],
            F.udp4_frames(SW_MAC, PBX_MAC, PBX4, SW4, 5060, 5060, b"x" * 40,
                          bad_cksum=True)[0],
            F.eth(SW_MAC, PBX_MAC, F.ETH_VLAN, b"\x00\x2a\x08\x00" + b"\0" * 40),
            overlap[0], overlap[1], bytes(other), overlap[2],  # the middle piece, other bytes
            dup[0], dup[1], dup[1], dup[2],  # the middle piece twice, answered
        ]
        c, sent, log = replay(tmp, frames)
        expect = {
            "arp_answered": 2, "nd_answered": 1, "sip_options_answered": 4,
            "ip_fragments": 11, "ip_reassembled": 2, "drop_ip_frag_duplicate": 1,
            "sip_403_sent": 1,
            "sip_handed_up": 1, "sip_up_requests": 1, "drop_reg_no_pbx": 1,
            "drop_filter_scanner": 1, "drop_sip_bad_start_line": 1, "drop_udp_checksum": 1,
            "drop_l2_vlan": 1, "drop_filter_unknown_request": 1,
        }
        for k, v in expect.items():
            assert c[k] == v, (k, c[k], {k: v for k, v in c.items() if v}, log)
        assert c["drop_ip_frag_rejected"] >= 1, c
        assert c["rx_packets"] == len(frames)

        answers = [F.udp_payload(f) for f in sent]
        texts = [a.decode() for a in answers if a]
        for call_id in ("opt-4", "opt-6", "frag-4", "frag-d"):
            assert any(t.startswith("SIP/2.0 200 OK\r\n") and "Call-ID: %s\r\n" % call_id in t
                       for t in texts), texts
        assert any(t.startswith("SIP/2.0 403 Forbidden\r\n") and "Call-ID: inv-403\r\n" in t
                   for t in texts), texts
        # No pbx.servers configured: the REGISTER is refused, not lost.
        assert any(t.startswith("SIP/2.0 503 Service Unavailable\r\n") and
                   "Call-ID: reg-1\r\n" in t and "Retry-After:" in t for t in texts), texts
        # Two ARP replies, one neighbour advertisement; nothing else left sipwake.
        arps = [f for f in sent if struct.unpack("!H", f[12:14])[0] == F.ETH_ARP]
        assert len(arps) == 2 and len(texts) == 6, sent
        # Every answer went to the MAC its asker announced.
        for f in sent:
            assert f[0:6] in (F.mac(PBX_MAC), F.mac(APP_MAC)), f[:14].hex()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
