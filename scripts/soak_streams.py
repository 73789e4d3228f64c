# SPDX-License-Identifier: BSD-3-Clause
"""The soak's phones over TLS and TCP (scripts/soak_peers.py): one
connection per phone, as an app holds its flow (RFC 5626), made from the
lab's app address to sipwake's listener (docs/streams.md), read without blocking
from the soak's event loop and cut into SIP messages by Content-Length as
the tests' stream peer does (tests/integration/streampeer.py).

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
from streampeer import StreamEndpoint  # noqa: E402
from wakesip import APP4  # noqa: E402

# The listeners of the soak's lab (streams_config, for scripts/soak.py)
LISTEN = {"TCP": 5060, "TLS": 5061}
PORT0, PORTS = 40000, 20000  # the phones' source ports, used in turn
# Each open connection sends a CRLF keepalive this often (RFC 5626 §4.4.1):
# well within the soak's streams.idle_s (IDLE_S), which closes a silent one.
KEEPALIVE_S, IDLE_S = 30, 120
CONNECT_TIMEOUT_S = 5.0


class StreamHost:
    """One phone's connection to sipwake over @transport ("TLS": @cafile
    trusted, or "TCP"), with soak_peers.Host's interface (send, contact,
    answer_contact, awake, port, last_tx). @awake: False for a background
    refresh, closed once answered."""

    def __init__(self, ns, transport, port, cafile, dev, awake):
        self.ep = StreamEndpoint(ns, APP4, port, transport, dport=LISTEN[transport],
                                 cafile=cafile, timeout=CONNECT_TIMEOUT_S)
        self.transport, self.s, self.port, self.dev = transport, self.ep.s, port, dev
        self.awake = awake
        self.closed = False
        self.last_tx = self.last_ka = time.monotonic()

    def fileno(self):
        return self.s.fileno()

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
            self.ep.send(b"\r\n\r\n")
            self.last_ka = now

    def close(self):
        """The app goes (or its OS closes the flow): a FIN, no close_notify."""
        if not self.closed:
            self.closed, self.awake = True, False
            self.ep.close()
            self.last_tx = time.monotonic()


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
    streampeer.add_streams: %(cert)s and %(key)s): TCP and TLS; every
    phone shares one IP (198.18.0.2), so the per-source limits are the
    box's."""
    conns = max(64, n_phones * 2)
    return ('streams: { tcp = { port = %d; }; '
            'tls = { port = %d; cert = "%%(cert)s"; key = "%%(key)s"; }; '
            'max_conns = %d; max_conns_per_source = %d; idle_s = %d; '
            'syn_rate = 2000; syn_burst = 4000; };'
            % (LISTEN["TCP"], LISTEN["TLS"], conns, conns, IDLE_S))


class NoFlow:
    """A stream phone's host before its first connection: none open."""

    awake, closed, port, last_tx = False, True, 0, 0.0

    def __init__(self, transport):
        self.transport = transport
