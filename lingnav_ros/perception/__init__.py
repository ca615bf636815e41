"""Sensor handling for the navigator, free of rclpy: image decoding, odometry history, RGB-D
pairing, camera extrinsics and frame transforms."""
