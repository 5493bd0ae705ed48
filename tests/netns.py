"""Run a command in a private network namespace where loopback is the only interface.

Why: a local Ray instance does not stay on loopback by itself. Ray 2.60 takes
the address of the machine's primary interface as its node address, even when
given ``_node_ip_address="127.0.0.1"`` or ``ray start --node-ip-address=127.0.0.1``
(it swaps a loopback address for the "remotely reachable" one), its gRPC servers
listen on every interface, and its dashboard process asks the cloud metadata
address (169.254.169.254) and DNS which cloud it runs on, even with
``include_dashboard=False`` and usage stats off. Inside a namespace that has
only ``lo`` there is no other address to take and no route off the machine:
Ray finds 127.0.0.1 as its node address, and every socket is on loopback.

The command runs under ``unshare --net --pid --mount-proc --kill-child``:

- ``--net``: a new network namespace; ``ip link set lo up`` brings its only
  interface up before the command starts.
- ``--pid --mount-proc``: the command's processes (Ray's gcs_server, raylet,
  workers, dashboard) live in their own PID namespace; when its first process
  ends, for any reason, the kernel kills everything left in it, so nothing of
  a failed or timed-out run survives.
- ``--kill-child``: if ``unshare`` itself is killed (a timeout here), the
  namespace's first process is killed with it; and ``unshare`` is killed when
  the Python process that started it dies (``setpriv --pdeathsig KILL``, also
  util-linux, where installed).

Root can make the namespaces; other users try a user namespace
(``--map-root-user``), which many systems allow. ``unavailable()`` says why it
cannot be done here, for a skip.

Shared by ``tests/test_ray_backend.py`` and ``benchmarks/ray_speed.py``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

# Set inside the namespace, so a program can tell it is already isolated.
INSIDE = "ZEROPLAY_NETNS"


def _which(name: str) -> str | None:
    # ip and setpriv are often outside a non-root PATH (/usr/sbin).
    return shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin:/usr/bin:/bin")


def _prefix() -> list[str]:
    unshare, ip, setpriv = _which("unshare"), _which("ip"), _which("setpriv")
    die_with_parent = [setpriv, "--pdeathsig", "KILL"] if setpriv else []
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    # sh is the namespace's first process: it brings lo up and waits for the command
    # (not exec'd, so the command never runs as PID 1, which ignores default signals).
    return [*die_with_parent, unshare, *user, "--net", "--pid", "--mount-proc", "--kill-child",
            "sh", "-c", f'{ip} link set lo up && "$@"', "sh"]


@functools.cache
def unavailable() -> str | None:
    """None when loopback-only namespaces can be made here, else why not (one line)."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if _which("unshare") is None:
        return "unshare (util-linux) is not installed"
    if _which("ip") is None:
        return "ip (iproute2) is not installed"
    try:
        probe = subprocess.run([*_prefix(), "true"], check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot make a network namespace: {error}"
    if probe.returncode != 0:
        why = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
        who = "as root" if os.geteuid() == 0 else "without root (user namespaces refused?)"
        return f"cannot make a network namespace {who}: {why[0]}"
    return None


def run_on_loopback(argv: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None,
                    cwd: str | os.PathLike | None = None, capture: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv`` in a private network and PID namespace with only ``lo`` (up).

    ``env`` adds to (or overrides) this process's environment; ``INSIDE`` is set
    to 1. Output is captured as text unless ``capture`` is false. On timeout the
    whole namespace is killed, then ``subprocess.TimeoutExpired`` is raised.
    Check ``unavailable()`` first.
    """
    full_env = {**os.environ, **(env or {}), INSIDE: "1"}
    return subprocess.run([*_prefix(), *argv], check=False, env=full_env, cwd=cwd, timeout=timeout, text=True,
                          capture_output=capture)


def ray_environment(temp_dir: str | os.PathLike) -> dict[str, str]:
    """Environment for a private local Ray instance: its session files under
    ``temp_dir`` (not the machine's shared /tmp/ray), no usage-stats reporting."""
    return {"RAY_TMPDIR": str(temp_dir), "RAY_USAGE_STATS_ENABLED": "0"}


def ray_temp_dir() -> str:
    """A fresh short directory for ``ray_environment`` (Ray's socket paths must stay
    under the 107-character limit of a Unix socket, so not a deep pytest path)."""
    return tempfile.mkdtemp(prefix="zp-ray-")


def loopback_only_sockets() -> tuple[list[str], list[str]]:
    """(network interfaces, addresses of every TCP/UDP socket) of the current
    network namespace, from /proc/net (per namespace, unlike /sys/class/net): for a
    check that all is on loopback."""
    interfaces = sorted(line.split(":")[0].strip() for line in Path("/proc/net/dev").read_text().splitlines()[2:])
    addresses = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path("/proc/net", table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, remote = (_address(end.split(":")[0]) for end in line.split()[1:3])
            addresses.add(str(local))  # a wildcard (0.0.0.0, ::) listener shows as such
            if not remote.is_unspecified:  # unspecified: no peer (a listener, an unconnected UDP socket)
                addresses.add(str(remote))
    return interfaces, sorted(addresses)


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/{tcp,udp}[6] prints it (IPv4-mapped IPv6 as IPv4)."""
    raw = bytes.fromhex(hex_address)
    # The kernel prints each 32-bit word in host (little-endian) byte order.
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(raw)
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
