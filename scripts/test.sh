#!/usr/bin/env bash
# `make test`: starts DynamoDB Local for the run, runs every test, the contract run
# (scripts/contract.sh), Huawei's SDKs against the local stack (scripts/huawei-sdk.sh) and
# the web console in headless chromium (scripts/console-browser.sh), checks the template.
# Installs what tests need first: Debian's Alertmanager, and moto (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${DYNAMODB_TEST_PORT:-8100}"
# The end-to-end test of the real sender needs Debian's Alertmanager.
if ! command -v prometheus-alertmanager >/dev/null 2>&1; then
  echo "Installing prometheus-alertmanager (Debian)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null
fi
# The tables-create guard's stack half needs tags, which DynamoDB Local lacks: moto.
scripts/python-tools.sh moto_server
DYNAMODB_PORT="$port" scripts/dynamodb-local.sh start
trap 'DYNAMODB_PORT="$port" scripts/dynamodb-local.sh stop' EXIT
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
cargo test --workspace
scripts/contract.sh
scripts/huawei-sdk.sh
scripts/console-browser.sh
scripts/check-template.sh
