#!/usr/bin/env bash
# `make soak`: the soak test for SOAK_SECONDS (600), on its own DynamoDB Local; prints
# the figures (deliveries, faults, acknowledged, stored, lost, duplicated).
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS="${SOAK_SECONDS:-600}" exec scripts/with-dynamodb-local.sh \
  cargo test -p e2e --test soak -- --nocapture
