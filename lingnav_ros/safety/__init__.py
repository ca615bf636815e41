"""Safety layers between the tracker and cmd_vel, free of rclpy. The navigator's control tick
applies them in this order: watchdog (stale odometry, depth or plan), velocity/acceleration
limiter, depth collision monitor on the predicted path (with the local map), output gate.
The map veto (map_veto) acts earlier, on S1's plans before the tracker sees them."""
