# SPDX-License-Identifier: BSD-3-Clause
"""Ethernet frames built byte by byte (checksums included) and pcap files,
for replay tests through DPDK's net_pcap: no scapy, only the standard library."""
import ipaddress
import struct

ETH_IP4, ETH_IP6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload, vlan=0):
    if vlan:
        return mac(dst) + mac(src) + struct.pack("!HHH", ETH_VLAN, vlan, etype) + payload
    return mac(dst) + mac(src) + struct.pack("!H", etype) + payload


def udp(src, dst, sport, dport, payload, bad_cksum=False):
    """UDP header + payload with its checksum over the pseudo-header."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    length = 8 + len(payload)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", length, 17)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    if bad_cksum:
        c ^= 0x5555
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def ipv4(src, dst, proto, payload, ident=1, frag_off=0, more=False):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      (frag_off // 8) | (0x2000 if more else 0), 64, proto, 0,
                      ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, nxt, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nxt, hlim,
                       ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed) + payload


def udp4_frames(dmac, smac, src, dst, sport, dport, payload, frag=0, ident=7, **kw):
    """One frame, or the fragments of one datagram (frag: bytes of IP payload each)."""
    dgram = udp(src, dst, sport, dport, payload, **kw)
    if not frag:
        return [eth(dmac, smac, ETH_IP4, ipv4(src, dst, 17, dgram, ident))]
    out = []
    for off in range(0, len(dgram), frag):
        piece = dgram[off:off + frag]
        out.append(eth(dmac, smac, ETH_IP4, ipv4(src, dst, 17, piece, ident, off,
                                                 off + frag < len(dgram))))
    return out


def udp6_frame(dmac, smac, src, dst, sport, dport, payload):
    return eth(dmac, smac, ETH_IP6, ipv6(src, dst, 17, udp(src, dst, sport, dport, payload)))


def arp_request(smac, sip, tip):
    body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IP4, 6, 4, 1, mac(smac),
                       ipaddress.ip_address(sip).packed, b"\0" * 6,
                       ipaddress.ip_address(tip).packed)
    return eth("ff:ff:ff:ff:ff:ff", smac, ETH_ARP, body)


def neighbour_solicitation(smac, src, target):
    """RFC 4861 §4.3 NS for target, with the source link-layer address option."""
    t = ipaddress.ip_address(target)
    snm = ipaddress.ip_address("ff02::1:ff00:0").packed[:13] + t.packed[13:]
    dst = str(ipaddress.ip_address(snm))
    body = struct.pack("!BBHI16s", 135, 0, 0, 0, t.packed) + struct.pack("!BB6s", 1, 1, mac(smac))
    pseudo = (ipaddress.ip_address(src).packed + snm + struct.pack("!IxxxB", len(body), 58))
    body = body[:2] + struct.pack("!H", csum(pseudo + body)) + body[4:]
    mcast = "33:33:" + ":".join("%02x" % b for b in snm[12:])
    return eth(mcast, smac, ETH_IP6, ipv6(src, dst, 58, body, hlim=255))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    pos = 24
    while pos + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
        frames.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    return frames


def udp_payload(frame):
    """The UDP payload of an untagged IPv4 / IPv6 frame, or None."""
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == ETH_IP4 and frame[23] == 17:
        ihl = (frame[14] & 0xF) * 4
        return frame[14 + ihl + 8:]
    if etype == ETH_IP6 and frame[20] == 17:
        return frame[14 + 40 + 8:]
    return None
