"""Register the `lingnav` package in an ament prefix (the venv), the way `colcon build` would.

`ros2 launch lingnav bringup.launch.py`, launch_ros `Node(package="lingnav", ...)` and
`ros2 pkg` look packages up in the ament index, which an editable pip install does not fill.
This writes what colcon's ament_python build installs:

    PREFIX/share/ament_index/resource_index/packages/lingnav   (the marker)
    PREFIX/share/lingnav/{package.xml, launch, config, scenarios}
    PREFIX/lib/lingnav/<console scripts>                        (what launch_ros runs)

as symbolic links into the source tree and PREFIX/bin, so an edited launch file or YAML is live
without another set-up. Folders are real folders of per-file links, as `colcon build
--symlink-install` makes them: `ros2 launch` finds launch files with os.walk, which does not
enter a linked folder. A new file needs another run (`make setup`). Idempotent; prints one line.
Usage: python scripts/ament_prefix.py PREFIX
"""
from __future__ import annotations

import shutil
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

PACKAGE = "lingnav"
ROOT = Path(__file__).resolve().parents[1]
SHARED = ("package.xml", "launch", "config", "scenarios")


def _link(prefix: Path, link: Path, target: Path) -> bool:
    """Make `link` (inside `prefix`) point at `target`; True when something changed.

    A folder that an older set-up linked whole into the source tree is replaced by a real one
    FIRST: otherwise `link` would be the source file itself, and replacing it would delete it.
    """
    inside = link.relative_to(prefix).parents  # folders between prefix and link, nearest first
    for rel in reversed(inside):
        folder = prefix / rel
        if folder.is_symlink():
            folder.unlink()
    if link.is_symlink() and Path(link.readlink()) == target:
        return False
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return True


def console_scripts() -> list[str]:
    try:
        eps = distribution(PACKAGE).entry_points
    except PackageNotFoundError:
        raise SystemExit(f"[ament] {PACKAGE} is not installed in this interpreter (pip install -e . first)") from None
    return sorted(ep.name for ep in eps if ep.group == "console_scripts")


def register(prefix: Path) -> list[str]:
    """Create or refresh the links; returns the paths that changed."""
    changed = []
    marker = prefix / "share" / "ament_index" / "resource_index" / "packages" / PACKAGE
    if not marker.is_file():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text((ROOT / "resource" / PACKAGE).read_text())
        changed.append(str(marker))
    for name in SHARED:
        changed += _link_shared(prefix, name)
    changed += _link_executables(prefix)
    return changed


def _link_shared(prefix: Path, name: str) -> list[str]:
    """share/lingnav/<name> mirrors the live tree's file or folder, stale links removed."""
    changed = []
    share = prefix / "share" / PACKAGE
    source = ROOT / name
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*")
                                                     if p.is_file() and "__pycache__" not in p.parts)
    wanted_links = {share / f.relative_to(ROOT): f for f in files}
    for link, target in wanted_links.items():
        if _link(prefix, link, target):
            changed.append(str(link))
    if source.is_dir():
        for old in sorted((share / name).rglob("*"), reverse=True):
            if old.is_symlink() and old not in wanted_links:
                old.unlink()
                changed.append(str(old))
    return changed


def _link_executables(prefix: Path) -> list[str]:
    """lib/lingnav/<script> for every console script, as `ros2 run/launch` look for them."""
    changed = []
    lib = prefix / "lib" / PACKAGE
    wanted = set(console_scripts())
    for name in sorted(wanted):
        target = prefix / "bin" / name
        if not target.is_file():
            raise SystemExit(f"[ament] {target} is missing: reinstall the project (pip install -e .)")
        if _link(prefix, lib / name, target):
            changed.append(str(lib / name))
    for stale in lib.iterdir():
        if stale.is_symlink() and stale.name not in wanted:
            stale.unlink()
            changed.append(str(stale))
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    prefix = Path(argv[0]).resolve()
    changed = register(prefix)
    state = f"{len(changed)} link(s) updated" if changed else "up to date"
    print(f"[ament] {PACKAGE} registered in {prefix} ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
