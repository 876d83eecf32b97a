//! The correctness oracle: random events in DynamoDB Local, random queries, and the
//! DynamoDB-backed list and stat must answer exactly what the pure in-memory evaluator
//! answers over the same events. This pins the planner: index choice, created_at key
//! bounds, filter pushdown, Select COUNT, and next_token paging.

use std::sync::OnceLock;

use chrono::{Duration, TimeZone, Utc};
use e2e::app;
use event_core::model::{format_time, Event, EventType, Resource, Severity};
use event_core::query::{Query, StatQuery};
use event_core::service::{list_events, stat_events, App};
use proptest::prelude::*;
use serde_json::{json, Value};

const DOMAINS: [&str; 2] = ["domain-a", "domain-b"];
const ALERTS: [&str; 4] = ["alert-000000000001", "alert-000000000002", "alert-000000000003", ""];
const WEBHOOKS: [&str; 3] = ["webhook-00000000000a", "webhook-00000000000b", "webhook-00000000000c"];
const TITLES: [&str; 4] = ["Disk full", "CPU high", "disk FULL on db", "Memory"];
const USERS: [&str; 3] = ["glee", "spaceoneadm", "ops"];
const EVENTS: usize = 240;

struct World {
    runtime: tokio::runtime::Runtime,
    app: App,
    /// Per domain, as EventInfo JSON, newest first (the store's order).
    events: Vec<Vec<Value>>,
    start: chrono::DateTime<Utc>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let start = Utc.with_ymd_and_hms(2022, 6, 1, 0, 0, 0).unwrap();
        let (app, events) = runtime.block_on(async {
            let app = app().await;
            let mut per_domain = vec![Vec::new(), Vec::new()];
            for i in 0..EVENTS {
                let event = synthetic_event(i, start);
                assert!(app.store.put_event(&event, None).await.unwrap());
                per_domain[i % 2].push(serde_json::to_value(&event).unwrap());
            }
            for list in &mut per_domain {
                list.reverse(); // created_at rises with i
            }
            (app, per_domain)
        });
        World { runtime, app, events, start }
    })
}

/// Deterministic variety: every field cycles with a different period.
fn synthetic_event(i: usize, start: chrono::DateTime<Utc>) -> Event {
    let severities = [Severity::Critical, Severity::Error, Severity::Warning, Severity::Info, Severity::None];
    let types = [EventType::Alert, EventType::Alert, EventType::Recovery, EventType::Error];
    // Strictly rising, unique to the millisecond, spread over about ten days.
    let created = start + Duration::milliseconds(i as i64 * 3_600_000 + (i as i64 * 7919) % 1000);
    Event {
        event_id: format!("event-{i:012x}"),
        event_key: format!("key-{}", i % 7),
        event_type: types[i % 4],
        title: TITLES[i % 4].to_string(),
        description: format!("report {i}"),
        severity: severities[i % 5],
        rule: String::new(),
        resource: Resource {
            resource_id: format!("server-{}", i % 6),
            resource_type: "inventory.Server".into(),
            name: format!("db-{}", i % 3),
        },
        provider: "prometheus".into(),
        account: String::new(),
        image_url: String::new(),
        raw_data: json!({"n": i}),
        additional_info: [("user".to_string(), USERS[i % 3].to_string())].into(),
        alert_id: ALERTS[i % 4].to_string(),
        webhook_id: WEBHOOKS[i % 3].to_string(),
        project_id: "project-1".into(),
        workspace_id: "workspace-1".into(),
        domain_id: DOMAINS[i % 2].to_string(),
        created_at: format_time(created),
        occurred_at: format_time(created),
    }
}

