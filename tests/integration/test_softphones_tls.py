# SPDX-License-Identifier: BSD-3-Clause
"""Real softphones from Debian over TLS through sipwake (docs/streams.md):
linphonec (linphone-cli) registers with its push address in the Contact
(RFC 8599 pn-*, set in its proxy config as a Linphone app sets it), takes a
call from sipp as the PBX, is killed as iOS kills a sleeping app, and the
next call pushes it; a new linphonec (the woken app: a new process, a new
TLS connection from a new port, the same +sip.instance) registers and
takes the held call. baresip registers over TLS and takes a call from the
sipp PBX too (it has no way to add pn-* to its Contact: no wake).
The PBX's registrar is wakekit's byte-level peer; every wait is bounded."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streampeer import add_streams  # noqa: E402
from wakekit import *  # noqa: E402,F401,F403

pytestmark = pytest.mark.skipif(
    not (shutil.which("linphonec") and shutil.which("baresip")),
    reason="linphone-cli and baresip-core not installed (scripts/setup.sh installs them)")

STREAMS = 'streams: { tls = { port = 5061; cert = "%(cert)s"; key = "%(key)s"; }; };'
LIN_UUID = "4c9b365b-8e0b-40de-9551-b417e80f7655"

LINPHONERC = """[sip]
sip_port=0
sip_tcp_port=0
sip_tls_port=%(port)d
default_proxy=0
root_ca=%(ca)s
verify_server_certs=1
verify_server_cn=0
[misc]
uuid=%(uuid)s
[sound]
playback_dev_id=Null: Null
ringer_dev_id=Null: Null
capture_dev_id=Null: Null
[video]
enabled=0
display=0
capture=0
[proxy_0]
reg_proxy=<sip:%(sw)s:5061;transport=tls>
reg_identity=sip:%(user)s@%(domain)s
reg_expires=600
reg_sendregister=1
publish=0
contact_uri_parameters=pn-provider=apns;pn-prid=%(token)s;pn-param=%(param)s
"""

BARESIP = """sip_listen %(app)s:%(port)d
sip_cafile %(ca)s
sip_trans_def tls
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module_app account.so
audio_source ausine,440
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
audio_player aufile,%(dir)s/out.wav
audio_alert aufile,%(dir)s/alert.wav
"""


@pytest.fixture(scope="module")
def pctx():
    lab = WakeLab("wsp%d" % (os.getpid() % 10000), PING_WAKE)
    add_streams(lab, STREAMS)
    for ctx in serve_lab(lab):  # once: started, then stopped after the tests
        # liblinphone creates no transport while it sees no network: a
        # default route in the apps' namespace is what it looks for.
        lab.peer(["ip", "route", "replace", "default", "via", SW4])
        yield ctx


class Phone:
    """A softphone process in the lab's peer namespace, its output kept."""

    def __init__(self, lab, name, cmd, home, stdin=None):
        self.name, self.home = name, home
        self.out = open(os.path.join(home, "out.log"), "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns_peer] + cmd, cwd=home,
                                  env=dict(os.environ, HOME=home), stdin=subprocess.PIPE,
                                  stdout=self.out, stderr=subprocess.STDOUT, text=True)
        if stdin:
            self.p.stdin.write(stdin)
            self.p.stdin.flush()

    def kill(self):
        """SIGKILL, as the OS ends a sleeping app: no de-registration."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
        self.p.wait(5)
        self.out.close()

    def log(self):
        with open(os.path.join(self.home, "out.log"), errors="replace") as f:
            return f.read()


def linphonec(ctx, dev, port, n):
    home = os.path.join(ctx.lab.tmp, "linphone%d" % n)
    os.makedirs(os.path.join(home, ".local", "share", "linphone"), exist_ok=True)
    rc = os.path.join(home, "linphonerc")
    with open(rc, "w") as f:
        f.write(LINPHONERC % {"port": port, "ca": ctx.lab.cert, "uuid": LIN_UUID, "sw": SW4,
                              "user": dev.user, "domain": DOMAIN, "token": dev.token,
                              "param": PN_PARAM})
    return Phone(ctx.lab, "linphonec", ["linphonec", "-c", rc, "-d", "0"], home,
                 stdin="autoanswer enable\n")


def answer_register(ctx, who, timeout=10.0):
    """The PBX accepts the next REGISTER naming @who in its Contact."""
    req = ctx.pbx.expect(lambda m: m.method == "REGISTER" and who in (m.get("Contact") or ""),
                         timeout, "REGISTER of " + who)
    ctx.pbx.send(reply(req, 200, "OK", tag="pbxreg", extra=[
        "Contact: " + c + ";expires=600" for c in req.all("Contact")]), *req.src)
    return req


def sipp_call(ctx, user, port):
    """sipp as the PBX calls @user's AOR through sipwake (pbx_call_uac.xml)."""
    return sippkit.lab_sipp(ctx.lab, "pbx_call_uac.xml", PBX4, port, remote=SW4, service=user,
                            timeout=30, sets={"ruri": "sip:%s@%s" % (user, DOMAIN),
                                              "domain": DOMAIN}, extra=["-d", "300"]).start()


