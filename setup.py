"""ament_python package `lingnav`: robot nodes, S2 and S1 servers, simulator and tools."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "lingnav"


def _share(pattern_dir, pattern="*"):
    return (f"share/{PACKAGE}/{pattern_dir}", [p for p in glob(f"{pattern_dir}/{pattern}")])


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=["lingnav_core*", "lingnav_ros*", "s2_server*", "s1_server*", "lingnav_http*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        _share("launch", "*.py"),
        _share("config", "*.*"),
        _share("config/cameras", "*.yaml"),
        _share("config/worlds", "*.yaml"),
        _share("scenarios", "*.yaml"),
    ],
    install_requires=["setuptools"],
    extras_require={
        # Robot extras that apt does not ship (pip install -e .[robot]).
        "robot": ["casadi>=3.6", "rosbags>=0.10", "onnxruntime>=1.18"],
        # lingnav-diagnose: the report's figures.
        "diagnose": ["rosbags>=0.10", "matplotlib>=3.7"],
        "s2": ["fastapi>=0.110", "uvicorn>=0.29", "python-multipart>=0.0.9", "pillow>=10",
               "transformers>=5.0", "requests>=2.31"],
        "s1": ["torch>=2.1", "fastapi>=0.110", "uvicorn>=0.29", "python-multipart>=0.0.9",
               "requests>=2.31", "pillow>=10", "onnx>=1.16", "onnxruntime>=1.18"],
    },
    zip_safe=True,
    maintainer="LingNav maintainers",
    maintainer_email="lingnav@example.com",
    description="Instruction-following navigation: S2 VLM grounding, S1 NavDP, CasADi MPC.",
    license="Apache-2.0",

    entry_points={
        "console_scripts": [
            "lingnav-s2-server = s2_server.cli:main",
            "lingnav-s2-client = s2_server.client_cli:main",
            "lingnav-s1-server = s1_server.cli:main",
            "lingnav-s1-export = s1_server.navdp.onnx_export:main",
            "lingnav-navigator = lingnav_ros.nodes.navigator_node:main",
            "lingnav-sim = lingnav_ros.nodes.sim_node:main",
            "lingnav-bringup = lingnav_ros.bringup:main",
            "lingnav-demo = lingnav_ros.tools.demo:main",
            "lingnav-eval = lingnav_ros.tools.evaluate:main",
            "lingnav-replay = lingnav_ros.tools.replay:main",
            "lingnav-diagnose = lingnav_ros.tools.diagnosis.cli:main",
        ],
    },
)
