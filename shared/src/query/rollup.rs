//! Whether rollups can answer a query, and the answer from their counts.
//!
//! A rollup cell stands for the events of one bucket that share the values of its view's
//! fields: it is read as one row holding those values (and the bucket's start as
//! created_at) that counts as many rows as the cell counts. A query can be answered from
//! such rows when everything it reads is one of those fields, or created_at as a range
//! (which chooses the buckets) or as a group key whose date_format renders every time of
//! a bucket alike; and when its group only counts. Conditions on the fields, of any
//! operator, hold for a cell's events exactly when they hold for its row.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::condition::Condition;
use super::path::insert;
use super::pushdown::created_range;
use super::stat::{distinct, Mode, Stage, StatAnswer};
use super::{Query, StatQuery};
use crate::error::Result;
use crate::model::format_time;
use crate::rollup::{Dims, Granularity, View, DIMENSIONS};

/// What rollups are asked: the fields read, the widest bucket usable, the created_at
/// range (inclusive, whole milliseconds; None unbounded).
#[derive(Debug, Clone, PartialEq)]
pub struct RollupAsk {
    pub dims: Dims,
    pub finest: Granularity,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The row a cell (or an event read from the index) stands as: `values` of the fields
/// in `dims`, in [`DIMENSIONS`] order, and created_at.
pub fn cell_row(dims: Dims, values: &[String], at: DateTime<Utc>) -> Value {
    let mut row = Map::new();
    for (i, value) in dims.positions().zip(values) {
        insert(&mut row, DIMENSIONS[i], Value::String(value.clone()));
    }
    row.insert("created_at".into(), json!(format_time(at)));
    Value::Object(row)
}

fn on_a_dimension(condition: &Condition) -> Option<Dims> {
    Dims::of(condition.key())
}

impl Query {
    /// The fields and created_at range rollups need to count this query's matches, when
    /// rollups can.
    pub fn rollup_ask(&self, now: DateTime<Utc>) -> Option<RollupAsk> {
        if self.keyword.is_some() {
            return None;
        }
        let mut ask = RollupAsk { dims: Dims(0), finest: Granularity::Day, from: None, to: None };
        for condition in &self.filter {
            if condition.key() != "created_at" {
                ask.dims = ask.dims.union(on_a_dimension(condition)?);
                continue;
            }
            let ((from, to), true) = created_range(condition, now)? else { return None };
            ask.from = from.max(ask.from);
            ask.to = match (ask.to, to) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        for condition in &self.filter_or {
            ask.dims = ask.dims.union(on_a_dimension(condition)?);
        }
        View::covering(ask.dims)?;
        Some(ask)
    }

    /// Whether the events a cell row stands for match (its created_at is in range: the
    /// buckets were chosen by it).
    pub fn matches_cell(&self, row: &Value, now: DateTime<Utc>) -> bool {
        self.filter.iter().filter(|c| c.key() != "created_at").all(|c| c.matches(row, now))
            && (self.filter_or.is_empty() || self.filter_or.iter().any(|c| c.matches(row, now)))
    }
}

impl StatQuery {
    /// What rollups need to answer this stat, when they can.
    pub fn rollup_ask(&self, now: DateTime<Utc>) -> Option<RollupAsk> {
        let mut ask = self.filter.rollup_ask(now)?;
        match &self.mode {
            Mode::Distinct(path) => ask.dims = ask.dims.union(Dims::of(&path.key())?),
            Mode::Aggregate(stages) => {
                let Some(Stage::Group(group)) = stages.first() else { return None };
                for field in group.counted_fields()? {
                    ask.dims = ask.dims.union(Dims::of(field)?);
                }
                for (path, date_format) in group.keys() {
                    let key = path.key();
                    if key == "created_at" {
                        if date_format?.constant_within()? == Granularity::Hour {
                            ask.finest = Granularity::Hour;
                        }
                    } else {
                        ask.dims = ask.dims.union(Dims::of(&key)?);
                    }
                }
            }
        }
        View::covering(ask.dims)?;
        Some(ask)
    }

