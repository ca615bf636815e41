"""Test-session set-up shared by every test module.

DDS traffic is kept on this machine and on a domain of its own, so two test runs (or a robot
on the same network) never see each other's topics.
"""
import os
import random

os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "1")
