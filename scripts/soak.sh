#!/usr/bin/env bash
# `make soak`: the soak test for SOAK_SECONDS (600), on its own DynamoDB Local; prints
# the figures (deliveries, faults, acknowledged, stored, lost, duplicated). Then the
# rollups' isolation soak for ROLLUP_SOAK_SECONDS (as long).
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS="${SOAK_SECONDS:-600}" scripts/with-dynamodb-local.sh \
  cargo test -p e2e --test soak -- --nocapture
# A hostile domain's free text beside a victim while the consumer follows the stream.
ROLLUP_SOAK_SECONDS="${ROLLUP_SOAK_SECONDS:-${SOAK_SECONDS:-600}}" exec scripts/with-dynamodb-local.sh \
  cargo test -p e2e --test rollups_honest -- --nocapture a_hostile_writer_beside
