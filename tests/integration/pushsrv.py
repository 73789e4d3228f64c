# SPDX-License-Identifier: BSD-3-Clause
"""The push test double (build/tests/pushd/pd_testsrv, tests/pushd/README.md)
for the integration tests: an APNs-, FCM HTTP v1- and Google OAuth2-like
HTTP/2 TLS server that checks every request as Apple and Google do and
reports it on stdout.

pushd reaches push services through the kernel network stack of the
namespace sipwake runs in (docs/design.md §7, "Push services through the
host's stack"), so the server runs inside the lab's ``<name>-sw`` namespace
on 127.0.0.1 (its ``lo`` is brought up here).
Its port is fixed (default 8443) so that the config can be written before
the lab starts sipwake; pushd keeps reconnecting (push.retry_max_ms) until
the server is up::

    lab = swlab.Lab(name=..., config_extra="wake: { refresh_before_s = 10; };")
    ps = pushsrv.PushServer(lab)          # keys made now, nothing started
    lab.config_extra += ps.config()       # push { apns = ( { ... } ); }
    with lab, ps:                         # sipwake first, then the server
        ps.wait_conn()                    # pushd connected
        ps.cmd("set <token> 410")         # the next pushes to <token> get 410
        req = ps.wait_req(token=TOKEN, timeout=10)
        assert req["type"] == "background" and req["topic"] == "com.example"

The credential matches sippeer's push address: team ABCD123456, bundle
com.example, so pn-param "ABCD123456.com.example.voip" (sippeer.TOPIC) picks
it; VoIP pushes carry topic "com.example.voip", alert and background pushes
"com.example". sipwake also sends a background push before each binding
expires (wake.refresh_before_s, default 120, never before half the granted
lifetime): tests of other pushes filter with wait_req(type="voip") or set
refresh_before_s = 0. Every wait is bounded; a server that outlives its
test is impossible (it stops when its stdin closes).

FCM: ``PushServer(lab, fcm_project=FCM_PROJECT)`` also makes a service
account (an RSA key, its JSON file) and serves FCM HTTP v1
(``/v1/projects/<project>/messages:send``) and the OAuth2 token endpoint
(``/token``) on the same port; ``config(fcm=True)`` adds the credential
(``config(apns=False, fcm=True)`` for FCM alone). The server accepts only
access tokens it issued from ``/token`` (else 401) and only the project it
was started with (else 403), so a push answered 200 proved both. A token
endpoint that refuses the service account: ``service_account(email=...)``
writes another account file, signed by the same key but naming a client the
server does not know, and ``config(fcm_account=that_file)`` uses it::

    ps = pushsrv.PushServer(lab, fcm_project=pushsrv.FCM_PROJECT)
    lab.config_extra += ps.config(apns=False, fcm=True)
    ...
    req = ps.wait_req(token=FCM_TOKEN, kind="fcm", timeout=10)
    assert req["type"] == "call" and req["prio"] == "high"
    assert ps.token_reqs()[0]["status"] == 200   # the bearer pushd used
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEAM, KEY_ID, BUNDLE = "ABCD123456", "KEY1234567", "com.example"
# A Firebase project id and the service account of it that pushd signs in as.
FCM_PROJECT = "sipwake-android-test"
FCM_EMAIL = "pushd@%s.iam.gserviceaccount.com" % FCM_PROJECT
VAPID_SUB = "mailto:ops@example.com"  # the Web Push credential's subject (RFC 8292 sub)


def testsrv_bin():
    """$PD_TESTSRV_BIN, else the one built next to $SIPWAKE_BIN (the ASan
    build's for the ASan sipwake), else build/tests/pushd/pd_testsrv."""
    if os.environ.get("PD_TESTSRV_BIN"):
        return os.environ["PD_TESTSRV_BIN"]
    sw = os.environ.get("SIPWAKE_BIN")
    if sw:
        cand = os.path.join(os.path.dirname(os.path.dirname(sw)), "tests", "pushd", "pd_testsrv")
        if os.path.exists(cand):
            return cand
    return os.path.join(REPO, "build", "tests", "pushd", "pd_testsrv")


def parse_event(line):
    """A ``REQ ...`` line as a dict: kind ("apns", "fcm", "webpush", "token"), token,
    and each key=value (status as int); body is everything after " body="."""
    head, sep, body = line.partition(" body=")
    words = head.split(" ")
    ev = {"kind": words[1] if len(words) > 1 else ""}
    rest = words[2:]
    if ev["kind"] in ("apns", "fcm", "webpush") and rest:
        ev["token"], rest = rest[0], rest[1:]
    for w in rest:
        k, _, v = w.partition("=")
        ev[k] = v
    if sep:
        ev["body"] = body
    if ev.get("status", "").lstrip("-").isdigit():
        ev["status"] = int(ev["status"])
    ev["line"] = line
    return ev


class PushServer:
    """pd_testsrv in @lab's sipwake namespace. Context manager: start() on
    enter, stop() on exit (the lab must be up by then)."""

    def __init__(self, lab, port=8443, team=TEAM, key_id=KEY_ID, bundle=BUNDLE,
                 fcm_project=None, fcm_email=FCM_EMAIL):
        self.lab, self.port = lab, port
        self.team, self.key_id, self.bundle = team, key_id, bundle
        # FCM served only when a project is given (an RSA key takes a moment).
        self.fcm_project, self.fcm_email = fcm_project, fcm_email
        self.dir = tempfile.mkdtemp(prefix="pushsrv-")
        self.proc, self.returncode = None, None
        self._lines, self._cv, self._eof = [], threading.Condition(), False
        self._cursors = {}  # wait_req(): (token, match) -> next line to look at
        self._keys()

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _keys(self):
        # TLS certificate for 127.0.0.1 (pushd checks it against ca_file)
        # and the APNs signing key (.p8) with its public half for the server.
        subprocess.run(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            "-keyout tls.key -out tls.crt -days 2 -subj /CN=localhost "
            "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 && "
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out AuthKey.p8 && "
            "openssl pkey -in AuthKey.p8 -pubout -out apns.pub",
            shell=True, check=True, cwd=self.dir, timeout=30,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.fcm_project:
            # The service account's RS256 key (PKCS#8, as Google hands it
            # out) and its public half for the token endpoint.
            subprocess.run(
                "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key && "
                "openssl pkey -in sa.key -pubout -out sa.pub",
                shell=True, check=True, cwd=self.dir, timeout=60,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.service_account()

    def service_account(self, email=None, name="sa.json"):
        """Write a service-account JSON file (the form the Firebase console
        downloads) for the server's project, signed by the server's key, for
        client @email (default the one the server accepts); returns its path."""
        with open(self._path("sa.key")) as f:
            pem = f.read()
        sa = {"type": "service_account", "project_id": self.fcm_project,
              "private_key_id": "0123456789abcdef0123456789abcdef01234567",
              "private_key": pem, "client_email": email or self.fcm_email,
              "client_id": "100000000000000000001",
              "token_uri": "https://oauth2.googleapis.com/token"}
        path = self._path(name)
        with open(path, "w") as f:
            json.dump(sa, f)
        return path

    def config(self, bundle=None, team=None, key_id=None, extra="", apns=True, fcm=False,
               fcm_project=None, fcm_account=None, fcm_package=None, webpush=False,
               webpush_extra=""):
        """The ``push: { ... };`` text for sipwake's config: one APNs token
        credential at this server (unless @apns is false), trusting its
        certificate. Other values than the server's (a wrong bundle, team or
        key id) make it refuse the pushes as APNs would. @fcm: one FCM
        credential too, for @fcm_project (default the server's) with the
        service account file @fcm_account (default the one the server
        accepts), its token endpoint and FCM endpoint this server, and the
        Android package name @fcm_package if given. @webpush: the Web Push
        credential (VAPID key: the APNs .p8, a P-256 key; subject
        mailto:ops@example.com) with @webpush_extra inside its group. @extra:
        more keys inside push { }."""
        text = 'push: { retry_base_ms = 50; retry_max_ms = 500; %s\n' % extra
        if apns:
            text += ('  apns = ( { team_id = "%s"; bundle_id = "%s"; key_id = "%s"; '
                     'key_file = "%s"; endpoint = "127.0.0.1:%d"; ca_file = "%s"; } );\n'
                     % (team or self.team, bundle or self.bundle, key_id or self.key_id,
                        self._path("AuthKey.p8"), self.port, self._path("tls.crt")))
        if fcm:
            assert self.fcm_project, "PushServer(fcm_project=...) serves FCM"
            text += ('  fcm = ( { project = "%s"; service_account_file = "%s"; '
                     'token_url = "https://127.0.0.1:%d/token"; endpoint = "127.0.0.1:%d"; '
                     'ca_file = "%s";%s } );\n'
                     % (fcm_project or self.fcm_project, fcm_account or self._path("sa.json"),
                        self.port, self.port, self._path("tls.crt"),
                        ' package = "%s";' % fcm_package if fcm_package else ""))
        if webpush:
            text += ('  webpush = ( { vapid_key = "%s"; subject = "%s"; ca_file = "%s"; %s } );\n'
                     % (self._path("AuthKey.p8"), VAPID_SUB, self._path("tls.crt"),
                        webpush_extra))
        return text + "};\n"

    def wpsub(self, sub_id):
        """Mint Web Push subscription @sub_id on the server (the browser's
        PushManager.subscribe()): (endpoint URL, "<p256dh>.<auth>")."""
        words = self.cmd("wpsub " + sub_id).split()
        return words[3], words[4]

    # -- life ---------------------------------------------------------------
    def start(self, timeout=10):
        """Start the server (again, after stop(remove=False) or kill(): the
        same keys and port, so pushd reconnects to it as to a push service
        that came back)."""
        self.lab.sw(["ip", "link", "set", "lo", "up"])
        with self._cv:
            at = len(self._lines)  # a restart's PORT line, not the last run's
        cmd = ["ip", "netns", "exec", self.lab.ns_sw, testsrv_bin(),
               "--cert", self._path("tls.crt"), "--key", self._path("tls.key"),
               "--port", str(self.port), "--apns-key", self._path("apns.pub"),
               "--apns-kid", self.key_id, "--apns-team", self.team,
               "--apns-bundle", self.bundle]
        if self.fcm_project:
            cmd += ["--fcm-key", self._path("sa.pub"), "--fcm-email", self.fcm_email,
                    "--fcm-project", self.fcm_project]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._eof = False
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        if self._wait_line(lambda l: l.startswith("PORT "), timeout, at) is None:
            self.stop()
            raise RuntimeError("pd_testsrv did not start:\n" + "\n".join(self._lines))
        return self

    def stop(self, timeout=10, remove=True):
        """Close its stdin (it quits cleanly, so ASan can check it); kill it
        if it does not. Returns its exit code. @remove false keeps its keys
        for start() again."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.returncode, self.proc = self.proc.returncode, None
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.returncode

    def kill(self):
        """SIGKILL: the push service dies as a crashed host does (no
        GOAWAY, its sockets closed by the kernel); the keys stay for
        start() again."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.returncode, self.proc = self.proc.returncode, None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _read(self, proc):
        for line in proc.stdout:
            with self._cv:
                self._lines.append(line.rstrip("\n"))
                self._cv.notify_all()
        with self._cv:
            self._lines.append("EOF")
            if proc is self.proc or self.proc is None:
                self._eof = True  # this run's end, not a killed one's
            self._cv.notify_all()

    def _wait_line(self, pred, timeout, start):
        """Index of the first line from @start on that @pred accepts, or None."""
        end = time.monotonic() + timeout
        with self._cv:
            i = start
            while True:
                while i < len(self._lines):
                    if pred(self._lines[i]):
                        return i
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or self._eof:
                    return None
                self._cv.wait(left)

    # -- use ------------------------------------------------------------------
    def cmd(self, line, timeout=5):
        """Send one control command ("set <token> 410", "clear", "delay 200",
        ...; tests/pushd/README.md) and wait for its OK; raises on ERR."""
        word = line.split()[0]
        with self._cv:
            at = len(self._lines)
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        i = self._wait_line(lambda l: l == "OK " + word or l.startswith("OK " + word + " ")
                            or l.startswith("ERR"), timeout, at)
        if i is None or self._lines[i].startswith("ERR"):
            raise RuntimeError("pd_testsrv %r: %s" % (line, "no answer" if i is None
                                                       else self._lines[i]))
        return self._lines[i]

    def wait_conn(self, timeout=10, since=0):
        """Wait until pushd has a TLS connection to the server (one opened
        after line @since of events(), if given)."""
        if self._wait_line(lambda l: l.startswith("CONN "), timeout, since) is None:
            raise RuntimeError("pushd never connected to pd_testsrv:\n"
                               + self.lab.read_log()[-3000:])

    def events(self):
        """Every line the server has printed so far ("CONN 1", "CLOSED",
        "REQ ...")."""
        with self._cv:
            return list(self._lines)

    def reqs(self, token=None):
        """Every push request seen so far (parsed REQ lines, oldest first;
        OAuth2 token requests left out), for @token only if given."""
        with self._cv:
            lines = list(self._lines)
        evs = [parse_event(l) for l in lines if l.startswith("REQ apns ")
               or l.startswith("REQ fcm ") or l.startswith("REQ webpush ")]
        return [e for e in evs if token is None or e["token"] == token]

    def token_reqs(self):
        """Every OAuth2 token request seen so far (``REQ token`` lines, parsed:
        status, iat of the assertion), oldest first."""
        with self._cv:
            lines = list(self._lines)
        return [parse_event(l) for l in lines if l.startswith("REQ token ")]

    def wait_token_req(self, status=None, timeout=5.0):
        """The first OAuth2 token request (answered @status, if given) within
        @timeout seconds, parsed; None if none came."""
        i = self._wait_line(lambda l: l.startswith("REQ token ") and (
            status is None or parse_event(l).get("status") == status), timeout, 0)
        return None if i is None else parse_event(self._lines[i])

    def wait_req(self, token=None, timeout=5.0, **match):
        """The next push request not returned by wait_req() before, for @token
        (any if None) and whose fields equal @match (e.g. type="voip", or
        kind="fcm" for FCM requests only), within @timeout seconds; None if
        none came. Requests passed over (other tokens) stay for later calls."""
        def ok(line):
            if not (line.startswith("REQ apns ") or line.startswith("REQ fcm ")):
                return False
            ev = parse_event(line)
            return (token is None or ev["token"] == token) and \
                all(str(ev.get(k)) == str(v) for k, v in match.items())

        # Each (token, match) has its own cursor so that waiting for one
        # device never consumes another's requests.
        key = (token, tuple(sorted(match.items())))
        i = self._wait_line(ok, timeout, self._cursors.get(key, 0))
        if i is None:
            return None
        self._cursors[key] = i + 1
        return parse_event(self._lines[i])
