"""Helpers for tests that run real rclpy graphs: one context per test, spun in a thread.

The graph spins on a SingleThreadedExecutor, as the navigator and the simulator spin (see
lingnav_ros/nodes/spinning.py): rclpy 9.1's MultiThreadedExecutor keeps rebuilding its wait set
while a ready entity's group is busy and holds the GIL doing so. A simulator added to such a
graph ran at a twentieth of its real-time factor and `time.sleep(1.0)` in the test thread took up
to 3 s, which is how a sim test waited 10 s for a robot told to drive and saw it move 0.1 m.
A test whose callback blocks (an action's execute) asks for threads, as the navigator's action
companion node has them."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import rclpy
from rclpy.context import Context
from rclpy.executors import Executor, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node


@contextmanager
def ros_graph(*node_names: str, threads: int = 1) -> Iterator[tuple[Context, list[Node], Executor]]:
    """A private rclpy context with the named nodes spinning in a background executor."""
    context = Context()
    rclpy.init(context=context)
    nodes = [Node(name, context=context) for name in node_names]
    executor = (SingleThreadedExecutor(context=context) if threads == 1
                else MultiThreadedExecutor(num_threads=threads, context=context))
    for node in nodes:
        executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        yield context, nodes, executor
    finally:
        executor.shutdown()
        thread.join(timeout=5.0)  # spin has returned before the nodes go away
        for node in nodes:
            node.destroy_node()
        rclpy.shutdown(context=context)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0, period_s: float = 0.02) -> bool:
    """Poll until `predicate()` is true; False on timeout (tests then assert with context)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return predicate()
