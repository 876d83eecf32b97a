//! What of a query a store can have DynamoDB evaluate with the engine's result: the
//! index partition (a pinned alert_id or webhook_id), an exact created_at range, and
//! exact tests on fields stored as the text EventInfo shows.

use chrono::{DateTime, Utc};

use super::condition::{Bound, Condition, OneOf, Test};
use super::time_operand::TimeSet;
use crate::model::format_time;

/// The index partition, the created_at range and the field tests DynamoDB can take
/// from a query. `complete` says DynamoDB's answer is the whole answer, so the store may
/// count (`Select: COUNT`) or stop reading after a page.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pushdown {
    pub alert_id: Option<String>,
    pub webhook_id: Option<String>,
    /// Inclusive bounds on created_at, in whole milliseconds (as stored).
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub filters: Vec<FieldTest>,
    pub complete: bool,
}

/// A condition in the form a store can evaluate itself.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldTest {
    /// The field is one of the values.
    OneOf { path: String, values: Vec<String> },
    /// The field is missing or none of the values.
    NoneOf { path: String, values: Vec<String> },
}

impl FieldTest {
    pub fn path(&self) -> &str {
        match self {
            FieldTest::OneOf { path, .. } | FieldTest::NoneOf { path, .. } => path,
        }
    }

    fn values(&self) -> &[String] {
        match self {
            FieldTest::OneOf { values, .. } | FieldTest::NoneOf { values, .. } => values,
        }
    }
}

/// Top-level EventInfo fields stored as the very text EventInfo shows (raw_data is
/// stored as JSON text, so nothing inside it can be tested in DynamoDB; alert_id is
/// absent rather than empty, so empty values are never pushed). Not created_at: the
/// count index, which reads of summaries use, holds it only inside its sort key, which a
/// filter may not test; its key range serves instead.
const TEXT_FIELDS: [&str; 16] = [
    "event_id",
    "event_key",
    "event_type",
    "title",
    "description",
    "severity",
    "rule",
    "provider",
    "account",
    "image_url",
    "alert_id",
    "webhook_id",
    "project_id",
    "workspace_id",
    "domain_id",
    "occurred_at",
];

/// Fields stored as maps of text: `resource.name`, `additional_info.user`.
const TEXT_MAPS: [&str; 2] = ["resource", "additional_info"];

/// DynamoDB's `IN` takes at most 100 values.
const MAX_VALUES_PER_TEST: usize = 100;
/// What one read pushes at most, so the filter expression stays well inside DynamoDB's
/// limits (4 KB of expression text, 2 MB of values): at most about 3 KB of text here.
/// Conditions past these bounds are left to the engine.
const MAX_TESTS: usize = 20;
const MAX_VALUES: usize = 200;
const MAX_VALUE_BYTES: usize = 64 * 1024;
/// A map key longer than this stays with the engine (DynamoDB's key attribute names
/// are bounded at 255 bytes; no stored key is longer).
const MAX_NAME_BYTES: usize = 255;

/// The pushdown of the conditions of `filter`, all of which must hold; `complete`
/// says whether nothing else (filter_or, keyword) narrows the query.
pub(super) fn pushdown(filter: &[Condition], complete: bool, now: DateTime<Utc>) -> Pushdown {
    let mut push = Pushdown {
        alert_id: pinned(filter, "alert_id"),
        webhook_id: pinned(filter, "webhook_id"),
        complete,
        ..Pushdown::default()
    };
    let (mut values, mut bytes) = (0, 0);
    for condition in filter {
        let range = created_range(condition, now);
        if let Some(((from, to), _)) = range {
            if let Some(from) = from {
                push.created_from = Some(push.created_from.map_or(from, |f| f.max(from)));
            }
            if let Some(to) = to {
                push.created_to = Some(push.created_to.map_or(to, |t| t.min(to)));
            }
        }
        if range.is_some_and(|(_, exact)| exact) {
            continue;
        }
        let Some(test) = field_test(condition) else {
            push.complete = false;
            continue;
        };
        let size: usize = test.values().iter().map(String::len).sum();
        if push.filters.len() < MAX_TESTS
            && values + test.values().len() <= MAX_VALUES
            && bytes + size <= MAX_VALUE_BYTES
        {
            values += test.values().len();
            bytes += size;
            push.filters.push(test);
        } else {
            push.complete = false;
        }
    }
    push
}

/// The one value a condition of `filter` pins `key` to, if one does. An empty value
/// pins nothing: index keys are never empty (an event without an alert has no alert_id).
fn pinned(filter: &[Condition], key: &str) -> Option<String> {
    filter.iter().find_map(|condition| match &condition.test {
        Test::OneOf(OneOf { texts, others, null: false })
            if condition.key == key && !condition.negated && texts.len() == 1 && others.is_empty() =>
        {
            texts.iter().next().filter(|v| !v.is_empty()).cloned()
        }
        _ => None,
    })
}

