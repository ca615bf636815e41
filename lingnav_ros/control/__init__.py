"""Trajectory tracking for a differential-drive base: MPC, pure-pursuit fallback, motion primitives.

Plain Python (numpy + casadi), no rclpy: the navigator node, the simulator tools and the
benchmarks share exactly the same controller.
"""
