#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Prometheus exporter for sipwake, Python standard library only.

Reads sipwake's counters from DPDK's telemetry socket
(/var/run/dpdk/<prefix>/dpdk_telemetry.v2) at every scrape and serves them
in the Prometheus text format (version 0.0.4) on /metrics:

  sipwake_up                               1 when the socket answered
  sipwake_info{version,dpdk}               1
  sipwake_workers                          worker lcores
  sipwake_<counter>_total{lcore="N"}       each worker lcore's counters
  sipwake_drops_total{reason,lcore="N"}    each worker lcore's drops by reason
  sipwake_<counter>_total{lcore="main"}    control-plane counters (main lcore),
                                           the wake path's outcomes (wake_*) among them
  sipwake_drops_total{reason,lcore="main"} control-plane drops by reason
  sipwake_neighbours                       entries in the neighbour table
  sipwake_pbx_up                           pbx.servers entries answering their health checks
  sipwake_ring_entries{worker,direction}   a worker's ring to (up) / from (down)
                                           the control plane: entries now
  sipwake_ring_size                        each of those rings' capacity
  sipwake_pool_mbufs{pool}                 mbufs in a packet pool (sw_pkt, sw_jumbo)
  sipwake_pool_mbufs_in_use{pool}          of them, in use now
  sipwake_held_calls                       INVITEs held on the wake path now
  sipwake_held_oldest_age_ms               age of the oldest one
  sipwake_push_<counter>_total{provider}   pushd's counters (PD_FOREACH_COUNTER):
                                           submitted, delivered, rejected, ...
  sipwake_push_in_flight{provider}         pushes waiting for the provider's answer
  sipwake_push_connections_up{provider}    HTTP/2 connections ready, and
  sipwake_push_connections_configured{provider}  credentials configured
  sipwake_push_latency_us{provider,quantile}     push latency since start
                                           (quantile 0.5, 0.9, 0.99)
  sipwake_push_credential_up{credential}   1 when that credential's connection is up
  sipwake_conns_*{transport}               the streams thread's connections (/sipwake/conns)
  sipwake_cluster_*                        the link to Redis, journal, peers (/sipwake/cluster)

HELP lines of sipwake_<counter>_total come from /sipwake/describe (read
page after page: /sipwake/describe,<n> until an empty one), which sipwake
builds from the same lists as the counters; those of the push
counters name pushd/pd.h, where their descriptions live. Usage:

  sipwake-exporter.py [--prefix rte] [--listen 127.0.0.1:9555]
