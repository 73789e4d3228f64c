#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes tests/fuzz/corpus_register/'s seeds (fuzz_cp_register.c's format):
records [kind][len hi][len lo][bytes]. Run from the repository's root;
the seeds are committed, this is how they were made."""
import os
import struct

D = "tests/fuzz/corpus_register"


def app(i, b):  # a datagram from app i
    return bytes([0 | i << 2]) + struct.pack(">H", len(b)) + b


def pbx(sel, b, tag=True):  # the PBX's answer to the sel-th relayed REGISTER
    return bytes([1 | sel << 2 | (0 if tag else 0x10)]) + struct.pack(">H", len(b)) + b


def raw(b):  # a datagram from the PBX as it is
    return bytes([2]) + struct.pack(">H", len(b)) + b


def again():
    return bytes([3, 0, 0])


def reg(i, contact, extra=b"", cseq=1, branch=b"b1", user=b"alice", expires=b""):
    port = 5060 + i
    return (b"REGISTER sip:example.com SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP 198.18.0.99:%d;branch=z9hG4bK-%s;rport\r\n" % (port, branch) +
            b"Max-Forwards: 70\r\nFrom: <sip:%s@example.com>;tag=f%d\r\n" % (user, i) +
            b"To: <sip:%s@example.com>\r\nCall-ID: reg-%d@app\r\nCSeq: %d REGISTER\r\n" % (user, i, cseq) +
            b"Contact: " + contact + b"\r\n" + expires + extra + b"Content-Length: 0\r\n\r\n")


APNS = b"<sip:alice@198.18.0.99:5060;pn-provider=apns;pn-prid=0123456789abcdef;pn-param=ABCD123456.com.example.voip>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000000000001>\";expires=600"
FCM = b"<sip:bob@198.18.0.99:5061;pn-provider=fcm;pn-prid=tok%3Aen%2Bcoded;pn-param=proj-1>;expires=300"
WEB = b"<sip:carol@198.18.0.99;pn-provider=webpush;pn-prid=https%3A%2F%2Fpush.example.net%2Fsub%2F1>;expires=600"
LEGACY = b"<sip:dave@198.18.0.99;pn-type=apple;pn-tok=abcdef;app-id=com.example.voip>;expires=600"


def ok(contact, extra=b""):  # the registrar's 200 listing the contact (its URI, <...>)
    return (b"SIP/2.0 200 OK\r\nContact: " + contact.split(b">")[0] + b">;expires=300\r\n" + extra +
            b"Content-Length: 0\r\n\r\n")


OK = ok(APNS)
SEEDS = {
    "apns_200.bin": app(0, reg(0, APNS)) + pbx(0, b"SIP/2.0 200 OK\r\nContact: " + APNS.split(b";+sip")[0] + b";expires=300\r\nContent-Length: 0\r\n\r\n"),
    "apns_401_then_200.bin": app(0, reg(0, APNS)) + pbx(0, b"SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"example.com\", nonce=\"n1\"\r\nContent-Length: 0\r\n\r\n")
    + app(0, reg(0, APNS, extra=b"Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"n1\", uri=\"sip:example.com\", response=\"00\"\r\n", cseq=2, branch=b"b2"))
    + pbx(0, b"SIP/2.0 200 OK\r\nExpires: 120\r\nContact: " + APNS.split(b";+sip")[0] + b"\r\nContent-Length: 0\r\n\r\n"),
    "fcm_escaped_200_expires_header.bin": app(1, reg(1, FCM, user=b"bob")) + pbx(0, ok(FCM, b"Expires: 60\r\n")),
    "webpush_403.bin": app(2, reg(2, WEB, user=b"carol")) + pbx(0, b"SIP/2.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
    "legacy_200_then_remove.bin": app(3, reg(3, LEGACY, user=b"dave")) + pbx(0, b"SIP/2.0 200 OK\r\nContact: <sip:dave@198.18.0.99;pn-type=apple;pn-tok=abcdef;app-id=com.example.voip>;expires=600\r\nContent-Length: 0\r\n\r\n")
    + app(3, reg(3, LEGACY.replace(b"expires=600", b"expires=0"), user=b"dave", cseq=2, branch=b"b2")) + pbx(0, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
    "star_remove.bin": app(0, reg(0, APNS)) + pbx(0, OK) + app(0, reg(0, b"*", expires=b"Expires: 0\r\n", cseq=2, branch=b"b2")) + pbx(0, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
    "two_apps_interleaved.bin": app(0, reg(0, APNS)) + app(1, reg(1, FCM, user=b"bob")) + pbx(1, ok(FCM)) + pbx(0, b"SIP/2.0 500 Oops\r\nContent-Length: 0\r\n\r\n"),
    "retransmission_100_200.bin": app(0, reg(0, APNS)) + again() + pbx(0, b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n") + again() + pbx(0, OK),
    "answer_without_to_tag.bin": app(0, reg(0, APNS)) + pbx(0, OK, tag=False),
    "stray_200.bin": raw(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-swcr0000000100000000;rport\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"),
    "no_push_address_200.bin": app(0, reg(0, b"<sip:eve@198.18.0.99:5060>;expires=600", user=b"eve")) + pbx(0, b"SIP/2.0 200 OK\r\nContact: <sip:eve@198.18.0.99:5060>;expires=600\r\nContent-Length: 0\r\n\r\n"),
    "grant_not_listed.bin": app(0, reg(0, APNS)) + pbx(0, b"SIP/2.0 200 OK\r\nContact: <sip:other@198.18.0.7>;expires=300\r\nContent-Length: 0\r\n\r\n"),
    "compact_forms.bin": app(0, b"REGISTER sip:example.com SIP/2.0\r\nv: SIP/2.0/UDP 198.18.0.99:5060;branch=z9hG4bK-c1\r\nf: <sip:frank@example.com>;tag=1\r\nt: <sip:frank@example.com>\r\ni: c1@app\r\nCSeq: 1 REGISTER\r\nm: <sip:frank@198.18.0.99;pn-provider=apns;pn-prid=ff;pn-param=X.voip>;expires=60\r\nl: 0\r\n\r\n") + pbx(0, b"SIP/2.0 200 OK\r\nm: <sip:frank@198.18.0.99;pn-provider=apns;pn-prid=ff;pn-param=X.voip>\r\nl: 0\r\n\r\n"),
    "max_forwards_zero.bin": app(0, reg(0, APNS).replace(b"Max-Forwards: 70", b"Max-Forwards: 0")),
    "table_full.bin": b"".join(app(i % 4, reg(i % 4, b"<sip:u%d@198.18.0.99;pn-provider=apns;pn-prid=%02x;pn-param=P.voip>;expires=600" % (k, k), user=b"u%d" % k, branch=b"k%d" % k)) + pbx(0, ok(b"<sip:u%d@198.18.0.99;pn-provider=apns;pn-prid=%02x;pn-param=P.voip>" % (k, k), b"Expires: 600\r\n")) for k, i in zip(range(6), range(6))),
}

os.makedirs(D, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
