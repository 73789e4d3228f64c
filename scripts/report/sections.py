# SPDX-License-Identifier: BSD-3-Clause
"""The body of each section of the report (render.py), from report.json.
Each function takes the whole JSON and the plots' paths and returns lines.
A step that did not run, or failed, gets one line saying so and why."""


def n(v, fmt="%.0f"):
    return "—" if v is None else fmt % v


def ms(v):
    """A sipp set-up time (-trace_rtt: whole milliseconds): "< 1" for 0."""
    return "—" if v is None else "< 1" if v < 1 else "%.0f" % v


def ratio(a, b, fmt="%.1f×"):
    return fmt % (a / b) if a is not None and b else "—"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def lim(d):
    d = d or {}
    return "%s (%s)" % (d.get("by", "unknown"), d.get("why", "")) if d else "—"


def skipped(d):
    """The line of a step that has no figures, or None."""
    if d is None:
        return ["not run: not in this report's steps"]
    if "not_run" in d:
        return ["not run: " + d["not_run"]]
    if "failed" in d:
        return ["failed: " + d["failed"]]
    return None


def plot(img, key, alt):
    return ["", "![%s](%s)" % (alt, img[key])] if img.get(key) else []


def machine(data, img):
    m = data.get("meta", {})
    mc = m.get("machine", {})
    rows = [("date (UTC)", m.get("date", "?")), ("commit", "`%s`" % m.get("commit", "?")),
            ("sipwake of the lab steps", m.get("sipwake", "?")),
            ("CPU", mc.get("cpu", "?")), ("cores", mc.get("cores", "?")),
            ("RAM", "%s GiB" % mc.get("ram_gib", "?")), ("kernel", mc.get("kernel", "?")),
            ("load average at the start", mc.get("loadavg_at_start", "?")),
            ("size", "`--quick` (smoke counts: figures for development, not results)"
             if m.get("quick") else "full")]
    out = table(["", ""], rows) + ["", "Steps (each a benchmark that already exists; "
                                      "seconds are wall time):", ""]
    out += table(["step", "status", "seconds"],
                 [(k, v.get("status", "?"), n(v.get("secs"), "%.0f"))
                  for k, v in m.get("steps", {}).items()])
    return out


def dp(data, img):
    d = data.get("dp")
    s = skipped(d)
    if s:
        return s
    out = ["`bench_dp %s`, TSC %s GHz: the worker's pipeline on one core, prebuilt frames "
           "(no load generator). Medians of the runs." % (d.get("args", ""),
                                                        n(d.get("tsc_ghz"), "%.2f")), ""]
    rows = [(k, v["what"], n(v["sw_cycles"]), n(v["hw_cycles"]), n(v["hw_mpps"], "%.2f"))
            for k, v in d.get("mixes", {}).items()]
    out += table(["mix", "what", "cycles/msg (sw checksum)", "cycles/msg (NIC checksum)",
                  "Mpps (NIC)"], rows)
    if d.get("parse"):
        out += ["", "The scanner against libosip2 on the same messages (cycles):", ""]
        out += table(["message", "bytes", "scanner", "libosip2", "libosip2 / scanner"],
                     [(k, v["bytes"], v["scanner"], v["libosip2"], "%.1f×" % v["ratio"])
                      for k, v in d["parse"].items()])
    return out + plot(img, "cycles", "cycles per message by mix")


