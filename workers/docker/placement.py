"""Where function containers sit on the network, so they reach the worker's Runtime API.

Loopback wherever it can be: when the worker runs in a container of the same engine, function
containers join its network namespace (`container:<id>`); on a Linux host, `host`; otherwise
(Docker Desktop) a bridge network, reaching the worker through `host.docker.internal`.
"""

from __future__ import annotations

import fcntl
import logging
import re
import socket
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiodocker

log = logging.getLogger("tarn.pool")

GATEWAY_NAME = "host.docker.internal"
BRIDGE_INTERFACE = "docker0"
CONTAINER_ID = re.compile(r"(?<![0-9a-f])([0-9a-f]{64})(?![0-9a-f])")
SIOCGIFADDR = 0x8915


class PlacementError(ValueError):
    """The configured network placement cannot work; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Placement:
    """A decided placement: Docker's NetworkMode and how the Runtime API is reached."""

    network_mode: str  # host | bridge | container:<id>
    bind_host: str  # the address the worker's Runtime API servers listen on
    api_host: str  # the address a function container connects to
    extra_hosts: tuple[str, ...] = ()
    # The worker's own container mounts (destination -> source on the engine's host), to
    # mount code that lives on them into function containers.
    mounts: dict[str, str] = field(default_factory=dict)

    def host_path(self, path: Path) -> str:
        """`path` as the engine's host sees it (it differs when the worker is in a container)."""
        if not self.network_mode.startswith("container:"):
            return str(path)
        text = str(path)
        for destination in sorted(self.mounts, key=len, reverse=True):
            if text == destination or text.startswith(destination.rstrip("/") + "/"):
                return self.mounts[destination] + text[len(destination.rstrip("/")) :]
        raise PlacementError(
            f"the worker runs in a container and {path} is on none of its volumes; put "
            "TARN_DATA_DIR on a volume (or bind mount) so function containers can mount code"
        )


def initial(setting: str) -> Placement:
    """The placement known without asking the engine; `resolve` confirms it."""
    if setting == "host" or setting.startswith("container:"):
        mode = setting
    elif setting == "bridge" or (setting == "auto" and sys.platform != "linux"):
        return _bridge()
    elif setting == "auto":
        own = own_container_ids()
        mode = f"container:{own[0]}" if own else "host"
    else:
        raise PlacementError(
            f"TARN_DOCKER_NETWORK={setting} is not one of auto, host, bridge, container:<name>"
        )
    # Sharing the worker's (or the host's) network namespace: loopback reaches the worker.
    return Placement(mode, "127.0.0.1", "127.0.0.1")


async def resolve(docker: aiodocker.Docker, setting: str) -> Placement:
    """The placement to use, checked against the engine (a guessed own container may not be)."""
    placement = initial(setting)
    if not placement.network_mode.startswith("container:"):
        return placement
    wanted = placement.network_mode.removeprefix("container:")
    candidates = [wanted] if setting != "auto" else own_container_ids()
    for candidate in candidates:
        try:
            info = await docker.containers.get(candidate)
        except aiodocker.DockerError:
            continue
        mounts = {m["Destination"]: m["Source"] for m in info["Mounts"] if m.get("Source")}
        return Placement(f"container:{info['Id']}", "127.0.0.1", "127.0.0.1", mounts=mounts)
    if setting != "auto":
        raise PlacementError(f"TARN_DOCKER_NETWORK={setting}: the engine knows no such container")
    # It looked like a container (/.dockerenv, a container id in /proc) that this engine does
    # not run, e.g. a VM or another engine's container: the engine shares our host's network.
    return Placement("host", "127.0.0.1", "127.0.0.1")


def own_container_ids() -> list[str]:
    """Ids this process's container may have, from /proc (most likely first), then hostname."""
    found: list[str] = []
    for source in ("/proc/self/mountinfo", "/proc/self/cgroup"):
        try:
            text = Path(source).read_text()
        except OSError:
            continue
        for match in CONTAINER_ID.finditer(text):
            if match[1] not in found:
                found.append(match[1])
    if Path("/.dockerenv").exists():  # Docker names a container's host after its short id
        found.append(socket.gethostname())
    return found


def _bridge() -> Placement:
    """A bridge network; the worker listens where `host-gateway` leads (docker0 on Linux)."""
    if sys.platform != "linux":  # Docker Desktop forwards host.docker.internal to loopback
        bind_host = "127.0.0.1"
    else:
        bind_host = _interface_address(BRIDGE_INTERFACE) or "0.0.0.0"
        if bind_host == "0.0.0.0":
            log.warning("no %s interface: the Runtime API listens on all", BRIDGE_INTERFACE)
    return Placement("bridge", bind_host, GATEWAY_NAME, (f"{GATEWAY_NAME}:host-gateway",))


def _interface_address(name: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])
