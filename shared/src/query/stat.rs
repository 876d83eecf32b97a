//! StatisticsQuery: `{aggregate: [stage…] | distinct, filter, filter_or, keyword, page}`,
//! evaluated as a pipeline over the matched events with python-core's stages. Rows
//! are flat JSON objects from start to end, as python-core renders them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::condition::{describe, Condition};
use super::group::Group;
use super::limits::{approximate_size, check_patterns, MAX_STAGE_ROWS, MAX_STAT_BYTES};
use super::list::Keyword;
use super::parse::{self, object, reject_unknown, text, Page};
use super::path::{insert, Leaves, Path};
use super::project::Project;
use super::sort::{parse_sort, sort_rows, SortKey};
use super::value::{identity, total_cmp};
use super::Query;
use crate::error::{Error, Result};

const STAGES: [&str; 8] = ["group", "project", "count", "sort", "limit", "skip", "unwind", "match"];
const STAT_KEYS: [&str; 6] = ["aggregate", "distinct", "filter", "filter_or", "keyword", "page"];

/// Whether any text or key in `value` names raw_data or a field inside it: a
/// conservative test, since stages name fields in many places.
fn names_raw_data(value: &Value) -> bool {
    let names = |text: &str| {
        text.strip_prefix("raw_data").is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    match value {
        Value::String(text) => names(text),
        Value::Array(items) => items.iter().any(names_raw_data),
        Value::Object(map) => map.iter().any(|(key, item)| names(key) || names_raw_data(item)),
        _ => false,
    }
}

/// A stat's `limit` and `skip` are int32 in the API.
const STAGE_NUMBER_MAX: u64 = i32::MAX as u64;

#[derive(Debug, Clone)]
pub struct StatQuery {
    pub(super) filter: Query,
    pub(super) mode: Mode,
    pub(super) page: Page,
    /// Whether a stage or `distinct` may look into raw_data; if none does, the reader
    /// can drop each event's raw_data, the bulk of its memory.
    reads_raw_data: bool,
}

#[derive(Debug, Clone)]
pub(super) enum Mode {
    Aggregate(Vec<Stage>),
    /// The distinct values of one field, sorted; list elements count one by one.
    Distinct(Path),
}

#[derive(Debug, Clone)]
pub(super) enum Stage {
    Group(Group),
    Project(Project),
    Count(String),
    Sort(Vec<SortKey>),
    Limit(usize),
    Skip(usize),
    /// One row per element of the list at `path`; rows without a list element go.
    Unwind {
        path: String,
        filter: Vec<Condition>,
    },
    Match {
        filter: Vec<Condition>,
        filter_or: Vec<Condition>,
    },
}

impl StatQuery {
    pub fn from_json(value: &Value) -> Result<StatQuery> {
        let query = object(value, "query", "(a SpaceONE StatisticsQuery)")?;
        reject_unknown(query, &STAT_KEYS, "query")?;
        check_patterns(value)?;
        let filter = Query::matching(
            parse::conditions(query.get("filter"), "filter")?,
            parse::conditions(query.get("filter_or"), "filter_or")?,
            Keyword::parse(query.get("keyword"), "query.keyword")?,
        );
        let page = parse::page(query.get("page"), "query.page")?;
        let mode = match query.get("aggregate") {
            Some(Value::Array(stages)) if !stages.is_empty() => Mode::Aggregate(parse_stages(stages)?),
            // As in python-core, distinct is used only when there is no aggregate.
            None | Some(Value::Null) | Some(Value::Array(_)) => match query.get("distinct") {
                Some(Value::String(key)) if !key.is_empty() => Mode::Distinct(Path::new(key)),
                None | Some(Value::Null) => return Err(Error::RequiredParameter("query.aggregate".into())),
                Some(other) => {
                    return Err(Error::invalid(format!(
                        "query.distinct: must be a field name, not {}",
                        describe(other)
                    )))
                }
            },
            Some(other) => {
                return Err(Error::invalid(format!(
                    "query.aggregate: must be a list of stages, not {}",
                    describe(other)
                )))
            }
        };
        let reads_raw_data =
            [query.get("aggregate"), query.get("distinct")].into_iter().flatten().any(names_raw_data);
        Ok(StatQuery { filter, mode, page, reads_raw_data })
    }

    pub fn reads_raw_data(&self) -> bool {
        self.reads_raw_data
    }

    /// Whether the stat reads no event field but `fields`: its filter, and the stage that
    /// reads the events, a leading `group` (later stages read its rows) or `distinct`.
    pub fn reads_only(&self, fields: &[&str]) -> bool {
        self.filter.matches_on(fields)
            && match &self.mode {
                Mode::Aggregate(stages) => {
                    matches!(stages.first(), Some(Stage::Group(g)) if g.reads_only(fields))
                }
                Mode::Distinct(path) => fields.contains(&path.field()),
            }
    }

    /// The filter part as a Query, so the store plans and matches with list's code.
    pub fn filter_query(&self) -> &Query {
        &self.filter
    }

    /// The stat over rows already in memory: the pipeline over those its filter matches.
    pub fn stat_rows(&self, rows: Vec<Value>, now: DateTime<Utc>) -> Result<StatAnswer> {
        let matched = rows.into_iter().filter(|row| self.filter.matches(row, now)).collect();
        self.evaluate(matched, now)
    }

    /// Runs the pipeline over matched events: `{results, total_count}`, where
    /// total_count counts the rows before `page` takes its slice.
    pub fn evaluate(&self, matched: Vec<Value>, now: DateTime<Utc>) -> Result<StatAnswer> {
        let rows = match &self.mode {
            Mode::Aggregate(stages) => {
                let mut rows = matched;
                for (n, stage) in stages.iter().enumerate() {
                    rows = stage.run(rows, now);
                    if rows.len() > MAX_STAGE_ROWS {
                        return Err(Error::invalid(format!(
                            "query.aggregate[{n}] makes {} rows; a stage may make at most {MAX_STAGE_ROWS}. \
                             Narrow the filter, or group before unwinding.",
                            rows.len()
                        )));
                    }
                    if matches!(stage, Stage::Unwind { .. }) && held_bytes(&rows) > MAX_STAT_BYTES {
                        return Err(Error::invalid(format!(
                            "query.aggregate[{n}] makes rows of more than {} MB (each element copies the \
                             rest of its row); project the fields you need before unwinding, or narrow the \
                             filter.",
                            MAX_STAT_BYTES >> 20
                        )));
                    }
                }
                rows
            }
            Mode::Distinct(path) => distinct(&matched, path),
        };
        let total_count = rows.len();
        Ok(StatAnswer { results: self.page.apply(rows), total_count })
    }
}

/// A stat answer: the page of result rows, and how many rows there were in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatAnswer {
    pub results: Vec<Value>,
    pub total_count: usize,
}

