# SPDX-License-Identifier: BSD-3-Clause
"""SIP as the wake-path tests read and write it (wakekit.py re-exports all of
it): the lab's addresses and domain, a received datagram parsed just enough
to check it (Msg), a message built from its lines, the PBX's side of one
call (Call: its INVITE, CANCEL, ACK and in-dialog requests) and a UAS's
response to a request (reply), byte for byte as RFC 3261 has them."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import swlab  # noqa: E402

SW4, APP4, PBX4 = swlab.SW_IP4, swlab.PEER_IP4, swlab.PBX_IP4
SW6, APP6, PBX6 = swlab.SW_IP6, swlab.PEER_IP6, swlab.PBX_IP6
DOMAIN = "example.com"


def host(ip):
    """@ip as the host of a SIP URI or Via: an IPv6 address in brackets
    (RFC 3261 §25.1, IPv6reference)."""
    return "[%s]" % ip if ":" in ip else ip


COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported"}


class Msg(str):
    """One received datagram, parsed just enough to check it. As a string it
    is the datagram with where and when it came from (what a failed assert
    shows in full)."""

    def __new__(cls, data, src, when):
        return str.__new__(cls, "--- from %s:%d at %.3f\n%s" % (
            src[0], src[1], when, data.decode(errors="replace")))

    def __init__(self, data, src, when):
        self.text = data.decode(errors="replace")
        self.src, self.t = src, when
        head, _, self.body = self.text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.hdrs = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.hdrs:  # folded line
                self.hdrs[-1] = (self.hdrs[-1][0], self.hdrs[-1][1] + " " + line.strip())
                continue
            k, _, v = line.partition(":")
            k = k.strip().lower()
            self.hdrs.append((COMPACT.get(k, k), v.strip()))
        m = re.match(r"SIP/2\.0 (\d{3})", self.start)
        self.status = int(m.group(1)) if m else 0
        self.method = None if m else self.start.split(" ", 1)[0]
        self.ruri = None if m else self.start.split(" ")[1]

    def all(self, name):
        """Every value of header @name; comma-separated Via / Record-Route /
        Route values split (no quoted commas in what these tests send)."""
        vals = [v for k, v in self.hdrs if k == name.lower()]
        if name.lower() in ("via", "record-route", "route"):
            vals = [p.strip() for v in vals for p in v.split(",")]
        return vals

    def get(self, name, default=None):
        v = self.all(name)
        return v[0] if v else default

    @property
    def call_id(self):
        return self.get("Call-ID")

    @property
    def cseq(self):
        n, _, meth = (self.get("CSeq") or "0 X").partition(" ")
        return int(n), meth.strip()

    def to_tag(self):
        m = re.search(r";\s*tag=([^;>\s]+)", self.get("To", ""))
        return m.group(1) if m else None

    def branch(self):
        m = re.search(r";\s*branch=([^;,\s]+)", self.get("Via", ""))
        return m.group(1) if m else None


def plain_via(v):
    """A Via value without the received / rport a server may stamp on it
    (RFC 3261 §18.2.1, RFC 3581)."""
    return re.sub(r";\s*(received=[^;,\s]*|rport(=\d*)?)", "", v)


def vias(m):
    return [plain_via(v) for v in m.all("Via")]


def build(start, headers, body=""):
    return "\r\n".join([start] + headers + ["Content-Length: %d" % len(body), "", body])


SDP_PBX = ("v=0\r\no=pbx 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (PBX4, PBX4))
SDP_APP = ("v=0\r\no=app 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
           "m=audio 42000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (APP4, APP4))


class Call:
    """The PBX's side of one call: the INVITE it sends through sipwake and
    the requests that belong to it (CANCEL, ACK, BYE), byte for byte as a
    PBX builds them (RFC 3261 §9.1, §17.1.1.3, §13.2.2.4). @edge: the
    sipwake it goes through (its address in the Route; where the PBX sends
    the INVITE, CANCEL and ACK), one of several in a cluster; @pbx: the
    PBX's address (PBX6 for a call over IPv6, with @edge SW6)."""

    _n = 0

    def __init__(self, ruri, to_user, route=True, pbx_port=5060, edge=SW4, pbx=PBX4):
        Call._n += 1
        self.ruri, self.route, self.edge, self.pbx = ruri, route, edge, pbx
        self.cid = "wake-%d-%d@pbx.example.net" % (os.getpid(), Call._n)
        self.branch = "z9hG4bK-pbx%d-%d" % (os.getpid(), Call._n)
        self.via = "SIP/2.0/UDP %s:%d;branch=%s" % (host(pbx), pbx_port, self.branch)
        self.frm = '"Caller" <sip:+15550001111@pbx.example.net>;tag=pbx%d' % Call._n
        self.to = "<sip:%s@%s>" % (to_user, DOMAIN)
        self.contact = "<sip:+15550001111@%s:%d>" % (host(pbx), pbx_port)
        self.invite = build("INVITE %s SIP/2.0" % ruri, [
            "Via: " + self.via, "Max-Forwards: 70"] +
            (["Route: <sip:%s;lr>" % host(edge)] if route else []) + [
            "From: " + self.frm, "To: " + self.to, "Call-ID: " + self.cid,
            "CSeq: 1 INVITE", "Contact: " + self.contact, "Content-Type: application/sdp"],
            SDP_PBX)

    def cancel(self):
        """§9.1: same Request-URI, Call-ID, From, To (no tag), branch, Route."""
        return build("CANCEL %s SIP/2.0" % self.ruri, [
            "Via: " + self.via, "Max-Forwards: 70"] +
            (["Route: <sip:%s;lr>" % host(self.edge)] if self.route else []) + [
            "From: " + self.frm, "To: " + self.to, "Call-ID: " + self.cid,
            "CSeq: 1 CANCEL"])

    def ack_final(self, resp):
        """§17.1.1.3: the ACK for a non-2xx final answer, same branch."""
        return build("ACK %s SIP/2.0" % self.ruri, [
            "Via: " + self.via, "Max-Forwards: 70"] +
            (["Route: <sip:%s;lr>" % host(self.edge)] if self.route else []) + [
            "From: " + self.frm, "To: " + resp.get("To"), "Call-ID: " + self.cid,
            "CSeq: 1 ACK"])

    def in_dialog(self, method, ok, cseq):
        """ACK (for a 2xx) or BYE: to the 200's Contact along its
        Record-Route set (§12.1.2: the UAC uses it reversed)."""
        target = re.search(r"<([^>]+)>", ok.get("Contact")).group(1)
        routes = list(reversed(ok.all("Record-Route")))
        return build("%s %s SIP/2.0" % (method, target), [
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-pbx%s-%d" % (host(self.pbx), method.lower(),
                                                                 Call._n * 100 + cseq),
            "Max-Forwards: 70"] + ["Route: " + r for r in routes] + [
            "From: " + self.frm, "To: " + ok.get("To"), "Call-ID: " + self.cid,
            "CSeq: %d %s" % (cseq, method)])


