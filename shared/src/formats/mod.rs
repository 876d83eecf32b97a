//! Built-in parsers, one module per sender, selected by the webhook's `format`.
//!
//! A parser turns one request body into the events it carries. It only reads: defaults,
//! enum validation, tenancy and alert linking happen in `service::create`.

pub mod alertmanager;
pub mod aws_sns;
pub mod grafana;
pub mod standard;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{format_time, parse_time, Resource, WebhookFormat};

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
    } else if (has("AlarmName") && has("NewStateValue")) || aws_sns::is_health_event(body) {
        // An SNS subscription with raw message delivery posts the message itself.
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

/// A stable key from `parts`: SHA-256 over each part followed by a NUL byte, as 32
/// lowercase hex characters. The same parts always give the same key, so a parser can
/// derive an event_key that a later event of the same problem will share.
pub(crate) fn stable_key(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    let mut key = String::with_capacity(32);
    for b in &hash.finalize()[..16] {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    key
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A sender's time as RFC 3339 with milliseconds, or `None` when absent or Go's zero
/// time (`0001-01-01T00:00:00Z`, which Alertmanager writes for "not ended"). Accepts
/// RFC 3339, offsets without a colon (`+0000`, CloudWatch) and RFC 2822 (AWS Health).
/// Text that is no time at all is passed on as it is; the service then uses its own clock.
pub(crate) fn sender_time(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = parse_time(text)
        .or_else(|| {
            DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok().map(|t| t.with_timezone(&Utc))
        })
        .or_else(|| DateTime::parse_from_rfc2822(text).ok().map(|t| t.with_timezone(&Utc)));
    match parsed {
        Some(t) if t.year() <= 1 => None,
        Some(t) => Some(format_time(t)),
        None => Some(text.to_string()),
    }
}

/// An identifier as text, with integral numbers written without a fraction, so that
/// `1`, `1.0` and `"1"` give the same key (senders relayed through protobuf turn
/// integers into floats).
pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => Some(format!("{}", f as i64)),
            _ => Some(n.to_string()),
        },
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What kind of JSON value this is, for error messages ("… must be a list, not a string").
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// An optional string member: `None` when absent or null, an error naming `what` when
/// present with another type.
pub(crate) fn optional_str<'a>(
    object: &'a Value,
    key: &str,
    what: &str,
) -> Result<Option<&'a str>, ParseError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => {
            Err(ParseError::new(format!("{what} '{key}' must be a string, not {}", json_kind(other))))
        }
    }
}

/// An optional object member: `None` when absent or null, an error when another type.
pub(crate) fn optional_object<'a>(
    object: &'a Value,
    key: &str,
    what: &str,
) -> Result<Option<&'a Map<String, Value>>, ParseError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => {
            Err(ParseError::new(format!("{what} '{key}' must be an object, not {}", json_kind(other))))
        }
    }
}

