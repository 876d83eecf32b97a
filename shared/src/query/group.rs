//! The stat `group` stage: rows bucketed by key values, each bucket one flat output row
//! `{<key name>: value, ..., <field name>: aggregate, ...}`, which is how python-core
//! renders MongoDB's `{_id: {...keys}, ...fields}`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::condition::{describe, Condition};
use super::parse::{self, field, object, reject_unknown, text};
use super::path::Path;
use super::times::{DateFormat, DATE_FORMAT_HELP};
use super::value::{float_value, identity, total_cmp, Sum};
use crate::error::{Error, Result};

const OPERATORS: [&str; 10] =
    ["count", "sum", "average", "max", "min", "first", "last", "push", "add_to_set", "merge_objects"];

#[derive(Debug, Clone)]
pub struct Group {
    keys: Vec<GroupKey>,
    fields: Vec<GroupField>,
}

#[derive(Debug, Clone)]
struct GroupKey {
    path: Path,
    name: String,
    date_format: Option<DateFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    Count,
    Sum,
    Average,
    Max,
    Min,
    First,
    Last,
    Push,
    AddToSet,
    MergeObjects,
}

#[derive(Debug, Clone)]
struct GroupField {
    name: String,
    operator: Operator,
    path: Option<Path>,
    /// count, sum and average: only rows matching all of these take part.
    conditions: Vec<Condition>,
    /// push without a key: each pushed object's `(key, name)` pairs.
    sub_fields: Vec<(Path, String)>,
    /// `data_type: "array"`: each row holds a list, reduced first with the same operator.
    array: bool,
}

impl Group {
    pub fn parse(raw: &Value, at: &str) -> Result<Group> {
        let group = object(raw, at, "{keys, fields}")?;
        reject_unknown(group, &["keys", "fields"], at)?;
        let list = |name: &str| -> Result<&[Value]> {
            match group.get(name) {
                None | Some(Value::Null) => Ok(&[]),
                Some(Value::Array(items)) => Ok(items),
                Some(other) => {
                    Err(Error::invalid(format!("{at}.{name}: must be a list, not {}", describe(other))))
                }
            }
        };
        let keys = list("keys")?;
        let fields = list("fields")?;
        if keys.is_empty() && fields.is_empty() {
            return Err(Error::invalid(format!("{at}: needs 'keys' or 'fields' (or both)")));
        }
        Ok(Group {
            keys: keys
                .iter()
                .enumerate()
                .map(|(i, k)| parse_key(k, &format!("{at}.keys[{i}]")))
                .collect::<Result<_>>()?,
            fields: fields
                .iter()
                .enumerate()
                .map(|(i, f)| parse_field(f, &format!("{at}.fields[{i}]")))
                .collect::<Result<_>>()?,
        })
    }

    /// Whether every field the group reads from its input rows is one of `fields`.
    pub fn reads_only(&self, fields: &[&str]) -> bool {
        let known = |path: &Path| fields.contains(&path.field());
        self.keys.iter().all(|key| known(&key.path))
            && self.fields.iter().all(|field| {
                field.path.as_ref().is_none_or(known)
                    && field.sub_fields.iter().all(|(path, _)| known(path))
                    && field.conditions.iter().all(|c| fields.contains(&c.field()))
            })
    }

