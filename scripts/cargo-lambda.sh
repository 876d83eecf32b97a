#!/usr/bin/env bash
# `cargo lambda …`, installing cargo-lambda and zig (both from PyPI) into .local/venv
# first when cargo-lambda is not on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/venv
if ! command -v cargo-lambda >/dev/null 2>&1 && [ ! -x "$venv/bin/cargo-lambda" ]; then
  echo "Installing cargo-lambda and zig (PyPI) into $venv…" >&2
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check cargo-lambda ziglang
fi
PATH="$PWD/$venv/bin:$PATH" exec cargo lambda "$@"
