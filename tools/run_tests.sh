#!/usr/bin/env bash
# Lint, type-check and test samurai_tracker inside the environment made by tools/bootstrap.sh.
# Called by `bash tools/bootstrap.sh test [pytest args]`; extra arguments go to pytest.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SAMURAI_VENV:-$ROOT/.venv}"
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
failed=()
section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

CODE=(samurai_tracker samurai_fusion)
ALL_PY=("${CODE[@]}" test benchmarks launch tools)

section "flake8 (ament style, 99 columns)"
flake8 "${ALL_PY[@]}" || failed+=(flake8)

section "pep257 docstrings (numpy convention)"
pydocstyle "${CODE[@]}" || failed+=(pep257)
# Tests, benchmarks and launch files follow ament_pep257's defaults: docstrings that exist
# are checked, missing ones are allowed.
pydocstyle --convention=numpy --add-ignore=D100,D101,D102,D103,D104,D105,D106,D107 \
  test benchmarks launch tools || failed+=(pep257-tests)

section "xmllint"
if command -v xmllint >/dev/null; then
  xmllint --noout package.xml samurai_interfaces/package.xml \
    tools/ros_compat/vision_msgs/package.xml || failed+=(xmllint)
else
  echo "xmllint not installed: skipped (apt-get install libxml2-utils)"
fi

section "mypy"
mypy "${CODE[@]}" || failed+=(mypy)

section "pytest"
python -m pytest "$@"
code=$?
# pytest exits 5 when it collected no test: that is a failure of the suite, not a pass.
[[ $code -eq 0 ]] || failed+=("pytest(exit $code)")

section "summary"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all checks passed"