fn condition() -> impl Strategy<Value = Value> {
    let time = (0i64..(EVENTS as i64 * 3_600_000), any::<bool>()).prop_map(|(ms, fraction)| {
        let t = world().start + Duration::milliseconds(ms);
        let t = if fraction { t + Duration::microseconds(500) } else { t };
        json!(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    });
    prop_oneof![
        prop::sample::select(ALERTS.to_vec()).prop_map(|a| json!({"k": "alert_id", "v": a})),
        prop::sample::select(WEBHOOKS.to_vec()).prop_map(|w| json!({"k": "webhook_id", "v": w, "o": "eq"})),
        prop::sample::subsequence(WEBHOOKS.to_vec(), 1..3)
            .prop_map(|w| json!({"k": "webhook_id", "v": w, "o": "in"})),
        (
            prop::sample::select(vec!["critical", "ERROR", "Warning", "info"]),
            prop::sample::select(vec!["eq", "not", "in", "not_in"])
        )
            .prop_map(|(s, o)| if o.ends_with("in") {
                json!({"k": "severity", "v": [s], "o": o})
            } else {
                json!({"k": "severity", "v": s, "o": o})
            }),
        prop::sample::select(vec!["ALERT", "recovery"]).prop_map(|t| json!({"k": "event_type", "v": t})),
        (
            time.clone(),
            prop::sample::select(vec!["datetime_gte", "datetime_gt", "datetime_lt", "datetime_lte"])
        )
            .prop_map(|(t, o)| json!({"k": "created_at", "v": t, "o": o})),
        prop::sample::select(vec!["disk", "CPU", "nothing"])
            .prop_map(|t| json!({"k": "title", "v": t, "o": "contain"})),
        (0..6usize).prop_map(|n| json!({"k": "resource.resource_id", "v": format!("server-{n}")})),
        prop::sample::select(USERS.to_vec())
            .prop_map(|u| json!({"k": "additional_info.user", "v": u.to_uppercase()})),
        prop::sample::select(vec!["key-1", "key-2"])
            .prop_map(|k| json!({"k": "event_key", "v": k, "o": "not"})),
    ]
}

fn list_query() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(condition(), 0..4),
        prop::collection::vec(condition(), 0..2),
        prop::option::of(prop::sample::select(vec!["disk", "event-00000000000"])),
        prop::option::of((1usize..4, 1usize..30)),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["severity", "title", "created_at"])),
    )
        .prop_map(|(filter, filter_or, keyword, page, count_only, sort)| {
            let mut q = json!({"filter": filter, "filter_or": filter_or});
            if let Some(k) = keyword {
                q["keyword"] = json!(k);
            }
            if let Some((start, limit)) = page {
                q["page"] = json!({"start": start, "limit": limit});
            }
            if count_only {
                q["count_only"] = json!(true);
            }
            if let Some(key) = sort {
                q["sort"] = json!({"key": key, "desc": key != "title"});
            }
            q
        })
}

fn oracle_list(domain: usize, query: &Query) -> Value {
    let now = Utc::now();
    let matched = world().events[domain].iter().filter(|e| query.matches(e, now)).cloned().collect();
    query.render_list(matched).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn list_answers_what_the_in_memory_evaluator_answers(raw in list_query(), domain in 0..2usize) {
        let w = world();
        let query = Query::from_json(&raw).unwrap();
        let got = w.runtime.block_on(list_events(&w.app.store, DOMAINS[domain], &query, None)).unwrap();
        prop_assert_eq!(got, oracle_list(domain, &query), "query {}", raw);
    }

    #[test]
    fn next_token_pages_walk_the_same_results(filter in prop::collection::vec(condition(), 0..3), limit in 1usize..40, domain in 0..2usize) {
        let w = world();
        let raw = json!({"filter": filter, "page": {"limit": limit}});
        let query = Query::from_json(&raw).unwrap();
        let everything = Query::from_json(&json!({"filter": raw["filter"]})).unwrap();
        let expected = oracle_list(domain, &everything)["results"].clone();
        let mut walked = Vec::new();
        let mut token = String::new();
        loop {
            let page = w.runtime.block_on(list_events(&w.app.store, DOMAINS[domain], &query, Some(&token))).unwrap();
            let results = page["results"].as_array().unwrap();
            prop_assert!(results.len() <= limit);
            walked.extend(results.iter().cloned());
            match page.get("next_token") {
                Some(next) => token = next.as_str().unwrap().to_string(),
                None => break,
            }
        }
        prop_assert_eq!(Value::Array(walked), expected, "query {}", raw);
    }

    #[test]
    fn stat_answers_what_the_in_memory_evaluator_answers(
        filter in prop::collection::vec(condition(), 0..3),
        key in prop::sample::select(vec!["severity", "created_at", "alert_id", "additional_info.user"]),
        domain in 0..2usize,
    ) {
        let w = world();
        let group_key = if key == "created_at" {
            json!({"key": key, "name": "day", "date_format": "%Y-%m-%d"})
        } else {
            json!({"key": key, "name": "k"})
        };
        let raw = json!({"filter": filter, "aggregate": [
            {"group": {"keys": [group_key], "fields": [{"name": "count", "operator": "count"}, {"key": "event_id", "name": "ids", "operator": "push"}]}},
            {"sort": {"key": "count", "desc": true}}
        ]});
        let query = StatQuery::from_json(&raw).unwrap();
        let got = w.runtime.block_on(stat_events(&w.app.store, DOMAINS[domain], &query)).unwrap();
        let now = Utc::now();
        let matched = w.events[domain].iter().filter(|e| query.filter_query().matches(e, now)).cloned().collect();
        prop_assert_eq!(got, query.evaluate(matched, now).unwrap(), "query {}", raw);
    }
}
