#!/usr/bin/env bash
# `make soak`: the soak test for SOAK_SECONDS (600), then the alert model for
# ALERT_MODEL_CASES (500) sequences, each on its own DynamoDB Local; prints the figures
# (deliveries, faults, acknowledged, stored, lost, duplicated; the model's seed, cases
# and failures, each with the line that replays it). Then the rollups' isolation soak for
# ROLLUP_SOAK_SECONDS (as long as SOAK_SECONDS).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
SOAK_SECONDS="${SOAK_SECONDS:-600}" scripts/with-dynamodb-local.sh \
  cargo test -p e2e --test soak -- --nocapture || status=1
ALERT_MODEL_CASES="${ALERT_MODEL_CASES:-500}" scripts/with-dynamodb-local.sh \
  cargo test -p e2e --test alert_model -- --nocapture || status=1
# A hostile domain's free text beside a victim while the consumer follows the stream.
ROLLUP_SOAK_SECONDS="${ROLLUP_SOAK_SECONDS:-${SOAK_SECONDS:-600}}" scripts/with-dynamodb-local.sh \
  cargo test -p e2e --test rollups_honest -- --nocapture a_hostile_writer_beside || status=1
exit $status
