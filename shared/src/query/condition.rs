//! Filter conditions `{k, v, o}`: the 24 operators of python-core's filter language,
//! parsed once (regexes compiled, times read) and then evaluated per event.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, Utc};
use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::path::lookup;
use crate::error::{Error, Result};
use crate::model::parse_time;

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

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// What a condition tests, with its operand already in the form the test needs.
#[derive(Debug, Clone)]
pub enum Test {
    Eq(Value),
    Not(Value),
    Compare(Bound, Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    Contain(String),
    NotContain(String),
    ContainIn(Vec<String>),
    NotContainIn(Vec<String>),
    Exists(bool),
    Regex(Vec<Regex>),
    Datetime(Bound, DateTime<Utc>),
    /// Relative to the time of evaluation: `now-1d` is an offset of minus one day.
    Timediff(Bound, Duration),
    Match(serde_json::Map<String, Value>),
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub key: String,
    pub test: Test,
    /// Ids compare exactly; other text compares case-insensitively.
    exact: bool,
}

fn is_id_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    last.ends_with("_id") || last == "event_key"
}

impl Condition {
    /// Parses `{k, v, o}` (or `{key, value, operator}`); `at` names the condition in errors.
    pub fn parse(raw: &Value, at: &str) -> Result<Condition> {
        let object = raw.as_object().ok_or_else(|| bad(at, "must be an object {k, v, o}"))?;
        let field = |short: &str, long: &str| object.get(short).or_else(|| object.get(long));
        let key = match field("k", "key") {
            Some(Value::String(k)) if !k.is_empty() => k.clone(),
            _ => {
                return Err(bad(
                    at,
                    "needs 'k', the field to test (a dotted path such as resource.resource_id)",
                ))
            }
        };
        let op = match field("o", "operator") {
            None | Some(Value::Null) => "eq",
            Some(Value::String(o)) => o.as_str(),
            Some(_) => return Err(bad(at, "'o' must be an operator name")),
        };
        let v = field("v", "value").cloned().unwrap_or(Value::Null);
        let test = parse_test(op, v, at)?;
        Ok(Condition { exact: is_id_key(&key), key, test })
    }

    /// Equality used by EventQuery's exact-match fields.
    pub fn exact(key: &str, value: &str) -> Condition {
        Condition { key: key.to_string(), test: Test::Eq(Value::String(value.to_string())), exact: true }
    }

    pub fn matches(&self, event: &Value, now: DateTime<Utc>) -> bool {
        let field = lookup(event, &self.key).filter(|v| !v.is_null());
        match &self.test {
            Test::Eq(v) => field.is_some_and(|f| self.equal(f, v)),
            Test::Not(v) => !field.is_some_and(|f| self.equal(f, v)),
            Test::Compare(bound, v) => field.and_then(|f| compare(f, v)).is_some_and(|o| bound.holds(o)),
            Test::In(vs) => field.is_some_and(|f| vs.iter().any(|v| self.equal(f, v))),
            Test::NotIn(vs) => !field.is_some_and(|f| vs.iter().any(|v| self.equal(f, v))),
            Test::Contain(s) => field.is_some_and(|f| contains(f, s)),
            Test::NotContain(s) => !field.is_some_and(|f| contains(f, s)),
            Test::ContainIn(ss) => field.is_some_and(|f| ss.iter().any(|s| contains(f, s))),
            Test::NotContainIn(ss) => !field.is_some_and(|f| ss.iter().any(|s| contains(f, s))),
            Test::Exists(wanted) => field.is_some() == *wanted,
            Test::Regex(res) => field.and_then(as_text).is_some_and(|t| res.iter().any(|r| r.is_match(&t))),
            Test::Datetime(bound, t) => field_time(field).is_some_and(|f| bound.holds(f.cmp(t))),
            Test::Timediff(bound, offset) => {
                field_time(field).is_some_and(|f| bound.holds(f.cmp(&(now + *offset))))
            }
            Test::Match(wanted) => field.is_some_and(|f| element_match(f, wanted)),
        }
    }

    fn equal(&self, field: &Value, wanted: &Value) -> bool {
        match (field, wanted) {
            (Value::String(a), Value::String(b)) if self.exact => a == b,
            (Value::String(a), Value::String(b)) => a.to_lowercase() == b.to_lowercase(),
            (Value::Array(items), w) if !w.is_array() => items.iter().any(|i| self.equal(i, w)),
            (a, b) => compare(a, b) == Some(Ordering::Equal) || a == b,
        }
    }