"""
import argparse
import json
import os
import re
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME_DIR = "/var/run/dpdk"
NAME_OK = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Telemetry:
    """One connection to DPDK's telemetry socket (SOCK_SEQPACKET, JSON)."""

    def __init__(self, path, timeout=2.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(timeout)
        self.s.connect(path)
        hello = json.loads(self.s.recv(16384).decode())
        self.max_len = int(hello.get("max_output_len", 16384))

    def get(self, cmd):
        self.s.send(cmd.encode())
        reply = json.loads(self.s.recv(self.max_len + 1024).decode())
        return reply.get(cmd.split(",")[0])

    def close(self):
        self.s.close()


def esc(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(d):
    return "{" + ",".join('%s="%s"' % (k, esc(v)) for k, v in d.items()) + "}" if d else ""


class Families:
    """Metric families in first-seen order, each with HELP, TYPE and samples."""

    def __init__(self):
        self.fams = {}

    def add(self, name, kind, help_text, value, lbls=None):
        fam = self.fams.setdefault(name, {"type": kind, "help": help_text, "samples": []})
        fam["samples"].append((lbls or {}, value))

    def text(self):
        out = []
        for name, fam in self.fams.items():
            out.append("# HELP %s %s" % (name, fam["help"].replace("\\", "\\\\")
                                         .replace("\n", "\\n")))
            out.append("# TYPE %s %s" % (name, fam["type"]))
            for lbls, value in fam["samples"]:
                out.append("%s%s %d" % (name, labels(lbls), value))
        return "\n".join(out) + "\n"


def add_stats(fams, stats, desc, lcore, skip=()):
    """Counters of one /sipwake/stats answer; drops become one family."""
    for key, value in stats.items():
        if key in skip or not isinstance(value, int) or key in ("worker", "lcore", "dropped"):
            continue
        if key.startswith("drop_"):
            reason = key[len("drop_"):]
            fams.add("sipwake_drops_total", "counter",
                     "packets sipwake dropped, by reason (see /sipwake/describe)", value,
                     {"reason": reason, "lcore": lcore})
        elif NAME_OK.match(key):
            fams.add("sipwake_%s_total" % key, "counter", desc.get(key, key), value,
                     {"lcore": lcore})


PUSH_GAUGES = {
    "in_flight": "pushes submitted and not answered yet",
    "connections_up": "HTTP/2 connections to the push provider ready",
    "connections_configured": "credentials configured for the push provider",
}
PUSH_QUANTILES = (("latency_p50_us", "0.5"), ("latency_p90_us", "0.9"),
                  ("latency_p99_us", "0.99"))


def add_push(fams, push):
    """/sipwake/push: pushd's counters and gauges per provider, credentials."""
    for provider, st in sorted(push.items()):
        if provider == "credentials" or not isinstance(st, dict):
            continue
        lbl = {"provider": provider}
        for key, value in st.items():
            if not isinstance(value, int) or not NAME_OK.match(key):
                continue
            if key in PUSH_GAUGES:
                fams.add("sipwake_push_" + key, "gauge", PUSH_GAUGES[key], value, lbl)
            elif key.startswith("latency_") or key.startswith("config_alarm"):
                continue
            else:
                fams.add("sipwake_push_%s_total" % key, "counter",
                         "pushd's %s counter, per push provider (pushd/pd.h)" % key, value, lbl)
        for key, q in PUSH_QUANTILES:
            if isinstance(st.get(key), int):
                fams.add("sipwake_push_latency_us", "gauge",
                         "push latency since start, submitted to the provider's answer, us",
                         st[key], dict(lbl, quantile=q))
    for cred, up in sorted((push.get("credentials") or {}).items()):
        if isinstance(up, int):
            fams.add("sipwake_push_credential_up", "gauge",
                     "1 when the push connection of that credential (provider_index) is up",
                     up, {"credential": cred})


CONN_GAUGES = {
    "open": "stream connections open now",
    "handshaking": "stream connections still in their TLS or WebSocket handshake",
}
CONN_TOP_GAUGES = {
    "oldest_s": "age of the oldest open stream connection, seconds",
    "idlest_s": "longest time an open stream connection has gone without a byte in, seconds",
    "mem_bytes": "memory the stream connections hold (buffers, TLS), estimated",
}


def add_conns(fams, conns):
    """/sipwake/conns: the streams thread's connections per transport."""
    for tp, st in sorted(conns.items()):
        if not isinstance(st, dict):
            continue
        lbl = {"transport": tp}
        for key, value in st.items():
            if not isinstance(value, int) or not NAME_OK.match(key):
                continue
            if key in CONN_GAUGES:
                fams.add("sipwake_conns_" + key, "gauge", CONN_GAUGES[key], value, lbl)
            elif key.startswith("closed_"):
                fams.add("sipwake_conns_closed_total", "counter",
                         "stream connections ended, by reason (streams/st.h)", value,
                         dict(lbl, reason=key[len("closed_"):]))
            else:
                fams.add("sipwake_conns_%s_total" % key, "counter",
                         "the streams thread's %s counter, per transport (streams/st.h)" % key,
                         value, lbl)
    for key, value in sorted(conns.items()):
        if not isinstance(value, int) or not NAME_OK.match(key):
            continue
        if key in CONN_TOP_GAUGES:
            fams.add("sipwake_conns_" + key, "gauge", CONN_TOP_GAUGES[key], value)
        else:
            fams.add("sipwake_conns_%s_total" % key, "counter",
                     "the streams thread's %s counter (streams/st.h)" % key, value)


# /sipwake/cluster: gauges (the rest of its numbers are counters).
CLUSTER_GAUGES = {
    "state": "the Redis link: 0 down, 1 resyncing, 2 up (docs/cluster.md)",
    "inflight": "batches sent to Redis and not answered yet",
    "feed_lag_ms": "age of the last change read from the change feed, ms",
    "journal_depth": "changes in the local journal, waiting for Redis",
    "peers": "other edges configured (cluster.peers)",
    "peers_up": "other edges answering their health checks",
}


def add_cluster(fams, cl):
    """/sipwake/cluster: the link to Redis, the journal, the peers."""
    for key, value in sorted(cl.items()):
        if not isinstance(value, int) or not NAME_OK.match(key):
            continue
        if key in CLUSTER_GAUGES:
            fams.add("sipwake_cluster_" + key, "gauge", CLUSTER_GAUGES[key], value)
        else:
            fams.add("sipwake_cluster_%s_total" % key, "counter",
                     "the cluster link's %s counter (docs/cluster.md)" % key, value)
    if isinstance(cl.get("backend"), str):
        fams.add("sipwake_cluster_info", "gauge", "the binding store's backend and this edge",
                 1, {"backend": cl["backend"], "edge": str(cl.get("edge", ""))})



def describe(tel):
    """Every page of /sipwake/describe merged (cp_telemetry.c: 64 keys a
    page, an empty one past the last; at most 64 pages)."""
    desc = {}
    for page in range(64):
        got = tel.get("/sipwake/describe,%d" % page)
        if not got:
            break
        desc.update(got)
    return desc

def collect(path):
    fams = Families()
    try:
        tel = Telemetry(path)
    except OSError:
        fams.add("sipwake_up", "gauge", "1 when sipwake's telemetry socket answered", 0)
        return fams.text()
    try:
        info = tel.get("/sipwake/info")
        if not isinstance(info, dict):
            raise ValueError("sipwake has not registered its telemetry yet")
        desc = describe(tel)
        fams.add("sipwake_up", "gauge", "1 when sipwake's telemetry socket answered", 1)
        fams.add("sipwake_info", "gauge", "sipwake and DPDK versions", 1,
                 {"version": info.get("version", "?"), "dpdk": info.get("dpdk", "?")})
        fams.add("sipwake_workers", "gauge", "worker lcores", int(info.get("workers", 0)))
        fams.add("sipwake_neighbours", "gauge", "entries in the neighbour table",
                 int(info.get("neighbours", 0)))
        pbx = info.get("pbx") or {}
        if isinstance(pbx.get("up"), int):
            fams.add("sipwake_pbx_up", "gauge",
                     "pbx.servers entries answering their health checks", pbx["up"])
        worker_keys = set()
        for w in range(int(info.get("workers", 0))):
            st = tel.get("/sipwake/stats,%d" % w) or {}
            worker_keys.update(st.keys())
            add_stats(fams, st, desc, str(st.get("lcore", w)))
        # What only the control plane counts: the total minus the workers' keys.
        total = tel.get("/sipwake/stats") or {}
        add_stats(fams, total, desc, "main", skip=worker_keys)
        # Gauges: each worker's rings to / from the control plane, held calls.
        rings = info.get("rings") or {}
        for key, value in sorted(rings.items()):
            if key.startswith("w") and "_" in key and isinstance(value, int):
                worker, direction = key[1:].split("_", 1)
                fams.add("sipwake_ring_entries", "gauge",
                         "entries on a worker's ring to (up) or from (down) the control plane",
                         value, {"worker": worker, "direction": direction})
        if isinstance(rings.get("size"), int):
            fams.add("sipwake_ring_size", "gauge",
                     "capacity of each worker's ring to or from the control plane",
                     rings["size"])
        pools = info.get("pools") or {}
        for key, value in sorted(pools.items()):
            if key.endswith("_size") and isinstance(value, int):
                fams.add("sipwake_pool_mbufs", "gauge", "mbufs in a packet pool", value,
                         {"pool": key[:-len("_size")]})
        for key, value in sorted(pools.items()):
            if key.endswith("_in_use") and isinstance(value, int):
                fams.add("sipwake_pool_mbufs_in_use", "gauge",
                         "mbufs of a packet pool in use now (leak: grows without end)", value,
                         {"pool": key[:-len("_in_use")]})
        held = tel.get("/sipwake/held")
        if isinstance(held, dict) and isinstance(held.get("held"), int):
            fams.add("sipwake_held_calls", "gauge",
                     "INVITEs held on the wake path, waiting for a final answer", held["held"])
            fams.add("sipwake_held_oldest_age_ms", "gauge",
                     "age of the oldest held INVITE, ms", int(held.get("oldest_age_ms", 0)))
        add_push(fams, tel.get("/sipwake/push") or {})
        conns = tel.get("/sipwake/conns")
        if isinstance(conns, dict):
            add_conns(fams, conns)
        cl = tel.get("/sipwake/cluster")
        if isinstance(cl, dict):
            add_cluster(fams, cl)
    except (OSError, ValueError) as e:
        fams = Families()
        fams.add("sipwake_up", "gauge", "1 when sipwake's telemetry socket answered (%s)"
                 % str(e)[:80], 0)
    finally:
        tel.close()
    return fams.text()


def make_handler(path):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics here")
                return
            body = collect(path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description="Prometheus exporter for sipwake")
    ap.add_argument("--prefix", default="rte", help="DPDK --file-prefix sipwake runs with")
    ap.add_argument("--runtime-dir", default=RUNTIME_DIR)
    ap.add_argument("--listen", default="127.0.0.1:9555", help="address:port to serve on")
    ap.add_argument("--once", action="store_true", help="print one scrape and exit")
    a = ap.parse_args(argv)
    path = os.path.join(a.runtime_dir, a.prefix, "dpdk_telemetry.v2")
    if a.once:
        sys.stdout.write(collect(path))
        return 0
    host, _, port = a.listen.rpartition(":")
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), make_handler(path))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