def reply(req, code, reason, tag=None, extra=(), body="", contact=None):
    """A UAS's response to @req (§8.2.6): Vias, From, To (+tag), Call-ID,
    CSeq; a dialog-creating one copies the Record-Route set (§12.1.1)."""
    to = req.get("To")
    if tag and ";tag=" not in to:
        to += ";tag=" + tag
    h = ["Via: " + v for v in req.all("Via")]
    if req.method == "INVITE" and code > 100 and code < 300:
        h += ["Record-Route: " + r for r in req.all("Record-Route")]
    h += ["From: " + req.get("From"), "To: " + to, "Call-ID: " + req.call_id,
          "CSeq: " + req.get("CSeq")]
    if contact:
        h.append("Contact: <%s>" % contact)
    if body:
        h.append("Content-Type: application/sdp")
    return build("SIP/2.0 %d %s" % (code, reason), h + list(extra), body)


def registrar_ok(req, expires=3600):
    """A registrar's 200 to the REGISTER @req: each Contact it lists, other
    parameters kept, granted @expires s (RFC 3261 §10.3 step 8)."""
    return reply(req, 200, "OK", tag="pbxreg", extra=[
        "Contact: %s;expires=%d" % (re.sub(r";expires=\d+", "", c), expires)
        for c in req.all("Contact")])
