# SPDX-License-Identifier: BSD-3-Clause
"""The Prometheus exporter (scripts/sipwake-exporter.py) against a running
sipwake: its output parses as the Prometheus text format (with
prometheus_client's own parser) and every sample matches the telemetry
socket (pushd's per provider included); the Grafana dashboard only uses
metrics the exporter serves, has the wake-path and push panels, and its
panels do not overlap."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import swlab
from test_skeleton import sip_options
from waits import wait_for

EXPORTER = os.path.join(swlab.REPO, "scripts", "sipwake-exporter.py")
DASHBOARD = os.path.join(swlab.REPO, "docs", "grafana", "sipwake.json")


@pytest.fixture(scope="module")
def elab():
    with swlab.Lab(name="swe%d" % (os.getpid() % 10000)) as lab:
        yield lab
        assert lab.stop() == 0, lab.read_log()


def samples(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_exporter_matches_socket(elab):
    elab.udp_send([b"\r\n\r\n", b"GET / HTTP/1.0\r\n\r\n",
                   sip_options("sip:alice@%s" % swlab.SW_IP4)], sport=5099)
    assert elab.udp_exchange(sip_options("sip:%s" % swlab.SW_IP4, call_id="exp-1"), sport=5098)
    wait_for(lambda: elab.stats()["sip_rx"] >= 4)
    lcore = str(elab.stats(0)["lcore"])
    before_w, before_t = elab.stats(0), elab.stats()
    out = subprocess.run(["/usr/bin/python3", EXPORTER, "--prefix", elab.prefix, "--once"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    after_w, after_t = elab.stats(0), elab.stats()
    got = samples(out)

    assert got[("sipwake_up", ())] == 1
    assert got[("sipwake_workers", ())] == 1
    # Gauges: nothing held, rings idle (the socket says the same).
    assert got[("sipwake_held_calls", ())] == elab.telemetry("/sipwake/held")["held"] == 0
    assert got[("sipwake_ring_entries", (("direction", "up"), ("worker", "0")))] == 0
    assert ("sipwake_ring_entries", (("direction", "down"), ("worker", "0"))) in got
    assert got[("sipwake_ring_size", ())] == elab.telemetry("/sipwake/info")["rings"]["size"]
    assert got[("sipwake_held_oldest_age_ms", ())] == 0
    # pushd, per provider (no credential here: every value is still served).
    push = elab.telemetry("/sipwake/push")
    for provider in ("apns", "fcm", "webpush"):
        lbl = (("provider", provider),)
        for key, v in push[provider].items():
            if key.startswith("config_alarm"):
                continue
            if key.startswith("latency_"):
                q = {"latency_p50_us": "0.5", "latency_p90_us": "0.9", "latency_p99_us": "0.99"}
                name, lbls = "sipwake_push_latency_us", lbl + (("quantile", q[key]),)
            elif key in ("in_flight", "connections_up", "connections_configured"):
                name, lbls = "sipwake_push_" + key, lbl
            else:
                name, lbls = "sipwake_push_%s_total" % key, lbl
            assert got[(name, lbls)] == v, (name, lbls, v)
    assert got[("sipwake_push_delivered_total", (("provider", "apns"),))] == 0
    checked = 0
    for key, lo in before_w.items():
        if key in ("worker", "lcore", "dropped") or not isinstance(lo, int):
            continue
        if key.startswith("drop_"):
            name, lbls = "sipwake_drops_total", (("lcore", lcore), ("reason", key[5:]))
        else:
            name, lbls = "sipwake_%s_total" % key, (("lcore", lcore),)
        v = got[(name, lbls)]
        assert lo <= v <= after_w[key], (key, lo, v, after_w[key])
        checked += 1
    # The control plane's own counters carry lcore="main".
    for key in set(before_t) - set(before_w):
        if not isinstance(before_t[key], int):
            continue
        if key.startswith("drop_"):
            name, lbls = "sipwake_drops_total", (("lcore", "main"), ("reason", key[5:]))
        else:
            name, lbls = "sipwake_%s_total" % key, (("lcore", "main"),)
        assert before_t[key] <= got[(name, lbls)] <= after_t[key], key
        checked += 1
    assert checked > 60
    # What the traffic above did is there, by reason.
    assert got[("sipwake_drops_total", (("lcore", lcore), ("reason", "keepalive_unbound")))] >= 1
    assert got[("sipwake_sip_options_answered_total", (("lcore", lcore),))] >= 1
    # HELP text comes from sipwake's own descriptions.
    assert re.search(r"^# HELP sipwake_sip_options_answered_total OPTIONS to sipwake itself",
                     out, re.M), out[:400]


def test_exporter_serves_http_and_dashboard_uses_its_metrics(elab):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["/usr/bin/python3", EXPORTER, "--prefix", elab.prefix,
                             "--listen", "127.0.0.1:%d" % port])
    try:
        body = None
        for _ in range(50):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
                    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None
        names = {s[0] for s in samples(body)}
        dash = json.load(open(DASHBOARD))
        used = set()
        for p in dash["panels"]:
            for t in p.get("targets", []):
                used.update(re.findall(r"sipwake_[a-z0-9_]+", t["expr"]))
        assert used and used <= names, used - names
        # What an operator watches on the wake path and for pushes is there.
        for name in ("sipwake_held_calls", "sipwake_held_oldest_age_ms", "sipwake_ring_entries",
                     "sipwake_ring_size", "sipwake_wake_answered_total",
                     "sipwake_wake_timed_out_total", "sipwake_push_delivered_total",
                     "sipwake_push_rejected_total", "sipwake_push_dead_token_total",
                     "sipwake_push_latency_us"):
            assert name in used, name
        # One datasource variable, unique ids, no two panels on the same cell.
        cells = {}
        for p in dash["panels"]:
            assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
            g = p["gridPos"]
            assert g["x"] + g["w"] <= 24, p["title"]
            for cell in ((x, y) for x in range(g["x"], g["x"] + g["w"])
                         for y in range(g["y"], g["y"] + g["h"])):
                assert cell not in cells, (p["title"], cells[cell])
                cells[cell] = p["title"]
        assert len({p["id"] for p in dash["panels"]}) == len(dash["panels"])
    finally:
        proc.terminate()
        proc.wait(5)


def test_exporter_reports_down_without_sipwake():
    out = subprocess.run(["/usr/bin/python3", EXPORTER, "--prefix", "no-such-prefix", "--once"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert samples(out)[("sipwake_up", ())] == 0
