# SPDX-License-Identifier: BSD-3-Clause
"""docs/telemetry.md against a running sipwake, so the table cannot drift
from the code: every key each /sipwake/... command answers has a row, every
row names a key that is answered, the /sipwake/stats rows start with what
/sipwake/describe says, types agree with the values, and every Prometheus
name in the table is served by scripts/sipwake-exporter.py (and every name
it serves is in the document).

The lab has something to show everywhere: pushd connected to pd_testsrv
(credentials), one device bound with a push address (a device row), and a
call held for it on the wake path (a trace with events, a held call).

Key notation of the table: nested objects as parent.child; <N> a number,
<provider> apns, fcm or webpush; two rows stand for whole sets of keys:
"<key counted by workers>" (/sipwake/stats,<worker>) and "<stats key>"
(/sipwake/describe)."""
import os
import re
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wakekit as W  # noqa: E402
from wakekit import swlab  # noqa: E402

DOC = os.path.join(swlab.REPO, "docs", "telemetry.md")
EXPORTER = os.path.join(swlab.REPO, "scripts", "sipwake-exporter.py")

TYPES = {"counter": int, "gauge": int, "id": int, "text": str, "list": list}
KEY_HOLES = {"<N>": r"\d+", "<provider>": r"(?:apns|fcm|webpush)", "<transport>": r"(?:tcp|tls|ws|wss)",
             "<reason>": r"[a-z_]+"}
LABEL_HOLES = {"<lcore>": r"\d+", "<N>": r"\d+", "<version>": r".+", "<dpdk>": r".+",
               "<provider>": r"(?:apns|fcm|webpush)", "<transport>": r"(?:tcp|tls|ws|wss)",
               "<reason>": r"[a-z_]+", "<backend>": r"(?:redis|sqlite|none)", "<edge>": r".*"}
WORKER_KEYS, STATS_KEYS = "<key counted by workers>", "<stats key>"


# -- the document ------------------------------------------------------------

def describe_all(tel):
    """/sipwake/describe's pages merged: page 0 is what the command answers
    alone, the next ones follow until an empty page."""
    assert tel("/sipwake/describe") == tel("/sipwake/describe,0")
    desc = {}
    for page in range(64):
        got = tel("/sipwake/describe,%d" % page)
        if not got:
            break
        assert len(got) <= 64
        desc.update(got)
    else:
        raise AssertionError("/sipwake/describe never answered an empty page")
    return desc


def doc_rows():
    """The table's rows as dicts: command, key, type, prom, meaning."""
    rows = []
    for line in open(DOC, encoding="utf-8"):
        if not line.startswith("| `/"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 5, line
        ticked = [re.fullmatch(r"`([^`]+)`", c) for c in cells[:2]]
        assert all(ticked), "command and key must be one `...` each: " + line
        rows.append({"command": ticked[0].group(1), "key": ticked[1].group(1),
                     "type": cells[2], "prom": cells[3], "meaning": cells[4], "line": line})
    assert len(rows) > 200
    return rows


def metrics_of(cell):
    """(name, {label: value}) for each `sipwake_...` in a Prometheus cell."""
    out = []
    for tok in re.findall(r"`([^`]+)`", cell):
        m = re.fullmatch(r"(sipwake_[a-z0-9_]+)(?:\{(.*)\})?", tok)
        if m:
            out.append((m.group(1), dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))))
    return out


def worker_keys(rows):
    """What /sipwake/stats,<worker> repeats: the keys workers count (exported
    per worker lcore), and dropped."""
    return {r["key"] for r in rows if r["command"] == "/sipwake/stats"
            and 'lcore="<lcore>"' in r["prom"]} | {"dropped"}


def hole_regex(text, holes):
    parts = re.split(r"(<[^>]+>)", text)
    for p in parts:
        assert not p.startswith("<") or p in holes, "unknown placeholder %s in %r" % (p, text)
    return re.compile("".join(holes[p] if p.startswith("<") else re.escape(p) for p in parts))


# -- the live answers ----------------------------------------------------------