    /// The names the group's keys take in its output rows.
    pub fn key_names(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.name.as_str())
    }

    /// One output row per bucket, buckets in the order of their keys (MongoDB's
    /// `$group` promises no order; this one does not depend on the order rows are read
    /// in, so rows read from the index and counts read from rollups group alike).
    pub fn run(&self, rows: Vec<Value>, now: DateTime<Utc>) -> Vec<Value> {
        self.bucketed(rows, |row| row)
            .into_iter()
            .map(|(id, members)| {
                let mut out = self.key_row(id);
                for field in &self.fields {
                    out.insert(field.name.clone(), field.aggregate(&members, now));
                }
                Value::Object(out)
            })
            .collect()
    }

    /// [`Group::run`] over rows that each stand for `n` alike rows, for a group whose
    /// fields are all counts ([`Group::counted_fields`]).
    pub(super) fn run_counted(&self, rows: Vec<(Value, u64)>, now: DateTime<Utc>) -> Vec<Value> {
        self.bucketed(rows, |(row, _)| row)
            .into_iter()
            .map(|(id, members)| {
                let mut out = self.key_row(id);
                for field in &self.fields {
                    let holds = |row: &Value| field.conditions.iter().all(|c| c.matches(row, now));
                    let count: u64 = members.iter().filter(|(row, _)| holds(row)).map(|(_, n)| n).sum();
                    out.insert(field.name.clone(), Value::from(count));
                }
                Value::Object(out)
            })
            .collect()
    }

    /// Whether every field counts rows (conditions aside), and the fields the counts'
    /// conditions read.
    pub(super) fn counted_fields(&self) -> Option<Vec<&str>> {
        let mut read = Vec::new();
        for field in &self.fields {
            if field.operator != Operator::Count {
                return None;
            }
            read.extend(field.conditions.iter().map(|c| c.key()));
        }
        Some(read)
    }

    /// Each key's path and date_format.
    pub(super) fn keys(&self) -> impl Iterator<Item = (&Path, Option<&DateFormat>)> {
        self.keys.iter().map(|k| (&k.path, k.date_format.as_ref()))
    }

    /// The rows in buckets of equal keys, members in the order they came, buckets in the
    /// order of their keys.
    fn bucketed<T>(&self, rows: Vec<T>, row_of: impl Fn(&T) -> &Value) -> Vec<(Vec<Option<Value>>, Vec<T>)> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut buckets: Vec<(String, Vec<Option<Value>>, Vec<T>)> = Vec::new();
        for item in rows {
            let id: Vec<Option<Value>> = self.keys.iter().map(|k| k.value(row_of(&item))).collect();
            let mut token = String::new();
            for value in &id {
                identity(value.as_ref(), &mut token);
                token.push('\u{0}');
            }
            let slot = *index.entry(token.clone()).or_insert_with(|| {
                buckets.push((token, id, Vec::new()));
                buckets.len() - 1
            });
            buckets[slot].2.push(item);
        }
        // Keys that compare equal (a missing key and null) still sort one way.
        buckets.sort_by(|(a_token, a, _), (b_token, b, _)| {
            a.iter()
                .zip(b)
                .map(|(x, y)| total_cmp(x.as_ref(), y.as_ref()))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a_token.cmp(b_token))
        });
        buckets.into_iter().map(|(_, id, members)| (id, members)).collect()
    }

    fn key_row(&self, id: Vec<Option<Value>>) -> Map<String, Value> {
        let mut out = Map::new();
        // A missing key is left out of the row, as MongoDB leaves it out of _id.
        for (key, value) in self.keys.iter().zip(id) {
            if let Some(value) = value {
                out.insert(key.name.clone(), value);
            }
        }
        out
    }
}

impl GroupKey {
    fn value(&self, row: &Value) -> Option<Value> {
        let found = self.path.first(row);
        match &self.date_format {
            Some(format) => Some(format.render(found)),
            None => found.cloned(),
        }
    }
}

fn parse_key(raw: &Value, at: &str) -> Result<GroupKey> {
    let key = object(raw, at, "{key, name, date_format?}")?;
    reject_unknown(key, &["key", "k", "name", "n", "date_format"], at)?;
    let date_format = match key.get("date_format") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) if f.is_empty() => None,
        Some(Value::String(f)) => Some(DateFormat::parse(f).ok_or_else(|| {
            Error::invalid(format!("{at}: date_format '{f}' is not valid; allowed: {DATE_FORMAT_HELP}"))
        })?),
        Some(other) => {
            return Err(Error::invalid(format!("{at}: date_format must be text, not {}", describe(other))))
        }
    };
    Ok(GroupKey {
        path: Path::new(text(key, "key", "k", at)?),
        name: text(key, "name", "n", at)?.into(),
        date_format,
    })
}

