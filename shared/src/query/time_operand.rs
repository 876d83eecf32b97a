//! Operands on the time fields. python-core's models declare `created_at` and
//! `occurred_at` as datetimes, so MongoDB compares them as instants and the operand of
//! `eq`, `not`, `in`, `not_in`, `lt`, `lte`, `gt`, `gte` is read as a time (by dateutil:
//! any ISO 8601 form). Stored times are text in one shape, compared here as instants.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::times::event_time;
use crate::model::parse_time;

/// The event fields that hold times.
const TIME_FIELDS: [&str; 2] = ["created_at", "occurred_at"];

pub const TIME_FORMS: &str =
    "ISO 8601, such as 2022-06-21T00:00:00Z, 2022-06-21T09:00:00.5+09:00 or 2022-06-21 00:00:00";

pub fn is_time_field(key: &str) -> bool {
    TIME_FIELDS.contains(&key)
}

/// A time operand in any of the ISO 8601 forms callers send: `T` or a space between
/// date and time, with or without fractions, with `Z`, an offset (`+09:00`, `+0900`;
/// converted to UTC) or no zone at all (read as UTC, as python-core stores naive times).
pub fn parse(operand: &Value) -> Option<DateTime<Utc>> {
    let text = operand.as_str()?.trim();
    let spaced = text.len() > 10 && text.as_bytes()[10] == b' ';
    let text = if spaced { format!("{}T{}", &text[..10], &text[11..]) } else { text.to_string() };
    DateTime::parse_from_rfc3339(&text)
        .or_else(|_| DateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M%z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| parse_time(&text))
}

/// The instants `eq` and `in` accept; a null operand also matches a missing field.
#[derive(Debug, Clone, Default)]
pub struct TimeSet {
    /// Sorted, without repeats.
    pub times: Vec<DateTime<Utc>>,
    pub null: bool,
}

impl TimeSet {
    /// The set of `operands`, or the first operand that is not a time.
    pub fn parse(operands: &[Value]) -> Result<TimeSet, &Value> {
        let mut set = TimeSet::default();
        for operand in operands {
            match operand {
                Value::Null => set.null = true,
                other => set.times.push(parse(other).ok_or(other)?),
            }
        }
        set.times.sort();
        set.times.dedup();
        Ok(set)
    }

    pub fn holds(&self, field: &Value) -> bool {
        match field {
            Value::Null => self.null,
            other => event_time(other).is_some_and(|t| self.times.binary_search(&t).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(text: &str) -> Option<DateTime<Utc>> {
        parse_time(text)
    }

    #[test]
    fn operands_are_read_in_every_iso_8601_form_and_converted_to_utc() {
        let instant = at("2026-11-30T03:16:45Z");
        for form in [
            "2026-11-30T03:16:45Z",
            "2026-11-30T03:16:45.000Z",
            "2026-11-30T12:16:45+09:00",
            "2026-11-30T12:16:45.000000+09:00",
            "2026-11-30T12:16:45+0900",
            "2026-11-30 12:16:45+09:00",
            "2026-11-30 03:16:45",
            "2026-11-30T03:16:45",
            " 2026-11-30T03:16:45Z ",
        ] {
            assert_eq!(parse(&json!(form)), instant, "{form}");
        }
        assert_eq!(parse(&json!("2026-11-30T12:16+09:00")), at("2026-11-30T03:16:00Z"));
        assert_eq!(parse(&json!("2026-11-30 03:16")), at("2026-11-30T03:16:00Z"));
        assert_eq!(parse(&json!("2026-11-30")), at("2026-11-30T00:00:00Z"));
        assert_eq!(parse(&json!("2026-11-30T04:16:52.64Z")), at("2026-11-30T04:16:52.640Z"));
        for bad in [json!("soon"), json!("2026-13-01"), json!("2026-11-30T25:00:00Z"), json!(1_700_000_000)] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_time_set_holds_stored_times_equal_to_one_of_its_instants() {
        let set = TimeSet::parse(&[json!("2026-11-30T12:16:45+09:00"), json!("2026-11-29")]).unwrap();
        assert!(set.holds(&json!("2026-11-30T03:16:45.000Z")));
        assert!(set.holds(&json!("2026-11-29T00:00:00.000Z")));
        assert!(!set.holds(&json!("2026-11-30T03:16:45.001Z")));
        assert!(!set.holds(&json!(null)));
        assert!(!set.holds(&json!("soon")));
        assert!(TimeSet::parse(&[json!(null)]).unwrap().holds(&json!(null)));
        assert_eq!(TimeSet::parse(&[json!("2026-11-29"), json!("x")]).unwrap_err(), &json!("x"));
    }
}
