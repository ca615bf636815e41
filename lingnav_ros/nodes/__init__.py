"""ROS 2 node shells: each wires topics, parameters and timers to plain-Python logic."""