fn parse_field(raw: &Value, at: &str) -> Result<GroupField> {
    let f = object(raw, at, "{key, name, operator}")?;
    reject_unknown(f, &["key", "k", "name", "n", "operator", "o", "conditions", "fields", "data_type"], at)?;
    let op_name = text(f, "operator", "o", at)?;
    let operator = match op_name {
        "count" => Operator::Count,
        "sum" => Operator::Sum,
        "average" => Operator::Average,
        "max" => Operator::Max,
        "min" => Operator::Min,
        "first" => Operator::First,
        "last" => Operator::Last,
        "push" => Operator::Push,
        "add_to_set" => Operator::AddToSet,
        "merge_objects" => Operator::MergeObjects,
        other => {
            return Err(Error::invalid(format!(
                "{at}: operator '{other}' is unknown; allowed: {}",
                OPERATORS.join(", ")
            )))
        }
    };
    let name = text(f, "name", "n", at)?.to_string();
    let path = match field(f, "key", "k") {
        None => None,
        Some(_) => Some(Path::new(text(f, "key", "k", at)?)),
    };
    let sub_fields = match f.get("fields") {
        None | Some(Value::Null) => Vec::new(),
        Some(_) if operator != Operator::Push => {
            return Err(Error::invalid(format!("{at}: 'fields' belongs to operator 'push' only")))
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let at = format!("{at}.fields[{i}]");
                let sub = object(item, &at, "{key, name}")?;
                reject_unknown(sub, &["key", "k", "name", "n"], &at)?;
                Ok((Path::new(text(sub, "key", "k", &at)?), text(sub, "name", "n", &at)?.to_string()))
            })
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(Error::invalid(format!(
                "{at}.fields: must be a list of {{key, name}}, not {}",
                describe(other)
            )))
        }
    };
    if path.is_none() && operator != Operator::Count && sub_fields.is_empty() {
        let wants =
            if operator == Operator::Push { "'key' or 'fields'" } else { "'key', the field to aggregate" };
        return Err(Error::invalid(format!("{at}: operator '{op_name}' needs {wants}")));
    }
    let conditions = parse::conditions(f.get("conditions"), &format!("{at}.conditions"))?;
    if !conditions.is_empty() && !matches!(operator, Operator::Count | Operator::Sum | Operator::Average) {
        return Err(Error::invalid(format!(
            "{at}: 'conditions' belongs to operators count, sum and average only, not '{op_name}'"
        )));
    }
    let array = match f.get("data_type") {
        None | Some(Value::Null) => false,
        Some(Value::String(t)) if t == "array" => true,
        Some(other) => {
            return Err(Error::invalid(format!(
                "{at}: data_type may only be \"array\", not {}",
                describe(other)
            )))
        }
    };
    Ok(GroupField { name, operator, path, conditions, sub_fields, array })
}

impl GroupField {
    fn aggregate(&self, rows: &[Value], now: DateTime<Utc>) -> Value {
        let counted = || rows.iter().filter(|r| self.conditions.iter().all(|c| c.matches(r, now)));
        // Present, non-null values: what MongoDB's accumulators look at.
        let values = || rows.iter().filter_map(|r| self.value(r)).filter(|v| !v.is_null());
        match self.operator {
            Operator::Count => Value::from(counted().count()),
            Operator::Sum => {
                let mut sum = Sum::default();
                for v in counted().filter_map(|r| self.value(r)) {
                    self.numbers(v, &mut |n| sum.add(n));
                }
                sum.value()
            }
            Operator::Average => {
                let (mut total, mut count) = (0.0, 0usize);
                for v in counted().filter_map(|r| self.value(r)) {
                    let row_average = if self.array { average(v) } else { v.as_f64() };
                    if let Some(n) = row_average {
                        total += n;
                        count += 1;
                    }
                }
                if count == 0 {
                    Value::Null
                } else {
                    float_value(total / count as f64)
                }
            }
            Operator::Max | Operator::Min => {
                let wanted = if self.operator == Operator::Max {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                };
                let candidates = values().filter_map(|v| {
                    if self.array {
                        extreme(v.as_array()?.iter(), wanted)
                    } else {
                        Some(v)
                    }
                });
                extreme(candidates, wanted).cloned().unwrap_or(Value::Null)
            }
            Operator::First | Operator::Last => {
                let row = if self.operator == Operator::First { rows.first() } else { rows.last() };
                let v = row.and_then(|r| self.value(r));
                let v = if self.array {
                    v.and_then(Value::as_array).and_then(|a| {
                        if self.operator == Operator::First {
                            a.first()
                        } else {
                            a.last()
                        }
                    })
                } else {
                    v
                };
                v.cloned().unwrap_or(Value::Null)
            }
            Operator::Push if self.path.is_none() => Value::Array(
                rows.iter()
                    .map(|row| {
                        let pushed: Map<String, Value> = self
                            .sub_fields
                            .iter()
                            .filter_map(|(path, name)| Some((name.clone(), path.first(row)?.clone())))
                            .collect();
                        Value::Object(pushed)
                    })
                    .collect(),
            ),
            // MongoDB pushes nulls but not missing values.
            Operator::Push => Value::Array(rows.iter().filter_map(|r| self.value(r)).cloned().collect()),
            Operator::AddToSet => {
                let mut seen = std::collections::HashSet::new();
                let mut set = Vec::new();
                for v in rows.iter().filter_map(|r| self.value(r)) {
                    let mut token = String::new();
                    identity(Some(v), &mut token);
                    if seen.insert(token) {
                        set.push(v.clone());
                    }
                }
                Value::Array(set)
            }
            Operator::MergeObjects => {
                let mut merged = Map::new();
                for v in values() {
                    if let Value::Object(m) = v {
                        merged.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                }
                Value::Object(merged)
            }
        }
    }

    fn value<'r>(&self, row: &'r Value) -> Option<&'r Value> {
        self.path.as_ref().and_then(|p| p.first(row))
    }

    /// The numbers a row contributes: its value, or a list's numbers with data_type array.
    fn numbers(&self, v: &Value, each: &mut dyn FnMut(&serde_json::Number)) {
        match v {
            Value::Number(n) => each(n),
            Value::Array(items) if self.array => items.iter().filter_map(Value::as_number).for_each(each),
            _ => {}
        }
    }
}

