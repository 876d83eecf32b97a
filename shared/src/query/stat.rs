//! StatisticsQuery: `{aggregate: [stage…], filter, filter_or, page}`, evaluated as a
//! pipeline over the matched events, with python-core's stages and group operators.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::condition::{compare, Condition};
use super::list::{parse_conditions, parse_page, parse_sort, sort_rows, SortKey};
use super::path::lookup;
use super::Query;
use crate::error::{Error, Result};
use crate::model::parse_time;

const STAGES: &str = "group, project, count, sort, limit, unwind, match";
const GROUP_OPERATORS: &str = "count, sum, average, max, min, first, last, push, add_to_set, merge_objects";
const PROJECT_OPERATORS: &str = "size, array_to_object, object_to_array, concat";

#[derive(Debug, Clone)]
pub struct StatQuery {
    filter: Query,
    stages: Vec<Stage>,
    start: usize,
    limit: Option<usize>,
}

#[derive(Debug, Clone)]
enum Stage {
    Group { keys: Vec<GroupKey>, fields: Vec<GroupField> },
    Project(Vec<ProjectField>),
    Count(String),
    Sort(Vec<SortKey>),
    Limit(usize),
    Unwind(String),
    Match(Vec<Condition>),
}

#[derive(Debug, Clone)]
struct GroupKey {
    key: String,
    name: String,
    date_format: Option<String>,
}

#[derive(Debug, Clone)]
struct GroupField {
    key: Option<String>,
    name: String,
    operator: GroupOperator,
    conditions: Vec<Condition>,
    /// For push: the sub-fields each pushed object carries.
    fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum GroupOperator {
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
struct ProjectField {
    keys: Vec<String>,
    name: String,
    operator: Option<ProjectOperator>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ProjectOperator {
    Size,
    ArrayToObject,
    ObjectToArray,
    Concat,
}

fn bad(at: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{at}: {message}"))
}

fn text<'v>(object: &'v Map<String, Value>, key: &str, at: &str) -> Result<&'v str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad(at, format!("needs '{key}' (text)")))
}

impl StatQuery {
    pub fn from_json(value: &Value) -> Result<StatQuery> {
        let object =
            value.as_object().ok_or_else(|| Error::invalid("'query' must be a StatisticsQuery object."))?;
        let allowed = ["aggregate", "filter", "filter_or", "page"];
        if let Some(key) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::invalid(format!(
                "query: unknown key '{key}'; allowed: {}.",
                allowed.join(", ")
            )));
        }
        let stages = match object.get("aggregate") {
            None | Some(Value::Null) => return Err(Error::RequiredParameter("query.aggregate".into())),
            Some(Value::Array(stages)) => stages,
            Some(_) => return Err(Error::invalid("query.aggregate must be a list of stages.")),
        };
        let stages = stages
            .iter()
            .enumerate()
            .map(|(i, s)| parse_stage(s, &format!("aggregate[{i}]")))
            .collect::<Result<_>>()?;
        let mut filter = Query::from_json(&Value::Null)?;
        filter.filter = parse_conditions(object.get("filter"), "filter")?;
        filter.filter_or = parse_conditions(object.get("filter_or"), "filter_or")?;
        let (start, limit) = parse_page(object.get("page"), "query.page")?;
        Ok(StatQuery { filter, stages, start, limit })
    }

    /// The filter part, so the store plans and matches with the list's code.
    pub fn filter_query(&self) -> &Query {
        &self.filter
    }

    pub fn evaluate(&self, matched: Vec<Value>, now: DateTime<Utc>) -> Result<Value> {
        let mut rows = matched;
        for stage in &self.stages {
            rows = run_stage(stage, rows, now);
        }
        let total = rows.len();
        let results: Vec<Value> = rows
            .into_iter()
            .skip(self.start.saturating_sub(1))
            .take(self.limit.unwrap_or(usize::MAX))
            .collect();
        Ok(json!({ "results": results, "total_count": total }))
    }
}

