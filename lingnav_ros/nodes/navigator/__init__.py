"""The navigator node's parts, one job per module (the node itself only composes them).

- `settings`: the parameters cut into what each part uses (validated once, frozen).
- `state`: what the parts share while running (latest frame, faults, outages, measurements).
- `factories`: declared parameters in; mission, clients and planner out.
- `wiring`: QoS profiles, subscriptions, publishers and timers (the ROS surface).
- `sensors`: odometry, CameraInfo and RGB-D intake, with the checks at the door (`sensor_checks`).
- `control`: the control tick, instructions and e-stop, and the single cmd_vel writer.
- `server_calls`: the S2, S1 and health calls that run on worker lanes (`server_outage`: riding
  out a server that is away).
- `obstacle_memory`: the local map shared by the collision monitor, the S1 veto and the mission.
- `views`: RViz and debug publishing (paths, candidates, markers, S2 results).
- `status`: NavStatus and diagnostics.
- `action`: the Navigate action server on its companion node.
"""
