# SPDX-License-Identifier: BSD-3-Clause
"""The wake-path tests' peers (wakekit.py re-exports all of it): network
namespaces for the test's own sockets, the phones (a +sip.instance and an
APNs token each, their push address in the Contact), the UDP endpoints that
play the PBX and the apps inside the lab's peer namespace, and the
predicates a test picks their messages with."""
import contextlib
import ctypes
import hashlib
import os
import select
import socket
import time

from wakesip import DOMAIN, SW4, Msg, host, reply
import swlab  # noqa: E402,I100 (on sys.path once wakesip is imported)

TEAM, BUNDLE, KID = "ABCD123456", "com.example", "KEY1234567"
PN_PARAM = "%s.%s.voip" % (TEAM, BUNDLE)  # RFC 8599 APNs: TeamID.BundleID.voip


# -- network namespaces for the test's own sockets ---------------------------

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def in_netns(name):
    """Run the block on this thread inside network namespace @name (sockets
    made there stay there after the thread has come back)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
        yield
    finally:
        if _libc.setns(own, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(own)
        os.close(target)


# -- devices -----------------------------------------------------------------

def token_of(name):
    return hashlib.sha256(name.encode()).hexdigest()  # 64 hex digits, like APNs


def uuid_of(name):
    h = hashlib.md5(name.encode()).hexdigest()
    return "%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


def short(token):
    return token[:8] + "..." + token[-6:]  # how /sipwake/bindings shows a token


class Device:
    """One phone of @user: its +sip.instance and its APNs token."""

    def __init__(self, user, n=1):
        self.user, self.aor = user, "%s@%s" % (user, DOMAIN)
        self.instance = uuid_of("%s/%d" % (user, n))
        self.token = token_of("%s/%d" % (user, n))

    def contact(self, ip, port, pn=True):
        c = "sip:%s@%s:%d" % (self.user, host(ip), port)
        if pn:
            c += ";pn-provider=apns;pn-prid=%s;pn-param=%s" % (self.token, PN_PARAM)
        return c


class Linphone(Device):
    """An iOS app giving its regular and its VoIP token in one RFC 8599
    Contact, as Linphone (and Flexisip) write it."""

    def __init__(self, user):
        super().__init__(user)
        self.voip, self.regular = self.token, token_of(user + "/regular")

    def contact(self, ip, port, pn=True):
        c = "sip:%s@%s:%d" % (self.user, host(ip), port)
        if pn:
            c += (";pn-provider=apns;pn-prid=%s:remote&%s:voip;pn-param=%s.%s.remote&voip"
                  % (self.regular, self.voip, TEAM, BUNDLE))
        return c



# -- the test's UDP endpoints ------------------------------------------------

REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone",
           481: "Call/Transaction Does Not Exist"}


class Endpoint:
    """A UDP socket in a lab namespace. What arrives is kept until a test
    takes it (expect) or checks that nothing of a kind came (nothing);
    OPTIONS from sipwake (health checks, pings) are answered
    @options_status (200 unless a test sets another: an app that does not
    know the contact pinged answers 404) and kept apart, in @pings. What
    it sends goes to @to (sipwake; in a cluster, the edge it uses) unless
    send() names another destination. An IPv6 @ip makes an IPv6 socket
    (@to then sipwake's IPv6 address)."""

    def __init__(self, ns, ip, port, name=None, to=SW4):
        with in_netns(ns):
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
            self.s = socket.socket(fam, socket.SOCK_DGRAM)
            self.s.bind((ip, port))
        self.ip, self.port, self.name = ip, port, name or "%s:%d" % (ip, port)
        self.to = to
        self.inbox, self.taken, self.options, self.pings = [], [], 0, []
        self.options_status = 200

    def close(self):
        self.s.close()

    def send(self, text, dst=None, port=5060):
        self.s.sendto(text.encode() if isinstance(text, str) else text, (dst or self.to, port))
        return text

    def _pump(self, until):
        while True:
            left = until - time.monotonic()
            r, _, _ = select.select([self.s], [], [], max(left, 0))
            if not r:
                return
            data, src = self.s.recvfrom(65535)
            m = Msg(data, src[:2], time.monotonic())
            if m.method == "OPTIONS":
                self.options += 1
                self.pings.append(m)
                code = self.options_status
                self.s.sendto(reply(m, code, REASONS.get(code, "Refused")).encode(), src)
                continue
            self.inbox.append(m)

    def expect(self, pred, timeout=3.0, what="a message"):
        """The first message (in arrival order) matching @pred, waiting up
        to @timeout s; fails the test with what did arrive otherwise."""
        end = time.monotonic() + timeout
        while True:
            for m in self.inbox:
                if pred(m):
                    self.inbox.remove(m)
                    self.taken.append(m)
                    return m
            if time.monotonic() >= end:
                raise AssertionError("%s: no %s within %.1f s; unclaimed:\n%s" % (
                    self.name, what, timeout, "\n".join(self.inbox)))
            self._pump(min(end, time.monotonic() + 0.05))

    def nothing(self, pred=lambda m: True, timeout=1.0, what="message"):
        """Fail if a message matching @pred arrives within @timeout s (or is
        already waiting)."""
        end = time.monotonic() + timeout
        while True:
            hits = [m for m in self.inbox if pred(m)]
            assert not hits, "%s: unexpected %s:\n%s" % (self.name, what, "\n".join(hits))
            if time.monotonic() >= end:
                return
            self._pump(min(end, time.monotonic() + 0.05))

    def collect(self, pred, timeout):
        """Every message matching @pred within @timeout s (taken)."""
        self._pump(time.monotonic() + timeout)
        hits = [m for m in self.inbox if pred(m)]
        for m in hits:
            self.inbox.remove(m)
        self.taken += hits
        return hits

    def drain(self):
        self._pump(time.monotonic())
        self.inbox.clear()


def is_req(method, cid=None):
    return lambda m: m.method == method and (cid is None or m.call_id == cid)


def is_resp(code, cid=None, meth=None):
    return lambda m: (m.status == code and (cid is None or m.call_id == cid)
                      and (meth is None or m.cseq[1] == meth))


def of_call(cid):
    return lambda m: m.call_id == cid


@contextlib.contextmanager
def far_namespace(lab):
    """A third namespace, 198.19.8.2, one routed hop behind the peer (which
    is sipwake's gateway4): an app that woke up on another network."""
    ns, a, b = lab.name + "-far", lab.name[:11] + "f", lab.name[:11] + "g"
    swlab.run(["ip", "netns", "del", ns], check=False)
    try:
        swlab.run(["ip", "netns", "add", ns])
        swlab.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        swlab.run(["ip", "link", "set", a, "netns", lab.ns_peer])
        swlab.run(["ip", "link", "set", b, "netns", ns])
        lab.peer(["ip", "addr", "add", "198.19.8.1/24", "dev", a])
        lab.peer(["ip", "link", "set", a, "up"])
        lab.peer(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        lab.peer(["ethtool", "-K", a, "tx", "off"])
        far = ["ip", "netns", "exec", ns]
        swlab.run(far + ["ip", "link", "set", "lo", "up"])
        swlab.run(far + ["ip", "addr", "add", "198.19.8.2/24", "dev", b])
        swlab.run(far + ["ip", "link", "set", b, "up"])
        swlab.run(far + ["ip", "route", "add", "default", "via", "198.19.8.1"])
        swlab.run(far + ["ethtool", "-K", b, "tx", "off"])
        yield ns, "198.19.8.2"
    finally:
        swlab.run(["ip", "netns", "del", ns], check=False)
