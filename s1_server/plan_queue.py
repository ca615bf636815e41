"""Decode and plan off the event loop, with a bound on the work admitted.

One thread owns the planners (NavDP's frame memories, the session they belong to), so resets
and plans never race and GPU memory is never shared between threads. Decoding runs on its own
small pool, so the next request's JPEG/PNG decode overlaps the current plan. At most
`queue_size` requests wait behind the one that plans; more are refused at once (the server
answers 503 with Retry-After), so a burst costs bounded memory and a plan is never served stale
after seconds in a queue. The event loop only parses headers and awaits: /health answers while
a plan runs.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class QueueFull(RuntimeError):
    """More requests than the queue admits; the client should retry after a moment."""


class PlanQueue:
    def __init__(self, queue_size: int, decode_threads: int = 2):
        if queue_size < 0:
            raise ValueError("queue_size must be >= 0")
        self.limit = queue_size + 1  # the one planning plus those waiting
        self._in_flight = 0
        self._lock = threading.Lock()
        self._decode = ThreadPoolExecutor(max_workers=max(1, decode_threads), thread_name_prefix="s1-decode")
        self._plan = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s1-plan")

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def submit(self, plan: Callable[[Any], Any], decode: Callable[[], Any] | None = None) -> Future:
        """Run `decode()` on the decode pool, then `plan(decoded)` on the planner thread.

        The slot is held until the plan has finished (or failed), whatever happens to the request
        that asked for it, so the admitted work never exceeds the limit.
        """
        with self._lock:
            if self._in_flight >= self.limit:
                raise QueueFull(f"{self._in_flight} requests already queued or planning")
            self._in_flight += 1
        result: Future = Future()

        def run_plan(decoded: Any) -> None:
            try:
                result.set_result(plan(decoded))
            except BaseException as err:  # handed to the awaiting request, never lost in the pool
                result.set_exception(err)
            finally:
                self._leave()

        def run_decode() -> None:
            try:
                decoded = decode() if decode is not None else None
                self._plan.submit(run_plan, decoded)
            except BaseException as err:
                result.set_exception(err)
                self._leave()

        try:
            (self._decode.submit(run_decode) if decode is not None else self._plan.submit(run_plan, None))
        except RuntimeError as err:  # pools shut down: the server is stopping
            self._leave()
            raise QueueFull("server is shutting down") from err
        return result

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def close(self) -> None:
        self._decode.shutdown(wait=False, cancel_futures=True)
        self._plan.shutdown(wait=False, cancel_futures=True)
