#!/usr/bin/env bash
# Create .venv (if missing) and install sdl-theory into it.
#   bash scripts/setup.sh          # the toolkit
#   bash scripts/setup.sh --test   # the toolkit plus test/notebook extras
# torch is pinned to the CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
# Set SDL_TORCH to choose another torch requirement (e.g. SDL_TORCH="torch==2.14.1" for CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check "${SDL_TORCH:-torch==2.13.0}" -e ".${extras}"
