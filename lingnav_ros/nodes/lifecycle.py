"""How a LingNav node process ends: one or two Ctrl-C, or a launch's SIGINT, exit 0 and quietly.

rclpy's SIGINT handler (installed by rclpy.init) shuts the context down and then chains to
Python's, which raises KeyboardInterrupt at whatever line runs next: inside destroy_node, inside
an except clause, or inside a constructor that has just failed on the shut-down context. One
Ctrl-C then printed a traceback and exited -2. `quiet_interrupts()` (called in main() before
rclpy.init; importing this module changes nothing) replaces Python's part with a handler that
only notes the interrupt: rclpy's shutdown of the context is the one way out, spin() returns
(or raises ExternalShutdownException) and main() takes its normal exit path.

That path takes about 50 ms. Once, in CI, the navigator was still alive 5 s after the SIGINT
(launch then escalates to SIGTERM) with nothing logged, and no rerun reproduced it. So leaving is
bounded: `watch_for_shutdown()` arms EXIT_DEADLINE_S the moment the context shuts down, and main's
cleanup arms it too; a process still alive then gets every thread's stack written to stderr and
exits with status 1. faulthandler's watchdog is a C thread, so it fires even while a stuck rclpy
call holds the GIL, where a Python timer would wait with it.
"""
from __future__ import annotations

import faulthandler
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException

ENDINGS = (KeyboardInterrupt, ExternalShutdownException)

N = TypeVar("N")

interrupted = threading.Event()
EXIT_DEADLINE_S = 3.0  # below launch's 5 s before SIGTERM: the process ends on its own, and says why
_deadline_armed = threading.Event()


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


def arm_exit_deadline(deadline_s: float = EXIT_DEADLINE_S) -> None:
    """The process is leaving: if it still runs `deadline_s` from now (the first call counts),
    write every thread's stack to stderr and exit with status 1 (module docstring)."""
    if not _deadline_armed.is_set():
        _deadline_armed.set()
        faulthandler.dump_traceback_later(deadline_s, exit=True)


def begin_leaving() -> None:
    """main()'s cleanup starts: no further Ctrl-C interrupts it, and it must end within the exit
    deadline."""
    ignore_further_interrupts()
    arm_exit_deadline()


def watch_for_shutdown(context, deadline_s: float = EXIT_DEADLINE_S, poll_s: float = 0.1) -> threading.Thread:
    """A daemon thread that arms the exit deadline once `context` is shut down (by rclpy's SIGINT
    handler or anyone else), in case the main thread never gets back to its cleanup."""
    def watch() -> None:
        while rclpy.ok(context=context):
            time.sleep(poll_s)
        arm_exit_deadline(deadline_s)

    thread = threading.Thread(target=watch, name="exit-deadline", daemon=True)
    thread.start()
    return thread


def start_node(make_node: Callable[[], N], args, refused: tuple[type[Exception], ...], refused_line: str,
               refused_code: int) -> tuple[N | None, int]:
    """quiet_interrupts(), rclpy.init(args) and `make_node()`: (node, 0) when it is up, else (None, the
    exit status main() returns): `refused_code` with "<refused_line>: <error>" on stderr when the
    constructor raises one of `refused` (a bad parameter, a world or checkpoint that does not load),
    0 when a Ctrl-C or a shutdown came while it was still starting (a checkpoint or world can take
    seconds to load; rclpy's handler may have shut the context down under the constructor, which
    then fails on it)."""
    quiet_interrupts()
    rclpy.init(args=args)
    try:
        if interrupted.is_set():  # Ctrl-C before rclpy's handler was in place
            raise KeyboardInterrupt
        return make_node(), 0
    except refused as err:
        print(f"{refused_line}: {err}", file=sys.stderr)
        if rclpy.ok():
            rclpy.shutdown()
        return None, refused_code
    except BaseException as exc:
        if not is_ending(exc):
            raise
        ignore_further_interrupts()
        if rclpy.ok():
            rclpy.shutdown()
        return None, 0


def close_node(node) -> None:
    """The last step of main(): destroy the node and shut rclpy down if nothing else did."""
    node.destroy_node()
    if rclpy.ok():
        rclpy.shutdown()
