#!/usr/bin/env bash
# `make soak`: the soak test for SOAK_SECONDS (600), on its own DynamoDB Local; prints
# the figures (deliveries, faults, acknowledged, stored, lost, duplicated).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${DYNAMODB_TEST_PORT:-8100}"
DYNAMODB_PORT="$port" scripts/dynamodb-local.sh start
trap 'DYNAMODB_PORT="$port" scripts/dynamodb-local.sh stop' EXIT
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
SOAK_SECONDS="${SOAK_SECONDS:-600}" cargo test -p e2e --test soak -- --nocapture
