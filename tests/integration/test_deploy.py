# SPDX-License-Identifier: BSD-3-Clause
"""The systemd unit and its environment file (deploy/): systemd's own
verifier accepts the unit, every variable it uses is set by the
environment file, and its config pre-check runs as written."""
import os
import re
import shutil
import subprocess
import tempfile

import swlab

UNIT = os.path.join(swlab.REPO, "deploy", "sipwake.service")
ENV = os.path.join(swlab.REPO, "deploy", "sipwake.env")


def verify(text):
    d = tempfile.mkdtemp(prefix="swunit")
    try:
        path = os.path.join(d, "sipwake.service")
        with open(path, "w") as f:
            # The unit names the installed binary; verify against the built one.
            f.write(text.replace("/usr/local/bin/sipwake", swlab.sipwake_bin()))
        return subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                              text=True, timeout=60)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_unit_verifies_and_a_broken_one_does_not():
    text = open(UNIT).read()
    p = verify(text)
    assert p.returncode == 0 and "sipwake.service" not in p.stderr, p.stderr
    broken = verify(text.replace("Restart=on-failure", "Restart=sometimes"))
    assert "restart specifier" in broken.stderr, broken.stderr  # the verifier does look


def test_env_file_defines_what_the_unit_uses():
    used = set(re.findall(r"\$\{?(SIPWAKE_[A-Z_]+)", open(UNIT).read()))
    env = dict(l.split("=", 1) for l in open(ENV).read().splitlines()
               if l and not l.startswith("#"))
    assert used and used <= set(env), used - set(env)
    assert re.match(r"^\d+[MG]$", env["SIPWAKE_HUGEPAGES"])


def test_config_precheck_as_the_unit_runs_it():
    line = next(l for l in open(UNIT).read().splitlines()
                if l.startswith("ExecStartPre=") and "--check-config" in l)
    cmd = line.split("=", 1)[1].replace("/usr/local/bin/sipwake", swlab.sipwake_bin())
    cmd = cmd.replace("${SIPWAKE_CONFIG}", os.path.join(swlab.REPO, "config", "sipwake.conf"))
    p = subprocess.run(cmd.split(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "OK" in p.stdout, p
    bad = cmd.replace(os.path.join(swlab.REPO, "config", "sipwake.conf"), ENV)
    p = subprocess.run(bad.split(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 78, p  # EX_CONFIG: RestartPreventExitStatus stops the loop