def wait_device(ctx, aor, pred, timeout):
    end = time.monotonic() + timeout
    while True:
        ds = ctx.lab.devices(aor)
        if ds and pred(ds[0]):
            return ds[0]
        assert time.monotonic() < end, "%s: %s" % (aor, ds)
        time.sleep(0.1)


def test_linphonec_over_tls_called_killed_pushed_and_woken(pctx):
    ctx = pctx
    dev = Device("linus")
    app = linphonec(ctx, dev, 5301, 1)
    try:
        req = answer_register(ctx, "@%s:" % APP4)
        # Linphone's own push address, as its proxy config adds it.
        assert "pn-prid=%s" % dev.token in req.get("Contact"), req
        assert req.all("Via")[-1].startswith("SIP/2.0/TLS "), req
        d = wait_device(ctx, dev.aor, lambda d: d["state"] == "alive", 3.0)
        assert d["transport"] == "tls" and d["push_provider"] == "apns", d
        mark = ctx.push.mark()
        caller = sipp_call(ctx, dev.user, 5062)
        res = caller.wait(30)
        assert res.ok, sippkit.explain(res, app.log()[-3000:])
        assert ctx.push.reqs(dev.token, None, mark) == []  # alive: called at once
    finally:
        app.kill()
    wait_device(ctx, dev.aor, lambda d: d["state"] == "asleep", 3.0)
    d, mark = Delta(ctx.lab), ctx.push.mark()
    caller = sipp_call(ctx, dev.user, 5064)
    woken = None
    try:
        ctx.push.wait_req(dev.token, start=mark, timeout=5)
        woken = linphonec(ctx, dev, 5302, 2)  # the push woke it: a new process
        answer_register(ctx, "@%s:" % APP4)
        res = caller.wait(30)
        assert res.ok, sippkit.explain(res, woken.log()[-3000:], ctx.lab.read_log()[-2000:])
    finally:
        caller.stop()
        if woken is not None:
            woken.kill()
    d.no_held()
    w = d.wake()
    assert w.get("wake_pushes") == 1 and w.get("wake_woken") == 1, w
    assert w.get("wake_answered") == 1, w


def test_baresip_registers_over_tls_and_takes_a_sipp_call(pctx):
    ctx = pctx
    home = os.path.join(ctx.lab.tmp, "baresip")
    os.makedirs(home)
    with open(os.path.join(home, "config"), "w") as f:
        f.write(BARESIP % {"app": APP4, "port": 5311, "ca": ctx.lab.cert, "dir": home})
    with open(os.path.join(home, "accounts"), "w") as f:
        f.write('<sip:bare@%s;transport=tls>;auth_pass=secret;answermode=auto;regint=600;'
                'outbound="sip:%s:5061;transport=tls"\n' % (DOMAIN, SW4))
    app = Phone(ctx.lab, "baresip", ["baresip", "-f", home, "-t", "40"], home)
    try:
        answer_register(ctx, "bare-")
        d = wait_device(ctx, "bare@%s" % DOMAIN, lambda d: d["state"] == "alive", 3.0)
        assert d["transport"] == "tls", d
        res = sipp_call(ctx, "bare", 5066).wait(30)
        assert res.ok, sippkit.explain(res, app.log()[-3000:])
    finally:
        app.kill()
    wait_device(ctx, "bare@%s" % DOMAIN, lambda d: d["state"] == "asleep", 3.0)
