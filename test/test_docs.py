"""The README is a landing page (short, a table of contents that reaches every page) and the
docs hold no broken link and no internal words."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "scenarios" / "README.md"]
MAX_README_LINES = 200
# Pages other parts of the project add; linked from the README, checked once they exist.
WRITTEN_ELSEWHERE = {"docs/search_and_memory.md", "docs/dynamic_worlds.md", "docs/diagnosis.md"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INTERNAL = re.compile(r"\bissue #?\d+|\bissues? \d+|\bthe field\b|\bfield's\b|\bfield notes?\b", re.IGNORECASE)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, flags=re.MULTILINE)}


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return [m.group(1) for m in LINK.finditer(text) if not m.group(1).startswith(("http://", "https://", "mailto:"))]


def test_readme_is_a_short_landing_page_with_the_two_commands_first():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README has {len(lines)} lines; move detail into docs/"
    first_code = next(i for i, line in enumerate(lines) if line.startswith("```"))
    assert lines[first_code + 1].startswith("make demo") and lines[first_code + 2].startswith("make test")
    text = README.read_text()
    for page in ("real_robot", "troubleshooting", "parameters", "architecture", "servers", "testing",
                 "benchmarks", "simulation", "rviz"):
        assert f"](docs/{page}.md)" in text, f"the table of contents lacks docs/{page}.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves(page):
    broken = []
    for target in links(page):
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        rel = dest.relative_to(ROOT).as_posix() if dest.is_relative_to(ROOT) else str(dest)
        if rel in WRITTEN_ELSEWHERE and not dest.exists():
            continue
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.name}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_internal_words(page):
    hits = [line for line in page.read_text().splitlines() if INTERNAL.search(line)]
    assert not hits, hits


def test_license_matches_package_xml():
    assert "<license>Apache-2.0</license>" in (ROOT / "package.xml").read_text()
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) > 150, "the full license text"
