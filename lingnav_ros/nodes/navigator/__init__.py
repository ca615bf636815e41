"""The navigator node's parts, one job per module (the node itself only composes them).

- `factories`: parameters in, clients and planner out (what the node is built from).
- `wiring`: QoS profiles, subscriptions, publishers and timers (the ROS surface).
- `sensors`: odometry, CameraInfo and RGB-D intake, with the checks at the door.
- `control`: the control tick, instructions and e-stop, and the single cmd_vel writer.
- `lanes`: the S2, S1 and health calls that run on worker lanes.
- `views`: RViz and debug publishing (paths, candidates, markers, S2 results).
- `status`: NavStatus and diagnostics, and the measurements behind them.
- `action`: the Navigate action server on its companion node.
"""
