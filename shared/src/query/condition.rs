//! Filter conditions `{k, v, o}`: the 24 operators of python-core's `filter_operator.py`,
//! parsed once (operands folded to lower case, regexes compiled, times read) and then
//! evaluated per event without parsing or allocating.
//!
//! Text comparisons follow our spec rather than MongoDB: `eq`, `in` and `contain` ignore
//! case, except on ids (keys ending in `_id`, and `event_key`), which match exactly.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

use super::path::{Leaves, Path};
use super::times::{event_time, Timediff, TIMEDIFF_HELP};
use super::value::{bracket_cmp, same};
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

/// The keys a condition object may have: python-core reads both spellings.
const CONDITION_KEYS: [&str; 6] = ["k", "key", "v", "value", "o", "operator"];

/// Keys the reference's Event model renames before querying (`change_query_keys`).
const KEY_ALIASES: [(&str, &str); 1] = [("resource_id", "resource.resource_id")];

/// A regex may not compile to more than this: queries come from callers.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

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

/// The values `in` accepts, sorted by how they compare.
#[derive(Debug, Clone, Default)]
struct OneOf {
    /// Text as given (ids) or folded to lower case (other fields).
    texts: HashSet<String>,
    others: Vec<Value>,
    null: bool,
}

/// What a condition tests, with its operand already in the form the test needs.
#[derive(Debug, Clone)]
enum Test {
    /// `eq`, and `in` with its list; a null operand also matches a missing field.
    OneOf(OneOf),
    Compare(Bound, Value),
    /// `contain` and `contain_in`: the escaped needles as one case-insensitive regex.
    Contain(Regex),
    Exists(bool),
    Regex(Vec<Regex>),
    Datetime(Bound, DateTime<Utc>),
    Timediff(Bound, Timediff),
    /// Some element of a list has every listed field condition.
    Match(Vec<Condition>),
}

#[derive(Debug, Clone)]
pub struct Condition {
    key: String,
    path: Path,
    test: Test,
    /// `not`, `not_in`, `not_contain`, `not_contain_in`: true where the test is not,
    /// missing fields included (as MongoDB's `$ne`, `$nin`, `$not`).
    negated: bool,
    exact: bool,
}