def flatten(d, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay values (trace)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


@pytest.fixture(scope="module")
def live():
    """Every command's answers (a list per documented command; trace twice:
    a held call's and an unknown call's), the command list and one scrape
    of the exporter, from one lab that is stopped before the checks."""
    lab = W.WakeLab("wkdoc%d" % (os.getpid() % 10000), "")
    lab.config_extra += "\nstreams: { tcp = { port = 5060; }; };"  # /sipwake/conns answers
    with lab:
        ctx = W.Ctx(lab)
        try:
            dev, app = W.Device("dora"), ctx.app()
            ctx.asleep((app, dev))
            call = W.Call(dev.contact(app.ip, app.port), dev.user)
            mark, held = ctx.push.mark(), W.Delta(lab)
            W.call_in(ctx, call)
            ctx.push.wait_req(dev.token, start=mark)
            held.wait_held(1)  # /sipwake/held has caught up (100 ms tick)
            tel = lab.telemetry
            got = {
                "/sipwake/stats": [tel("/sipwake/stats")],
                "/sipwake/stats,<worker>": [tel("/sipwake/stats,0")],
                "/sipwake/describe": [describe_all(tel)],
                "/sipwake/info": [tel("/sipwake/info")],
                "/sipwake/bindings": [tel("/sipwake/bindings")],
                "/sipwake/bindings,<aor>": [tel("/sipwake/bindings," + dev.aor)],
                "/sipwake/held": [tel("/sipwake/held")],
                "/sipwake/trace,<Call-ID>": [tel("/sipwake/trace," + call.cid),
                                             tel("/sipwake/trace,no-such-call@pbx")],
                "/sipwake/push": [tel("/sipwake/push")],
                "/sipwake/conns": [tel("/sipwake/conns")],
                "/sipwake/cluster": [tel("/sipwake/cluster")],
            }
            commands = tel("/")
            scrape = subprocess.run(
                ["/usr/bin/python3", EXPORTER, "--prefix", lab.prefix, "--once"],
                capture_output=True, text=True, timeout=30, check=True).stdout
            # The PBX gives up on the call: nothing left held at the stop.
            ctx.pbx.send(call.cancel())
            r487 = ctx.pbx.expect(W.final_of(call.cid), 2.0, "487 to the INVITE")
            ctx.pbx.send(call.ack_final(r487))
            got["/sipwake/reload"] = [tel("/sipwake/reload")]
        finally:
            ctx.close()
        assert lab.stop() == 0, lab.read_log()[-4000:]
    # The lab showed what the table describes, not empty answers.
    assert got["/sipwake/trace,<Call-ID>"][0]["events"] >= 2, got["/sipwake/trace,<Call-ID>"]
    assert got["/sipwake/bindings,<aor>"][0]["devices"] == 1
    assert got["/sipwake/push"][0]["credentials"] == {"apns_0": 1}
    return {"answers": got, "commands": commands, "scrape": scrape}


# -- the checks -----------------------------------------------------------------

def test_every_command_is_documented(live):
    ours = {c for c in live["commands"] if c.startswith("/sipwake/")}
    documented = {r["command"].split(",")[0] for r in doc_rows()}
    assert ours == documented
    assert set(live["answers"]) == {r["command"] for r in doc_rows()}


def test_every_key_documented_and_every_row_answered(live):
    rows = doc_rows()
    stats_keys = set(live["answers"]["/sipwake/stats"][0])
    sets = {WORKER_KEYS: worker_keys(rows), STATS_KEYS: stats_keys}
    for cmd, answers in live["answers"].items():
        keys = {}
        for a in answers:
            assert isinstance(a, dict), (cmd, a)
            keys.update(flatten(a))
        mine = [r for r in rows if r["command"] == cmd]
        matched = set()
        for r in mine:
            if r["key"] in sets:
                hits = sets[r["key"]] & set(keys)
                assert hits == sets[r["key"]], "%s: %s answers none of %s" % (
                    cmd, r["key"], sorted(sets[r["key"]] - hits))
            else:
                rx = hole_regex(r["key"], KEY_HOLES)
                hits = {k for k in keys if rx.fullmatch(k)}
                assert hits, "%s: documented key %r is not answered (stale row?)" % (
                    cmd, r["key"])
            for k in hits:
                assert isinstance(keys[k], TYPES[r["type"]]), (cmd, k, keys[k], r["type"])
            matched |= hits
        missing = sorted(set(keys) - matched)
        assert not missing, "%s answers keys docs/telemetry.md does not list: %s" % (
            cmd, missing)


def test_stats_rows_say_what_describe_says(live):
    stats = live["answers"]["/sipwake/stats"][0]
    desc = live["answers"]["/sipwake/describe"][0]
    assert set(desc) == set(stats)
    rows = {r["key"]: r for r in doc_rows() if r["command"] == "/sipwake/stats"}
    assert set(rows) == set(stats)
    for key, text in desc.items():
        assert text.strip(), "no /sipwake/describe line for " + key
        assert rows[key]["type"] == "counter", key
        meaning = rows[key]["meaning"].replace("`", "")
        assert meaning.startswith(text), "%s: docs say %r, /sipwake/describe %r" % (
            key, meaning, text)


def test_prometheus_names_are_served(live):
    types, samples = {}, []
    for fam in text_string_to_metric_families(live["scrape"]):
        for s in fam.samples:
            types[s.name] = fam.type
            samples.append((s.name, s.labels))
    assert ("sipwake_up", {}) in samples
    checked = 0
    for r in doc_rows():
        for name, labels in metrics_of(r["prom"]):
            want = {k: hole_regex(v, LABEL_HOLES) for k, v in labels.items()}
            assert any(n == name and set(lb) == set(want) and
                       all(want[k].fullmatch(lb[k]) for k in want)
                       for n, lb in samples), "%s: %s%s is not served" % (r["key"], name, labels)
            assert types[name] == ("counter" if r["type"] == "counter" else "gauge"), r["line"]
            checked += 1
    assert checked > 150
    doc = open(DOC, encoding="utf-8").read()
    undocumented = sorted({n for n, _ in samples if n not in doc})
    assert not undocumented, "served but not in docs/telemetry.md: %s" % undocumented
