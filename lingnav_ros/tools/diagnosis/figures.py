"""The report's PNG figures (matplotlib, Agg: no display needed). Each function writes one file
and returns its path; none changes matplotlib's global state beyond choosing the Agg backend
for the figures it makes."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lingnav_ros.tools.diagnosis.run_log import STAGE_FIELDS, RunLog
from lingnav_ros.tools.diagnosis.verdicts import SUBSYSTEMS, Diagnosis, PointCheck

COLOURS = {"S2": "tab:purple", "S1": "tab:orange", "tracker": "tab:blue", "safety": "tab:red", "sensor": "tab:gray"}


def _figure(*size):
    from matplotlib.figure import Figure  # no pyplot: no global figure registry, no display

    return Figure(figsize=size, dpi=100, layout="constrained")


def timeline(log: RunLog, diag: Diagnosis, path: Path) -> Path:
    """Mission states, commanded speeds, S2/S1 calls and findings over time."""
    fig = _figure(11, 6)
    ax_v, ax_ev = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1.3]})
    if log.cmds:
        c = np.array(log.cmds)
        ax_v.plot(c[:, 0] - log.start_s, c[:, 1], label="v (m/s)", lw=1)
        ax_v.plot(c[:, 0] - log.start_s, c[:, 2], label="w (rad/s)", lw=1)
    for st in log.statuses:
        ax_v.axvline(log.t(st.t_s), color="k", alpha=0.15)
        ax_v.text(log.t(st.t_s), ax_v.get_ylim()[1] if log.cmds else 0.3, st.state[:10], rotation=90, va="top",
                  fontsize=7)
    ax_v.set_ylabel("cmd_vel")
    ax_v.legend(loc="lower right", fontsize=8)
    rows = {"S2 call": 0, "S1 answer": 1, **{s: 2 + i for i, s in enumerate(SUBSYSTEMS)}}
    ax_ev.scatter([log.t(c.received_s) for c in log.s2], [0] * len(log.s2), marker="v", color="tab:purple")
    ax_ev.scatter([log.t(c.received_s) for c in log.s1], [1] * len(log.s1), marker="|", color="tab:orange")
    for f in diag.findings:
        ax_ev.scatter([log.t(f.t_s)], [rows[f.subsystem]], marker="x", color=COLOURS[f.subsystem])
    ax_ev.set_yticks(list(rows.values()), list(rows.keys()), fontsize=8)
    ax_ev.set_xlabel("time since the start of the bag (s)")
    fig.suptitle(f"{log.instruction}  —  {diag.outcome}"[:110], fontsize=10)
    fig.savefig(path)
    return path


def s2_frame(check: PointCheck, rgb: np.ndarray, index: int, path: Path) -> Path:
    """The image S2 answered about, with its pixel and what the pixel lands on."""
    fig = _figure(4.5, 3.8)
    ax = fig.subplots()
    ax.imshow(rgb)
    c = check.call
    if c.pixel is not None:
        ok = not check.on or check.on == check.target
        ax.scatter([c.pixel[0]], [c.pixel[1]], s=160, marker="+", color="lime" if ok else "red", linewidths=2.5)
    on = f" -> {check.on}" if check.on else ""
    ax.set_title(f"S2 #{index}: {c.target or '-'} {c.pixel}{on}\n{c.latency_s * 1e3:.0f} ms '{c.navigation}'",
                 fontsize=8)
    ax.axis("off")
    fig.savefig(path)
    return path


def s1_plans(log: RunLog, path: Path, max_plans: int = 6) -> Path:
    """Up to `max_plans` S1 answers spread over the run: candidates coloured by value, the chosen
    one thick (base frame at the image time: x forward, y left)."""
    calls = log.s1
    picks = [calls[int(i)] for i in np.linspace(0, len(calls) - 1, min(max_plans, len(calls)))] if calls else []
    fig = _figure(3.2 * max(len(picks), 1), 3.4)
    axes = np.atleast_1d(fig.subplots(1, max(len(picks), 1)))
    for ax, call in zip(axes, picks):
        vals = call.values if call.values.size else np.zeros(len(call.candidates))
        lo, hi = float(vals.min(initial=0.0)), float(vals.max(initial=1.0))
        for k, cand in enumerate(call.candidates):
            shade = (vals[k] - lo) / max(hi - lo, 1e-6) if k < len(vals) else 0.0
            chosen = k == call.chosen_index
            ax.plot(-cand[:, 1], cand[:, 0], color=(1 - shade, shade, 0.2), lw=2.5 if chosen else 0.8,
                    alpha=1.0 if chosen else 0.6)
        veto = next((p.veto_reason for p in log.plans if p.stamp_s == call.stamp_s and p.veto_reason), "")
        ax.set_title(f"t={log.t(call.received_s):.1f}s {call.latency_s * 1e3:.0f} ms\n"
                     f"{'NO SAFE PATH' if call.no_safe_path else f'chosen {call.chosen_index}'}"
                     f"{' VETOED' if veto else ''}", fontsize=8)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    fig.savefig(path)
    return path


def tracking(log: RunLog, diag: Diagnosis, limit_m: float, path: Path) -> Path:
    fig = _figure(10, 3.2)
    ax = fig.subplots()
    ax2 = ax.twinx()
    if diag.tracking:
        t = np.array([s.t_s for s in diag.tracking]) - log.start_s
        ax.plot(t, [s.off_path_m for s in diag.tracking], ".", ms=2, color="tab:blue")
        ax2.plot(t, [s.bearing_rad for s in diag.tracking], ".", ms=2, color="tab:orange")
        ax2.plot(t, [s.w_radps for s in diag.tracking], "-", lw=0.6, color="tab:green")
    ax.axhline(limit_m, color="tab:red", ls="--", lw=1)
    ax.set_ylabel("off the plan (m, blue)")
    ax2.set_ylabel("bearing to plan (rad, orange), w (green)", fontsize=8)
    ax.set_xlabel("time (s)")
    fig.savefig(path)
    return path


def sensors(log: RunLog, path: Path) -> Path:
    """Per sensor topic: the gap between arrivals and the age of each message at arrival."""
    fig = _figure(10, 3.2)
    ax = fig.subplots()
    for topic, arrivals in sorted(log.arrivals.items()):
        a = np.array(arrivals)
        if len(a) > 1:
            ax.plot(a[1:, 0] - log.start_s, np.diff(a[:, 0]) * 1e3, lw=0.8, label=f"{topic} gap")
    ax.set_ylabel("ms between messages")
    ax.set_xlabel("time (s)")
    ax.legend(fontsize=7, loc="upper right")
    fig.savefig(path)
    return path


def latency_budget(stages: list[dict], path: Path) -> Path:
    """Median and p99 of each stage from image to cmd_vel."""
    fig = _figure(9, 3.4)
    ax = fig.subplots()
    names = [f for f in STAGE_FIELDS if f != "total_ms"]
    p50 = [_pct([s[f] for s in stages], 50) for f in names]
    p99 = [_pct([s[f] for s in stages], 99) for f in names]
    x = np.arange(len(names))
    ax.bar(x - 0.2, p50, 0.4, label="p50")
    ax.bar(x + 0.2, p99, 0.4, label="p99")
    ax.set_xticks(x, [n.removesuffix("_ms") for n in names], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)
    total = [s["total_ms"] for s in stages]
    ax.set_title(f"image -> cmd_vel: p50 {_pct(total, 50):.0f} ms, p99 {_pct(total, 99):.0f} ms "
                 f"({len(stages)} plans)", fontsize=9)
    fig.savefig(path)
    return path


def _pct(values, q) -> float:
    vals = [v for v in values if math.isfinite(v)]
    return float(np.percentile(vals, q)) if vals else math.nan