    /// The stat's answer from cell rows, each with how many events it stands for.
    pub fn evaluate_counts(&self, rows: Vec<(Value, u64)>, now: DateTime<Utc>) -> Result<StatAnswer> {
        let matched: Vec<(Value, u64)> =
            rows.into_iter().filter(|(row, n)| *n > 0 && self.filter.matches_cell(row, now)).collect();
        let rows = match &self.mode {
            Mode::Distinct(path) => {
                distinct(&matched.into_iter().map(|(row, _)| row).collect::<Vec<_>>(), path)
            }
            Mode::Aggregate(stages) => match stages.split_first() {
                Some((Stage::Group(group), rest)) => {
                    rest.iter().fold(group.run_counted(matched, now), |rows, stage| stage.run(rows, now))
                }
                _ => {
                    return Err(crate::Error::Internal("a stat without a leading group read rollups".into()))
                }
            },
        };
        let total_count = rows.len();
        Ok(StatAnswer { results: self.page.apply(rows), total_count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn ask(query: Value) -> Option<RollupAsk> {
        StatQuery::from_json(&query).unwrap().rollup_ask(parse_time("2022-07-01T00:00:00Z").unwrap())
    }

    fn per(key: Value) -> Value {
        json!([{"group": {"keys": [key], "fields": [{"name": "n", "operator": "count"}]}},
               {"sort": {"key": "n", "desc": true}}])
    }

    fn dims(paths: &[&str]) -> Dims {
        paths.iter().fold(Dims(0), |d, p| d.union(Dims::of(p).unwrap()))
    }

    #[test]
    fn rollups_answer_counts_by_their_fields_over_created_at_ranges() {
        let per_day = json!({"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"});
        let asked = ask(json!({"aggregate": per(per_day), "filter": [
            {"k": "created_at", "v": "2022-06-01", "o": "datetime_gte"},
            {"k": "created_at", "v": "now-1d", "o": "timediff_lt"},
            {"k": "project_id", "v": "p", "o": "contain"}]}))
        .unwrap();
        assert_eq!(asked.dims, dims(&["project_id"]));
        assert_eq!(asked.finest, Granularity::Day);
        assert_eq!(asked.from, parse_time("2022-06-01T00:00:00Z"));
        assert_eq!(asked.to, parse_time("2022-06-29T23:59:59.999Z"));
        let hourly = json!({"key": "created_at", "name": "h", "date_format": "%Y-%m-%d %H"});
        assert_eq!(ask(json!({"aggregate": per(hourly)})).unwrap().finest, Granularity::Hour);
        let by_type = ask(json!({"aggregate": per(json!({"key": "resource.resource_type", "name": "t"})),
                                 "filter_or": [{"k": "severity", "v": "ERROR"}]}))
        .unwrap();
        assert_eq!(by_type.dims, dims(&["severity", "resource.resource_type"]));
        assert_eq!(ask(json!({"distinct": "webhook_id"})).unwrap().dims, dims(&["webhook_id"]));
    }

    #[test]
    fn anything_else_is_left_to_the_index() {
        let by_severity = per(json!({"key": "severity", "name": "s"}));
        for query in [
            json!({"aggregate": per(json!({"key": "title", "name": "t"}))}),
            json!({"aggregate": per(json!({"key": "resource", "name": "r"}))}),
            json!({"aggregate": per(json!({"key": "created_at", "name": "t"}))}),
            json!({"aggregate": per(json!({"key": "created_at", "name": "m", "date_format": "%H:%M"}))}),
            json!({"aggregate": by_severity, "keyword": "disk"}),
            json!({"aggregate": by_severity, "filter": [{"k": "title", "v": "x"}]}),
            json!({"aggregate": by_severity, "filter": [{"k": "created_at", "v": "2022-06-01", "o": "not"}]}),
            json!({"aggregate": by_severity, "filter_or": [{"k": "created_at", "v": "now-1d", "o": "timediff_gt"}]}),
            json!({"aggregate": [{"group": {"keys": [{"key": "severity", "name": "s"}],
                                            "fields": [{"key": "event_id", "name": "ids", "operator": "push"}]}}]}),
            json!({"aggregate": [{"count": {"name": "n"}}]}),
            json!({"aggregate": per(json!({"key": "severity", "name": "s"})),
                   "filter": [{"k": "project_id", "v": "p"}, {"k": "provider", "v": "x"}]}),
            json!({"distinct": "title"}),
        ] {
            assert_eq!(ask(query.clone()), None, "{query}");
        }
    }

    #[test]
    fn counted_rows_answer_what_the_rows_they_stand_for_answer() {
        let query = StatQuery::from_json(&json!({
            "filter": [{"k": "severity", "v": ["ERROR", "CRITICAL"], "o": "in"}],
            "aggregate": [
                {"group": {"keys": [{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"}],
                           "fields": [{"name": "n", "operator": "count"},
                                      {"name": "critical", "operator": "count",
                                       "conditions": [{"k": "severity", "v": "CRITICAL"}]}]}},
                {"sort": {"key": "n", "desc": true}}]
        }))
        .unwrap();
        let now = parse_time("2022-07-01T00:00:00Z").unwrap();
        let severity = dims(&["severity"]);
        let cell = |s: &str, at: &str| cell_row(severity, &[s.to_string()], parse_time(at).unwrap());
        let counted = vec![
            (cell("ERROR", "2022-06-01T00:00:00Z"), 3),
            (cell("CRITICAL", "2022-06-01T05:00:00Z"), 2),
            (cell("INFO", "2022-06-02T00:00:00Z"), 9),
            (cell("CRITICAL", "2022-06-02T00:00:00Z"), 1),
        ];
        let one_by_one: Vec<Value> =
            counted.iter().flat_map(|(row, n)| std::iter::repeat_n(row.clone(), *n as usize)).collect();
        let one_by_one: Vec<Value> =
            one_by_one.into_iter().filter(|r| query.filter_query().matches(r, now)).collect();
        assert_eq!(query.evaluate_counts(counted, now).unwrap(), query.evaluate(one_by_one, now).unwrap());
    }

    #[test]
    fn a_cell_row_holds_its_fields_where_events_hold_them() {
        let row = cell_row(
            dims(&["severity", "resource.resource_type"]),
            &["ERROR".into(), "aws.EC2".into()],
            parse_time("2022-06-01T05:00:00Z").unwrap(),
        );
        assert_eq!(
            row,
            json!({"severity": "ERROR", "resource": {"resource_type": "aws.EC2"},
                   "created_at": "2022-06-01T05:00:00.000Z"})
        );
    }
}
