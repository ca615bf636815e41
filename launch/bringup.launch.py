"""ros2 launch lingnav bringup.launch.py mode:=A|B|geometric [sim:=true namespace:=robot1 ...]

Thin over lingnav_ros.launch_description: the node set, parameters and remaps come from there,
so `lingnav-bringup` (no ros2 launch needed) starts the same thing. `ros2 launch lingnav
bringup.launch.py --show-args` lists every argument; one left unset passes nothing, so the
navigator keeps the value in config/mode_*.yaml.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from lingnav_ros.launch_description import PACKAGE, BringupArgs, argument_specs, describe, namespace_remaps


def _launch_nodes(context, *_args, **_kwargs):
    """Runs once the arguments are known; a bad argument stops the launch with its reason."""
    values = {spec.name: LaunchConfiguration(spec.name).perform(context) for spec in argument_specs()}
    args = BringupArgs.from_strings(values)
    actions = [
        Node(package=PACKAGE, executable=spec.executable, name=spec.name, namespace=spec.namespace,
             parameters=spec.parameters, remappings=spec.remappings, output="screen")
        for spec in describe(args)
    ]
    if args.rviz:
        from ament_index_python.packages import get_package_share_directory

        rviz_config = f"{get_package_share_directory(PACKAGE)}/config/lingnav.rviz"
        sim_time = args.sim if args.use_sim_time is None else args.use_sim_time
        fixed_frame = ["-f", args.odom_frame] if args.odom_frame else []  # the config's is `odom`
        actions.append(Node(package="rviz2", executable="rviz2", namespace=args.namespace,
                            arguments=["-d", rviz_config, *fixed_frame], remappings=namespace_remaps(args),
                            parameters=[{"use_sim_time": sim_time}]))
    return actions


def generate_launch_description():
    declared = [
        DeclareLaunchArgument(spec.name, default_value=spec.default, description=spec.description,
                              **({"choices": list(spec.choices)} if spec.choices else {}))
        for spec in argument_specs()
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=_launch_nodes)])
