# SPDX-License-Identifier: BSD-3-Clause
"""The demo (the README's first command, after its set-up) tells its whole
story or fails loudly: scripts/demo.py exits non-zero unless every step
happened (the awake call, the push, the wake on a new port, the 480 that sipp
ACKs, the TLS app woken over a new connection, the per-call traces that show
them), and it ends with the telemetry an
operator would read."""
import os
import subprocess
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_demo_tells_the_whole_wake_story():
    p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "demo.py")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=180, check=False)
    out = p.stdout
    assert p.returncode == 0, out[-6000:]
    for step in ("REGISTERed through sipwake", "the PBX called alice through sipwake",
                 "sent a VoIP push", "type=voip", "woke up, REGISTERed from port 5080",
                 "480 Temporarily Unavailable; it ACKs the 480 (sipp exit 0)",
                 "(alice's woken call)", "asleep: VoIP push via apns sent",
                 "INVITE to device", " at 198.18.0.2:5080\n", "(bob's call)",
                 "final 480 to the PBX: no device woke in time",
                 "/sipwake/held: 0 held now; woken 2, answered 2, timed out 1",
                 "/sipwake/push apns: submitted 3, delivered 3",
                 "REGISTERed over TLS", "marks her asleep at once",
                 "opened a new TLS connection from port 5085",
                 "/sipwake/stats, non-zero counters", "namespaces removed; done"):
        assert step in out, (step, out[-6000:])
    assert "did NOT go" not in out
