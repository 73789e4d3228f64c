# SPDX-License-Identifier: BSD-3-Clause
"""The demo with two edges (scripts/demo.py --edges 2): the story of
docs/cluster.md, told with real sipwakes.

Two edges, e0 (198.18.0.1) and e1 (198.18.0.3), each in its own namespace
with its own APNs test server, on one LAN with the PBX and the apps, share
their bindings through one redis-server on a backend network
(scripts/swcluster.py). An app, dana, registers through e0 with an RFC 8599
push address; e1 learns the binding from Redis's change feed. The PBX calls
her through e1 while she is awake: e1 relays the INVITE to e0, which owns
her NAT binding and her liveness and reaches her. She falls asleep; the PBX
calls through e0, which holds the call and pushes; her woken app registers
through e1 from a new port and the held INVITE reaches her through e1. Her
app refreshes through e0 again, and e0 is killed (SIGKILL): e1 finds it down
within 2 s, still has her binding, and a call through e1 pushes her and
rings her through e1: the failover is the wake path itself.

The PBX and dana's app are Python sockets (tests/integration/wakepeers.py,
wakesip.py: byte-level SIP, stdlib only), the same peers the cluster tests
use. Each step either happens within a few seconds or the demo stops there,
names the step, and removes everything it made.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import pushsrv  # noqa: E402
import swcluster  # noqa: E402
from wakepeers import BUNDLE, KID, TEAM, Device, Endpoint, is_req, is_resp  # noqa: E402
from wakesip import APP4, DOMAIN, PBX4, SDP_APP, Call, build, reply, vias  # noqa: E402

ALIVE_S, WAKE_S = 2, 4  # bindings.alive_window_s, wake.timeout_s: short for a demo
PUSH_PORT = 8443  # each edge's pd_testsrv, on 127.0.0.1 in the edge's namespace
# The counters this story is about (docs/cluster.md, "Telemetry"), and the
# wake counters next to them.
COUNTERS = ("bindings_remote", "fwd_to_peer", "sip_from_peer", "wake_via_peer", "peer_down",
            "wake_pushes", "wake_woken", "wake_answered")


class DemoEdge(swcluster.Edge):
    """An edge with its own APNs test server in its namespace (pushd reaches
    push services through the kernel stack of sipwake's namespace, and
    pd_testsrv listens on 127.0.0.1): wakecluster.WakeEdge without pytest, so
    the demo runs on the standard library alone."""

    def __init__(self, cluster, index, **kw):
        super().__init__(cluster, index, **kw)
        self.server = pushsrv.PushServer(self, port=PUSH_PORT, team=TEAM, key_id=KID,
                                         bundle=BUNDLE)
        self.config_extra += "\n" + self.server.config()

    def start(self, timeout=30):
        if self.server.proc is None:
            self.server.start()
        super().start(timeout)
        self.server.wait_conn()  # the first push must not wait for TLS

    def down(self):
        self.server.stop()
        super().down()


class DemoCluster(swcluster.ClusterLab):
    edge_class = DemoEdge


class StepFailed(Exception):
    pass


def until(pred, timeout, what):
    """@pred()'s first true value within @timeout s (polled every 50 ms);
    else the step fails, saying @what did not happen."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise StepFailed("no %s within %.1f s" % (what, timeout))
        time.sleep(0.05)


