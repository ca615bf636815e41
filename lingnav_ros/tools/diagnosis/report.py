"""The Markdown report: verdict first, then one section per subsystem with its figure and table."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from lingnav_ros.tools.diagnosis import figures
from lingnav_ros.tools.diagnosis.run_log import STAGE_FIELDS, RunLog
from lingnav_ros.tools.diagnosis.verdicts import Diagnosis, Thresholds

MAX_S2_FRAMES = 12


def _pct(values, q) -> str:
    vals = [v for v in values if math.isfinite(v)]
    return f"{np.percentile(vals, q):.1f}" if vals else "-"


def _s2_section(log: RunLog, diag: Diagnosis, out: Path) -> list[str]:
    lines = ["## S2 calls", "", "| # | t (s) | latency ms | target | pixel | lands on | navigation | tasks |",
             "|---|---|---|---|---|---|---|---|"]
    for i, pc in enumerate(diag.s2_checks):
        c = pc.call
        on = pc.on or ("-" if c.pixel is None else "?")
        lines.append(f"| {i} | {log.t(c.received_s):.1f} | {c.latency_s * 1e3:.0f} | {c.target or '-'} | "
                     f"{c.pixel or 'not visible'} | {on} | {c.navigation or '-'} | {', '.join(c.tasks)[:60]} |")
    lines.append("")
    shown = [(i, pc) for i, pc in enumerate(diag.s2_checks) if pc.call.stamp_s in log.frames
             and log.frames[pc.call.stamp_s].rgb.size][:MAX_S2_FRAMES]
    for i, pc in shown:
        png = figures.s2_frame(pc, log.frames[pc.call.stamp_s].rgb, i, out / f"s2_{i:02d}.png")
        lines.append(f"![S2 call {i}]({png.name})")
    return [*lines, ""]


def _s1_section(log: RunLog, out: Path) -> list[str]:
    lat = [c.latency_s * 1e3 for c in log.s1]
    vetoed = [p for p in log.plans if p.veto_reason]
    lines = ["## S1 plans", "",
             f"{len(log.s1)} answers, latency p50 {_pct(lat, 50)} ms, p99 {_pct(lat, 99)} ms; "
             f"{sum(c.no_safe_path for c in log.s1)} without a safe path; {len(vetoed)} changed by the map veto.", ""]
    wire = [c.latency_s * 1e3 - c.model_ms for c in log.s1 if math.isfinite(c.model_ms)]
    if wire:  # a remote planner reports its own time: the rest is encode, HTTP, decode and JSON
        lines += [f"Wire cost (round trip minus the planner's own time): p50 {_pct(wire, 50)} ms, "
                  f"p99 {_pct(wire, 99)} ms.", ""]
    if log.s1:
        lines += [f"![S1 plans]({figures.s1_plans(log, out / 's1_plans.png').name})", ""]
    lines += ["| t (s) | latency ms | goal | best value | chosen | no safe path | veto |",
              "|---|---|---|---|---|---|---|"]
    vetoes = {p.stamp_s: p.veto_reason for p in log.plans}
    for c in log.s1[:: max(1, len(log.s1) // 25)]:
        best = f"{float(c.values.max()):.2f}" if c.values.size else "-"
        lines.append(f"| {log.t(c.received_s):.1f} | {c.latency_s * 1e3:.0f} | {c.goal} | {best} | "
                     f"{c.chosen_index} | {'yes' if c.no_safe_path else ''} | {vetoes.get(c.stamp_s, '')[:50]} |")
    return [*lines, ""]


def _safety_section(log: RunLog) -> list[str]:
    lines = ["## Safety interventions", ""]
    if not log.safety:
        return [*lines, "None.", ""]
    by: dict[tuple[str, str, str], list[float]] = {}
    for ev in log.safety:
        # one row per kind of cause: the figures in it (distances, speeds) vary tick by tick
        by.setdefault((ev.layer, ev.zone, re.sub(r"-?\d+(\.\d+)?", "#", ev.cause)[:80]), []).append(ev.t_s)
    lines += ["| layer | zone | cause | ticks | first t (s) | last t (s) |", "|---|---|---|---|---|---|"]
    for (layer, zone, cause), ts in sorted(by.items(), key=lambda kv: kv[1][0]):
        lines.append(f"| {layer} | {zone} | {cause} | {len(ts)} | {log.t(ts[0]):.1f} | {log.t(ts[-1]):.1f} |")
    return [*lines, ""]


def _sensor_section(log: RunLog, out: Path) -> list[str]:
    lines = ["## Sensors", "", "| topic | messages | rate Hz | largest gap ms | age p50 ms | age max ms |",
             "|---|---|---|---|---|---|"]
    for topic, arrivals in sorted(log.arrivals.items()):
        a = np.array(arrivals)
        span = a[-1, 0] - a[0, 0] if len(a) > 1 else math.nan
        gaps = np.diff(a[:, 0]) * 1e3 if len(a) > 1 else np.array([math.nan])
        ages = (a[:, 0] - a[:, 1]) * 1e3
        lines.append(f"| {topic} | {len(a)} | {len(a) / span if span > 0 else math.nan:.1f} | "
                     f"{np.nanmax(gaps):.0f} | {_pct(ages, 50)} | {_pct(ages, 100)} |")
    if log.arrivals:
        lines += ["", f"![sensor gaps]({figures.sensors(log, out / 'sensors.png').name})"]
    return [*lines, ""]


def _latency_section(log: RunLog, out: Path) -> list[str]:
    lines = ["## Latency budget (image to cmd_vel)", ""]
    if not log.stages:
        return [*lines, "No stage times in this bag.", ""]
    lines += ["| stage | p50 ms | p99 ms |", "|---|---|---|"]
    lines += [f"| {f.removesuffix('_ms')} | {_pct([s[f] for s in log.stages], 50)} | "
              f"{_pct([s[f] for s in log.stages], 99)} |" for f in STAGE_FIELDS]
    png = figures.latency_budget(log.stages, out / "latency.png")
    return [*lines, "", f"![latency budget]({png.name})", ""]


def write_report(log: RunLog, diag: Diagnosis, out: Path, th: Thresholds, extra: list[str] | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# LingNav run diagnosis", "", f"- bag: `{log.path}`", f"- instruction: {log.instruction or '-'}",
             f"- outcome: {diag.outcome}", f"- **verdict: {diag.verdict}**", ""]
    if diag.first is not None:
        lines += [f"First finding at t = {log.t(diag.first.t_s):.1f} s.", ""]
    lines += [f"![timeline]({figures.timeline(log, diag, out / 'timeline.png').name})", "", "## Steps", "",
              "A step runs from one S2 answer to the next; its verdict is its first finding.", "",
              "| step | from t (s) | S2 answer | findings | verdict |", "|---|---|---|---|---|"]
    for st in diag.steps:
        s2 = f"{st.s2.target or st.s2.navigation or '-'} {st.s2.pixel or ''}" if st.s2 else "(start)"
        lines.append(f"| {st.index} | {log.t(st.start_s):.1f} | {s2} | {len(st.findings)} | {st.verdict[:120]} |")
    lines += ["", "## Mission timeline", "", "| t (s) | state | reason |", "|---|---|---|"]
    lines += [f"| {log.t(s.t_s):.1f} | {s.state} | {s.reason} |" for s in log.statuses]
    lines.append("")
    lines += _s2_section(log, diag, out) + _s1_section(log, out)
    png = figures.tracking(log, diag, th.tracking_error_m, out / "tracking.png")
    errs = [s.off_path_m for s in diag.tracking]
    bearings = [abs(s.bearing_rad) for s in diag.tracking]
    lines += ["## Tracking", "", f"Distance from the robot to the plan it tracked: p50 {_pct(errs, 50)} m, "
              f"max {_pct(errs, 100)} m; bearing to the plan {th.lookahead_m} m ahead: p50 {_pct(bearings, 50)} rad, "
              f"max {_pct(bearings, 100)} rad. Diverged: over {th.tracking_error_m} m off, or over "
              f"{th.heading_error_rad} rad away without turning back, for {th.tracking_error_s} s.", "",
              f"![tracking]({png.name})", ""]
    lines += _safety_section(log) + _sensor_section(log, out) + _latency_section(log, out) + (extra or [])
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