def kamailio(data, img):
    d = data.get("kamailio")
    s = skipped(d)
    if s:
        return s
    sw = d.get("sipwake_sw")
    out = ["`scripts/bench-kamailio.py %s`: bench_dp's INVITE / 200 / BYE through Kamailio "
           "(one worker) on loopback; Kamailio's cycles from its CPU time (user + system) at "
           "the TSC rate, against sipwake's `fwd-call` as bench-kamailio.py's own bench_dp "
           "run measured it, next to Kamailio's (%s cycles/msg, software checksums; %s with "
           "the NIC's; the table above is the dp step's run)."
           % (d.get("args", ""), n(sw), n(d.get("sipwake_hw"))), ""]
    rows = [("sipwake fwd-call", n(sw), "—", "1×", "no load generator")]
    for mode, label in (("stateless", "Kamailio stateless edge"),
                        ("registrar", "Kamailio registrar + lookup")):
        m = (d.get("modes") or {}).get(mode)
        if m:
            rows.append((label, n(m["cycles"]), n(m["msg_per_core_s"]),
                         ratio(m["cycles"], sw), lim(m.get("limit"))))
    out += table(["edge", "cycles/msg", "msg/s per core", "Kamailio / sipwake",
                  "limited by"], rows)
    cg = d.get("callgrind")
    if cg:
        out += ["", "Instructions per message (callgrind, user space): Kamailio %s, sipwake %s: "
                "%s." % (n(cg["kamailio"]), n(cg["sipwake"]), ratio(cg["kamailio"],
                                                                     cg["sipwake"]))]
    return out


def tls(data, img):
    d = data.get("tls")
    s = skipped(d)
    if s:
        return s
    out = ["`scripts/bench-tls.py %s`: the same load from bench/bench_tls (one thread) "
           "against each edge, medians of the runs." % d.get("args", ""), ""]
    rows = []
    for f in d.get("figures", []):
        fmt = "%.0f"
        rows.append((f["what"], n(f["sipwake"], fmt), n(f["kamailio"], fmt),
                     ratio(f["sipwake"], f["kamailio"], "%.2f×"),
                     "higher is better" if f["better"] == "higher" else "lower is better"))
    out += table(["figure", "sipwake", "Kamailio", "sipwake / Kamailio", ""], rows)
    out += [""]
    for phase, edges in (d.get("limits") or {}).items():
        for edge, v in edges.items():
            out.append("- %s, %s: limited by %s" % (phase, edge, lim(v)))
    return out


def e2e(data, img):
    d = data.get("e2e")
    s = skipped(d)
    if s:
        return s
    out = ["sipp as the PBX (`pbx_call_uac.xml`: INVITE with SDP, 180, 200, ACK, BYE) "
           "calling sipp as the app (`app_call_uas.xml`) through each edge; rates %s calls/s, "
           "%s s each; a rate passes with ≥ %.1f %% of its calls successful."
           % (", ".join(str(r) for r in d.get("rates", [])), d.get("secs_per_rate"),
              100 * d.get("pass", 0.999)), ""]
    rows = []
    for edge in ("sipwake", "kamailio"):
        e = d.get(edge) or {}
        if "not_run" in e:
            rows.append((edge, "not run: " + e["not_run"], "", "", ""))
            continue
        steps = " · ".join("%d: %.2f %%" % (x["rate"], 100 * x["success"])
                           for x in e.get("steps", []))
        last = (e.get("steps") or [{}])[-1].get("sipp_load") or {}
        rows.append((edge, n(e.get("best_rate")), steps,
                     "%s / %s %%" % (n(None if "pbx" not in last else 100 * last["pbx"]),
                                     n(None if "app" not in last else 100 * last["app"])),
                     lim(e.get("limit"))))
    out += table(["edge", "highest rate passed (calls/s)", "success per rate",
                  "sipp CPU at the last rate, PBX / app", "limited by"], rows)
    sw, km = (d.get("sipwake") or {}).get("best_rate"), (d.get("kamailio") or {}).get("best_rate")
    if sw and km:
        out += ["", "sipwake / Kamailio: %s." % ratio(sw, km, "%.2f×")]
    out += ["", "sipwake runs in a swlab lab (DPDK net_af_packet on a veth, one worker), "
            "Kamailio on loopback (one worker): both with sipp on the same cores."]
    drops = (d.get("sipwake") or {}).get("sipwake_drops")
    if drops:
        out += ["sipwake's drop counters over the ramp: %s." % ", ".join(
            "`%s` %s" % kv for kv in sorted(drops.items()))]
    return out + plot(img, "e2e", "successful calls against the asked rate")