/// Inclusive created_at bounds.
pub(super) type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The created_at range a condition confines events to at `now`, and whether that is
/// all it asks (for several instants, the range is only their span).
pub(super) fn created_range(condition: &Condition, now: DateTime<Utc>) -> Option<(Range, bool)> {
    if condition.key != "created_at" || condition.negated {
        return None;
    }
    Some(match &condition.test {
        Test::Datetime(bound, at) => (inclusive_millis(*bound, *at), true),
        Test::Timediff(bound, diff) => (inclusive_millis(*bound, diff.at(now)), true),
        Test::Times(TimeSet { times, null: false }) => {
            let (first, last) = (*times.first()?, *times.last()?);
            let span = (inclusive_millis(Bound::Gte, first).0, inclusive_millis(Bound::Lte, last).1);
            let one_instant = times.len() == 1 && span.0.is_some() && span.1.is_some();
            (span, one_instant)
        }
        _ => return None,
    })
}

/// A created_at bound as inclusive whole-millisecond bounds: stored times have
/// milliseconds, so `> 10.0005` is `>= 10.001` and `< 10.0005` is `<= 10.000`.
fn inclusive_millis(bound: Bound, at: DateTime<Utc>) -> Range {
    let millis = at.timestamp_millis();
    let fractional = !at.timestamp_subsec_nanos().is_multiple_of(1_000_000);
    let at_millis = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
    match bound {
        Bound::Gte => (at_millis(Some(if fractional { millis + 1 } else { millis })), None),
        Bound::Gt => (at_millis(millis.checked_add(1)), None),
        Bound::Lte => (None, at_millis(Some(millis))),
        Bound::Lt => (None, at_millis(if fractional { Some(millis) } else { millis.checked_sub(1) })),
    }
}

/// The condition as a test of a stored text field, if it is one: `eq`, `in`, `not`,
/// `not_in` with text operands (on the time fields, instants as stored).
fn field_test(condition: &Condition) -> Option<FieldTest> {
    if !stored_as_text(&condition.key) {
        return None;
    }
    let mut values: Vec<String> = match &condition.test {
        Test::OneOf(OneOf { texts, others, null: false }) if others.is_empty() => {
            texts.iter().cloned().collect()
        }
        Test::Times(TimeSet { times, null: false }) => {
            times.iter().map(|t| stored_time(*t)).collect::<Option<_>>()?
        }
        _ => return None,
    };
    if values.is_empty() || values.len() > MAX_VALUES_PER_TEST || values.iter().any(String::is_empty) {
        return None;
    }
    values.sort();
    let path = condition.key.clone();
    Some(if condition.negated {
        FieldTest::NoneOf { path, values }
    } else {
        FieldTest::OneOf { path, values }
    })
}

fn stored_as_text(key: &str) -> bool {
    match key.split_once('.') {
        None => TEXT_FIELDS.contains(&key),
        Some((map, name)) => {
            TEXT_MAPS.contains(&map)
                && !name.is_empty()
                && !name.contains('.')
                && name.len() <= MAX_NAME_BYTES
        }
    }
}

