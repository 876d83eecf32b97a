//! What the parsers share to read a sender's JSON: members of an expected type, with
//! errors that name them; identifiers and times as text; stable keys made from them.

use crate::digest::{hex, sha256_of_parts};
use chrono::{DateTime, Datelike, Utc};
use serde_json::{Map, Value};

use super::ParseError;
use crate::model::{format_time, parse_time};

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
    hex(&sha256_of_parts(parts)[..16])
}

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
}
