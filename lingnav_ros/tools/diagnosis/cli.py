"""lingnav-diagnose RUN [--out DIR]: which subsystem failed, as a Markdown report with figures.

RUN is a rosbag2 folder or an eval/demo run folder holding one (the newest is read). The report
goes to DIR (default: RUN/diagnosis) as report.md with PNG figures beside it; the verdict is also
printed. Exit 0 when a report was written, 2 when RUN holds no readable LingNav bag.
"""
from __future__ import annotations

import sys
from pathlib import Path

from lingnav_core import cli
from lingnav_ros.tools.diagnosis.report import write_report
from lingnav_ros.tools.diagnosis.run_log import BagError, find_bag, read_run
from lingnav_ros.tools.diagnosis.verdicts import Thresholds, diagnose


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("lingnav-diagnose", __doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="a rosbag2 folder or a run folder holding one")
    p.add_argument("--out", type=Path, default=None, help="report folder (None: <bag>/../diagnosis)")
    p.add_argument("--tracking_error_m", type=float, default=Thresholds.tracking_error_m,
                   help="the tracker diverged when the robot is this far off its plan (m)")
    p.add_argument("--s1_deadline_s", type=float, default=Thresholds.s1_deadline_s,
                   help="an S1 answer slower than this missed its deadline (s)")
    args = p.parse_args(argv)
    th = Thresholds(tracking_error_m=args.tracking_error_m, s1_deadline_s=args.s1_deadline_s)
    try:
        bag = find_bag(args.run)
        log = read_run(bag)
    except BagError as err:
        print(f"lingnav-diagnose: {err}", file=sys.stderr)
        return 2
    diag = diagnose(log, th)
    out = args.out or bag.parent / f"{bag.name}-diagnosis"
    report = write_report(log, diag, out, th)
    print(f"verdict: {diag.verdict}")
    print(f"outcome: {diag.outcome}")
    print(f"report:  {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
