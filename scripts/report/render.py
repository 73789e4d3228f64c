# SPDX-License-Identifier: BSD-3-Clause
"""report.json -> the markdown report and its plots. Runs without the
benchmarks, so a report can be rendered again from a saved JSON:

  scripts/report/render.py build/report/report.json [--md docs/report.md]
        [--plots docs/report]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sections  # noqa: E402

try:
    import plots  # noqa: E402 - matplotlib: scripts/setup.sh --bench
    NO_PLOTS = None
except ImportError as e:
    # The report still renders, its figures all there; it says why the
    # plots are not.
    plots, NO_PLOTS = None, "plots not drawn: %s (scripts/setup.sh --bench installs " \
        "python3-matplotlib)" % e

# The sections, in order: (heading, the function that writes its body).
SECTIONS = (
    ("Machine and run", sections.machine),
    ("Dataplane: bench_dp per traffic mix", sections.dp),
    ("Kamailio on the same messages", sections.kamailio),
    ("TLS: sipwake's streams against Kamailio's tls module", sections.tls),
    ("End-to-end calls per second (sipp)", sections.e2e),
    ("pushd against node-apn", sections.push),
    ("The wake path (bench_wake)", sections.wake),
    ("REGISTER/s per store backend (bench_reg)", sections.reg),
    ("Several edges (Redis)", sections.cluster),
    ("Calls under a junk flood", sections.flood),
    ("What limits each figure", sections.limits),
)


def render(data, md_path, plot_dir):
    """Write @md_path and the plots under @plot_dir; the list of plots."""
    rel = os.path.relpath(plot_dir, os.path.dirname(os.path.abspath(md_path)) or ".")
    made = {"cycles": None, "wake": None, "e2e": None, "flood": None}
    if plots is not None:
        made = {
            "cycles": plots.cycles(data.get("dp"), data.get("kamailio"), plot_dir),
            "wake": plots.wake(data.get("wake"), plot_dir),
            "e2e": plots.e2e(data.get("e2e"), plot_dir),
            "flood": plots.flood(data.get("flood"), plot_dir),
        }
    img = {k: (os.path.join(rel, v) if v else None) for k, v in made.items()}
    out = ["<!-- SPDX-License-Identifier: BSD-3-Clause -->",
           "# sipwake performance report", "",
           "Written by `scripts/report.sh` (docs/performance.md, \"The report: "
           "scripts/report.sh\") from `build/report/report.json`; every figure below "
           "comes from that one run.", ""] + (["**%s.**" % NO_PLOTS, ""] if NO_PLOTS else [])
    for heading, fn in SECTIONS:
        out += ["## " + heading, ""]
        out += fn(data, img)
        out.append("")
    os.makedirs(os.path.dirname(os.path.abspath(md_path)), exist_ok=True)
    with open(md_path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")
    return [v for v in made.values() if v]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json")
    ap.add_argument("--md", default="docs/report.md")
    ap.add_argument("--plots", default="docs/report")
    a = ap.parse_args()
    with open(a.json) as f:
        data = json.load(f)
    made = render(data, a.md, a.plots)
    print("render: %s and %d plot(s) in %s" % (a.md, len(made), a.plots))


if __name__ == "__main__":
    main()
