# SPDX-License-Identifier: BSD-3-Clause
"""The soak's phones over TLS, TCP and secure WebSocket
(scripts/soak_peers.py): one connection per phone, as an app holds its
flow (RFC 5626), made from the lab's app address to sipwake's listener
(docs/streams.md) by the tests' stream peers (tests/integration/
streampeer.py: TCP and TLS cut into SIP messages by Content-Length, WSS
a message per frame over python3-websockets), read from the soak's event
loop when their socket is readable.

A phone over a stream is awake exactly while its connection is open (sipwake
sends it no pings: docs/streams.md, "Flows"); it falls asleep by closing
it, as a suspended app's connection goes; a push wakes it onto a new
connection (a new source port), over which it registers and takes the
held call. Asleep, it refreshes its binding over a short connection of its
own (a background refresh), closed once the REGISTER is answered."""
import os
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from streampeer import StreamEndpoint, WsEndpoint, asyncio_wait  # noqa: E402
from wakepeers import PN_PARAM  # noqa: E402
from wakesip import APP4  # noqa: E402

# The listeners of the soak's lab (streams_config, for scripts/soak.py)
LISTEN = {"TCP": 5060, "TLS": 5061, "WSS": 7443}
WS_PATH = "/sip"
PORT0, PORTS = 40000, 20000  # the phones' source ports, used in turn
# Each open connection sends a keepalive this often (a CRLF one, RFC 5626
# §4.4.1; a ping over WebSocket, RFC 7118 §6): well within the soak's
# streams.idle_s (IDLE_S), which closes a silent one.
KEEPALIVE_S, IDLE_S = 30, 120
CONNECT_TIMEOUT_S = 5.0


class StreamHost:
    """One phone's connection to sipwake (at @dst: an edge of a cluster)
    over @transport ("TLS": @cafile trusted, or "TCP"), with soak_peers.Host's interface (send, contact,
    answer_contact, awake, port, last_tx). @awake: False for a background
    refresh, closed once answered."""

    def __init__(self, ns, transport, port, cafile, dev, awake, dst=None):
        self.ep = StreamEndpoint(ns, APP4, port, transport, dport=LISTEN[transport],
                                 cafile=cafile, timeout=CONNECT_TIMEOUT_S, dst=dst)
        self.transport, self.s, self.port, self.dev = transport, self.ep.s, port, dev
        self.awake = awake
        self.closed = False
        self.last_tx = self.last_ka = time.monotonic()

    def sent_by(self):
        """The Via's sent-by of this flow."""
        return "%s:%d" % (APP4, self.port)

    def send(self, text, dst=None):
        try:
            self.ep.send(text)
        except OSError:
            return  # closed under it: its read says so (soak_peers.Peers._flow_in)
        self.last_tx = time.monotonic()

    def contact(self, d):
        """@d's Contact over this flow: its push address, its transport,
        and ;ob (it keeps the flow: RFC 5626 §5)."""
        return d.contact(APP4, self.port) + ";transport=%s;ob" % self.transport.lower()

    def answer_contact(self, user):
        return "sip:%s@%s:%d;transport=%s" % (user, APP4, self.port, self.transport.lower())

    def read(self):
        """The messages come in so far; .eof once sipwake has closed. Not
        StreamEndpoint's _pump: its select() stops at descriptor 1023."""
        ep = self.ep
        ep.s.setblocking(False)
        try:
            while True:
                try:
                    data = ep.s.recv(65536)
                except (ssl.SSLWantReadError, BlockingIOError):
                    break
                except OSError:
                    data = b""
                if not data:
                    ep.eof = True
                    break
                ep.buf += data
                ep._frames()
        finally:
            ep.s.setblocking(True)
        msgs, ep.inbox = ep.inbox, []
        return msgs

    @property
    def eof(self):
        return self.ep.eof

    def keepalive(self, now):
        if now - self.last_ka >= KEEPALIVE_S:
            self._keepalive()
            self.last_ka = now

    def _keepalive(self):
        self.ep.send(b"\r\n\r\n")

    def close(self):
        """The app goes (or its OS closes the flow): a FIN, no close_notify."""
        if not self.closed:
            self.closed, self.awake = True, False
            self.ep.close()
            self.last_tx = time.monotonic()