fn parse_stages(stages: &[Value]) -> Result<Vec<Stage>> {
    // The key names the rows carry from the last group, which a project keeps.
    let mut group_keys: Vec<String> = Vec::new();
    let mut parsed = Vec::with_capacity(stages.len());
    for (i, raw) in stages.iter().enumerate() {
        let stage = parse_stage(raw, &format!("aggregate[{i}]"), &group_keys)?;
        match &stage {
            Stage::Group(group) => group_keys = group.key_names().map(str::to_string).collect(),
            Stage::Project(project) if project.exclude_keys => group_keys.clear(),
            Stage::Count(_) => group_keys.clear(),
            _ => {}
        }
        parsed.push(stage);
    }
    Ok(parsed)
}

fn parse_stage(raw: &Value, at: &str, group_keys: &[String]) -> Result<Stage> {
    let wrong =
        || Error::invalid(format!("{at}: a stage is an object with one key, one of: {}", STAGES.join(", ")));
    let stage = raw.as_object().filter(|o| o.len() == 1).ok_or_else(wrong)?;
    let Some((name, body)) = stage.iter().next() else { return Err(wrong()) };
    let at = format!("{at}.{name}");
    let number = |min: u64| -> Result<usize> {
        body.as_u64().filter(|n| (min..=STAGE_NUMBER_MAX).contains(n)).map(|n| n as usize).ok_or_else(|| {
            Error::invalid(format!(
                "{at}: must be a whole number from {min} to {STAGE_NUMBER_MAX}, not {}",
                describe(body)
            ))
        })
    };
    Ok(match name.as_str() {
        "group" => Stage::Group(Group::parse(body, &at)?),
        "project" => Stage::Project(Project::parse(body, &at, group_keys.to_vec())?),
        "count" => {
            let count = object(body, &at, "{name}")?;
            reject_unknown(count, &["name"], &at)?;
            Stage::Count(text(count, "name", "name", &at)?.to_string())
        }
        "sort" => {
            let keys = parse_sort(Some(body), &at)?;
            if keys.is_empty() {
                return Err(Error::invalid(format!("{at}: needs 'key' or 'keys'")));
            }
            Stage::Sort(keys)
        }
        "limit" => Stage::Limit(number(1)?),
        "skip" => Stage::Skip(number(0)?),
        "unwind" => {
            let unwind = object(body, &at, "{path, filter?}")?;
            reject_unknown(unwind, &["path", "filter"], &at)?;
            let path = text(unwind, "path", "path", &at)?.trim_start_matches('$').to_string();
            if path.is_empty() {
                return Err(Error::invalid(format!("{at}: 'path' names no field")));
            }
            Stage::Unwind { path, filter: parse::conditions(unwind.get("filter"), &format!("{at}.filter"))? }
        }
        "match" => match body {
            Value::Array(_) => {
                Stage::Match { filter: parse::conditions(Some(body), &at)?, filter_or: Vec::new() }
            }
            _ => {
                let filters = object(body, &at, "{filter, filter_or?}")?;
                reject_unknown(filters, &["filter", "filter_or"], &at)?;
                Stage::Match {
                    filter: parse::conditions(filters.get("filter"), &format!("{at}.filter"))?,
                    filter_or: parse::conditions(filters.get("filter_or"), &format!("{at}.filter_or"))?,
                }
            }
        },
        other => {
            return Err(Error::invalid(format!(
                "{at}: '{other}' is not a stage; allowed: {}",
                STAGES.join(", ")
            )))
        }
    })
}