def push(data, img):
    d = data.get("push")
    s = skipped(d)
    if s:
        return s
    out = ["`scripts/bench-push.sh %s`: pushes over one HTTP/2 connection to pd_testsrv, "
           "pushd against node-apn (@parse/node-apn), the same server." % d.get("args", ""), ""]
    rows = []
    for rtt, r in sorted((d.get("rtt") or {}).items(), key=lambda x: int(x[0])):
        p, nd, se = r.get("pushd") or {}, r.get("node_apn") or {}, r.get("sealed") or {}
        rows.append(("%s ms" % rtt, n(p.get("pps")), n(se.get("pps")), n(nd.get("pps")),
                     ratio(p.get("pps"), nd.get("pps")),
                     "%s / %s ms" % (n(p.get("p50_ms"), "%.1f"), n(p.get("p99_ms"), "%.1f")),
                     n(r.get("webpush_pps")), lim(r.get("limit"))))
    out += table(["RTT", "pushd APNs pushes/s", "sealed", "node-apn", "pushd / node-apn",
                  "pushd p50 / p99", "Web Push", "limited by"], rows)
    if d.get("node_apn_missing"):
        out += ["", "node-apn not run: " + d["node_apn_missing"] + "."]
    return out


def wake(data, img):
    d = data.get("wake")
    s = skipped(d)
    if s:
        return s
    out = ["`bench_wake %s`: one call at a time (latency, not throughput); bench_wake's own "
           "figure is the median over runs of each run's percentile, the others are over every "
           "sample (`--samples`)." % d.get("args", ""), ""]
    rows = []
    for key, what in (("a", "(a) INVITE in → push request written"),
                      ("b", "(b) accepted REGISTER → INVITE out")):
        m = (d.get("median_of_runs") or {}).get(key) or {}
        a = (d.get("all_samples") or {}).get(key) or {}
        rows.append((what, "%s / %s" % (n(m.get("p50_us"), "%.1f"), n(m.get("p99_us"), "%.1f")),
                     a.get("n", 0), n(a.get("p50_us"), "%.1f"), n(a.get("p90_us"), "%.1f"),
                     n(a.get("p99_us"), "%.1f"), n(a.get("p999_us"), "%.1f"),
                     n(a.get("max_us"), "%.1f")))
    out += table(["figure (µs)", "p50 / p99 (median of runs)", "samples", "p50", "p90", "p99",
                  "p99.9", "max"], rows)
    if d.get("held_rss_b"):
        out += ["", "Memory per held INVITE (RSS growth): %s B." % n(d["held_rss_b"])]
    return out + plot(img, "wake", "wake path latency distribution")


def reg(data, img):
    d = data.get("reg")
    s = skipped(d)
    if s:
        return s
    b = d.get("backends") or {}
    base = (b.get("sqlite") or {}).get("per_s")
    out = ["`bench_reg %s`: REGISTER relay + the PBX's 200 + the store, the control plane "
           "on one core (the simulated PBX and the worker untimed)." % d.get("args", ""), ""]
    rows = []
    for key, what in (("sqlite", "SQLite (WAL, synchronous=NORMAL)"),
                      ("redis", "Redis, each round waits for Redis"),
                      ("redis16", "Redis, up to 16 rounds in flight"),
                      ("none", "no store (`--no-store`, not how sipwake runs)")):
        v = b.get(key)
        if v is None:
            continue
        if "not_run" in v:
            rows.append((what, "not run: " + v["not_run"], "", ""))
            continue
        rows.append((what, n(v.get("per_s")), n(v.get("cycles")),
                     ratio(v.get("per_s"), base, "%.2f×")))
    out += table(["store", "REGISTER/s", "cycles/REGISTER", "/ SQLite"], rows)
    return out


