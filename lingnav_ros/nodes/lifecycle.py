"""How a LingNav node process ends: one or two Ctrl-C, or a launch's SIGINT, exit 0 and quietly.

rclpy's SIGINT handler (installed by rclpy.init) shuts the context down and then chains to
Python's, which raises KeyboardInterrupt at whatever line runs next: inside destroy_node, inside
an except clause, or inside a constructor that has just failed on the shut-down context. One
Ctrl-C then printed a traceback and exited -2. `quiet_interrupts()` (called in main() before
rclpy.init; importing this module changes nothing) replaces Python's part with a handler that
only notes the interrupt: rclpy's shutdown of the context is the one way out, spin() returns
(or raises ExternalShutdownException) and main() takes its normal exit path.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException

ENDINGS = (KeyboardInterrupt, ExternalShutdownException)

interrupted = threading.Event()


def _note_interrupt(_signum, _frame) -> None:
    interrupted.set()


def quiet_interrupts() -> None:
    """SIGINT sets `interrupted` instead of raising KeyboardInterrupt (main thread only)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _note_interrupt)


def is_ending(exc: BaseException, context=None) -> bool:
    """True for the ways a shutdown surfaces: KeyboardInterrupt, ExternalShutdownException, or
    any rclpy error raised because the context was shut down under the call (an RCLError
    "context is not valid" from a wait set or a constructor)."""
    return isinstance(exc, ENDINGS) or not rclpy.ok(context=context)


def spin_until_shutdown(spin: Callable[[], None], context=None) -> None:
    """Run `spin()`; a Ctrl-C or an external rclpy shutdown ends it normally."""
    try:
        spin()
    except BaseException as exc:
        if not is_ending(exc, context):
            raise


def ignore_further_interrupts() -> None:
    """From here on the process is leaving: a second Ctrl-C must not interrupt the cleanup."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
