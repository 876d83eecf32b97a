//! Query and StatisticsQuery end to end over small event sets, as the store calls them:
//! parse, match each event, then render or evaluate. Plus properties over any input.

use chrono::Utc;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::{Query, StatQuery, OPERATORS};

fn event(id: &str, severity: &str, created_at: &str, title: &str, user: &str) -> Value {
    json!({
        "event_id": id, "event_key": format!("key-{id}"), "event_type": "ALERT", "title": title,
        "description": "", "severity": severity, "rule": "", "provider": "prometheus", "account": "",
        "image_url": "", "raw_data": {"labels": [{"name": "env", "value": "prod"}]},
        "resource": {"resource_id": "server-1", "resource_type": "inventory.Server", "name": "db-1"},
        "additional_info": {"user": user}, "alert_id": "alert-1", "webhook_id": "webhook-1",
        "project_id": "project-1", "workspace_id": "workspace-1", "domain_id": "domain-58010aa2e451",
        "created_at": created_at, "occurred_at": created_at,
    })
}

fn events() -> Vec<Value> {
    vec![
        event("event-4", "INFO", "2022-06-22T10:00:00.000Z", "CPU high", "glee"),
        event("event-3", "INFO", "2022-06-21T12:00:00.000Z", "Disk full", "ops"),
        event("event-2", "CRITICAL", "2022-06-02T00:00:00.000Z", "Disk full", "glee"),
        event("event-1", "CRITICAL", "2022-05-31T23:59:59.999Z", "Disk full", "glee"),
    ]
}

fn stat(query: Value) -> Value {
    let q = StatQuery::from_json(&query).unwrap();
    let now = Utc::now();
    let matched = events().into_iter().filter(|e| q.filter_query().matches(e, now)).collect();
    serde_json::to_value(q.evaluate(matched, now).unwrap()).unwrap()
}

#[test]
fn the_specs_stat_example_answers_as_documented() {
    let query = json!({"filter": [{"k": "created_at", "v": "2022-06-01T00:00:00Z", "o": "datetime_gte"}],
                       "aggregate": [{"group": {"keys": [{"key": "severity", "name": "severity"}],
                                                "fields": [{"name": "count", "operator": "count"}]}},
                                     {"sort": {"key": "count", "desc": true}}]});
    assert_eq!(
        stat(query),
        json!({"results": [{"severity": "INFO", "count": 2}, {"severity": "CRITICAL", "count": 1}],
               "total_count": 2})
    );
}

#[test]
fn a_list_query_uses_every_part_together() {
    let q = Query::from_json(&json!({
        "filter": [{"key": "raw_data.labels", "value": {"name": "env", "value": "prod"}, "operator": "match"},
                   {"k": "created_at", "v": "now-3650d", "o": "timediff_gte"}],
        "filter_or": [{"k": "additional_info.user", "v": "glee"},
                      {"k": "severity", "v": ["INFO"], "o": "in"}],
        "keyword": "disk",
        "sort": {"keys": [{"key": "created_at"}]},
        "page": {"start": 2, "limit": 5},
        "only": ["event_id", "resource.name"],
    }))
    .unwrap();
    let now = Utc::now();
    let matched: Vec<Value> = events().into_iter().filter(|e| q.matches(e, now)).collect();
    assert_eq!(
        q.render_list(matched).unwrap(),
        json!({"results": [{"event_id": "event-2", "resource": {"name": "db-1"}},
                           {"event_id": "event-3", "resource": {"name": "db-1"}}], "total_count": 3})
    );
}

