#!/usr/bin/env bash
# Runs a command with DynamoDB Local up on DYNAMODB_TEST_PORT (8100) and the AWS settings
# that point the SDK at it; stops it afterwards. For `make bench` and `make soak`.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${DYNAMODB_TEST_PORT:-8100}"
DYNAMODB_PORT="$port" scripts/dynamodb-local.sh start
trap 'DYNAMODB_PORT="$port" scripts/dynamodb-local.sh stop' EXIT
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
"$@"