impl Stage {
    pub(super) fn run(&self, rows: Vec<Value>, now: DateTime<Utc>) -> Vec<Value> {
        match self {
            Stage::Group(group) => group.run(rows, now),
            Stage::Project(project) => rows.iter().map(|r| project.run(r)).collect(),
            // MongoDB's $count answers nothing, not zero, for no rows.
            Stage::Count(_) if rows.is_empty() => Vec::new(),
            Stage::Count(name) => vec![json!({ name: rows.len() })],
            Stage::Sort(keys) => {
                let mut rows = rows;
                sort_rows(&mut rows, keys);
                rows
            }
            Stage::Limit(n) => rows.into_iter().take(*n).collect(),
            Stage::Skip(n) => rows.into_iter().skip(*n).collect(),
            // The only stage that makes more rows than it takes: it stops one past either
            // bound, which `evaluate` then refuses, rather than fill memory first.
            Stage::Unwind { path, filter } => {
                let mut bytes = 0;
                rows.into_iter()
                    .flat_map(|r| unwind(r, path))
                    .filter(|r| filter.iter().all(|c| c.matches(r, now)))
                    .take_while(|r| {
                        let within = bytes <= MAX_STAT_BYTES;
                        bytes += approximate_size(r);
                        within
                    })
                    .take(MAX_STAGE_ROWS + 1)
                    .collect()
            }
            Stage::Match { filter, filter_or } => rows
                .into_iter()
                .filter(|r| {
                    filter.iter().all(|c| c.matches(r, now))
                        && (filter_or.is_empty() || filter_or.iter().any(|c| c.matches(r, now)))
                })
                .collect(),
        }
    }
}

