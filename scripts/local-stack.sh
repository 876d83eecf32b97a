# Sourced by the scripts that run a client against the local stack (contract.sh,
# huawei-sdk.sh): builds eventctl into $eventctl, starts a DynamoDB Local of their own on
# $dynamodb_port and stops it (and the server whose pid they put in $server) on exit,
# and points the AWS SDK at it. Expects $dynamodb_port and $venv (for its Python).
cargo build --quiet -p eventctl
eventctl="$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c \
  'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/eventctl"

server=""
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  DYNAMODB_PORT="$dynamodb_port" scripts/dynamodb-local.sh stop
}
trap stop EXIT
DYNAMODB_PORT="$dynamodb_port" scripts/dynamodb-local.sh start
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dynamodb_port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export RUST_LOG="${RUST_LOG:-warn}"
# Huawei's ingestion paths derive each webhook's secret key from it; local only.
export HUAWEI_SIGNING_SECRET="${HUAWEI_SIGNING_SECRET:-local-stack-signing-secret-not-for-deployment}"
