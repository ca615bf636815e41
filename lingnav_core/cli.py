"""One look for every LingNav command line: help text that shows each flag's default, and
`--version` from the installed package's metadata."""
from __future__ import annotations

import argparse
from importlib import metadata

DISTRIBUTION = "lingnav"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each flag's help; descriptions keep their line breaks."""


def package_version() -> str:
    """The installed lingnav version ("unknown" when run from a tree that was never installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """An ArgumentParser with the shared formatter and `--version`."""
    p = argparse.ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {package_version()}",
                   help="print the lingnav version and exit")
    return p
