#!/usr/bin/env bash
# `make deploy`: builds the nine functions with SAM and deploys the stack, installing what
# that needs into the project's tool directory (.local/venv) first: SAM CLI (PyPI
# aws-sam-cli), cargo-lambda and zig (PyPI, through scripts/cargo-lambda.sh) and the
# aarch64 Rust target. Everything up to `sam deploy` runs without AWS credentials;
# `sam deploy --guided` asks for the stack's settings the first time and saves them in
# samconfig.toml.
#   DEPLOY_ARGS  more arguments for `sam deploy` (e.g. --no-confirm-changeset)
#   SKIP_DEPLOY=1  stop after `sam build` (what a machine without credentials can do)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/venv
scripts/python-tools.sh sam
# cargo-lambda and zig: the script installs them on first use.
scripts/cargo-lambda.sh --version >/dev/null
rustup target add aarch64-unknown-linux-gnu >/dev/null
export PATH="$PWD/$venv/bin:$PATH"
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"
started=$SECONDS
sam build
echo "sam build: $((SECONDS - started)) s" >&2
if [ "${SKIP_DEPLOY:-}" = 1 ]; then
  exit 0
fi
# shellcheck disable=SC2086 # DEPLOY_ARGS is a list of arguments
sam deploy --guided ${DEPLOY_ARGS:-}
