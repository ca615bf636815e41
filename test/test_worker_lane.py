"""WorkerLane: the thread the navigator's slow calls (S2, S1, health) run on."""
import threading
import time

from lingnav_ros.nodes.spinning import WorkerLane, stop_lanes
from test.ros_graph import wait_for


def test_kicks_during_a_run_collapse_into_one_more_run():
    release = threading.Event()
    runs = []

    def work():
        runs.append(time.monotonic())
        release.wait(5.0)

    lane = WorkerLane("test", work)
    try:
        lane.kick()
        assert wait_for(lambda: len(runs) == 1, 2.0)
        for _ in range(5):  # a slow server: five periods pass during one call
            lane.kick()
        release.set()
        assert wait_for(lambda: len(runs) == 2, 2.0)
        time.sleep(0.2)
        assert len(runs) == 2, "kicks coalesce: no backlog of stale calls"
    finally:
        release.set()
        lane.stop()


def test_a_failing_run_is_reported_and_the_lane_keeps_working():
    errors, calls = [], []

    def work():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("planner bug")

    lane = WorkerLane("test", work, on_error=errors.append)
    try:
        lane.kick()
        assert wait_for(lambda: errors, 2.0) and str(errors[0]) == "planner bug"
        lane.kick()
        assert wait_for(lambda: len(calls) == 2, 2.0)
    finally:
        lane.stop()


def test_stop_ends_the_thread_and_later_kicks_do_nothing():
    calls = []
    lane = WorkerLane("test", lambda: calls.append(1))
    lane.stop()
    lane.kick()
    time.sleep(0.1)
    assert calls == []


def test_stop_lanes_waits_for_them_together_and_leaves_one_stuck_in_a_call():
    release = threading.Event()
    started = []

    def slow_call():  # a server that does not answer until released
        started.append(1)
        release.wait()

    lanes = [WorkerLane(f"slow{k}", slow_call) for k in range(3)]
    try:
        for lane in lanes:
            lane.kick()
        assert wait_for(lambda: len(started) == 3, 2.0)
        stop_lanes(lanes, timeout_s=0.3)
        # it returned while every call still runs: the wait was bounded, not one per lane in turn
        assert all(lane._thread.is_alive() for lane in lanes)  # noqa: SLF001
        assert all(lane._thread.daemon for lane in lanes), "a stuck lane must not hold the process"  # noqa: SLF001
    finally:
        release.set()
    assert wait_for(lambda: not any(lane._thread.is_alive() for lane in lanes), 2.0), \
        "each lane ends when its call returns"  # noqa: SLF001
