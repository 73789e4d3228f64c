# SPDX-License-Identifier: BSD-3-Clause
"""sipp and Kamailio as test peers: run the scenarios of tests/integration/sipp
and the configs of tests/integration/kamailio in a network namespace (the
swlab.Lab peer namespace, or a private one) or on the host.

    with swlab.Lab() as lab:
        with sippkit.Sipp("pbx_registrar.xml", local=swlab.PBX_IP4, port=5060,
                          netns=lab.ns_peer, workdir=lab.tmp) as pbx:
            app = sippkit.run_sipp("app_register.xml", remote=swlab.SW_IP4,
                                   local=swlab.PEER_IP4, port=5070, netns=lab.ns_peer,
                                   workdir=lab.tmp, service="alice",
                                   extra=["-au", "alice", "-ap", "secret"])
            assert app.ok, str(app)
        assert pbx.result.ok, str(pbx.result)

Every sipp runs under coreutils timeout(1) (sipp's own -timeout does not end
stuck calls) with -m bounds; a UAS is waited for until its UDP socket is
bound, so the UAC that follows cannot race it. Results carry sipp's exit
code and its message and error traces, which is what a failed assert shows.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIPP_DIR = os.path.join(HERE, "sipp")
KAMAILIO_DIR = os.path.join(HERE, "kamailio")


def _ns(netns):
    return ["ip", "netns", "exec", netns] if netns else []


def _hostport(ip, port):
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def udp_bound(ip, port, netns=None):
    """Whether some socket in netns is bound to udp ip:port."""
    out = subprocess.run(_ns(netns) + ["ss", "-H", "-u", "-a", "-n"], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10).stdout
    want = _hostport(ip, port)
    return any(want in line.split()[3:4] for line in out.splitlines() if line.strip())


def wait_udp_bound(ip, port, netns=None, timeout=5.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if udp_bound(ip, port, netns):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


class SippResult:
    """What one sipp run left: exit code (0: every call passed; 1: some call
    failed, a check_it included; 124: killed by timeout(1)), traces."""

    def __init__(self, rc, messages, errors, output):
        self.rc, self.messages, self.errors, self.output = rc, messages, errors, output

    @property
    def ok(self):
        return self.rc == 0

    def __str__(self):
        return "sipp rc=%s\n--- errors:\n%s\n--- messages:\n%s\n--- output:\n%s" % (
            self.rc, self.errors[-4000:], self.messages[-6000:], self.output[-1500:])

    __repr__ = __str__


def explain(*parts):
    """An assertion message with every sipp run (or log) whole: pytest cuts
    a message that is not a string to 240 characters."""
    return "\n".join(str(r) for r in parts)


def sipp_cmd(scenario, local, port, remote=None, remote_port=5060, calls=1, timeout=30,
             sets=None, service=None, extra=(), trace_dir="."):
    """The command line of one sipp run (scenario: a name in SIPP_DIR or a path)."""
    sf = scenario if os.path.sep in scenario else os.path.join(SIPP_DIR, scenario)
    cmd = ["timeout", str(timeout), "sipp"]
    if remote:
        cmd.append(_hostport(remote, remote_port))
    cmd += ["-sf", sf, "-m", str(calls), "-i", local, "-p", str(port), "-bind_local",
            "-nostdin", "-timeout", str(max(timeout - 5, 1)), "-timeout_error",
            "-trace_msg", "-message_file", os.path.join(trace_dir, "messages.log"),
            "-trace_err", "-error_file", os.path.join(trace_dir, "errors.log")]
    if service:
        cmd += ["-s", service]
    for k, v in (sets or {}).items():
        cmd += ["-set", k, str(v)]
    return cmd + list(extra)


class Sipp:
    """One sipp in the background (a UAS, usually); a context manager. The
    keyword arguments are sipp_cmd's. start() returns once its socket is
    bound; wait() returns its SippResult (also kept in .result)."""

    def __init__(self, scenario, local, port, netns=None, workdir=None, **kw):
        self.scenario, self.local, self.port, self.netns = scenario, local, port, netns
        self.timeout = kw.get("timeout", 30)
        base = workdir or tempfile.gettempdir()
        name = os.path.basename(scenario).rsplit(".", 1)[0]
        self.dir = tempfile.mkdtemp(prefix="sipp-%s-%d-" % (name, port), dir=base)
        self.cmd = _ns(netns) + sipp_cmd(scenario, local, port, trace_dir=self.dir, **kw)
        self.proc = None
        self.result = None

    def start(self, bound_timeout=5.0):
        self.out = open(os.path.join(self.dir, "output.log"), "w")
        self.proc = subprocess.Popen(self.cmd, cwd=self.dir, stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # None: no UDP socket to wait for (-t t1: sipp connects itself).
        if bound_timeout is not None and not wait_udp_bound(self.local, self.port, self.netns,
                                                            bound_timeout, self.proc):
            self.stop()
            raise RuntimeError("sipp %s did not bind %s:\n%s" % (
                self.scenario, _hostport(self.local, self.port), self.result))
        return self

    def wait(self, timeout=None):
        """Wait for sipp to end (at most its own timeout + 5 s)."""
        if self.result is None:
            try:
                self.proc.wait(timeout if timeout is not None else self.timeout + 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self._collect()
        return self.result

    def stop(self):
        """End it now (SIGTERM to timeout(1), which passes it on to sipp)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(10)

    def _collect(self):
        self.out.close()

        def read(name):
            try:
                with open(os.path.join(self.dir, name), errors="replace", newline="") as f:
                    return f.read()
            except OSError:
                return ""
        self.result = SippResult(self.proc.returncode, read("messages.log"), read("errors.log"),
                                 read("output.log"))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.result is None:
            if exc[0] is None:
                self.wait()
            else:
                self.stop()


