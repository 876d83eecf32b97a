//! The one error type of the service. Every variant knows its SpaceONE error code and
//! HTTP status; `api::response` renders it as `{"error": {code, message, status}}`.
//!
//! Two texts per error: `Display` is the whole story, for the log line (an SDK's error
//! chain, a storage endpoint); [`Error::public_message`] is what a response body says,
//! what happened and whether to retry, never how the service is built.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// A request value is malformed or out of range (400 `ERROR_INVALID_ARGUMENT`).
    #[error("{0}")]
    InvalidArgument(String),
    /// A required request value is missing (400 `ERROR_REQUIRED_PARAMETER`).
    #[error("Required parameter. (key = {0})")]
    RequiredParameter(String),
    /// The webhook exists but is disabled (400 `ERROR_WEBHOOK_STATE_DISABLED`).
    #[error("Webhook is disabled. (webhook_id = {0})")]
    WebhookDisabled(String),
    /// The request carries no credential, or one that does not check: unsigned, or
    /// signed with another key or too long ago (401 `ERROR_AUTHENTICATE_FAILURE`).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this (403 `ERROR_PERMISSION_DENIED`).
    #[error("{0}")]
    PermissionDenied(String),
    /// No such resource in the caller's domain (404 `ERROR_NOT_FOUND`).
    #[error("Resource not found. ({key} = {value})")]
    NotFound { key: &'static str, value: String },
    /// The route exists, the method does not (405 `ERROR_METHOD_NOT_ALLOWED`); `allow`
    /// is the method it takes, for the `Allow` header RFC 9110 requires on a 405.
    #[error("{message}")]
    MethodNotAllowed { message: String, allow: String },
    /// The resource already exists (409 `ERROR_CONFLICT`); only administration creates
    /// resources with a caller's id, so no sender ever sees it.
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than the service accepts (413 `ERROR_PAYLOAD_TOO_LARGE`).
    #[error("Request body is {size} bytes; the limit is {limit} bytes.")]
    PayloadTooLarge { size: usize, limit: usize },
    /// DynamoDB throttled us after the SDK's own retries (503 `ERROR_THROTTLED`). Never a
    /// 4xx, "too many requests" included: SNS drops a message on any 4xx and Alertmanager
    /// waits for its next flush.
    #[error("Storage is throttling requests; retry later.")]
    Throttled,
    /// The webhook's own rate limit is used up for this minute (503
    /// `ERROR_RATE_LIMITED`, with `Retry-After` until the next minute): a 503, never
    /// "too many requests", so senders retry it.
    #[error("This webhook accepts at most {per_minute} deliveries a minute; retry in {retry_after} s.")]
    RateLimited { per_minute: u32, retry_after: u32 },
    /// Another delivery is changing the same thing right now: the same change being
    /// stored, or the same alert key being opened and resolved (503
    /// `ERROR_IN_PROGRESS`). A retry a moment later finds it settled.
    #[error("{0}")]
    InProgress(String),
    /// Storage could not be reached or failed transiently (503 `ERROR_STORAGE_UNAVAILABLE`).
    /// The text is the cause, for the log line only: it names endpoints and SDK internals.
    #[error("Storage is unavailable: {0}")]
    StorageUnavailable(String),
    /// A service the request depends on, other than storage, could not be reached (503
    /// `ERROR_UPSTREAM_UNAVAILABLE`): nothing was stored, and the sender should retry.
    #[error("{0}")]
    UpstreamUnavailable(String),
    /// A bug or an impossible state (500 `ERROR_INTERNAL_API`). The text is for the log
    /// line only.
    #[error("Internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    pub fn not_found(key: &'static str, value: impl Into<String>) -> Self {
        Error::NotFound { key, value: value.into() }
    }

    /// The SpaceONE error code, as the reference names it.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "ERROR_INVALID_ARGUMENT",
            Error::RequiredParameter(_) => "ERROR_REQUIRED_PARAMETER",
            Error::WebhookDisabled(_) => "ERROR_WEBHOOK_STATE_DISABLED",
            Error::Unauthenticated(_) => "ERROR_AUTHENTICATE_FAILURE",
            Error::PermissionDenied(_) => "ERROR_PERMISSION_DENIED",
            Error::NotFound { .. } => "ERROR_NOT_FOUND",
            Error::MethodNotAllowed { .. } => "ERROR_METHOD_NOT_ALLOWED",
            Error::Conflict(_) => "ERROR_CONFLICT",
            Error::PayloadTooLarge { .. } => "ERROR_PAYLOAD_TOO_LARGE",
            Error::Throttled => "ERROR_THROTTLED",
            Error::InProgress(_) => "ERROR_IN_PROGRESS",
            Error::RateLimited { .. } => "ERROR_RATE_LIMITED",
            Error::StorageUnavailable(_) => "ERROR_STORAGE_UNAVAILABLE",
            Error::UpstreamUnavailable(_) => "ERROR_UPSTREAM_UNAVAILABLE",
            Error::Internal(_) => "ERROR_INTERNAL_API",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidArgument(_) | Error::RequiredParameter(_) | Error::WebhookDisabled(_) => 400,
            Error::Unauthenticated(_) => 401,
            Error::PermissionDenied(_) => 403,
            Error::NotFound { .. } => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::Conflict(_) => 409,
            Error::PayloadTooLarge { .. } => 413,
            Error::Internal(_) => 500,
            Error::Throttled
            | Error::InProgress(_)
            | Error::RateLimited { .. }
            | Error::StorageUnavailable(_)
            | Error::UpstreamUnavailable(_) => 503,
        }
    }

    /// What a response body says: what happened and whether to retry. The causes of
    /// storage failures and bugs (SDK error chains, endpoints, item keys) stay in the log
    /// line, which carries `Display` and the code; every other message is written for
    /// the caller and quotes only what the caller sent.
    pub fn public_message(&self) -> String {
        match self {
            Error::StorageUnavailable(_) => "Storage is unavailable or did not answer in time; nothing is \
                                              wrong with the request. Retry after Retry-After seconds."
                .to_string(),
            Error::Internal(_) => {
                "Internal error; the request id in the logs tells what happened.".to_string()
            }
            other => other.to_string(),
        }
    }

    /// Seconds a client should wait before retrying, for every transient fault (the
    /// `Retry-After` header). Every 503 has one; nothing else does.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        match self {
            Error::Throttled | Error::InProgress(_) => Some(1),
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            Error::StorageUnavailable(_) | Error::UpstreamUnavailable(_) => Some(2),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<Error> {
        vec![
            Error::invalid("x"),
            Error::RequiredParameter("x".into()),
            Error::WebhookDisabled("x".into()),
            Error::PermissionDenied("x".into()),
            Error::not_found("x", "y"),
            Error::MethodNotAllowed { message: "x".into(), allow: "POST".into() },
            Error::Conflict("x".into()),
            Error::PayloadTooLarge { size: 2, limit: 1 },
            Error::Throttled,
            Error::InProgress("x".into()),
            Error::RateLimited { per_minute: 10, retry_after: 7 },
            Error::StorageUnavailable("x".into()),
            Error::UpstreamUnavailable("x".into()),
            Error::Internal("x".into()),
        ]
    }

    #[test]
    fn transient_faults_are_503_with_retry_after_and_no_other_status_asks_for_a_retry() {
        for err in every_variant() {
            // The only statuses: a 4xx is final for senders, so none may mean "later".
            assert!([400, 403, 404, 405, 409, 413, 500, 501, 503].contains(&err.status()), "{err:?}");
            assert_eq!(err.status() == 503, err.retry_after_seconds().is_some(), "{err:?}");
        }
        assert_eq!(Error::Throttled.status(), 503);
        assert_eq!(Error::InProgress("x".into()).status(), 503);
    }

    #[test]
    fn a_storage_failure_or_a_bug_tells_the_caller_what_happened_and_the_log_the_cause() {
        let cause = "dispatch failure: io error: tcp connect error: 127.0.0.1:8000: Connection refused";
        for err in [Error::StorageUnavailable(cause.into()), Error::Internal(cause.into())] {
            assert!(!err.public_message().contains("127.0.0.1"), "{}", err.public_message());
            assert!(!err.public_message().contains("dispatch"), "{}", err.public_message());
            assert!(err.to_string().contains(cause), "the log line keeps the cause: {err}");
        }
        assert!(Error::StorageUnavailable(cause.into()).public_message().contains("Retry"));
        assert_eq!(Error::Throttled.public_message(), Error::Throttled.to_string());
    }
}
