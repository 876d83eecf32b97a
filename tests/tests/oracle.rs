//! The correctness oracle: random events in DynamoDB Local, random queries, and the
//! DynamoDB-backed list and stat must answer exactly what the pure in-memory evaluator
//! answers over the same events. This pins the planner: index choice, created_at key
//! bounds, filter pushdown, Select COUNT, and next_token paging. Beside it, the answers
//! python-core gives to a few queries where an evaluator could go wrong in both places
//! at once (case, times, `match`, paging), checked against plain predicates.
//!
//! The rollup consumer runs over the events stream before any query, so stats and counts
//! on rollup fields answer from rollups; the rollup path is checked against the query
//! path (the same store with rollup reads off) and the in-memory evaluator.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Timelike, Utc};
use e2e::app;
use e2e::rollups::count_everything;
use event_core::model::{format_time, Event, EventType, Resource, Severity};
use event_core::query::{Query, StatQuery};
use event_core::service::{list_events, stat_events, App, RollupConsumer};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{json, Value};

const DOMAINS: [&str; 2] = ["domain-a", "domain-b"];
const ALERTS: [&str; 4] = ["alert-000000000001", "alert-000000000002", "alert-000000000003", ""];
const WEBHOOKS: [&str; 3] = ["webhook-00000000000a", "webhook-00000000000b", "webhook-00000000000c"];
const TITLES: [&str; 4] = ["Disk full", "CPU high", "disk FULL on db", "Memory"];
const USERS: [&str; 3] = ["glee", "spaceoneadm", "ops"];
/// Names that differ only in case, as resource names from different monitors do.
const NAMES: [&str; 3] = ["db-01", "web-01", "Web-01"];
const TAGS: [&[&str]; 5] = [&["prod", "db"], &["dev"], &["web", "prod"], &[], &["db"]];
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
        let start = start();
        let (app, events) = runtime.block_on(async {
            let app = app().await;
            let mut per_domain = vec![Vec::new(), Vec::new()];
            for i in 0..EVENTS {
                let event = synthetic_event(i, start);
                assert!(app.store.put_event(&event, None).await.unwrap());
                per_domain[i % 2].push(serde_json::to_value(&event).unwrap());
            }
            count_everything(&app, &RollupConsumer::new(app.store.clone(), 0)).await;
            for list in &mut per_domain {
                list.reverse(); // created_at rises with i
            }
            (app, per_domain)
        });
        World { runtime, app, events, start }
    })
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, 1, 0, 0, 0).unwrap()
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
            resource_type: ["inventory.Server", "", "aws.EC2"][i % 3].into(),
            name: NAMES[i % 3].to_string(),
        },
        provider: ["prometheus", "grafana"][i / 3 % 2].into(),
        account: String::new(),
        image_url: String::new(),
        raw_data: json!({"n": i, "additional_info": {"tags": TAGS[i % 5]}}),
        raw_data_missing: false,
        event_rules: None,
        additional_info: [("user".to_string(), USERS[i % 3].to_string())].into(),
        alert_id: ALERTS[i % 4].to_string(),
        webhook_id: WEBHOOKS[i % 3].to_string(),
        project_id: format!("project-{}", i % 5 % 3),
        workspace_id: format!("workspace-{}", i / 7 % 2),
        domain_id: DOMAINS[i % 2].to_string(),
        created_at: format_time(created),
        // Some minutes and milliseconds before creation, so it orders differently.
        occurred_at: format_time(created - Duration::milliseconds((i as i64 % 5) * 61_007)),
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
        exact_text(),
        time_condition(),
        prop::sample::select(vec![
            json!({"k": "resource", "v": {"name": "db-01"}, "o": "match"}),
            json!({"k": "raw_data.additional_info.tags", "v": {"$in": ["prod", "db"]}, "o": "match"}),
            json!({"k": "raw_data.additional_info.tags", "v": {"$eq": "dev"}, "o": "match"}),
        ]),
    ]
}

/// `eq`, `not`, `in`, `not_in` on stored text, with values that differ only in case.
fn exact_text() -> impl Strategy<Value = Value> {
    let field_value = prop::sample::select(vec![
        ("title", "Disk full"),
        ("title", "disk full"),
        ("resource.name", "web-01"),
        ("resource.name", "Web-01"),
        ("resource.name", "db-01"),
        ("provider", "prometheus"),
        ("description", "report 7"),
        ("additional_info.user", "glee"),
        ("severity", "warning"),
    ]);
    (field_value, prop::sample::select(vec!["eq", "not", "in", "not_in"])).prop_map(|((k, v), o)| {
        let v = if o.ends_with("in") { json!([v, "none"]) } else { json!(v) };
        json!({"k": k, "v": v, "o": o})
    })
}