def run_sipp(scenario, local, port, netns=None, workdir=None, **kw):
    """One sipp in the foreground (a UAC, usually): its SippResult."""
    s = Sipp(scenario, local, port, netns=netns, workdir=workdir, **kw)
    s.out = open(os.path.join(s.dir, "output.log"), "w")
    s.proc = subprocess.Popen(s.cmd, cwd=s.dir, stdout=s.out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    return s.wait()


def lab_sipp(lab, scenario, local, port, remote=None, **kw):
    """A Sipp (not started) in a swlab.Lab's peer namespace, traces under lab.tmp."""
    return Sipp(scenario, local, port, remote=remote, netns=lab.ns_peer, workdir=lab.tmp, **kw)


def lab_run_sipp(lab, scenario, local, port, remote=None, **kw):
    """run_sipp in a swlab.Lab's peer namespace (remote: sipwake, usually)."""
    return run_sipp(scenario, local, port, remote=remote, netns=lab.ns_peer, workdir=lab.tmp,
                    **kw)


class Kamailio:
    """Kamailio from Debian run from a temp dir, without its service: in the
    foreground (-DD), logging to stderr (-E) into <dir>/kamailio.log, runtime
    dir, pid file and binrpc control socket in <dir>. listen is kamailio's
    [proto:]addr:port, or a list of two (the second becomes LISTEN2, which
    registrar.cfg knows); defines are -A arguments ("NAME" or "NAME=value").
    A context manager; stop() returns the log."""

    def __init__(self, cfg="registrar.cfg", listen="udp:127.0.0.1:5060", netns=None,
                 workdir=None, defines=(), children=1, shm_mb=32, pkg_mb=8, extra=()):
        self.cfg = cfg if os.path.sep in cfg else os.path.join(KAMAILIO_DIR, cfg)
        self.netns = netns
        self.dir = tempfile.mkdtemp(prefix="kamailio-", dir=workdir or tempfile.gettempdir())
        self.ctl = "unix:" + os.path.join(self.dir, "kamailio_ctl")
        self.log_path = os.path.join(self.dir, "kamailio.log")
        cmd = ["kamailio", "-f", self.cfg, "-DD", "-E", "-n", str(children),
               "-m", str(shm_mb), "-M", str(pkg_mb), "-Y", self.dir,
               "-P", os.path.join(self.dir, "kamailio.pid"), "-w", self.dir,
               "-A", 'CTL="%s"' % self.ctl]
        for name, addr in zip(("LISTEN", "LISTEN2"), [listen] if isinstance(listen, str)
                              else listen):
            cmd += ["-A", "%s=%s" % (name, addr)]
        for d in defines:
            cmd += ["-A", d]
        self.cmd = _ns(netns) + cmd + list(extra)
        self.proc = None

    def start(self, timeout=15):
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, cwd=self.dir, stdout=self.logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kamailio exited with %d:\n%s" % (self.proc.returncode,
                                                                    self.log()))
            try:
                if self.rpc("core.version").startswith("kamailio"):
                    return self
            except (subprocess.SubprocessError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("kamailio did not answer on %s:\n%s" % (self.ctl, self.log()))

    def rpc(self, *args):
        """One RPC command through kamcmd on the control socket; its text."""
        p = subprocess.run(["kamcmd", "-s", self.ctl] + list(args), text=True, timeout=5,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise subprocess.SubprocessError(p.stdout)
        return p.stdout

    def contacts(self, aor):
        """The bindings of one AOR (usrloc "location"): a list of dicts with
        the keys of ul.lookup (Address, Expires, Path, Received, ...)."""
        try:
            text = self.rpc("ul.lookup", "location", aor)
        except subprocess.SubprocessError:
            return []
        out, cur = [], None
        for line in text.splitlines():
            key, _, val = line.strip().partition(":")
            if key == "Contact" and val.strip() == "{":
                cur = {}
                out.append(cur)
            elif cur is not None and val:
                cur.setdefault(key.strip(), val.strip())
        return out

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=10):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None:
            self.logf.close()
        return self.log()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Netns:
    """A private network namespace with only loopback up: sipp and Kamailio on
    127.0.0.1 / ::1 there cannot meet anything else on this machine."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(_ns(self.name) + ["ip", "link", "set", "lo", "up"], check=True)
        return self.name

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
