"""The one thread that owns the model: a bounded queue drained into micro-batches.

GPU memory is never shared between threads, and a burst from a fleet gets a 503 with
Retry-After instead of unbounded latency. Each request succeeds or fails on its own: a backend
may answer an exception for one item, and a batch whose generate call fails as a whole is
re-run one request at a time so the bad one is found. Work whose client has already given up
(its deadline passed while it queued) is dropped before it reaches the model.

A remote model server (openai backend) batches on its own, and a blocking micro-batch would make
every request wait for the slowest of its batch. With `max_inflight` > 0 the worker instead
dispatches each request as soon as one of `max_inflight` slots is free (bench/s2_openai.py
measures both).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass, field

from s2_server.backends import BackendError, BackendRequest, DeadlineExpired, as_reply

log = logging.getLogger("s2_server")


@dataclass
class Job:
    request: BackendRequest
    future: Future = field(default_factory=Future)
    enqueued_s: float = field(default_factory=time.monotonic)
    started_s: float = 0.0
    generate_s: float = 0.0
    batch_size: int = 0


def _as_backend_error(err: BaseException) -> BackendError:
    return err if isinstance(err, BackendError) else BackendError(f"{type(err).__name__}: {err}")


class Worker:
    """Owns the backend; drains the queue into micro-batches of at most `max_batch`."""

    def __init__(self, backend, queue_size: int, max_batch: int, batch_window_ms: float = 0.0,
                 max_inflight: int = 0):
        self.backend = backend
        self.max_inflight = max(0, int(max_inflight))
        self._slots = threading.Semaphore(max(1, self.max_inflight))
        self._pool = (ThreadPoolExecutor(self.max_inflight, thread_name_prefix="s2-dispatch")
                      if self.max_inflight else None)
        self.inflight = 0
        self._count_lock = threading.Lock()
        self.max_batch = max(1, int(max_batch))
        self.batch_window_s = max(0.0, batch_window_ms) / 1000.0
        self.jobs: queue.Queue[Job] = queue.Queue(maxsize=max(1, queue_size))
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # recent micro-batch sizes, bounded
        self.dropped_expired = 0
        self.busy = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="s2-worker", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> bool:
        try:
            self.jobs.put_nowait(job)
            return True
        except queue.Full:
            return False

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _collect(self, first: Job) -> list[Job]:
        batch = [first]
        deadline = time.monotonic() + self.batch_window_s
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self.jobs.get(timeout=remaining) if remaining > 0 else self.jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _live(self, batch: list[Job]) -> list[Job]:
        """Jobs someone still waits for; the rest are answered 504 without touching the model."""
        now = time.monotonic()
        live = []
        for job in batch:
            if job.future.done():  # the HTTP side gave up (client disconnected)
                continue
            if job.request.remaining_s(now) <= 0.0:
                self.dropped_expired += 1
                try:
                    job.future.set_exception(DeadlineExpired(
                        f"the client's deadline passed after {now - job.enqueued_s:.1f} s in the queue; "
                        "the request was dropped before the model"))
                except InvalidStateError:
                    pass
                continue
            live.append(job)
        return live

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self.jobs.get(timeout=0.1)
            except queue.Empty:
                continue
            if self._pool is not None:
                self._dispatch(first)
                continue
            batch = self._live(self._collect(first))
            if not batch:
                continue
            self.batch_sizes.append(len(batch))
            self.busy = True
            try:
                self._generate(batch)
            finally:
                self.busy = False

    def _dispatch(self, job: Job) -> None:
        """Dispatch mode: one request per backend call, at most `max_inflight` at once."""
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                return
        live = self._live([job])  # the deadline may have passed while every slot was busy
        if not live:
            self._slots.release()
            return
        self.batch_sizes.append(1)
        with self._count_lock:
            self.inflight += 1

        def run() -> None:
            try:
                self._generate(live)
            finally:
                with self._count_lock:
                    self.inflight -= 1
                self._slots.release()

        self._pool.submit(run)

    def _generate(self, batch: list[Job]) -> None:
        t0 = time.monotonic()
        try:
            answers = list(self.backend.generate([j.request for j in batch]))
            if len(answers) != len(batch):
                raise BackendError(f"backend returned {len(answers)} answers for {len(batch)} requests")
        except Exception as err:  # the whole call failed: isolate the culprit, one request at a time
            if len(batch) > 1:
                log.info("[S2] batch of %d failed (%s: %s); retrying each request alone", len(batch),
                         type(err).__name__, err)
                for job in self._live(batch):
                    self._generate([job])
                return
            answers = [err]
        elapsed = time.monotonic() - t0
        for job, answer in zip(batch, answers):
            job.started_s, job.generate_s, job.batch_size = t0, elapsed, len(batch)
            try:
                if isinstance(answer, BaseException):
                    job.future.set_exception(_as_backend_error(answer))
                else:
                    job.future.set_result(as_reply(answer))
            except InvalidStateError:
                pass  # the HTTP side gave up on this one meanwhile