fn parse_stage(raw: &Value, at: &str) -> Result<Stage> {
    let object = raw
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| bad(at, format!("a stage is an object with one key, one of: {STAGES}")))?;
    let (name, body) = object.iter().next().expect("one key");
    let at = format!("{at}.{name}");
    let map = || body.as_object().ok_or_else(|| bad(&at, "must be an object"));
    Ok(match name.as_str() {
        "group" => {
            let group = map()?;
            let keys = match group.get("keys") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(keys)) => keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| parse_group_key(k, &format!("{at}.keys[{i}]")))
                    .collect::<Result<_>>()?,
                Some(_) => return Err(bad(&at, "'keys' must be a list of {key, name}")),
            };
            let fields = match group.get("fields") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(fields)) => fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| parse_group_field(f, &format!("{at}.fields[{i}]")))
                    .collect::<Result<_>>()?,
                Some(_) => return Err(bad(&at, "'fields' must be a list of {key, name, operator}")),
            };
            Stage::Group { keys, fields }
        }
        "project" => {
            let fields = match map()?.get("fields") {
                Some(Value::Array(fields)) => fields,
                _ => return Err(bad(&at, "needs 'fields', a list of {key, name, operator?}")),
            };
            Stage::Project(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| parse_project_field(f, &format!("{at}.fields[{i}]")))
                    .collect::<Result<_>>()?,
            )
        }
        "count" => Stage::Count(text(map()?, "name", &at)?.to_string()),
        "sort" => Stage::Sort(parse_sort(Some(body), &at)?),
        "limit" => Stage::Limit(body.as_u64().ok_or_else(|| bad(&at, "must be a whole number"))? as usize),
        "unwind" => Stage::Unwind(text(map()?, "path", &at)?.to_string()),
        "match" => {
            let conditions = match body {
                Value::Array(_) => Some(body),
                Value::Object(m) => m.get("filter"),
                _ => None,
            };
            Stage::Match(parse_conditions(conditions, &at)?)
        }
        other => return Err(bad(&at, format!("'{other}' is not a stage; allowed: {STAGES}"))),
    })
}

fn parse_group_key(raw: &Value, at: &str) -> Result<GroupKey> {
    let object = raw.as_object().ok_or_else(|| bad(at, "must be an object {key, name}"))?;
    let key = text(object, "key", at)?.to_string();
    let name = object.get("name").and_then(Value::as_str).unwrap_or(&key).to_string();
    let date_format = match object.get("date_format") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) => Some(f.clone()),
        Some(_) => return Err(bad(at, "'date_format' must be a strftime pattern such as %Y-%m-%d")),
    };
    Ok(GroupKey { key, name, date_format })
}

fn parse_group_field(raw: &Value, at: &str) -> Result<GroupField> {
    let object = raw.as_object().ok_or_else(|| bad(at, "must be an object {key, name, operator}"))?;
    let name = text(object, "name", at)?.to_string();
    let operator = match text(object, "operator", at)? {
        "count" => GroupOperator::Count,
        "sum" => GroupOperator::Sum,
        "average" => GroupOperator::Average,
        "max" => GroupOperator::Max,
        "min" => GroupOperator::Min,
        "first" => GroupOperator::First,
        "last" => GroupOperator::Last,
        "push" => GroupOperator::Push,
        "add_to_set" => GroupOperator::AddToSet,
        "merge_objects" => GroupOperator::MergeObjects,
        other => return Err(bad(at, format!("operator '{other}' is unknown; allowed: {GROUP_OPERATORS}"))),
    };
    let key = object.get("key").and_then(Value::as_str).map(str::to_string);
    let pushes_fields = operator == GroupOperator::Push && object.contains_key("fields");
    let needs_key = operator != GroupOperator::Count && !pushes_fields;
    if needs_key && key.is_none() {
        return Err(bad(
            at,
            format!("operator '{}' needs 'key', the field to aggregate", text(object, "operator", at)?),
        ));
    }
    let conditions = parse_conditions(object.get("conditions"), &format!("{at}.conditions"))?;
    if !conditions.is_empty()
        && !matches!(operator, GroupOperator::Count | GroupOperator::Sum | GroupOperator::Average)
    {
        return Err(bad(at, "'conditions' applies to count, sum and average only"));
    }
    let fields = match object.get("fields") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|f| {
                let f = f.as_object().ok_or_else(|| bad(at, "push 'fields' are {key, name}"))?;
                let key = text(f, "key", at)?.to_string();
                let name = f.get("name").and_then(Value::as_str).unwrap_or(&key).to_string();
                Ok((key, name))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(bad(at, "push 'fields' must be a list of {key, name}")),
    };
    Ok(GroupField { key, name, operator, conditions, fields })
}