fn held_bytes(rows: &[Value]) -> usize {
    rows.iter().map(approximate_size).sum()
}

/// MongoDB's `$unwind`: a list gives one row per element; a missing, null or empty
/// list gives none; any other value leaves the row as it is.
fn unwind(row: Value, path: &str) -> Vec<Value> {
    let items = match Path::new(path).first(&row) {
        Some(Value::Array(items)) => items.clone(),
        None | Some(Value::Null) => return Vec::new(),
        Some(_) => return vec![row],
    };
    // Each copy is of the row without its list, so unwinding n elements copies the rest
    // of the row n times, not the list n times too.
    let mut rest = row;
    if let Value::Object(map) = &mut rest {
        insert(map, path, Value::Null);
    }
    items
        .into_iter()
        .map(|item| {
            let mut copy = rest.clone();
            if let Value::Object(map) = &mut copy {
                insert(map, path, item);
            }
            copy
        })
        .collect()
}

pub(super) fn distinct(events: &[Value], path: &Path) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut values = Vec::new();
    for event in events {
        path.any(event, Leaves::Elements, &mut |v| {
            let mut token = String::new();
            identity(Some(v), &mut token);
            if seen.insert(token) {
                values.push(v.clone());
            }
            false
        });
    }
    values.sort_by(|a, b| total_cmp(Some(a), Some(b)));
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Value> {
        vec![
            json!({"event_id": "e1", "severity": "CRITICAL", "tags": ["a", "b"], "n": 3,
                   "title": "Disk full"}),
            json!({"event_id": "e2", "severity": "INFO", "tags": [], "n": 1, "title": "CPU"}),
            json!({"event_id": "e3", "severity": "CRITICAL", "tags": "c", "n": 2, "title": "disk"}),
            json!({"event_id": "e4", "severity": "WARNING", "n": 5, "title": "Memory"}),
        ]
    }

    fn stat(query: Value) -> Value {
        let q = StatQuery::from_json(&query).unwrap();
        let now = Utc::now();
        let matched = rows().into_iter().filter(|e| q.filter_query().matches(e, now)).collect();
        serde_json::to_value(q.evaluate(matched, now).unwrap()).unwrap()
    }

    #[test]
    fn knows_whether_a_stage_reads_raw_data() {
        let reads = |aggregate: Value| {
            StatQuery::from_json(&json!({"aggregate": aggregate})).unwrap().reads_raw_data()
        };
        let by = |key: &str| json!([{"group": {"keys": [{"key": key, "name": "k"}], "fields": [{"name": "n", "operator": "count"}]}}]);
        assert!(reads(by("raw_data.labels.job")));
        assert!(reads(by("raw_data")));
        assert!(!reads(by("severity")));
        assert!(!reads(by("raw_data_size")), "a field that only starts with the name");
        let distinct = StatQuery::from_json(&json!({"distinct": "raw_data.alertname"})).unwrap();
        assert!(distinct.reads_raw_data());
    }

    #[test]
    fn knows_when_it_reads_only_some_fields() {
        let fields = ["severity", "created_at", "event_id"];
        let reads_only = |query: Value| StatQuery::from_json(&query).unwrap().reads_only(&fields);
        let group = |key: Value, more: Value| {
            json!([{"group": {"keys": [key], "fields": [{"name": "n", "operator": "count"}, more]}},
                   {"sort": {"key": "n"}}])
        };
        let ids = json!({"key": "event_id", "name": "ids", "operator": "push"});
        let per_day = json!({"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"});
        assert!(reads_only(
            json!({"aggregate": group(json!({"key": "severity", "name": "s"}), ids.clone())})
        ));
        assert!(reads_only(json!({"aggregate": group(per_day.clone(), ids.clone()),
                                  "filter": [{"k": "severity", "v": "ERROR"}]})));
        assert!(reads_only(json!({"distinct": "severity"})));
        assert!(!reads_only(json!({"aggregate": group(json!({"key": "title", "name": "t"}), ids.clone())})));
        let titles = json!({"key": "title", "name": "t", "operator": "push"});
        assert!(!reads_only(json!({"aggregate": group(per_day.clone(), titles)})));
        let counted_if = json!({"name": "c", "operator": "count", "conditions": [{"k": "rule", "v": "x"}]});
        assert!(!reads_only(json!({"aggregate": group(per_day.clone(), counted_if)})));
        assert!(!reads_only(json!({"aggregate": group(per_day.clone(), ids.clone()), "keyword": "disk"})));
        assert!(!reads_only(json!({"aggregate": group(per_day.clone(), ids.clone()),
                                   "filter_or": [{"k": "additional_info.user", "v": "x"}]})));
        assert!(!reads_only(json!({"aggregate": [{"count": {"name": "n"}}]})), "only a leading group");
    }

    fn results(query: Value) -> Value {
        stat(query)["results"].clone()
    }

    /// A project stage keeping one field under a new name.
    fn keep(key: &str, name: &str) -> Value {
        json!({"project": {"fields": [{"key": key, "name": name}]}})
    }

    fn count(name: &str) -> Value {
        json!({"count": {"name": name}})
    }

    fn err(query: Value) -> String {
        StatQuery::from_json(&query).unwrap_err().to_string()
    }

    #[test]
    fn count_stage_counts_rows_and_answers_nothing_for_none() {
        assert_eq!(results(json!({"aggregate": [count("total")]})), json!([{"total": 4}]));
        let none = json!({"filter": [{"k": "severity", "v": "ERROR"}], "aggregate": [count("total")]});
        assert_eq!(stat(none), json!({"results": [], "total_count": 0}));
    }

    #[test]
    fn sort_limit_and_skip_stages_slice_in_order() {
        let q = json!({"aggregate": [{"sort": {"key": "n", "desc": true}}, {"skip": 1}, {"limit": 2},
                                     keep("event_id", "id")]});
        assert_eq!(results(q), json!([{"id": "e1"}, {"id": "e3"}]));
        let by_two = json!({"sort": {"keys": [{"key": "severity"}, {"key": "n"}]}});
        let q = json!({"aggregate": [by_two, keep("event_id", "id")]});
        assert_eq!(results(q), json!([{"id": "e3"}, {"id": "e1"}, {"id": "e2"}, {"id": "e4"}]));
    }

    #[test]
    fn unwind_gives_a_row_per_element_and_may_filter_them() {
        let q = json!({"aggregate": [{"unwind": {"path": "tags"}}, keep("tags", "t")]});
        assert_eq!(results(q), json!([{"t": "a"}, {"t": "b"}, {"t": "c"}]), "empty and missing lists drop");
        let unwind = json!({"unwind": {"path": "$tags", "filter": [{"k": "tags", "v": "b"}]}});
        assert_eq!(results(json!({"aggregate": [unwind, count("n")]})), json!([{"n": 1}]));
    }

    #[test]
    fn match_stage_filters_pipeline_rows() {
        let sums = json!({"group": {"keys": [{"key": "severity", "name": "severity"}],
                                    "fields": [{"key": "n", "name": "sum", "operator": "sum"}]}});
        let q = json!({"aggregate": [sums, {"match": {"filter": [{"k": "sum", "v": 4, "o": "gte"}]}}]});
        assert_eq!(
            results(q),
            json!([{"severity": "CRITICAL", "sum": 5}, {"severity": "WARNING", "sum": 5}])
        );
        let q = json!({"aggregate": [{"match": [{"k": "title", "v": "disk", "o": "contain"}]}, count("n")]});
        assert_eq!(results(q), json!([{"n": 2}]));
        let either = json!({"match": {"filter_or": [{"k": "n", "v": 1}, {"k": "n", "v": 5}]}});
        assert_eq!(results(json!({"aggregate": [either, count("n")]})), json!([{"n": 2}]));
    }

    #[test]
    fn project_after_group_keeps_the_group_keys_unless_excluded() {
        let group = json!({"group": {"keys": [{"key": "severity", "name": "severity"}],
                                     "fields": [{"key": "event_id", "name": "ids", "operator": "push"}]}});
        let size = json!([{"key": "ids", "name": "n", "operator": "size"}]);
        let project = |exclude: bool| json!({"project": {"fields": size, "exclude_keys": exclude}});
        let q = json!({"aggregate": [group, project(false), {"sort": {"key": "severity"}}]});
        assert_eq!(
            results(q),
            json!([{"severity": "CRITICAL", "n": 2}, {"severity": "INFO", "n": 1},
                   {"severity": "WARNING", "n": 1}])
        );
        let q = json!({"aggregate": [group, project(true), {"limit": 1}]});
        assert_eq!(results(q), json!([{"n": 2}]));
    }

    #[test]
    fn page_slices_the_results_after_counting_them() {
        let ids = json!({"group": {"keys": [{"key": "event_id", "name": "id"}]}});
        let q = json!({"aggregate": [ids, {"sort": {"key": "id"}}], "page": {"start": 2, "limit": 2}});
        assert_eq!(stat(q), json!({"results": [{"id": "e2"}, {"id": "e3"}], "total_count": 4}));
    }

    #[test]
    fn filter_and_keyword_choose_the_rows() {
        let either = json!([{"k": "n", "v": 3}, {"k": "n", "v": 1}]);
        let q = json!({"keyword": "DISK", "filter_or": either, "aggregate": [count("n")]});
        assert_eq!(results(q), json!([{"n": 1}]));
    }

    /// `match` is an element match in a stat's filter and under `distinct` too: an
    /// object is no list.
    #[test]
    fn stat_filters_match_lists_only() {
        let on_object = json!([{"k": "tags", "v": {"$in": ["a", "c"]}, "o": "match"}]);
        let counted = json!({"filter": on_object, "aggregate": [{"count": {"name": "n"}}]});
        assert_eq!(results(counted), json!([{"n": 1}]), "only e1's list holds a");
        let object = json!([{"k": "resource", "v": {"name": "db-01"}, "o": "match"}]);
        let rows = || vec![json!({"severity": "INFO", "resource": {"name": "db-01"}})];
        for query in [
            json!({"filter": object, "distinct": "severity"}),
            json!({"filter": object, "aggregate": [{"count": {"name": "n"}}]}),
        ] {
            let q = StatQuery::from_json(&query).unwrap();
            let now = Utc::now();
            let matched = rows().into_iter().filter(|e| q.filter_query().matches(e, now)).collect();
            assert_eq!(q.evaluate(matched, now).unwrap().results, Vec::<Value>::new(), "{query}");
        }
    }

    #[test]
    fn distinct_lists_sorted_unique_values() {
        let severities = stat(json!({"distinct": "severity"}));
        assert_eq!(severities, json!({"results": ["CRITICAL", "INFO", "WARNING"], "total_count": 3}));
        assert_eq!(results(json!({"distinct": "tags", "page": {"limit": 2}})), json!(["a", "b"]));
    }

    #[test]
    fn malformed_stat_queries_name_the_stage_and_what_is_allowed() {
        let code = |q: Value| StatQuery::from_json(&q).unwrap_err().code();
        assert_eq!(code(json!({})), "ERROR_REQUIRED_PARAMETER");
        assert_eq!(code(json!({"aggregate": []})), "ERROR_REQUIRED_PARAMETER");
        assert_eq!(code(json!({"aggregate": [{"limit": 0}]})), "ERROR_INVALID_ARGUMENT");
        assert_eq!(
            err(json!({"aggregate": [{"explode": {}}]})),
            "aggregate[0].explode: 'explode' is not a stage; allowed: group, project, count, sort, limit, \
             skip, unwind, match"
        );
        let two_keys = err(json!({"aggregate": [{"limit": 1, "skip": 1}]}));
        assert!(two_keys.starts_with("aggregate[0]: a stage is an object with one key"));
        assert!(err(json!({"aggregate": ["group"]})).starts_with("aggregate[0]: a stage"));
        let no_name = err(json!({"aggregate": [{"count": {}}, {"limit": "ten"}]}));
        assert!(no_name.starts_with("aggregate[0].count: needs 'name'"));
        assert!(err(json!({"aggregate": [{"limit": 0}]})).contains("from 1 to"));
        assert!(err(json!({"aggregate": [{"skip": -1}]})).contains("from 0 to"));
        assert!(err(json!({"aggregate": [{"sort": {}}]})).contains("needs 'key' or 'keys'"));
        assert!(err(json!({"aggregate": [{"unwind": {}}]})).contains("needs 'path'"));
        assert!(err(json!({"aggregate": [{"unwind": {"path": "$"}}]})).contains("names no field"));
        let bad_match = err(json!({"aggregate": [{"match": {"filter": [{"k": "a", "o": "near"}]}}]}));
        assert!(bad_match.starts_with("aggregate[0].match.filter[0]: operator 'near'"));
        assert!(err(json!({"aggregate": {"group": {}}})).contains("must be a list of stages"));
        assert!(err(json!({"distinct": 3})).contains("query.distinct"));
        assert!(err(json!({"aggregate": [count("n")], "sort": {}})).contains("unknown key 'sort'"));
        assert!(err(json!(null)).contains("must be an object"));
    }

    #[test]
    fn a_stage_that_makes_too_many_rows_is_refused_by_name() {
        let tags: Vec<usize> = (0..=super::MAX_STAGE_ROWS).collect();
        let query = StatQuery::from_json(
            &json!({"aggregate": [{"count": {"name": "n"}}, {"unwind": {"path": "tags"}}]}),
        )
        .unwrap();
        assert!(query.evaluate(vec![json!({"tags": [1, 2]})], Utc::now()).is_ok());
        let query = StatQuery::from_json(
            &json!({"aggregate": [{"unwind": {"path": "tags"}}, {"count": {"name": "n"}}]}),
        )
        .unwrap();
        let err = query.evaluate(vec![json!({"tags": tags})], Utc::now()).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("aggregate[0]"), "{err}");
    }

    #[test]
    fn an_unwind_that_copies_too_many_bytes_is_refused_before_it_holds_them() {
        // 1,000 elements, each copying a 100 KB rest of the row: 100 MB, far fewer rows
        // than the row bound.
        let row = json!({"tags": (0..1000).collect::<Vec<_>>(), "blob": "x".repeat(100 * 1024)});
        let query = StatQuery::from_json(&json!({"aggregate": [{"unwind": {"path": "tags"}}]})).unwrap();
        let err = query.evaluate(vec![row.clone()], Utc::now()).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("more than 64 MB"), "{err}");
        let projected = json!({"aggregate": [{"project": {"fields": [{"key": "tags", "name": "tags"}]}},
                                             {"unwind": {"path": "tags"}}, {"count": {"name": "n"}}]});
        let answer = StatQuery::from_json(&projected).unwrap().evaluate(vec![row], Utc::now()).unwrap();
        assert_eq!(answer.total_count, 1, "projecting first keeps it small");
    }
}
