#!/usr/bin/env bash
# `make contract`: schemathesis (PyPI, into .local/venv) against the local stack, on a
# DynamoDB Local of its own, with contract/schemathesis.toml. Fails on any 5xx and on
# any response docs/openapi.json does not allow.
#   DYNAMODB_CONTRACT_PORT (8101), CONTRACT_PORT (3100): the ports it starts things on.
set -euo pipefail
cd "$(dirname "$0")/.."
dynamodb_port="${DYNAMODB_CONTRACT_PORT:-8101}"
port="${CONTRACT_PORT:-3100}"
venv=.local/venv
config=contract/schemathesis.toml
schemathesis_version=4.32.5
state=.local
mkdir -p "$state"

if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $schemathesis_version" ]; then
  echo "Installing schemathesis $schemathesis_version into $venv…" >&2
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "schemathesis $schemathesis_version needs Python 3.11 or later" >&2; exit 1; }
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

# shellcheck source=scripts/local-stack.sh
. scripts/local-stack.sh

# The webhook every generated create call posts to, in the domain the config's
# dictionary gives to reads, so that list and get find what create stored.
"$eventctl" tables create >/dev/null
domain="$("$venv/bin/python" -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb"))["dictionaries"]["domain"]["values"][0])' "$config")"
webhook="$("$eventctl" --output json webhook create --name contract --format auto \
  --domain-id "$domain" --project-id project-contract)"
read -r CONTRACT_WEBHOOK_ID CONTRACT_ACCESS_KEY < <(echo "$webhook" | "$venv/bin/python" -c \
  'import json, sys; w = json.load(sys.stdin); print(w["webhook_id"], w["access_key"])')
export CONTRACT_WEBHOOK_ID CONTRACT_ACCESS_KEY
# The webhooks the Webhook API's operations name, not the one create posts to: one the
# run may disable, change and rotate, and one it deletes.
admin_webhook() {
  "$eventctl" --output json webhook create --name "$1" --format standard --domain-id "$domain" \
    --project-id project-contract | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["webhook_id"])'
}
CONTRACT_ADMIN_WEBHOOK_ID="$(admin_webhook contract-admin)"
CONTRACT_DELETED_WEBHOOK_ID="$(admin_webhook contract-deleted)"
export CONTRACT_ADMIN_WEBHOOK_ID CONTRACT_DELETED_WEBHOOK_ID

"$eventctl" serve --addr "127.0.0.1:$port" >"$state/contract-server.log" 2>&1 &
server=$!

# The event rules the EventRule API's operations name: one they may change and move, one
# the deletes delete (made through the API itself, once the server answers).
event_rule() {
  "$venv/bin/python" - "http://127.0.0.1:$port/monitoring/v1/event-rule/create" "$domain" "$1" <<'PY'
import json, sys, time, urllib.request
url, domain, name = sys.argv[1:]
body = json.dumps({"name": name, "conditions_policy": "ALWAYS", "resource_group": "WORKSPACE",
                   "actions": {"add_additional_info": {"contract": "yes"}}, "domain_id": domain}).encode()
for _ in range(60):
    try:
        answer = urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}))
        print(json.load(answer)["event_rule_id"])
        break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(f"{url} did not answer")
PY
}
CONTRACT_EVENT_RULE_ID="$(event_rule contract-rule)"
CONTRACT_DELETED_EVENT_RULE_ID="$(event_rule contract-rule-deleted)"
export CONTRACT_EVENT_RULE_ID CONTRACT_DELETED_EVENT_RULE_ID

report="$state/contract-report"
rm -rf "$report"
status=0
"$venv/bin/schemathesis" --config-file "$config" run "http://127.0.0.1:$port/openapi.json" \
  --wait-for-schema 30 --workers 1 --no-color --report json --report-dir "$report" || status=$?
"$venv/bin/python" - "$report"/*.json <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
ops, cases = run["operations"], run["test_cases"]
print(f"contract: {cases['generated']} cases on {ops['tested']}/{ops['total']} operations, "
      f"{cases['with_failures']} with failures ({cases['unique_failures']} unique), "
      f"{len(run['errors'])} errors, seed {run['seed']}")
EOF
exit "$status"
