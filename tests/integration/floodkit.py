# SPDX-License-Identifier: BSD-3-Clause
"""What the flood tests (test_flood.py, test_flood_calls.py,
test_flood_streams.py, test_flood_edges.py) share: the junk
sender tests/flood/sw_flood run in the lab's peer namespace, pinned to CPU 0
at nice 10 (never on sipwake's worker's CPU 1), the lab pinned the other way,
and the accounting of what the sender reports sent against sipwake's
counters.

CPUs: the flood runs on CPU 0 at nice 10, beside sipwake's control plane;
the worker (CPU 1) polls without sleeping, as on a real deployment. The test
and its peers (PBX, apps, push server) run on CPU 1: had they shared CPU 0
with the flood, the flood would pause each time a peer sends, and a
legitimate message would find the buckets refilled. On CPU 1 they only take
time from the worker (its RX ring is deepened to cover that: framecnt)."""
import contextlib
import csv
import glob
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sippkit  # noqa: E402
import swlab  # noqa: E402
from wakekit import DOMAIN, PBX4, PN_PARAM, SDP_APP, reply  # noqa: E402
from wakesip import Msg, registrar_ok  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Spoofed sources: off-link (answered through the gateway) and on-link
# (every answer needs ARP), never an address a peer here uses.
SPOOF = ["--src", "10.0.0.0/8", "--src", "198.18.0.128/25", "--exclude", swlab.GW_IP4]


# Where each datagram kind of sw_flood's can land (sipwake's counters, by
# name), for account(). Every SIP kind can also meet a banned source (the
# badauth REGISTERs get on-link spoofed sources banned: pbx.auth_ban_*),
# dropped before anything else.
BANNED = ["drop_filter_banned"]
UDP_KIND_COUNTERS = {
    "scanner": ["drop_filter_scanner", "drop_filter_rate_source"] + BANNED,
    "junk": ["drop_sip_bad_start_line"],
    "malformed": ["drop_sip_truncated", "drop_sip_missing_header"] + BANNED,
    "invite": ["drop_filter_unknown_request"] + BANNED,
    "ping": ["icmp_echo_answered", "drop_filter_rate_answer"],
    # INVITEs, NEWMETHOD and responses refused on their first bytes; the
    # REGISTERs by the scan; the OPTIONS by their source's bucket, the
    # answers' budget or the scan.
    "rfc4475": ["drop_filter_unknown_request", "drop_filter_unknown_response",
                "drop_filter_rate_source", "drop_filter_rate_answer",
                "drop_sip_bad_start_line", "drop_sip_bad_cseq", "drop_sip_bad_contact",
                "drop_sip_bad_nameaddr", "drop_sip_dup_header"] + BANNED,
    # Newcomers, or, while a held call waits on the AOR they name, the
    # AOR's bucket (docs/admission.md: expected (AOR)).
    "badauth": ["sip_reg_newcomer", "drop_filter_rate_source", "drop_filter_rate_prefix",
                "drop_filter_rate_global", "sip_reg_aor_waking",
                "drop_filter_rate_expected"] + BANNED,
}


def flood_bin():
    return os.path.join(REPO, "build", "tests", "flood", "sw_flood")


def flood_rate():
    """Frames/s: as fast as the sender can (0), but for the ASan + UBSan
    sipwake, whose worker takes some 3x the cycles per frame: paced at
    150k/s, which it keeps up with. FLOOD_RATE overrides both."""
    default = "150000" if "asan" in swlab.sipwake_bin() else "0"
    return os.environ.get("FLOOD_RATE", default)


def veth_tx(lab):
    """Frames the peer's end of the veth has sent toward sipwake."""
    out = lab.peer(["ip", "-s", "-j", "link", "show", lab.if_peer]).stdout
    return json.loads(out)[0]["stats64"]["tx"]["packets"]