    /// A created_at bound this condition implies, at `now`.
    pub fn created_at_bound(&self, now: DateTime<Utc>) -> Option<(Bound, DateTime<Utc>)> {
        if self.key != "created_at" {
            return None;
        }
        match &self.test {
            Test::Datetime(bound, t) => Some((*bound, *t)),
            Test::Timediff(bound, offset) => Some((*bound, now + *offset)),
            _ => None,
        }
    }

    /// The exact value this condition pins `key` to, if it does. An empty value pins
    /// nothing: index keys are never empty (an event without an alert has no alert_id).
    pub fn pinned(&self, key: &str) -> Option<&str> {
        if self.key != key || !self.exact {
            return None;
        }
        let value = match &self.test {
            Test::Eq(Value::String(v)) => Some(v.as_str()),
            Test::In(vs) if vs.len() == 1 => vs[0].as_str(),
            _ => None,
        };
        value.filter(|v| !v.is_empty())
    }

    /// This condition as a test DynamoDB evaluates with the same result, if it has one:
    /// exact equality on id fields, and on severity and event_type, which are stored in
    /// their canonical upper case (so a case-insensitive match is an exact one).
    pub fn field_test(&self) -> Option<FieldTest> {
        let upper = matches!(self.key.as_str(), "severity" | "event_type");
        let exact_id = self.exact && PUSHABLE_IDS.contains(&self.key.as_str());
        if !(upper || exact_id) {
            return None;
        }
        let text = |v: &Value| -> Option<String> {
            let s = v.as_str().filter(|s| !s.is_empty())?;
            Some(if upper { s.to_uppercase() } else { s.to_string() })
        };
        let texts = |vs: &[Value]| -> Option<Vec<String>> {
            (!vs.is_empty() && vs.len() <= 100).then(|| vs.iter().map(text).collect::<Option<Vec<_>>>())?
        };
        let path = self.key.clone();
        match &self.test {
            Test::Eq(v) => Some(FieldTest::OneOf { path, values: vec![text(v)?] }),
            Test::In(vs) => Some(FieldTest::OneOf { path, values: texts(vs)? }),
            Test::Not(v) => Some(FieldTest::NoneOf { path, values: vec![text(v)?] }),
            Test::NotIn(vs) => Some(FieldTest::NoneOf { path, values: texts(vs)? }),
            _ => None,
        }
    }
}

/// Stored as plain strings, compared exactly by the engine: safe to test in DynamoDB.
const PUSHABLE_IDS: [&str; 8] = [
    "event_id",
    "event_key",
    "alert_id",
    "webhook_id",
    "project_id",
    "workspace_id",
    "domain_id",
    "resource.resource_id",
];

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
}

impl Bound {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Bound::Lt => ordering == Ordering::Less,
            Bound::Lte => ordering != Ordering::Greater,
            Bound::Gt => ordering == Ordering::Greater,
            Bound::Gte => ordering != Ordering::Less,
        }
    }
}

fn bad(at: &str, message: &str) -> Error {
    Error::invalid(format!("{at}: {message}"))
}