fn is_id_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    last.ends_with("_id") || last == "event_key"
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

    /// `key` is `v`, with `eq`'s rules: exact on ids, case-insensitive on other text.
    pub fn eq(key: &str, value: &str) -> Condition {
        let exact = is_id_key(key);
        let text = if exact { value.to_string() } else { value.to_lowercase() };
        let one_of = OneOf { texts: HashSet::from([text]), ..OneOf::default() };
        Condition {
            key: key.to_string(),
            path: Path::new(key),
            test: Test::OneOf(one_of),
            negated: false,
            exact,
        }
    }

    fn build(key: &str, op: &str, v: &Value, at: &str) -> Result<Condition> {
        let exact = is_id_key(key);
        let negated = matches!(op, "not" | "not_in" | "not_contain" | "not_contain_in");
        let test = parse_test(op, v, exact, at)?;
        Ok(Condition { key: key.to_string(), path: Path::new(key), test, negated, exact })
    }

    pub fn matches(&self, event: &Value, now: DateTime<Utc>) -> bool {
        self.holds(event, now) != self.negated
    }

    fn holds(&self, event: &Value, now: DateTime<Utc>) -> bool {
        let any = |test: &mut dyn FnMut(&Value) -> bool| self.path.any(event, Leaves::Elements, test);
        match &self.test {
            Test::OneOf(one_of) => {
                (one_of.null && !self.path.exists(event)) || any(&mut |f| one_of.holds(f, self.exact))
            }
            Test::Compare(bound, v) => any(&mut |f| bracket_cmp(f, v).is_some_and(|o| bound.holds(o))),
            Test::Contain(re) => any(&mut |f| f.as_str().is_some_and(|s| re.is_match(s))),
            Test::Exists(wanted) => self.path.exists(event) == *wanted,
            Test::Regex(res) => any(&mut |f| f.as_str().is_some_and(|s| res.iter().any(|r| r.is_match(s)))),
            Test::Datetime(bound, t) => any(&mut |f| event_time(f).is_some_and(|ft| bound.holds(ft.cmp(t)))),
            Test::Timediff(bound, diff) => {
                let t = diff.at(now);
                any(&mut |f| event_time(f).is_some_and(|ft| bound.holds(ft.cmp(&t))))
            }
            Test::Match(fields) => self.path.any(event, Leaves::AsFound, &mut |f| match f {
                Value::Array(items) => items.iter().any(|e| fields.iter().all(|c| c.matches(e, now))),
                Value::Object(_) => fields.iter().all(|c| c.matches(f, now)),
                _ => false,
            }),
        }
    }

    /// A created_at bound this condition implies at `now`, for the store's key range.
    pub fn created_at_bound(&self, now: DateTime<Utc>) -> Option<(Bound, DateTime<Utc>)> {
        if self.key != "created_at" {
            return None;
        }
        match &self.test {
            Test::Datetime(bound, t) => Some((*bound, *t)),
            Test::Timediff(bound, diff) => Some((*bound, diff.at(now))),
            _ => None,
        }
    }

    /// The one value this condition pins `key` to, if it does. An empty value pins
    /// nothing: index keys are never empty (an event without an alert has no alert_id).
    pub fn pinned(&self, key: &str) -> Option<&str> {
        if self.key != key || !self.exact || self.negated {
            return None;
        }
        match &self.test {
            Test::OneOf(OneOf { texts, others, null: false }) if texts.len() == 1 && others.is_empty() => {
                texts.iter().next().map(String::as_str).filter(|v| !v.is_empty())
            }
            _ => None,
        }
    }

    /// This condition as a test DynamoDB evaluates with the same result, if it has one:
    /// equality on id fields, and on severity and event_type, which are stored in
    /// canonical upper case (so a case-insensitive match is an exact one).
    pub fn field_test(&self) -> Option<FieldTest> {
        let upper = matches!(self.key.as_str(), "severity" | "event_type");
        let id = self.exact && PUSHABLE_IDS.contains(&self.key.as_str());
        if !upper && !id {
            return None;
        }
        let Test::OneOf(OneOf { texts, others, null: false }) = &self.test else {
            return None;
        };
        // Non-ASCII text upper-cases differently from how the engine folds it.
        let pushable = |v: &String| !v.is_empty() && (!upper || v.is_ascii());
        if !others.is_empty() || texts.is_empty() || texts.len() > 100 || !texts.iter().all(pushable) {
            return None;
        }
        let mut values: Vec<String> =
            texts.iter().map(|v| if upper { v.to_uppercase() } else { v.clone() }).collect();
        values.sort();
        let path = self.key.clone();
        Some(if self.negated {
            FieldTest::NoneOf { path, values }
        } else {
            FieldTest::OneOf { path, values }
        })
    }
}

impl OneOf {
    fn holds(&self, field: &Value, exact: bool) -> bool {
        match field {
            Value::String(s) if exact => self.texts.contains(s.as_str()),
            Value::String(s) => self.texts.contains(folded(s).as_ref()),
            Value::Null => self.null,
            other => self.others.iter().any(|o| same(other, o)),
        }
    }
}