fn parse_project_field(raw: &Value, at: &str) -> Result<ProjectField> {
    let object = raw.as_object().ok_or_else(|| bad(at, "must be an object {key, name, operator?}"))?;
    let operator = match object.get("operator").and_then(Value::as_str) {
        None => None,
        Some("size") => Some(ProjectOperator::Size),
        Some("array_to_object") => Some(ProjectOperator::ArrayToObject),
        Some("object_to_array") => Some(ProjectOperator::ObjectToArray),
        Some("concat") => Some(ProjectOperator::Concat),
        Some(other) => {
            return Err(bad(at, format!("operator '{other}' is unknown; allowed: {PROJECT_OPERATORS}")))
        }
    };
    let keys: Vec<String> = match (object.get("key"), object.get("fields")) {
        (Some(Value::String(k)), _) => vec![k.clone()],
        (Some(Value::Array(ks)), _) | (None, Some(Value::Array(ks))) => ks
            .iter()
            .filter_map(|k| k.as_str().or_else(|| k.get("key")?.as_str()).map(str::to_string))
            .collect(),
        _ => return Err(bad(at, "needs 'key', the field to project")),
    };
    let name =
        object.get("name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| keys[0].clone());
    Ok(ProjectField { keys, name, operator })
}

fn run_stage(stage: &Stage, rows: Vec<Value>, now: DateTime<Utc>) -> Vec<Value> {
    match stage {
        Stage::Group { keys, fields } => group(rows, keys, fields, now),
        Stage::Project(fields) => rows.iter().map(|r| project_row(r, fields)).collect(),
        Stage::Count(name) => vec![json!({ name: rows.len() })],
        Stage::Sort(keys) => {
            let mut rows = rows;
            sort_rows(&mut rows, keys);
            rows
        }
        Stage::Limit(n) => rows.into_iter().take(*n).collect(),
        Stage::Unwind(path) => rows.into_iter().flat_map(|r| unwind(r, path)).collect(),
        Stage::Match(conditions) => {
            rows.into_iter().filter(|r| conditions.iter().all(|c| c.matches(r, now))).collect()
        }
    }
}

fn group_value(row: &Value, key: &GroupKey) -> Value {
    let value = lookup(row, &key.key).cloned().unwrap_or(Value::Null);
    match (&key.date_format, value.as_str().and_then(parse_time)) {
        (Some(format), Some(time)) => Value::String(time.format(format).to_string()),
        _ => value,
    }
}

fn group(rows: Vec<Value>, keys: &[GroupKey], fields: &[GroupField], now: DateTime<Utc>) -> Vec<Value> {
    // Groups keep the order in which their first row arrived, so output is deterministic.
    let mut order: Vec<Vec<Value>> = Vec::new();
    let mut members: HashMap<String, Vec<Value>> = HashMap::new();
    for row in rows {
        let id: Vec<Value> = keys.iter().map(|k| group_value(&row, k)).collect();
        let token = Value::Array(id.clone()).to_string();
        let slot = members.entry(token).or_default();
        if slot.is_empty() {
            order.push(id);
        }
        slot.push(row);
    }
    order
        .into_iter()
        .map(|id| {
            let rows = &members[&Value::Array(id.clone()).to_string()];
            let mut out = Map::new();
            for (key, value) in keys.iter().zip(id) {
                out.insert(key.name.clone(), value);
            }
            for field in fields {
                out.insert(field.name.clone(), aggregate(field, rows, now));
            }
            Value::Object(out)
        })
        .collect()
}

fn aggregate(field: &GroupField, rows: &[Value], now: DateTime<Utc>) -> Value {
    let counted: Vec<&Value> =
        rows.iter().filter(|r| field.conditions.iter().all(|c| c.matches(r, now))).collect();
    let values = |rows: &[&Value]| -> Vec<Value> {
        let key = field.key.as_deref().unwrap_or("");
        rows.iter().filter_map(|r| lookup(r, key).cloned()).filter(|v| !v.is_null()).collect()
    };
    let numbers = |rows: &[&Value]| -> Vec<f64> { values(rows).iter().filter_map(Value::as_f64).collect() };
    let all: Vec<&Value> = rows.iter().collect();
    match field.operator {
        GroupOperator::Count => json!(counted.len()),
        GroupOperator::Sum => number(numbers(&counted).iter().sum()),
        GroupOperator::Average => {
            let ns = numbers(&counted);
            if ns.is_empty() {
                Value::Null
            } else {
                number(ns.iter().sum::<f64>() / ns.len() as f64)
            }
        }
        GroupOperator::Max => extreme(values(&all), std::cmp::Ordering::Greater),
        GroupOperator::Min => extreme(values(&all), std::cmp::Ordering::Less),
        GroupOperator::First => {
            field.key.as_deref().and_then(|k| lookup(rows.first()?, k)).cloned().unwrap_or(Value::Null)
        }
        GroupOperator::Last => {
            field.key.as_deref().and_then(|k| lookup(rows.last()?, k)).cloned().unwrap_or(Value::Null)
        }
        GroupOperator::Push if !field.fields.is_empty() => Value::Array(
            rows.iter()
                .map(|r| {
                    let object: Map<String, Value> = field
                        .fields
                        .iter()
                        .map(|(k, n)| (n.clone(), lookup(r, k).cloned().unwrap_or(Value::Null)))
                        .collect();
                    Value::Object(object)
                })
                .collect(),
        ),
        GroupOperator::Push => Value::Array(values(&all)),
        GroupOperator::AddToSet => {
            let mut set: Vec<Value> = Vec::new();
            for v in values(&all) {
                if !set.contains(&v) {
                    set.push(v);
                }
            }
            Value::Array(set)
        }
        GroupOperator::MergeObjects => {
            let mut merged = Map::new();
            for v in values(&all) {
                if let Value::Object(m) = v {
                    merged.extend(m);
                }
            }
            Value::Object(merged)
        }
    }
}

/// Whole numbers come out as integers, as Mongo's sums of integers do.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn extreme(values: Vec<Value>, wanted: std::cmp::Ordering) -> Value {
    values
        .into_iter()
        .reduce(|best, v| if compare(&v, &best) == Some(wanted) { v } else { best })
        .unwrap_or(Value::Null)
}

