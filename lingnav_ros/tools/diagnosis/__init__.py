"""lingnav-diagnose: which subsystem failed, read from a run's rosbag2.

`recorded_topics` says what a run records; `run_log` reads a bag into plain records (rosbags,
no ROS); `verdicts` judges them (pure functions); `figures` and `report` write the Markdown
report with its PNG figures; `replay_check` compares an offline replay's cmd_vel with the
recorded one; `cli` is the thin command line.
"""
