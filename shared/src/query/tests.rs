//! Query and StatisticsQuery over small event sets.

use chrono::Utc;
use serde_json::{json, Value};

use super::{FieldTest, Query, StatQuery};
use crate::model::parse_time;

fn events() -> Vec<Value> {
    // Newest first, as the store returns them.
    vec![
        json!({"event_id": "event-3", "title": "CPU high", "severity": "WARNING", "alert_id": "alert-b",
               "created_at": "2022-06-22T10:00:00.000Z", "resource": {"name": "web-1"},
               "additional_info": {"user": "glee"}, "value": 3}),
        json!({"event_id": "event-2", "title": "Disk full", "severity": "CRITICAL", "alert_id": "alert-a",
               "created_at": "2022-06-21T12:00:00.000Z", "resource": {"name": "db-1"},
               "additional_info": {"user": "spaceoneadm"}, "value": 10}),
        json!({"event_id": "event-1", "title": "Disk full", "severity": "CRITICAL", "alert_id": "alert-a",
               "created_at": "2022-06-21T00:00:00.000Z", "resource": {"name": "db-1"},
               "additional_info": {"user": "glee"}, "value": 5}),
    ]
}

fn list(query: Value) -> Value {
    let q = Query::from_json(&query).unwrap();
    let now = Utc::now();
    q.render_list(events().into_iter().filter(|e| q.matches(e, now)).collect())
}

fn ids(result: &Value) -> Vec<&str> {
    result["results"].as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap()).collect()
}

fn stat(query: Value) -> Value {
    let q = StatQuery::from_json(&query).unwrap();
    let now = Utc::now();
    let matched = events().into_iter().filter(|e| q.filter_query().matches(e, now)).collect();
    q.evaluate(matched, now).unwrap()
}

#[test]
fn empty_query_lists_everything_in_the_default_order() {
    let all = list(json!({}));
    assert_eq!((ids(&all), &all["total_count"]), (vec!["event-3", "event-2", "event-1"], &json!(3)));
    assert_eq!(ids(&list(Value::Null)), ["event-3", "event-2", "event-1"]);
}

#[test]
fn filter_is_and_filter_or_is_any_and_keyword_searches_id_and_title() {
    let q = json!({"filter": [{"k": "severity", "v": "critical"}, {"k": "additional_info.user", "v": "glee", "o": "eq"}]});
    assert_eq!(ids(&list(q)), ["event-1"]);
    let q = json!({"filter_or": [{"k": "severity", "v": "WARNING"}, {"k": "value", "v": 10}]});
    assert_eq!(ids(&list(q)), ["event-3", "event-2"]);
    assert_eq!(ids(&list(json!({"keyword": "DISK"}))), ["event-2", "event-1"]);
    assert_eq!(ids(&list(json!({"keyword": "event-3"}))), ["event-3"]);
}

#[test]
fn sort_page_only_minimal_and_count_only_shape_the_answer() {
    assert_eq!(ids(&list(json!({"sort": {"key": "value"}}))), ["event-3", "event-1", "event-2"]);
    let q = json!({"sort": [{"key": "severity"}, {"key": "value", "desc": true}]});
    assert_eq!(ids(&list(q)), ["event-2", "event-1", "event-3"]);
    let q = json!({"sort": {"keys": [{"key": "created_at"}]}, "page": {"start": 2, "limit": 1}});
    let paged = list(q);
    assert_eq!((ids(&paged), &paged["total_count"]), (vec!["event-2"], &json!(3)));
    let only = list(json!({"only": ["event_id", "resource.name"], "page": {"limit": 1}}));
    assert_eq!(only["results"], json!([{"event_id": "event-3", "resource": {"name": "web-1"}}]));
    let minimal = list(json!({"minimal": true, "page": {"limit": 1}}));
    assert!(minimal["results"][0].get("additional_info").is_none());
    assert_eq!(minimal["results"][0]["title"], json!("CPU high"));
    assert_eq!(list(json!({"count_only": true})), json!({"total_count": 3}));
}

#[test]
fn pushdown_carries_ids_exact_millisecond_bounds_and_field_tests() {
    let q = Query::from_json(&json!({"filter": [
        {"k": "alert_id", "v": "alert-a"},
        {"k": "severity", "v": ["critical", "error"], "o": "in"},
        {"k": "created_at", "v": "2022-06-01T00:00:00Z", "o": "datetime_gte"},
        {"k": "created_at", "v": "2022-06-10T00:00:00Z", "o": "datetime_gt"},
        {"k": "created_at", "v": "2022-06-30T00:00:00.0005Z", "o": "datetime_lt"},
    ]}))
    .unwrap();
    let push = q.pushdown(Utc::now());
    assert_eq!(push.alert_id.as_deref(), Some("alert-a"));
    assert_eq!(
        push.created_from,
        parse_time("2022-06-10T00:00:00.001Z"),
        "gt becomes gte of the next millisecond"
    );
    assert_eq!(push.created_to, parse_time("2022-06-30T00:00:00.000Z"));
    assert_eq!(
        push.filters,
        [
            FieldTest::OneOf { path: "alert_id".into(), values: vec!["alert-a".into()] },
            FieldTest::OneOf { path: "severity".into(), values: vec!["CRITICAL".into(), "ERROR".into()] },
        ]
    );
    assert!(push.complete);
    let partial =
        Query::from_json(&json!({"filter": [{"k": "title", "v": "disk", "o": "contain"}]})).unwrap();
    assert!(!partial.pushdown(Utc::now()).complete, "text search stays in memory");
    let or_only = Query::from_json(&json!({"filter_or": [{"k": "alert_id", "v": "alert-a"}]})).unwrap();
    let push = or_only.pushdown(Utc::now());
    assert_eq!((push.alert_id, push.complete), (None, false), "an OR condition does not narrow the index");
}