/// Inserts `key` unless the map already has it (earlier sources win).
pub(crate) fn insert_if_free(info: &mut Map<String, Value>, key: &str, value: Value) {
    if !info.contains_key(key) {
        info.insert(key.to_string(), value);
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

    #[test]
    fn detect_recognises_raw_sns_deliveries_and_grafana_unified_bodies() {
        let alarm = json!({"AlarmName": "cpu", "NewStateValue": "ALARM", "Trigger": {}});
        assert_eq!(detect(&alarm), WebhookFormat::AwsSns);
        let health = json!({"source": "aws.health", "detail-type": "AWS Health Event", "detail": {}});
        assert_eq!(detect(&health), WebhookFormat::AwsSns);
        let unified: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/grafana/unified-firing-two.json"))
                .unwrap();
        assert_eq!(detect(&unified), WebhookFormat::Grafana);
        let am: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/alertmanager/firing-grouped-two.json"
        ))
        .unwrap();
        assert_eq!(detect(&am), WebhookFormat::Alertmanager);
    }

    #[test]
    fn stable_keys_depend_on_every_part_and_its_boundaries() {
        let key = stable_key(&["a", "b"]);
        assert_eq!(key.len(), 32);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(key, stable_key(&["a", "b"]));
        assert_ne!(key, stable_key(&["ab", ""]));
        assert_ne!(key, stable_key(&["b", "a"]));
    }

    #[test]
    fn sender_times_normalise_common_forms_and_drop_the_zero_time() {
        assert_eq!(sender_time("2026-11-22T15:54:27Z").as_deref(), Some("2026-11-22T15:54:27.000Z"));
        assert_eq!(sender_time("2021-06-10T04:28:46.868+0000").as_deref(), Some("2021-06-10T04:28:46.868Z"));
        assert_eq!(sender_time("Sat, 04 Jun 2016 05:01:10 GMT").as_deref(), Some("2016-06-04T05:01:10.000Z"));
        assert_eq!(sender_time("0001-01-01T00:00:00Z"), None);
        assert_eq!(sender_time("  "), None);
        assert_eq!(sender_time("soon").as_deref(), Some("soon"));
    }

    #[test]
    fn id_text_writes_integral_numbers_without_a_fraction() {
        let ids: Value = serde_json::from_str(r#"[1, 1.0, "1", 2.5, true]"#).unwrap();
        let texts: Vec<String> = ids.as_array().unwrap().iter().filter_map(id_text).collect();
        assert_eq!(texts, ["1", "1", "1", "2.5", "true"]);
        assert_eq!(id_text(&json!(null)), None);
    }

    mod never_panic {
        use super::super::*;
        use proptest::prelude::*;
        use serde_json::json;

        /// Member names the parsers look at, so random bodies reach deep into them.
        const KEYS: &[&str] = &[
            "alerts",
            "labels",
            "annotations",
            "status",
            "fingerprint",
            "startsAt",
            "endsAt",
            "severity",
            "alertname",
            "summary",
            "Type",
            "TopicArn",
            "Message",
            "Subject",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "AlarmName",
            "AlarmArn",
            "NewStateValue",
            "StateChangeTime",
            "AWSAccountId",
            "Trigger",
            "Dimensions",
            "Metrics",
            "MetricStat",
            "Metric",
            "ruleId",
            "ruleName",
            "state",
            "evalMatches",
            "tags",
            "orgId",
            "title",
            "detail",
            "source",
            "eventArn",
            "eventDescription",
            "affectedEntities",
            "values",
            "valueString",
            "imageURL",
            "name",
            "value",
        ];
        const WORDS: &[&str] = &[
            "firing",
            "resolved",
            "ALARM",
            "OK",
            "INSUFFICIENT_DATA",
            "Notification",
            "SubscriptionConfirmation",
            "UnsubscribeConfirmation",
            "alerting",
            "no_data",
            "aws.health",
            "closed",
            "critical",
            "",
            "{\"AlarmName\": \"a\", \"NewStateValue\": \"OK\", \"Trigger\": []}",
            "{\"AlarmName\"",
            "ALARM: \"x\" in y",
            "0001-01-01T00:00:00Z",
            "2026-11-22T15:54:27Z",
        ];

        fn arb_json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
                "[ -~]{0,12}".prop_map(Value::String),
                prop::sample::select(WORDS).prop_map(|w| Value::String(w.to_string())),
            ];
            leaf.prop_recursive(5, 64, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..6).prop_map(|m| {
                        Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                    }),
                ]
            })
        }

        fn fixtures() -> Vec<Value> {
            [
                include_str!("../../../tests/fixtures/alertmanager/firing-grouped-two.json"),
                include_str!("../../../tests/fixtures/grafana/unified-firing-two.json"),
                include_str!("../../../tests/fixtures/grafana/legacy-alerting.json"),
                include_str!("../../../tests/fixtures/aws_sns/notification-cloudwatch-anomaly-alarm.json"),
                include_str!("../../../tests/fixtures/aws_sns/notification-aws-health.json"),
                include_str!("../../../tests/fixtures/aws_sns/subscription-confirmation.json"),
            ]
            .iter()
            .map(|text| serde_json::from_str(text).unwrap())
            .collect()
        }

        /// Every place in `value`, as JSON pointers.
        fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => map.iter().for_each(|(k, v)| pointers(v, format!("{at}/{k}"), out)),
                Value::Array(items) => {
                    items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out))
                }
                _ => {}
            }
            out.push(at);
        }

        fn parse_all(body: &Value) {
            for format in WebhookFormat::ALL {
                let _ = parse(*format, body);
            }
        }

        proptest! {
            #[test]
            fn parsers_never_panic_on_arbitrary_json(body in arb_json()) {
                parse_all(&body);
            }

            #[test]
            fn parsers_never_panic_when_one_fixture_member_changes(
                which in 0usize..6, place in any::<prop::sample::Index>(), replacement in arb_json()
            ) {
                let mut body = fixtures().swap_remove(which);
                let mut places = Vec::new();
                pointers(&body, String::new(), &mut places);
                let pointer = place.get(&places).clone();
                match body.pointer_mut(&pointer) {
                    Some(slot) if !pointer.is_empty() => *slot = replacement,
                    _ => body = replacement,
                }
                parse_all(&body);
            }
        }
    }
}