def write_json(name, obj):
    """build/@name, for the report scripts (when build/ exists)."""
    if os.path.isdir(os.path.join(REPO, "build")):
        with open(os.path.join(REPO, "build", name), "w") as f:
            json.dump(obj, f, indent=1)


class Flood:
    """sw_flood in the peer namespace, on CPU 0 at nice 10, bounded by
    @seconds and @max_frames, at @rate frames/s (default flood_rate());
    @extra: more sw_flood arguments (--aor)."""

    def __init__(self, lab, mix, seconds, max_frames, frames=65536, extra=(), rate=None):
        self.lab, self.proc, self.result = lab, None, None
        # An edge of a cluster (scripts/swcluster.py) has an address of its own.
        self.cmd = ["ip", "netns", "exec", lab.ns_peer, "taskset", "-c", "0",
                    "nice", "-n", "10", flood_bin(), "--ifname", lab.if_peer,
                    "--dst-mac", lab.sipwake_mac(), "--dst-ip", lab.sw_ip4,
                    "--mix", mix,
                    "--seconds", str(seconds), "--max-packets", str(max_frames),
                    "--rate", rate or flood_rate(), "--frames", str(frames)] + SPOOF + list(extra)

    def start(self, warm_s=5.0):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        # @warm_s of it before the first legitimate message: the per-source
        # tables churn and the strangers' share of the neighbour table is
        # full, as in a flood that has been going on for a while.
        time.sleep(warm_s)
        assert self.proc.poll() is None, self.proc.communicate()

    def stop(self):
        if self.result is None and self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            out, err = self.proc.communicate(timeout=30)
            assert self.proc.returncode == 0, err
            self.result = json.loads(out)
        return self.result


@contextlib.contextmanager
def pinned():
    """The test (and the children it starts: the push server, sipwake's
    threads but its two lcores, which EAL pins: control plane on 0, worker
    on 1) on CPU 1 while the block runs."""
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {1})
    try:
        yield
    finally:
        os.sched_setaffinity(0, mask)


def account(sent, counters, kind_counters, lost):
    """Check that sipwake's @counters (deltas) account for every frame of
    each kind in @sent, where @kind_counters maps a kind to the counters
    its frames can land in and @lost is what the kernel lost on the way
    (the af_packet ring). Kinds that share a counter (a bucket's drops, a
    scanner reason) are accounted for together: for each group of kinds
    joined by shared counters, sent - lost <= the sum of the group's
    counters <= sent; each kind alone lands at least in the counters only it
    can reach (<= its sent) and at most in all of its own (+ lost).
    Returns the groups, for the report."""
    groups = []
    for kind in kind_counters:
        g = {kind}
        for other in groups[:]:
            if any(set(kind_counters[k]) & set(kind_counters[kind]) for k in other):
                groups.remove(other)
                g |= other
        groups.append(g)
    out = []
    for g in groups:
        names = sorted({n for k in g for n in kind_counters[k]})
        s, got = sum(sent[k] for k in g), sum(counters.get(n, 0) for n in names)
        assert s - lost <= got <= s, ("kinds %s: sent %d, counted %d in %s (lost %d)"
                                      % (sorted(g), s, got, names, lost),
                                      {n: counters.get(n, 0) for n in names})
        for k in g:
            own = [n for n in kind_counters[k]
                   if not any(n in kind_counters[o] for o in g if o != k)]
            lo = sum(counters.get(n, 0) for n in own)
            hi = sum(counters.get(n, 0) for n in kind_counters[k])
            assert lo <= sent[k] <= hi + lost, (k, sent[k], lo, hi, lost)
        out.append({"kinds": sorted(g), "sent": s, "counted": got, "counters": names})
    return out


# What junk must not change of a binding (/sipwake/bindings,<aor>).
BINDING_KEYS = ("contact", "source", "transport", "push_provider", "push_prid", "push_param")