fn folded(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
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

fn parse_test(op: &str, v: &Value, exact: bool, at: &str) -> Result<Test> {
    let wrong = |wants: &str| bad(at, format!("operator '{op}' takes {wants} in 'v', not {}", describe(v)));
    let list = || v.as_array().ok_or_else(|| wrong("a list"));
    let one_of = |items: &[Value]| -> Result<OneOf> {
        let mut set = OneOf::default();
        for item in items {
            match item {
                Value::Null => set.null = true,
                Value::String(s) => {
                    set.texts.insert(if exact { s.clone() } else { s.to_lowercase() });
                }
                Value::Array(_) => return Err(wrong("values (not lists)")),
                other => set.others.push(other.clone()),
            }
        }
        Ok(set)
    };
    let needle = |item: &Value| match item {
        Value::String(s) => Ok(regex::escape(s)),
        Value::Number(n) => Ok(regex::escape(&n.to_string())),
        _ => Err(wrong(if op.ends_with("_in") { "a list of text" } else { "text" })),
    };
    let regex = |item: &Value| -> Result<Regex> {
        let pattern = item.as_str().ok_or_else(|| {
            wrong(if op == "regex_in" { "a list of regular expressions" } else { "a regular expression" })
        })?;
        compile(pattern).map_err(|e| bad(at, format!("'{pattern}' is not a valid regular expression: {e}")))
    };
    Ok(match op {
        "eq" | "not" => match v {
            Value::Array(_) => return Err(wrong("one value (use 'in' for a list)")),
            v => Test::OneOf(one_of(std::slice::from_ref(v))?),
        },
        "lt" | "lte" | "gt" | "gte" => match v {
            Value::Number(_) | Value::String(_) | Value::Bool(_) => {
                Test::Compare(Bound::from_suffix(op).expect("an order operator"), v.clone())
            }
            _ => return Err(wrong("a number or text")),
        },
        "in" | "not_in" => Test::OneOf(one_of(list()?)?),
        "contain" | "not_contain" => Test::Contain(
            compile(&needle(v)?).map_err(|e| bad(at, format!("'v' is too large to search for: {e}")))?,
        ),
        "contain_in" | "not_contain_in" => {
            let needles = list()?.iter().map(needle).collect::<Result<Vec<_>>>()?;
            if needles.is_empty() {
                return Err(wrong("a non-empty list"));
            }
            let pattern = needles.join("|");
            Test::Contain(
                compile(&pattern).map_err(|e| bad(at, format!("'v' is too large to search for: {e}")))?,
            )
        }
        "exists" => Test::Exists(v.as_bool().ok_or_else(|| wrong("true or false"))?),
        "regex" => Test::Regex(vec![regex(v)?]),
        "regex_in" => Test::Regex(list()?.iter().map(regex).collect::<Result<_>>()?),
        "match" => match v {
            Value::Object(fields) => Test::Match(match_fields(fields, at)?),
            _ => return Err(wrong("an object of the fields a list element must have")),
        },
        _ => {
            if let Some(bound) = op.strip_prefix("datetime_").and_then(Bound::from_suffix) {
                let t = v.as_str().and_then(parse_time);
                Test::Datetime(
                    bound,
                    t.ok_or_else(|| wrong("an ISO 8601 time such as 2022-06-21T00:00:00Z"))?,
                )
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

fn compile(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).size_limit(REGEX_SIZE_LIMIT).build()
}

/// MongoDB's `$elemMatch` spellings of our operators, for `match` values such as
/// `{"value": {"$gt": 5}}`.
const ELEM_MATCH_OPERATORS: [(&str, &str); 10] = [
    ("$eq", "eq"),
    ("$ne", "not"),
    ("$gt", "gt"),
    ("$gte", "gte"),
    ("$lt", "lt"),
    ("$lte", "lte"),
    ("$in", "in"),
    ("$nin", "not_in"),
    ("$regex", "regex"),
    ("$exists", "exists"),
];

/// `{field: value}` is equality; `{field: {"$gt": 5, ...}}` are operator tests.
fn match_fields(fields: &Map<String, Value>, at: &str) -> Result<Vec<Condition>> {
    if fields.is_empty() {
        return Err(bad(at, "operator 'match' needs at least one field in 'v'"));
    }
    let mut conditions = Vec::new();
    for (key, wanted) in fields {
        let at = format!("{at}.v.{key}");
        match wanted {
            Value::Object(ops) if !ops.is_empty() && ops.keys().all(|k| k.starts_with('$')) => {
                for (name, operand) in ops {
                    let op = ELEM_MATCH_OPERATORS.iter().find(|(m, _)| m == name).map(|(_, o)| *o);
                    let op = op.ok_or_else(|| {
                        let names: Vec<&str> = ELEM_MATCH_OPERATORS.iter().map(|(m, _)| *m).collect();
                        bad(&at, format!("'{name}' is unknown; allowed: {}", names.join(", ")))
                    })?;
                    conditions.push(Condition::build(key, op, operand, &at)?);
                }
            }
            _ => conditions.push(Condition::build(key, "eq", wanted, &at)?),
        }
    }
    Ok(conditions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn eq_is_case_insensitive_on_text_and_exact_on_ids() {
        assert!(hit("severity", "eq", json!("critical")));
        assert!(hit("resource.name", "eq", json!("db-1")));
        assert!(!hit("event_id", "eq", json!("EVENT-4E16BA3BD384")));
        assert!(hit("event_id", "eq", json!("event-4e16ba3bd384")));
        assert!(!hit("event_key", "eq", json!("key-1")), "event_key is an id");
        assert!(hit("resource.resource_id", "eq", json!("server-1187737cc0d9")));
        assert!(
            hit("resource_id", "eq", json!("server-1187737cc0d9")),
            "resource_id means resource.resource_id"
        );
        assert!(hit("count", "eq", json!(5.0)));
        assert!(!hit("count", "eq", json!("5")), "text is not a number");
        assert!(hit("flag", "eq", json!(true)));
        assert!(hit("labels", "eq", json!("b")), "a list matches by element");
        assert!(hit("raw_data.alerts.labels.alertname", "eq", json!("diskfull")), "paths go through lists");
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
        assert!(!hit("severity", "not", json!("critical")));
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
        assert!(hit("created_at", "gte", json!("2022-06-21")), "ISO times order as text");
        assert!(!hit("count", "gt", json!("1")), "no ordering across types");
        assert!(!hit("missing", "lt", json!(10)));
        assert!(hit("tags.n", "gt", json!(6)), "any list element");
    }

    #[test]
    fn in_and_not_in_take_lists_case_insensitively_except_ids() {
        assert!(hit("severity", "in", json!(["info", "critical"])));
        assert!(!hit("severity", "in", json!(["info"])));
        assert!(hit("count", "in", json!([1, 5])));
        assert!(!hit("event_id", "in", json!(["EVENT-4E16BA3BD384"])));
        assert!(hit("missing", "in", json!(["x", null])), "null in the list matches a missing field");
        assert!(hit("severity", "not_in", json!(["info", "error"])));
        assert!(!hit("severity", "not_in", json!(["Critical"])));
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
        assert!(hit("tags", "match", json!({"key": "ENV", "value": "prod"})));
        assert!(!hit("tags", "match", json!({"key": "env", "value": "ops"})), "both in one element");
        assert!(hit("tags", "match", json!({"key": "team", "n": {"$gt": 5, "$lte": 7}})));
        assert!(!hit("tags", "match", json!({"key": "env", "n": {"$gt": 5}})));
        assert!(hit("tags", "match", json!({"value": {"$in": ["x", "OPS"]}})));
        assert!(hit("resource", "match", json!({"name": "db-1"})), "an object is a one-element list");
        assert!(!hit("title", "match", json!({"x": 1})));
    }

    #[test]
    fn key_and_operator_have_long_spellings_and_o_defaults_to_eq() {
        let raw = json!({"key": "severity", "value": ["info", "critical"], "operator": "in"});
        assert!(Condition::parse(&raw, "f").unwrap().matches(&event(), now()));
        assert!(Condition::parse(&json!({"k": "severity", "v": "critical"}), "f")
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

    #[test]
    fn pushdown_forms_agree_with_the_engine() {
        let pinned = cond("alert_id", "in", json!(["alert-1"]));
        assert_eq!(pinned.pinned("alert_id"), Some("alert-1"));
        assert_eq!(cond("alert_id", "not", json!("alert-1")).pinned("alert_id"), None);
        assert_eq!(cond("alert_id", "eq", json!("")).pinned("alert_id"), None);
        assert_eq!(
            cond("severity", "not_in", json!(["info", "Error"])).field_test(),
            Some(FieldTest::NoneOf { path: "severity".into(), values: vec!["ERROR".into(), "INFO".into()] })
        );
        assert_eq!(cond("title", "eq", json!("x")).field_test(), None, "free text is folded in memory");
        assert_eq!(
            cond("severity", "eq", json!("crıtical")).field_test(),
            None,
            "non-ASCII folds differently"
        );
        assert_eq!(cond("alert_id", "in", json!(["a", null])).field_test(), None);
        let bound = cond("created_at", "timediff_gte", json!("now-1d")).created_at_bound(now());
        assert_eq!(bound, Some((Bound::Gte, parse_time("2022-06-21T00:00:00Z").unwrap())));
    }
}
