#!/usr/bin/env bash
# The web console in a real browser: Debian's chromium (installed if missing, as
# scripts/test.sh installs prometheus-alertmanager), driven by playwright-core and
# checked with axe-core (npm, pinned in package.json, installed by `npm ci` if missing),
# against `eventctl serve --demo` on a DynamoDB Local of its own. Runs
# tests/browser/console.mjs; its screenshots go to .local/console-screenshots. Part of
# `make test`.
#   DYNAMODB_CONSOLE_PORT (8103), CONSOLE_PORT (3103): the ports it starts things on.
set -euo pipefail
cd "$(dirname "$0")/.."
dynamodb_port="${DYNAMODB_CONSOLE_PORT:-8103}"
port="${CONSOLE_PORT:-3103}"
venv=.local/venv
state=.local
screenshots="$state/console-screenshots"
domain=domain-58010aa2e451
mkdir -p "$state"

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing chromium (Debian)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
  echo "Installing playwright-core and axe-core (npm, package-lock.json)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
# local-stack.sh reads cargo's metadata with the project's Python.
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"

# shellcheck source=scripts/local-stack.sh
. scripts/local-stack.sh

# --demo makes the tables, the demo webhook and its events (one alert open).
"$eventctl" serve --addr "127.0.0.1:$port" --demo >"$state/console-server.log" 2>&1 &
server=$!
for _ in $(seq 300); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/console" && break
  sleep 0.1
done

rm -rf "$screenshots"
node tests/browser/console.mjs "http://127.0.0.1:$port" "$domain" "$screenshots"