fn parse_test(op: &str, v: Value, at: &str) -> Result<Test> {
    let bound = |suffix: &str| match suffix {
        "lt" => Some(Bound::Lt),
        "lte" => Some(Bound::Lte),
        "gt" => Some(Bound::Gt),
        "gte" => Some(Bound::Gte),
        _ => None,
    };
    let scalar = |v: Value| -> Result<Value> {
        match v {
            Value::Array(_) | Value::Object(_) => {
                Err(bad(at, &format!("operator '{op}' takes a single value, not a list or object")))
            }
            v => Ok(v),
        }
    };
    let list = |v: Value| -> Result<Vec<Value>> {
        match v {
            Value::Array(items) => Ok(items),
            _ => Err(bad(at, &format!("operator '{op}' takes a list of values in 'v'"))),
        }
    };
    let text = |v: &Value| -> Result<String> {
        match v {
            Value::String(s) => Ok(s.to_lowercase()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(bad(at, &format!("operator '{op}' takes text in 'v'"))),
        }
    };
    let regex = |v: &Value| -> Result<Regex> {
        let pattern = v
            .as_str()
            .ok_or_else(|| bad(at, &format!("operator '{op}' takes a regular expression string")))?;
        RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| bad(at, &format!("'{pattern}' is not a valid regular expression: {e}")))
    };
    Ok(match op {
        "eq" => Test::Eq(scalar(v)?),
        "not" => Test::Not(scalar(v)?),
        "lt" | "lte" | "gt" | "gte" => Test::Compare(bound(op).expect("listed"), scalar(v)?),
        "in" => Test::In(list(v)?),
        "not_in" => Test::NotIn(list(v)?),
        "contain" => Test::Contain(text(&v)?),
        "not_contain" => Test::NotContain(text(&v)?),
        "contain_in" => Test::ContainIn(list(v)?.iter().map(text).collect::<Result<_>>()?),
        "not_contain_in" => Test::NotContainIn(list(v)?.iter().map(text).collect::<Result<_>>()?),
        "exists" => {
            Test::Exists(v.as_bool().ok_or_else(|| bad(at, "operator 'exists' takes true or false in 'v'"))?)
        }
        "regex" => Test::Regex(vec![regex(&v)?]),
        "regex_in" => Test::Regex(list(v)?.iter().map(regex).collect::<Result<_>>()?),
        "match" => match v {
            Value::Object(map) => Test::Match(map),
            _ => return Err(bad(at, "operator 'match' takes an object of fields an element must have")),
        },
        _ => {
            if let Some(suffix) = op.strip_prefix("datetime_").and_then(bound) {
                let t = v.as_str().and_then(parse_time).ok_or_else(|| {
                    bad(at, &format!("operator '{op}' takes an ISO 8601 time such as 2022-06-21T00:00:00Z"))
                })?;
                Test::Datetime(suffix, t)
            } else if let Some(suffix) = op.strip_prefix("timediff_").and_then(bound) {
                let offset = v.as_str().and_then(parse_timediff).ok_or_else(|| {
                    bad(at, &format!("operator '{op}' takes a relative time such as now, now-1d, now+30m (units s, m, h, d, w)"))
                })?;
                Test::Timediff(suffix, offset)
            } else {
                return Err(bad(
                    at,
                    &format!("operator '{op}' is unknown; allowed: {}", OPERATORS.join(", ")),
                ));
            }
        }
    })
}

/// `now`, `now-1d`, `now+30m`, `now-2h-30m`: an offset from the time of evaluation.
pub fn parse_timediff(text: &str) -> Option<Duration> {
    let mut rest = text.trim().strip_prefix("now")?;
    let mut total = Duration::zero();
    while !rest.is_empty() {
        let sign = match rest.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        rest = &rest[1..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let amount: i64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let step = match unit {
            's' => Duration::try_seconds(amount)?,
            'm' => Duration::try_minutes(amount)?,
            'h' => Duration::try_hours(amount)?,
            'd' => Duration::try_days(amount)?,
            'w' => Duration::try_weeks(amount)?,
            _ => return None,
        };
        total = if sign > 0 { total.checked_add(&step)? } else { total.checked_sub(&step)? };
        rest = &rest[digits + unit.len_utf8()..];
    }
    Some(total)
}

/// Numbers compare as numbers, text as text; other pairs do not compare.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn contains(field: &Value, needle: &str) -> bool {
    match field {
        Value::Array(items) => items.iter().any(|i| contains(i, needle)),
        other => as_text(other).is_some_and(|t| t.to_lowercase().contains(needle)),
    }
}

fn field_time(field: Option<&Value>) -> Option<DateTime<Utc>> {
    parse_time(field?.as_str()?)
}

