#!/usr/bin/env bash
# Installs the named Python tools (from PyPI) into the project's tool directory,
# .local/venv, unless they are there already: cfn-lint, sam (aws-sam-cli).
#   scripts/python-tools.sh cfn-lint sam
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/venv
for tool in "$@"; do
  case "$tool" in
    cfn-lint) package=cfn-lint ;;
    sam) package=aws-sam-cli ;;
    *) echo "python-tools.sh: unknown tool $tool" >&2; exit 2 ;;
  esac
  if [ ! -x "$venv/bin/$tool" ]; then
    echo "Installing $package (PyPI) into $venv…" >&2
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package"
  fi
done
