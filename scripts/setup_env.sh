#!/usr/bin/env bash
# Builds .venv at the repo root: ROS 2 wheels, Python deps, the project (editable),
# lingnav_msgs installed into the venv prefix, the real ROS 2 launch tools (launch, launch_ros,
# ros2cli, message_filters) from ../shared/ros-tools when that folder exists, and the `lingnav`
# package registered in the venv's ament index (ros2 launch lingnav ...). Idempotent: each step
# is skipped when the inputs it depends on are unchanged (hash stamps in .venv/.lingnav-stamps).
# LINGNAV_ROS_TOOLS=/path/to/ros-tools overrides where the tools are looked for.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
STAMPS="$VENV/.lingnav-stamps"
t0=$(date +%s)

say() { echo "[setup] $*"; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
fresh() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

h=$(hash_of "$ROOT/requirements/ros-wheels.txt" "$ROOT/requirements/python.txt")
if ! fresh deps "$h"; then
  say "installing ROS 2 wheels and Python dependencies"
  "$VPY" -m pip install -q --upgrade pip
  "$VPY" -m pip install -q -r "$ROOT/requirements/ros-wheels.txt" -r "$ROOT/requirements/python.txt"
  mark deps "$h"
fi

h=$(hash_of "$ROOT/setup.py" "$ROOT/setup.cfg")
if ! fresh project "$h" || [ ! -x "$VENV/bin/lingnav-s2-server" ]; then
  say "installing lingnav (editable)"
  "$VPY" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
  mark project "$h"
fi

# Quirk of the ROS PyPI wheels: their exported CMake targets name include dirs of the machine
# they were built on. Point those paths at this interpreter's and numpy's headers.
quirk_py=/opt/python/cp311-cp311/include/python3.11
quirk_np=/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include
py_inc=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_inc=$("$VPY" -c 'import numpy; print(numpy.get_include())')
for pair in "$quirk_py=$py_inc" "$quirk_np=$np_inc"; do
  link=${pair%%=*}; target=${pair#*=}
  if [ ! -e "$link" ]; then
    mkdir -p "$(dirname "$link")" 2>/dev/null && ln -sfn "$target" "$link" \
      || say "WARNING: cannot create $link (needs write access to /opt); interface build may fail"
  fi
done

h=$(cd "$ROOT" && find lingnav_msgs -type f | sort | xargs cat | sha256sum | cut -c1-16)
if ! fresh msgs "$h" || ! "$VPY" -c 'import lingnav_msgs.msg' 2>/dev/null; then
  say "building lingnav_msgs into the venv prefix"
  export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"
  rm -rf "$ROOT/build/lingnav_msgs"; mkdir -p "$ROOT/build"
  cmake -S "$ROOT/lingnav_msgs" -B "$ROOT/build/lingnav_msgs" -DCMAKE_INSTALL_PREFIX="$VENV" \
    -DPython3_EXECUTABLE="$VPY" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release > "$ROOT/build/lingnav_msgs.log" 2>&1 \
    || { tail -40 "$ROOT/build/lingnav_msgs.log"; exit 1; }
  cmake --build "$ROOT/build/lingnav_msgs" -j "$(nproc)" >> "$ROOT/build/lingnav_msgs.log" 2>&1 \
    || { tail -40 "$ROOT/build/lingnav_msgs.log"; exit 1; }
  cmake --install "$ROOT/build/lingnav_msgs" >> "$ROOT/build/lingnav_msgs.log" 2>&1 \
    || { tail -40 "$ROOT/build/lingnav_msgs.log"; exit 1; }
  mark msgs "$h"
fi

"$VPY" -c 'import rclpy, lingnav_msgs.msg, lingnav_msgs.action; from lingnav_msgs.action import Navigate' \
  || { say "ERROR: venv check failed"; exit 1; }

# The real launch/launch_ros/ros2cli/message_filters: not on PyPI; their sources sit beside the
# checkout on CI and development machines. Without them the fallbacks run and the tests that
# need a real library skip, naming it.
ROS_TOOLS="${LINGNAV_ROS_TOOLS:-$ROOT/../shared/ros-tools}"
if [ -f "$ROS_TOOLS/install.sh" ]; then
  bash "$ROS_TOOLS/install.sh" "$VENV" | sed 's/^/[setup] /' || { say "ERROR: ros-tools install failed"; exit 1; }
else
  say "no ros-tools at $ROS_TOOLS: launch, launch_ros, ros2cli and message_filters not installed;"
  say "  the fallbacks run and the tests needing the real tools skip (see README, Tests)"
fi

# `ros2 launch lingnav ...` finds the package through the ament index, like after colcon build.
"$VPY" "$ROOT/scripts/ament_prefix.py" "$VENV" | sed 's/^/[setup] /' \
  || { say "ERROR: ament registration failed"; exit 1; }
say "ready in $(( $(date +%s) - t0 )) s: $VENV"
