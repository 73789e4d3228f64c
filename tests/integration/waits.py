# SPDX-License-Identifier: BSD-3-Clause
"""The bounded waits every integration test uses: a condition polled until
it holds or its time is up (tests/README.md, "Rules": every wait bounded)."""
import time


def wait_for(pred, timeout=5.0, step=0.05):
    """@pred()'s first true value within @timeout s (polled every @step s),
    else its value at the end: the caller asserts it, with what it knows."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def until(pred, timeout, what, step=0.05):
    """@pred()'s first true value within @timeout s; fails the test,
    naming @what, otherwise."""
    v = wait_for(pred, timeout, step)
    assert v, "not within %.1f s: %s" % (timeout, what)
    return v
