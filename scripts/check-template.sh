#!/usr/bin/env bash
# template.yaml's tables against the store and its throttle alarms against its indexes
# (scripts/check-template.py), cfn-lint, and `sam validate --lint` (SAM CLI's own run of
# cfn-lint over the template as SAM transforms it). The tools come from PyPI into
# .local/venv. None of it needs AWS credentials; SAM is given a region.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/venv
scripts/python-tools.sh cfn-lint sam
cargo run --quiet -p eventctl -- tables schema | "$venv/bin/python" scripts/check-template.py template.yaml
"$venv/bin/cfn-lint" template.yaml
echo "cfn-lint: template.yaml passes"
SAM_CLI_TELEMETRY=0 AWS_REGION="${AWS_REGION:-us-east-1}" "$venv/bin/sam" validate --lint --template template.yaml