def binding(lab, dev):
    """What junk must not change of @dev's binding: its contact, source and
    push address."""
    d = lab.device(dev.aor, dev.instance)
    b = {k: v for k, v in d.items() if k in BINDING_KEYS}
    assert set(b) == set(BINDING_KEYS), d
    return b


def snmp(run, section):
    """One section ("Ip", "Tcp") of /proc/net/snmp in a namespace, @run
    being the lab's runner for it (lab.sw, lab.peer): the kernel's own
    counters (IPv4 fragments taken for reassembly by sipwake's namespace,
    TCP segments the peers' stacks sent)."""
    out = run(["cat", "/proc/net/snmp"]).stdout.splitlines()
    rows = [line.split()[1:] for line in out if line.startswith(section + ":")]
    return dict(zip(rows[0], map(int, rows[1])))


def sipp_stats(res_dir):
    """sipp's -trace_stat: the last line's cumulative counts."""
    f = glob.glob(os.path.join(res_dir, "*_.csv"))
    assert f, os.listdir(res_dir)
    with open(f[0]) as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return dict(zip(rows[0], rows[-1]))


def rtt_ms(res_dir):
    """Every call's set-up time (INVITE to 200, -trace_rtt), in ms."""
    out = []
    for f in glob.glob(os.path.join(res_dir, "*_rtt.csv")):
        with open(f) as fh:
            rows = [r for r in csv.reader(fh, delimiter=";") if r]
        col = [i for i, h in enumerate(rows[0]) if "response_time" in h.lower()]
        assert col, rows[:2]
        out += [float(r[col[0]]) for r in rows[1:] if len(r) > col[0]]
    return sorted(out)


def pct(v, p):
    """The @p-th percentile of sorted @v (nearest rank), None if empty."""
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))] if v else None


def pbx_calls(lab, plan, rate, path, port=5062):
    """The flood tests' PBX, not started: sipp (sipp/pbx_calls_uac.xml) on
    PBX4:@port placing the calls of @plan (injection lines (user, host,
    port, token, final), SEQUENTIAL, written to @path) at @rate a second to
    @lab's sipwake, with every call's set-up time (-trace_rtt, for rtt_ms())
    and its cumulative counts (-trace_stat, for sipp_stats())."""
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n" + "".join("%s;%s;%d;%s;%d\n" % c for c in plan))
    return sippkit.lab_sipp(lab, "pbx_calls_uac.xml", PBX4, port, remote=lab.sw_ip4,
                            calls=len(plan), timeout=len(plan) // rate + 30,
                            sets={"domain": DOMAIN, "pn_param": PN_PARAM},
                            extra=["-inf", path, "-r", str(rate), "-recv_timeout", "12000",
                                   "-trace_rtt", "-rtt_freq", "1", "-trace_stat", "-fd", "1"])


class Worker:
    """A test's helper thread: loop() until stop is set; an exception ends
    it and is kept in err, for the test to report."""

    def __init__(self):
        self.stop, self.err = threading.Event(), None
        self.thread = threading.Thread(target=self.run)

    def run(self):
        try:
            self.loop()
        except Exception as e:  # noqa: BLE001 (reported by the test)
            self.err = repr(e)

    def loop(self):
        raise NotImplementedError


