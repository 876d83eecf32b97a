# The two commands of the README: `make run` (local stack) and `make test`.
# Both install what they need on a fresh machine (Java, DynamoDB Local, cfn-lint, SAM CLI).

PORT ?= 3000
DYNAMODB_PORT ?= 8000
DYNAMODB_TEST_PORT ?= 8100
DYNAMODB_CONTRACT_PORT ?= 8101
CONTRACT_PORT ?= 3100
DYNAMODB_HUAWEI_PORT ?= 8102
HUAWEI_SDK_PORT ?= 3102
DYNAMODB_CONSOLE_PORT ?= 8103
CONSOLE_PORT ?= 3103
# DynamoDB Local accepts any credentials; these never leave the machine.
LOCAL_AWS = AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
# Huawei's SDKs sign ingestion calls with keys derived from it; the local stack's own.
LOCAL_SIGNING = HUAWEI_SIGNING_SECRET=$${HUAWEI_SIGNING_SECRET:-local-stack-signing-secret-not-for-deployment}

.PHONY: run test console-test contract fuzz soak lint template-check bench build-lambda lambda-smoke deploy clean

## run: DynamoDB Local + every documented route on 127.0.0.1:$(PORT) (and GET /openapi.json, and the console at /console), same handlers as Lambda
run:
	DYNAMODB_PORT=$(DYNAMODB_PORT) scripts/dynamodb-local.sh start
	$(LOCAL_AWS) AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DYNAMODB_PORT) $(LOCAL_SIGNING) \
	  cargo run -p eventctl -- serve --addr 127.0.0.1:$(PORT) --demo

## test: unit tests, end-to-end tests on DynamoDB Local, the contract run, Huawei's SDKs, the console in a browser, template checks
test:
	DYNAMODB_TEST_PORT=$(DYNAMODB_TEST_PORT) DYNAMODB_CONTRACT_PORT=$(DYNAMODB_CONTRACT_PORT) \
	  CONTRACT_PORT=$(CONTRACT_PORT) DYNAMODB_HUAWEI_PORT=$(DYNAMODB_HUAWEI_PORT) \
	  HUAWEI_SDK_PORT=$(HUAWEI_SDK_PORT) DYNAMODB_CONSOLE_PORT=$(DYNAMODB_CONSOLE_PORT) \
	  CONSOLE_PORT=$(CONSOLE_PORT) scripts/test.sh

## console-test: the web console in headless chromium against the local stack (part of `make test`)
console-test:
	DYNAMODB_CONSOLE_PORT=$(DYNAMODB_CONSOLE_PORT) CONSOLE_PORT=$(CONSOLE_PORT) scripts/console-browser.sh

## contract: schemathesis against the local stack and docs/openapi.json (part of `make test`)
contract:
	DYNAMODB_CONTRACT_PORT=$(DYNAMODB_CONTRACT_PORT) CONTRACT_PORT=$(CONTRACT_PORT) scripts/contract.sh

## fuzz: every parser's fuzz target under libFuzzer, FUZZ_RUNS (1,000,000) inputs each (nightly; not in `make test`)
fuzz:
	scripts/fuzz.sh

## soak: ten minutes of mixed deliveries under random storage faults (SOAK_SECONDS, SOAK_SEED), then 500 alert-model sequences (ALERT_MODEL_CASES, ALERT_MODEL_SEED)
soak:
	DYNAMODB_TEST_PORT=$(DYNAMODB_TEST_PORT) scripts/soak.sh

## lint: formatting and clippy, warnings denied
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## template-check: template.yaml's tables against the store's, its throttle alarms against its indexes, cfn-lint, sam validate --lint
template-check:
	scripts/check-template.sh

## bench: benchmarks (see README for the numbers and what they mean)
bench:
	DYNAMODB_TEST_PORT=$(DYNAMODB_TEST_PORT) scripts/bench.sh

## build-lambda: release binaries for Lambda (arm64), as SAM builds them
build-lambda:
	rustup target add aarch64-unknown-linux-gnu
	scripts/cargo-lambda.sh build --release --arm64

## lambda-smoke: the release bootstraps, run through a Lambda Runtime API emulator on DynamoDB Local
lambda-smoke:
	scripts/lambda-smoke.sh

## deploy: installs SAM CLI and cargo-lambda into .local/venv, `sam build`, then `sam deploy --guided` (needs AWS credentials)
deploy:
	scripts/deploy.sh

clean:
	-DYNAMODB_PORT=$(DYNAMODB_PORT) scripts/dynamodb-local.sh stop
	cargo clean
