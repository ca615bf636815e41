"""The contracts the robot and both servers share, with no ROS and nothing heavier than NumPy.

Camera geometry (`camera`), S1's plan and goal types (`s1_plan`), S2's decision and task types
(`s2_decision`), the named colours the colour S2 backend reads and the simulator paints
(`colors`), default hosts, ports and token variables (`endpoints`), angles (`angles`) and depth
to obstacle points (`depth_points`). Nothing here imports another LingNav package: the import
contracts in `.importlinter` keep it that way.
"""
