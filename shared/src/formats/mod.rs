//! Built-in parsers, one module per sender, selected by the webhook's `format`; here,
//! the choice of parser (`parse`, `detect`) and the types every parser returns.
//!
//! A parser turns one request body into the events it carries. It only reads: defaults,
//! enum validation, tenancy and alert linking happen in `service::create`. `json` holds
//! what the parsers share to read a sender's JSON; `python_str` how the reference renders
//! a non-string additional_info value.

pub mod alertmanager;
pub mod aom;
pub mod aws_sns;
pub mod cloud_eye;
pub mod grafana;
pub(crate) mod json;
mod python_str;
pub mod standard;

pub use python_str::info_text;

use serde_json::{Map, Value};

use crate::model::{Resource, WebhookFormat};

/// One event as a sender described it, before the service fills it in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedEvent {
    /// Identity of the underlying problem; `None` lets the service derive one.
    pub event_key: Option<String>,
    /// `ALERT`, `RECOVERY` or `ERROR` as text; anything else is rejected by the service.
    pub event_type: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// As the sender wrote it; unknown values become `NOT_AVAILABLE`.
    pub severity: Option<String>,
    pub rule: Option<String>,
    pub resource: Option<Resource>,
    pub provider: Option<String>,
    pub account: Option<String>,
    pub image_url: Option<String>,
    /// When the monitor says it happened (any RFC 3339 form).
    pub occurred_at: Option<String>,
    /// Values of any JSON type; the service renders non-strings as text.
    pub additional_info: Map<String, Value>,
    /// The part of the body this event came from.
    pub raw_data: Value,
    /// How long the alert of this event stays open without another event, when the
    /// sender says (AOM's `timeout`), in milliseconds.
    pub auto_resolve_after_ms: Option<i64>,
    /// What identifies this change for redelivery detection (e.g. an Alertmanager
    /// alert's fingerprint, status and time); `None` falls back to the body.
    pub dedup_key: Option<String>,
}

/// Why a body could not be read as the webhook's format. The service does not drop the
/// body: it stores an `ERROR` event carrying this message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(message: impl Into<String>) -> Self {
        ParseError(message.into())
    }
}

/// Reads `body` as `format` into the events it carries (at least one).
pub fn parse(format: WebhookFormat, body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    parse_delivery(format, body, None)
}

/// [`parse`] for a delivery whose URL asked for `action`: AOM's `?action=clear` makes
/// an AOM body's events clears; other formats have no actions.
pub fn parse_delivery(
    format: WebhookFormat,
    body: &Value,
    action: Option<&str>,
) -> Result<Vec<ParsedEvent>, ParseError> {
    let events = match format {
        WebhookFormat::Standard => standard::parse(body),
        WebhookFormat::Alertmanager => alertmanager::parse(body),
        WebhookFormat::Grafana => grafana::parse(body),
        WebhookFormat::AwsSns => aws_sns::parse(body),
        WebhookFormat::CloudEye => cloud_eye::parse(body),
        WebhookFormat::Aom => aom::parse_action(body, action),
        WebhookFormat::Auto => parse_delivery(detect(body), body, action),
    }?;
    if events.is_empty() {
        return Err(ParseError::new("the payload carries no events"));
    }
    Ok(events)
}

/// Guesses the format from the body's shape, for webhooks whose format is `auto`.
pub fn detect(body: &Value) -> WebhookFormat {
    let has = |key: &str| body.get(key).is_some();
    if has("Type") && has("TopicArn") {
        WebhookFormat::AwsSns
    } else if (has("AlarmName") && has("NewStateValue")) || aws_sns::is_health_event(body) {
        // An SNS subscription with raw message delivery posts the message itself.
        WebhookFormat::AwsSns
    } else if has("alerts") && (has("orgId") || has("evalMatches") || has("ruleName")) {
        WebhookFormat::Grafana
    } else if has("alerts") && has("groupKey") {
        WebhookFormat::Alertmanager
    } else if has("evalMatches") || has("ruleName") {
        WebhookFormat::Grafana
    } else if aom::looks_like(body) {
        WebhookFormat::Aom
    } else if cloud_eye::looks_like(body) {
        WebhookFormat::CloudEye
    } else {
        WebhookFormat::Standard
    }
}

#[cfg(test)]
mod tests;
