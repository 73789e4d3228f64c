# SPDX-License-Identifier: BSD-3-Clause
"""The report's PNG plots, from report.json's dicts (matplotlib, Agg: no
display). Each function writes one file and returns its name, or None when
the figures it needs are missing (the section then says why)."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 110


def _save(fig, plot_dir, name):
    os.makedirs(plot_dir, exist_ok=True)
    fig.tight_layout()
    fig.savefig(os.path.join(plot_dir, name), dpi=DPI)
    plt.close(fig)
    return name


def cycles(dp, kam, plot_dir):
    """Cycles per message by mix: sipwake's mixes (software and NIC
    checksums), then Kamailio stateless and registrar + lookup on the fwd
    messages. Log scale: junk and Kamailio are three decades apart."""
    mixes = (dp or {}).get("mixes") or {}
    if not mixes:
        return None
    names = list(mixes)
    sw = [mixes[n]["sw_cycles"] for n in names]
    hw = [mixes[n]["hw_cycles"] for n in names]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], sw, 0.4, label="sipwake, software checksums")
    ax.bar([i + 0.2 for i in x], hw, 0.4, label="sipwake, NIC checksums")
    labels = list(names)
    for mode, label in (("stateless", "Kamailio\nstateless"),
                        ("registrar", "Kamailio\nregistrar+lookup")):
        d = ((kam or {}).get("modes") or {}).get(mode)
        if d:
            ax.bar([len(labels)], [d["cycles"]], 0.5, color="tab:red",
                   label="Kamailio (CPU time incl. system, fwd messages)"
                   if mode == "stateless" else None)
            labels.append(label)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("cycles per message (log)")
    ax.set_title("Cycles per message by traffic mix")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, plot_dir, "cycles.png")


def wake(wk, plot_dir):
    """The wake path's latency: histogram and CDF of every sample of (a)
    INVITE in -> push written and (b) accepted REGISTER -> INVITE out."""
    s = (wk or {}).get("samples") or {}
    if not s.get("a") and not s.get("b"):
        return None
    fig, (h, c) = plt.subplots(1, 2, figsize=(10, 4))
    # Log-spaced bins: the body (tens of µs) and the tail (ms) both show.
    every = sorted(x for k in ("a", "b") for x in s.get(k) or [] if x > 0)
    lo, hi = every[0], every[-1]
    bins = [lo * (hi / lo) ** (i / 60) for i in range(61)] if hi > lo else 60
    for key, label in (("a", "(a) INVITE in → push written"),
                       ("b", "(b) REGISTER 200 → INVITE out")):
        v = sorted(s.get(key) or [])
        if not v:
            continue
        h.hist([x for x in v if x > 0], bins=bins, alpha=0.6, label=label)
        c.plot(v, [(i + 1) / len(v) for i in range(len(v))], label=label)
    h.set_xscale("log")
    h.set_yscale("log")
    h.set_xlabel("µs (log)")
    h.set_ylabel("samples (log)")
    h.set_title("Wake path latency")
    h.legend(fontsize=8)
    c.set_xscale("log")
    c.set_xlabel("µs (log)")
    c.set_ylabel("share of samples ≤ x")
    c.set_title("CDF")
    c.grid(alpha=0.3)
    return _save(fig, plot_dir, "wake.png")


def e2e(e, plot_dir):
    """Share of successful calls against the asked rate, per edge."""
    sides = [(n, (e or {}).get(n) or {}) for n in ("sipwake", "kamailio")]
    if not any(d.get("steps") for _, d in sides):
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, d in sides:
        st = d.get("steps") or []
        if st:
            ax.plot([x["rate"] for x in st], [100 * x["success"] for x in st], "o-", label=name)
    ax.axhline(100 * (e.get("pass") or 0.999), color="grey", ls="--", lw=1, label="pass")
    ax.set_xscale("log")
    ax.set_xlabel("calls/s asked (log)")
    ax.set_ylabel("successful calls %")
    ax.set_title("End-to-end calls (sipp PBX → edge → sipp app)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, plot_dir, "e2e.png")


def flood(fl, plot_dir):
    """Legitimate calls' success and latency against the junk rate."""
    pts = [p for p in (fl or {}).get("points") or [] if p.get("junk_rate") is not None]
    if not pts:
        return None
    x = [p["junk_rate"] for p in pts]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(x, [100 * (p["success"] or 0) for p in pts], "o-")
    a.set_xlabel("junk frames/s")
    a.set_ylabel("legitimate calls successful %")
    a.set_ylim(0, 105)
    a.set_title("Success under a junk flood")
    a.grid(alpha=0.3)
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        if any(p.get(key) is not None for p in pts):
            b.plot(x, [p.get(key) for p in pts], "o-", label=label)
    b.set_xlabel("junk frames/s")
    b.set_ylabel("call set-up, ms (sipp: whole ms, 0 is < 1)")
    b.set_title("Latency under a junk flood")
    b.legend(fontsize=8)
    b.grid(alpha=0.3)
    return _save(fig, plot_dir, "flood.png")
