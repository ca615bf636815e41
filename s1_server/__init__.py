"""S1: NavDP and geometric trajectory planners, their HTTP server and client (no ROS)."""
