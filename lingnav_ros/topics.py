"""Default topic and frame names: the one place they are spelled.

Robot topics are relative, as Nav2's are: a node started in namespace `robot1` reads
`/robot1/odom` and writes `/robot1/cmd_vel`, so two robots on one graph never share a topic, and
a remap (`cmd_vel:=/base/cmd_vel`) still applies. Only graph-wide names stay absolute: the
simulated clock, TF (remap `/tf:=tf` for namespaced TF trees, as Nav2 does), diagnostics and
the fleet's shared poses.

Renaming goes through remaps (`--ros-args -r cmd_vel:=/base/cmd_vel`, the launch's `remaps`
argument), the ROS way, for every topic but five, which are also navigator parameters, and
for a reason each: the camera topics (rgb, rgb compressed, depth, camera info) are set by the
camera profiles in config/cameras, and a parameter file can carry parameters but no remaps
(Nav2 nodes take their sensor topics as parameters for the same reason); the Navigate action
lives on a companion node that ignores the process's remaps (see nodes/navigator/action.py),
so `navigate_action` is the only way to rename it. Everything else is only ever renamed by a
remap, so there is one way to do it.

The launch description and the simulator import these names, and the README's table is
written from them.
"""

# Sensor inputs (defaults of the navigator's *_topic parameters; camera profiles set them)
RGB = "camera/color/image_raw"
RGB_COMPRESSED = "camera/color/image_raw/compressed"
DEPTH = "camera/depth/image_raw"
CAMERA_INFO = "camera/color/camera_info"
# Where the camera sits on the base (geometry_msgs/TransformStamped, base <- optical, latched):
# the simulator's mount for graphs without tf2_msgs; TF wins wherever it exists.
CAMERA_MOUNT = "camera/mount"
ODOM = "odom"
CLOCK = "/clock"
TF = "/tf"
TF_STATIC = "/tf_static"

# Commands in
INSTRUCTION = "lingnav/instruction"
ESTOP = "lingnav/estop"
NAVIGATE_ACTION = "lingnav/navigate"
CLEAR_OBJECTS = "lingnav/clear_objects"  # service (std_srvs/Trigger): forget the remembered objects

# Outputs
CMD_VEL = "cmd_vel"
STATUS = "lingnav/status"
S2_RESULT = "lingnav/s2_result"
PLAN_PATH = "lingnav/plan"
CANDIDATES = "lingnav/candidates"
CANDIDATE_MARKERS = "lingnav/candidate_markers"
TARGET_MARKER = "lingnav/target_marker"
DEBUG_IMAGE = "lingnav/debug_image"
# What a diagnosis reads from a bag (lingnav-diagnose): safety interventions, S1 answers as the
# planner gave them, and where the time went from an image to its first cmd_vel.
SAFETY_EVENTS = "lingnav/safety_events"
S1_ANSWER = "lingnav/s1_answer"
STAGE_TIMES = "lingnav/stage_times"
LOCAL_MAP = "lingnav/local_map"
DIAGNOSTICS = "/diagnostics"
STATUS_MARKER = "lingnav/status_marker"  # the status as a text marker over the robot, for RViz

# Fleet (nav_msgs/Odometry in the parameter fleet_frame, child_frame_id naming the robot): every
# robot of a fleet publishes its pose here and reads the others'. Graph-wide, so absolute: robots
# in their own namespaces must meet on it (see perception/fleet_peers.py).
FLEET = "/lingnav/fleet"

# Services
CHECK_MOUNT = "lingnav/check_mount"  # std_srvs/Trigger: fit the floor in depth, compare with the mount

# Simulator ground truth (not used by the navigator)
SIM_STATE = "sim/state"
SIM_WORLD = "sim/world"  # latched: the objects and which one is the target

# Frames
ODOM_FRAME = "odom"
BASE_FRAME = "base_link"
CAMERA_FRAME = "camera_link"
CAMERA_OPTICAL_FRAME = "camera_color_optical_frame"
