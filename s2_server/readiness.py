"""Whether S2 can answer now: a cached probe of the backend, never older than a few seconds.

/health is polled by every robot (the navigator every 0.2 s); it reads the cache and never waits
on the upstream. A background thread refreshes it every `interval_s`, and real requests update
it as they succeed or find the upstream gone, so `ready` follows the upstream within seconds.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("s2_server")


class Readiness:
    def __init__(self, backend, interval_s: float = 2.0, ready: bool | None = None, reason: str = ""):
        self._probe = getattr(backend, "probe", None)
        self.interval_s = max(0.2, float(interval_s))
        self._lock = threading.Lock()
        self._ready = True if ready is None and self._probe is None else bool(ready)
        self._reason = reason if ready is not None else ("" if self._probe is None else "not probed yet")
        self._checked_s = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._probe is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="s2-readiness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def refresh(self) -> None:
        try:
            ready, reason = self._probe()
        except Exception as err:  # a probe must never take the service down
            ready, reason = False, f"probe failed: {type(err).__name__}: {err}"
        self._set(bool(ready), str(reason or ""))

    def _loop(self) -> None:
        while True:
            self.refresh()
            if self._stop.wait(self.interval_s):
                return

    def _set(self, ready: bool, reason: str) -> None:
        with self._lock:
            if ready != self._ready:
                log.info("[S2] %s%s", "ready" if ready else "not ready: ", "" if ready else reason)
            self._ready, self._reason, self._checked_s = ready, ("" if ready else reason), time.monotonic()

    def note_success(self) -> None:
        if self._probe is not None:
            self._set(True, "")

    def note_unavailable(self, reason: str) -> None:
        if self._probe is not None:
            self._set(False, reason)

    def snapshot(self) -> dict:
        with self._lock:
            return {"ready": self._ready, "reason": self._reason,
                    "checked_s_ago": round(time.monotonic() - self._checked_s, 2)}
