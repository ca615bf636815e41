"""How the navigator's work is spread over threads.

Measured with rclpy 9.1 (the PyPI wheels here): a MultiThreadedExecutor hands the same ready
subscription or timer to several pool threads, and each spare handler costs a full wait-set
rebuild. Under `use_sim_time` (a /clock message every 20 ms) that fed on itself until odometry
arrived at 3 Hz instead of 50 and the 20 Hz control loop ran at 8 Hz. A SingleThreadedExecutor
ran the same node at full rate. So every ROS callback runs on one executor thread and must be
quick, and the slow calls (S2, S1, server health) run on `WorkerLane` threads of their own,
kicked by timers on the node clock (so their periods follow sim time). The Navigate action's
execute callback waits for the mission to end, so the action server lives on a small companion
node in a MultiThreadedExecutor, where waiting blocks nothing else.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("lingnav.navigator")


class WorkerLane:
    """A daemon thread that runs `work()` each time it is kicked.

    Kicks that arrive while `work()` runs collapse into one more run, so a slow server is asked
    again at once when its answer comes back late, but never queued up behind itself.
    """

    def __init__(self, name: str, work: Callable[[], None],
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.name = name
        self._work = work
        self._on_error = on_error or (lambda exc: log.exception("%s failed", name, exc_info=exc))
        self._kicked = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lane-{name}", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._kicked.set()

    def request_stop(self) -> None:
        self._stopping.set()
        self._kicked.set()

    def stop(self, timeout_s: float = 2.0) -> None:
        self.request_stop()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while True:
            self._kicked.wait()
            if self._stopping.is_set():
                return
            self._kicked.clear()
            try:
                self._work()
            except Exception as exc:  # a bug in one lane must not silently kill the thread
                self._on_error(exc)


def stop_lanes(lanes: list[WorkerLane], timeout_s: float = 1.0) -> None:
    """Stop every lane and wait for them together, at most `timeout_s` in all: a lane inside a
    slow server call finishes it (it is a daemon, so it cannot hold the process), but the others
    must not wait behind it one after another."""
    for lane in lanes:
        lane.request_stop()
    deadline = time.monotonic() + timeout_s
    for lane in lanes:
        lane.stop(max(0.0, deadline - time.monotonic()))