/// An event's created_at or occurred_at, written in one of the ISO 8601 forms a caller
/// may send: as stored, at +09:00, with a space and no zone, in whole seconds, or with a
/// fraction finer than milliseconds (which no stored time equals).
fn time_operand() -> impl Strategy<Value = String> {
    (0..EVENTS, any::<bool>(), 0..5usize).prop_map(|(i, occurred, form)| {
        let event = synthetic_event(i, start());
        let text = if occurred { event.occurred_at } else { event.created_at };
        let t = DateTime::parse_from_rfc3339(&text).unwrap().with_timezone(&Utc);
        let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
        match form {
            0 => text,
            1 => t.with_timezone(&tokyo).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
            2 => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            3 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            _ => (t + Duration::microseconds(500)).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        }
    })
}

fn time_condition() -> impl Strategy<Value = Value> {
    let ops = vec!["eq", "not", "in", "not_in", "lt", "lte", "gt", "gte"];
    (
        prop::sample::select(vec!["created_at", "occurred_at"]),
        prop::sample::select(ops),
        prop::collection::vec(time_operand(), 1..3),
    )
        .prop_map(|(k, o, times)| {
            let v = if o.ends_with("in") { json!(times) } else { json!(times[0]) };
            json!({"k": k, "v": v, "o": o})
        })
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

/// The fields rollups count by, each with values stored and values not (other case).
const ROLLUP_FIELDS: [(&str, &[&str]); 7] = [
    ("severity", &["CRITICAL", "ERROR", "warning", "INFO", "NONE"]),
    ("event_type", &["ALERT", "RECOVERY", "ERROR"]),
    ("project_id", &["project-0", "project-1", "project-2"]),
    ("workspace_id", &["workspace-0", "workspace-1"]),
    ("webhook_id", &WEBHOOKS),
    ("provider", &["prometheus", "grafana", "Grafana"]),
    ("resource.resource_type", &["inventory.Server", "", "aws.EC2"]),
];

/// Any operator on one rollup field.
fn field_condition(field: usize) -> BoxedStrategy<Value> {
    let (key, values) = ROLLUP_FIELDS[field];
    let ops = vec!["eq", "not", "in", "not_in", "contain", "not_contain", "regex", "exists"];
    (
        prop::sample::select(values.to_vec()),
        prop::sample::subsequence(values.to_vec(), 1..3),
        prop::sample::select(ops),
    )
        .prop_map(move |(v, vs, o)| match o {
            "in" | "not_in" => json!({"k": key, "v": vs, "o": o}),
            "exists" => json!({"k": key, "v": true, "o": o}),
            _ => json!({"k": key, "v": v, "o": o}),
        })
        .boxed()
}

/// A created_at bound inside or around the events' ten days: to the millisecond, on an
/// hour, or on a day.
fn created_bound() -> impl Strategy<Value = Value> {
    let ops = vec!["datetime_gte", "datetime_gt", "datetime_lt", "datetime_lte", "gte", "lt"];
    (-86_400_000i64..(EVENTS as i64 * 3_600_000 + 86_400_000), 0..3usize, prop::sample::select(ops)).prop_map(
        |(ms, align, o)| {
            let t = world().start + Duration::milliseconds(ms);
            let t = match align {
                0 => t,
                1 => t.with_minute(0).unwrap().with_second(0).unwrap().with_nanosecond(0).unwrap(),
                _ => t.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc(),
            };
            json!({"k": "created_at", "v": format_time(t), "o": o})
        },
    )
}

/// A stat that reads at most two rollup fields (filters, filter_or, group keys and
/// count conditions together), created_at as a range or a day/hour/month key.
fn rollup_stat() -> impl Strategy<Value = Value> {
    prop::sample::subsequence((0..ROLLUP_FIELDS.len()).collect::<Vec<_>>(), 0..=2).prop_flat_map(|fields| {
        let on_fields = |n: std::ops::Range<usize>| -> BoxedStrategy<Vec<Value>> {
            if fields.is_empty() {
                return Just(Vec::new()).boxed();
            }
            let one = prop::sample::select(fields.clone()).prop_flat_map(field_condition);
            prop::collection::vec(one, n).boxed()
        };
        let keys = prop::sample::subsequence(fields.clone(), 0..=fields.len());
        let day = prop::option::of(prop::sample::select(vec!["%Y-%m-%d", "%Y-%m-%d %H", "month", "%j"]));
        (
            on_fields(0..3),
            on_fields(0..2),
            prop::collection::vec(created_bound(), 0..3),
            keys,
            day,
            on_fields(0..2),
            any::<bool>(),
            prop::option::of((1usize..4, 1usize..6)),
        )
            .prop_map(|(filter, filter_or, bounds, keys, day, conditions, sorted, page)| {
                let mut group_keys: Vec<Value> = keys
                    .iter()
                    .map(|&f| json!({"key": ROLLUP_FIELDS[f].0, "name": format!("k{f}")}))
                    .collect();
                if let Some(format) = day {
                    group_keys.push(json!({"key": "created_at", "name": "when", "date_format": format}));
                }
                let mut fields = vec![json!({"name": "count", "operator": "count"})];
                if !conditions.is_empty() {
                    fields.push(json!({"name": "some", "operator": "count", "conditions": conditions}));
                }
                let mut stages = vec![json!({"group": {"keys": group_keys, "fields": fields}})];
                if sorted {
                    stages.push(json!({"sort": {"key": "count", "desc": true}}));
                }
                let filter = [filter, bounds].concat();
                let mut query = json!({"filter": filter, "filter_or": filter_or, "aggregate": stages});
                if let Some((start, limit)) = page {
                    query["page"] = json!({"start": start, "limit": limit});
                }
                query
            })
    })
}

/// The same store, reading no rollups: today's query path.
fn query_path() -> App {
    e2e::query_path(&world().app)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn list_answers_what_the_in_memory_evaluator_answers(raw in list_query(), domain in 0..2usize) {
        let w = world();
        let query = Query::from_json(&raw).unwrap();
        let got = serde_json::to_value(w.runtime.block_on(list_events(&w.app, &e2e::trusted(DOMAINS[domain]), &query, None)).unwrap()).unwrap();
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
            let page = serde_json::to_value(w.runtime.block_on(list_events(&w.app, &e2e::trusted(DOMAINS[domain]), &query, Some(&token))).unwrap()).unwrap();
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
        let got = w.runtime.block_on(stat_events(&w.app, &e2e::trusted(DOMAINS[domain]), &query)).unwrap();
        let now = Utc::now();
        let matched = w.events[domain].iter().filter(|e| query.filter_query().matches(e, now)).cloned().collect();
        prop_assert_eq!(got, query.evaluate(matched, now).unwrap(), "query {}", raw);
    }

    #[test]
    fn stat_from_rollups_answers_what_the_query_path_answers(raw in rollup_stat(), domain in 0..2usize) {
        let w = world();
        let query = StatQuery::from_json(&raw).unwrap();
        let now = Utc::now();
        prop_assert!(query.rollup_ask(now).is_some(), "rollups answer {}", raw);
        let from_rollups = w.runtime.block_on(stat_events(&w.app, &e2e::trusted(DOMAINS[domain]), &query)).unwrap();
        let from_index = w.runtime.block_on(stat_events(&query_path(), &e2e::trusted(DOMAINS[domain]), &query)).unwrap();
        prop_assert_eq!(&from_rollups, &from_index, "query {}", raw);
        let matched = w.events[domain].iter().filter(|e| query.filter_query().matches(e, now)).cloned().collect();
        prop_assert_eq!(from_rollups, query.evaluate(matched, now).unwrap(), "query {}", raw);
    }

    #[test]
    fn counts_from_rollups_answer_what_the_query_path_answers(raw in rollup_stat(), domain in 0..2usize, page in any::<bool>()) {
        let w = world();
        let mut list = json!({"filter": raw["filter"], "filter_or": raw["filter_or"]});
        if page { list["page"] = json!({"limit": 3}) } else { list["count_only"] = json!(true) }
        let query = Query::from_json(&list).unwrap();
        let from_rollups = serde_json::to_value(w.runtime.block_on(list_events(&w.app, &e2e::trusted(DOMAINS[domain]), &query, None)).unwrap()).unwrap();
        let from_index = serde_json::to_value(w.runtime.block_on(list_events(&query_path(), &e2e::trusted(DOMAINS[domain]), &query, None)).unwrap()).unwrap();
        prop_assert_eq!(&from_rollups, &from_index, "query {}", list);
        prop_assert_eq!(from_rollups, oracle_list(domain, &query), "query {}", list);
    }
}

/// The list answer of `query` in domain `domain`, from the store.
fn listed(domain: usize, query: &Query) -> Value {
    let w = world();
    serde_json::to_value(
        w.runtime.block_on(list_events(&w.app, &e2e::trusted(DOMAINS[domain]), query, None)).unwrap(),
    )
    .unwrap()
}

fn ids(answer: &Value) -> Vec<&str> {
    answer["results"].as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap()).collect()
}

