"""The simulator's ground truth about the objects, as JSON for the latched `sim/world` topic.

A diagnosis reads it from the bag to tell an S2 pixel on the target from one on another object
or on a wall: only the simulator knows which object the instruction means and where it stands.
"""
from __future__ import annotations

from lingnav_ros.sim.world import World


def world_truth(world: World) -> dict:
    """{"name", "target", "objects": [{label, kind, x, y, radius, corners, height, rgb}], "walls"}."""
    objects = []
    for s in world.shapes:
        item = {"label": s.label, "kind": s.kind, "x": s.x_m, "y": s.y_m, "height": s.height_m,
                "rgb": list(s.rgb), "radius": s.radius_m}
        if s.kind == "box":
            item["corners"] = s.corners().tolist()
        objects.append(item)
    return {"name": world.name, "target": world.target_label, "instruction": world.instruction,
            "objects": objects, "walls": [list(w) for w in world.walls]}
