# SPDX-License-Identifier: BSD-3-Clause
"""An app's side of SIP over TCP or TLS (docs/streams.md): a connection
from an address and port of a lab namespace to sipwake, with the interface
of wakepeers.Endpoint (send, expect, nothing, collect), so the wake-path
steps of wakekit.py run over it unchanged. Messages are cut by
Content-Length as RFC 3261 §18.3 frames them on a stream; a CRLF pong is
kept apart (pongs). Every wait is bounded."""
import os
import select
import socket
import ssl
import subprocess
import time

from wakepeers import PN_PARAM, Endpoint, in_netns
from wakesip import APP4, SW4, SW6, Msg, registrar_ok


def make_cert(tmp, name="edge"):
    """A self-signed P-256 certificate for sipwake's TLS listener (a test
    stands in for the operator's CA). Returns (cert, key) paths."""
    cert, key = os.path.join(tmp, name + ".crt"), os.path.join(tmp, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    "/CN=edge.sipwake.test", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def add_streams(lab, streams, **values):
    """Give @lab (a lab not started yet) a fresh certificate (lab.cert,
    lab.key) and the streams { } group @streams, a template naming them
    %(cert)s and %(key)s, its other fields from @values. Returns @lab."""
    lab.cert, lab.key = make_cert(lab.tmp)
    lab.config_extra += "\n" + streams % dict(values, cert=lab.cert, key=lab.key)
    return lab


def sw_addr(ip):
    """sipwake's address in the family of @ip (SW6 for an IPv6 one)."""
    return SW6 if ":" in ip else SW4


def connect_from(ns, ip, port, dport, timeout, dst=None):
    """A TCP connection made in namespace @ns from @ip:@port to sipwake's
    @dport, over IPv6 when @ip is an IPv6 address; at @dst, an edge of a
    cluster (default: the lab's sipwake, sw_addr)."""
    with in_netns(ns):
        s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    s.settimeout(timeout)
    s.connect((dst or sw_addr(ip), dport))
    return s


class StreamEndpoint(Endpoint):
    """A TCP (or TLS, @cafile: the certificate to trust) connection from
    @ip:@port in namespace @ns to sipwake's @dport (at @dst: connect_from)."""

    def __init__(self, ns, ip, port, transport="TCP", dport=5060, cafile=None, name=None,
                 timeout=5.0, dst=None):
        self.transport = transport
        s = connect_from(ns, ip, port, dport, timeout, dst)
        if transport == "TLS":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_verify_locations(cafile)
            s = ctx.wrap_socket(s, server_hostname="edge.sipwake.test")
        self.s, self.buf, self.pongs = s, b"", 0
        self._ready(ip, port, dport, name)

    def _ready(self, ip, port, dport, name):
        """What every endpoint here keeps, as wakepeers.Endpoint does."""
        self.ip, self.port, self.dport = ip, port, dport
        self.name = name or "%s:%s:%d" % (self.transport.lower(), ip, port)
        self.inbox, self.taken, self.options, self.pings = [], [], 0, []
        self.options_status = 200
        self.eof = False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def send(self, text, dst=None, port=None):
        self.s.sendall(text.encode() if isinstance(text, str) else text)
        return text

    def _frames(self):
        while True:
            if self.buf.startswith(b"\r\n\r\n"):
                self.buf = self.buf[4:]
                continue
            if self.buf.startswith(b"\r\n"):
                self.pongs += 1  # RFC 5626 §4.4.1: the pong to our ping
                self.buf = self.buf[2:]
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode(errors="replace").lower()
            clen = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip() in ("content-length", "l"):
                    clen = int(v.strip())
            if len(self.buf) < end + 4 + clen:
                return
            data, self.buf = self.buf[:end + 4 + clen], self.buf[end + 4 + clen:]
            self.inbox.append(Msg(data, (sw_addr(self.ip), self.dport), time.monotonic()))

    def _pump(self, until):
        while not self.eof:
            pending = isinstance(self.s, ssl.SSLSocket) and self.s.pending() > 0
            left = until - time.monotonic()
            if not pending:
                r, _, _ = select.select([self.s], [], [], max(left, 0))
                if not r:
                    return
            try:
                self.s.setblocking(False)
                data = self.s.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                data = None
            except (ConnectionError, OSError):
                data = b""
            finally:
                self.s.setblocking(True)
            if data is None:
                if left <= 0:
                    return
                continue
            if not data:
                self.eof = True
                return
            self.buf += data
            self._frames()

    def closed_by_peer(self, timeout=3.0):
        """Did sipwake close the connection within @timeout s?"""
        end = time.monotonic() + timeout
        while not self.eof and time.monotonic() < end:
            self._pump(min(end, time.monotonic() + 0.05))
        return self.eof


class WsEndpoint(StreamEndpoint):
    """An app over secure WebSocket (RFC 7118), a client built on
    python3-websockets: the `sip` subprotocol, one SIP message per text
    frame, from @ip:@port in namespace @ns to sipwake's @dport and @path.
    Its Via and Contact use a .invalid host, as web apps write them."""

    def __init__(self, ns, ip, port, dport, path="/", cafile=None, name=None, timeout=5.0,
                 dst=None):
        import asyncio
        import websockets

        self.transport = "WSS"
        self.host = "app%d.invalid" % port
        s = connect_from(ns, ip, port, dport, timeout, dst)
        s.setblocking(False)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile)
        self.loop = asyncio.new_event_loop()

        async def connect():  # made inside the loop it runs on
            return await websockets.connect(
                "wss://edge.sipwake.test:%d%s" % (dport, path), sock=s, ssl=ctx,
                server_hostname="edge.sipwake.test", subprotocols=["sip"],
                ping_interval=None, max_size=65536)
        self.ws = self.loop.run_until_complete(asyncio_wait(connect(), timeout))
        self.subprotocol = self.ws.subprotocol
        self._ready(ip, port, dport, name)

    def close(self):
        if not self.eof:
            try:
                self.loop.run_until_complete(asyncio_wait(self.ws.close(), 2.0))
            except Exception:  # noqa: BLE001 (closing: whatever state it is in)
                pass
            self.eof = True
        self.loop.close()

    def send(self, text, dst=None, port=None):
        self.loop.run_until_complete(asyncio_wait(
            self.ws.send(text if isinstance(text, str) else text.decode()), 5.0))
        return text

    def _pump(self, until):
        import websockets

        while not self.eof:
            left = until - time.monotonic()
            try:
                data = self.loop.run_until_complete(asyncio_wait(self.ws.recv(), max(left, 0)))
            except TimeoutError:
                return
            except websockets.ConnectionClosed:
                self.eof = True
                return
            data = data.encode() if isinstance(data, str) else data
            self.inbox.append(Msg(data, (sw_addr(self.ip), self.dport), time.monotonic()))
            if left <= 0:
                return



