"""Shape rules the linters do not check: no function over 80 lines in the shipped code, and the
robot side reaches the servers only through the bridge module (the import contracts in
.importlinter check the layering as a whole; this names the one file allowed to cross)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lingnav_core", "lingnav_http", "lingnav_ros", "s1_server", "s2_server", "bench", "scripts", "launch")
MAX_FUNCTION_LINES = 80


def _functions():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield path.relative_to(ROOT), node


def test_no_function_is_longer_than_80_lines():
    long = [f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path, node in _functions() if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, long


def test_the_scan_sees_the_code():
    assert sum(1 for _ in _functions()) > 500


def test_only_the_navigator_factories_import_server_packages():
    crossing = set()
    for path in (ROOT / "lingnav_ros").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("s1_server", "s2_server") for n in names):
                crossing.add(path.relative_to(ROOT).as_posix())
    assert crossing == {"lingnav_ros/nodes/navigator/factories.py"}, crossing