def cluster(data, img):
    d = data.get("cluster")
    s = skipped(d)
    if s:
        return s
    out = ["`bench_cluster --spawn-redis %s` (small counts; the full-scale figures are "
           "`scripts/bench-cluster.py`'s)." % d.get("args", ""), ""]
    out += table(["figure", "measured", "unit"],
                 [(w, n(v, "%.2f" if u == "s" else "%.0f"), u) for _, w, u, v in
                  d.get("shown", [])])
    return out


def flood(data, img):
    d = data.get("flood")
    s = skipped(d)
    if s:
        return s
    rows = [(n(p.get("junk_rate")), "max" if p.get("asked") == 0 else n(p.get("asked")),
             n(None if p.get("success") is None else 100 * p["success"], "%.2f %%"),
             ms(p.get("p50_ms")), ms(p.get("p99_ms")), p.get("test", "—"))
            for p in d.get("points", [])]
    out = ["`tests/integration/test_flood_calls.py` once per junk rate (a sipp PBX calling "
           "at a steady rate while tests/flood/sw_flood sends junk at `FLOOD_RATE`); the "
           "junk rate is the one sw_flood reached. The test's own assertions may fail at a "
           "rate; the point is still its figures. Set-up is the PBX's INVITE to its 200, "
           "as sipp times it (whole milliseconds: \"< 1\" is a call to an awake app "
           "answered within the millisecond); the p99 is the asleep apps' calls, pushed "
           "and woken from a new address.", ""]
    out += table(["junk frames/s", "asked", "legitimate calls successful", "set-up p50 ms",
                  "p99 ms", "the test"], rows)
    out += plot(img, "flood", "legitimate calls against the junk rate")
    if d.get("others"):
        out += ["", "The same over streams and across edges, each test once at its own rate "
                "(`tests/integration/test_flood_streams.py`, `test_flood_edges.py`):", ""]
        out += table(["flood", "junk frames/s", "of which SYNs/s", "calls successful",
                      "set-up p50 ms", "p99 ms", "SYNs challenged / proofs", "the test"],
                     [(o.get("what", o.get("name")), n(o.get("junk_rate")),
                       n(o.get("syn_pps")),
                       n(None if o.get("success") is None else 100 * o["success"], "%.2f %%"),
                       ms(o.get("p50_ms")), ms(o.get("p99_ms")),
                       "%s / %s" % (n((o.get("tcp") or {}).get("syn_challenged")),
                                    n((o.get("tcp") or {}).get("proofs")))
                       if o.get("tcp") else "—", o.get("test", "—"))
                      for o in d["others"]])
    return out


def limits(data, img):
    """One row per figure: what limits it, as far as its bench can tell."""
    rows = []
    if (data.get("dp") or {}).get("limit"):
        rows.append(("bench_dp cycles/msg", lim(data["dp"]["limit"])))
    for mode, m in ((data.get("kamailio") or {}).get("modes") or {}).items():
        rows.append(("Kamailio %s msg/s" % mode, lim(m.get("limit"))))
    for phase, edges in ((data.get("tls") or {}).get("limits") or {}).items():
        for edge, v in edges.items():
            rows.append(("TLS %s, %s" % (phase, edge), lim(v)))
    for edge in ("sipwake", "kamailio"):
        e = (data.get("e2e") or {}).get(edge) or {}
        if e.get("limit"):
            rows.append(("end-to-end calls/s, %s" % edge, lim(e["limit"])))
    for rtt, r in ((data.get("push") or {}).get("rtt") or {}).items():
        if r.get("limit"):
            rows.append(("pushd at RTT %s ms" % rtt, lim(r["limit"])))
    for key in ("wake", "reg", "cluster"):
        if (data.get(key) or {}).get("limit"):
            rows.append((key, lim(data[key]["limit"])))
    if not rows:
        return ["No step reported what limits it."]
    return ["\"load generator\": the figure is the generator's ceiling, not sipwake's; "
            "sipwake may do more.", ""] + table(["figure", "limited by"], rows)
