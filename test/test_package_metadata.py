"""The package metadata tells the truth: declared dependencies, installable scripts, data files."""
import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from catkin_pkg.package import parse_package

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = {"lingnav_core", "lingnav_http", "lingnav_ros", "s1_server", "s2_server", "lingnav_msgs"}

# Python module -> the rosdep key that provides it on a robot.
ROSDEP_KEY_OF_MODULE = {
    "numpy": "python3-numpy",
    "scipy": "python3-scipy",
    "cv2": "python3-opencv",
    "requests": "python3-requests",
    "yaml": "python3-yaml",
    "PIL": "python3-pil",
    "matplotlib": "python3-matplotlib",
}
# Python module -> the pip distribution of a setup.py extra (no apt package on Humble).
PIP_DIST_OF_MODULE = {"casadi": "casadi", "rosbags": "rosbags", "torch": "torch",
                      "fastapi": "fastapi", "uvicorn": "uvicorn", "transformers": "transformers",
                      "onnxruntime": "onnxruntime"}


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _robot_side_modules() -> set[str]:
    files = list((ROOT / "lingnav_ros").rglob("*.py")) + list((ROOT / "launch").glob("*.py"))
    found = set()
    for path in files:
        found |= _top_level_imports(path)
    return {m for m in found if m not in sys.stdlib_module_names and m not in INTERNAL}


def test_every_robot_side_import_is_declared():
    package = parse_package(str(ROOT / "package.xml"))
    declared = {d.name for d in package.exec_depends + package.build_export_depends + package.build_depends}
    extras = " ".join(importlib.metadata.requires("lingnav") or [])
    undeclared = []
    for module in sorted(_robot_side_modules()):
        if module in PIP_DIST_OF_MODULE:
            if not re.search(rf"\b{PIP_DIST_OF_MODULE[module]}\b", extras):
                undeclared.append(f"{module} (pip extra)")
        elif ROSDEP_KEY_OF_MODULE.get(module, module) not in declared:
            undeclared.append(module)
    assert not undeclared, f"imported in lingnav_ros/launch but not declared in package.xml/setup.py: {undeclared}"


def test_interface_package_is_declared_and_valid():
    msgs = parse_package(str(ROOT / "lingnav_msgs" / "package.xml"))
    assert msgs.get_build_type() == "ament_cmake"
    assert "rosidl_interface_packages" in [g.name for g in msgs.member_of_groups]
    root = parse_package(str(ROOT / "package.xml"))
    assert root.package_format == 3 and root.get_build_type() == "ament_python"
    assert root.version == msgs.version == importlib.metadata.version("lingnav")


def test_every_console_script_resolves():
    scripts = [ep for ep in importlib.metadata.entry_points(group="console_scripts")
               if ep.dist is not None and ep.dist.name == "lingnav"]
    assert len(scripts) >= 9
    for ep in scripts:
        assert callable(ep.load()), ep.name
        assert (Path(sys.prefix) / "bin" / ep.name).exists(), f"{ep.name} is not in {sys.prefix}/bin"


def test_setup_installs_launch_and_config_for_ros2_launch():
    source = (ROOT / "setup.py").read_text()
    for folder in ("launch", "config", "config/cameras", "config/worlds", "scenarios"):
        assert f'_share("{folder}"' in source
    assert (ROOT / "resource" / "lingnav").exists()
    assert list((ROOT / "launch").glob("*.launch.py")), "no launch file to install"