def next_second():
    """Sleep into the next wall-clock second. A binding's stamp is its
    registration time in seconds, ties broken by edge name ("e1" > "e0"):
    a REGISTER through e0 in the same second as one through e1 would lose
    to it everywhere (cluster/cl_lua.c, cp_bind_remote.c)."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


class Story:
    """The PBX, dana's phone and the two edges; one method per step, each
    saying what happened (@say: demo.py's timeline) and returning only once
    it has; a step that does not happen raises."""

    def __init__(self, cl, say, indent):
        self.cl, self.say, self.indent = cl, say, indent
        self.e0, self.e1 = cl.edges
        self.dana = Device("dana")
        self.pbx = self.app = None
        self.port = 20000
        self.endpoints = []
        self.stats_e0 = {}  # e0's counters just before it was killed

    # -- peers -----------------------------------------------------------
    def new_app(self):
        """dana's app on a new port: each wake is a new socket, as a woken
        phone's app opens one."""
        self.port += 1
        self.app = Endpoint(self.cl.ns_peer, APP4, self.port, "dana:%d" % self.port)
        self.endpoints.append(self.app)
        return self.app

    def close(self):
        for ep in self.endpoints:
            ep.close()

    def contact(self, pn=True):
        return self.dana.contact(self.app.ip, self.app.port, pn)

    def register(self, edge, cseq):
        """dana's REGISTER through @edge; the PBX answers 200 to the edge it
        came through; the 200 reaches the app. Returns the REGISTER as the
        PBX got it (with the edge's Path)."""
        app, dev = self.app, self.dana
        app.send(build("REGISTER sip:%s SIP/2.0" % DOMAIN, [
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-dana-%d-%d;rport"
            % (app.ip, app.port, app.port, cseq),
            "Max-Forwards: 70", "From: <sip:%s>;tag=dana%d" % (dev.aor, app.port),
            "To: <sip:%s>" % dev.aor, "Call-ID: dana-%d@phone" % app.port,
            "CSeq: %d REGISTER" % cseq,
            'Contact: <%s>;+sip.instance="<urn:uuid:%s>";expires=3600'
            % (self.contact(), dev.instance)]), edge.sw_ip4)
        where = "@%s:%d" % (app.ip, app.port)
        req = self.pbx.expect(lambda m: m.method == "REGISTER" and where in (
            m.get("Contact") or ""), 3.0, "dana's REGISTER at the PBX")
        ok = ["Contact: " + re.sub(r";expires=\d+", "", c) + ";expires=3600"
              for c in req.all("Contact")]
        self.pbx.send(reply(req, 200, "OK", tag="pbxreg", extra=ok), *req.src)
        app.expect(lambda m: m.status == 200 and m.cseq[1] == "REGISTER", 3.0,
                   "200 to dana's REGISTER")
        return req

    def device(self, edge):
        """dana's device as /sipwake/bindings on @edge shows it, or {}."""
        return (edge.devices(self.dana.aor) or [{}])[0]

    def take_call(self, call):
        """dana's app gets @call's INVITE, rings (180) and answers (200); the
        PBX ACKs and hangs up along the 200's Record-Route, as a PBX does.
        Returns (the INVITE as she got it, the edge in the Record-Route)."""
        app, pbx = self.app, self.pbx
        inv = app.expect(is_req("INVITE", call.cid), 3.0, "INVITE at dana's app")
        to_pbx = "sip:dana@%s:%d" % (app.ip, app.port)
        app.send(reply(inv, 180, "Ringing", tag="dana", contact=to_pbx), *inv.src)
        pbx.expect(is_resp(180, call.cid), 2.0, "dana's 180 at the PBX")
        app.send(reply(inv, 200, "OK", tag="dana", contact=to_pbx, body=SDP_APP), *inv.src)
        ok = pbx.expect(is_resp(200, call.cid, "INVITE"), 2.0, "dana's 200 at the PBX")
        rr = ok.all("Record-Route")
        if len(rr) != 1:
            raise StepFailed("the 200 has Record-Route %s, not one edge" % rr)
        edge_ip = rr[0].split("sip:")[1].split(":")[0].split(";")[0]
        pbx.send(call.in_dialog("ACK", ok, 1), edge_ip)
        app.expect(is_req("ACK", call.cid), 2.0, "the PBX's ACK at dana's app")
        pbx.send(call.in_dialog("BYE", ok, 2), edge_ip)
        bye = app.expect(is_req("BYE", call.cid), 2.0, "the PBX's BYE at dana's app")
        app.send(reply(bye, 200, "OK"), *bye.src)
        pbx.expect(is_resp(200, call.cid, "BYE"), 2.0, "200 to the BYE at the PBX")
        return inv, edge_ip

    def call(self, edge, held=True):
        """The PBX's INVITE for dana's last contact, sent through @edge
        (its Route). @held: the edge holds it for a wake and answers 100
        Trying at once (a call forwarded at once, or relayed to a peer,
        gets its answers from the device)."""
        call = Call(self.contact(), self.dana.user, edge=edge.sw_ip4)
        self.pbx.send(call.invite, call.edge)
        if held:
            self.pbx.expect(is_resp(100, call.cid), 1.0, "100 Trying from %s" % edge.edge_name)
        return call

    def pushed(self, edge, start):
        """The VoIP push @edge's test server got for dana since its @start-th request."""
        return until(lambda: next((e for e in edge.server.reqs(token=self.dana.token)[start:]
                                   if e.get("type") == "voip"), None), 5.0,
                     "VoIP push from %s" % edge.edge_name)

    def delta(self, edge, before):
        after = edge.stats()
        return {k: after[k] - before.get(k, 0) for k in COUNTERS}

    # -- the steps ---------------------------------------------------------
    def start(self):
        """1. Redis, the two edges, each with its push server; both see
        Redis up and each other answering."""
        for e in self.cl.edges:
            until(lambda: e.telemetry("/sipwake/cluster")["redis_state"] == "up"
                  and e.telemetry("/sipwake/cluster")["peers_up"] == 1, 10,
                  "%s up with Redis and its peer" % e.edge_name)
        self.pbx = Endpoint(self.cl.ns_peer, PBX4, 5060, "pbx")
        self.endpoints.append(self.pbx)
        for e in self.cl.edges:
            self.say("edge %s: sipwake in namespace %s at %s, its APNs test server on "
                     "127.0.0.1:%d there; Redis %s, peers up %d"
                     % (e.edge_name, e.ns_sw, e.sw_ip4, PUSH_PORT,
                        e.telemetry("/sipwake/cluster")["master"],
                        e.telemetry("/sipwake/cluster")["peers_up"]))
        self.say("redis-server on %s:%d in namespace %s (the backend network); the PBX "
                 "(%s) and the apps (%s) on the edges' LAN"
                 % (swcluster.REDIS_MASTER, swcluster.REDIS_PORT, self.cl.ns_db, PBX4, APP4))

    def register_e0(self):
        """2. dana registers through e0 with her push address."""
        self.new_app()
        req = self.register(self.e0, 1)
        dev = until(lambda: self.device(self.e0), 2.0, "dana on e0")
        self.say("dana's app REGISTERed through e0 from port %d with an RFC 8599 push "
                 "address; the PBX got it with Path %s and answered 200; e0: %s, %s, push "
                 "%s %s" % (self.app.port, req.get("Path"), dev.get("source"),
                            dev.get("state"), dev.get("push_provider"), dev.get("push_prid")))

    def binding_everywhere(self):
        """3. The binding on e1 (bound through e0) and in Redis."""
        aor = self.dana.aor
        dev = until(lambda: self.device(self.e1).get("peer") == "e0" and self.device(self.e1),
                    2.0, "dana on e1, bound through e0")
        self.say("telemetry of e1, /sipwake/bindings,%s: contact %s, peer \"%s\" (bound "
                 "through e0, learnt from Redis's feed), push %s %s"
                 % (aor, dev.get("contact"), dev.get("peer"), dev.get("push_provider"),
                    dev.get("push_prid")))
        key = "sipwake:b:%s\x1fi:<urn:uuid:%s>" % (aor, self.dana.instance)
        shown = key.replace("\x1f", "\\x1f")
        e = self.cl.redis_cli("HGET", key, "e")
        v = self.cl.redis_cli("HGET", key, "v")
        if e != "e0" or self.contact(pn=False) not in v:
            raise StepFailed("Redis has e=%r v=%r" % (e, v))
        self.say("redis-cli HGET '%s' e: \"%s\" (the edge that wrote it); its v, the "
                 "binding as one record (fields separated by 0x1f, "
                 "controlplane/store/cp_store_codec.c), holds what any edge needs to reach "
                 "and wake her:" % (shown, e))
        f = v.split("\x1f")
        if len(f) != 15 or f[0] != "sw1":
            raise StepFailed("Redis's value is not a sw1 record: %r" % v)
        print(self.indent("contact %s\ninstance %s, source %s:%s\npush %s %s, pn-param %s\n"
                          "registered_at %s (the stamp newest-wins compares), expires_at %s"
                          % (f[2], f[3], f[10], f[11], f[6], f[7], f[8], f[13], f[14])))

    def call_through_e1(self):
        """4. The PBX calls dana through e1 while she is awake: e1 relays to
        e0, which reaches her."""
        self.app.send(b"\r\n\r\n", self.e0.sw_ip4)  # a keepalive: alive at e0
        until(lambda: self.device(self.e0).get("state") == "alive", 2.0, "dana alive on e0")
        b0, b1 = self.e0.stats(), self.e1.stats()
        call = self.call(self.e1, held=False)
        inv, rr_edge = self.take_call(call)
        d0, d1 = self.delta(self.e0, b0), self.delta(self.e1, b1)
        if inv.src[0] != self.e0.sw_ip4 or rr_edge != self.e0.sw_ip4:
            raise StepFailed("the INVITE came from %s, Record-Route %s" % (inv.src[0], rr_edge))
        if d1["fwd_to_peer"] != 1 or d0["wake_pushes"] or d1["wake_pushes"]:
            raise StepFailed("counters: e0 %s, e1 %s" % (d0, d1))
        self.say("the PBX called awake dana through e1: e1 relayed the INVITE to e0 "
                 "(fwd_to_peer), e0 sent it to her app; its Vias:")
        print(self.indent("\n".join(vias(inv))))
        self.say("dana answered (180, 200); the PBX ACKed and hung up along the "
                 "Record-Route to e0 (%s); no push" % rr_edge)

    def wake_across(self):
        """5. dana asleep; the PBX calls through e0, which holds and pushes;
        her woken app registers through e1; the held call follows."""
        until(lambda: self.device(self.e0).get("state") == "asleep", ALIVE_S + 3.0,
              "dana asleep on e0")
        self.say("dana's phone locks its screen: nothing heard from her app for %d s, so "
                 "e0 says she is asleep" % ALIVE_S)
        b0, b1 = self.e0.stats(), self.e1.stats()
        mark = len(self.e0.server.reqs())
        t = time.monotonic()
        call = self.call(self.e0)
        ev = self.pushed(self.e0, mark)
        self.say("the PBX calls dana through e0: e0 answered 100, held the INVITE and sent "
                 "a VoIP push (%.0f ms): e0's APNs test server answered %s"
                 % ((time.monotonic() - t) * 1000, ev.get("status")))
        old = self.app
        self.new_app()
        self.register(self.e1, 1)
        inv, rr_edge = self.take_call(call)
        old.nothing(is_req("INVITE"), 0.1, "INVITE at dana's old port")
        d0, d1 = self.delta(self.e0, b0), self.delta(self.e1, b1)
        if inv.src[0] != self.e1.sw_ip4 or rr_edge != self.e1.sw_ip4:
            raise StepFailed("the INVITE came from %s, Record-Route %s" % (inv.src[0], rr_edge))
        if d0["wake_via_peer"] != 1 or d0["wake_answered"] != 1 or d1["wake_pushes"]:
            raise StepFailed("counters: e0 %s, e1 %s" % (d0, d1))
        self.say("dana's app woke, REGISTERed through e1 from port %d; Redis's feed brought "
                 "the binding to e0, whose held INVITE went to e1 (wake_via_peer) and on to "
                 "her new port: 180, 200, ACK, BYE through e1 (%d Vias, Record-Route %s)"
                 % (self.app.port, len(vias(inv)), rr_edge))

    def edge_killed(self):
        """6. dana's app refreshes through e0; e0 is killed; e1 finds it down,
        pushes dana for the PBX's call and rings her through itself."""
        next_second()
        self.register(self.e0, 2)
        until(lambda: self.device(self.e1).get("peer") == "e0" and self.device(self.e1)
              .get("contact") == self.contact(pn=False), 2.0, "dana's refresh on e1")
        self.say("dana's app refreshed its registration through e0 (DNS picked e0 this "
                 "time): e1 shows her bound through peer \"e0\" again")
        self.stats_e0 = self.e0.stats()
        rc = self.cl.kill_edge(0)
        t = time.monotonic()
        self.say("kill -9 e0's sipwake: %s" % ("gone, no clean shutdown" if rc == -9
                                                else "exit %s" % rc))
        until(lambda: self.e1.telemetry("/sipwake/cluster")["peers_up"] == 0, 4.0,
              "e1 finding e0 down")
        dev = self.device(self.e1)
        if self.e1.stats()["peer_down"] < 1 or dev.get("contact") != self.contact(pn=False):
            raise StepFailed("e1: peer_down %d, dana %s" % (self.e1.stats()["peer_down"], dev))
        self.say("e1 found e0 down after %.1f s (no answer to its OPTIONS: peer_down) and "
                 "still has dana's binding (peer \"%s\", push %s)"
                 % (time.monotonic() - t, dev.get("peer"), dev.get("push_prid")))
        b1, mark = self.e1.stats(), len(self.e1.server.reqs())
        call = self.call(self.e1)
        ev = self.pushed(self.e1, mark)
        self.say("the PBX calls dana through e1: e1 treats her as bound here and asleep, "
                 "holds the call and pushes (e1's APNs test server answered %s)"
                 % ev.get("status"))
        self.new_app()
        self.register(self.e1, 1)
        inv, rr_edge = self.take_call(call)
        d1 = self.delta(self.e1, b1)
        if inv.src[0] != self.e1.sw_ip4 or d1["wake_answered"] != 1 or d1["fwd_to_peer"]:
            raise StepFailed("INVITE from %s; e1's counters %s" % (inv.src[0], d1))
        self.say("dana's app woke, REGISTERed through e1 from port %d, and the call rang "
                 "there: 180, 200, ACK, BYE through e1" % self.app.port)

    def telemetry(self):
        """What an operator would look at: /sipwake/cluster of the live edge,
        the counters of this story on each edge."""
        self.say("telemetry, what an operator would look at:")
        c = self.e1.telemetry("/sipwake/cluster")
        keys = ("backend", "edge", "redis_state", "master", "peers", "peers_up", "connects",
                "batches_ok", "changes_written", "feed_changes", "feed_own", "feed_applied",
                "resyncs", "resync_rows", "journal_depth", "feed_lag_ms")
        print("    /sipwake/cluster of e1 (e0 is dead):")
        print(self.indent(", ".join("%s %s" % (k, c.get(k)) for k in keys)))
        for name, stats in (("e0 (just before the kill)", self.stats_e0),
                            ("e1", self.e1.stats())):
            print("    /sipwake/stats of %s, non-zero counters of the story:" % name)
            print(self.indent(", ".join("%s %d" % (k, stats.get(k, 0)) for k in COUNTERS
                                        if stats.get(k))))
        return c

    def finish(self):
        rc = self.e1.stop()
        if rc != 0:
            raise StepFailed("e1's sipwake exited %s on SIGTERM" % rc)
        self.say("SIGTERM: e1's sipwake exited 0")


STEPS = (("two edges up, sharing one Redis", "start"),
         ("dana registered through e0", "register_e0"),
         ("dana's binding on e1 (peer e0) and in Redis", "binding_everywhere"),
         ("the call through e1 reached awake dana through e0", "call_through_e1"),
         ("held on e0, dana woken through e1 took the call", "wake_across"),
         ("e0 killed: e1 pushed dana and the call rang through e1", "edge_killed"),
         ("the telemetry", "telemetry"),
         ("e1 stopped cleanly", "finish"))


def run(say, indent):
    """The two-edge demo; 0 if every step happened, else 1 (the failed
    step named). Everything is removed either way."""
    t0 = time.monotonic()
    cl = DemoCluster("swcdemo", n_edges=2, cluster_config=True,
                     pbx_extra="check_interval_s = 3600; timeout_ms = 1000;",
                     bindings_extra="ping_interval_s = 0; alive_window_s = %d;" % ALIVE_S,
                     config_extra="wake: { timeout_s = %d; refresh_before_s = 0; };" % WAKE_S)
    story, failed = Story(cl, say, indent), None
    say("two edges, e0 (%s) and e1 (%s), sharing their bindings through one Redis "
        "(scripts/swcluster.py, docs/cluster.md): starting them"
        % (swcluster.edge_ip4(0), swcluster.edge_ip4(1)))
    try:
        with cl:
            try:
                for what, step in STEPS:
                    try:
                        getattr(story, step)()
                    except (StepFailed, AssertionError, RuntimeError, OSError, KeyError,
                            ValueError, subprocess.SubprocessError) as e:
                        failed = (what, e)
                        break
            finally:
                story.close()
                if failed:
                    for e in cl.edges:
                        print("--- %s's log (end):\n%s" % (e.edge_name, e.read_log()[-2000:]))
    except RuntimeError as e:  # the lab did not come up
        failed = failed or (STEPS[0][0], e)
    say("namespaces and Redis removed; done in %.1f s" % (time.monotonic() - t0))
    if failed:
        say("the demo did NOT go as it should: %s: %s" % (failed[0], str(failed[1])[-3000:]))
        return 1
    return 0
