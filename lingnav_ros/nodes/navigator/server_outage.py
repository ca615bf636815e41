"""Riding out a server outage: Wi-Fi between the robot and the GPU server drops for seconds.

When S2 or S1 stops answering, the robot stops and the status says "waiting for S2"; the call is
retried with exponential backoff (0.25 s doubling to 2 s) and the mission resumes when the
server answers. It fails only after `server_outage_timeout_s` without an answer. A refused
connection and a connect timeout count alike: both are the server being away, not a bad request.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from lingnav_ros.status_reasons import no_answer_for, waiting_for

RETRY_INITIAL_S = 0.25
RETRY_MAX_S = 2.0


@dataclass
class _Outage:
    since_s: float
    error: str
    attempts: int
    next_retry_s: float


class ServerOutage:
    """Outage state of one server ("S2" or "S1"); times are node-clock seconds."""

    def __init__(self, name: str, timeout_s: float, retry_initial_s: float = RETRY_INITIAL_S,
                 retry_max_s: float = RETRY_MAX_S) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self._lock = threading.Lock()
        self._outage: _Outage | None = None

    def failed(self, now_s: float, error: str) -> None:
        """A call or probe found the server away: start the outage or schedule the next retry."""
        with self._lock:
            o = self._outage
            if o is None:
                o = self._outage = _Outage(now_s, error, 0, now_s)
            o.error = error
            o.attempts += 1
            o.next_retry_s = now_s + min(self.retry_initial_s * 2 ** (o.attempts - 1), self.retry_max_s)

    def recovered(self) -> float | None:
        """The server answered: end the outage; returns when it began (None if there was none)."""
        with self._lock:
            o, self._outage = self._outage, None
            return None if o is None else o.since_s

    def retry_now(self, now_s: float) -> None:
        """The server answers a probe: the waiting call need not sit out its backoff."""
        with self._lock:
            if self._outage is not None:
                self._outage.next_retry_s = min(self._outage.next_retry_s, now_s)

    def reset(self) -> None:
        with self._lock:
            self._outage = None

    @property
    def active(self) -> bool:
        return self._outage is not None

    def retry_due(self, now_s: float) -> bool:
        with self._lock:
            return self._outage is None or now_s >= self._outage.next_retry_s

    def expired(self, now_s: float) -> bool:
        with self._lock:
            return self._outage is not None and now_s - self._outage.since_s > self.timeout_s

    def waiting_reason(self, now_s: float) -> str:
        """Status text while waiting, empty when there is no outage."""
        with self._lock:
            o = self._outage
            if o is None:
                return ""
            return waiting_for(self.name, now_s - o.since_s, self.timeout_s, o.attempts, o.error)

    def failure_reason(self, now_s: float) -> str:
        with self._lock:
            o = self._outage
            since = o.since_s if o is not None else now_s
            error = o.error if o is not None else ""
        return no_answer_for(now_s - since, error)
