"""Does an offline replay's cmd_vel match the recorded one, and where and why does it part?

Pure functions over two RunLogs (the recorded run and the replayed navigator's outputs). Each
recorded command is compared with the replayed command in effect at the same bag time (the
control ticks of two runs never fall on the same instant, hence `phase_s`). A divergence is
`run_length` commands in a row outside the tolerance; its cause is read from what differed
just before it: the mission state, the S1 plan in use, or a safety intervention.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from lingnav_ros.tools.diagnosis.run_log import RunLog


@dataclass(frozen=True)
class Tolerance:
    v_mps: float = 0.05
    w_radps: float = 0.15
    phase_s: float = 0.1  # a replayed command up to this much later still counts as "the same tick"
    run_length: int = 5  # this many commands in a row outside the tolerance make a divergence
    min_fraction: float = 0.8  # share of commands within tolerance for "matches"


@dataclass
class Comparison:
    compared: int
    within: int
    max_dv_mps: float
    max_dw_radps: float
    divergence_s: float | None  # bag time where the replay parted from the recording
    why: str
    step: int | None = None  # the diagnosis step it falls in: how many S2 answers came before it

    @property
    def fraction(self) -> float:
        return self.within / self.compared if self.compared else 0.0

    def matches(self, tol: Tolerance) -> bool:
        return self.compared > 0 and self.fraction >= tol.min_fraction


def _in_effect(times: list[float], values: list, t: float):
    i = bisect.bisect_right(times, t) - 1
    return values[i] if i >= 0 else None


def compare_commands(recorded: RunLog, replayed: RunLog, tol: Tolerance | None = None) -> Comparison:
    tol = tol or Tolerance()
    rep_t = [c[0] for c in replayed.cmds]
    if not recorded.cmds or not rep_t:
        return Comparison(0, 0, math.nan, math.nan, None, "no cmd_vel in one of the two runs")
    start, end = max(recorded.cmds[0][0], rep_t[0]), min(recorded.cmds[-1][0], rep_t[-1])
    compared = within = run = 0
    max_dv = max_dw = 0.0
    divergence = None
    for t, v, w in recorded.cmds:
        if not start <= t <= end:
            continue
        rep = _in_effect(rep_t, replayed.cmds, t + tol.phase_s)
        dv, dw = abs(rep[1] - v), abs(rep[2] - w)
        compared += 1
        max_dv, max_dw = max(max_dv, dv), max(max_dw, dw)
        if dv <= tol.v_mps and dw <= tol.w_radps:
            within += 1
            run = 0
            continue
        run += 1
        if run == tol.run_length and divergence is None:
            divergence = t
    why = explain(recorded, replayed, divergence) if divergence is not None else ""
    step = sum(c.received_s <= divergence for c in recorded.s2) if divergence is not None else None
    return Comparison(compared, within, max_dv, max_dw, divergence, why, step)


def explain(recorded: RunLog, replayed: RunLog, t: float, look_back_s: float = 2.0) -> str:
    """What differed between the two runs in the seconds before `t`."""
    reasons = []
    st_rec = _in_effect([s.t_s for s in recorded.statuses], recorded.statuses, t)
    st_rep = _in_effect([s.t_s for s in replayed.statuses], replayed.statuses, t)
    if st_rec and st_rep and st_rec.state != st_rep.state:
        reasons.append(f"mission state differs: recorded {st_rec.state} ({st_rec.reason}), "
                       f"replayed {st_rep.state} ({st_rep.reason})")
    plan_rec = _in_effect([c.received_s for c in recorded.s1], recorded.s1, t)
    plan_rep = _in_effect([c.received_s for c in replayed.s1], replayed.s1, t)
    if plan_rec and plan_rep and plan_rec.stamp_s != plan_rep.stamp_s:
        reasons.append(f"tracking different S1 plans: recorded the plan of image {plan_rec.stamp_s:.2f} s, "
                       f"replayed the plan of image {plan_rep.stamp_s:.2f} s")
    rec_layers = {(e.layer, e.zone) for e in recorded.safety if t - look_back_s <= e.t_s <= t}
    rep_layers = {(e.layer, e.zone) for e in replayed.safety if t - look_back_s <= e.t_s <= t}
    for layer, zone in sorted(rec_layers ^ rep_layers):
        side = "recorded" if (layer, zone) in rec_layers else "replayed"
        reasons.append(f"safety {layer} ({zone}) intervened only in the {side} run")
    s2_rec = {c.stamp_s for c in recorded.s2 if c.received_s <= t}
    s2_rep = {c.stamp_s for c in replayed.s2 if c.received_s <= t}
    if s2_rep - s2_rec:
        reasons.append(f"the replay asked S2 about {len(s2_rep - s2_rec)} image(s) the recording never sent "
                       "(the nearest recorded answer was used)")
    return "; ".join(reasons) or "timing: the same inputs and answers, the control ticks fell differently"
