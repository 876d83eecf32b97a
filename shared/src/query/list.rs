//! Query (spaceone.api.core.v1.Query): filter, filter_or, keyword, sort, page, only,
//! minimal, count_only.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::condition::{compare, Bound, Condition, FieldTest};
use super::path::{lookup, project};
use crate::error::{Error, Result};

/// The fields `minimal` keeps: enough to show an event in a list.
pub const MINIMAL_FIELDS: [&str; 10] = [
    "event_id",
    "event_key",
    "event_type",
    "title",
    "severity",
    "resource",
    "alert_id",
    "webhook_id",
    "project_id",
    "created_at",
];

const QUERY_KEYS: [&str; 8] =
    ["filter", "filter_or", "sort", "page", "only", "keyword", "count_only", "minimal"];

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub key: String,
    pub desc: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub(super) filter: Vec<Condition>,
    pub(super) filter_or: Vec<Condition>,
    keyword: Option<String>,
    /// Empty means the default order, created_at descending.
    sort: Vec<SortKey>,
    start: usize,
    limit: Option<usize>,
    only: Vec<String>,
    minimal: bool,
    count_only: bool,
}

/// What of a query the store can have DynamoDB evaluate: the index partition, an exact
/// created_at range, and field tests. `complete` says DynamoDB's answer is the whole
/// answer, so the store may count (`Select: COUNT`) or stop reading after a page.
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

impl Query {
    /// Parses a Query object; `null` or `{}` is the empty query.
    pub fn from_json(value: &Value) -> Result<Query> {
        let object = match value {
            Value::Null => return Ok(Query { start: 1, ..Query::default() }),
            Value::Object(map) => map,
            _ => return Err(Error::invalid("'query' must be an object (a SpaceONE Query).")),
        };
        if let Some(key) = object.keys().find(|k| !QUERY_KEYS.contains(&k.as_str())) {
            return Err(Error::invalid(format!(
                "query: unknown key '{key}'; allowed: {}.",
                QUERY_KEYS.join(", ")
            )));
        }
        let (start, limit) = parse_page(object.get("page"), "query.page")?;
        Ok(Query {
            filter: parse_conditions(object.get("filter"), "filter")?,
            filter_or: parse_conditions(object.get("filter_or"), "filter_or")?,
            keyword: match object.get("keyword") {
                None | Some(Value::Null) => None,
                Some(Value::String(k)) if k.is_empty() => None,
                Some(Value::String(k)) => Some(k.to_lowercase()),
                Some(_) => return Err(Error::invalid("query.keyword must be text.")),
            },
            sort: parse_sort(object.get("sort"), "query.sort")?,
            start,
            limit,
            only: parse_names(object.get("only"), "query.only")?,
            minimal: flag(object.get("minimal"), "query.minimal")?,
            count_only: flag(object.get("count_only"), "query.count_only")?,
        })
    }

    /// An exact-match condition, as EventQuery's top-level fields add them.
    pub fn add_exact(&mut self, key: &str, value: &str) {
        self.filter.push(Condition::exact(key, value));
    }

    pub fn count_only(&self) -> bool {
        self.count_only
    }

    /// Whether the results come in the store's order (created_at, newest first).
    pub fn default_order(&self) -> bool {
        self.sort.is_empty() || self.sort == [SortKey { key: "created_at".into(), desc: true }]
    }

    pub fn page(&self) -> (usize, Option<usize>) {
        (self.start, self.limit)
    }

    pub fn pushdown(&self, now: DateTime<Utc>) -> Pushdown {
        let pinned = |key: &str| self.filter.iter().find_map(|c| c.pinned(key)).map(str::to_string);
        let mut push = Pushdown {
            alert_id: pinned("alert_id"),
            webhook_id: pinned("webhook_id"),
            complete: self.filter_or.is_empty() && self.keyword.is_none(),
            ..Pushdown::default()
        };
        for condition in &self.filter {
            if let Some((bound, at)) = condition.created_at_bound(now) {
                let (from, to) = inclusive_millis(bound, at);
                if let Some(from) = from {
                    push.created_from = Some(push.created_from.map_or(from, |f| f.max(from)));
                }
                if let Some(to) = to {
                    push.created_to = Some(push.created_to.map_or(to, |t| t.min(to)));
                }
            } else if let Some(test) = condition.field_test() {
                push.filters.push(test);
            } else {
                push.complete = false;
            }
        }
        push
    }

    pub fn matches(&self, event: &Value, now: DateTime<Utc>) -> bool {
        self.filter.iter().all(|c| c.matches(event, now))
            && (self.filter_or.is_empty() || self.filter_or.iter().any(|c| c.matches(event, now)))
            && self.keyword.as_ref().is_none_or(|k| keyword_matches(event, k))
    }

