"""A small 2.5D world for closed-loop tests without a robot: plain Python, no rclpy."""
