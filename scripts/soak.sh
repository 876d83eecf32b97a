#!/usr/bin/env bash
# `make soak`: the soak test for SOAK_SECONDS (600), then the alert model for
# ALERT_MODEL_CASES (500) sequences, on their own DynamoDB Local; prints the figures
# (deliveries, faults, acknowledged, stored, lost, duplicated; the model's seed, cases
# and failures, each with the line that replays it).
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS="${SOAK_SECONDS:-600}" ALERT_MODEL_CASES="${ALERT_MODEL_CASES:-500}" \
  exec scripts/with-dynamodb-local.sh sh -c '
    status=0
    cargo test -p e2e --test soak -- --nocapture || status=1
    cargo test -p e2e --test alert_model -- --nocapture || status=1
    exit $status'