class PhoneLoop(Worker):
    """The apps and the PBX's registrar of a flood test, in one thread:
    awake apps (@awake: (endpoint, device)) refresh every @refresh_s and
    answer every INVITE (180, 200), BYE and OPTIONS (a ping: wake.policy
    "ping"); each asleep app (@wake: (device, ..., push mark)) starts to
    wake once its push has come (the push server's record read every
    0.1 s); the registrar grants every REGISTER without credentials and
    refuses (403) every one with them (the badauth junk). The transport's
    part is a subclass's: refresh(), start_wake(), receive(), answer() and
    app_contact()."""

    def __init__(self, ctx, awake, wake, refresh_s):
        super().__init__()
        self.ctx, self.awake, self.wake, self.refresh_s = ctx, awake, wake, refresh_s
        self.answered = {}  # Call-ID -> user
        self.byes = set()
        self.refreshes = self.refreshed = 0
        self.registrar = {"granted": 0, "refused": 0}
        self.waking = set()  # users whose wake has started
        self.woken = {}  # user -> the new endpoint
        self.next_push_poll = 0.0

    def loop(self):
        cseq = {dev.user: 1 for _, dev in self.awake}
        next_refresh = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_refresh:
                for ep, dev in self.awake:
                    cseq[dev.user] += 1
                    self.refresh(ep, dev, cseq[dev.user])
                    self.refreshes += 1
                next_refresh = now + self.refresh_s
            self.wake_pushed()
            self.receive()

    def wake_pushed(self):
        now = time.monotonic()
        if len(self.waking) == len(self.wake) or now < self.next_push_poll:
            return
        self.next_push_poll = now + 0.1
        pushes = self.ctx.push.server.reqs()
        for w in self.wake:
            dev, mark = w[0], w[-1]
            if dev.user in self.waking or not [e for e in pushes[mark:]
                                               if e["token"] == dev.token]:
                continue
            self.waking.add(dev.user)
            self.start_wake(*w)

    def register(self, m):
        if m.method != "REGISTER":
            return
        if m.get("Authorization"):
            self.registrar["refused"] += 1
            self.ctx.pbx.send(reply(m, 403, "Forbidden", tag="pbxreg"), *m.src)
            return
        self.registrar["granted"] += 1
        self.ctx.pbx.send(registrar_ok(m), *m.src)

    def phone(self, ep, dev, m):
        if m.method == "INVITE":
            self.answered[m.call_id] = dev.user
            c = self.app_contact(ep, dev)
            self.answer(ep, m, reply(m, 180, "Ringing", tag="a" + dev.user, contact=c))
            self.answer(ep, m, reply(m, 200, "OK", tag="a" + dev.user, contact=c, body=SDP_APP))
        elif m.method == "BYE":
            self.byes.add(m.call_id)
            self.answer(ep, m, reply(m, 200, "OK"))
        elif m.method == "OPTIONS":
            self.answer(ep, m, reply(m, 200, "OK"))
        elif m.status == 200 and m.cseq[1] == "REGISTER":
            self.refreshed += 1


class Phones(PhoneLoop):
    """PhoneLoop over datagrams (test_flood_calls.py, test_flood_edges.py):
    an asleep app (@wake: (device, push mark)) whose push came registers
    from the endpoint @new_app(device) gives it (a new address and port)."""

    def __init__(self, ctx, awake, wake, refresh_s, new_app):
        super().__init__(ctx, awake, wake, refresh_s)
        self.new_app = new_app
        self.eps = {ep.s.fileno(): (ep, dev) for ep, dev in awake}

    def refresh(self, ep, dev, cseq):
        self.ctx.send_register(ep, dev, cseq=cseq)

    def start_wake(self, dev, _mark):
        ep = self.new_app(dev)
        self.woken[dev.user] = ep
        self.eps[ep.s.fileno()] = (ep, dev)
        self.ctx.send_register(ep, dev, cid="woken-%s@app" % dev.user)

    def receive(self):
        socks = [self.ctx.pbx.s] + [ep.s for ep, _ in self.eps.values()]
        r, _, _ = select.select(socks, [], [], 0.02)
        for s in r:
            data, src = s.recvfrom(65535)
            m = Msg(data, src[:2], time.monotonic())
            if s is self.ctx.pbx.s:
                self.register(m)
            else:
                self.phone(*self.eps[s.fileno()], m)

    def answer(self, ep, m, data):
        ep.send(data, *m.src)

    def app_contact(self, ep, dev):
        return "sip:%s@%s:%d" % (dev.user, ep.ip, ep.port)