#[test]
fn malformed_queries_say_what_is_wrong() {
    let err = |q: Value| Query::from_json(&q).unwrap_err().to_string();
    assert!(err(json!({"filter": [{"k": "a", "v": 1}, {"k": "b", "v": 1, "o": "nope"}]}))
        .starts_with("filter[1]: operator 'nope'"));
    assert!(err(json!({"page": {"start": 0}})).contains("counts from 1"));
    assert!(err(json!({"page": {"limit": -1}})).contains("whole number"));
    assert!(err(json!({"sort": {"desc": true}})).contains("'key'"));
    assert!(err(json!({"filters": []})).contains("unknown key 'filters'"));
    assert!(err(json!("severity")).contains("must be an object"));
}

#[test]
fn stat_groups_with_every_operator() {
    let q = json!({"aggregate": [
        {"group": {"keys": [{"key": "severity", "name": "severity"}], "fields": [
            {"name": "count", "operator": "count"},
            {"name": "glee", "operator": "count", "conditions": [{"k": "additional_info.user", "v": "glee"}]},
            {"key": "value", "name": "sum", "operator": "sum"},
            {"key": "value", "name": "avg", "operator": "average"},
            {"key": "value", "name": "max", "operator": "max"},
            {"key": "value", "name": "min", "operator": "min"},
            {"key": "event_id", "name": "first", "operator": "first"},
            {"key": "event_id", "name": "last", "operator": "last"},
            {"key": "value", "name": "values", "operator": "push"},
            {"name": "pairs", "operator": "push", "fields": [{"key": "event_id", "name": "id"}]},
            {"key": "title", "name": "titles", "operator": "add_to_set"},
            {"key": "additional_info", "name": "info", "operator": "merge_objects"}
        ]}},
        {"sort": {"key": "count", "desc": true}}
    ]});
    let result = stat(q);
    assert_eq!(result["total_count"], json!(2));
    assert_eq!(
        result["results"][0],
        json!({"severity": "CRITICAL", "count": 2, "glee": 1, "sum": 15, "avg": 7.5, "max": 10, "min": 5,
               "first": "event-2", "last": "event-1", "values": [10, 5], "pairs": [{"id": "event-2"}, {"id": "event-1"}],
               "titles": ["Disk full"], "info": {"user": "glee"}})
    );
    assert_eq!(result["results"][1]["severity"], json!("WARNING"));
}

#[test]
fn stat_groups_by_day_with_date_format() {
    let q = json!({"aggregate": [
        {"group": {"keys": [{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"}],
                   "fields": [{"name": "count", "operator": "count"}]}},
        {"sort": {"key": "day"}}
    ]});
    assert_eq!(
        stat(q)["results"],
        json!([{"day": "2022-06-21", "count": 2}, {"day": "2022-06-22", "count": 1}])
    );
}

#[test]
fn stat_pipeline_stages_compose() {
    let q = json!({"filter": [{"k": "severity", "v": "CRITICAL"}], "aggregate": [
        {"group": {"keys": [{"key": "alert_id", "name": "alert_id"}], "fields": [{"key": "value", "name": "values", "operator": "push"}]}},
        {"project": {"fields": [{"key": "alert_id", "name": "alert"}, {"key": "values", "name": "n", "operator": "size"}]}}
    ]});
    assert_eq!(stat(q)["results"], json!([{"alert": "alert-a", "n": 2}]));
    let q = json!({"aggregate": [
        {"group": {"keys": [{"key": "alert_id", "name": "alert_id"}], "fields": [{"key": "value", "name": "v", "operator": "push"}]}},
        {"unwind": {"path": "v"}}, {"match": [{"k": "v", "v": 4, "o": "gt"}]}, {"count": {"name": "big"}}
    ]});
    assert_eq!(stat(q)["results"], json!([{"big": 2}]));
    let q = json!({"aggregate": [{"group": {"keys": [{"key": "event_id", "name": "id"}]}}, {"sort": {"key": "id"}}, {"limit": 2}],
                   "page": {"start": 2}});
    let result = stat(q);
    assert_eq!((&result["results"], &result["total_count"]), (&json!([{"id": "event-2"}]), &json!(2)));
    let q = json!({"aggregate": [
        {"project": {"fields": [{"key": "additional_info", "name": "pairs", "operator": "object_to_array"},
                                {"fields": ["event_id", "title"], "name": "label", "operator": "concat"}]}},
        {"project": {"fields": [{"key": "pairs", "name": "info", "operator": "array_to_object"}, {"key": "label"}]}},
        {"limit": 1}
    ]});
    assert_eq!(stat(q)["results"], json!([{"info": {"user": "glee"}, "label": "event-3CPU high"}]));
}

#[test]
fn malformed_stat_queries_say_what_is_wrong() {
    let err = |q: Value| StatQuery::from_json(&q).unwrap_err().to_string();
    assert!(err(json!({})).contains("aggregate"));
    assert!(err(json!({"aggregate": [{"explode": {}}]})).contains("'explode' is not a stage"));
    let bad_op =
        err(json!({"aggregate": [{"group": {"fields": [{"name": "x", "operator": "median", "key": "v"}]}}]}));
    assert!(bad_op.starts_with("aggregate[0].group.fields[0]: operator 'median' is unknown"), "{bad_op}");
    assert!(err(json!({"aggregate": [{"group": {"fields": [{"name": "x", "operator": "sum"}]}}]}))
        .contains("needs 'key'"));
    assert!(err(json!({"aggregate": [{"limit": "ten"}]})).contains("whole number"));
}
