# SPDX-License-Identifier: BSD-3-Clause
"""What the tests of several edges ask of them (test_cluster*.py): a
condition within a bound, an edge's /sipwake/cluster, a device as an edge's
tables show it, a binding as Redis holds it (docs/cluster.md, "What is
where")."""
from waits import until  # noqa: F401 (the cluster tests import it from here)


def cluster(edge):
    """@edge's /sipwake/cluster."""
    return edge.telemetry("/sipwake/cluster")


def device_on(edge, dev, contact=None):
    """@dev's one device in @edge's tables (its contact @contact when
    given: /sipwake/bindings shows it without parameters, which hold the
    push token), or None."""
    ds = [d for d in edge.devices(dev.aor) if d.get("instance") == "<urn:uuid:%s>" % dev.instance]
    assert len(ds) <= 1, ds
    if ds and (contact is None or ds[0].get("contact") == contact.split(";")[0]):
        return ds[0]
    return None


def redis_binding(lab, dev, check=False):
    """The binding Redis holds for @dev (its record), or "" (none; or,
    unless @check, Redis did not answer)."""
    key = "sipwake:b:%s\x1fi:<urn:uuid:%s>" % (dev.aor, dev.instance)
    return lab.redis_cli("HGET", key, "v", check=check)
