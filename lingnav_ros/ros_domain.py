"""A ROS domain of its own for a simulated run, a test session or a bench.

A simulated run publishes `cmd_vel`; it must never share a domain with a real robot on this
computer, nor with another run going on beside it (two simulators' frames would mix in one
bag). A domain is taken when a DDS participant listens on it: by the RTPS port mapping that
every ROS 2 middleware follows, its discovery multicast port is 7400 + 250 * domain and the first
participant's unicast discovery port 10 above. A domain whose two ports are free has nobody on it.
"""
from __future__ import annotations

import os
import socket

PORT_BASE = 7400
DOMAIN_GAIN = 250
FIRST_UNICAST_OFFSET = 10
CANDIDATES = range(1, 101)  # domain 0 is everybody's default; above 101 ports collide with ephemeral ones


def domain_taken(domain_id: int) -> bool:
    base = PORT_BASE + DOMAIN_GAIN * domain_id
    for port in (base, base + FIRST_UNICAST_OFFSET):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                return True
    return False


def free_domain_id(seed: int | None = None) -> int:
    """The first free domain, searching from a place picked by `seed` (the process id by
    default), so that runs started at the same moment do not all try the same one."""
    start = (os.getpid() if seed is None else seed) % len(CANDIDATES)
    order = list(CANDIDATES[start:]) + list(CANDIDATES[:start])
    return next((d for d in order if not domain_taken(d)), order[0])


def ensure_domain_id() -> str:
    """ROS_DOMAIN_ID as the user set it, else a free one, set for this process and its children."""
    if "ROS_DOMAIN_ID" not in os.environ:
        os.environ["ROS_DOMAIN_ID"] = str(free_domain_id())
    return os.environ["ROS_DOMAIN_ID"]