fn project_row(row: &Value, fields: &[ProjectField]) -> Value {
    let mut out = Map::new();
    for field in fields {
        let first = lookup(row, &field.keys[0]).cloned().unwrap_or(Value::Null);
        let value = match field.operator {
            None => first,
            Some(ProjectOperator::Size) => json!(first.as_array().map_or(0, Vec::len)),
            Some(ProjectOperator::ArrayToObject) => {
                let pairs = first.as_array().cloned().unwrap_or_default();
                Value::Object(
                    pairs
                        .iter()
                        .filter_map(|p| {
                            Some((
                                p.get("k")?.as_str()?.to_string(),
                                p.get("v").cloned().unwrap_or(Value::Null),
                            ))
                        })
                        .collect(),
                )
            }
            Some(ProjectOperator::ObjectToArray) => Value::Array(
                first
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| json!({"k": k, "v": v})).collect())
                    .unwrap_or_default(),
            ),
            Some(ProjectOperator::Concat) => {
                let parts: Vec<Value> = field.keys.iter().filter_map(|k| lookup(row, k).cloned()).collect();
                if parts.iter().all(Value::is_array) {
                    Value::Array(
                        parts.into_iter().flat_map(|p| p.as_array().cloned().unwrap_or_default()).collect(),
                    )
                } else {
                    Value::String(
                        parts
                            .iter()
                            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                            .collect(),
                    )
                }
            }
        };
        out.insert(field.name.clone(), value);
    }
    Value::Object(out)
}

fn unwind(row: Value, path: &str) -> Vec<Value> {
    let path = path.trim_start_matches('$');
    let Some(Value::Array(items)) = lookup(&row, path).cloned() else {
        return Vec::new();
    };
    items
        .into_iter()
        .map(|item| {
            let mut copy = row.clone();
            if let Value::Object(map) = &mut copy {
                super::path::insert(map, path, item);
            }
            copy
        })
        .collect()
}
