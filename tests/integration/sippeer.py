# SPDX-License-Identifier: BSD-3-Clause
"""Byte-level SIP peers for the integration tests, run inside the lab's peer
namespace (``python3 -c`` with this directory on sys.path).

sipp plays the apps and the PBX where a whole dialog is scripted; these
helpers are for the steps sipp cannot check precisely: which expiry the PBX
granted, a REGISTER replayed from another source, a PBX that stays silent.
Every receive has a timeout: a step that does not happen fails the test.
"""
import json
import os
import re
import socket

HERE = os.path.dirname(os.path.abspath(__file__))
SW4 = "198.18.0.1"
APP4 = "198.18.0.2"
PBX4 = "198.18.0.5"
TOKEN = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"
TOPIC = "ABCD123456.com.example.voip"


class Peer:
    def __init__(self, ip, port, timeout=3.0):
        fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_DGRAM)
        self.s.bind((ip, port))
        self.s.settimeout(timeout)
        self.ip, self.port = ip, port

    def send(self, text, dst=SW4, port=5060):
        self.s.sendto(text.encode(), (dst, port))

    def recv(self, timeout=None, options=False):
        """(text, (ip, port)); raises socket.timeout. sipwake's own OPTIONS
        (PBX health checks, pings) are skipped unless @options: then only
        they are returned."""
        if timeout is not None:
            self.s.settimeout(timeout)
        while True:
            data, src = self.s.recvfrom(65535)
            text = data.decode()
            if text.startswith("OPTIONS ") == options:
                return text, src[:2]

    def recv_none(self, timeout=1.0, options=False):
        try:
            return self.recv(timeout, options)[0]
        except socket.timeout:
            return None


def contact_uri(user, ip, port, form="rfc8599", token=TOKEN):
    if form == "rfc8599":
        return "sip:%s@%s:%d;pn-provider=apns;pn-prid=%s;pn-param=%s" % (
            user, ip, port, token, TOPIC)
    if form == "legacy":
        return "sip:%s@%s:%d;pn-type=apple;pn-tok=%s;app-id=%s" % (
            user, ip, port, token, TOPIC)
    return "sip:%s@%s:%d" % (user, ip, port)


def register(peer, user="alice", domain="example.com", cseq=1, branch="z9hG4bK-r1",
             call_id="reg-1@app", contact=None, expires=600, instance=None, auth=False,
             xpush=None, star=False):
    contact = contact or contact_uri(user, peer.ip, peer.port)
    hdrs = [
        "REGISTER sip:%s SIP/2.0" % domain,
        "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (peer.ip, peer.port, branch),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=app%d" % (user, domain, cseq),
        "To: <sip:%s@%s>" % (user, domain),
        "Call-ID: %s" % call_id,
        "CSeq: %d REGISTER" % cseq,
    ]
    if star:
        hdrs += ["Contact: *", "Expires: 0"]
    else:
        inst = ';+sip.instance="<urn:uuid:%s>"' % instance if instance else ""
        hdrs.append("Contact: <%s>%s;expires=%d" % (contact, inst, expires))
    if xpush:
        hdrs.append("X-Push: " + xpush)
    if auth:
        hdrs.append('Authorization: Digest username="%s", realm="%s", nonce="n1", '
                    'uri="sip:%s", response="00000000000000000000000000000000"'
                    % (user, domain, domain))
    return "\r\n".join(hdrs + ["Content-Length: 0", "", ""])


def headers(msg, name):
    """Values of every header @name (long form, case-insensitive)."""
    out = []
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            out.append(v.strip())
    return out


def status(msg):
    m = re.match(r"SIP/2\.0 (\d{3})", msg)
    return int(m.group(1)) if m else 0


def answer(req, code, reason, extra=(), contacts=None, to_tag="pbx1"):
    """A response to @req from the PBX: Vias, From, To (+tag), Call-ID, CSeq."""
    out = ["SIP/2.0 %d %s" % (code, reason)]
    out += ["Via: " + v for v in headers(req, "Via")]
    out += ["From: " + headers(req, "From")[0]]
    out += ["To: %s;tag=%s" % (headers(req, "To")[0], to_tag)]
    out += ["Call-ID: " + headers(req, "Call-ID")[0], "CSeq: " + headers(req, "CSeq")[0]]
    for c in contacts or []:
        out.append("Contact: " + c)
    out += list(extra)
    return "\r\n".join(out + ["Content-Length: 0", "", ""])


def emit(obj):
    print(json.dumps(obj))


def peer_py(lab, code, timeout=30):
    """From the test (outside the namespaces): run @code in @lab's peer
    namespace with this module imported as P; return the JSON it printed
    last. Fails the test when the code fails."""
    src = "import sys; sys.path.insert(0, %r)\nimport sippeer as P\n%s" % (HERE, code)
    p = lab.peer(["/usr/bin/python3", "-c", src], check=False, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:] + lab.read_log()[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])
