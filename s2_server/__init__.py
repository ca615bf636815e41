"""S2: the vision-language grounding HTTP service (no ROS)."""
