#!/usr/bin/env bash
# Huawei Cloud's official Python SDKs (huaweicloudsdkces, huaweicloudsdkaom, PyPI, into
# .local/venv) against the local stack, on a DynamoDB Local of its own: stores a Cloud
# Eye and an AOM delivery through webhooks, then runs tests/huawei_sdk/sdk_calls.py.
# Part of `make test`.
#   DYNAMODB_HUAWEI_PORT (8102), HUAWEI_SDK_PORT (3102): the ports it starts things on.
set -euo pipefail
cd "$(dirname "$0")/.."
dynamodb_port="${DYNAMODB_HUAWEI_PORT:-8102}"
port="${HUAWEI_SDK_PORT:-3102}"
venv=.local/venv
sdk_version=3.1.219
state=.local
mkdir -p "$state"

if ! "$venv/bin/python" -c "import importlib.metadata as m, sys
sys.exit(any(m.version(p) != '$sdk_version' for p in ('huaweicloudsdkces', 'huaweicloudsdkaom')))" 2>/dev/null; then
  echo "Installing huaweicloudsdkces and huaweicloudsdkaom $sdk_version (PyPI) into $venv…" >&2
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "huaweicloudsdkces==$sdk_version" "huaweicloudsdkaom==$sdk_version"
fi

# shellcheck source=scripts/local-stack.sh
. scripts/local-stack.sh

"$eventctl" tables create >/dev/null
project=project-huawei-sdk
"$eventctl" serve --addr "127.0.0.1:$port" >"$state/huawei-sdk-server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/openapi.json" && break
  sleep 0.1
done

# One webhook per format in the project; an event of another domain's project stays
# out of every answer.
deliver() { # format project domain fixture
  local hook id key
  hook="$("$eventctl" --output json webhook create --name "sdk-$1" --format "$1" \
    --domain-id "$3" --project-id "$2")"
  read -r id key < <(echo "$hook" | "$venv/bin/python" -c \
    'import json, sys; w = json.load(sys.stdin); print(w["webhook_id"], w["access_key"])')
  # Reported now: the AOM query's time_range selects an event by its own time.
  "$venv/bin/python" -c 'import json, sys, time
body, now = json.load(open(sys.argv[1])), int(time.time() * 1000)
for i, item in enumerate(body if isinstance(body, list) else body["events"]):
    item["time" if "time" in item else "starts_at"] = now - 60000 + 20 * i
print(json.dumps(body))' "$4" |
    curl -fsS -o /dev/null -H 'content-type: application/json' --data-binary @- \
      "http://127.0.0.1:$port/monitoring/v1/webhook/$id/$key/events"
}
deliver cloud_eye "$project" domain-huawei-sdk tests/fixtures/cloud_eye/report-two.json
deliver aom "$project" domain-huawei-sdk tests/fixtures/aom/report-alarm.json
deliver cloud_eye project-other domain-other tests/fixtures/cloud_eye/report-two.json

"$venv/bin/python" tests/huawei_sdk/sdk_calls.py "http://127.0.0.1:$port" "$project" project-unknown