    /// Sorts, pages and projects matched events: `{results, total_count}`.
    pub fn render_list(&self, mut matched: Vec<Value>) -> Value {
        let total = matched.len();
        if self.count_only {
            return json!({ "total_count": total });
        }
        if !self.default_order() {
            sort_rows(&mut matched, &self.sort);
        }
        let page: Vec<Value> = matched
            .into_iter()
            .skip(self.start.saturating_sub(1))
            .take(self.limit.unwrap_or(usize::MAX))
            .map(|e| self.shape(e))
            .collect();
        json!({ "results": page, "total_count": total })
    }

    /// Applies `only` / `minimal` to one event.
    pub fn shape(&self, event: Value) -> Value {
        if !self.only.is_empty() {
            project(&event, &self.only)
        } else if self.minimal {
            project(&event, &MINIMAL_FIELDS.map(String::from))
        } else {
            event
        }
    }
}

fn keyword_matches(event: &Value, keyword: &str) -> bool {
    ["event_id", "title"]
        .iter()
        .any(|k| event.get(k).and_then(Value::as_str).is_some_and(|t| t.to_lowercase().contains(keyword)))
}

/// Stable sort by several keys; a missing value sorts before any present one.
pub fn sort_rows(rows: &mut [Value], keys: &[SortKey]) {
    rows.sort_by(|a, b| {
        keys.iter()
            .map(|k| {
                let ordering = match (lookup(a, &k.key), lookup(b, &k.key)) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => compare(x, y).unwrap_or(Ordering::Equal),
                };
                if k.desc {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
}

pub(super) fn parse_conditions(raw: Option<&Value>, name: &str) -> Result<Vec<Condition>> {
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, c)| Condition::parse(c, &format!("{name}[{i}]"))).collect()
        }
        Some(_) => Err(Error::invalid(format!("{name} must be a list of conditions {{k, v, o}}."))),
    }
}

/// `{key, desc}`, a list of them, or `{keys: [...]}`.
pub(super) fn parse_sort(raw: Option<&Value>, name: &str) -> Result<Vec<SortKey>> {
    let one = |v: &Value| -> Result<SortKey> {
        let key = v.get("key").and_then(Value::as_str).filter(|k| !k.is_empty());
        let key = key
            .ok_or_else(|| Error::invalid(format!("{name}: each sort needs 'key', the field to sort by.")))?;
        let desc = flag(v.get("desc"), &format!("{name}.desc"))?;
        Ok(SortKey { key: key.to_string(), desc })
    };
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(one).collect(),
        Some(v @ Value::Object(map)) => match map.get("keys") {
            Some(Value::Array(items)) => items.iter().map(one).collect(),
            Some(_) => Err(Error::invalid(format!("{name}.keys must be a list of {{key, desc}}."))),
            None => Ok(vec![one(v)?]),
        },
        Some(_) => Err(Error::invalid(format!("{name} must be {{key, desc}} or a list of them."))),
    }
}

/// `{start, limit}`: start is 1-based (default 1); no limit means all.
pub(super) fn parse_page(raw: Option<&Value>, name: &str) -> Result<(usize, Option<usize>)> {
    let Some(Value::Object(page)) = raw.filter(|v| !v.is_null()) else {
        return match raw {
            None | Some(Value::Null) => Ok((1, None)),
            Some(_) => Err(Error::invalid(format!("{name} must be an object {{start, limit}}."))),
        };
    };
    let number = |key: &str| -> Result<Option<u64>> {
        match page.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| Error::invalid(format!("{name}.{key} must be a whole number, not {v}."))),
        }
    };
    let start = number("start")?.unwrap_or(1);
    if start < 1 {
        return Err(Error::invalid(format!("{name}.start counts from 1.")));
    }
    let limit = number("limit")?.filter(|l| *l > 0);
    Ok((start as usize, limit.map(|l| l as usize)))
}

pub(super) fn parse_names(raw: Option<&Value>, name: &str) -> Result<Vec<String>> {
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::invalid(format!("{name} must be a list of field names.")))
            })
            .collect(),
        Some(_) => Err(Error::invalid(format!("{name} must be a list of field names."))),
    }
}

fn flag(raw: Option<&Value>, name: &str) -> Result<bool> {
    match raw {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Error::invalid(format!("{name} must be true or false."))),
    }
}

/// A created_at bound as inclusive whole-millisecond bounds: stored times have
/// milliseconds, so `> 10.0005` is `>= 10.001` and `< 10.0005` is `<= 10.000`.
fn inclusive_millis(bound: Bound, at: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let millis = at.timestamp_millis();
    let fractional = !at.timestamp_subsec_nanos().is_multiple_of(1_000_000);
    let at_millis = |ms: i64| DateTime::from_timestamp_millis(ms);
    match bound {
        Bound::Gte => (at_millis(if fractional { millis + 1 } else { millis }), None),
        Bound::Gt => (at_millis(millis + 1), None),
        Bound::Lte => (None, at_millis(millis)),
        Bound::Lt => (None, at_millis(if fractional { millis } else { millis - 1 })),
    }
}