/// The ids of the domain's events that `holds`, newest first: python-core's answer,
/// stated as a plain predicate.
fn expected(domain: usize, holds: impl Fn(&Value) -> bool) -> Vec<&'static str> {
    world().events[domain].iter().filter(|e| holds(e)).map(|e| e["event_id"].as_str().unwrap()).collect()
}

fn time_of(event: &Value, field: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(event[field].as_str().unwrap()).unwrap().with_timezone(&Utc)
}

/// Lists `filter` from the store and checks it finds what `holds` selects, and that
/// `holds` selects some events but not all (so the example can tell answers apart).
fn assert_finds(domain: usize, filter: Value, holds: impl Fn(&Value) -> bool) {
    let query = Query::from_json(&json!({ "filter": filter })).unwrap();
    let want = expected(domain, holds);
    assert!(!want.is_empty() && want.len() < world().events[domain].len(), "{filter}: a weak example");
    assert_eq!(ids(&listed(domain, &query)), want, "{filter}");
}

#[test]
fn eq_and_in_are_exact_as_in_the_reference() {
    let mut warning = Query::from_json(&Value::Null).unwrap();
    warning.add_exact("severity", "warning");
    assert_eq!(listed(0, &warning)["total_count"], json!(0), "every stored severity is upper case");
    assert_finds(1, json!([{"k": "resource.name", "v": "web-01"}]), |e| e["resource"]["name"] == "web-01");
    assert_finds(0, json!([{"k": "resource.name", "v": ["Web-01"], "o": "in"}]), |e| {
        e["resource"]["name"] == "Web-01"
    });
    assert_finds(1, json!([{"k": "resource.name", "v": "web-01", "o": "not"}]), |e| {
        e["resource"]["name"] != "web-01"
    });
    let lower = json!({"filter": [{"k": "title", "v": ["disk full on db", "memory"], "o": "in"}]});
    assert_eq!(listed(1, &Query::from_json(&lower).unwrap())["total_count"], json!(0));
}

