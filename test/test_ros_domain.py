"""A simulated run's ROS domain is one nobody else uses: a real participant makes it taken."""
import os
import subprocess
import sys
import time

from lingnav_ros.ros_domain import CANDIDATES, domain_taken, free_domain_id


def test_a_domain_with_a_ros_participant_on_it_is_taken_and_skipped():
    domain = free_domain_id(seed=os.getpid() + 7)
    assert not domain_taken(domain)
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain)}
    child = subprocess.Popen([sys.executable, "-c", "import rclpy, time; rclpy.init(); "
                              "rclpy.create_node('someone_else'); time.sleep(30)"], env=env)
    try:
        deadline = time.monotonic() + 20.0
        while not domain_taken(domain) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert domain_taken(domain)
        start = CANDIDATES.index(domain)  # searching from that very domain moves on past it
        picked = free_domain_id(seed=start)
        assert picked != domain and picked in CANDIDATES
    finally:
        child.kill()
        child.wait()
