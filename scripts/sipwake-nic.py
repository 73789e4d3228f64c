#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Bind a NIC to DPDK for sipwake (or give it back to the kernel), and
reserve its hugepages, safely.

  sipwake-nic.py status
  sipwake-nic.py bind   <interface|PCI address> [--driver vfio-pci] [--dry-run]
  sipwake-nic.py unbind <PCI address> --driver <kernel driver, e.g. ixgbe> [--dry-run]
  sipwake-nic.py hugepages <SIZE, e.g. 2G> [--dry-run]   (0: release them)
  sipwake-nic.py hugepages --show

It wraps DPDK's dpdk-devbind.py and refuses, before touching anything, to
bind an interface that:
  - carries a default route (binding it would cut the host off), or
  - carries the SSH session this command runs in ($SSH_CONNECTION), or
  - is up with an address the host uses (unless --force-addressed), or
  - is not a PCI device (veth, dummy, bridges: nothing DPDK can bind).
hugepages wraps DPDK's dpdk-hugepages.py --setup (clear, reserve, mount)
and refuses a size that is not "<number>[K|M|G]" or that would leave the
host less than 1 GiB of the memory it has available now (MemAvailable in
/proc/meminfo, hugepages it already holds counted as free).
Exit status: 0 done (or would be, with --dry-run), 2 refused, 1 failed.
"""
import argparse
import json
import os
import re
import subprocess
import sys

PCI_RE = re.compile(r"^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")


class Refused(Exception):
    pass


def ip_json(*args):
    out = subprocess.run(["ip", "-j"] + list(args), capture_output=True, text=True)
    return json.loads(out.stdout or "[]") if out.returncode == 0 else []


def pci_of(iface):
    dev = "/sys/class/net/%s/device" % iface
    if not os.path.exists("/sys/class/net/%s" % iface):
        raise Refused("%s: no such network interface" % iface)
    if not os.path.islink(dev) or "/pci" not in os.path.realpath(dev):
        raise Refused("%s is not a PCI device (veth, dummy, bridge, ...): DPDK cannot bind "
                      "it; use a vdev such as --vdev=net_af_packet0,iface=%s instead"
                      % (iface, iface))
    return os.path.basename(os.path.realpath(dev))


def iface_of_pci(pci):
    base = "/sys/bus/pci/devices/%s/net" % pci
    names = os.listdir(base) if os.path.isdir(base) else []
    return names[0] if names else None


def check_iface(iface, force_addressed=False):
    """Every reason not to take @iface away from the kernel; raises Refused."""
    for r in ip_json("route", "show", "default") + ip_json("-6", "route", "show", "default"):
        if r.get("dev") == iface:
            raise Refused("%s carries the default route (%s via %s): binding it to DPDK "
                          "would cut this host off the network"
                          % (iface, r.get("dst", "default"), r.get("gateway", "?")))
    ssh = os.environ.get("SSH_CONNECTION", "").split()
    if len(ssh) == 4:
        client = ssh[0]
        for r in ip_json("route", "get", client):
            if r.get("dev") == iface:
                raise Refused("%s carries this SSH session (from %s): binding it to DPDK "
                              "would cut the session" % (iface, client))
        for a in ip_json("addr", "show", "dev", iface):
            for info in a.get("addr_info", []):
                if info.get("local") == ssh[2]:
                    raise Refused("%s holds %s, the address this SSH session came in on"
                                  % (iface, ssh[2]))
    if not force_addressed:
        for a in ip_json("addr", "show", "dev", iface):
            addrs = [i["local"] for i in a.get("addr_info", [])
                     if i.get("scope") == "global"]
            if addrs and "UP" in a.get("flags", []):
                raise Refused("%s is up with %s: the kernel uses it; take it down first "
                              "(ip link set %s down) or pass --force-addressed"
                              % (iface, ", ".join(addrs), iface))


HOST_RESERVE = 1 << 30  # what the host keeps for itself, at least


def parse_size(text):
    m = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not m:
        raise Refused("%r: expected a size like 512M or 2G" % text)
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def meminfo(path):
    """/proc/meminfo's values in bytes."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            parts = v.split()
            if parts and parts[0].isdigit():
                out[k] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    return out


def check_hugepages(size, path):
    mi = meminfo(path)
    held = mi.get("HugePages_Total", 0) * mi.get("Hugepagesize", 0)
    avail = mi.get("MemAvailable", 0) + held  # --setup frees what is held first
    if size > 0 and avail - size < HOST_RESERVE:
        raise Refused("%d MiB of hugepages would leave the host %d MiB (%d MiB available, "
                      "%d MiB in hugepages now); it keeps at least %d MiB"
                      % (size >> 20, (avail - size) >> 20, mi.get("MemAvailable", 0) >> 20,
                         held >> 20, HOST_RESERVE >> 20))


def dpdk_tool(tool, args, dry_run):
    """Run (or, dry, only print) one of DPDK's scripts; its exit status."""
    cmd = [tool] + args
    print("+ " + " ".join(cmd))
    if dry_run:
        return 0
    return subprocess.run(cmd).returncode


def hugepages(args, dry_run):
    return dpdk_tool("dpdk-hugepages.py", args, dry_run)


def devbind(args, dry_run):
    return dpdk_tool("dpdk-devbind.py", args, dry_run)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status")
    b = sub.add_parser("bind")
    b.add_argument("target", help="interface name or PCI address")
    b.add_argument("--driver", default="vfio-pci")
    b.add_argument("--dry-run", action="store_true")
    b.add_argument("--force-addressed", action="store_true")
    u = sub.add_parser("unbind")
    u.add_argument("pci")
    u.add_argument("--driver", required=True, help="kernel driver to give it back to")
    u.add_argument("--dry-run", action="store_true")
    h = sub.add_parser("hugepages")
    h.add_argument("size", nargs="?", help="total to reserve, e.g. 2G; 0 releases them")
    h.add_argument("--show", action="store_true")
    h.add_argument("--dry-run", action="store_true")
    h.add_argument("--meminfo", default="/proc/meminfo", help=argparse.SUPPRESS)  # tests
    a = ap.parse_args(argv)

    if a.cmd == "status":
        return devbind(["--status-dev", "net"], False)
    try:
        if a.cmd == "hugepages":
            if a.show or a.size is None:
                return hugepages(["--show"], False)
            size = parse_size(a.size)
            check_hugepages(size, a.meminfo)
            rc = hugepages(["--setup", a.size] if size else ["--clear", "--unmount"],
                           a.dry_run)
        elif a.cmd == "bind":
            if PCI_RE.match(a.target):
                pci, iface = a.target, iface_of_pci(a.target)
            else:
                iface = a.target
                check_iface(iface, a.force_addressed)  # before pci_of: say the worst first
                pci = pci_of(iface)
            if iface is not None:
                check_iface(iface, a.force_addressed)
            if a.driver == "vfio-pci" and not a.dry_run:
                subprocess.run(["modprobe", "vfio-pci"], check=False)
            rc = devbind(["--bind=" + a.driver, pci], a.dry_run)
        else:
            if not PCI_RE.match(a.pci):
                raise Refused("%s: expected a PCI address like 0000:01:00.0" % a.pci)
            rc = devbind(["--bind=" + a.driver, a.pci], a.dry_run)
    except Refused as e:
        print("sipwake-nic: refused: %s" % e, file=sys.stderr)
        return 2
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
