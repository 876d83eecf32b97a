//! Built-in parsers, one module per sender, selected by the webhook's `format`.
//!
//! A parser turns one request body into the events it carries. It only reads: defaults,
//! enum validation, tenancy and alert linking happen in `service::create`.

pub mod alertmanager;
pub mod aws_sns;
pub mod grafana;
pub mod standard;

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
    let events = match format {
        WebhookFormat::Standard => standard::parse(body),
        WebhookFormat::Alertmanager => alertmanager::parse(body),
        WebhookFormat::Grafana => grafana::parse(body),
        WebhookFormat::AwsSns => aws_sns::parse(body),
        WebhookFormat::Auto => parse(detect(body), body),
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
    } else if has("alerts") && (has("orgId") || has("evalMatches") || has("ruleName")) {
        WebhookFormat::Grafana
    } else if has("alerts") && has("groupKey") {
        WebhookFormat::Alertmanager
    } else if has("evalMatches") || has("ruleName") {
        WebhookFormat::Grafana
    } else {
        WebhookFormat::Standard
    }
}

/// Renders an additional_info value as the reference stores it: strings as they are,
/// anything else as Python's `str()` writes it (`[]`, `['10.0.0.1']`, `True`, `None`),
/// which is what seed 001's examples show.
pub fn info_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => {
            let mut out = String::new();
            write_python_repr(other, &mut out);
            out
        }
    }
}

fn write_python_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_python_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_str(k, out);
                out.push_str(": ");
                write_python_repr(v, out);
            }
            out.push('}');
        }
    }
}

/// Python's `repr` of a str: single quotes unless the text has one and no double quote.
fn write_python_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// A string field of a JSON object, if present and a string (numbers and bools are
/// taken as their text, since senders are loose about types).
pub(crate) fn text_field(object: &Value, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn info_text_matches_the_seed_examples() {
        assert_eq!(info_text(&json!([])), "[]");
        assert_eq!(info_text(&json!(["125.131.104.40"])), "['125.131.104.40']");
        assert_eq!(info_text(&json!("spaceoneadm")), "spaceoneadm");
    }

    #[test]
    fn info_text_writes_python_literals() {
        assert_eq!(info_text(&json!({"a": [1, 2.5, true, null]})), "{'a': [1, 2.5, True, None]}");
        assert_eq!(info_text(&json!(["it's"])), "[\"it's\"]");
        assert_eq!(info_text(&json!(false)), "False");
    }

    #[test]
    fn detect_recognises_each_sender() {
        assert_eq!(detect(&json!({"Type": "Notification", "TopicArn": "arn"})), WebhookFormat::AwsSns);
        assert_eq!(detect(&json!({"alerts": [], "groupKey": "{}", "orgId": 1})), WebhookFormat::Grafana);
        assert_eq!(detect(&json!({"alerts": [], "groupKey": "{}"})), WebhookFormat::Alertmanager);
        assert_eq!(detect(&json!({"ruleName": "x", "evalMatches": []})), WebhookFormat::Grafana);
        assert_eq!(detect(&json!({"title": "t"})), WebhookFormat::Standard);
    }
}
