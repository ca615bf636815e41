"""The other robots of a fleet, from the poses they share: where each stands and is about to be.

A robot's camera looks ahead. Two robots whose ways converge from the side never see each other
(in `three_robots_three_targets` two robots started 1.5 m apart, drove to crossing targets and
touched with each 60-80 degrees off the other's camera axis). A fleet knows more than a camera:
every navigator with `fleet_frame` set publishes its odometry on the fleet topic and stamps its
peers' footprints into its local map (LocalMap.mark_peer), where the collision monitor, the S1
veto and the wait for a moving obstacle see them as they see a person.

A peer is a disk of `fleet_peer_radius_m` where it stands, swept along its heading over the
distance it covers in `PEER_SWEEP_S` at its current speed: a robot about to cross in front is
kept clear of before it gets there.

Waiting goes by name and motion. The robot whose name sorts first has the right of way: the
other does not wait for it. Two robots that meet head-on and both wait for the other stand
until their waits run out (25 s in one `two_robots_swap` run); with the rule, one lets its stall
timers run, backs out and steps aside while the other waits, as at a narrow door. Nor is a peer
waited for that has stood still for `PEER_STILL_S` (it arrived, or it is stuck): in
`three_robots_three_targets` robot2 waited its full 20 s for robot3, which stood at its box.

Poses are taken only in the one shared frame, never transformed: a fleet whose robots each have
their own odom frame must share them in a frame they have in common (a map), or the footprints
would land in the wrong place.
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_ros.control.types import Pose2D

PEER_SWEEP_S = 1.0  # a moving peer also covers where it will be this soon
PEER_STILL_S = 10.0  # a peer standing this long will not get out of the way: plan around it
PEER_MOVING_MPS = 0.02  # slower than this is standing (the simulator's "stopped")
SWEEP_STEP_M = 0.05  # disks along the sweep this far apart (the local map's cell)


def robot_identity(namespace: str, base_frame: str) -> str:
    """This robot's name on the fleet topic: its base frame under its namespace (robot2/base_link)."""
    ns = namespace.strip("/")
    return f"{ns}/{base_frame}" if ns else base_frame


def has_right_of_way(peer_name: str, own_name: str) -> bool:
    """Whether the peer passes first: the name that sorts first has the right of way."""
    return peer_name < own_name


def worth_waiting_for(peer_name: str, own_name: str, still_for_s: float) -> bool:
    """Whether to wait for this peer to clear the way (module docstring)."""
    return not has_right_of_way(peer_name, own_name) and still_for_s < PEER_STILL_S


def peer_footprint(pose: Pose2D, v_mps: float, sweep_s: float = PEER_SWEEP_S,
                   step_m: float = SWEEP_STEP_M) -> np.ndarray:
    """Centres [K, 2] of the disks a peer at `pose` (fleet frame) driving at `v_mps` covers: where
    it is, then along its heading (backwards when it reverses) for the distance it drives in
    `sweep_s`."""
    reach_m = v_mps * sweep_s
    n = int(math.ceil(abs(reach_m) / step_m)) + 1
    s = np.linspace(0.0, reach_m, n)
    return np.stack([pose.x_m + s * math.cos(pose.theta_rad), pose.y_m + s * math.sin(pose.theta_rad)], axis=1)
