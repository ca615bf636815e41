"""Several robots in one simulated world: one simulator, one navigator per robot, one S2.

A world with `robots:` (world.py) runs here. The simulator serves each robot under its own
namespace (`robot1/camera/...`, `robot1/cmd_vel`, ...) on one shared /clock and draws the others
into each robot's camera as moving cylinders; every robot gets its own navigator in that
namespace, all asking the same S2 server, and sharing their poses on the fleet topic
(`fleet_frame` odom: the simulator's odometry of every robot is in world coordinates).

S1 is one server per robot. NavDP's HTTP protocol keeps one session per server: `/navigator_reset`
sets the batch size and intrinsics for *the* client, and a second robot's reset replaces the
first robot's session (its in-flight steps answer 409, its planner memory is gone). A fleet that
steps its robots together can share one server through `batch_size`; robots that plan on their
own clocks, as these do, each need a session of their own, so each gets a server process (on a
GPU they share the device; the geometric planner used here needs no weights).
"""
from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import replace

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor

from lingnav_ros import topics
from lingnav_ros.launch_description import BringupArgs, describe, ros_args
from lingnav_ros.sim.world import World, load
from lingnav_ros.tools.harness import (
    TERMINAL,
    Monitor,
    Processes,
    RunOptions,
    RunResult,
    Servers,
    _collect,
    _score,
    child_env,
    free_port,
    run_scenario,
    start_s1_server,
    wait_http,
)


def run_world(opts: RunOptions, servers: Servers, procs: Processes, name: str) -> list[RunResult]:
    """One run of a scenario file: a single robot as run_scenario does, or every robot of a fleet."""
    world = load(opts.world_path)
    if not world.robots:
        return [run_scenario(opts, servers, procs, name=name)]
    return run_fleet(world, opts, servers, procs, name)


def _start_s1_servers(world: World, servers: Servers, procs: Processes, env: dict) -> dict[str, int]:
    """The first robot uses the shared S1 server, the others one each (module docstring)."""
    ports = {world.robots[0].name: servers.s1_port}
    for robot in world.robots[1:]:
        ports[robot.name] = free_port()
        start_s1_server(procs, env, ports[robot.name], f"s1_server_{robot.name}")
    for robot_name, port in ports.items():
        if not wait_http(f"http://127.0.0.1:{port}/health", 60.0):
            raise RuntimeError(f"S1 server for {robot_name} did not come up on port {port}")
    return ports


def run_fleet(world: World, opts: RunOptions, servers: Servers, procs: Processes, name: str) -> list[RunResult]:
    """Start the simulator and one navigator per robot; watch until every robot ends; score each."""
    env = child_env()
    s1_ports = _start_s1_servers(world, servers, procs, env)
    sim_spec = describe(BringupArgs(mode="A", camera="sim", use_sim_time=True, sim=True))[0]
    sim_spec.parameters.append({"world": str(opts.world_path), "real_time_factor": opts.real_time_factor,
                                "depth_encoding": opts.depth_encoding})
    context = Context()
    rclpy.init(context=context)
    executor = SingleThreadedExecutor(context=context)
    monitors = {r.name: Monitor(context, None, namespace=r.name) for r in world.robots}
    for m in monitors.values():
        executor.add_node(m)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    t_wall0 = time.monotonic()
    procs.start("sim", [sys.executable, "-m", sim_spec.module, *ros_args(sim_spec)], env, f"{name}-sim")
    for robot in world.robots:
        nav = describe(BringupArgs(mode="A", s2_port=servers.s2_port, s1_port=s1_ports[robot.name],
                                   instruction=robot.instruction, camera="sim", use_sim_time=True,
                                   namespace=robot.name))[0]
        # the simulator reports every robot's odometry in world coordinates: their odom frames coincide
        nav.parameters.append({"fleet_frame": topics.ODOM_FRAME, **opts.navigator_overrides})
        procs.start(f"navigator_{robot.name}", [sys.executable, "-m", nav.module, *ros_args(nav)], env,
                    f"{name}-{robot.name}-navigator")
    try:
        finals = _watch_all(opts, monitors, procs, t_wall0)
    finally:
        time.sleep(0.3)
        for robot in world.robots:
            procs.stop(f"navigator_{robot.name}")
            if robot.name != world.robots[0].name:
                procs.stop(f"s1_server_{robot.name}")
        procs.stop("sim")
        executor.shutdown()
        for m in monitors.values():
            m.destroy_node()
        rclpy.shutdown(context=context)
        spin.join(timeout=5.0)
    results = []
    for robot in world.robots:
        final, reason = finals[robot.name]
        r = _collect(monitors[robot.name], opts, f"{name}/{robot.name}", robot.instruction, final, reason, t_wall0)
        ended = [t for t, state, _ in r.events if state in TERMINAL.values()]
        r.sim_time_s = ended[-1] if ended else r.sim_time_s  # this robot's end, not the fleet's
        _score(r, replace(world, start=robot.start, target_label=robot.target_label,
                           target_labels=(robot.target_label,), robots=[]), opts)
        results.append(r)
    return results


def _watch_all(opts: RunOptions, monitors: dict[str, Monitor], procs: Processes,
               t_wall0: float) -> dict[str, tuple[str, str]]:
    """Poll every robot's status until all are terminal, a process dies or time runs out."""
    finals: dict[str, tuple[str, str]] = {}
    while True:
        time.sleep(0.1)
        sim_t = 0.0
        for robot_name, m in monitors.items():
            with m.lock:
                st, sim_t = m.status, max(sim_t, float(m.sim_state.get("t", 0.0)))
            if robot_name not in finals and st is not None and st.state in TERMINAL and st.instruction:
                finals[robot_name] = (TERMINAL[st.state], st.reason)
        if len(finals) == len(monitors):
            return finals
        dead = procs.dead()
        wall = time.monotonic() - t_wall0
        if dead or sim_t > opts.max_sim_time_s or wall > opts.max_wall_time_s:
            why = ("CRASHED", "process died: " + ", ".join(dead)) if dead else \
                ("TIMEOUT", "run exceeded its time budget")
            return {n: finals.get(n, why) for n in monitors}


def fleet_summary(results: list[RunResult]) -> dict:
    """Per robot latency figures of one fleet run (bench/fleet.py prints them)."""
    def pct(values: list[float], q: float) -> float:
        vals = sorted(v for v in values if math.isfinite(v))
        return vals[min(len(vals) - 1, int(q * len(vals)))] if vals else float("nan")

    return {r.name: {"s2_p50_ms": pct(r.s2_latency_ms, 0.5), "s2_p99_ms": pct(r.s2_latency_ms, 0.99),
                     "s1_p50_ms": pct(r.s1_latency_ms, 0.5), "s1_p99_ms": pct(r.s1_latency_ms, 0.99),
                     "sim_time_s": r.sim_time_s, "wall_time_s": r.wall_time_s} for r in results}
