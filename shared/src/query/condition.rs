//! Filter conditions `{k, v, o}`: the 24 operators of python-core's `filter_operator.py`,
//! parsed once (regexes compiled, times read) and then evaluated per event without
//! parsing or allocating.
//!
//! As in python-core, `eq`, `not`, `in` and `not_in` compare exactly, and on the time
//! fields as instants; `contain*` and `regex*` ignore case.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use regex::Regex;

use super::limits::compile_regex;
use serde_json::Value;

use super::elem_match::{self, MATCH_HELP};
use super::path::{Leaves, Path};
use super::time_operand::{self, TimeSet, TIME_FORMS};
use super::times::{event_time, Timediff, TIMEDIFF_HELP};
use super::value::{bracket_cmp, same};
use crate::error::{Error, Result};

pub const OPERATORS: [&str; 24] = [
    "eq",
    "not",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "not_in",
    "contain",
    "not_contain",
    "contain_in",
    "not_contain_in",
    "exists",
    "regex",
    "regex_in",
    "datetime_lt",
    "datetime_lte",
    "datetime_gt",
    "datetime_gte",
    "timediff_lt",
    "timediff_lte",
    "timediff_gt",
    "timediff_gte",
    "match",
];

/// The keys a condition object may have: python-core reads both spellings.
const CONDITION_KEYS: [&str; 6] = ["k", "key", "v", "value", "o", "operator"];

/// Keys the reference's Event model renames before querying (`change_query_keys`).
const KEY_ALIASES: [(&str, &str); 1] = [("resource_id", "resource.resource_id")];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Bound {
    fn from_suffix(suffix: &str) -> Option<Bound> {
        match suffix {
            "lt" => Some(Bound::Lt),
            "lte" => Some(Bound::Lte),
            "gt" => Some(Bound::Gt),
            "gte" => Some(Bound::Gte),
            _ => None,
        }
    }

    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        match self {
            Bound::Lt => ordering.is_lt(),
            Bound::Lte => ordering.is_le(),
            Bound::Gt => ordering.is_gt(),
            Bound::Gte => ordering.is_ge(),
        }
    }
}

/// The values `eq` and `in` accept, sorted by how they compare.
#[derive(Debug, Clone, Default)]
pub(super) struct OneOf {
    pub texts: HashSet<String>,
    pub others: Vec<Value>,
    /// A null operand, which also matches a missing field.
    pub null: bool,
}

/// What a condition tests, with its operand already in the form the test needs.
#[derive(Debug, Clone)]
pub(super) enum Test {
    /// `eq`, and `in` with its list.
    OneOf(OneOf),
    /// `eq` and `in` on a time field.
    Times(TimeSet),
    Compare(Bound, Value),
    /// `contain` and `contain_in`: the escaped needles as one case-insensitive regex.
    Contain(Regex),
    Exists(bool),
    Regex(Vec<Regex>),
    /// `datetime_*`, and the order operators on a time field.
    Datetime(Bound, DateTime<Utc>),
    Timediff(Bound, Timediff),
    /// Some element of a list passes every one of these (on its fields, or on itself).
    Match(Vec<Condition>),
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub(super) key: String,
    path: Path,
    pub(super) test: Test,
    /// `not`, `not_in`, `not_contain`, `not_contain_in`: true where the test is not,
    /// missing fields included (as MongoDB's `$ne`, `$nin`, `$not`).
    pub(super) negated: bool,
}

fn bad(at: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{at}: {message}"))
}

/// A value named for an error message.
pub fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

impl Condition {
    /// The path the condition looks at, as written (after aliases).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The top-level event field the condition looks at.
    pub fn field(&self) -> &str {
        self.path.field()
    }

