"""Tracker benchmark: our LTV-MPC (one QP per step) against the deployed pipeline's Opti+IPOPT controller.

The deployed pipeline's controller is rebuilt here only, from its known settings: CasADi Opti +
IPOPT, N 20, dt 0.1, Q diag(10,10,0), R diag(0.05,0.2), tracking only every 4th step, no
heading or terminal cost, warm start from the previous solution without shifting, v in
[0, 0.25], |w| <= 0.30, no acceleration limits. Both controllers get the same time-parametrised
reference (reference.build_reference) so that only the optimiser differs.

Closed loop on the kinematic unicycle, integrated at 5 ms, at 10 Hz and 20 Hz control, with a
50 ms actuation delay and small odometry noise. References: straight line, arc, S-curve, sharp
90 degree corner and seeded random smooth 24-waypoint NavDP-like paths. Printed per controller
and rate: solve time median/p99, cross-track RMS/max, final position error, constraint
violations (against our limits: v, w, dv, dw per control period; the deployed pipeline has no acceleration
limits, so its dv/dw violations are listed for information).

    .venv/bin/python bench/mpc.py [--random 20] [--png runs/mpc_bench.png] [--solver osqp]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from collections import deque
from pathlib import Path

import casadi as ca
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lingnav_core.angles import wrap  # noqa: E402
from lingnav_ros.control.limits import VelocityLimits  # noqa: E402
from lingnav_ros.control.mpc import MpcParams, MpcTracker  # noqa: E402
from lingnav_ros.control.reference import arc_lengths, build_reference, project  # noqa: E402
from lingnav_ros.control.types import Command, Pose2D  # noqa: E402

SIM_DT_S = 0.005
DELAY_S = 0.05
ODOM_NOISE_M = 0.005
ODOM_NOISE_RAD = 0.005
DEPLOYED_V_MAX, DEPLOYED_W_MAX = 0.25, 0.30
# Ours runs with the deployed pipeline's velocity box so that tracking is compared like for like.
OUR_LIMITS = VelocityLimits(v_max_mps=0.25, v_min_mps=0.0, w_max_radps=0.30, a_max_mps2=0.5,
                            alpha_max_radps2=1.5)


# --------------------------------------------------------------------------- references
def _with_yaw(xy: np.ndarray) -> np.ndarray:
    d = np.gradient(xy, axis=0)
    return np.column_stack([xy, np.arctan2(d[:, 1], d[:, 0])])


def references(n_random: int, seed: int = 7) -> dict[str, np.ndarray]:
    refs: dict[str, np.ndarray] = {}
    t = np.linspace(0.0, 1.0, 24)
    refs["line"] = _with_yaw(np.column_stack([3.0 * t, np.zeros_like(t)]))
    a = t * math.pi / 2
    refs["arc"] = _with_yaw(np.column_stack([1.5 * np.sin(a), 1.5 * (1 - np.cos(a))]))
    refs["s_curve"] = _with_yaw(np.column_stack([3.0 * t, 0.4 * np.sin(2 * math.pi * t)]))
    leg = np.linspace(0.0, 1.5, 12)
    refs["corner90"] = _with_yaw(np.vstack([np.column_stack([leg, np.zeros(12)]),
                                            np.column_stack([np.full(12, 1.5), leg + leg[1]])]))
    rng = np.random.default_rng(seed)
    for i in range(n_random):
        # NavDP-like: 24 points ahead of the robot, smooth curvature, 1.5-3 m long.
        length = rng.uniform(1.5, 3.0)
        k0, k1 = rng.uniform(-0.8, 0.8, size=2)
        s = np.linspace(0.0, length, 24)
        kappa = k0 + (k1 - k0) * s / length
        yaw = np.concatenate([[0.0], np.cumsum(kappa[:-1] * np.diff(s))])
        ds = np.diff(s, prepend=0.0)
        xy = np.column_stack([np.cumsum(ds * np.cos(yaw)), np.cumsum(ds * np.sin(yaw))])
        refs[f"random{i:02d}"] = _with_yaw(xy)
    return refs


# --------------------------------------------------------------------------- deployed pipeline baseline
class DeployedMpc:
    """The deployed formulation, kept faithful (including what it lacks)."""

    def __init__(self, n: int = 20, dt: float = 0.1):
        self.n, self.dt = n, dt
        opti = ca.Opti()
        x = opti.variable(3, n + 1)
        u = opti.variable(2, n)
        x0 = opti.parameter(3)
        ref = opti.parameter(3, n + 1)
        q = ca.diag(ca.DM([10.0, 10.0, 0.0]))
        r = ca.diag(ca.DM([0.05, 0.2]))
        cost = 0
        for k in range(n):
            if k % 4 == 0:
                e = x[:, k] - ref[:, k]
                cost += ca.mtimes([e.T, q, e])
            cost += ca.mtimes([u[:, k].T, r, u[:, k]])
            th = x[2, k]
            opti.subject_to(x[:, k + 1] == x[:, k] + dt * ca.vertcat(u[0, k] * ca.cos(th), u[0, k] * ca.sin(th),
                                                                     u[1, k]))
        opti.subject_to(x[:, 0] == x0)
        opti.subject_to(opti.bounded(0.0, u[0, :], DEPLOYED_V_MAX))
        opti.subject_to(opti.bounded(-DEPLOYED_W_MAX, u[1, :], DEPLOYED_W_MAX))
        opti.minimize(cost)
        opti.solver("ipopt", {"print_time": False}, {"print_level": 0, "sb": "yes", "max_iter": 100})
        self.opti, self.x, self.u, self.x0, self.ref = opti, x, u, x0, ref
        self.prev_x: np.ndarray | None = None
        self.prev_u: np.ndarray | None = None

    def compute(self, pose: Pose2D, path: np.ndarray) -> tuple[Command, float, bool]:
        r = build_reference(path, np.array([pose.x_m, pose.y_m]), self.n, self.dt, DEPLOYED_V_MAX)
        self.opti.set_value(self.x0, [pose.x_m, pose.y_m, pose.theta_rad])
        self.opti.set_value(self.ref, r.states.T)
        if self.prev_x is not None:  # warm start, not shifted (as deployed)
            self.opti.set_initial(self.x, self.prev_x)
            self.opti.set_initial(self.u, self.prev_u)
        t0 = time.perf_counter()
        try:
            sol = self.opti.solve()
            ok = True
            xs, us = sol.value(self.x), sol.value(self.u)
        except RuntimeError:
            ok = False
            xs, us = self.opti.debug.value(self.x), self.opti.debug.value(self.u)
        dt_solve = time.perf_counter() - t0
        self.prev_x, self.prev_u = np.asarray(xs), np.asarray(us)
        end = path[-1, :2]
        if math.hypot(end[0] - pose.x_m, end[1] - pose.y_m) <= 0.15:
            return Command(0.0, 0.0), dt_solve, ok
        return Command(float(us[0, 0]), float(us[1, 0])), dt_solve, ok


# --------------------------------------------------------------------------- closed loop
def run_episode(controller: str, path: np.ndarray, rate_hz: float, seed: int, solver: str) -> dict:
    rng = np.random.default_rng(seed)
    period = 1.0 / rate_hz
    if controller == "ours":
        tracker = MpcTracker(MpcParams(solver=solver, control_period_s=period), OUR_LIMITS)
    else:
        deployed = DeployedMpc()
    # start slightly off the path
    state = np.array([path[0, 0] + rng.normal(0, 0.03), path[0, 1] + rng.normal(0, 0.03),
                      path[0, 2] + rng.normal(0, 0.05)])
    delay_ticks = round(DELAY_S / SIM_DT_S)
    queue: deque = deque([Command(0.0, 0.0)] * delay_ticks)
    applied = Command(0.0, 0.0)
    last_cmd = Command(0.0, 0.0)
    cmds, solve_ms, traj, fallbacks = [], [], [state.copy()], 0
    total_len = float(arc_lengths(path[:, :2])[-1])
    t_max = total_len / 0.25 * 2.0 + 6.0
    steps_per_ctrl = round(period / SIM_DT_S)
    t, tick, done = 0.0, 0, False
    while t < t_max and not done:
        if tick % steps_per_ctrl == 0:
            odom = Pose2D(state[0] + rng.normal(0, ODOM_NOISE_M), state[1] + rng.normal(0, ODOM_NOISE_M),
                          float(wrap(state[2] + rng.normal(0, ODOM_NOISE_RAD))))
            if controller == "ours":
                out = tracker.compute(odom, last_cmd, path)
                cmd = out.command
                if out.controller in ("mpc", "pure_pursuit"):
                    solve_ms.append(out.solve_time_s * 1e3)
                fallbacks += out.controller == "pure_pursuit"
                done = out.goal_reached
            else:
                cmd, st, _ok = deployed.compute(odom, path)
                solve_ms.append(st * 1e3)
                done = math.hypot(path[-1, 0] - odom.x_m, path[-1, 1] - odom.y_m) <= 0.15
            cmds.append(cmd)
            last_cmd = cmd
        queue.append(last_cmd)
        applied = queue.popleft()
        th = state[2]
        state = state + SIM_DT_S * np.array([applied.v_mps * math.cos(th), applied.v_mps * math.sin(th),
                                             applied.w_radps])
        traj.append(state.copy())
        t += SIM_DT_S
        tick += 1
    traj_a = np.asarray(traj)
    xy, s = path[:, :2], arc_lengths(path[:, :2])
    cte = np.array([project(xy, s, p[:2])[1] for p in traj_a[::10]])
    v = np.array([c.v_mps for c in cmds])
    w = np.array([c.w_radps for c in cmds])
    dv = np.abs(np.diff(np.concatenate([[0.0], v])))
    dw = np.abs(np.diff(np.concatenate([[0.0], w])))
    eps = 1e-6
    lim = OUR_LIMITS
    viol_vw = int(np.sum((v > lim.v_max_mps + eps) | (v < lim.v_min_mps - eps) | (np.abs(w) > lim.w_max_radps + eps)))
    viol_acc = int(np.sum((dv > lim.a_max_mps2 * period + eps) | (dw > lim.alpha_max_radps2 * period + eps)))
    return {"solve_ms": solve_ms, "cte": cte, "final_err": float(np.hypot(*(traj_a[-1, :2] - path[-1, :2]))),
            "viol_vw": viol_vw, "viol_acc": viol_acc, "traj": traj_a, "fallbacks": fallbacks,
            "time_s": t}


def draw_png(path_png: Path, refs: dict, results: dict) -> None:
    try:
        import cv2
    except ImportError:
        print("opencv not importable: no PNG")
        return
    names = list(refs)[:8]
    tile, cols = 300, 4
    rows = math.ceil(len(names) / cols)
    img = np.full((rows * tile, cols * tile, 3), 255, np.uint8)
    for i, name in enumerate(names):
        ox, oy = (i % cols) * tile, (i // cols) * tile
        pts = [refs[name][:, :2]] + [results[(c, 10.0, name)]["traj"][:, :2] for c in ("ours", "deployed")]
        allp = np.vstack(pts)
        lo, span = allp.min(0) - 0.2, max(float(np.ptp(allp, 0).max()) + 0.4, 1e-3)

        def px(p, ox=ox, oy=oy, lo=lo, span=span):
            q = (p - lo) / span * (tile - 20) + 10
            return np.column_stack([ox + q[:, 0], oy + tile - q[:, 1]]).astype(np.int32)

        for p, colour, th in zip(pts, [(0, 0, 0), (0, 160, 0), (0, 0, 220)], [3, 2, 1]):
            cv2.polylines(img, [px(p)], False, colour, th, cv2.LINE_AA)
        cv2.putText(img, name, (ox + 8, oy + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    cv2.putText(img, "black: reference  green: ours  red: deployed (10 Hz)", (8, rows * tile - 8),
                cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 60, 60), 1)
    path_png.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path_png), img)
    print(f"saved {path_png}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=20, help="number of random NavDP-like paths")
    ap.add_argument("--solver", default="osqp", choices=["osqp", "qpoases"])
    ap.add_argument("--png", default="", help="save a PNG of the first paths here")
    args = ap.parse_args(argv)
    refs = references(args.random)
    results = {}
    t0 = time.perf_counter()
    for rate in (10.0, 20.0):
        for i, (name, path) in enumerate(refs.items()):
            for ctl in ("ours", "deployed"):
                results[(ctl, rate, name)] = run_episode(ctl, path, rate, seed=1000 + i, solver=args.solver)
    print(f"{len(refs)} references x 2 rates x 2 controllers in {time.perf_counter() - t0:.0f} s "
          f"(ours: LTV-MPC QP via {args.solver}; deployed: Opti+IPOPT)\n")
    hdr = (f"{'ctrl':6} {'Hz':>3} {'solve med ms':>12} {'p99 ms':>8} {'cte rms m':>10} {'cte max m':>10} "
           f"{'final err m':>11} {'viol v/w':>8} {'viol acc':>8} {'fallback':>8}")
    print(hdr)
    print("-" * len(hdr))
    summary = {}
    for rate in (10.0, 20.0):
        for ctl in ("ours", "deployed"):
            rs = [results[(ctl, rate, n)] for n in refs]
            sm = np.concatenate([r["solve_ms"] for r in rs])
            cte = np.concatenate([r["cte"] for r in rs])
            row = {"med": float(np.median(sm)), "p99": float(np.percentile(sm, 99)),
                   "rms": float(np.sqrt(np.mean(cte ** 2))), "max": float(cte.max()),
                   "final": float(np.mean([r["final_err"] for r in rs])),
                   "final_max": float(np.max([r["final_err"] for r in rs])),
                   "vw": sum(r["viol_vw"] for r in rs), "acc": sum(r["viol_acc"] for r in rs),
                   "fb": sum(r["fallbacks"] for r in rs)}
            summary[(ctl, rate)] = row
            print(f"{ctl:6} {rate:3.0f} {row['med']:12.2f} {row['p99']:8.2f} {row['rms']:10.3f} {row['max']:10.3f} "
                  f"{row['final']:6.3f}/{row['final_max']:4.2f} {row['vw']:8d} {row['acc']:8d} {row['fb']:8d}")
    print("\nfinal err: mean/max over references. viol acc for the deployed pipeline is against our limits "
          "(it has none).")
    print("\nper reference (10 Hz): cte rms ours/deployed, final err ours/deployed")
    for n in list(refs)[:4]:
        o, f = results[("ours", 10.0, n)], results[("deployed", 10.0, n)]
        print(f"  {n:10} {np.sqrt(np.mean(o['cte'] ** 2)):.3f}/{np.sqrt(np.mean(f['cte'] ** 2)):.3f}  "
              f"{o['final_err']:.3f}/{f['final_err']:.3f}")
    print("\ntargets:")
    for rate in (10.0, 20.0):
        o, f = summary[("ours", rate)], summary[("deployed", rate)]
        print(f"  {rate:.0f} Hz: median {o['med']:.2f} ms <= 2: {o['med'] <= 2.0}; p99 {o['p99']:.2f} ms <= 10: "
              f"{o['p99'] <= 10.0}; speed-up {f['med'] / o['med']:.1f}x >= 10: {f['med'] / o['med'] >= 10}; "
              f"cte rms {o['rms']:.3f} <= {f['rms']:.3f}: {o['rms'] <= f['rms']}; "
              f"violations {o['vw'] + o['acc']} == 0: {o['vw'] + o['acc'] == 0}")
    if args.png:
        draw_png(Path(args.png), refs, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