def stream_app(ctx, transport="TCP"):
    """A fresh app of a wakekit.Ctx (@ctx) over a @transport ("TCP" or
    "TLS") connection from APP4 to sipwake's listener (5060, or 5061 for
    TLS, trusting @ctx.lab.cert); closed with the Ctx's other apps."""
    ctx.next_port += 1
    ep = StreamEndpoint(ctx.lab.ns_peer, APP4, ctx.next_port, transport,
                        dport=5061 if transport == "TLS" else 5060, cafile=ctx.lab.cert)
    ctx.apps.append(ep)
    return ep


# Each stream transport's listener in the tests' labs (their streams { }).
PORTS = {"TCP": 5060, "TLS": 5061, "WSS": 7443}


def connect_app(lab, kind, ip, port, timeout=8.0):
    """An app's connection of @kind ("TCP", "TLS", "WSS") from @ip:@port
    to @lab's sipwake (PORTS; the lab's certificate trusted; WSS at /sip)."""
    if kind == "WSS":
        return WsEndpoint(lab.ns_peer, ip, port, PORTS[kind], "/sip", cafile=lab.cert,
                          timeout=timeout)
    return StreamEndpoint(lab.ns_peer, ip, port, kind, dport=PORTS[kind], cafile=lab.cert,
                          timeout=timeout)


def stream_contact(dev, ep, pn=True):
    """@dev's contact on connection @ep: ;transport= its own (;ob if @ep
    asks for an outbound flow: RFC 5626), a .invalid host over WSS (RFC
    7118 §5.2); its push address unless not @pn."""
    if ep.transport == "WSS":
        c = "sip:%s@%s;transport=ws" % (dev.user, ep.host)
        return c + (";pn-provider=apns;pn-prid=%s;pn-param=%s" % (dev.token, PN_PARAM)
                    if pn else "")
    return (dev.contact(ep.ip, ep.port, pn) + ";transport=" + ep.transport.lower() +
            (";ob" if getattr(ep, "ob", False) else ""))


def register_stream(ctx, ep, dev, cseq=1):
    """A whole accepted REGISTER of @dev over @ep, through a wakekit.Ctx
    (@ctx): the PBX finds it by +sip.instance (a web app's contact has no
    address) and grants 3600 s. Returns the app's 200."""
    ctx.send_register(ep, dev, cseq=cseq, contact=stream_contact(dev, ep))
    req = ctx.pbx.expect(lambda m: m.method == "REGISTER" and dev.instance in
                         (m.get("Contact") or ""), 3.0, "REGISTER of %s" % dev.aor)
    ctx.pbx.send(registrar_ok(req), *req.src)
    return ep.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0,
                     "200 to the REGISTER")


def asyncio_wait(coro, timeout):
    """@coro within @timeout s; TimeoutError (the builtin) otherwise."""
    import asyncio

    async def run():
        try:
            return await asyncio.wait_for(coro, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError from None
    return run()