    /// Parses `{k, v, o}` (or `{key, value, operator}`); `at` names it in errors.
    pub fn parse(raw: &Value, at: &str) -> Result<Condition> {
        let object = raw
            .as_object()
            .ok_or_else(|| bad(at, format!("a condition is an object {{k, v, o}}, not {}", describe(raw))))?;
        if let Some(unknown) = object.keys().find(|k| !CONDITION_KEYS.contains(&k.as_str())) {
            return Err(bad(at, format!("unknown key '{unknown}'; a condition has k, v and o")));
        }
        let field = |long: &str, short: &str| object.get(long).or_else(|| object.get(short));
        let key = match field("key", "k") {
            Some(Value::String(k)) if !k.is_empty() => k.as_str(),
            _ => return Err(bad(at, "needs 'k', the field to test (a dotted path such as resource.name)")),
        };
        let op = match field("operator", "o") {
            None | Some(Value::Null) => "eq",
            Some(Value::String(o)) => o.as_str(),
            Some(other) => {
                return Err(bad(at, format!("'o' must be an operator name, not {}", describe(other))))
            }
        };
        let key = KEY_ALIASES.iter().find(|(alias, _)| *alias == key).map_or(key, |(_, real)| real);
        Condition::build(key, op, field("value", "v").unwrap_or(&Value::Null), at)
    }

    /// `key` is exactly `value`.
    pub fn eq(key: &str, value: &str) -> Condition {
        let one_of = OneOf { texts: HashSet::from([value.to_string()]), ..OneOf::default() };
        Condition { key: key.to_string(), path: Path::new(key), test: Test::OneOf(one_of), negated: false }
    }

    /// An empty `key` tests the value itself (an element, for `match`).
    fn build(key: &str, op: &str, v: &Value, at: &str) -> Result<Condition> {
        let negated = matches!(op, "not" | "not_in" | "not_contain" | "not_contain_in");
        let test = parse_test(key, op, v, at)?;
        Ok(Condition { key: key.to_string(), path: Path::new(key), test, negated })
    }

    pub fn matches(&self, event: &Value, now: DateTime<Utc>) -> bool {
        self.holds(event, now) != self.negated
    }

    fn holds(&self, event: &Value, now: DateTime<Utc>) -> bool {
        let any = |test: &mut dyn FnMut(&Value) -> bool| self.path.any(event, Leaves::Elements, test);
        match &self.test {
            Test::OneOf(one_of) => (one_of.null && !self.path.exists(event)) || any(&mut |f| one_of.holds(f)),
            Test::Times(times) => (times.null && !self.path.exists(event)) || any(&mut |f| times.holds(f)),
            Test::Compare(bound, v) => any(&mut |f| bracket_cmp(f, v).is_some_and(|o| bound.holds(o))),
            Test::Contain(re) => any(&mut |f| f.as_str().is_some_and(|s| re.is_match(s))),
            Test::Exists(wanted) => self.path.exists(event) == *wanted,
            Test::Regex(res) => any(&mut |f| f.as_str().is_some_and(|s| res.iter().any(|r| r.is_match(s)))),
            Test::Datetime(bound, t) => any(&mut |f| event_time(f).is_some_and(|ft| bound.holds(ft.cmp(t)))),
            Test::Timediff(bound, diff) => {
                let t = diff.at(now);
                any(&mut |f| event_time(f).is_some_and(|ft| bound.holds(ft.cmp(&t))))
            }
            Test::Match(clauses) => self.path.any(event, Leaves::AsFound, &mut |f| {
                f.as_array()
                    .is_some_and(|items| items.iter().any(|e| clauses.iter().all(|c| c.matches(e, now))))
            }),
        }
    }
}

impl OneOf {
    fn parse(items: &[Value]) -> Option<OneOf> {
        let mut set = OneOf::default();
        for item in items {
            match item {
                Value::Null => set.null = true,
                Value::String(s) => {
                    set.texts.insert(s.clone());
                }
                Value::Array(_) => return None,
                other => set.others.push(other.clone()),
            }
        }
        Some(set)
    }

    fn holds(&self, field: &Value) -> bool {
        match field {
            Value::String(s) => self.texts.contains(s.as_str()),
            Value::Null => self.null,
            other => self.others.iter().any(|o| same(other, o)),
        }
    }
}

