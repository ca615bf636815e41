"""Safety layers between the tracker and cmd_vel, free of rclpy: watchdog, depth collision
monitor on the predicted path, velocity/acceleration limiter and the output gate."""
