#!/usr/bin/env bash
# `make bench`: the benchmarks, each printing a Markdown table (see README).
#   formats   parse + map time per Alertmanager payload (pure, no I/O)
#   capacity  DynamoDB capacity units and latency per create/get
#   query     list/stat latency and read units over 100,000 events (BENCH_EVENTS scales it)
#   rollups   dashboard stats from rollups and from the query path at 10k, 100k and 1M
#             events in one domain, and the rollup consumer's writes per event
#             (BENCH_ROLLUP_EVENTS=10000,100000 for the smaller steps only)
#   rollup_cost  the rollup consumer's write units per event as events arrive in time (sparse, dense)
#   event_rules_cost  what event rules (cached, cold, uncached) and a heartbeat add to a delivery
#   memory    peak heap of the heaviest list and stat requests the query limits allow
#   limits    a 5 MB, 5,000-alert Alertmanager group stored through one API Gateway event
set -euo pipefail
cd "$(dirname "$0")/.."
# With DynamoDB Local up for the whole run (scripts/with-dynamodb-local.sh).
if [ -z "${BENCH_ON_LOCAL:-}" ]; then BENCH_ON_LOCAL=1 exec scripts/with-dynamodb-local.sh "$0" "$@"; fi
cargo bench -p event-core --bench formats
cargo bench -p e2e --bench capacity
cargo bench -p e2e --bench query
cargo bench -p e2e --bench rollups
cargo bench -p e2e --bench rollup_cost
cargo bench -p e2e --bench event_rules_cost
cargo bench -p e2e --bench memory
# A 5 MB, 5,000-alert Alertmanager group through one API Gateway event (docs/benchmarks.md,
# "Big alert groups"), timed in one delivery with a long budget; `make test` runs a 1.5 MB,
# 150-alert one with the default budget.
BIG_GROUP_BUDGET_SECONDS="${BIG_GROUP_BUDGET_SECONDS:-1200}" \
  cargo test --profile bench -p e2e --test limits -- --ignored --nocapture
