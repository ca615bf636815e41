"""The S1 plan queue on its own: one planner thread, bounded admission, slots always given back."""
from __future__ import annotations

import threading

import pytest

from s1_server.plan_queue import PlanQueue, QueueFull


def test_plans_run_on_one_thread_in_order_and_decode_results_reach_them():
    queue = PlanQueue(queue_size=8)
    try:
        threads, order = set(), []

        def plan(decoded):
            threads.add(threading.get_ident())
            order.append(decoded)
            return decoded * 10

        futures = [queue.submit(plan, decode=(lambda i=i: i)) for i in range(5)]
        assert [f.result(10) for f in futures] == [0, 10, 20, 30, 40]
        assert len(threads) == 1 and threading.get_ident() not in threads
        assert sorted(order) == [0, 1, 2, 3, 4]
        assert queue.in_flight == 0
    finally:
        queue.close()


def test_admission_is_bounded_and_every_outcome_frees_its_slot():
    queue = PlanQueue(queue_size=1)
    gate = threading.Event()
    try:
        held = queue.submit(lambda _: gate.wait(10))
        waiting = queue.submit(lambda _: "second")
        with pytest.raises(QueueFull):
            queue.submit(lambda _: "third")
        assert queue.in_flight == 2
        gate.set()
        assert held.result(10) is True and waiting.result(10) == "second"

        def bad_decode():
            raise ValueError("corrupt JPEG")

        def bad_plan(_):
            raise RuntimeError("model failed")

        with pytest.raises(ValueError, match="corrupt"):
            queue.submit(bad_plan, decode=bad_decode).result(10)
        with pytest.raises(RuntimeError, match="model failed"):
            queue.submit(bad_plan).result(10)
        assert queue.in_flight == 0
        assert queue.submit(lambda _: "again").result(10) == "again"
    finally:
        gate.set()
        queue.close()


def test_a_closed_queue_refuses_work():
    queue = PlanQueue(queue_size=2)
    queue.close()
    with pytest.raises(QueueFull, match="shutting down"):
        queue.submit(lambda _: None)
    assert queue.in_flight == 0
