"""Helpers for tests that run real rclpy graphs: one context per test, spun in a thread."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import rclpy
from rclpy.context import Context
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node


@contextmanager
def ros_graph(*node_names: str) -> Iterator[tuple[Context, list[Node], MultiThreadedExecutor]]:
    """A private rclpy context with the named nodes spinning in a background executor."""
    context = Context()
    rclpy.init(context=context)
    nodes = [Node(name, context=context) for name in node_names]
    executor = MultiThreadedExecutor(num_threads=4, context=context)
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