fn average(v: &Value) -> Option<f64> {
    let numbers: Vec<f64> = v.as_array()?.iter().filter_map(Value::as_f64).collect();
    (!numbers.is_empty()).then(|| numbers.iter().sum::<f64>() / numbers.len() as f64)
}

/// The greatest (or least) non-null value; the first of equals wins.
fn extreme<'v>(values: impl Iterator<Item = &'v Value>, wanted: std::cmp::Ordering) -> Option<&'v Value> {
    values.filter(|v| !v.is_null()).fold(None, |best, v| match best {
        Some(b) if total_cmp(Some(v), Some(b)) != wanted => Some(b),
        _ => Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Value> {
        vec![
            json!({"sev": "CRITICAL", "v": 10, "user": "glee", "id": "e3", "info": {"a": 1}, "list": [1, 2],
                   "at": "2022-06-22T10:00:00.000Z"}),
            json!({"sev": "CRITICAL", "v": 5, "user": "ops", "id": "e2", "info": {"b": 2}, "list": [3],
                   "at": "2022-06-21T12:00:00.000Z"}),
            json!({"sev": "INFO", "v": 2.5, "id": "e1", "info": null, "list": [],
                   "at": "2022-06-21T00:00:00.000Z"}),
            json!({"sev": "CRITICAL", "v": "n/a", "user": "glee", "id": "e0",
                   "at": "2022-05-01T00:00:00.000Z"}),
        ]
    }

    fn group(spec: Value) -> Vec<Value> {
        Group::parse(&spec, "aggregate[0].group").unwrap().run(rows(), Utc::now())
    }

    fn by_sev(field: Value) -> Vec<Value> {
        group(json!({"keys": [{"key": "sev", "name": "severity"}], "fields": [field]}))
    }

    fn counted_by(key: Value) -> Vec<Value> {
        group(json!({"keys": [key], "fields": [{"name": "n", "operator": "count"}]}))
    }

    fn err(spec: Value) -> String {
        Group::parse(&spec, "aggregate[0].group").unwrap_err().to_string()
    }

    #[test]
    fn rows_are_flat_and_buckets_come_in_key_order_whatever_the_row_order() {
        let out = by_sev(json!({"name": "n", "operator": "count"}));
        assert_eq!(out, [json!({"severity": "CRITICAL", "n": 3}), json!({"severity": "INFO", "n": 1})]);
        let g = Group::parse(
            &json!({"keys": [{"key": "sev", "name": "severity"}], "fields": [{"name": "n", "operator": "count"}]}),
            "g",
        )
        .unwrap();
        let mut reversed = rows();
        reversed.reverse();
        assert_eq!(g.run(reversed, Utc::now()), out, "INFO comes first in the rows, after CRITICAL out");
    }

    #[test]
    fn count_counts_rows_and_with_conditions_only_matching_ones() {
        let out =
            by_sev(json!({"name": "n", "operator": "count", "conditions": [{"k": "user", "v": "glee"}]}));
        assert_eq!(out[0]["n"], json!(2));
        assert_eq!(out[1]["n"], json!(0));
    }

    #[test]
    fn sum_adds_numbers_only_and_keeps_integers_integral() {
        let out = by_sev(json!({"key": "v", "name": "s", "operator": "sum"}));
        assert_eq!((&out[0]["s"], &out[1]["s"]), (&json!(15), &json!(2.5)));
        let out = by_sev(
            json!({"key": "v", "name": "s", "operator": "sum", "conditions": [{"k": "user", "v": "ops"}]}),
        );
        assert_eq!(out[0]["s"], json!(5));
        let out = by_sev(json!({"key": "list", "name": "s", "operator": "sum", "data_type": "array"}));
        assert_eq!(out[0]["s"], json!(6));
    }

    #[test]
    fn average_is_a_float_over_numeric_values_of_matching_rows() {
        let out = by_sev(json!({"key": "v", "name": "a", "operator": "average"}));
        assert_eq!((&out[0]["a"], &out[1]["a"]), (&json!(7.5), &json!(2.5)));
        let glee = json!([{"k": "user", "v": "glee"}]);
        let out = by_sev(json!({"key": "v", "name": "a", "operator": "average", "conditions": glee}));
        assert_eq!(out[0]["a"], json!(10.0));
        let out = by_sev(json!({"key": "user", "name": "a", "operator": "average"}));
        assert_eq!(out[0]["a"], Value::Null, "no numbers, no average");
        let out = by_sev(json!({"key": "list", "name": "a", "operator": "average", "data_type": "array"}));
        assert_eq!(out[0]["a"], json!(2.25), "the average of each row's average");
    }

    #[test]
    fn max_and_min_order_values_like_mongodb_ignoring_nulls() {
        let out = by_sev(json!({"key": "v", "name": "m", "operator": "max"}));
        assert_eq!(out[0]["m"], json!("n/a"), "text ranks above numbers");
        let out = by_sev(json!({"key": "v", "name": "m", "operator": "min"}));
        assert_eq!(out[0]["m"], json!(5));
        let out = by_sev(json!({"key": "info", "name": "m", "operator": "min"}));
        assert_eq!((&out[0]["m"], &out[1]["m"]), (&json!({"a": 1}), &Value::Null));
        let out = by_sev(json!({"key": "list", "name": "m", "operator": "max", "data_type": "array"}));
        assert_eq!(out[0]["m"], json!(3));
    }

    #[test]
    fn first_and_last_take_the_bucket_ends() {
        let out = by_sev(json!({"key": "id", "name": "f", "operator": "first"}));
        assert_eq!(out[0]["f"], json!("e3"));
        let out = by_sev(json!({"key": "id", "name": "l", "operator": "last"}));
        assert_eq!(out[0]["l"], json!("e0"));
        let out = by_sev(json!({"key": "list", "name": "l", "operator": "last"}));
        assert_eq!(out[0]["l"], Value::Null, "missing in the last row");
        let out = by_sev(json!({"key": "list", "name": "f", "operator": "first", "data_type": "array"}));
        assert_eq!(out[0]["f"], json!(1));
    }

    #[test]
    fn push_collects_values_or_objects_of_sub_fields() {
        let out = by_sev(json!({"key": "info", "name": "p", "operator": "push"}));
        assert_eq!(out[0]["p"], json!([{"a": 1}, {"b": 2}]), "missing values are not pushed");
        assert_eq!(out[1]["p"], json!([null]), "nulls are");
        let sub_fields = json!([{"key": "id", "name": "event"}, {"k": "user", "n": "who"}]);
        let out = by_sev(json!({"name": "p", "operator": "push", "fields": sub_fields}));
        assert_eq!(
            out[0]["p"],
            json!([{"event": "e3", "who": "glee"}, {"event": "e2", "who": "ops"},
                   {"event": "e0", "who": "glee"}])
        );
        assert_eq!(out[1]["p"], json!([{"event": "e1"}]));
    }

    #[test]
    fn add_to_set_keeps_distinct_values_in_first_seen_order() {
        let out = by_sev(json!({"key": "user", "name": "u", "operator": "add_to_set"}));
        assert_eq!((&out[0]["u"], &out[1]["u"]), (&json!(["glee", "ops"]), &json!([])));
    }

    #[test]
    fn merge_objects_merges_in_order_skipping_non_objects() {
        let out = by_sev(json!({"key": "info", "name": "m", "operator": "merge_objects"}));
        assert_eq!((&out[0]["m"], &out[1]["m"]), (&json!({"a": 1, "b": 2}), &json!({})));
    }

    #[test]
    fn date_format_groups_times_by_day_month_or_number() {
        let day = counted_by(json!({"key": "at", "name": "day", "date_format": "%Y-%m-%d"}));
        assert_eq!(
            day,
            [
                json!({"day": "2022-05-01", "n": 1}),
                json!({"day": "2022-06-21", "n": 2}),
                json!({"day": "2022-06-22", "n": 1})
            ]
        );
        let month = counted_by(json!({"key": "at", "name": "m", "date_format": "month"}));
        assert_eq!(month, [json!({"m": 5, "n": 1}), json!({"m": 6, "n": 3})]);
    }

    #[test]
    fn missing_keys_are_left_out_and_no_keys_is_one_bucket() {
        let out = counted_by(json!({"key": "user", "name": "user"}));
        // A missing key sorts as null does, first.
        assert_eq!(out, [json!({"n": 1}), json!({"user": "glee", "n": 2}), json!({"user": "ops", "n": 1})]);
        let total = group(json!({"fields": [{"name": "n", "operator": "count"}]}));
        assert_eq!(total, [json!({"n": 4})]);
        let g = Group::parse(&json!({"fields": [{"name": "n", "operator": "count"}]}), "g").unwrap();
        assert_eq!(g.run(Vec::new(), Utc::now()), Vec::<Value>::new(), "no rows, no buckets");
    }

    #[test]
    fn malformed_groups_name_the_part_and_what_is_allowed() {
        assert_eq!(err(json!({})), "aggregate[0].group: needs 'keys' or 'fields' (or both)");
        let unknown = err(json!({"fields": [{"name": "x", "operator": "median", "key": "v"}]}));
        assert_eq!(
            unknown,
            "aggregate[0].group.fields[0]: operator 'median' is unknown; allowed: count, sum, average, max, \
             min, first, last, push, add_to_set, merge_objects"
        );
        assert!(err(json!({"fields": [{"name": "x", "operator": "sum"}]})).contains("needs 'key'"));
        assert!(
            err(json!({"fields": [{"name": "x", "operator": "push"}]})).contains("needs 'key' or 'fields'")
        );
        assert!(err(json!({"fields": [{"key": "v", "operator": "sum"}]})).ends_with("needs 'name'"));
        assert!(err(json!({"keys": [{"key": "v"}]})).starts_with("aggregate[0].group.keys[0]: needs 'name'"));
        assert!(err(json!({"keys": [{"key": "at", "name": "d", "date_format": "%b"}]}))
            .contains("date_format '%b' is not valid; allowed: year, month"));
        let one = json!([{"k": "a", "v": 1}]);
        let conditions =
            err(json!({"fields": [{"key": "v", "name": "x", "operator": "max", "conditions": one}]}));
        assert!(conditions.contains("count, sum and average only"), "{conditions}");
        let bad_condition = err(
            json!({"fields": [{"name": "x", "operator": "count", "conditions": [{"k": "a", "o": "like"}]}]}),
        );
        assert!(
            bad_condition.starts_with("aggregate[0].group.fields[0].conditions[0]: operator 'like'"),
            "{bad_condition}"
        );
        assert!(err(json!({"fields": [{"name": "x", "operator": "push", "fields": [{"key": "a"}]}]}))
            .starts_with("aggregate[0].group.fields[0].fields[0]: needs 'name'"));
        assert!(err(json!({"fields": [{"key": "v", "name": "x", "operator": "sum", "data_type": "list"}]}))
            .contains("data_type"));
        assert!(err(json!({"keys": "severity"})).contains("must be a list"));
        assert!(err(json!({"keys": [], "colour": 1})).contains("unknown key 'colour'"));
    }
}