#[test]
fn a_stat_pipeline_groups_by_month_and_pushes_sub_fields() {
    let query = json!({"aggregate": [
        {"group": {"keys": [{"key": "created_at", "name": "month", "date_format": "%Y-%m"}],
                   "fields": [{"name": "events", "operator": "push",
                               "fields": [{"key": "event_id", "name": "id"}]},
                              {"name": "glee", "operator": "count",
                               "conditions": [{"k": "additional_info.user", "v": "glee"}]}]}},
        {"sort": {"key": "month"}},
        {"project": {"fields": [{"key": "events", "name": "n", "operator": "size"},
                                {"key": "glee", "name": "glee"}]}}
    ]});
    assert_eq!(
        stat(query)["results"],
        json!([{"month": "2022-05", "n": 1, "glee": 1}, {"month": "2022-06", "n": 3, "glee": 2}])
    );
}

/// Any JSON, nested a little: what a caller may send.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "",
            "now-1d",
            "2022-06-21",
            "%Y",
            "(",
            "created_at",
            "severity",
            "tags",
            "$x",
            "in"
        ])
        .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "k",
                    "v",
                    "o",
                    "key",
                    "name",
                    "operator",
                    "fields",
                    "keys",
                    "filter",
                    "page",
                    "start",
                    "limit",
                    "date_format",
                    "conditions",
                    "path",
                    "group",
                    "project",
                    "sort",
                    "desc",
                    "count",
                    "unwind",
                    "match",
                    "skip",
                    "exclude_keys",
                    "data_type",
                ])
                .prop_map(String::from),
                inner,
                0..4,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn any_condition() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(OPERATORS.to_vec()),
        any_json(),
        prop::sample::select(vec!["severity", "tags", "raw_data.labels", "created_at", "x.y"]),
    )
        .prop_map(|(o, v, k)| json!({"k": k, "v": v, "o": o}))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Parsing and evaluating any input answers or errs; it never panics.
    #[test]
    fn no_input_panics(
        query in any_json(),
        filter in prop::collection::vec(any_condition(), 0..3),
        doc in any_json(),
    ) {
        let now = Utc::now();
        if let Ok(q) = Query::from_json(&json!({"filter": filter})) {
            let rows: Vec<Value> = events().into_iter().chain([doc.clone()]).collect();
            let matched: Vec<Value> = rows.into_iter().filter(|e| q.matches(e, now)).collect();
            let _ = q.render_list(matched);
            let _ = q.pushdown(now);
        }
        if let Ok(q) = Query::from_json(&query) {
            let _ = q.render_list(vec![doc.clone(), query.clone()]);
        }
        let stages = [
            json!([query.clone()]),
            json!([{"group": query.clone()}, {"sort": {"key": "k"}}]),
            json!([{"group": {"keys": [{"key": "k", "name": "k"}]}}, {"project": query.clone()}]),
            json!([{"unwind": query.clone()}]),
        ];
        for aggregate in stages {
            let raw = json!({ "aggregate": aggregate });
            if let Ok(q) = StatQuery::from_json(&raw) {
                let _ = q.evaluate(events().into_iter().chain([doc.clone(), query.clone()]).collect(), now);
            }
        }
    }

    /// filter_or of one condition selects what filter of it selects, and `not` the rest.
    #[test]
    fn negation_and_or_agree_with_filter(condition in any_condition()) {
        let now = Utc::now();
        let and = Query::from_json(&json!({"filter": [condition.clone()]}));
        let or = Query::from_json(&json!({"filter_or": [condition.clone()]}));
        let (Ok(and), Ok(or)) = (and, or) else {
            return Ok(());
        };
        for e in events() {
            prop_assert_eq!(and.matches(&e, now), or.matches(&e, now));
        }
        let negated = match condition["o"].as_str() {
            Some("eq") => "not",
            Some("in") => "not_in",
            Some("contain") => "not_contain",
            Some("contain_in") => "not_contain_in",
            _ => return Ok(()),
        };
        let mut opposite = condition.clone();
        opposite["o"] = json!(negated);
        let not = Query::from_json(&json!({"filter": [opposite]})).unwrap();
        for e in events() {
            prop_assert_ne!(and.matches(&e, now), not.matches(&e, now));
        }
    }
}
