"""A ROS domain of its own for a simulated run, a test session or a bench.

A simulated run publishes `cmd_vel`; it must never share a domain with a real robot on this
computer (which sits on the default, 0, or a domain its owner set) and should not share one with
another run going on beside it (two simulators' frames would mix in one bag). One of 100
domains is drawn per process: a user's ROS_DOMAIN_ID always wins. Probing the DDS discovery
ports to find an unused domain was tried and dropped: participants do not always bind UDP ports
(shared-memory transports), so a free-looking domain can be in use.
"""
from __future__ import annotations

import os
import random
import time

CANDIDATES = range(1, 101)  # domain 0 is everybody's default; above 101 ports collide with ephemeral ones


def ensure_domain_id() -> str:
    """ROS_DOMAIN_ID as the user set it, else one drawn for this process, set for it and its children."""
    if "ROS_DOMAIN_ID" not in os.environ:
        os.environ["ROS_DOMAIN_ID"] = str(random.Random(os.getpid() ^ time.monotonic_ns()).choice(CANDIDATES))
    return os.environ["ROS_DOMAIN_ID"]

