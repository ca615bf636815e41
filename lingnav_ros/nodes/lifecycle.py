"""How a LingNav node process ends: one or two Ctrl-C, or a launch's SIGINT, exit 0 and quietly.

rclpy's own SIGINT handler shuts the context down, so `spin()` ends with KeyboardInterrupt or,
when the signal lands while the executor waits, with ExternalShutdownException. Either is the
normal end of a node, not an error. A second Ctrl-C while the node is being destroyed used to
raise KeyboardInterrupt inside destroy_node and print a traceback; once shutdown has begun,
further SIGINTs are ignored (in main() only: importing this module changes nothing).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from rclpy.executors import ExternalShutdownException

ENDINGS = (KeyboardInterrupt, ExternalShutdownException)


def spin_until_shutdown(spin: Callable[[], None]) -> None:
    """Run `spin()`; a Ctrl-C or an external rclpy shutdown ends it normally."""
    try:
        spin()
    except ENDINGS:
        pass


def ignore_further_interrupts() -> None:
    """From here on the process is leaving: a second Ctrl-C must not interrupt the cleanup."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