class WssHost(StreamHost):
    """A phone over secure WebSocket (RFC 7118): streampeer.WsEndpoint, the
    `sip` subprotocol, a .invalid host in its Via and Contact as web apps
    write them; pings for keepalives; a close frame when it goes."""

    def __init__(self, ns, transport, port, cafile, dev, awake, dst=None):
        self.ep = WsEndpoint(ns, APP4, port, LISTEN["WSS"], WS_PATH, cafile=cafile,
                             timeout=CONNECT_TIMEOUT_S, dst=dst)
        sock = self.ep.ws.transport.get_extra_info("socket")  # for the soak's selector
        self.transport, self.s, self.port, self.dev = "WSS", sock, port, dev
        self.awake = awake
        self.closed = False
        self.last_tx = self.last_ka = time.monotonic()

    def sent_by(self):
        return self.ep.host

    def contact(self, d):
        return "sip:%s@%s;transport=ws;pn-provider=apns;pn-prid=%s;pn-param=%s;ob" % (
            d.user, self.ep.host, d.token, PN_PARAM)

    def answer_contact(self, user):
        return "sip:%s@%s;transport=ws" % (user, self.ep.host)

    def send(self, text, dst=None):
        try:
            self.ep.send(text)
        except Exception:  # noqa: BLE001 (websockets' ConnectionClosed, timeouts)
            return  # closed under it: its read says so
        self.last_tx = time.monotonic()

    def read(self):
        """Every message websockets has whole: each recv() waits at most
        2 ms for the next (one of 0 s would never read)."""
        ep, n = self.ep, -1
        while not ep.eof and n != len(ep.inbox):
            n = len(ep.inbox)
            ep._pump(time.monotonic() + 0.002)
        msgs, ep.inbox = ep.inbox, []
        return msgs

    def _keepalive(self):
        self.ep.loop.run_until_complete(asyncio_wait(self.ep.ws.ping(), 2.0))


def stream_host(ns, transport, port, cafile, dev, awake, dst):
    """A new connection over @transport ("TLS", "TCP", "WSS") for @dev to
    the edge at @dst (@cafile: its certificate)."""
    cls = WssHost if transport == "WSS" else StreamHost
    return cls(ns, transport, port, cafile, dev, awake, dst)


class Ports:
    """Source ports for new connections, in turn over PORTS of them, so
    that none is reused while its last connection may be in TIME_WAIT."""

    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        return PORT0 + self.n % PORTS


def streams_config(n_phones):
    """The streams { } group of the soak's lab (a template for
    streampeer.add_streams: %(cert)s and %(key)s): TCP, TLS and WSS; every
    phone shares one IP (198.18.0.2), so the per-source limits are the
    box's."""
    conns = max(64, n_phones * 2)
    return ('streams: { tcp = { port = %d; }; '
            'tls = { port = %d; cert = "%%(cert)s"; key = "%%(key)s"; }; '
            'wss = { port = %d; path = "%s"; cert = "%%(cert)s"; key = "%%(key)s"; }; '
            'max_conns = %d; max_conns_per_source = %d; idle_s = %d; '
            'syn_rate = 2000; syn_burst = 4000; };'
            % (LISTEN["TCP"], LISTEN["TLS"], LISTEN["WSS"], WS_PATH, conns, conns, IDLE_S))


class NoFlow:
    """A stream phone's host before its first connection: none open."""

    awake, closed, port, last_tx = False, True, 0, 0.0

    def __init__(self, transport):
        self.transport = transport
