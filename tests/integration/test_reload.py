# SPDX-License-Identifier: BSD-3-Clause
"""Config reload without a restart: SIGHUP (or /sipwake/reload) applies new
filter rules at once; a file that does not load is refused with its error
and the running config stays in force; keys that need a restart say so."""
import os
import signal

import pytest

import swlab
from test_skeleton import sip_options
from waits import wait_for


@pytest.fixture(scope="module")
def rlab():
    with swlab.Lab(name="swr%d" % (os.getpid() % 10000)) as lab:
        yield lab
        assert lab.stop() == 0, lab.read_log()


def probe(lab, call_id, sport):
    """OPTIONS to sipwake from an unknown source with an 'EvilBot' User-Agent."""
    return lab.udp_exchange(sip_options("sip:%s" % swlab.SW_IP4, call_id=call_id,
                                        extra=b"User-Agent: EvilBot/1.0\r\n"),
                            sport=sport, timeout=1.5)


def reloads(lab):
    st = lab.stats()
    return st["config_reloads"], st["config_reload_refused"]


def test_sighup_applies_new_filter_rules(rlab):
    assert probe(rlab, "before", 5200) is not None  # not a scanner signature yet
    with open(rlab.conf_path) as f:
        text = f.read()
    text += '\nfilter: { scanner_user_agents = [ "evilbot" ]; };\n'
    rlab.write_config(text=text)
    rlab.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: reloads(rlab) == (1, 0)), (reloads(rlab), rlab.read_log())
    assert rlab.telemetry("/sipwake/info")["config_generation"] == 1
    d = rlab.stats()["drop_filter_scanner"]
    assert probe(rlab, "after", 5201) is None
    assert rlab.stats()["drop_filter_scanner"] == d + 1


def test_bad_file_refused_running_config_stays(rlab):
    with open(rlab.conf_path) as f:
        good = f.read()
    bad = good.replace('[ "evilbot" ];', '[ "evilbot" ]; unknown_rate = 0;')
    assert bad != good
    rlab.write_config(text=bad)
    rlab.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: reloads(rlab)[1] == 1), rlab.read_log()
    log = rlab.read_log()
    assert "config reload refused" in log and "filter.unknown_rate" in log, log[-2000:]
    # Still the previous rules: EvilBot is still a scanner, sipwake still runs.
    assert probe(rlab, "still", 5202) is None
    assert rlab.proc.poll() is None
    rlab.write_config(text=good)


def test_telemetry_reload_and_restart_only_keys(rlab):
    with open(rlab.conf_path) as f:
        text = f.read()
    rlab.write_config(text=text.replace("mbufs = 4095", "mbufs = 8191"))
    before = reloads(rlab)[0]
    assert rlab.telemetry("/sipwake/reload") == {"reload": "requested"}
    assert wait_for(lambda: reloads(rlab)[0] == before + 1), rlab.read_log()
    log = rlab.read_log()
    assert "except dataplane: those need a restart" in log, log[-2000:]
    rlab.write_config(text=text)
