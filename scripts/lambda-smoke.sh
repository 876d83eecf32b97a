#!/usr/bin/env bash
# `make lambda-smoke`: the deployable artifacts, run as Lambda runs them.
# Builds the nine functions with cargo-lambda (release, as SAM does), starts cargo-lambda's
# Lambda Runtime API emulator and DynamoDB Local, then starts each `bootstrap` against the
# emulator and invokes it with the console samples in events/: the seven HTTP functions
# with REST v1 and HTTP API v2 events, rollup with a DynamoDB Streams batch, sweep with
# an EventBridge scheduled event.
#   LAMBDA_ARCH  x86-64 (default) or arm64, the template's architecture: adds the aarch64
#                Rust target, and on a non-arm64 machine runs the bootstraps under
#                qemu-aarch64 (Debian's qemu-user and libc6-arm64-cross, installed if
#                missing); peak RSS is then the emulator's, not the function's alone
#   DYNAMODB_SMOKE_PORT (8300), RUNTIME_PORT (9300)
set -euo pipefail
cd "$(dirname "$0")/.."
arch="${LAMBDA_ARCH:-x86-64}"
db_port="${DYNAMODB_SMOKE_PORT:-8300}"
rt_port="${RUNTIME_PORT:-9300}"
work=.local/lambda-smoke
mkdir -p "$work"


runner=()
if [ "$arch" = arm64 ]; then
  rustup target add aarch64-unknown-linux-gnu >/dev/null
  if [ "$(uname -m)" != aarch64 ]; then
    if ! command -v qemu-aarch64 >/dev/null 2>&1 || [ ! -e /usr/aarch64-linux-gnu/lib/libc.so.6 ]; then
      echo "Installing qemu-user and libc6-arm64-cross (Debian) to run arm64 binaries…" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        qemu-user libc6-arm64-cross >/dev/null
    fi
    runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
  fi
fi

scripts/cargo-lambda.sh build --release "--$arch" -p event-create -p event-get -p event-list -p event-stat \
  -p event-alerts -p event-webhooks -p event-event-rules -p event-rollup -p event-sweep
cargo build --quiet -p eventctl

export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$db_port"
DYNAMODB_PORT="$db_port" scripts/dynamodb-local.sh start
scripts/cargo-lambda.sh watch --only-lambda-apis --invoke-port "$rt_port" >"$work/runtime.log" 2>&1 &
runtime_pid=$!
function_pid=""
cleanup() {
  [ -n "$function_pid" ] && kill "$function_pid" 2>/dev/null
  kill "$runtime_pid" 2>/dev/null
  DYNAMODB_PORT="$db_port" scripts/dynamodb-local.sh stop
}
trap cleanup EXIT

eventctl=target/debug/eventctl
"$eventctl" tables create >/dev/null
"$eventctl" --output json webhook create --name lambda-smoke --format standard \
  --domain-id domain-58010aa2e451 --project-id project-18655561c535 >"$work/webhook.json"
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
webhook_id="$(field "$work/webhook.json" webhook_id)"
access_key="$(field "$work/webhook.json" access_key)"

export AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$rt_port/.rt" AWS_LAMBDA_FUNCTION_NAME=_
export AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$rt_port") 2>/dev/null && break; sleep 0.2; done

failures=0
# invoke FUNCTION EVENT_FILE EXPECTED: one cold start and one invocation; prints the
# function process's peak resident memory. EXPECTED is the HTTP status for the API
# functions, and for the others `key=value`: one field of the answer, as compact JSON.
invoke() {
  local function="$1" event="$2" expected="$3" out status peak
  "${runner[@]}" "target/lambda/$function/bootstrap" >"$work/$function.log" 2>&1 &
  function_pid=$!
  out="$(scripts/cargo-lambda.sh invoke --invoke-port "$rt_port" --data-file "$event" _)"
  peak="$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$function_pid/status")"
  kill "$function_pid" 2>/dev/null; wait "$function_pid" 2>/dev/null || true; function_pid=""
  status="$(printf '%s' "$out" | python3 -c 'import json,sys
answer, key = json.load(sys.stdin), sys.argv[1].partition("=")[0]
print(answer["statusCode"] if "statusCode" in answer else key + "=" + json.dumps(answer.get(key), separators=(",", ":")))' "$expected")"
  if [ "$status" = "$expected" ]; then
    echo "ok    $function $(basename "$event"): $status, peak RSS $peak"
  else
    echo "FAIL  $function $(basename "$event"): $status, expected $expected: $out"
    failures=$((failures + 1))
  fi
  printf '%s' "$out" >"$work/last-response.json"
}

for version in rest http; do
  sed -e "s/webhook-ff9e2eda678a/$webhook_id/g" -e "s/REPLACE-WITH-ACCESS-KEY/$access_key/g" \
    "events/create.$version.json" >"$work/create.$version.json"
  sed -e "s/webhook-ff9e2eda678a/$webhook_id/g" -e "s/REPLACE-WITH-ACCESS-KEY/not-the-key/g" \
    "events/create.$version.json" >"$work/create-wrong-key.$version.json"
  invoke create "$work/create.$version.json" 200
  invoke create "$work/create-wrong-key.$version.json" 403
  invoke list "events/list.$version.json" 200
  event_id="$(python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["body"])["results"][0]["event_id"])' <"$work/last-response.json")"
  sed -e "s/event-4e16ba3bd384/$event_id/g" "events/get.$version.json" >"$work/get.$version.json"
  invoke get "$work/get.$version.json" 200
  alert_id="$(python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["body"])["alert_id"])' <"$work/last-response.json")"
  invoke stat "events/stat.$version.json" 200
  sed -e "s/alert-3f1c2a9b7d10/$alert_id/g" "events/alerts.$version.json" >"$work/alerts.$version.json"
  invoke alerts "$work/alerts.$version.json" 200
  sed -e "s/webhook-4e16ba3bd384/$webhook_id/g" "events/webhooks.$version.json" >"$work/webhooks.$version.json"
  invoke webhooks "$work/webhooks.$version.json" 200
  invoke event_rules "events/event_rules.$version.json" 200
done

invoke rollup events/rollup.json 'batchItemFailures=[]'
invoke sweep events/sweep.json 'resolved=0'

ls -l target/lambda/{create,get,list,stat,alerts,webhooks,event_rules,rollup,sweep}/bootstrap
if [ "$failures" -gt 0 ]; then echo "$failures invocation(s) failed; logs in $work/" >&2; exit 1; fi
echo "every function answered through the Lambda Runtime API"
