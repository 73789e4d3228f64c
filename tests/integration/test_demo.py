# SPDX-License-Identifier: BSD-3-Clause
"""The demo (the README's first command, after its set-up) tells its whole
story or fails loudly: scripts/demo.py exits non-zero unless every step
happened (the awake call, the push, the wake on a new port, the 480 that sipp
ACKs, the TLS app woken over a new connection, the per-call traces that show
them), and it ends with the telemetry an
operator would read. With --edges 2 it tells the story of two edges sharing
their bindings through Redis (scripts/demo_cluster.py) the same way."""
import os
import re
import subprocess
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def why(out):
    """What a failed run says first: the demo's own verdict line (which
    steps did not go), then the end of its output."""
    verdict = [ln for ln in out.splitlines() if "did NOT go" in ln]
    return "\n".join(verdict + ["--- last lines ---", out[-6000:]])


def test_demo_tells_the_whole_wake_story():
    p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "demo.py")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=180, check=False)
    out = p.stdout
    assert p.returncode == 0, why(out)
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
        assert step in out, (step, why(out))
    assert "did NOT go" not in out, why(out)


def test_demo_with_two_edges():
    """A binding through e0 on e1 and in Redis, a call relayed e1 -> e0, a
    wake across edges, e0 killed and its device woken through e1; well
    under a minute, everything removed."""
    p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "demo.py"), "--edges", "2"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=120, check=False)
    out = p.stdout
    assert p.returncode == 0, why(out)
    for step in ("dana's app REGISTERed through e0", 'peer "e0" (bound through e0',
                 ': "e0" (the edge that wrote it)',
                 "e1 relayed the INVITE to e0 (fwd_to_peer)",
                 "SIP/2.0/UDP 198.18.0.3:5060;branch=z9hG4bK-",
                 "hung up along the Record-Route to e0 (198.18.0.1); no push",
                 "e0 answered 100, held the INVITE and sent a VoIP push",
                 "REGISTERed through e1 from port 20002",
                 "held INVITE went to e1 (wake_via_peer)", "Record-Route 198.18.0.3)",
                 "kill -9 e0's sipwake: gone", "(no answer to its OPTIONS: peer_down) and "
                 "still has dana's binding", "the call rang there: 180, 200, ACK, BYE through e1",
                 "/sipwake/cluster of e1 (e0 is dead):", "redis_state up", "peers_up 0",
                 "wake_via_peer 1", "fwd_to_peer 1", "peer_down 1", "bindings_remote 2",
                 "SIGTERM: e1's sipwake exited 0", "namespaces and Redis removed; done"):
        assert step in out, (step, why(out))
    assert "did NOT go" not in out, why(out)
    took = float(re.search(r"done in ([0-9.]+) s", out).group(1))
    assert took < 45, out[-3000:]
