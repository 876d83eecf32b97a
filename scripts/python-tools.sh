#!/usr/bin/env bash
# Installs the named Python tools (from PyPI) into the project's tool directory,
# .local/venv, unless they are there already: cfn-lint, sam (aws-sam-cli); and
# moto_server (moto, an AWS API emulator for the tables-create guard's test, whose
# DynamoDB Local lacks tags) into a venv of its own, .local/moto, as its Flask pins
# need not agree with SAM CLI's.
#   scripts/python-tools.sh cfn-lint sam moto_server
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in "$@"; do
  venv=.local/venv
  case "$tool" in
    cfn-lint) package=cfn-lint ;;
    sam) package=aws-sam-cli ;;
    moto_server) package="moto[server,dynamodb]==5.2.6" venv=.local/moto ;;
    *) echo "python-tools.sh: unknown tool $tool" >&2; exit 2 ;;
  esac
  if [ ! -x "$venv/bin/$tool" ]; then
    echo "Installing $package (PyPI) into $venv…" >&2
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package"
  fi
done