/// A list with an element that has every wanted field (text compared case-insensitively),
/// or an object that does.
fn element_match(field: &Value, wanted: &serde_json::Map<String, Value>) -> bool {
    let fits = |element: &Value| {
        wanted.iter().all(|(k, w)| match (lookup(element, k), w) {
            (Some(Value::String(a)), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (Some(a), b) => compare(a, b) == Some(Ordering::Equal) || a == b,
            (None, _) => false,
        })
    };
    match field {
        Value::Array(items) => items.iter().any(fits),
        other => fits(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(k: &str, o: &str, v: Value) -> Condition {
        Condition::parse(&json!({"k": k, "o": o, "v": v}), "filter[0]").unwrap()
    }

    fn event() -> Value {
        json!({
            "event_id": "event-4e16ba3bd384", "title": "Disk Full", "severity": "CRITICAL", "count": 5,
            "created_at": "2022-06-21T00:34:58.034Z",
            "resource": {"resource_id": "server-1187737cc0d9", "name": "DB-1"},
            "additional_info": {"user": "spaceoneadm"},
            "tags": [{"key": "env", "value": "prod"}], "labels": ["a", "b"],
        })
    }

    #[test]
    fn eq_is_case_insensitive_on_text_and_exact_on_ids() {
        let now = Utc::now();
        assert!(cond("severity", "eq", json!("critical")).matches(&event(), now));
        assert!(cond("resource.name", "eq", json!("db-1")).matches(&event(), now));
        assert!(!cond("event_id", "eq", json!("EVENT-4E16BA3BD384")).matches(&event(), now));
        assert!(cond("resource.resource_id", "eq", json!("server-1187737cc0d9")).matches(&event(), now));
        assert!(cond("count", "eq", json!(5.0)).matches(&event(), now));
        assert!(cond("severity", "not", json!("INFO")).matches(&event(), now));
        assert!(
            cond("missing", "not", json!("x")).matches(&event(), now),
            "a missing field is 'not' anything"
        );
    }

    #[test]
    fn orderings_lists_substrings_and_regexes() {
        let now = Utc::now();
        let e = event();
        assert!(cond("count", "gt", json!(4)).matches(&e, now));
        assert!(cond("count", "lte", json!(5)).matches(&e, now));
        assert!(!cond("count", "lt", json!(5)).matches(&e, now));
        assert!(cond("severity", "in", json!(["info", "critical"])).matches(&e, now));
        assert!(cond("severity", "not_in", json!(["info"])).matches(&e, now));
        assert!(cond("title", "contain", json!("disk")).matches(&e, now));
        assert!(cond("title", "not_contain", json!("cpu")).matches(&e, now));
        assert!(cond("title", "contain_in", json!(["cpu", "FULL"])).matches(&e, now));
        assert!(!cond("title", "not_contain_in", json!(["cpu", "full"])).matches(&e, now));
        assert!(cond("labels", "contain", json!("b")).matches(&e, now));
        assert!(cond("title", "regex", json!("^disk")).matches(&e, now));
        assert!(cond("title", "regex_in", json!(["^cpu", "full$"])).matches(&e, now));
        assert!(cond("additional_info.user", "exists", json!(true)).matches(&e, now));
        assert!(cond("additional_info.host", "exists", json!(false)).matches(&e, now));
        assert!(cond("tags", "match", json!({"key": "ENV", "value": "prod"})).matches(&e, now));
        assert!(!cond("tags", "match", json!({"key": "env", "value": "dev"})).matches(&e, now));
    }

    #[test]
    fn datetimes_and_timediffs_compare_as_times() {
        let now = parse_time("2022-06-22T00:00:00Z").unwrap();
        let e = event();
        assert!(cond("created_at", "datetime_gte", json!("2022-06-21")).matches(&e, now));
        assert!(cond("created_at", "datetime_lt", json!("2022-06-21T00:35:00Z")).matches(&e, now));
        assert!(!cond("created_at", "datetime_gt", json!("2022-06-21T00:34:58.034Z")).matches(&e, now));
        assert!(cond("created_at", "timediff_gte", json!("now-1d")).matches(&e, now));
        assert!(!cond("created_at", "timediff_gte", json!("now-1h")).matches(&e, now));
        assert_eq!(parse_timediff("now-2h+30m"), Some(Duration::minutes(-90)));
        assert_eq!(parse_timediff("now"), Some(Duration::zero()));
        assert_eq!(parse_timediff("yesterday"), None);
        assert_eq!(parse_timediff("now-1y"), None);
    }

    #[test]
    fn malformed_conditions_name_themselves_and_what_is_allowed() {
        let err = |raw: Value| Condition::parse(&raw, "filter[2]").unwrap_err().to_string();
        let unknown = err(json!({"k": "severity", "v": "x", "o": "eqq"}));
        assert!(unknown.starts_with("filter[2]: operator 'eqq' is unknown; allowed: eq, not,"), "{unknown}");
        assert!(err(json!({"v": 1})).contains("needs 'k'"));
        assert!(err(json!({"k": "a", "v": "x", "o": "in"})).contains("list"));
        assert!(err(json!({"k": "a", "v": "yes", "o": "exists"})).contains("true or false"));
        assert!(err(json!({"k": "a", "v": "(", "o": "regex"})).contains("not a valid regular expression"));
        assert!(err(json!({"k": "a", "v": "soon", "o": "datetime_gt"})).contains("ISO 8601"));
        assert!(err(json!({"k": "a", "v": "later", "o": "timediff_gt"})).contains("now-1d"));
        assert!(err(json!("severity=INFO")).contains("must be an object"));
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
