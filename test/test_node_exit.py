"""A node process that is leaving ends within lingnav_ros.nodes.lifecycle's exit deadline, and
says where it was stuck. Each case runs a real process that would otherwise never exit."""
import subprocess
import sys
import textwrap

STUCK_AFTER_MAIN = """
    import threading
    from lingnav_ros.nodes.lifecycle import arm_exit_deadline

    def stuck_forever():
        threading.Event().wait()

    threading.Thread(target=stuck_forever, name="stuck").start()  # not a daemon: exit would wait for it
    arm_exit_deadline(0.5)
    print("cleanup done", flush=True)
"""

STUCK_IN_SPIN = """
    import threading
    import rclpy
    from lingnav_ros.nodes.lifecycle import watch_for_shutdown

    def stuck_in_a_callback():
        threading.Event().wait()

    rclpy.init()
    watch_for_shutdown(rclpy.get_default_context(), deadline_s=0.5, poll_s=0.05)
    threading.Timer(0.3, rclpy.shutdown).start()  # as rclpy's SIGINT handler does
    stuck_in_a_callback()  # the main thread never gets back to its cleanup
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, check=False)


def test_a_thread_that_keeps_the_process_alive_is_shown_and_the_process_ends():
    done = _run(STUCK_AFTER_MAIN)
    assert "cleanup done" in done.stdout
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "stuck_forever" in done.stderr, done.stderr  # the stack of the thread that held it


def test_a_shutdown_that_never_reaches_the_cleanup_still_ends_the_process():
    done = _run(STUCK_IN_SPIN)
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "stuck_in_a_callback" in done.stderr, done.stderr


def test_a_process_that_leaves_in_time_exits_normally():
    done = _run("""
        from lingnav_ros.nodes.lifecycle import arm_exit_deadline
        arm_exit_deadline(30.0)
        print("bye", flush=True)
    """)
    assert done.returncode == 0 and done.stdout.strip() == "bye" and done.stderr == "", done
