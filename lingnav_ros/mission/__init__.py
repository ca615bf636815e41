"""The navigator's mission logic, free of rclpy: states, target tracking, search, move tasks."""
