"""ros2 launch lingnav bringup.launch.py mode:=A|B [s2_host:=... s1_checkpoint:=... camera:=...]

Thin over lingnav_ros.launch_description: the node set, parameters and remaps come from there,
so `lingnav-bringup` (no ros2 launch needed) starts the same thing.
"""
from dataclasses import fields

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from lingnav_ros.launch_description import PACKAGE, BringupArgs, as_bool, describe, parse_remaps

_DESCRIPTIONS = {
    "mode": "A: S1 (NavDP) on the GPU server over HTTP; B: NavDP on this computer; geometric: no weights",
    "camera": "camera profile in config/cameras: gemini_336l, astra_s, d435, sim",
    "instruction": "instruction to start with (empty: wait for one on the instruction topic)",
    "sim": "also start the LingNav simulator",
    "remaps": "extra topic remaps, from:=to,from2:=to2",
    "rviz": "start RViz with config/lingnav.rviz",
}


def _launch_nodes(context, *_args, **_kwargs):
    raw = {f.name: LaunchConfiguration(f.name).perform(context) for f in fields(BringupArgs)}
    typed = {}
    for f in fields(BringupArgs):
        default = getattr(BringupArgs(), f.name)
        value = raw[f.name]
        if f.name == "remaps":
            typed[f.name] = parse_remaps(value)
        elif isinstance(default, bool):
            typed[f.name] = as_bool(value)
        elif isinstance(default, int):
            typed[f.name] = int(value)
        else:
            typed[f.name] = value
    actions = [
        Node(package=PACKAGE, executable=spec.executable, name=spec.name, namespace=spec.namespace,
             parameters=spec.parameters, remappings=spec.remappings, output="screen")
        for spec in describe(BringupArgs(**typed))
    ]
    if as_bool(LaunchConfiguration("rviz").perform(context)):
        from ament_index_python.packages import get_package_share_directory

        rviz_config = f"{get_package_share_directory(PACKAGE)}/config/lingnav.rviz"
        actions.append(Node(package="rviz2", executable="rviz2", arguments=["-d", rviz_config],
                            parameters=[{"use_sim_time": typed["use_sim_time"] or typed["sim"]}]))
    return actions


def generate_launch_description():
    defaults = BringupArgs()
    args = []
    for f in fields(BringupArgs):
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            text = "true" if default else "false"
        elif f.name == "remaps":
            text = ""
        else:
            text = str(default)
        args.append(DeclareLaunchArgument(f.name, default_value=text,
                                          description=_DESCRIPTIONS.get(f.name, f.name)))
    args.append(DeclareLaunchArgument("rviz", default_value="false", description=_DESCRIPTIONS["rviz"]))
    return LaunchDescription([*args, OpaqueFunction(function=_launch_nodes)])