fn parse_test(key: &str, op: &str, v: &Value, at: &str) -> Result<Test> {
    let wrong = |wants: &str| bad(at, format!("operator '{op}' takes {wants} in 'v', not {}", describe(v)));
    let list = || v.as_array().ok_or_else(|| wrong("a list"));
    let time_field = time_operand::is_time_field(key);
    let needle = |item: &Value| match item {
        Value::String(s) => Ok(regex::escape(s)),
        Value::Number(n) => Ok(regex::escape(&n.to_string())),
        _ => Err(wrong(if op.ends_with("_in") { "a list of text" } else { "text" })),
    };
    let regex = |item: &Value| -> Result<Regex> {
        let pattern = item.as_str().ok_or_else(|| {
            wrong(if op == "regex_in" { "a list of regular expressions" } else { "a regular expression" })
        })?;
        compile_regex(pattern)
            .map_err(|e| bad(at, format!("'{pattern}' is not a valid regular expression: {e}")))
    };
    let on = if time_field { format!(" (as {key} holds times)") } else { String::new() };
    let time = || time_operand::parse(v).ok_or_else(|| wrong(&format!("a time{on} in {TIME_FORMS}")));
    Ok(match op {
        "eq" | "not" | "in" | "not_in" => {
            let operands = match (op, v) {
                ("eq" | "not", Value::Array(_)) => return Err(wrong("one value (use 'in' for a list)")),
                ("eq" | "not", v) => std::slice::from_ref(v),
                _ => list()?,
            };
            if time_field {
                let wants = if op.ends_with("in") { "a list of times" } else { "a time" };
                let wants = format!("{wants}{on} in {TIME_FORMS}");
                Test::Times(TimeSet::parse(operands).map_err(|_| wrong(&wants))?)
            } else {
                Test::OneOf(OneOf::parse(operands).ok_or_else(|| wrong("values (not lists)"))?)
            }
        }
        "lt" | "lte" | "gt" | "gte" => {
            let bound = Bound::from_suffix(op).expect("an order operator");
            match v {
                _ if time_field => Test::Datetime(bound, time()?),
                Value::Number(_) | Value::String(_) | Value::Bool(_) => Test::Compare(bound, v.clone()),
                _ => return Err(wrong("a number or text")),
            }
        }
        "contain" | "not_contain" => Test::Contain(
            compile_regex(&needle(v)?)
                .map_err(|e| bad(at, format!("'v' is too large to search for: {e}")))?,
        ),
        "contain_in" | "not_contain_in" => {
            let needles = list()?.iter().map(needle).collect::<Result<Vec<_>>>()?;
            if needles.is_empty() {
                return Err(wrong("a non-empty list"));
            }
            let pattern = needles.join("|");
            Test::Contain(
                compile_regex(&pattern)
                    .map_err(|e| bad(at, format!("'v' is too large to search for: {e}")))?,
            )
        }
        "exists" => Test::Exists(v.as_bool().ok_or_else(|| wrong("true or false"))?),
        "regex" => Test::Regex(vec![regex(v)?]),
        "regex_in" => Test::Regex(list()?.iter().map(regex).collect::<Result<_>>()?),
        "match" => {
            let operand = v.as_object().ok_or_else(|| wrong(MATCH_HELP))?;
            let clauses = elem_match::clauses(operand, at)?;
            Test::Match(
                clauses
                    .iter()
                    .map(|c| Condition::build(c.key, c.op, c.operand, &c.at))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            if let Some(bound) = op.strip_prefix("datetime_").and_then(Bound::from_suffix) {
                Test::Datetime(bound, time()?)
            } else if let Some(bound) = op.strip_prefix("timediff_").and_then(Bound::from_suffix) {
                Test::Timediff(
                    bound,
                    v.as_str().and_then(Timediff::parse).ok_or_else(|| wrong(TIMEDIFF_HELP))?,
                )
            } else {
                return Err(bad(
                    at,
                    format!("operator '{op}' is unknown; allowed: {}", OPERATORS.join(", ")),
                ));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::parse_time;

    fn cond(k: &str, o: &str, v: Value) -> Condition {
        Condition::parse(&json!({"k": k, "o": o, "v": v}), "filter[0]").unwrap()
    }

    fn now() -> DateTime<Utc> {
        parse_time("2022-06-22T00:00:00Z").unwrap()
    }

    fn hit(k: &str, o: &str, v: Value) -> bool {
        cond(k, o, v).matches(&event(), now())
    }

    fn err(raw: Value) -> String {
        Condition::parse(&raw, "filter[2]").unwrap_err().to_string()
    }

    fn event() -> Value {
        json!({
            "event_id": "event-4e16ba3bd384", "event_key": "Key-1", "title": "Disk Full",
            "severity": "CRITICAL",
            "count": 5, "ratio": 0.25, "flag": true, "none": null,
            "created_at": "2022-06-21T00:34:58.034Z",
            "resource": {"resource_id": "server-1187737cc0d9", "name": "DB-1"},
            "additional_info": {"user": "spaceoneadm"},
            "tags": [{"key": "env", "value": "prod", "n": 3}, {"key": "team", "value": "ops", "n": 7}],
            "labels": ["a", "B"],
            "raw_data": {"alerts": [{"labels": {"alertname": "HighCPU"}},
                                    {"labels": {"alertname": "DiskFull"}}]},
        })
    }

    #[test]
    fn eq_matches_values_through_paths_and_list_elements() {
        assert!(hit("severity", "eq", json!("CRITICAL")));
        assert!(hit("resource.name", "eq", json!("DB-1")));
        assert!(hit("event_id", "eq", json!("event-4e16ba3bd384")));
        assert!(!hit("event_key", "eq", json!("key-1")));
        assert!(hit("resource.resource_id", "eq", json!("server-1187737cc0d9")));
        assert!(
            hit("resource_id", "eq", json!("server-1187737cc0d9")),
            "resource_id means resource.resource_id"
        );
        assert!(hit("count", "eq", json!(5.0)));
        assert!(!hit("count", "eq", json!("5")), "text is not a number");
        assert!(hit("flag", "eq", json!(true)));
        assert!(hit("labels", "eq", json!("B")), "a list matches by element");
        assert!(hit("raw_data.alerts.labels.alertname", "eq", json!("DiskFull")), "paths go through lists");
    }

    #[test]
    fn eq_null_matches_null_or_missing() {
        assert!(hit("none", "eq", json!(null)));
        assert!(hit("missing", "eq", json!(null)));
        assert!(!hit("title", "eq", json!(null)));
        assert!(
            Condition::parse(&json!({"k": "missing"}), "f").unwrap().matches(&event(), now()),
            "v defaults to null"
        );
    }

    #[test]
    fn not_is_true_where_eq_is_not_including_missing_fields() {
        assert!(hit("severity", "not", json!("INFO")));
        assert!(!hit("severity", "not", json!("CRITICAL")));
        assert!(hit("missing", "not", json!("x")));
        assert!(!hit("labels", "not", json!("a")));
        assert!(hit("title", "not", json!(null)));
    }

    #[test]
    fn order_operators_compare_numbers_numerically_and_text_lexically() {
        assert!(hit("count", "gt", json!(4)));
        assert!(hit("count", "gte", json!(5)));
        assert!(hit("count", "lte", json!(5.5)));
        assert!(!hit("count", "lt", json!(5)));
        assert!(hit("ratio", "lt", json!(1)));
        assert!(hit("title", "gt", json!("Disk")));
        assert!(hit("title", "lt", json!("E")));
        assert!(hit("created_at", "gte", json!("2022-06-21")), "the time fields order as times");
        assert!(!hit("count", "gt", json!("1")), "no ordering across types");
        assert!(!hit("missing", "lt", json!(10)));
        assert!(hit("tags.n", "gt", json!(6)), "any list element");
    }

    #[test]
    fn in_and_not_in_take_lists() {
        assert!(hit("severity", "in", json!(["INFO", "CRITICAL"])));
        assert!(!hit("severity", "in", json!(["INFO"])));
        assert!(hit("count", "in", json!([1, 5])));
        assert!(hit("missing", "in", json!(["x", null])), "null in the list matches a missing field");
        assert!(hit("severity", "not_in", json!(["INFO", "ERROR"])));
        assert!(!hit("severity", "not_in", json!(["CRITICAL"])));
        assert!(hit("missing", "not_in", json!(["x"])));
        assert!(!hit("severity", "in", json!([])), "an empty list matches nothing");
    }

    #[test]
    fn contain_operators_search_text_case_insensitively() {
        assert!(hit("title", "contain", json!("disk")));
        assert!(hit("title", "contain", json!("K F")));
        assert!(!hit("title", "contain", json!("d.sk")), "needles are literal, not patterns");
        assert!(hit("title", "not_contain", json!("cpu")));
        assert!(hit("missing", "not_contain", json!("cpu")));
        assert!(hit("title", "contain_in", json!(["cpu", "FULL"])));
        assert!(!hit("title", "contain_in", json!(["cpu", "memory"])));
        assert!(!hit("title", "not_contain_in", json!(["cpu", "full"])), "none of the needles may occur");
        assert!(hit("title", "not_contain_in", json!(["cpu", "memory"])));
        assert!(hit("labels", "contain", json!("b")));
        assert!(!hit("count", "contain", json!(5)), "only text is searched, as in MongoDB");
    }

    #[test]
    fn exists_sees_null_as_present() {
        assert!(hit("additional_info.user", "exists", json!(true)));
        assert!(hit("additional_info.host", "exists", json!(false)));
        assert!(hit("none", "exists", json!(true)));
        assert!(hit("tags.value", "exists", json!(true)));
        assert!(!hit("tags.colour", "exists", json!(true)));
    }

    #[test]
    fn regex_operators_are_case_insensitive() {
        assert!(hit("title", "regex", json!("^disk")));
        assert!(!hit("title", "regex", json!("^full")));
        assert!(hit("title", "regex_in", json!(["^cpu", "FULL$"])));
        assert!(!hit("title", "regex_in", json!(["^cpu", "^memory"])));
        assert!(hit("labels", "regex", json!("^b$")));
    }

    #[test]
    fn datetime_operators_compare_as_times() {
        assert!(hit("created_at", "datetime_gte", json!("2022-06-21")));
        assert!(hit("created_at", "datetime_gt", json!("2022-06-21T09:00:00+09:00")));
        assert!(hit("created_at", "datetime_lt", json!("2022-06-21T00:35:00Z")));
        assert!(hit("created_at", "datetime_lte", json!("2022-06-21T00:34:58.034Z")));
        assert!(!hit("created_at", "datetime_gt", json!("2022-06-21T00:34:58.034Z")));
        assert!(!hit("title", "datetime_gt", json!("2000-01-01")), "text that is no time never matches");
    }

    #[test]
    fn timediff_operators_compare_with_the_time_of_evaluation() {
        assert!(hit("created_at", "timediff_gte", json!("now-1d")));
        assert!(!hit("created_at", "timediff_gte", json!("now-1h")));
        assert!(hit("created_at", "timediff_lt", json!("now")));
        assert!(hit("created_at", "timediff_lte", json!("now/d")));
        assert!(hit("created_at", "timediff_gt", json!("now/w-1w")));
        let later = parse_time("2022-07-01T00:00:00Z").unwrap();
        assert!(!cond("created_at", "timediff_gte", json!("now-1d")).matches(&event(), later));
    }

    #[test]
    fn match_finds_one_element_with_every_field() {
        assert!(hit("tags", "match", json!({"key": "env", "value": "prod"})));
        assert!(!hit("tags", "match", json!({"key": "env", "value": "ops"})), "both in one element");
        assert!(hit("tags", "match", json!({"key": "team", "n": {"$gt": 5, "$lte": 7}})));
        assert!(!hit("tags", "match", json!({"key": "env", "n": {"$gt": 5}})));
        assert!(hit("tags", "match", json!({"value": {"$in": ["x", "ops"]}})));
        assert!(!hit("title", "match", json!({"x": 1})));
    }

    /// The examples: stored `WARNING` and `Web-01`, asked for in other cases.
    #[test]
    fn eq_not_in_and_not_in_are_exact_on_every_field() {
        let stored = json!({"severity": "WARNING", "resource": {"name": "Web-01"}, "labels": ["a", "B"]});
        let on = |k: &str, o: &str, v: Value| cond(k, o, v).matches(&stored, now());
        assert!(!on("severity", "eq", json!("warning")));
        assert!(on("severity", "eq", json!("WARNING")));
        assert!(!on("resource.name", "eq", json!("web-01")));
        assert!(on("resource.name", "not", json!("web-01")));
        assert!(!on("severity", "in", json!(["warning", "info"])));
        assert!(on("severity", "not_in", json!(["warning"])));
        assert!(!on("labels", "eq", json!("b")));
        assert!(on("labels", "in", json!(["B"])));
    }

    /// `created_at`/`occurred_at` operands are times: offsets, a space for `T`, with or
    /// without fractions, all compared as instants.
    #[test]
    fn order_and_equality_on_the_time_fields_compare_times() {
        let stored =
            json!({"created_at": "2026-11-30T04:16:52.640Z", "occurred_at": "2026-11-30T03:16:46.000Z"});
        let on = |k: &str, o: &str, v: Value| cond(k, o, v).matches(&stored, now());
        assert!(
            !on("occurred_at", "lte", json!("2026-11-30T12:16:45+09:00")),
            "03:16:46Z is after 03:16:45Z"
        );
        assert!(on("occurred_at", "gt", json!("2026-11-30T12:16:45+09:00")));
        assert!(on("created_at", "lt", json!("2026-11-30 04:16:53")));
        assert!(on("created_at", "gt", json!("2026-11-30T04:16:52Z")), ".640 is after the whole second");
        assert!(on("created_at", "gte", json!("2026-11-30T04:16:52.64Z")));
        assert!(on("created_at", "eq", json!("2026-11-30T13:16:52.640+09:00")));
        assert!(on("created_at", "eq", json!("2026-11-30 04:16:52.64")));
        assert!(!on("created_at", "not", json!("2026-11-30T04:16:52.640000Z")));
        assert!(on("occurred_at", "in", json!(["2026-11-29", "2026-11-30T03:16:46Z"])));
        assert!(!on("occurred_at", "not_in", json!(["2026-11-30T12:16:46+09:00"])));
    }

    #[test]
    fn a_time_operand_that_does_not_parse_is_refused_naming_the_condition() {
        for (o, v) in [("lt", json!("soon")), ("eq", json!("2026-13-01")), ("in", json!(["2026-11-30", "x"]))]
        {
            let message = err(json!({"k": "created_at", "v": v, "o": o}));
            assert!(message.starts_with("filter[2]: "), "{message}");
            assert!(message.contains("ISO 8601"), "{message}");
        }
        assert!(err(json!({"k": "occurred_at", "v": 5, "o": "gte"})).contains("ISO 8601"));
    }

    /// MongoDB's `$elemMatch` matches arrays only: an object is not a one-element list.
    #[test]
    fn match_never_matches_an_object() {
        assert!(!hit("resource", "match", json!({"name": "DB-1"})));
        let resource = json!({"resource": {"name": "db-01"}});
        assert!(!cond("resource", "match", json!({"name": "db-01"})).matches(&resource, now()));
        let listed = json!({"resource": [{"name": "db-01"}]});
        assert!(cond("resource", "match", json!({"name": "db-01"})).matches(&listed, now()));
    }

    /// `{"$in": [...]}` and the other operators test each element of a list of values.
    #[test]
    fn match_with_operators_tests_plain_list_elements() {
        let tagged = json!({"raw_data": {"additional_info": {"tags": ["prod", "web"]}}});
        let tags = |v: Value| cond("raw_data.additional_info.tags", "match", v).matches(&tagged, now());
        assert!(tags(json!({"$in": ["prod", "db"]})));
        assert!(!tags(json!({"$in": ["dev", "db"]})));
        assert!(tags(json!({"$eq": "web"})));
        assert!(!tags(json!({"$eq": "WEB"})), "exact, as $eq is");
        assert!(tags(json!({"$ne": "prod"})), "web is not prod");
        assert!(!tags(json!({"$nin": ["prod", "web"]})));
        assert!(tags(json!({"$gt": "q", "$lt": "x"})), "one element is both");
        assert!(!tags(json!({"$gte": "x"})));
        assert!(tags(json!({"$lte": "prod"})));
        assert!(tags(json!({"$regex": "^we"})));
        assert!(tags(json!({"$exists": true})));
        assert!(!cond("raw_data.additional_info", "match", json!({"$exists": true})).matches(&tagged, now()));
        let mixed = err(json!({"k": "tags", "v": {"$in": ["a"], "key": "x"}, "o": "match"}));
        assert!(mixed.starts_with("filter[2]"), "{mixed}");
    }

    #[test]
    fn key_and_operator_have_long_spellings_and_o_defaults_to_eq() {
        let raw = json!({"key": "severity", "value": ["INFO", "CRITICAL"], "operator": "in"});
        assert!(Condition::parse(&raw, "f").unwrap().matches(&event(), now()));
        assert!(Condition::parse(&json!({"k": "severity", "v": "CRITICAL"}), "f")
            .unwrap()
            .matches(&event(), now()));
    }

    #[test]
    fn malformed_conditions_name_themselves_and_what_is_allowed() {
        let unknown = err(json!({"k": "severity", "v": "x", "o": "eqq"}));
        assert!(unknown.starts_with("filter[2]: operator 'eqq' is unknown; allowed: eq, not,"), "{unknown}");
        assert!(unknown.ends_with("timediff_gte, match"), "{unknown}");
        assert!(err(json!({"v": 1})).contains("needs 'k'"));
        assert!(err(json!({"k": "", "v": 1})).contains("needs 'k'"));
        assert!(err(json!({"k": "a", "v": 1, "o": 3})).contains("operator name"));
        assert!(err(json!({"k": "a", "v": 1, "op": "in"})).contains("unknown key 'op'"));
        assert!(err(json!({"k": "a", "v": "x", "o": "in"}))
            .contains("operator 'in' takes a list in 'v', not \"x\""));
        assert!(err(json!({"k": "a", "v": ["x"], "o": "eq"})).contains("one value"));
        assert!(err(json!({"k": "a", "v": {}, "o": "gt"})).contains("a number or text"));
        assert!(err(json!({"k": "a", "v": [true], "o": "contain_in"})).contains("list of text"));
        assert!(err(json!({"k": "a", "v": [], "o": "not_contain_in"})).contains("non-empty"));
        assert!(err(json!({"k": "a", "v": "yes", "o": "exists"})).contains("true or false"));
        assert!(err(json!({"k": "a", "v": "(", "o": "regex"})).contains("not a valid regular expression"));
        assert!(
            err(json!({"k": "a", "v": ["ok", 1], "o": "regex_in"})).contains("list of regular expressions")
        );
        assert!(err(json!({"k": "a", "v": "soon", "o": "datetime_gt"})).contains("ISO 8601"));
        assert!(err(json!({"k": "a", "v": "later", "o": "timediff_gt"})).contains("now-1d"));
        assert!(err(json!({"k": "a", "v": "x", "o": "match"})).contains("object"));
        assert!(err(json!({"k": "a", "v": {"n": {"$near": 1}}, "o": "match"}))
            .starts_with("filter[2].v.n: '$near'"));
        assert!(err(json!("severity=INFO")).contains("is an object {k, v, o}"));
    }

    #[test]
    fn every_listed_operator_parses() {
        for op in OPERATORS {
            let v = match op {
                "in" | "not_in" | "contain_in" | "not_contain_in" | "regex_in" => json!(["x"]),
                "exists" => json!(true),
                "match" => json!({"k": "x"}),
                o if o.starts_with("datetime") => json!("2022-01-01"),
                o if o.starts_with("timediff") => json!("now-1d"),
                _ => json!("x"),
            };
            Condition::parse(&json!({"k": "a", "o": op, "v": v}), "f").unwrap();
        }
    }
}
