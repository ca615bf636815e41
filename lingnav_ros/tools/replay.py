"""lingnav-replay BAG [--rate R]: publish a rosbag2's sensor topics and /clock with rclpy.

Where `ros2 bag play` is missing (pip-only installs), this re-runs a navigator started with
use_sim_time:=true on recorded data. Outputs of the navigator that the bag also holds
(cmd_vel, status, plans) are not replayed by default, so the live navigator's own outputs are
the only ones on the graph. Robot bags recorded with `ros2 bag record` work the same way.
"""
from __future__ import annotations

import sys
from pathlib import Path

import rclpy

from lingnav_core import cli
from lingnav_ros.tools.bag_player import NAVIGATOR_OUTPUTS, SENSOR_TYPES, Replayer

__all__ = ["NAVIGATOR_OUTPUTS", "SENSOR_TYPES", "Replayer", "main"]


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("lingnav-replay", __doc__.splitlines()[0])
    p.add_argument("bag", type=Path, help="rosbag2 folder (sqlite3 or MCAP)")
    p.add_argument("--rate", type=float, default=1.0, help="playback speed (1 = as recorded)")
    p.add_argument("--topics", nargs="*", default=None, help="only these topics (None: the sensor topics)")
    p.add_argument("--all", action="store_true", help="also replay navigator outputs recorded in the bag")
    p.add_argument("--loop", action="store_true", help="start again at the end")
    p.add_argument("--offline", action="store_true",
                   help="also run a navigator answered by the bag's recorded S2/S1 answers (no servers) and "
                        "compare its cmd_vel with the recorded one")
    p.add_argument("--out", type=Path, default=None, help="--offline: folder for the replayed bag and logs")
    args = p.parse_args(argv)
    if args.offline:
        return _offline(args)
    rclpy.init()
    try:
        node = Replayer(args.bag, args.rate, args.topics, args.all)
    except (ValueError, OSError, KeyError) as err:
        print(f"lingnav-replay: {err}", file=sys.stderr)
        rclpy.shutdown()
        return 2
    print(f"replaying {len(node.messages)} messages on {len(node.publishers_by_topic)} topics, "
          f"{node.duration_s:.1f} s at rate {args.rate}")
    try:
        while True:
            node.play()
            if not args.loop:
                break
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.shutdown()
    return 0


def _offline(args) -> int:
    from lingnav_ros.tools.offline_replay import run_offline

    out = args.out or args.bag.parent / f"{args.bag.name}-offline"
    try:
        result = run_offline(args.bag, out, args.rate)
    except (ValueError, OSError, RuntimeError) as err:
        print(f"lingnav-replay --offline: {err}", file=sys.stderr)
        return 2
    print(result.summary())
    print(f"replayed outputs: {result.replayed_bag}")
    return 0 if result.comparison.matches(result.tolerance) else 1


if __name__ == "__main__":
    sys.exit(main())
