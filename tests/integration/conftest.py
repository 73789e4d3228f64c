# SPDX-License-Identifier: BSD-3-Clause
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import swlab  # noqa: E402

SIPP_DIR = os.path.join(os.path.dirname(__file__), "sipp")


@pytest.fixture(scope="module")
def lab():
    """One sipwake on a veth pair for a module's tests; must exit 0 at the end."""
    # No pbx.servers: sipwake sends nothing of its own (health checks), so the
    # dataplane tests can count every frame and probe.
    with swlab.Lab(name="swt%d" % (os.getpid() % 10000), pbx_servers=[]) as lab:
        yield lab
        rc = lab.stop()
        assert rc == 0, lab.read_log()
        assert not os.path.exists(lab.runtime_dir())


class Delta:
    """Counters before/after a test step: only what the step itself caused."""

    def __init__(self, lab, worker=None):
        self.lab, self.worker = lab, worker
        self.before = lab.stats(worker)

    def __call__(self):
        after = self.lab.stats(self.worker)
        return {k: after[k] - self.before.get(k, 0) for k in after
                if isinstance(after[k], int)}


@pytest.fixture
def delta():
    return Delta
