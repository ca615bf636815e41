"""LingNav robot side: ROS 2 nodes over plain-Python logic."""
