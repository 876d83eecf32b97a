//! How a command fails: one line on stderr that says what to do, and an exit code.
//! The SDK's error chain (endpoints, dispatch failures) is for `RUST_LOG=debug`, not
//! for the operator's first look.

use event_core::config::Tables;
use event_core::Error;

/// The exit codes, documented in `eventctl --help` (main.rs) and the README.
pub const FAILED: i32 = 1;
pub const USAGE: i32 = 2;
pub const NOT_FOUND: i32 = 3;

#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: i32,
    /// The whole story, for the log at debug level.
    pub cause: Option<Error>,
}

impl Failure {
    /// The line an error prints, given the tables and endpoint the command used.
    pub fn explain(err: Error, tables: &Tables, endpoint: Option<&str>) -> Failure {
        let text = err.to_string();
        let (message, code) = match &err {
            Error::InvalidArgument(_) | Error::RequiredParameter(_) => (text.clone(), USAGE),
            Error::NotFound { .. } => (text.clone(), NOT_FOUND),
            Error::StorageUnavailable(cause) | Error::Internal(cause) => {
                (storage(cause, tables, endpoint), FAILED)
            }
            _ => (err.public_message(), FAILED),
        };
        Failure { message, code, cause: Some(err) }
    }
}

impl From<Error> for Failure {
    /// Before the configuration is known (its own errors), with the default table names.
    fn from(err: Error) -> Failure {
        Failure::explain(err, &event_core::config::Config::default().tables, None)
    }
}

/// What to do about a storage failure, recognised from the SDK's words.
fn storage(cause: &str, tables: &Tables, endpoint: Option<&str>) -> String {
    let has = |words: &[&str]| words.iter().any(|w| cause.contains(w));
    if has(&["ResourceNotFoundException", "non-existent table", "Requested resource not found"]) {
        return format!(
            "a table is missing (events: {}, webhooks: {}, alerts: {}, rollups: {}). On DynamoDB Local run \
             `eventctl tables create`; for a deployed stack set EVENTS_TABLE, WEBHOOKS_TABLE, ALERTS_TABLE \
             and ROLLUPS_TABLE to its table names (README, \"After deploying\")",
            tables.events, tables.webhooks, tables.alerts, tables.rollups
        );
    }
    if has(&["credentials", "Credentials", "credential provider"]) {
        return "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                (any values for DynamoDB Local)"
            .into();
    }
    if has(&["region", "Region"]) && has(&["missing", "not set", "No region", "resolve"]) {
        return "no AWS region: set AWS_REGION (e.g. us-east-1)".into();
    }
    if has(&["UnrecognizedClientException", "InvalidSignatureException", "security token", "AccessDenied"]) {
        return "AWS refused the credentials or their permissions: check AWS_PROFILE or the access keys, \
                and that they may read the tables"
            .into();
    }
    if has(&["dispatch failure", "Connection refused", "timed out", "TimeoutError", "dns error"]) {
        let endpoint = endpoint.unwrap_or("AWS's");
        return format!(
            "DynamoDB did not answer (endpoint: {endpoint}): start DynamoDB Local \
             (scripts/dynamodb-local.sh start) or point AWS_ENDPOINT_URL_DYNAMODB at it, or unset it for AWS"
        );
    }
    // The SDK's first words name the failure; the rest (its Debug dump) is for the log.
    let head: String = cause.split(" (").next().unwrap_or(cause).chars().take(200).collect();
    format!("storage failed: {head} (RUST_LOG=eventctl=debug shows the whole answer)")
}
