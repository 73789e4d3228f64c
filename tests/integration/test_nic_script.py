# SPDX-License-Identifier: BSD-3-Clause
"""scripts/sipwake-nic.py refuses what would cut the host off, tested in a
network namespace of its own on veth interfaces: no real NIC is touched."""
import os
import subprocess

import pytest

import swlab

SCRIPT = os.path.join(swlab.REPO, "scripts", "sipwake-nic.py")


@pytest.fixture(scope="module")
def ns():
    name = "swnic%d" % (os.getpid() % 10000)
    ip = lambda *a: swlab.run(["ip", "netns", "exec", name, "ip"] + list(a))
    swlab.run(["ip", "netns", "del", name], check=False)
    swlab.run(["ip", "netns", "add", name])
    try:
        ip("link", "set", "lo", "up")
        for a, b in (("nicr0", "nicr1"), ("nics0", "nics1"), ("nicd0", "nicd1")):
            ip("link", "add", a, "type", "veth", "peer", "name", b)
        # nicr0: the default route; nics0: an address (the "SSH" one); nicd0: idle.
        ip("link", "set", "nicr0", "up")
        ip("addr", "add", "192.0.2.1/24", "dev", "nicr0")
        ip("route", "add", "default", "via", "192.0.2.254", "dev", "nicr0")
        ip("link", "set", "nics0", "up")
        ip("addr", "add", "198.51.100.1/24", "dev", "nics0")
        yield name
    finally:
        swlab.run(["ip", "netns", "del", name], check=False)


def nic(ns, *args, env=None):
    e = {k: v for k, v in os.environ.items() if k != "SSH_CONNECTION"}
    e.update(env or {})
    return subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", SCRIPT] + list(args),
                          capture_output=True, text=True, env=e, timeout=30)


def test_refuses_default_route_interface(ns):
    p = nic(ns, "bind", "nicr0", "--dry-run")
    assert p.returncode == 2 and "carries the default route" in p.stderr, p
    assert "dpdk-devbind" not in p.stdout


def test_refuses_ssh_session_interface(ns):
    p = nic(ns, "bind", "nics0", "--dry-run", "--force-addressed",
            env={"SSH_CONNECTION": "198.51.100.9 50022 198.51.100.1 22"})
    assert p.returncode == 2 and "SSH session" in p.stderr, p


def test_refuses_addressed_then_non_pci(ns):
    p = nic(ns, "bind", "nics0", "--dry-run")
    assert p.returncode == 2 and "is up with 198.51.100.1" in p.stderr, p
    # Past every routing check, a veth is still nothing DPDK can bind.
    p = nic(ns, "bind", "nicd0", "--dry-run")
    assert p.returncode == 2 and "not a PCI device" in p.stderr, p
    assert "net_af_packet0,iface=nicd0" in p.stderr


def test_refuses_unknown_names(ns):
    p = nic(ns, "bind", "nosuch0", "--dry-run")
    assert p.returncode == 2 and "no such network interface" in p.stderr, p
    p = nic(ns, "unbind", "eth0", "--driver", "ixgbe", "--dry-run")
    assert p.returncode == 2 and "expected a PCI address" in p.stderr, p
    p = nic(ns, "unbind", "0000:01:00.0", "--driver", "ixgbe", "--dry-run")
    assert p.returncode == 0 and "dpdk-devbind.py --bind=ixgbe 0000:01:00.0" in p.stdout, p


def test_hugepages_refuses_what_would_starve_the_host(ns, tmp_path):
    """hugepages SIZE wraps dpdk-hugepages.py --setup; with --dry-run and a
    made-up /proc/meminfo (4 GiB available, 512 MiB in hugepages now) no
    memory is touched."""
    mi = tmp_path / "meminfo"
    mi.write_text("MemTotal:        8388608 kB\nMemAvailable:    4194304 kB\n"
                  "HugePages_Total:     256\nHugepagesize:       2048 kB\n")
    p = nic(ns, "hugepages", "2G", "--dry-run", "--meminfo", str(mi))
    assert p.returncode == 0 and "dpdk-hugepages.py --setup 2G" in p.stdout, p
    # 4 GiB + the 512 MiB held now, less 4 GiB, leaves 512 MiB: under the 1 GiB kept.
    p = nic(ns, "hugepages", "4G", "--dry-run", "--meminfo", str(mi))
    assert p.returncode == 2 and "would leave the host 512 MiB" in p.stderr, p
    assert "dpdk-hugepages" not in p.stdout
    p = nic(ns, "hugepages", "two", "--dry-run", "--meminfo", str(mi))
    assert p.returncode == 2 and "expected a size like 512M or 2G" in p.stderr, p
    p = nic(ns, "hugepages", "0", "--dry-run", "--meminfo", str(mi))
    assert p.returncode == 0 and "dpdk-hugepages.py --clear --unmount" in p.stdout, p