/// An instant as a stored time is written, if a stored time can be that instant:
/// stored times have whole milliseconds and four-digit years.
fn stored_time(t: DateTime<Utc>) -> Option<String> {
    let text = format_time(t);
    (t.timestamp_subsec_nanos().is_multiple_of(1_000_000) && text.len() == 24).then_some(text)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::model::parse_time;
    use crate::query::parse::conditions;

    fn push(filter: Value) -> Pushdown {
        let now = parse_time("2022-07-01T00:00:00Z").unwrap();
        pushdown(&conditions(Some(&filter), "filter").unwrap(), true, now)
    }

    fn one_of(path: &str, values: &[&str]) -> FieldTest {
        FieldTest::OneOf { path: path.into(), values: values.iter().map(|v| v.to_string()).collect() }
    }

    #[test]
    fn one_id_pins_its_index() {
        let pinned = push(json!([
            {"k": "webhook_id", "v": ["webhook-1"], "o": "in"},
            {"k": "alert_id", "v": ["alert-1", "alert-2"], "o": "in"},
        ]));
        assert_eq!((pinned.webhook_id.as_deref(), pinned.alert_id), (Some("webhook-1"), None));
        assert_eq!(push(json!([{"k": "alert_id", "v": "alert-1", "o": "not"}])).alert_id, None);
        assert_eq!(push(json!([{"k": "alert_id", "v": ""}])).alert_id, None, "no index key is empty");
    }

    #[test]
    fn created_at_bounds_are_exact_milliseconds() {
        let bounded = push(json!([
            {"k": "created_at", "v": "2022-06-01T00:00:00Z", "o": "datetime_gte"},
            {"k": "created_at", "v": "2022-06-10T00:00:00Z", "o": "datetime_gt"},
            {"k": "created_at", "v": "2022-06-30T00:00:00.0005Z", "o": "datetime_lt"},
            {"k": "created_at", "v": "now-1h", "o": "timediff_lt"},
        ]));
        assert_eq!(bounded.created_from, parse_time("2022-06-10T00:00:00.001Z"), "gt is gte of the next ms");
        assert_eq!(bounded.created_to, parse_time("2022-06-30T00:00:00.000Z"));
        assert!(bounded.complete && bounded.filters.is_empty());
        let recent = push(json!([{"k": "created_at", "v": "now-1d", "o": "timediff_gte"}]));
        assert_eq!(recent.created_from, parse_time("2022-06-30T00:00:00Z"));
    }

    /// Exact tests on stored text go to the store; times on created_at bound its key.
    #[test]
    fn exact_text_tests_and_time_bounds_are_pushed() {
        let pushed = push(json!([
            {"k": "title", "v": "Disk full"},
            {"k": "resource.name", "v": ["web-1", "db-1"], "o": "in"},
            {"k": "additional_info.user", "v": "glee", "o": "not"},
            {"k": "severity", "v": ["info", "Error"], "o": "not_in"},
            {"k": "occurred_at", "v": "2022-06-21T09:00:00+09:00"},
            {"k": "created_at", "v": "2022-06-10 00:00:00", "o": "gte"},
            {"k": "created_at", "v": "2022-06-30T09:00:00.0005+09:00", "o": "lt"},
        ]));
        assert_eq!(pushed.created_from, parse_time("2022-06-10T00:00:00Z"));
        assert_eq!(pushed.created_to, parse_time("2022-06-30T00:00:00Z"));
        assert_eq!(
            pushed.filters,
            [
                one_of("title", &["Disk full"]),
                one_of("resource.name", &["db-1", "web-1"]),
                FieldTest::NoneOf { path: "additional_info.user".into(), values: vec!["glee".into()] },
                FieldTest::NoneOf { path: "severity".into(), values: vec!["Error".into(), "info".into()] },
                one_of("occurred_at", &["2022-06-21T00:00:00.000Z"]),
            ]
        );
        assert!(pushed.complete);
    }

    #[test]
    fn created_at_instants_are_a_range() {
        let eq = push(json!([{"k": "created_at", "v": "2022-06-21T09:00:00.5+09:00"}]));
        let at = parse_time("2022-06-21T00:00:00.500Z");
        assert_eq!((eq.created_from, eq.created_to, eq.complete), (at, at, true), "a one-instant range");
        assert!(eq.filters.is_empty());
        let finer = push(json!([{"k": "created_at", "v": "2022-06-21T00:00:00.0005Z"}]));
        assert!(finer.created_from > finer.created_to, "no stored time is between milliseconds");
        let two =
            push(json!([{"k": "created_at", "v": ["2022-06-22", "2022-06-21T00:00:00.5Z"], "o": "in"}]));
        assert_eq!((two.created_from, two.created_to), (at, parse_time("2022-06-22T00:00:00Z")));
        assert!(!two.complete, "two instants span a range the engine narrows");
        let not = push(json!([{"k": "created_at", "v": "2022-06-22", "o": "not"}]));
        assert_eq!((not.created_from, not.created_to, not.complete), (None, None, false));
        assert!(two.filters.is_empty() && not.filters.is_empty(), "no filter tests created_at");
    }

    #[test]
    fn what_dynamodb_cannot_answer_alike_stays_with_the_engine() {
        for filter in [
            json!({"k": "title", "v": "disk", "o": "contain"}),
            json!({"k": "raw_data.title", "v": "disk"}),
            json!({"k": "created_key", "v": "x"}),
            json!({"k": "resource.name.first", "v": "x"}),
            json!({"k": "alert_id", "v": ["a", null], "o": "in"}),
            json!({"k": "title", "v": ""}),
            json!({"k": "title", "v": ["a", 1], "o": "in"}),
            json!({"k": "occurred_at", "v": "2022-06-21T00:00:00.0005Z"}),
        ] {
            let pushed = push(json!([filter]));
            assert!(pushed.filters.is_empty() && !pushed.complete, "{filter}");
        }
    }

    #[test]
    fn a_read_pushes_a_bounded_filter_expression() {
        let many: Vec<Value> =
            (0..MAX_TESTS + 1).map(|i| json!({"k": "title", "v": format!("t{i}")})).collect();
        let pushed = push(Value::Array(many));
        assert_eq!((pushed.filters.len(), pushed.complete), (MAX_TESTS, false));
        let values: Vec<String> = (0..MAX_VALUES_PER_TEST).map(|i| format!("v{i}")).collect();
        let wide = json!([{"k": "title", "v": values, "o": "in"}, {"k": "rule", "v": values, "o": "in"},
                          {"k": "account", "v": values, "o": "in"}]);
        let pushed = push(wide);
        assert_eq!((pushed.filters.len(), pushed.complete), (2, false), "at most {MAX_VALUES} values");
        let long = "x".repeat(MAX_VALUE_BYTES);
        let pushed = push(json!([{"k": "title", "v": "y"}, {"k": "rule", "v": long}]));
        assert_eq!((pushed.filters.len(), pushed.complete), (1, false));
    }
}