#[test]
fn times_are_compared_as_times_as_in_the_reference() {
    let w = world();
    // An event's occurred_at, written at +09:00.
    let pivot = time_of(&w.events[0][40], "occurred_at");
    let tokyo = pivot.with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap()).to_rfc3339();
    assert_finds(0, json!([{"k": "occurred_at", "v": tokyo, "o": "lte"}]), |e| {
        time_of(e, "occurred_at") <= pivot
    });
    let created = time_of(&w.events[1][30], "created_at");
    let spaced = created.format("%Y-%m-%d %H:%M:%S").to_string();
    let whole_second = created.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_finds(1, json!([{"k": "created_at", "v": spaced, "o": "lt"}]), |e| {
        time_of(e, "created_at") < created.with_nanosecond(0).unwrap()
    });
    // Stored `…00.595Z` is after `…00Z`, though it sorts before it as text.
    assert_finds(1, json!([{"k": "created_at", "v": whole_second, "o": "gt"}]), |e| {
        time_of(e, "created_at") > created.with_nanosecond(0).unwrap()
    });
    assert_finds(1, json!([{"k": "created_at", "v": created.to_rfc3339(), "o": "eq"}]), |e| {
        time_of(e, "created_at") == created
    });
    let bad = Query::from_json(&json!({"filter": [{"k": "created_at", "v": "tomorrow", "o": "lt"}]}));
    assert!(bad.unwrap_err().to_string().starts_with("filter[0]: "));
}

#[test]
fn match_is_an_element_match_on_lists_as_in_the_reference() {
    let w = world();
    let on_object = json!([{"k": "resource", "v": {"name": "db-01"}, "o": "match"}]);
    let query = Query::from_json(&json!({ "filter": on_object })).unwrap();
    assert_eq!(listed(0, &query)["total_count"], json!(0), "resource is an object, not a list");
    let tagged = json!([{"k": "raw_data.additional_info.tags", "v": {"$in": ["prod", "db"]}, "o": "match"}]);
    let has_tag = |e: &Value| {
        let tags = e["raw_data"]["additional_info"]["tags"].as_array().unwrap();
        tags.iter().any(|t| t == "prod" || t == "db")
    };
    assert_finds(1, tagged.clone(), has_tag);
    for (filter, want) in [
        (on_object, json!([])),
        (tagged, {
            let mut severities: Vec<&str> =
                w.events[0].iter().filter(|e| has_tag(e)).map(|e| e["severity"].as_str().unwrap()).collect();
            severities.sort();
            severities.dedup();
            json!(severities)
        }),
    ] {
        let query = StatQuery::from_json(&json!({"filter": filter, "distinct": "severity"})).unwrap();
        let got = w.runtime.block_on(stat_events(&w.app, &e2e::trusted(DOMAINS[0]), &query)).unwrap();
        assert_eq!(Value::Array(got.results), want, "{filter}");
    }
}

#[test]
fn page_start_zero_is_the_first_page_as_in_the_reference() {
    let first = Query::from_json(&json!({"page": {"start": 1, "limit": 7}})).unwrap();
    let zero = Query::from_json(&json!({"page": {"start": 0, "limit": 7}})).unwrap();
    assert_eq!(listed(0, &zero), listed(0, &first));
}
