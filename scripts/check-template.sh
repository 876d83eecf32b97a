#!/usr/bin/env bash
# cfn-lint (from PyPI, in .local/venv), and template.yaml's tables against the store.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/venv
if [ ! -x "$venv/bin/cfn-lint" ]; then
  echo "Installing cfn-lint into $venv…" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check cfn-lint
fi
cargo run --quiet -p eventctl -- tables schema | "$venv/bin/python" scripts/check-template.py template.yaml
"$venv/bin/cfn-lint" template.yaml
echo "cfn-lint: template.yaml passes"
